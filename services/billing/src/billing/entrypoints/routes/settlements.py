"""HTTP: /v1/settlements/pending — completed work orders billing has parked (ticket facts not seen
yet, a waiver waiting for a manager) or could not price (failed, with the reason)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from billing import views
from billing.entrypoints.routes.common import RuntimeDep, Staff

router = APIRouter(prefix="/settlements", tags=["settlements"])


class PendingSettlementOut(BaseModel):
    work_order_id: str
    ticket_id: str
    status: str  # waiting | failed
    waiting_for: str  # ticket_facts | waiver_decision
    error: str | None
    completed_at: datetime
    parked_at: datetime


@router.get("/pending", response_model=list[PendingSettlementOut])
async def pending_settlements(principal: Staff, rt: RuntimeDep, limit: int = 100) -> list[PendingSettlementOut]:
    rows = await views.pending_settlements(uow=rt.uow(), tenant_id=principal.tenant, limit=max(1, min(limit, 500)))
    return [PendingSettlementOut(**{k: r[k] for k in PendingSettlementOut.model_fields}) for r in rows]
