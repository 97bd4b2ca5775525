"""Tickets and their lifecycle (a state machine: illegal moves raise IllegalTransition)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

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


ALLOWED: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.RECEIVED: frozenset({TicketStatus.TRIAGED, TicketStatus.WAITING_CUSTOMER, TicketStatus.CANCELLED}),
    TicketStatus.WAITING_CUSTOMER: frozenset({TicketStatus.RECEIVED, TicketStatus.TRIAGED, TicketStatus.CANCELLED}),
    TicketStatus.TRIAGED: frozenset(
        {TicketStatus.SCHEDULED, TicketStatus.RESOLVED, TicketStatus.WAITING_CUSTOMER, TicketStatus.CANCELLED}
    ),
    TicketStatus.SCHEDULED: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.TRIAGED, TicketStatus.CANCELLED}),
    TicketStatus.IN_PROGRESS: frozenset({TicketStatus.RESOLVED, TicketStatus.SCHEDULED, TicketStatus.WAITING_CUSTOMER}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.REOPENED}),
    TicketStatus.REOPENED: frozenset({TicketStatus.TRIAGED, TicketStatus.SCHEDULED, TicketStatus.CANCELLED}),
    TicketStatus.CLOSED: frozenset({TicketStatus.REOPENED}),
    TicketStatus.CANCELLED: frozenset(),
}


def new_ticket_id() -> str:
    return "T-" + uuid.uuid4().hex[:20]


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
    history: list[tuple[TicketStatus, TicketStatus]] = field(default_factory=list)

    def move_to(self, target: TicketStatus, *, at: datetime) -> None:
        if target not in ALLOWED[self.status]:
            raise IllegalTransition(self.status, target)
        self.history.append((self.status, target))
        self.status = target
        self.updated_at = at
