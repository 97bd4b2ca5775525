"""Planning steps shared by the features: the planning settings, the routes as the planner sees
them (technicians, the visits already on their routes, the jobs to place), persisting a planned
visit, moving one, unassigning a work order, claiming a consumed event.

The `_`-prefixed functions are steps: they run inside the unit of work their caller opened
(docs/adr/0010-where-a-unit-of-work-opens.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dispatch.adapters.repository import Repository
from dispatch.domain.candidates import may_do, nearest_qualified
from dispatch.domain.distance import DistanceMatrix, HaversineMatrix
from dispatch.domain.eligibility import parts_ready
from dispatch.domain.intervals import Interval
from dispatch.domain.model import (
    Absence,
    Appointment,
    AppointmentStatus,
    Job,
    JobStatus,
    Technician,
    WorkOrder,
    WorkOrderStatus,
    new_id,
)
from dispatch.domain.placement import customer_window
from dispatch.domain.plan import PlannedVisit, RoutePlan
from dispatch.domain.route_check import violations, visit_violations
from dispatch.domain.routes import NEAREST
from dispatch.domain.specs import JobSpec, PartsPolicy, Problem, VisitSpec
from fixflow_shared.events import Envelope
from fixflow_shared.events.contracts import dispatch as ev
from fixflow_shared.uow import UnitOfWork


@dataclass(frozen=True)
class Planning:
    horizon_days: int = 7
    distances: DistanceMatrix = field(default_factory=HaversineMatrix)
    offer_count: int = 5
    customer_notice_hours: float = 2.0  # a customer moves or cancels a visit until this long before it
    window_minutes: int = 120  # the arrival window a customer is given
    optimise_seconds: float = 10.0  # the batch optimisation's time budget
    part_size: int = 40  # technicians per routing part
    parts: PartsPolicy = field(default_factory=PartsPolicy)


def _window(start: datetime, end: datetime) -> ev.TimeWindow:
    return ev.TimeWindow(start=start, end=end)


@dataclass
class Routes:
    """The planning problem now, and what maps its answers back to rows."""

    problem: Problem
    techs: dict[str, Technician]
    work_orders: dict[str, list[WorkOrder]]  # job id -> its live work orders (a crew: several)
    appointments: dict[str, Appointment]  # job id -> the live appointment of that visit


async def _routes(
    repo: Repository,
    jobs: list[JobSpec],
    *,
    now: datetime,
    planning: Planning,
    exclude: frozenset[str] | set[str] = frozenset(),
    only: set[str] | None = None,
    skip_jobs: frozenset[str] | set[str] = frozenset(),
    blocked: dict[str, Interval] | None = None,
    pinned: frozenset[str] | set[str] = frozenset(),
    near: JobSpec | None = None,
    near_too: frozenset[str] | set[str] = frozenset(),
    among: set[str] | None = None,
) -> Routes:
    """The technicians (minus `exclude`, or only `only`) with the visits already on their routes
    (minus those of `skip_jobs`), and `jobs` to place. `blocked` makes a technician unavailable for
    a while (a delay), as an absence would; `pinned` work orders keep their start (a visit the
    technician is committed to). `near`: one job is placed (by cheapest insertion), so only the
    technicians its placement looks at are built, with their visits alone (domain/candidates.py):
    the same place as with everyone's routes, without building 300 technicians' weeks for one job.
    `near_too`: technicians qualified for it who are looked at as well (whose visits a P1 may take).
    `among`: only these technicians and their visits (a repair's candidates)."""
    end = now + timedelta(days=planning.horizon_days)
    tech_ids: list[str] | None = None if among is None else sorted(among)
    if near is not None:
        # who the job may go to, from light rows: only they are loaded and their weeks worked out
        profiles = [
            p for p in await repo.technician_profiles() if p.id not in exclude and (only is None or p.id in only)
        ]
        keep = set(nearest_qualified(near, profiles, planning.distances, NEAREST))
        keep |= {p.id for p in profiles if p.id in near_too and may_do(near, p)}
        tech_ids = sorted(keep)
    techs = [
        t
        for t in await repo.technicians(tech_ids, absences_after=now)
        if t.active and t.id not in exclude and (only is None or t.id in only)
    ]
    for t in techs:
        if blocked and t.id in blocked:
            b = blocked[t.id]
            t.absences = [*t.absences, Absence("blocked", b.start, b.end, "delayed")]
    by_id = {t.id: t for t in techs}
    wos = [
        w
        for w in await repo.live_work_orders(start=now - timedelta(days=1), end=end, technician_ids=tech_ids)
        if w.job_id not in skip_jobs
    ]
    rows = await repo.jobs_by_id(sorted({w.job_id for w in wos}))
    appts = await repo.appointments_by_id(sorted({w.appointment_id for w in wos if w.appointment_id}))
    work_orders: dict[str, list[WorkOrder]] = {}
    appointments: dict[str, Appointment] = {}
    visits = []
    for w in wos:
        job = rows.get(w.job_id)
        work_orders.setdefault(w.job_id, []).append(w)
        appt = appts.get(w.appointment_id or "")
        if appt is not None:
            appointments[w.job_id] = appt
        if w.technician_id not in by_id or job is None or job.lat is None or w.planned_start is None:
            continue
        window = appt.window if appt is not None else None
        fixed = (
            w.id in pinned
            or w.status in (WorkOrderStatus.EN_ROUTE, WorkOrderStatus.ON_SITE)
            or (appt is not None and appt.status == AppointmentStatus.CONFIRMED)
            or job.crew_size > 1
        )
        under_way = w.status in (WorkOrderStatus.EN_ROUTE, WorkOrderStatus.ON_SITE)
        visits.append(VisitSpec(job.spec(window=window), w.technician_id, w.planned_start, fixed, under_way))
    problem = Problem(
        jobs=tuple(jobs),
        technicians=tuple(t.spec(start=now, end=end) for t in techs),
        now=now,
        horizon_end=end,
        visits=tuple(visits),
        parts=planning.parts,
    )
    return Routes(problem, by_id, work_orders, appointments)


def _guard_plan(routes: Routes, plan: RoutePlan, planning: Planning) -> None:
    """Belt and braces: never persist a plan that breaks a hard constraint."""
    bad = violations(routes.problem, plan, planning.distances)
    if bad:
        raise RuntimeError("the planner produced an infeasible plan: " + "; ".join(bad[:3]))


def _guard_visits(routes: Routes, visits: list[PlannedVisit], planning: Planning, *, late_ok: bool = False) -> None:
    bad = visit_violations(routes.problem, visits, late_ok=late_ok)
    if bad:
        raise RuntimeError("the planner produced an infeasible visit: " + "; ".join(bad[:3]))


def _not_before(job: Job, tech: Technician, now: datetime, planning: Planning) -> datetime:
    """A visit's window opens no earlier than the job may start with this technician (a second
    visit after an absent customer, the parts): a window opening before is a broken promise."""
    ready = parts_ready(job.spec(), tech.spec(start=now, end=now + timedelta(minutes=1)), now, planning.parts)
    return max(now, job.earliest or now, ready)


async def _commit_visits(
    uow: UnitOfWork,
    repo: Repository,
    job: Job,
    visits: list[PlannedVisit],
    techs: dict[str, Technician],
    *,
    now: datetime,
    planning: Planning,
    explanation: str,
    appointment: Appointment | None = None,
    previous: WorkOrder | None = None,
    causation: Envelope | None = None,
) -> WorkOrder:
    """Persist one planned visit: its appointment (kept or new) and a work order per technician (a
    crew: the lead first), with the events notify and intake need. Returns the lead's work order."""
    lead = techs[visits[0].technician_id]
    if appointment is not None:
        window = appointment.window
        new_appointment = False
        if appointment.technician_id != lead.id:
            appointment.technician_id = lead.id
            await repo.save_appointment(appointment)
    else:
        if job.requested is not None and job.requested.start <= visits[0].start <= job.requested.end:
            window = job.requested
        else:
            ws, we = customer_window(
                visits[0].start, not_before=_not_before(job, lead, now, planning), minutes=planning.window_minutes
            )
            window = Interval(ws, we)
        appointment = Appointment(
            id=new_id("APT"),
            tenant_id=job.tenant_id,
            job_id=job.id,
            ticket_id=job.ticket_id,
            technician_id=lead.id,
            window_start=window.start,
            window_end=window.end,
            visit_number=job.visits + 1,
        )
        await repo.add_appointment(appointment)
        new_appointment = True
    orders = []
    for v in visits:
        tech = techs[v.technician_id]
        wo = WorkOrder(
            id=new_id("WO"),
            tenant_id=job.tenant_id,
            job_id=job.id,
            ticket_id=job.ticket_id,
            technician_id=tech.id,
            visit_number=appointment.visit_number,
            appointment_id=appointment.id,
            planned_start=v.start,
            planned_end=v.end,
            travel_min=v.travel_min,
            explanation=explanation,
        )
        await repo.add_work_order(wo)
        orders.append(wo)
        uow.emit(
            ev.TechnicianAssigned(
                ticket_id=job.ticket_id,
                tenant_id=job.tenant_id,
                job_id=job.id,
                work_order_id=wo.id,
                technician_id=tech.id,
                technician_name=tech.name,
                technician_phone=tech.phone,
                window=_window(window.start, window.end),
                visit_number=wo.visit_number,
                reassignment=previous is not None,
                previous_technician_id=previous.technician_id if previous else None,
                explanation=explanation,
                assigned_at=now,
                team_id=tech.team_id,
            ),
            subject=job.ticket_id,
            tenant=job.tenant_id,
            causation=causation,
        )
    job.status = JobStatus.ASSIGNED
    job.visits = max(job.visits, appointment.visit_number)
    await repo.save_job(job)
    if new_appointment:
        uow.emit(
            ev.AppointmentBooked(
                ticket_id=job.ticket_id,
                tenant_id=job.tenant_id,
                appointment_id=appointment.id,
                job_id=job.id,
                technician_id=lead.id,
                technician_name=lead.name,
                technician_phone=lead.phone,
                window=_window(window.start, window.end),
                visit_number=appointment.visit_number,
                booked_at=now,
            ),
            subject=job.ticket_id,
            tenant=job.tenant_id,
            causation=causation,
        )
    return orders[0]


async def _retime(repo: Repository, routes: Routes, starts: dict[str, datetime]) -> int:
    """Visits that keep their technician and window but start at another time (inside the window):
    their work orders' planned times follow, nobody is told."""
    n = 0
    for job_id, start in starts.items():
        for wo in routes.work_orders.get(job_id, []):
            if wo.planned_start is None or wo.planned_end is None or wo.planned_start == start:
                continue
            wo.planned_end = start + (wo.planned_end - wo.planned_start)
            wo.planned_start = start
            await repo.save_work_order(wo)
            n += 1
    return n


async def _reschedule(
    uow: UnitOfWork,
    repo: Repository,
    appointment: Appointment,
    window: Interval,
    tech: Technician,
    *,
    now: datetime,
    reason: str,
    causation: Envelope | None = None,
) -> None:
    """Move an appointment to a new window (改约) and tell the customer."""
    old = appointment.window
    appointment.window_start, appointment.window_end = window.start, window.end
    appointment.status = AppointmentStatus.BOOKED
    appointment.reason = reason
    appointment.technician_id = tech.id
    await repo.save_appointment(appointment)
    uow.emit(
        ev.AppointmentRescheduled(
            ticket_id=appointment.ticket_id,
            tenant_id=appointment.tenant_id,
            appointment_id=appointment.id,
            job_id=appointment.job_id,
            technician_id=tech.id,
            technician_name=tech.name,
            technician_phone=tech.phone,
            previous_window=_window(old.start, old.end),
            window=_window(window.start, window.end),
            reason=reason,
            visit_number=appointment.visit_number,
            rescheduled_at=now,
        ),
        subject=appointment.ticket_id,
        tenant=appointment.tenant_id,
        causation=causation,
    )


async def _unassign(
    uow: UnitOfWork,
    repo: Repository,
    wo: WorkOrder,
    *,
    reason: str,
    detail: str | None,
    now: datetime,
    causation: Envelope | None = None,
) -> None:
    """Take the visit off the technician (and, for a crew, off every member: a crew is planned
    again as a whole); the job is open again."""
    job = await repo.job(wo.job_id, lock=True)
    assert job is not None
    crew = [w for w in await repo.active_work_orders_of_job(job.id, lock=True) if w.id != wo.id]
    for w in [wo, *(crew if job.crew_size > 1 else [])]:
        await _unassign_one(uow, repo, w, reason=reason, detail=detail, now=now, causation=causation)
    if job.status == JobStatus.ASSIGNED:
        job.status = JobStatus.OPEN
        await repo.save_job(job)


async def _unassign_one(
    uow: UnitOfWork,
    repo: Repository,
    wo: WorkOrder,
    *,
    reason: str,
    detail: str | None,
    now: datetime,
    causation: Envelope | None,
) -> None:
    wo.unassign(reason, now)
    await repo.save_work_order(wo)
    uow.emit(
        ev.TechnicianUnassigned(
            ticket_id=wo.ticket_id,
            tenant_id=wo.tenant_id,
            job_id=wo.job_id,
            work_order_id=wo.id,
            technician_id=wo.technician_id,
            reason=reason,
            detail=detail,
            unassigned_at=now,  # type: ignore[arg-type]
        ),
        subject=wo.ticket_id,
        tenant=wo.tenant_id,
        causation=causation,
    )


async def _claim(uow: UnitOfWork, consumer: str, envelope: Envelope) -> Repository | None:
    """In the open unit of work: scope it to the event's tenant and claim the event for `consumer`;
    None when it was applied before (a replay does nothing)."""
    await uow.scope_to_tenant(envelope.tenantid)
    if not await uow.claim(consumer, envelope):
        return None
    return Repository(uow.session, envelope.tenantid, uow.clock)
