"""Where a request stands, in plain words for the customer (pure: the services' answers in, words out).

The ticket's status says most of it; dispatch's job and work order refine it (a quote awaiting the
customer's answer, parts on their way, the technician on the road). The timeline shows the steps a
customer cares about, one sentence each, never staff-only detail (SLA clocks, deliveries, notes).
The sentences are English keys translated by the portal's catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# ticket status -> (headline, what happens next)
STATUS_WORDS: dict[str, tuple[str, str]] = {
    "received": ("We have your request", "We will look at it shortly."),
    "triaged": ("We are preparing your service", "We will tell you when a visit is booked."),
    "waiting_customer": ("We need something from you", "Please reply to our message so we can go on."),
    "scheduled": ("A visit is booked", "The technician will come in the window shown below."),
    "in_progress": ("The technician is working on it", "You will get a service report when the work is done."),
    "resolved": ("The work is done", "Please tell us how we did."),
    "closed": ("Closed", "Thank you. You can open a new request any time."),
    "reopened": ("We are on it again", "We will be in touch about the next step."),
    "cancelled": ("Cancelled", "This request was cancelled."),
}

JOB_WORDS: dict[str, tuple[str, str]] = {
    "awaiting_consent": ("Waiting for your answer to the quote", "We book the visit once you accept the quote."),
    "waiting_parts": ("Waiting for parts", "We book the next visit when the parts arrive."),
}

EN_ROUTE = ("Your technician is on the way", "See the expected arrival below.")


@dataclass(frozen=True)
class Progress:
    headline: str
    next_step: str
    tone: str  # ok | wait | act | done | off


def progress(ticket: dict[str, Any], job: dict[str, Any] | None, work_order: dict[str, Any] | None) -> Progress:
    status = str(ticket.get("status") or "received")
    if work_order and work_order.get("status") == "en_route" and status in ("scheduled", "triaged"):
        return Progress(*EN_ROUTE, tone="ok")
    if job and job.get("status") in JOB_WORDS and status not in ("resolved", "closed", "cancelled"):
        tone = "act" if job["status"] == "awaiting_consent" else "wait"
        return Progress(*JOB_WORDS[job["status"]], tone=tone)
    headline, nxt = STATUS_WORDS.get(status, STATUS_WORDS["received"])
    tone = {"waiting_customer": "act", "resolved": "done", "closed": "done", "cancelled": "off"}.get(status, "ok")
    return Progress(headline, nxt, tone)


# event type -> sentence; `{name}`, `{window}`, `{amount}` are filled from the event's data
STEPS: dict[str, str] = {
    "fixflow.intake.ticket.opened.v1": "We received your request",
    "fixflow.intake.ticket.waiting-customer.v1": "We asked you for more details",
    "fixflow.billing.quote.issued.v1": "We sent you a quote of {amount}",
    "fixflow.billing.quote.accepted.v1": "You accepted the quote",
    "fixflow.billing.quote.rejected.v1": "You declined the quote",
    "fixflow.dispatch.appointment.booked.v1": "Visit booked: {window}",
    "fixflow.dispatch.appointment.rescheduled.v1": "Visit moved to {window}",
    "fixflow.dispatch.appointment.cancelled.v1": "Visit cancelled",
    "fixflow.dispatch.technician.assigned.v1": "{name} will do the work",
    "fixflow.dispatch.technician.en-route.v1": "{name} is on the way",
    "fixflow.dispatch.technician.delayed.v1": "{name} is running late",
    "fixflow.dispatch.visit.started.v1": "The technician arrived",
    "fixflow.dispatch.work-order.completed.v1": "The work is done",
    "fixflow.dispatch.work-order.failed.v1": "The visit could not finish the work",
    "fixflow.dispatch.parts.requested.v1": "Parts ordered",
    "fixflow.billing.invoice.issued.v1": "Invoice issued: {amount}",
    "fixflow.billing.charge.waived.v1": "No charge for this service",
    "fixflow.billing.payment.received.v1": "Payment received: {amount}",
    "fixflow.billing.refund.issued.v1": "Refund issued: {amount}",
    "fixflow.intake.ticket.resolved.v1": "Your request is resolved",
    "fixflow.survey.survey.sent.v1": "We asked how we did",
    "fixflow.survey.survey.completed.v1": "Thank you for your feedback",
    "fixflow.intake.ticket.reopened.v1": "Your request was reopened",
    "fixflow.intake.ticket.closed.v1": "Closed",
    "fixflow.intake.ticket.cancelled.v1": "Cancelled",
}


@dataclass(frozen=True)
class Step:
    time: str
    text: str
    values: dict[str, str] = field(default_factory=dict)


def _money(data: dict[str, Any]) -> str:
    for k in ("total_minor", "amount_minor"):
        if isinstance(data.get(k), int):
            return f"{data[k] / 100:,.2f} {data.get('currency') or 'CNY'}"
    return ""


def steps(events: list[dict[str, Any]], fmt_window: Any) -> list[Step]:
    """The customer's view of the timeline, newest first; events a customer does not need are left out."""
    out: list[Step] = []
    for e in events:
        text = STEPS.get(str(e.get("type")))
        if text is None:
            continue
        data = e.get("data") or {}
        window = data.get("window") or {}
        values = {
            "name": str(data.get("technician_name") or "The technician"),
            "window": fmt_window(window.get("start"), window.get("end")) if isinstance(window, dict) else "",
            "amount": _money(data),
        }
        out.append(Step(str(e.get("time") or ""), text, {k: v for k, v in values.items() if "{" + k + "}" in text}))
    out.sort(key=lambda s: s.time, reverse=True)
    return out


def latest_visit(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The technician's name and window from the last booking, move or en-route of the ticket."""
    found: dict[str, Any] | None = None
    for e in sorted(events, key=lambda e: str(e.get("time") or "")):
        t = str(e.get("type"))
        data = e.get("data") or {}
        if t in (
            "fixflow.dispatch.appointment.booked.v1",
            "fixflow.dispatch.appointment.rescheduled.v1",
            "fixflow.dispatch.technician.assigned.v1",
            "fixflow.dispatch.technician.en-route.v1",
        ):
            window = data.get("window") or {}
            found = {
                "name": data.get("technician_name") or (found or {}).get("name"),
                "start": window.get("start") or (found or {}).get("start"),
                "end": window.get("end") or (found or {}).get("end"),
            }
        elif t == "fixflow.dispatch.appointment.cancelled.v1":
            found = None
    return found


def may_change_visit(appointment: dict[str, Any] | None, now: datetime, *, notice_hours: int = 2) -> bool:
    """A booked visit may be moved or cancelled online until shortly before it starts (the service
    still decides: this only chooses which buttons to show)."""
    if not appointment or appointment.get("status") not in ("booked", "confirmed"):
        return False
    start = datetime.fromisoformat(str(appointment["window_start"]))
    return (start - now).total_seconds() > notice_hours * 3600
