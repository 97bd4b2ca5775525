"""HTTP: jobs, bookable windows, appointments (book, confirm, reschedule, cancel), batch optimisation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from dispatch import views
from dispatch.domain import commands
from dispatch.domain.exceptions import NoTechnicianAvailable
from dispatch.domain.model import Appointment, Job, WorkOrder
from dispatch.entrypoints.routes.deps import Code, Lat, Lon, PartCode, PlanningDep, RuntimeDep, When
from dispatch.entrypoints.routes.owners import appointment_owner, job_owner, ticket_job_owner
from dispatch.service_layer import appointments, board, jobs, placement
from fixflow_shared.access import Access, Authorize
from fixflow_shared.errors import NotFound
from fixflow_shared.problems import problem_responses

router = APIRouter(tags=["jobs"])
JobsList = Annotated[Access, Depends(Authorize("jobs.list"))]
JobsRead = Annotated[Access, Depends(Authorize("jobs.read", owner=job_owner, what="job"))]
JobOfTicket = Annotated[Access, Depends(Authorize("jobs.read", owner=ticket_job_owner, what="job for ticket"))]
JobsUpdate = Annotated[Access, Depends(Authorize("jobs.update"))]
Offers = Annotated[Access, Depends(Authorize("jobs.offers", owner=job_owner, what="job"))]
Book = Annotated[Access, Depends(Authorize("appointments.book", owner=job_owner, what="job"))]
AppointmentsRead = Annotated[
    Access, Depends(Authorize("appointments.read", owner=appointment_owner, what="appointment"))
]
Confirm = Annotated[Access, Depends(Authorize("appointments.confirm", owner=appointment_owner, what="appointment"))]
Reschedule = Annotated[
    Access, Depends(Authorize("appointments.reschedule", owner=appointment_owner, what="appointment"))
]
CancelAppointment = Annotated[
    Access, Depends(Authorize("appointments.cancel", owner=appointment_owner, what="appointment"))
]
Optimise = Annotated[Access, Depends(Authorize("optimisations.run"))]


class JobRead(BaseModel):
    id: str
    ticket_id: str
    kind: str
    status: str
    priority: str
    required_skills: dict[str, int]
    required_certifications: list[str]
    lat: float | None
    lon: float | None
    duration_min: int
    sla_deadline: datetime | None
    visits: int
    region: str | None = None
    crew_size: int = 1
    parts: dict[str, int] = Field(default_factory=dict)
    parts_holder: str | None = None
    parts_eta: datetime | None = None

    @classmethod
    def of(cls, j: Job) -> JobRead:
        return cls(
            id=j.id,
            ticket_id=j.ticket_id,
            kind=j.kind,
            status=j.status.value,
            priority=j.priority,
            required_skills=j.required_skills,
            required_certifications=j.required_certifications,
            lat=j.lat,
            lon=j.lon,
            duration_min=j.duration_min,
            sla_deadline=j.sla_deadline,
            visits=j.visits,
            region=j.region,
            crew_size=j.crew_size,
            parts=j.parts,
            parts_holder=j.parts_holder,
            parts_eta=j.parts_eta,
        )


class AppointmentRead(BaseModel):
    id: str
    job_id: str
    ticket_id: str
    technician_id: str
    window_start: datetime
    window_end: datetime
    visit_number: int
    status: str
    reason: str | None

    @classmethod
    def of(cls, a: Appointment) -> AppointmentRead:
        return cls(
            id=a.id,
            job_id=a.job_id,
            ticket_id=a.ticket_id,
            technician_id=a.technician_id,
            window_start=a.window_start,
            window_end=a.window_end,
            visit_number=a.visit_number,
            status=a.status.value,
            reason=a.reason,
        )


class WorkOrderBrief(BaseModel):
    id: str
    technician_id: str
    status: str
    visit_number: int
    planned_start: datetime | None
    explanation: str
    eta: datetime | None = Field(None, description="expected arrival once the technician set off")

    @classmethod
    def of(cls, w: WorkOrder) -> WorkOrderBrief:
        return cls(
            id=w.id,
            technician_id=w.technician_id,
            status=w.status.value,
            visit_number=w.visit_number,
            planned_start=w.planned_start,
            explanation=w.explanation,
            eta=w.eta,
        )


class JobDetail(JobRead):
    appointments: list[AppointmentRead]
    work_orders: list[WorkOrderBrief]


class JobUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: Lat | None = None
    lon: Lon | None = None
    priority: Literal["P1", "P2", "P3", "P4"] | None = None
    required_skills: dict[Code, Annotated[int, Field(ge=1, le=5)]] | None = None
    required_certifications: list[Code] | None = Field(None, max_length=10)
    duration_min: int | None = Field(None, ge=15, le=480)
    sla_deadline: When | None = None
    region: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    crew_size: int | None = Field(None, ge=1, le=4, description="technicians booked together for the visit")
    parts: dict[PartCode, Annotated[int, Field(ge=1, le=1000)]] | None = Field(
        None, description="parts the visit needs: technicians without them in the van wait for a shipment"
    )


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: When
    end: When

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError("the window must end after it starts")
        return self


class Booking(Window):
    technician_id: str | None = Field(None, max_length=40)


class RescheduleIn(Window):
    reason: str = Field(min_length=1, max_length=500)
    technician_id: str | None = Field(
        None,
        max_length=40,
        description="move the visit to this technician (the board's drag and drop); refused with the rules they break",
    )


class Cancellation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Literal["customer_request", "technician_unavailable", "duplicate", "other"]
    detail: str | None = Field(None, max_length=500)


@router.get("/jobs", response_model=list[JobRead])
async def list_jobs(
    principal: JobsList,
    rt: RuntimeDep,
    status_: Annotated[str | None, Query(alias="status", max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[JobRead]:
    return [
        JobRead.of(j) for j in await views.jobs(uow=rt.uow(), tenant_id=principal.tenant, status=status_, limit=limit)
    ]


@router.get("/jobs/by-ticket/{ticket_id}", response_model=JobRead, responses=problem_responses(404))
async def job_by_ticket(ticket_id: str, principal: JobOfTicket, rt: RuntimeDep) -> JobRead:
    j = await views.job_for_ticket(uow=rt.uow(), tenant_id=principal.tenant, ticket_id=ticket_id)
    if j is None:
        raise NotFound("job for ticket", ticket_id)
    return JobRead.of(j)


@router.get("/jobs/{job_id}", response_model=JobDetail, responses=problem_responses(404))
async def read_job(job_id: str, principal: JobsRead, rt: RuntimeDep) -> JobDetail:
    found = await views.job(uow=rt.uow(), tenant_id=principal.tenant, job_id=job_id)
    if found is None:
        raise NotFound("job", job_id)
    j, appts, wos = found
    return JobDetail(
        **JobRead.of(j).model_dump(),
        appointments=[AppointmentRead.of(a) for a in appts],
        work_orders=[WorkOrderBrief.of(w) for w in wos],
    )


@router.patch("/jobs/{job_id}", response_model=JobRead, responses=problem_responses(404, 409))
async def patch_job(
    job_id: str, body: JobUpdate, principal: JobsUpdate, rt: RuntimeDep, planning: PlanningDep
) -> JobRead:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return JobRead.of(
        await jobs.update_job(
            uow=rt.uow(), tenant_id=principal.tenant, job_id=job_id, changes=changes, planning=planning
        )
    )


@router.get("/jobs/{job_id}/offers", responses=problem_responses(404))
async def offers(job_id: str, principal: Offers, rt: RuntimeDep, planning: PlanningDep) -> list[dict[str, Any]]:
    return await appointments.offer_windows(uow=rt.uow(), tenant_id=principal.tenant, job_id=job_id, planning=planning)


@router.post(
    "/jobs/{job_id}/appointments",
    status_code=status.HTTP_201_CREATED,
    response_model=AppointmentRead,
    responses=problem_responses(404, 409),
)
async def book(job_id: str, body: Booking, principal: Book, rt: RuntimeDep, planning: PlanningDep) -> AppointmentRead:
    """A customer books one of the offered windows; choosing the technician is the office's."""
    technician_id = body.technician_id if principal.tenant_wide else None
    cmd = commands.BookAppointment(
        tenant_id=principal.tenant, job_id=job_id, start=body.start, end=body.end, technician_id=technician_id
    )
    try:
        appt, _ = await appointments.book_appointment(uow=rt.uow(), cmd=cmd, planning=planning)
    except NoTechnicianAvailable:
        if technician_id:  # say which rules the named technician breaks
            await board.raise_refusal(
                uow_factory=rt.uow,
                tenant_id=principal.tenant,
                job_id=job_id,
                technician_id=technician_id,
                start=body.start,
                end=body.end,
                planning=planning,
            )
        raise
    return AppointmentRead.of(appt)


