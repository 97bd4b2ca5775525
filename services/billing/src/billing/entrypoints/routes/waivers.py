"""HTTP: /v1/waivers — waive all or part of a ticket's charge; over the threshold a manager approves."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from billing.domain.commands import RequestWaiver
from billing.domain.model import WaiverRequest
from billing.domain.money import check_currency
from billing.entrypoints.routes.common import Currency, MinorAmount, RuntimeDep
from billing.service_layer import waivers
from fixflow_shared.access import Access, Authorize
from fixflow_shared.problems import problem_responses

router = APIRouter(prefix="/waivers", tags=["waivers"])
WaiversRequest = Annotated[Access, Depends(Authorize("waivers.request"))]
WaiversDecide = Annotated[Access, Depends(Authorize("waivers.decide"))]


class WaiverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket_id: str = Field(min_length=1, max_length=40)
    amount_minor: MinorAmount | None = Field(None, description="omit to waive the whole charge")
    currency: Currency = "CNY"
    reason: str = Field(min_length=1, max_length=2000)


class WaiverOut(BaseModel):
    id: str
    ticket_id: str
    amount_minor: int | None
    currency: str
    reason: str
    status: str
    requested_by: str
    approved_by: str | None

    @classmethod
    def of(cls, w: WaiverRequest) -> WaiverOut:
        return cls(
            id=w.id,
            ticket_id=w.ticket_id,
            amount_minor=w.amount_minor,
            currency=w.currency,
            reason=w.reason,
            status=w.status.value,
            requested_by=w.requested_by,
            approved_by=w.approved_by,
        )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WaiverOut)
async def request_waiver(body: WaiverIn, principal: WaiversRequest, rt: RuntimeDep) -> WaiverOut:
    check_currency(body.currency)
    w = await waivers.request_waiver(
        uow=rt.uow(),
        cmd=RequestWaiver(
            tenant_id=principal.tenant,
            ticket_id=body.ticket_id,
            amount_minor=body.amount_minor,
            currency=body.currency,
            reason=body.reason,
            requested_by=principal.subject,
            requester_is_manager=principal.has_any("manager"),
        ),
    )
    return WaiverOut.of(w)


@router.post("/{waiver_id}/approve", response_model=WaiverOut, responses=problem_responses(404, 409))
async def approve_waiver(waiver_id: str, principal: WaiversDecide, rt: RuntimeDep) -> WaiverOut:
    w = await waivers.decide_waiver(
        uow=rt.uow(),
        tenant_id=principal.tenant,
        waiver_id=waiver_id,
        approve=True,
        by=principal.subject,
        is_manager=True,
    )
    return WaiverOut.of(w)


@router.post("/{waiver_id}/reject", response_model=WaiverOut, responses=problem_responses(404, 409))
async def reject_waiver(waiver_id: str, principal: WaiversDecide, rt: RuntimeDep) -> WaiverOut:
    w = await waivers.decide_waiver(
        uow=rt.uow(),
        tenant_id=principal.tenant,
        waiver_id=waiver_id,
        approve=False,
        by=principal.subject,
        is_manager=True,
    )
    return WaiverOut.of(w)
