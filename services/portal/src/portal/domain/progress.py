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

from fixflow_shared.events.contracts import billing, dispatch, intake, survey

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
    intake.TicketOpened.type: "We received your request",
    intake.TicketWaitingCustomer.type: "We asked you for more details",
    billing.QuoteIssued.type: "We sent you a quote of {amount}",
    billing.QuoteAccepted.type: "You accepted the quote",
    billing.QuoteRejected.type: "You declined the quote",
    dispatch.AppointmentBooked.type: "Visit booked: {window}",
    dispatch.AppointmentRescheduled.type: "Visit moved to {window}",
    dispatch.AppointmentCancelled.type: "Visit cancelled",
    dispatch.TechnicianAssigned.type: "{name} will do the work",
    dispatch.TechnicianEnRoute.type: "{name} is on the way",
    dispatch.TechnicianDelayed.type: "{name} is running late",
    dispatch.VisitStarted.type: "The technician arrived",
    dispatch.WorkOrderCompleted.type: "The work is done",
    dispatch.WorkOrderFailed.type: "The visit could not finish the work",
    dispatch.PartsRequested.type: "Parts ordered",
    billing.InvoiceIssued.type: "Invoice issued: {amount}",
    billing.ChargeWaived.type: "No charge for this service",
    billing.PaymentReceived.type: "Payment received: {amount}",
    billing.RefundIssued.type: "Refund issued: {amount}",
    intake.TicketResolved.type: "Your request is resolved",
    survey.SurveySent.type: "We asked how we did",
    survey.SurveyCompleted.type: "Thank you for your feedback",
    intake.TicketReopened.type: "Your request was reopened",
    intake.TicketClosed.type: "Closed",
    intake.TicketCancelled.type: "Cancelled",
}
# events that name the visit to come (technician and window), and the one that clears it
VISIT_NAMED = (
    dispatch.AppointmentBooked.type,
    dispatch.AppointmentRescheduled.type,
    dispatch.TechnicianAssigned.type,
    dispatch.TechnicianEnRoute.type,
)
VISIT_CLEARED = dispatch.AppointmentCancelled.type


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
        if t in VISIT_NAMED:
            window = data.get("window") or {}
            found = {
                "name": data.get("technician_name") or (found or {}).get("name"),
                "start": window.get("start") or (found or {}).get("start"),
                "end": window.get("end") or (found or {}).get("end"),
            }
        elif t == VISIT_CLEARED:
            found = None
    return found


def may_change_visit(appointment: dict[str, Any] | None, now: datetime, *, notice_hours: float = 2) -> bool:
    """A booked visit may be moved or cancelled online until shortly before it starts (the service
    still decides: this only chooses which buttons to show)."""
    if not appointment or appointment.get("status") not in ("booked", "confirmed"):
        return False
    start = datetime.fromisoformat(str(appointment["window_start"]))
    return (start - now).total_seconds() > notice_hours * 3600


# Why a customer cannot move or cancel the visit online (the sentence the friendly page shows).
REFUSALS = {
    "on_the_way": "Your technician is already on the way, so the visit can no longer be changed online.",
    "too_late": "The visit starts in less than {hours} hours, so it can no longer be changed online.",
    "refused": "We could not change the visit.",
}


def change_refusal(
    appointment: dict[str, Any] | None, work_order: dict[str, Any] | None, now: datetime, *, notice_hours: float = 2
) -> str | None:
    """Why the visit cannot be moved or cancelled online now (a key of REFUSALS), None when it can.
    Dispatch applies the same rules; this lets the page say so before the customer tries."""
    if work_order and work_order.get("status") in ("en_route", "on_site"):
        return "on_the_way"
    if appointment and appointment.get("status") in ("booked", "confirmed"):
        start = datetime.fromisoformat(str(appointment["window_start"]))
        if (start - now).total_seconds() < notice_hours * 3600:
            return "too_late"
    return None
