"""Two languages, zh-CN and en: the browser's Accept-Language chooses, a cookie remembers a switch.

Pages are written in English and translated by catalogue (locales/zh-CN.json maps each English
text to its Chinese one, gettext style; the machinery is fixflow_shared.web.i18n); a test checks
every text in the templates has its translation. Codes the services send (statuses, kinds, rules)
are shown through `label()`.
"""

from __future__ import annotations

from pathlib import Path

from fixflow_shared.web.i18n import LOCALES, Catalogue, negotiate

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


_CATALOGUE = Catalogue(_DIR, LABELS)
catalogue = _CATALOGUE.table
translator = _CATALOGUE.translator
labeller = _CATALOGUE.labeller
__all__ = ["COOKIE", "LABELS", "LOCALES", "catalogue", "labeller", "negotiate", "translator"]
