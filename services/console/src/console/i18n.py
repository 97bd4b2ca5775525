"""Two languages, zh-CN and en: the browser's Accept-Language chooses, a cookie remembers a switch.

Pages are written in English and translated by catalogue (locales/zh-CN.json maps each English
text to its Chinese one, gettext style); a test checks every text in the templates has its
translation. Codes the services send (statuses, kinds, rules) are shown through `label()`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

LOCALES = ("zh-CN", "en")
COOKIE = "console_lang"
_DIR = Path(__file__).parent / "locales"

# English names of the codes the services use (statuses, kinds, channels, rules, paths, roles).
LABELS: dict[str, str] = {
    "received": "Received",
    "triaged": "Triaged",
    "waiting_customer": "Waiting for customer",
    "scheduled": "Scheduled",
    "in_progress": "In progress",
    "resolved": "Resolved",
    "closed": "Closed",
    "reopened": "Reopened",
    "cancelled": "Cancelled",
    "repair": "Repair",
    "installation": "Installation",
    "maintenance": "Maintenance",
    "return": "Return",
    "complaint": "Complaint",
    "consultation": "Consultation",
    "phone": "Phone",
    "email": "Email",
    "web": "Web",
    "wechat": "WeChat",
    "walk_in": "Walk-in",
    "partner": "Partner",
    "sms": "SMS",
    "remote": "Remote fix",
    "on_site": "On-site visit",
    "send_in": "Send-in repair",
    "in_warranty": "In warranty",
    "out_of_warranty": "Out of warranty",
    "returnable": "Returnable",
    "under_contract": "Under contract",
    "unknown": "Unknown",
    "open": "Open",
    "assigned": "Assigned",
    "awaiting_consent": "Awaiting consent",
    "waiting_parts": "Waiting for parts",
    "incomplete": "Incomplete",
    "done": "Done",
    "booked": "Booked",
    "confirmed": "Confirmed",
    "en_route": "En route",
    "completed": "Completed",
    "failed": "Failed",
    "unassigned": "Unassigned",
    "issued": "Issued",
    "accepted": "Accepted",
    "rejected": "Rejected",
    "expired": "Expired",
    "paid": "Paid",
    "partially_paid": "Partially paid",
    "sent": "Sent",
    "window": "Window",
    "skills": "Skills",
    "region": "Region",
    "certifications": "Certifications",
    "absence": "Absence",
    "hours": "Working hours",
    "overlap": "Other bookings",
    "load": "Visits that day",
    "travel": "Travel",
    "slot": "Route",
    "status": "Status",
    "agent": "Agent",
    "dispatcher": "Dispatcher",
    "manager": "Manager",
    "admin": "Administrator",
    "at_risk": "At risk",
    "breached": "Breached",
    "met": "Met",
    "running": "Running",
    "paused": "Paused",
    "first_response": "First response",
    "on_site_arrival": "On-site arrival",
    "resolution": "Resolution",
    "complaint_record": "Complaint recorded",
    "complaint_contact": "Complaint contact",
    "complaint_fix": "Complaint fixed",
    "timeliness": "Timeliness",
    "professionalism": "Professionalism",
    "attitude": "Attitude",
    "effectiveness": "Effectiveness",
    "overall": "Overall",
    "reached": "Reached",
    "unreachable": "Unreachable",
    "declined": "Declined",
    # dead letters (administrators)
    "pending": "Pending",
    "replayed": "Replayed",
    "discarded": "Discarded",
    "all": "All",
}


@cache
def catalogue(locale: str) -> dict[str, str]:
    if locale == "en":
        return {}
    return json.loads((_DIR / f"{locale}.json").read_text(encoding="utf-8"))


def negotiate(accept_language: str | None, chosen: str | None, default: str = "zh-CN") -> str:
    """A switch (cookie) wins; else the browser's preference among zh-CN and en; else `default`."""
    if chosen in LOCALES:
        return chosen  # type: ignore[return-value]
    prefs: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        prefs.append((-weight, i, tag.strip().lower()))
    for _, _, tag in sorted(prefs):
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return default


def translator(locale: str) -> Callable[..., str]:
    table = catalogue(locale)

    def _(text: str, **values: Any) -> str:
        out = table.get(text, text)
        return out.format(**values) if values else out

    return _


def labeller(locale: str) -> Callable[[Any], str]:
    _ = translator(locale)

    def label(code: Any) -> str:
        if code is None:
            return "—"
        text = str(code)
        return _(LABELS.get(text, text.replace("_", " ").capitalize()))

    return label
