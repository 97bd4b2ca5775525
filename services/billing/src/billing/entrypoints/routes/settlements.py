"""HTTP: /v1/settlements/pending — completed work orders billing has parked (ticket facts not seen
yet, a waiver waiting for a manager) or could not price (failed, with the reason);
/v1/settlements/waived — a ticket's work orders settled at no charge (charge.waived)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from billing import views
from billing.entrypoints.routes.common import RuntimeDep
from fixflow_shared.access import Access, Authorize

router = APIRouter(prefix="/settlements", tags=["settlements"])
SettlementsRead = Annotated[Access, Depends(Authorize("settlements.read"))]


class PendingSettlementOut(BaseModel):
    work_order_id: str
    ticket_id: str
    status: str  # waiting | failed
    waiting_for: str  # ticket_facts | waiver_decision
    error: str | None
    completed_at: datetime
    parked_at: datetime


@router.get("/pending", response_model=list[PendingSettlementOut])
async def pending_settlements(
    principal: SettlementsRead, rt: RuntimeDep, limit: int = 100
) -> list[PendingSettlementOut]:
    rows = await views.pending_settlements(uow=rt.uow(), tenant_id=principal.tenant, limit=max(1, min(limit, 500)))
    return [PendingSettlementOut(**{k: r[k] for k in PendingSettlementOut.model_fields}) for r in rows]


class WaivedChargeOut(BaseModel):
    id: str
    ticket_id: str
    work_order_id: str | None
    service_kind: str
    currency: str
    waived_minor: int
    reason: str
    rule: str
    approved_by: str | None
    lines: list[dict[str, Any]]
    waived_at: datetime


@router.get("/waived", response_model=list[WaivedChargeOut])
async def waived_charges(
    principal: SettlementsRead, rt: RuntimeDep, ticket_id: Annotated[str, Query(min_length=1, max_length=40)]
) -> list[WaivedChargeOut]:
    """What the customer did not pay for, and why (the list price waived, by rule)."""
    rows = await views.waived_charges_of_ticket(uow=rt.uow(), tenant_id=principal.tenant, ticket_id=ticket_id)
    return [WaivedChargeOut(**{k: r[k] for k in WaivedChargeOut.model_fields}) for r in rows]
