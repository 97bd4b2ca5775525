"""HTTP: the technician app (en route, arrived, diagnosis/parts/labour/photos, sign-off, outcomes) and KPIs."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from dispatch import views
from dispatch.domain import commands
from dispatch.domain.model import CompletionFacts, PartUse, WorkOrder, WorkOrderStatus
from dispatch.entrypoints.routes.deps import (
    Code,
    Lat,
    Lon,
    PartCode,
    PlanningDep,
    RuntimeDep,
    When,
)
from dispatch.entrypoints.routes.owners import parts_request_owner, work_order_owner
from dispatch.service_layer import work_orders
from fixflow_shared.access import Access, Authorize
from fixflow_shared.errors import NotFound, Unprocessable
from fixflow_shared.events.contracts.dispatch import FaultOrigin, WorkType
from fixflow_shared.problems import problem_responses

router = APIRouter(tags=["work orders"])
WorkOrdersRead = Annotated[Access, Depends(Authorize("work_orders.read", owner=work_order_owner, what="work order"))]
Decline = Annotated[Access, Depends(Authorize("work_orders.decline", owner=work_order_owner, what="work order"))]
EnRoute = Annotated[Access, Depends(Authorize("work_orders.en_route", owner=work_order_owner, what="work order"))]
DelayIt = Annotated[Access, Depends(Authorize("work_orders.delay", owner=work_order_owner, what="work order"))]
Arrive = Annotated[Access, Depends(Authorize("work_orders.arrive", owner=work_order_owner, what="work order"))]
Record = Annotated[Access, Depends(Authorize("work_orders.record", owner=work_order_owner, what="work order"))]
Complete = Annotated[Access, Depends(Authorize("work_orders.complete", owner=work_order_owner, what="work order"))]
Fail = Annotated[Access, Depends(Authorize("work_orders.fail", owner=work_order_owner, what="work order"))]
PartsRequestsRead = Annotated[
    Access, Depends(Authorize("parts_requests.read", owner=parts_request_owner, what="parts request"))
]
Kpis = Annotated[Access, Depends(Authorize("dispatch.kpis"))]

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class WorkOrderRead(BaseModel):
    id: str
    job_id: str
    ticket_id: str
    technician_id: str
    visit_number: int
    status: str
    appointment_id: str | None
    planned_start: datetime | None
    planned_end: datetime | None
    explanation: str
    eta: datetime | None = Field(None, description="expected arrival, from when the technician set off")
    eta_from: str | None = Field(None, description="position | previous_stop | home: what the ETA was measured from")
    arrived_at: datetime | None
    diagnosis: str | None
    parts_used: list[dict[str, Any]]
    labour_minutes: int
    photos: list[dict[str, str]]
    resolution_code: str | None
    sign_off: dict[str, Any] | None
    rating: int | None
    note: str | None
    completion: dict[str, Any] | None = Field(
        None, description="what failed, work type, fault origin, adjustments, freight, internal: recorded at completion"
    )
    checklist_answers: dict[str, Any] = Field(default_factory=dict, description="the job kind's checklist as answered")

    @classmethod
    def of(cls, w: WorkOrder) -> WorkOrderRead:
        return cls(
            id=w.id,
            job_id=w.job_id,
            ticket_id=w.ticket_id,
            technician_id=w.technician_id,
            visit_number=w.visit_number,
            status=w.status.value,
            appointment_id=w.appointment_id,
            planned_start=w.planned_start,
            planned_end=w.planned_end,
            explanation=w.explanation,
            eta=w.eta,
            eta_from=w.eta_from,
            arrived_at=w.arrived_at,
            diagnosis=w.diagnosis,
            parts_used=[{"part_code": p.part_code, "quantity": p.quantity, "source": p.source} for p in w.parts_used],
            labour_minutes=w.labour_minutes,
            photos=w.photos,
            resolution_code=w.resolution_code,
            sign_off=w.sign_off,
            rating=w.rating,
            note=w.note,
            completion=asdict(w.completion) if w.completion else None,
            checklist_answers=w.checklist_answers,
        )


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")
    part_code: PartCode
    quantity: int = Field(ge=1, le=1000)
    source: Literal["van_stock", "warehouse"] = "van_stock"

    def domain(self) -> PartUse:
        return PartUse(self.part_code, self.quantity, self.source)


class Photo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sha256: Sha256
    content_type: Literal["image/jpeg", "image/png", "image/webp"]
    caption: str | None = Field(None, max_length=200)


class EnRouteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: Lat | None = None
    lon: Lon | None = None


class Arrival(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: Lat | None = None
    lon: Lon | None = None


class WorkRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    diagnosis: str | None = Field(None, max_length=4000)
    parts: list[Part] = Field(default_factory=list, max_length=50)
    labour_minutes: int = Field(0, ge=0, le=24 * 60)
    photos: list[Photo] = Field(default_factory=list, max_length=20)


class SignOff(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution_code: Code
    signed_by: str = Field(min_length=1, max_length=200)
    signed_at: When
    signature_sha256: Sha256
    rating: int | None = Field(None, ge=1, le=5)
    # What the technician records (work-order.completed v1.1): what failed, for quality reports, and
    # what the fee schedule needs (billing prices the visit by it).
    fault_cause: str | None = Field(
        None, min_length=1, max_length=64, description="what failed, e.g. compressor, pcb, misuse"
    )
    work_type: WorkType | None = Field(
        None, description="what was done; omitted: billing classifies the resolution code with the price book"
    )
    fault_origin: FaultOrigin | None = Field(
        None, description="whose fault: quality (a product defect), customer (misuse, damage) or unknown"
    )
    adjustments: int = Field(1, ge=1, le=100, description="adjustments made (drawers, hinges, levelling)")
    freight: bool = Field(False, description="the unit goes back to the factory (one-way freight)")
    internal: bool = Field(False, description="internal work (inspection, administration): not billed")
    checklist: dict[str, str | float | bool | None] | None = Field(
        None,
        max_length=40,
        description="checklist answers given with the sign-off, merged into those kept; completion is refused "
        "(422, `missing` names the fields) while a required field of the job kind's checklist is empty",
    )

    def facts(self) -> CompletionFacts:
        return CompletionFacts(
            work_type=self.work_type,
            fault_origin=self.fault_origin,
            fault_cause=self.fault_cause,
            adjustments=self.adjustments,
            freight=self.freight,
            internal=self.internal,
        )


class Failure(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["needs_parts", "customer_absent", "escalated"]
    note: str | None = Field(None, max_length=2000)
    parts_needed: list[Part] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _parts(self) -> Failure:
        if self.outcome == "needs_parts" and not self.parts_needed:
            raise ValueError("needs_parts requires parts_needed")
        return self


class Delay(BaseModel):
    model_config = ConfigDict(extra="forbid")
    minutes: int = Field(ge=1, le=24 * 60)


class DeclineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=500)


@router.get("/work-orders/{work_order_id}", response_model=WorkOrderRead, responses=problem_responses(404))
async def read_work_order(work_order_id: str, principal: WorkOrdersRead, rt: RuntimeDep) -> WorkOrderRead:
    w = await views.work_order(uow=rt.uow(), tenant_id=principal.tenant, work_order_id=work_order_id)
    if w is None:
        raise NotFound("work order", work_order_id)
    return WorkOrderRead.of(w)


@router.post(
    "/work-orders/{work_order_id}/decline", response_model=WorkOrderRead, responses=problem_responses(404, 409)
)
async def decline(work_order_id: str, body: DeclineIn, principal: Decline, rt: RuntimeDep) -> WorkOrderRead:
    return WorkOrderRead.of(
        await work_orders.decline(
            uow=rt.uow(), tenant_id=principal.tenant, work_order_id=work_order_id, reason=body.reason
        )
    )


@router.post(
    "/work-orders/{work_order_id}/en-route", response_model=WorkOrderRead, responses=problem_responses(404, 409)
)
async def en_route(
    work_order_id: str, principal: EnRoute, rt: RuntimeDep, planning: PlanningDep, body: EnRouteIn | None = None
) -> WorkOrderRead:
    """Setting off: the ETA is measured from the position sent (else the previous stop, else home)."""
    position = (body.lat, body.lon) if body and body.lat is not None and body.lon is not None else None
    return WorkOrderRead.of(
        await work_orders.en_route(
            uow=rt.uow(), tenant_id=principal.tenant, work_order_id=work_order_id, planning=planning, position=position
        )
    )


@router.post("/work-orders/{work_order_id}/delay", responses=problem_responses(404, 409))
async def delay(
    work_order_id: str, body: Delay, principal: DelayIt, rt: RuntimeDep, planning: PlanningDep
) -> dict[str, Any]:
    wo, at_risk, replanned = await work_orders.report_delay(
        uow=rt.uow(), tenant_id=principal.tenant, work_order_id=work_order_id, minutes=body.minutes, planning=planning
    )
    return {
        "work_order": WorkOrderRead.of(wo).model_dump(mode="json"),
        "sla_at_risk": at_risk,
        "reassigning": wo.status == WorkOrderStatus.UNASSIGNED,
        "replanned": replanned.as_dict(),
    }


@router.post(
    "/work-orders/{work_order_id}/arrival", response_model=WorkOrderRead, responses=problem_responses(404, 409)
)
async def arrival(work_order_id: str, body: Arrival, principal: Arrive, rt: RuntimeDep) -> WorkOrderRead:
    w = await work_orders.arrive(
        uow=rt.uow(), tenant_id=principal.tenant, work_order_id=work_order_id, lat=body.lat, lon=body.lon
    )
    return WorkOrderRead.of(w)


@router.post("/work-orders/{work_order_id}/work", response_model=WorkOrderRead, responses=problem_responses(404, 409))
async def record(work_order_id: str, body: WorkRecord, principal: Record, rt: RuntimeDep) -> WorkOrderRead:
    cmd = commands.RecordWork(
        tenant_id=principal.tenant,
        work_order_id=work_order_id,
        diagnosis=body.diagnosis,
        parts=[p.domain() for p in body.parts],
        labour_minutes=body.labour_minutes,
        photos=[p.model_dump(exclude_none=True) for p in body.photos],
    )
    return WorkOrderRead.of(await work_orders.record_work(uow=rt.uow(), cmd=cmd))


@router.post(
    "/work-orders/{work_order_id}/completion",
    response_model=WorkOrderRead,
    responses=problem_responses(404, 409, 422),
)
async def completion(work_order_id: str, body: SignOff, principal: Complete, rt: RuntimeDep) -> WorkOrderRead:
    cmd = commands.CompleteWorkOrder(
        tenant_id=principal.tenant,
        work_order_id=work_order_id,
        resolution_code=body.resolution_code,
        signed_by=body.signed_by,
        signed_at=body.signed_at,
        signature_sha256=body.signature_sha256,
        rating=body.rating,
        facts=body.facts(),
        checklist=dict(body.checklist) if body.checklist else None,
    )
    return WorkOrderRead.of(await work_orders.complete(uow=rt.uow(), cmd=cmd))


@router.post("/work-orders/{work_order_id}/failure", responses=problem_responses(404, 409))
async def failure(
    work_order_id: str, body: Failure, principal: Fail, rt: RuntimeDep, planning: PlanningDep
) -> dict[str, Any]:
    cmd = commands.FailWorkOrder(
        tenant_id=principal.tenant,
        work_order_id=work_order_id,
        outcome=body.outcome,
        note=body.note,
        parts_needed=[p.domain() for p in body.parts_needed],
    )
    wo, request = await work_orders.fail(uow=rt.uow(), cmd=cmd, planning=planning)
    return {
        "work_order": WorkOrderRead.of(wo).model_dump(mode="json"),
        "parts_request_id": request.id if request else None,
    }


@router.get("/parts-requests/{request_id}", responses=problem_responses(404))
async def read_parts_request(request_id: str, principal: PartsRequestsRead, rt: RuntimeDep) -> dict[str, Any]:
    """A parts request to the warehouse, or a return pickup (kind "pickup"), with logistics' status."""
    from dispatch.service_layer.jobs import PICKUP_PREFIX

    pr = await views.parts_request(uow=rt.uow(), tenant_id=principal.tenant, request_id=request_id)
    if pr is None:
        raise NotFound("parts request", request_id)
    return {
        "id": pr.id,
        "ticket_id": pr.ticket_id,
        "kind": "pickup" if pr.id.startswith(PICKUP_PREFIX) else "parts",
        "work_order_id": pr.work_order_id or None,
        "status": pr.status,
        "shipment_id": pr.shipment_id,
        "eta": pr.eta.isoformat() if pr.eta else None,
        "parts": [{"part_code": p.part_code, "quantity": p.quantity, "source": p.source} for p in pr.parts],
    }


@router.get("/kpis")
async def kpis(
    principal: Kpis,
    rt: RuntimeDep,
    start: Annotated[When, Query(alias="from")],
    end: Annotated[When, Query(alias="to")],
) -> dict[str, Any]:
    if end <= start or (end - start).days > 366:
        raise Unprocessable("the period must end after it starts and span at most a year")
    return await views.kpis(uow=rt.uow(), tenant_id=principal.tenant, start=start, end=end)
