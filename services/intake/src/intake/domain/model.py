"""Tickets and their lifecycle (a state machine: illegal moves raise IllegalTransition).

Two ways to move a ticket:
* commands from the API (`move_to`): an illegal move raises IllegalTransition (409);
* events from other services (`external_moves`): dispatch, billing and survey report facts that
  may arrive late, twice or out of step with the agent's actions, so an event that does not fit
  the current state moves nothing (it is still recorded on the timeline). Applying the same event
  twice changes nothing the second time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from fixflow_shared.events.contracts import billing as bev
from fixflow_shared.events.contracts import dispatch as dev
from fixflow_shared.events.contracts import survey as sev
from intake.domain.exceptions import IllegalTransition


class TicketStatus(StrEnum):
    RECEIVED = "received"
    TRIAGED = "triaged"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    CANCELLED = "cancelled"


S = TicketStatus
ALLOWED: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.RECEIVED: frozenset({S.TRIAGED, S.WAITING_CUSTOMER, S.CANCELLED}),
    S.WAITING_CUSTOMER: frozenset({S.RECEIVED, S.TRIAGED, S.SCHEDULED, S.IN_PROGRESS, S.CANCELLED}),
    S.TRIAGED: frozenset({S.SCHEDULED, S.RESOLVED, S.WAITING_CUSTOMER, S.CANCELLED}),
    S.SCHEDULED: frozenset({S.IN_PROGRESS, S.TRIAGED, S.WAITING_CUSTOMER, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.RESOLVED, S.SCHEDULED, S.WAITING_CUSTOMER}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.REOPENED: frozenset({S.TRIAGED, S.SCHEDULED, S.WAITING_CUSTOMER, S.CANCELLED}),
    S.CLOSED: frozenset({S.REOPENED}),
    S.CANCELLED: frozenset(),
}
OPEN_STATES = frozenset(set(S) - {S.RESOLVED, S.CLOSED, S.CANCELLED})
TERMINAL = frozenset({S.CANCELLED})
# SLA clocks run in every open state except while the ball is in the customer's court.
CLOCK_RUNNING_STATES = OPEN_STATES - {S.WAITING_CUSTOMER}


def new_ticket_id() -> str:
    return "T-" + uuid.uuid4().hex[:20]


def new_id(prefix: str) -> str:
    return f"{prefix}-" + uuid.uuid4().hex[:20]


@dataclass
class Ticket:
    id: str
    tenant_id: str
    kind: str
    channel: str
    symptom: str
    opened_at: datetime
    status: TicketStatus = TicketStatus.RECEIVED
    customer_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    locale: str = "zh-CN"
    updated_at: datetime | None = None
    customer_id: str | None = None
    asset_id: str | None = None
    product_id: str | None = None
    product_model: str | None = None
    serial: str | None = None
    purchase_date: date | None = None
    customer_grade: str | None = None
    priority: str | None = None
    category: str | None = None
    path: str | None = None
    severity: int | None = None
    urgency: int | None = None
    suggested_fix: str | None = None
    warranty: dict | None = None  # type: ignore[type-arg]
    missing_facts: list[str] = field(default_factory=list)
    resume_to: TicketStatus | None = None
    requested_window: dict | None = None  # type: ignore[type-arg]
    site: dict | None = None  # type: ignore[type-arg]
    attachments: list[dict] = field(default_factory=list)  # type: ignore[type-arg]
    assignee_id: str | None = None
    technician_id: str | None = None
    team_id: str | None = None  # the technician's team (dispatch's), passed on to survey at resolution
    complaint_level: int | None = None
    original_ticket_id: str | None = None
    compensation_requested: bool = False
    compensation_amount_minor: int | None = None
    compensation_approved: bool | None = None
    round: int = 1
    duplicate_count: int = 0
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    # W3C trace context (traceparent/tracestate) of the request that opened the ticket: every later
    # step of the ticket joins that one trace.
    trace_headers: dict[str, str] | None = None
    version: int = 1
    history: list[tuple[TicketStatus, TicketStatus]] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    @property
    def allowed_moves(self) -> frozenset[TicketStatus]:
        return ALLOWED[self.status]

    def can_move_to(self, target: TicketStatus) -> bool:
        return target in ALLOWED[self.status]

    def move_to(self, target: TicketStatus, *, at: datetime) -> None:
        if target not in ALLOWED[self.status]:
            raise IllegalTransition(self.status, target, allowed=self.allowed_moves)
        if target is S.WAITING_CUSTOMER:
            self.resume_to = self.status if self.status in (S.SCHEDULED, S.IN_PROGRESS) else None
        self.history.append((self.status, target))
        self.status = target
        self.updated_at = at
        if target is S.RESOLVED:
            self.resolved_at = at
        elif target is S.CLOSED:
            self.closed_at = at
        elif target is S.REOPENED:
            self.round += 1
            self.resolved_at = None
            self.closed_at = None

    def resume_target(self) -> TicketStatus:
        """Where a ticket goes once the customer supplied the missing facts."""
        return self.resume_to or S.RECEIVED


# --- events from other services -----------------------------------------------------------------

# event type -> (states it applies in, path of targets from each such state)
_EXTERNAL: dict[str, dict[TicketStatus, tuple[TicketStatus, ...]]] = {
    dev.TechnicianAssigned.type: {S.TRIAGED: (S.SCHEDULED,), S.REOPENED: (S.SCHEDULED,)},
    dev.AppointmentBooked.type: {S.TRIAGED: (S.SCHEDULED,), S.REOPENED: (S.SCHEDULED,)},
    dev.AppointmentRescheduled.type: {S.TRIAGED: (S.SCHEDULED,), S.REOPENED: (S.SCHEDULED,)},
    dev.AppointmentCancelled.type: {S.SCHEDULED: (S.TRIAGED,)},
    dev.VisitStarted.type: {
        S.TRIAGED: (S.SCHEDULED, S.IN_PROGRESS),
        S.REOPENED: (S.SCHEDULED, S.IN_PROGRESS),
        S.SCHEDULED: (S.IN_PROGRESS,),
    },
    dev.WorkOrderCompleted.type: {
        S.TRIAGED: (S.SCHEDULED, S.IN_PROGRESS, S.RESOLVED),
        S.REOPENED: (S.SCHEDULED, S.IN_PROGRESS, S.RESOLVED),
        S.SCHEDULED: (S.IN_PROGRESS, S.RESOLVED),
        S.IN_PROGRESS: (S.RESOLVED,),
    },
    dev.WorkOrderFailed.type: {S.IN_PROGRESS: (S.SCHEDULED,)},
    bev.PaymentReceived.type: {S.RESOLVED: (S.CLOSED,)},
    # returns: the item reached the warehouse (resolved); the refund settles it (closed)
    # a pickup that was booked passes through in_progress: the collection happened
    dev.ReturnReceived.type: {S.TRIAGED: (S.RESOLVED,), S.SCHEDULED: (S.IN_PROGRESS, S.RESOLVED)},
    bev.RefundIssued.type: {S.RESOLVED: (S.CLOSED,)},
    sev.SurveyCompleted.type: {S.RESOLVED: (S.CLOSED,)},
    sev.SurveyExpired.type: {S.RESOLVED: (S.CLOSED,)},
    sev.DissatisfactionReported.type: {S.RESOLVED: (S.REOPENED,), S.CLOSED: (S.REOPENED,)},
}
EXTERNAL_TYPES = frozenset(_EXTERNAL)

# A return's refund follows the warehouse's receipt, but the two come on different topics (billing's
# and dispatch's) and may arrive in either order: a refund seen first means the item was received,
# so the ticket passes through resolved to closed (the late return.received then moves nothing).
_REFUND_OF_A_RETURN: dict[TicketStatus, tuple[TicketStatus, ...]] = {
    S.TRIAGED: (S.RESOLVED, S.CLOSED),
    S.SCHEDULED: (S.IN_PROGRESS, S.RESOLVED, S.CLOSED),
    S.IN_PROGRESS: (S.RESOLVED, S.CLOSED),
    S.RESOLVED: (S.CLOSED,),
}


def external_moves(
    status: TicketStatus,
    event_type: str,
    *,
    satisfied: bool | None = None,
    follow_up_needed: bool = True,
    appointment_reason: str | None = None,
    balance_due_minor: int | None = None,
    ticket_kind: str | None = None,
) -> tuple[TicketStatus, ...]:
    """The states a ticket passes through when another service reports `event_type` (maybe none).

    Qualifiers from the payload: a survey that was not satisfied does not close the ticket (the
    dissatisfaction event that follows decides); a payment closes a resolved ticket only once its
    invoice is paid in full (balance due 0); a failed visit without follow-up keeps the ticket
    in progress; an appointment cancelled because the ticket was cancelled moves nothing; a
    return's refund settles the return even when it arrives before the warehouse's receipt.
    """
    if event_type == bev.RefundIssued.type and ticket_kind == "return":
        return _REFUND_OF_A_RETURN.get(status, ())
    if event_type == sev.SurveyCompleted.type and satisfied is False:
        return ()
    if event_type == bev.PaymentReceived.type and balance_due_minor != 0:
        return ()
    if event_type == dev.WorkOrderFailed.type and not follow_up_needed:
        return ()
    if event_type == dev.AppointmentCancelled.type and appointment_reason == "ticket_cancelled":
        return ()
    return _EXTERNAL.get(event_type, {}).get(status, ())
