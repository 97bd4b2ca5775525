"""HTTP: /v1/deliveries — delivery status per ticket (addresses masked)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from fixflow_shared.access import Access, Authorize
from notify import views
from notify.entrypoints.routes.common import RuntimeDep, ticket_contact_owner

router = APIRouter(prefix="/deliveries", tags=["deliveries"])
Reader = Annotated[Access, Depends(Authorize("deliveries.list", owner=ticket_contact_owner, what="ticket"))]


class AttemptRead(BaseModel):
    attempt: int
    provider: str
    outcome: str
    error: str | None


class DeliveryRead(BaseModel):
    id: str
    ticket_id: str | None
    channel: Literal["email", "sms", "webhook", "in_app"]
    status: Literal["pending", "deferred", "sent", "failed", "skipped"]
    recipient: str
    audience: str
    template: str
    template_version: int
    locale: str
    trigger_event_type: str
    trigger_event_id: str
    attempts: int
    attempt_log: list[AttemptRead]
    provider: str | None
    last_error: str | None
    not_before: datetime | None
    created_at: datetime
    sent_at: datetime | None


@router.get("", response_model=list[DeliveryRead])
async def list_deliveries(
    principal: Reader, rt: RuntimeDep, ticket_id: Annotated[str, Query(min_length=1, max_length=64)]
) -> list[dict]:
    """Every delivery planned for a ticket, oldest first; another tenant's ticket gives []."""
    return await views.deliveries_for_ticket(uow=rt.uow(), tenant_id=principal.tenant, ticket_id=ticket_id)