@router.get("/appointments/{appointment_id}", response_model=AppointmentRead, responses=problem_responses(404))
async def read_appointment(appointment_id: str, principal: AppointmentsRead, rt: RuntimeDep) -> AppointmentRead:
    a = await views.appointment(uow=rt.uow(), tenant_id=principal.tenant, appointment_id=appointment_id)
    if a is None:
        raise NotFound("appointment", appointment_id)
    return AppointmentRead.of(a)


@router.post(
    "/appointments/{appointment_id}/confirm", response_model=AppointmentRead, responses=problem_responses(404, 409)
)
async def confirm(appointment_id: str, principal: Confirm, rt: RuntimeDep) -> AppointmentRead:
    return AppointmentRead.of(
        await appointments.confirm_appointment(uow=rt.uow(), tenant_id=principal.tenant, appointment_id=appointment_id)
    )


@router.post(
    "/appointments/{appointment_id}/reschedule", response_model=AppointmentRead, responses=problem_responses(404, 409)
)
async def reschedule(
    appointment_id: str, body: RescheduleIn, principal: Reschedule, rt: RuntimeDep, planning: PlanningDep
) -> AppointmentRead:
    technician_id = body.technician_id if principal.tenant_wide else None  # moving a visit is the office's
    try:
        a = await appointments.reschedule_appointment(
            uow=rt.uow(),
            tenant_id=principal.tenant,
            appointment_id=appointment_id,
            start=body.start,
            end=body.end,
            reason=body.reason,
            planning=planning,
            technician_id=technician_id,
            by_customer=principal.customer_scope is not None,
        )
    except NoTechnicianAvailable:
        if technician_id:
            await board.raise_refusal(
                uow_factory=rt.uow,
                tenant_id=principal.tenant,
                appointment_id=appointment_id,
                technician_id=technician_id,
                start=body.start,
                end=body.end,
                planning=planning,
            )
        raise
    return AppointmentRead.of(a)


