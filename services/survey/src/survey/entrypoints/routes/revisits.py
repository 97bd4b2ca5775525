"""HTTP: periodic revisits (回访) as agent tasks, their outcomes, and customer grades."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from fixflow_shared.access import Access, Authorize
from fixflow_shared.problems import problem_responses
from survey import views
from survey.domain.commands import RecordRevisitOutcome, SetCustomerGrade
from survey.entrypoints.routes.deps import ServicesDep
from survey.entrypoints.routes.schemas import GradeUpdate, RevisitOutcome, RevisitRead
from survey.service_layer import handlers

router = APIRouter(tags=["revisits"])

RevisitsList = Annotated[Access, Depends(Authorize("revisits.list"))]
RevisitsRecord = Annotated[Access, Depends(Authorize("revisits.record"))]
Grade = Annotated[Access, Depends(Authorize("revisits.grade"))]


@router.get("/revisits", response_model=list[RevisitRead])
async def list_revisits(
    principal: RevisitsList,
    svc: ServicesDep,
    status: Literal["open", "done"] | None = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RevisitRead]:
    found = await views.revisits(uow=svc.runtime.uow(), tenant_id=principal.tenant, status=status, limit=limit)
    return [RevisitRead.of(r) for r in found]


@router.post("/revisits/{revisit_id}/outcome", response_model=RevisitRead, responses=problem_responses(404, 409))
async def record_outcome(
    revisit_id: str, body: RevisitOutcome, principal: RevisitsRecord, svc: ServicesDep
) -> RevisitRead:
    r = await handlers.record_revisit_outcome(
        uow=svc.runtime.uow(),
        cmd=RecordRevisitOutcome(
            tenant_id=principal.tenant,
            revisit_id=revisit_id,
            outcome=body.outcome,
            satisfied=body.satisfied,
            notes=body.notes,
            by=principal.subject,
        ),
    )
    return RevisitRead.of(r)


@router.put("/revisit-customers/{customer_id}", status_code=204)
async def set_grade(customer_id: str, body: GradeUpdate, principal: Grade, svc: ServicesDep) -> None:
    timers = await handlers.set_customer_grade(
        uow=svc.runtime.uow(),
        cmd=SetCustomerGrade(tenant_id=principal.tenant, customer_id=customer_id, grade=body.grade),
    )
    await svc.scheduled(timers)
