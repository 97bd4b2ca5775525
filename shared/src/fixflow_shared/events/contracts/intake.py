"""Events published by the intake service on fixflow.intake.tickets."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from fixflow_shared import topics
from fixflow_shared.events.registry import Event, event

TicketKind = Literal["repair", "installation", "maintenance", "return", "complaint", "consultation"]
Channel = Literal["phone", "email", "web", "wechat", "walk_in", "partner"]


@event("fixflow.intake.ticket.opened.v1", topic=topics.INTAKE_TICKETS)
class TicketOpened(Event):
    ticket_id: str
    tenant_id: str
    customer_id: str | None = None
    asset_id: str | None = None
    kind: TicketKind
    channel: Channel
    symptom: str
    priority: Literal["P1", "P2", "P3", "P4"] | None = None
    warranty_status: str | None = Field(
        None, description="in_warranty | out_of_warranty | return_window_open | not_returnable | unknown"
    )
    opened_at: datetime
    # Contact references, not raw PII: notify resolves recipients from its own directory.
    contact_email: str | None = Field(None, description="where the acknowledgement goes, if allowed")
    contact_phone: str | None = None
    locale: str = "zh-CN"