@router.post(
    "/appointments/{appointment_id}/cancel", response_model=AppointmentRead, responses=problem_responses(404, 409)
)
async def cancel(
    appointment_id: str, body: Cancellation, principal: CancelAppointment, rt: RuntimeDep, planning: PlanningDep
) -> AppointmentRead:
    """A customer cancels until the notice period before the visit, and not once the technician set off."""
    by_customer = principal.customer_scope is not None
    a = await appointments.cancel_appointment(
        uow=rt.uow(),
        tenant_id=principal.tenant,
        appointment_id=appointment_id,
        reason=body.reason,
        detail=body.detail,
        customer_notice=timedelta(hours=planning.customer_notice_hours) if by_customer else None,
    )
    return AppointmentRead.of(a)


class OptimiseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: Literal["routes", "fast", "exact"] = Field(
        "routes", description="every method plans routes now; fast and exact are kept for older clients"
    )
    seconds: float | None = Field(None, gt=0, le=120, description="time budget (default: the service's setting)")


@router.post("/optimisations", status_code=status.HTTP_200_OK)
async def optimise(body: OptimiseRequest, principal: Optimise, rt: RuntimeDep, planning: PlanningDep) -> dict[str, Any]:
    """Plan every open job on the technicians' routes (visits already booked keep their technician
    and window): per-technician routes with travel, breaks and SLA risk, and the solver's gap
    estimate (how much the search still improved in the second half of its time)."""
    plan = await placement.optimise(
        uow=rt.uow(), tenant_id=principal.tenant, planning=planning, method=body.method, seconds=body.seconds
    )
    return {
        "method": plan.method,
        "elapsed_s": round(plan.elapsed_s, 4),
        "objective": round(plan.travel_min, 1),
        "sla_breaches": plan.sla_breaches,
        "sla_risk": plan.sla_risk,
        "travel_min": round(plan.travel_min, 1),
        "travel_km": round(plan.travel_km, 1),
        "gap_estimate": round(plan.gap_estimate, 4) if plan.gap_estimate is not None else None,
        "moved": plan.moved,
        "assignments": [
            {
                "job_id": v.job_id,
                "technician_id": v.technician_id,
                "start": v.start,
                "end": v.end,
                "why": plan.explanations.get(v.job_id, ""),
                "cost": {"travel": round(v.travel_min, 1)},
                "runner_up": None,
            }
            for r in plan.routes
            for v in r.visits
            if not v.existing
        ],
        "routes": [
            {
                "technician_id": r.technician_id,
                "period_start": r.period_start,
                "period_end": r.period_end,
                "travel_min": round(r.travel_min, 1),
                "travel_km": round(r.travel_km, 1),
                "back_at": r.back_at,
                "break_start": r.break_start,
                "break_minutes": r.break_minutes,
                "sla_risk": r.sla_risk,
                "visits": [
                    {
                        "job_id": v.job_id,
                        "start": v.start,
                        "end": v.end,
                        "travel_min": round(v.travel_min, 1),
                        "travel_km": round(v.travel_km, 2),
                        "pinned": v.pinned,
                        "new": not v.existing,
                        "sla_slack_min": round(v.sla_slack_min, 1) if v.sla_slack_min is not None else None,
                    }
                    for v in r.visits
                ],
            }
            for r in plan.routes
        ],
        "unplanned": plan.unplanned,
    }
