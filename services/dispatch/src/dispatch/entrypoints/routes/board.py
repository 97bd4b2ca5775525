"""HTTP for the dispatcher board: the appointments of a period with what the board draws, and the
rule check of one drag and drop before it is committed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel

from dispatch import views
from dispatch.entrypoints.routes.deps import PlanningDep, RuntimeDep, When
from dispatch.service_layer import board
from fixflow_shared.access import Access, Authorize
from fixflow_shared.errors import Unprocessable
from fixflow_shared.problems import problem_responses

router = APIRouter(tags=["board"])
BoardRead = Annotated[Access, Depends(Authorize("board.read"))]
BoardFit = Annotated[Access, Depends(Authorize("board.fit"))]


class BoardAppointment(BaseModel):
    id: str
    job_id: str
    ticket_id: str
    technician_id: str
    window_start: datetime
    window_end: datetime
    visit_number: int
    status: str
    priority: str
    kind: str
    job_status: str
    lat: float | None
    lon: float | None
    sla_deadline: datetime | None
    duration_min: int
    work_order_id: str | None
    work_order_status: str | None
    planned_start: datetime | None
    planned_end: datetime | None
    travel_min: float | None


class FitCheck(BaseModel):
    rule: str
    ok: bool
    detail: str


class Fit(BaseModel):
    job_id: str
    technician_id: str
    technician_name: str
    start: datetime
    end: datetime
    ok: bool
    checks: list[FitCheck]
    refusal: str | None


@router.get("/appointments", response_model=list[BoardAppointment], responses=problem_responses(422))
async def list_appointments(
    principal: BoardRead, rt: RuntimeDep, start: Annotated[When, Query()], end: Annotated[When, Query()]
) -> Response:
    """Appointments (not cancelled) overlapping [start, end), at most 31 days (a technician's own only)."""
    if end <= start or end - start > timedelta(days=31):
        raise Unprocessable("the period must be positive and at most 31 days")
    rows = await views.board_appointments(
        uow=rt.uow(), tenant_id=principal.tenant, start=start, end=end, technician_id=principal.technician_scope
    )
    # Serialised from the rows as they are: a board asks for thousands, and validating each against
    # the response model cost 40 times the serialisation (the model still documents the answer).
    return Response(orjson.dumps(rows), media_type="application/json")


@router.get("/jobs/{job_id}/fit", response_model=Fit, responses=problem_responses(404, 422))
async def fit(
    job_id: str,
    principal: BoardFit,
    rt: RuntimeDep,
    planning: PlanningDep,
    technician_id: Annotated[str, Query(min_length=1, max_length=40)],
    start: Annotated[When, Query()],
    end: Annotated[When, Query()],
    appointment_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Fit:
    """Would this technician fit this job in this window? Every hard rule with its reason, then the
    optimiser's verdict; nothing is booked. `appointment_id`: moving that appointment of the job."""
    return Fit(
        **await board.check_fit(
            uow=rt.uow(),
            tenant_id=principal.tenant,
            job_id=job_id,
            technician_id=technician_id,
            start=start,
            end=end,
            planning=planning,
            appointment_id=appointment_id,
        )
    )
