"""Use cases: load, ask the domain (and the optimiser), save with the events in one unit of work.

Public handlers are use cases: each is handed an unopened unit of work (`uow=runtime.uow()`), opens
it and commits it (docs/adr/0010-where-a-unit-of-work-opens.md). Those that consume an event claim
it in the inbox in that same unit of work, so the claim, the state change and the events commit
together. The `_`-prefixed steps run inside the unit of work their caller opened.
"""

from __future__ import annotations

import asyncio
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dispatch.adapters.repository import Repository
from dispatch.domain import commands
from dispatch.domain.distance import DistanceMatrix, HaversineMatrix
from dispatch.domain.exceptions import IllegalTransition, NoTechnicianAvailable, NotFound, RuleViolation
from dispatch.domain.model import (
    Absence,
    Appointment,
    AppointmentStatus,
    Certification,
    Job,
    JobStatus,
    PartsRequest,
    Technician,
    WorkOrder,
    WorkOrderStatus,
    check_future_window,
    new_id,
)
from dispatch.domain.optimiser import Assignment, Interval, Plan, Problem, solve, violations
from fixflow_shared.events import Envelope
from fixflow_shared.events.contracts import dispatch as ev
from fixflow_shared.events.contracts import intake as iev
from fixflow_shared.uow import UnitOfWork

ON_SITE_KINDS = ("installation", "maintenance")  # on site by nature, even before triage
PRIORITY_SLA_HOURS = {"P1": 8, "P2": 24, "P3": 48, "P4": 72}


@dataclass(frozen=True)
class Planning:
    slot_minutes: int = 90
    horizon_days: int = 7
    distances: DistanceMatrix = field(default_factory=HaversineMatrix)
    offer_count: int = 5


def _window(start: datetime, end: datetime) -> ev.TimeWindow:
    return ev.TimeWindow(start=start, end=end)


# --- technicians, skills, calendars -----------------------------------------------------------------


async def add_skill(*, uow: UnitOfWork, tenant_id: str, code: str, name: str) -> bool:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        created = await Repository(uow.session, tenant_id, uow.clock).add_skill(code, name)
        await uow.commit()
    return created


async def _check_skills(repo: Repository, skills: dict[str, int]) -> None:
    unknown = sorted(set(skills) - await repo.skill_codes())
    if unknown:
        raise RuleViolation(f"unknown skill(s): {', '.join(unknown)}; register them under /v1/skills first")


async def register_technician(*, uow: UnitOfWork, cmd: commands.RegisterTechnician) -> Technician:
    t = Technician(
        id=new_id("TECH"),
        tenant_id=cmd.tenant_id,
        name=cmd.name,
        phone=cmd.phone,
        home_lat=cmd.home_lat,
        home_lon=cmd.home_lon,
        skills=dict(cmd.skills),
        regions=list(cmd.regions),
        hours=cmd.hours,
        max_jobs_per_day=cmd.max_jobs_per_day,
        van_stock=dict(cmd.van_stock),
        team_id=cmd.team_id,
    )
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = Repository(uow.session, cmd.tenant_id, uow.clock)
        await _check_skills(repo, t.skills)
        await repo.add_technician(t)
        await uow.commit()
    return t


async def update_technician(
    *, uow: UnitOfWork, tenant_id: str, technician_id: str, changes: dict[str, Any]
) -> Technician:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        t = await repo.technician(technician_id, lock=True)
        if t is None:
            raise NotFound("technician", technician_id)
        if "skills" in changes:
            await _check_skills(repo, changes["skills"])
        for k, v in changes.items():
            setattr(t, k, v)
        await repo.save_technician(t)
        await uow.commit()
    return t


async def add_certification(
    *, uow: UnitOfWork, tenant_id: str, technician_id: str, name: str, valid_until: datetime, number: str | None
) -> Certification:
    if valid_until <= uow.clock.now():
        raise RuleViolation("the certification has already expired")
    c = Certification(id=new_id("CERT"), name=name, valid_until=valid_until, number=number)
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        if await repo.technician(technician_id) is None:
            raise NotFound("technician", technician_id)
        await repo.add_certification(technician_id, c)
        await uow.commit()
    return c


async def add_absence(*, uow: UnitOfWork, cmd: commands.AddAbsence) -> tuple[Absence, list[str]]:
    """Record an absence; work orders it touches are unassigned (the reassignment consumer re-plans)."""
    now = uow.clock.now()
    if cmd.end <= cmd.start:
        raise RuleViolation("an absence must end after it starts")
    if cmd.end <= now:
        raise RuleViolation("the absence is entirely in the past")
    a = Absence(id=new_id("ABS"), start=cmd.start, end=cmd.end, reason=cmd.reason)
    affected: list[str] = []
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = Repository(uow.session, cmd.tenant_id, uow.clock)
        await repo.lock_planning()
        tech = await repo.technician(cmd.technician_id, lock=True)
        if tech is None:
            raise NotFound("technician", cmd.technician_id)
        await repo.add_absence(tech.id, a)
        for wo in await repo.assigned_work_orders_of(tech.id, lock=True):
            planned = Interval(
                wo.planned_start or now, wo.planned_end or (wo.planned_start or now) + timedelta(minutes=1)
            )
            if planned.overlaps(a.interval):
                await _unassign(uow, repo, wo, reason="absent", detail=cmd.reason, now=now)
                affected.append(wo.id)
        await uow.commit()
    return a, affected


# --- planning ----------------------------------------------------------------------------------------------


async def _problem(
    repo: Repository,
    job_specs: list[Any],
    *,
    now: datetime,
    planning: Planning,
    exclude: AbstractSet[str] = frozenset(),
    only: set[str] | None = None,
    ignore_appointment: str | None = None,
    horizon_days: float | None = None,
    bumpable: dict[str, WorkOrder] | None = None,
) -> tuple[Problem, dict[str, Technician]]:
    """The planning problem now: technicians' availability minus bookings and load.

    `bumpable` (appointment id -> its work order) are bookings treated as free, for a P1 that may
    take their place."""
    end = now + timedelta(days=horizon_days or planning.horizon_days)
    techs = [
        t
        for t in await repo.technicians(absences_after=now)
        if t.active and t.id not in exclude and (only is None or t.id in only)
    ]
    busy: dict[str, list[Interval]] = {}
    for a in await repo.live_appointments(start=now, end=end):
        if a.id != ignore_appointment and not (bumpable and a.id in bumpable):
            busy.setdefault(a.technician_id, []).append(a.window)
    load = await repo.load_by_day(start=now - timedelta(days=1), end=end)
    for wo in (bumpable or {}).values():
        if wo.planned_start is not None:
            day = wo.planned_start.astimezone(UTC).date()
            if load.get(wo.technician_id, {}).get(day):
                load[wo.technician_id][day] -= 1
    specs = tuple(t.spec(start=now, end=end, busy=busy.get(t.id, []), load_by_day=load.get(t.id, {})) for t in techs)
    return Problem(jobs=tuple(job_specs), technicians=specs, now=now, slot_minutes=planning.slot_minutes), {
        t.id: t for t in techs
    }


async def _commit_assignment(
    uow: UnitOfWork,
    repo: Repository,
    job: Job,
    a: Assignment,
    tech: Technician,
    *,
    now: datetime,
    appointment: Appointment | None = None,
    previous: WorkOrder | None = None,
    causation: Envelope | None = None,
) -> WorkOrder:
    """Persist one planned visit: work order (+ appointment) and the events notify and intake need."""
    window = appointment.window if appointment else Interval(a.slot_start, a.slot_end)
    if appointment is None:
        appointment = Appointment(
            id=new_id("APT"),
            tenant_id=job.tenant_id,
            job_id=job.id,
            ticket_id=job.ticket_id,
            technician_id=tech.id,
            window_start=window.start,
            window_end=window.end,
            visit_number=job.visits + 1,
        )
        await repo.add_appointment(appointment)
        new_appointment = True
    else:
        new_appointment = False
        if appointment.technician_id != tech.id:
            appointment.technician_id = tech.id
            await repo.save_appointment(appointment)
    wo = WorkOrder(
        id=new_id("WO"),
        tenant_id=job.tenant_id,
        job_id=job.id,
        ticket_id=job.ticket_id,
        technician_id=tech.id,
        visit_number=appointment.visit_number,
        appointment_id=appointment.id,
        planned_start=a.service_start,
        planned_end=a.service_end,
        travel_min=a.travel_min,
        explanation=a.explanation.summary,
    )
    await repo.add_work_order(wo)
    job.status = JobStatus.ASSIGNED
    job.visits = max(job.visits, appointment.visit_number)
    await repo.save_job(job)
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
            explanation=a.explanation.summary,
            assigned_at=now,
            team_id=tech.team_id,
        ),
        subject=job.ticket_id,
        tenant=job.tenant_id,
        causation=causation,
    )
    if new_appointment:
        uow.emit(
            ev.AppointmentBooked(
                ticket_id=job.ticket_id,
                tenant_id=job.tenant_id,
                appointment_id=appointment.id,
                job_id=job.id,
                technician_id=tech.id,
                technician_name=tech.name,
                technician_phone=tech.phone,
                window=_window(window.start, window.end),
                visit_number=appointment.visit_number,
                booked_at=now,
            ),
            subject=job.ticket_id,
            tenant=job.tenant_id,
            causation=causation,
        )
    return wo


async def _place(
    uow: UnitOfWork,
    repo: Repository,
    job: Job,
    *,
    planning: Planning,
    now: datetime,
    causation: Envelope | None = None,
    exclude: AbstractSet[str] = frozenset(),
    previous: WorkOrder | None = None,  # type: ignore[assignment]
    new_job: bool = False,
) -> WorkOrder | None:
    """Immediate placement of one job: keep its booked window if someone fits, else the best slot.
    `new_job`: inserted in this transaction, so it has no appointment to read."""
    if not job.plannable:
        return None
    await repo.lock_planning()
    live = (
        []
        if new_job
        else [
            a
            for a in await repo.appointments_of_job(job.id)
            if a.status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
        ]
    )
    appointment = live[-1] if live else None
    # Keep the booked window if anyone fits it; else the best slot, looking two days ahead first
    # (cheap, and where the best slot almost always is) and then over the whole horizon.
    attempts: list[tuple[Interval | None, float | None]] = [(appointment.window, None)] if appointment else []
    attempts += [(None, min(2.0, planning.horizon_days)), (None, None)]
    for window, horizon in attempts:
        problem, techs = await _problem(
            repo,
            [job.spec(window=window)],
            now=now,
            planning=planning,
            exclude=exclude,
            ignore_appointment=appointment.id if appointment else None,
            horizon_days=horizon,
        )
        plan = solve(problem, method="exact", distances=planning.distances)
        _guard(problem, plan, planning)
        if not plan.assignments:
            continue
        a = plan.assignments[0]
        if appointment is not None and window is None:
            # the booked time cannot be kept: move the appointment (改约) and tell the customer
            old = appointment.window
            appointment.window_start, appointment.window_end = a.slot_start, a.slot_end
            appointment.status = AppointmentStatus.BOOKED
            appointment.reason = "reassigned: no technician free in the booked window"
            appointment.technician_id = a.technician_id
            await repo.save_appointment(appointment)
            tech = techs[a.technician_id]
            uow.emit(
                ev.AppointmentRescheduled(
                    ticket_id=job.ticket_id,
                    tenant_id=job.tenant_id,
                    appointment_id=appointment.id,
                    job_id=job.id,
                    technician_id=tech.id,
                    technician_name=tech.name,
                    technician_phone=tech.phone,
                    previous_window=_window(old.start, old.end),
                    window=_window(a.slot_start, a.slot_end),
                    reason=appointment.reason,
                    visit_number=appointment.visit_number,
                    rescheduled_at=now,
                ),
                subject=job.ticket_id,
                tenant=job.tenant_id,
                causation=causation,
            )
        if job.priority == "P1" and a.sla_breach:
            bumped = await _place_by_bumping(
                uow, repo, job, planning=planning, now=now, causation=causation, exclude=exclude, previous=previous
            )
            if bumped is not None:
                return bumped
        return await _commit_assignment(
            uow,
            repo,
            job,
            a,
            techs[a.technician_id],
            now=now,
            appointment=appointment,
            previous=previous,
            causation=causation,
        )
    if job.priority == "P1":
        return await _place_by_bumping(
            uow, repo, job, planning=planning, now=now, causation=causation, exclude=exclude, previous=previous
        )
    return None


async def _place_by_bumping(
    uow: UnitOfWork,
    repo: Repository,
    job: Job,
    *,
    planning: Planning,
    now: datetime,
    causation: Envelope | None,
    exclude: AbstractSet[str],
    previous: WorkOrder | None,
) -> WorkOrder | None:
    """A P1 that would breach its SLA (or find no slot) may take the place of unconfirmed P3/P4
    visits whose technician has not left yet; those jobs are then placed again (the customer hears
    of the new time through appointment.rescheduled)."""
    if any(
        a.status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
        for a in await repo.appointments_of_job(job.id)
    ):
        return None  # keep it simple: only a job without a live booking bumps others
    # a booked visit whose technician has not set off may be bumped even if its window has begun
    bumpable = await repo.bumpable(start=now - timedelta(hours=12), end=now + timedelta(days=planning.horizon_days))
    if not bumpable:
        return None
    problem, techs = await _problem(repo, [job.spec()], now=now, planning=planning, exclude=exclude, bumpable=bumpable)
    plan = solve(problem, method="exact", distances=planning.distances)
    _guard(problem, plan, planning)
    if not plan.assignments or plan.assignments[0].sla_breach:
        return None
    a = plan.assignments[0]
    slot = Interval(a.slot_start, a.slot_end)
    day = a.slot_start.astimezone(UTC).date()
    tech = techs[a.technician_id]
    mine = [(appt_id, wo) for appt_id, wo in bumpable.items() if wo.technician_id == tech.id]
    victims = [
        (i, w) for i, w in mine if (appt := await repo.appointment(i)) is not None and appt.window.overlaps(slot)
    ]
    load = (await repo.load_by_day(start=now - timedelta(days=1), end=now + timedelta(days=planning.horizon_days))).get(
        tech.id, {}
    )
    same_day = [
        (i, w)
        for i, w in mine
        if w.planned_start and w.planned_start.astimezone(UTC).date() == day and (i, w) not in victims
    ]
    while load.get(day, 0) - len(victims) + 1 > tech.max_jobs_per_day and same_day:
        victims.append(same_day.pop())
    for _, wo in victims:
        await _unassign(
            uow,
            repo,
            wo,
            reason="rebalanced",
            detail=f"making room for P1 ticket {job.ticket_id}",
            now=now,
            causation=causation,
        )
    placed = await _commit_assignment(uow, repo, job, a, tech, now=now, previous=previous, causation=causation)
    for _, wo in victims:
        bumped_job = await repo.job(wo.job_id, lock=True)
        if bumped_job is not None:
            await _place(
                uow, repo, bumped_job, planning=planning, now=now, causation=causation, exclude=set(), previous=wo
            )
    return placed


def _guard(problem: Problem, plan: Plan, planning: Planning) -> None:
    """Belt and braces: never persist a plan that breaks a hard constraint."""
    bad = violations(problem, plan, planning.distances)
    if bad:
        raise RuntimeError("optimiser produced an infeasible plan: " + "; ".join(bad[:3]))


async def optimise(*, uow: UnitOfWork, tenant_id: str, planning: Planning, method: str = "fast") -> Plan:
    """Batch: plan every open job of the tenant at once (on demand or periodically)."""
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        await repo.lock_planning()
        open_jobs = {j.id: j for j in await repo.open_jobs() if j.plannable}
        problem, techs = await _problem(repo, [j.spec() for j in open_jobs.values()], now=now, planning=planning)
        # a big batch takes a fraction of a second of CPU: keep the event loop serving meanwhile
        plan = await asyncio.to_thread(solve, problem, method=method, distances=planning.distances)  # type: ignore[arg-type]
        _guard(problem, plan, planning)
        for a in plan.assignments:
            await _commit_assignment(uow, repo, open_jobs[a.job_id], a, techs[a.technician_id], now=now)
        await uow.commit()
    return plan


# --- jobs from intake ---------------------------------------------------------------------------------------------


TicketFacts = iev.TicketOpened | iev.TicketTriaged  # what a job is made (and refined) from


def _job_fields(payload: TicketFacts, opened_at: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {}
    site = payload.site
    if site is not None and site.lat is not None and site.lon is not None:
        out["lat"], out["lon"] = site.lat, site.lon
    if payload.priority:
        out["priority"] = payload.priority
    sla = payload.sla
    due = (sla.on_site_arrival_due or sla.resolution_due) if sla else None
    if due is not None:
        out["sla_deadline"] = due
    elif "priority" in out:
        out["sla_deadline"] = opened_at + timedelta(hours=PRIORITY_SLA_HOURS[out["priority"]])
    if isinstance(payload, iev.TicketTriaged):  # triage decides skills and duration
        if payload.required_skills:
            out["required_skills"] = {s: 1 for s in payload.required_skills}
        if payload.estimated_minutes:
            out["duration_min"] = max(15, min(int(payload.estimated_minutes), 480))
    rw = payload.requested_window
    if rw is not None:
        out["requested_start"], out["requested_end"] = rw.start, rw.end
        out["earliest"] = rw.start
    return out


async def _job_from_ticket(
    uow: UnitOfWork, repo: Repository, *, envelope: Envelope, payload: TicketFacts, planning: Planning
) -> Job | None:
    """ticket.opened / ticket.triaged: create (or refine) the ticket's job when the path is on site.
    A return within its window gets a pickup request to logistics instead (see _request_pickup)."""
    path = payload.path
    kind = payload.kind
    if kind == "return":
        await _request_pickup(uow, repo, envelope=envelope, payload=payload)
    if path is not None and path != "on_site":
        # triaged (again) as remote or send-in: a visit planned earlier is no longer needed
        existing = await repo.job_for_ticket(payload.ticket_id)
        if existing is not None and existing.status in (
            JobStatus.INCOMPLETE,
            JobStatus.OPEN,
            JobStatus.ASSIGNED,
            JobStatus.AWAITING_CONSENT,
        ):
            await _cancel_job_for_ticket(
                uow, repo, envelope=envelope, ticket_id=payload.ticket_id, detail=f"triaged {path}"
            )
        return None
    if path is None and kind not in ON_SITE_KINDS:
        return None  # a repair waits for triage to decide between remote and on-site
    awaiting = needs_consent(payload)
    now = uow.clock.now()
    opened_at = payload.opened_at if isinstance(payload, iev.TicketOpened) else payload.triaged_at
    fields = _job_fields(payload, opened_at)
    await repo.lock_planning()  # always before row locks: one lock order, no deadlocks
    job = await repo.job_for_ticket(payload.ticket_id, lock=True)
    created = False
    if job is None:
        job = Job(
            id=new_id("JOB"),
            tenant_id=envelope.tenantid,
            ticket_id=payload.ticket_id,
            kind=kind,
            status=JobStatus.INCOMPLETE,
            created_at=now,
        )
        for k, v in fields.items():
            setattr(job, k, v)
        if job.sla_deadline is None:
            job.sla_deadline = opened_at + timedelta(hours=PRIORITY_SLA_HOURS[job.priority])
        job.status = JobStatus.AWAITING_CONSENT if awaiting else _ready(job)
        created = await repo.add_job(job)
        uow.joins_ticket_trace(job.id)  # no event names a job before its booking
        if not created:  # a concurrent event created it first
            job = await repo.job_for_ticket(payload.ticket_id, lock=True)
            assert job is not None
    else:
        reopened = _round(payload) > 1 and job.status in (JobStatus.DONE, JobStatus.CANCELLED)
        if reopened:
            job.status = JobStatus.OPEN  # the ticket was reopened and triaged again: a new visit
            job.earliest = None
        if job.status in (JobStatus.INCOMPLETE, JobStatus.OPEN, JobStatus.AWAITING_CONSENT):
            for k, v in fields.items():
                setattr(job, k, v)
            if reopened and "sla_deadline" not in fields:
                job.sla_deadline = now + timedelta(hours=PRIORITY_SLA_HOURS[job.priority])
            if job.status != JobStatus.AWAITING_CONSENT:
                job.status = _ready(job)
            await repo.save_job(job)
    if job.plannable:
        await _place(uow, repo, job, planning=planning, now=now, causation=envelope, new_job=created)
    return job


PICKUP_PREFIX = "PU-"


def pickup_request_id(ticket_id: str) -> str:
    """One pickup per return ticket: the id follows from the ticket (replays and the opened/triaged
    pair find the same row)."""
    return PICKUP_PREFIX + ticket_id


async def _request_pickup(
    uow: UnitOfWork, repo: Repository, *, envelope: Envelope, payload: TicketFacts
) -> PartsRequest | None:
    """A return (退换货) accepted by intake's return-window decision: ask logistics to collect the
    item and bring it to the warehouse. Kept as a parts request without job or work order (status
    requested -> picked -> delivered), so logistics answers on the same shipments topic."""
    warranty = payload.warranty if isinstance(payload, iev.TicketOpened) else None
    status = payload.warranty_status or (warranty.status if warranty else None)
    if status != "return_window_open":
        return None  # not returnable / unknown: an agent decides, nothing is collected
    pr_id = pickup_request_id(payload.ticket_id)
    if await repo.parts_request(pr_id) is not None:
        return None
    pr = PartsRequest(
        id=pr_id, tenant_id=envelope.tenantid, ticket_id=payload.ticket_id, job_id=None, work_order_id=None, parts=[]
    )
    await repo.add_parts_request(pr)
    site = payload.site
    uow.emit(
        ev.PickupRequestSubmitted(
            ticket_id=payload.ticket_id,
            tenant_id=envelope.tenantid,
            pickup_request_id=pr_id,
            customer_id=payload.customer_id,
            asset_id=payload.asset_id,
            product_model=payload.product_model,
            serial=payload.serial if isinstance(payload, iev.TicketOpened) else None,
            site=site.model_dump(mode="json") if site is not None else None,
            return_window_ends_on=(
                warranty.return_window_ends_on.isoformat()
                if warranty is not None and warranty.return_window_ends_on
                else None
            ),
            requested_at=uow.clock.now(),
        ),
        subject=payload.ticket_id,
        tenant=envelope.tenantid,
        causation=envelope,
    )
    return pr


def _ready(job: Job) -> JobStatus:
    return JobStatus.OPEN if job.lat is not None else JobStatus.INCOMPLETE


def _round(payload: TicketFacts) -> int:
    """1 on opening, 2.. after each reopen (triage counts the rounds)."""
    return payload.round if isinstance(payload, iev.TicketTriaged) else 1


def needs_consent(payload: TicketFacts) -> bool:
    """An out-of-warranty repair is paid work: the customer accepts the quote before a visit is
    booked (plan and consent come before dispatch). A reopened ticket (round > 1) is rework and
    does not ask again."""
    return payload.kind == "repair" and payload.warranty_status == "out_of_warranty" and _round(payload) == 1


async def _quote_decided(
    uow: UnitOfWork, repo: Repository, *, envelope: Envelope, ticket_id: str, accepted: bool, planning: Planning
) -> Job | None:
    """billing's quote.accepted releases a job waiting for consent (and places it at once);
    quote.rejected cancels it. A job in any other state is left alone (a quote for extra work
    found on site, a replay)."""
    await repo.lock_planning()
    job = await repo.job_for_ticket(ticket_id, lock=True)
    if job is None or job.status != JobStatus.AWAITING_CONSENT:
        return job
    if not accepted:
        await _cancel_job_for_ticket(uow, repo, envelope=envelope, ticket_id=ticket_id, detail="quote rejected")
        return job
    job.status = _ready(job)
    await repo.save_job(job)
    if job.plannable:
        await _place(uow, repo, job, planning=planning, now=uow.clock.now(), causation=envelope)
    return job


async def _cancel_job_for_ticket(
    uow: UnitOfWork, repo: Repository, *, envelope: Envelope, ticket_id: str, detail: str = "ticket cancelled"
) -> None:
    """The ticket was cancelled, or resolved without us (remote fix): drop the job and its visit."""
    await repo.lock_planning()
    job = await repo.job_for_ticket(ticket_id, lock=True)
    if job is None or job.status in (JobStatus.DONE, JobStatus.CANCELLED):
        return
    now = uow.clock.now()
    wo = await repo.active_work_order_of_job(job.id, lock=True)
    if wo is not None and wo.status != WorkOrderStatus.ON_SITE:
        await _unassign(uow, repo, wo, reason="cancelled", detail=detail, now=now, causation=envelope)
    for a in await repo.appointments_of_job(job.id):
        if a.status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
            a.cancel("ticket_cancelled")
            await repo.save_appointment(a)
            uow.emit(
                ev.AppointmentCancelled(
                    ticket_id=job.ticket_id,
                    tenant_id=job.tenant_id,
                    appointment_id=a.id,
                    job_id=job.id,
                    window=_window(a.window_start, a.window_end),
                    reason="ticket_cancelled",
                    detail=detail,
                    cancelled_at=now,
                ),
                subject=job.ticket_id,
                tenant=job.tenant_id,
                causation=envelope,
            )
    job.status = JobStatus.CANCELLED
    await repo.save_job(job)


async def update_job(
    *, uow: UnitOfWork, tenant_id: str, job_id: str, changes: dict[str, Any], planning: Planning
) -> Job:
    """A dispatcher completes or corrects a job (location, skills, duration); an open job is then placed."""
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        await repo.lock_planning()
        job = await repo.job(job_id, lock=True)
        if job is None:
            raise NotFound("job", job_id)
        if job.status not in (JobStatus.INCOMPLETE, JobStatus.OPEN):
            raise IllegalTransition("job", job.status, "edited")
        if "required_skills" in changes:
            await _check_skills(repo, changes["required_skills"])
        for k, v in changes.items():
            setattr(job, k, v)
        job.status = JobStatus.OPEN if job.lat is not None else JobStatus.INCOMPLETE
        await repo.save_job(job)
        if job.plannable:
            await _place(uow, repo, job, planning=planning, now=uow.clock.now())
        await uow.commit()
    return job


# --- appointments ----------------------------------------------------------------------------------------------------


async def offer_windows(*, uow: UnitOfWork, tenant_id: str, job_id: str, planning: Planning) -> list[dict[str, Any]]:
    """Bookable windows for a job from real calendars, bookings and travel time (best first)."""
    from dispatch.domain.optimiser import compile_problem

    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        job = await repo.job(job_id)
        if job is None:
            raise NotFound("job", job_id)
        if job.lat is None:
            raise RuleViolation("the job has no location yet")
        problem, techs = await _problem(repo, [job.spec()], now=now, planning=planning)
    c = compile_problem(problem, planning.distances)
    if c.shape[1] == 0:
        return []
    cols, costs = range(c.shape[1]), c.dense()[0]
    order = sorted((float(costs[s]), s) for s in cols if costs[s] < float("inf"))
    seen: set[float] = set()
    offers = []
    for cost, s in order:
        start = float(c.slot_start[s])
        if start in seen:
            continue
        seen.add(start)
        t = problem.technicians[int(c.slot_tech[s])]
        offers.append(
            {
                "start": datetime.fromtimestamp(start * 60, UTC),
                "end": datetime.fromtimestamp(float(c.slot_end[s]) * 60, UTC),
                "technician_id": t.id,
                "technician_name": t.name,
                "score": round(cost, 1),
            }
        )
        if len(offers) >= planning.offer_count:
            break
    return sorted(offers, key=lambda o: o["start"])


async def book_appointment(
    *, uow: UnitOfWork, cmd: commands.BookAppointment, planning: Planning
) -> tuple[Appointment, WorkOrder]:
    now = uow.clock.now()
    window = Interval(cmd.start, cmd.end)
    check_future_window(window, now)
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = Repository(uow.session, cmd.tenant_id, uow.clock)
        await repo.lock_planning()
        job = await repo.job(cmd.job_id, lock=True)
        if job is None:
            raise NotFound("job", cmd.job_id)
        if job.status != JobStatus.OPEN:
            raise IllegalTransition("job", job.status, "booked")
        if cmd.technician_id is not None and await repo.technician(cmd.technician_id) is None:
            raise NotFound("technician", cmd.technician_id)
        problem, techs = await _problem(
            repo,
            [job.spec(window=window)],
            now=now,
            planning=planning,
            only={cmd.technician_id} if cmd.technician_id else None,
        )
        plan = solve(problem, method="exact", distances=planning.distances)
        _guard(problem, plan, planning)
        if not plan.assignments:
            raise NoTechnicianAvailable(
                "no qualified technician is free in that window; ask /offers for bookable windows"
            )
        a = plan.assignments[0]
        appt = Appointment(
            id=new_id("APT"),
            tenant_id=job.tenant_id,
            job_id=job.id,
            ticket_id=job.ticket_id,
            technician_id=a.technician_id,
            window_start=window.start,
            window_end=window.end,
            visit_number=job.visits + 1,
        )
        await repo.add_appointment(appt)
        tech = techs[a.technician_id]
        wo = await _commit_assignment(uow, repo, job, a, tech, now=now, appointment=appt)
        uow.emit(
            ev.AppointmentBooked(
                ticket_id=job.ticket_id,
                tenant_id=job.tenant_id,
                appointment_id=appt.id,
                job_id=job.id,
                technician_id=tech.id,
                technician_name=tech.name,
                technician_phone=tech.phone,
                window=_window(window.start, window.end),
                visit_number=appt.visit_number,
                booked_at=now,
            ),
            subject=job.ticket_id,
            tenant=job.tenant_id,
        )
        await uow.commit()
    return appt, wo


async def confirm_appointment(*, uow: UnitOfWork, tenant_id: str, appointment_id: str) -> Appointment:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        a = await repo.appointment(appointment_id, lock=True)
        if a is None:
            raise NotFound("appointment", appointment_id)
        a.confirm()
        await repo.save_appointment(a)
        uow.emit(
            ev.AppointmentConfirmed(
                ticket_id=a.ticket_id,
                tenant_id=tenant_id,
                appointment_id=a.id,
                window=_window(a.window_start, a.window_end),
                confirmed_at=uow.clock.now(),
            ),
            subject=a.ticket_id,
            tenant=tenant_id,
        )
        await uow.commit()
    return a


async def reschedule_appointment(
    *,
    uow: UnitOfWork,
    tenant_id: str,
    appointment_id: str,
    start: datetime,
    end: datetime,
    reason: str,
    planning: Planning,
    technician_id: str | None = None,
) -> Appointment:
    """改约: the same technician if they fit the new window, else whoever fits (转派); with
    `technician_id`, that technician or nobody (the board's drag and drop)."""
    now = uow.clock.now()
    window = Interval(start, end)
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        await repo.lock_planning()
        a = await repo.appointment(appointment_id, lock=True)
        if a is None:
            raise NotFound("appointment", appointment_id)
        job = await repo.job(a.job_id, lock=True)
        assert job is not None
        previous_window = a.reschedule(window, now=now, reason=reason)
        wo = await repo.active_work_order_of_job(job.id, lock=True)
        if wo is not None and wo.status != WorkOrderStatus.ASSIGNED:
            raise IllegalTransition("work order", wo.status, "rescheduled")
        plan = None
        if technician_id is not None and await repo.technician(technician_id) is None:
            raise NotFound("technician", technician_id)
        for only in ({technician_id},) if technician_id else ({a.technician_id}, None):
            problem, techs = await _problem(
                repo, [job.spec(window=window)], now=now, planning=planning, only=only, ignore_appointment=a.id
            )
            plan = solve(problem, method="exact", distances=planning.distances)
            _guard(problem, plan, planning)
            if plan.assignments:
                break
        if plan is None or not plan.assignments:
            raise NoTechnicianAvailable(
                "no qualified technician is free in the new window; ask /offers for bookable windows"
            )
        asg = plan.assignments[0]
        tech = techs[asg.technician_id]
        if wo is not None:
            if wo.technician_id == tech.id:
                wo.planned_start, wo.planned_end = asg.service_start, asg.service_end
                wo.travel_min, wo.explanation = asg.travel_min, asg.explanation.summary
                await repo.save_work_order(wo)
            else:
                await _unassign(
                    uow,
                    repo,
                    wo,
                    reason="rebalanced",
                    detail="rescheduled to a window the technician cannot make",
                    now=now,
                )
                wo = None
        a.technician_id = tech.id
        await repo.save_appointment(a)
        uow.emit(
            ev.AppointmentRescheduled(
                ticket_id=a.ticket_id,
                tenant_id=tenant_id,
                appointment_id=a.id,
                job_id=a.job_id,
                technician_id=tech.id,
                technician_name=tech.name,
                technician_phone=tech.phone,
                previous_window=_window(previous_window.start, previous_window.end),
                window=_window(window.start, window.end),
                reason=reason,
                visit_number=a.visit_number,
                rescheduled_at=now,
            ),
            subject=a.ticket_id,
            tenant=tenant_id,
        )
        if wo is None:
            await _commit_assignment(uow, repo, job, asg, tech, now=now, appointment=a)
        await uow.commit()
    return a


async def cancel_appointment(
    *, uow: UnitOfWork, tenant_id: str, appointment_id: str, reason: str, detail: str | None
) -> Appointment:
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        await repo.lock_planning()
        a = await repo.appointment(appointment_id, lock=True)
        if a is None:
            raise NotFound("appointment", appointment_id)
        a.cancel(reason)
        await repo.save_appointment(a)
        job = await repo.job(a.job_id, lock=True)
        assert job is not None
        wo = await repo.active_work_order_of_job(job.id, lock=True)
        if wo is not None:
            if wo.status == WorkOrderStatus.ON_SITE:
                raise IllegalTransition("work order", wo.status, "cancelled")
            wo.unassign("cancelled", now)
            await repo.save_work_order(wo)
            uow.emit(
                ev.TechnicianUnassigned(
                    ticket_id=job.ticket_id,
                    tenant_id=tenant_id,
                    job_id=job.id,
                    work_order_id=wo.id,
                    technician_id=wo.technician_id,
                    reason="cancelled",
                    detail=detail,
                    unassigned_at=now,
                ),
                subject=job.ticket_id,
                tenant=tenant_id,
            )
        if job.visits == a.visit_number:
            job.visits -= 1  # the visit never happened: the next booking keeps its number
        if job.status == JobStatus.ASSIGNED:
            job.status = JobStatus.OPEN  # waits for a new booking; the batch optimiser may plan it
        await repo.save_job(job)
        uow.emit(
            ev.AppointmentCancelled(
                ticket_id=a.ticket_id,
                tenant_id=tenant_id,
                appointment_id=a.id,
                job_id=a.job_id,
                window=_window(a.window_start, a.window_end),
                reason=reason,
                detail=detail,
                cancelled_at=now,  # type: ignore[arg-type]
            ),
            subject=a.ticket_id,
            tenant=tenant_id,
        )
        await uow.commit()
    return a


# --- reassignment (转派) -------------------------------------------------------------------------------------------------


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
    wo.unassign(reason, now)
    await repo.save_work_order(wo)
    job = await repo.job(wo.job_id, lock=True)
    assert job is not None
    if job.status == JobStatus.ASSIGNED:
        job.status = JobStatus.OPEN
        await repo.save_job(job)
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


async def _reassign_after_unassignment(
    uow: UnitOfWork, repo: Repository, *, envelope: Envelope, payload: ev.TechnicianUnassigned, planning: Planning
) -> WorkOrder | None:
    """Consumer step: a technician declined, is absent or late: find someone else."""
    if payload.reason not in ("absent", "declined", "delayed"):
        return None
    await repo.lock_planning()
    job = await repo.job(payload.job_id, lock=True)
    if job is None or job.status != JobStatus.OPEN:
        return None
    previous = await repo.work_order(payload.work_order_id)
    return await _place(
        uow,
        repo,
        job,
        planning=planning,
        now=uow.clock.now(),
        causation=envelope,
        exclude={payload.technician_id},
        previous=previous,
    )


# --- work orders (technician app) --------------------------------------------------------------------------------------------


async def _wo_for(repo: Repository, work_order_id: str) -> WorkOrder:
    wo = await repo.work_order(work_order_id, lock=True)
    if wo is None:
        raise NotFound("work order", work_order_id)
    return wo


async def decline(*, uow: UnitOfWork, tenant_id: str, work_order_id: str, reason: str | None) -> WorkOrder:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        await repo.lock_planning()
        wo = await _wo_for(repo, work_order_id)
        if wo.status != WorkOrderStatus.ASSIGNED:
            raise IllegalTransition("work order", wo.status, "declined")
        await _unassign(uow, repo, wo, reason="declined", detail=reason, now=uow.clock.now())
        await uow.commit()
    return wo


async def en_route(*, uow: UnitOfWork, tenant_id: str, work_order_id: str) -> WorkOrder:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        wo = await _wo_for(repo, work_order_id)
        wo.en_route(uow.clock.now())
        await repo.save_work_order(wo)
        await uow.commit()
    return wo


async def report_delay(
    *, uow: UnitOfWork, tenant_id: str, work_order_id: str, minutes: int, planning: Planning
) -> tuple[WorkOrder, bool]:
    """Late on the road: tell the customer; if the SLA (or the booked window) is lost, reassign."""
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        await repo.lock_planning()
        wo = await _wo_for(repo, work_order_id)
        if wo.status not in (WorkOrderStatus.ASSIGNED, WorkOrderStatus.EN_ROUTE):
            raise IllegalTransition("work order", wo.status, "delayed")
        job = await repo.job(wo.job_id, lock=True)
        tech = await repo.technician(wo.technician_id)
        assert job is not None and tech is not None
        appt = await repo.appointment(wo.appointment_id) if wo.appointment_id else None
        base = max(now, wo.planned_start or now)
        eta = base + timedelta(minutes=minutes)
        finish = eta + timedelta(minutes=job.duration_min)
        at_risk = bool(job.sla_deadline and finish > job.sla_deadline) or bool(appt and eta > appt.window_end)
        uow.emit(
            ev.TechnicianDelayed(
                ticket_id=wo.ticket_id,
                tenant_id=tenant_id,
                job_id=job.id,
                work_order_id=wo.id,
                technician_id=tech.id,
                technician_name=tech.name,
                technician_phone=tech.phone,
                window=_window(appt.window_start, appt.window_end) if appt else None,
                new_eta=eta,
                delay_minutes=minutes,
                sla_at_risk=at_risk,
                reported_at=now,
            ),
            subject=wo.ticket_id,
            tenant=tenant_id,
        )
        if at_risk:
            await _unassign(uow, repo, wo, reason="delayed", detail=f"{minutes} min late", now=now)
        else:
            wo.planned_start = eta
            wo.planned_end = finish
            await repo.save_work_order(wo)
        await uow.commit()
    return wo, at_risk


async def arrive(
    *, uow: UnitOfWork, tenant_id: str, work_order_id: str, lat: float | None, lon: float | None
) -> WorkOrder:
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        await repo.lock_planning()
        wo = await _wo_for(repo, work_order_id)
        appt = await repo.appointment(wo.appointment_id) if wo.appointment_id else None
        if appt is not None:
            wo.planned_start, wo.planned_end = appt.window_start, appt.window_end
        on_time = wo.arrive(now, lat, lon)
        await repo.save_work_order(wo)
        found = await repo.set_job_status(wo.job_id, JobStatus.IN_PROGRESS)
        assert found
        uow.emit(
            ev.VisitStarted(
                ticket_id=wo.ticket_id,
                tenant_id=tenant_id,
                work_order_id=wo.id,
                technician_id=wo.technician_id,
                visit_number=wo.visit_number,
                arrived_at=now,
                on_time=on_time,
            ),
            subject=wo.ticket_id,
            tenant=tenant_id,
        )
        await uow.commit()
    return wo


async def record_work(*, uow: UnitOfWork, cmd: commands.RecordWork) -> WorkOrder:
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = Repository(uow.session, cmd.tenant_id, uow.clock)
        await repo.lock_planning()
        wo = await _wo_for(repo, cmd.work_order_id)
        wo.record(diagnosis=cmd.diagnosis, parts=cmd.parts, labour_minutes=cmd.labour_minutes, photos=cmd.photos)
        van = [p for p in cmd.parts if p.source == "van_stock"]
        if van:
            tech = await repo.technician(wo.technician_id, lock=True)
            assert tech is not None
            for p in van:
                tech.take_from_van(p.part_code, p.quantity)
            await repo.save_technician(tech)
        await repo.save_work_order(wo)
        await uow.commit()
    return wo


def _part_lines(parts: list[Any]) -> list[ev.PartLine]:
    return [ev.PartLine(part_code=p.part_code, quantity=p.quantity, source=p.source) for p in parts]


async def complete(*, uow: UnitOfWork, cmd: commands.CompleteWorkOrder) -> WorkOrder:
    now = uow.clock.now()
    if cmd.signed_at > now + timedelta(minutes=5):
        raise RuleViolation("the sign-off time is in the future")
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = Repository(uow.session, cmd.tenant_id, uow.clock)
        await repo.lock_planning()
        wo = await _wo_for(repo, cmd.work_order_id)
        sign_off: dict[str, object] = {
            "signed_by": cmd.signed_by,
            "signed_at": cmd.signed_at.isoformat(),
            "signature_sha256": cmd.signature_sha256,
        }
        wo.complete(resolution_code=cmd.resolution_code, sign_off=sign_off, rating=cmd.rating, at=now, facts=cmd.facts)
        await repo.save_work_order(wo)
        tech = await repo.technician(wo.technician_id)
        found = await repo.set_job_status(wo.job_id, JobStatus.DONE)
        assert found
        if wo.appointment_id:
            await repo.finish_appointment(wo.appointment_id)  # if booked or confirmed
        uow.emit(
            ev.WorkOrderCompleted(
                ticket_id=wo.ticket_id,
                tenant_id=cmd.tenant_id,
                work_order_id=wo.id,
                job_id=wo.job_id,
                technician_id=wo.technician_id,
                visit_number=wo.visit_number,
                parts_used=_part_lines(wo.parts_used),
                labour_minutes=wo.labour_minutes,
                resolution_code=cmd.resolution_code,
                diagnosis=wo.diagnosis,
                sign_off=ev.CustomerSignOff(
                    signed_by=cmd.signed_by,
                    signed_at=cmd.signed_at,
                    signature_sha256=cmd.signature_sha256,
                    rating=cmd.rating,
                ),
                first_time_fix=wo.visit_number == 1,
                completed_at=now,
                work_type=cmd.facts.work_type,  # type: ignore[arg-type]  # checked by CompletionFacts
                fault_origin=cmd.facts.fault_origin,  # type: ignore[arg-type]
                fault_cause=cmd.facts.fault_cause,
                adjustments=cmd.facts.adjustments,
                freight=cmd.facts.freight,
                internal=cmd.facts.internal,
                team_id=tech.team_id if tech is not None else None,
            ),
            subject=wo.ticket_id,
            tenant=cmd.tenant_id,
        )
        await uow.commit()
    return wo


async def fail(
    *, uow: UnitOfWork, cmd: commands.FailWorkOrder, planning: Planning
) -> tuple[WorkOrder, PartsRequest | None]:
    """Needs parts (request them, wait for the shipment), customer absent (re-book), escalated (team lead)."""
    now = uow.clock.now()
    outcome = WorkOrderStatus(cmd.outcome)
    if outcome == WorkOrderStatus.NEEDS_PARTS and not cmd.parts_needed:
        raise RuleViolation("name the parts needed")
    request: PartsRequest | None = None
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = Repository(uow.session, cmd.tenant_id, uow.clock)
        await repo.lock_planning()
        wo = await _wo_for(repo, cmd.work_order_id)
        wo.fail(outcome, note=cmd.note, at=now)
        await repo.save_work_order(wo)
        job = await repo.job(wo.job_id, lock=True)
        assert job is not None
        if wo.appointment_id:
            appt = await repo.appointment(wo.appointment_id, lock=True)
            if appt is not None and appt.status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
                appt.status = AppointmentStatus.DONE
                await repo.save_appointment(appt)
        uow.emit(
            ev.WorkOrderFailed(
                ticket_id=wo.ticket_id,
                tenant_id=cmd.tenant_id,
                work_order_id=wo.id,
                job_id=job.id,
                technician_id=wo.technician_id,
                visit_number=wo.visit_number,
                outcome=cmd.outcome,
                reason=cmd.note,
                labour_minutes=wo.labour_minutes,  # type: ignore[arg-type]
                parts_used=_part_lines(wo.parts_used),
                follow_up_needed=outcome != WorkOrderStatus.ESCALATED,
                failed_at=now,
            ),
            subject=wo.ticket_id,
            tenant=cmd.tenant_id,
        )
        if outcome == WorkOrderStatus.NEEDS_PARTS:
            request = PartsRequest(
                id=new_id("PR"),
                tenant_id=cmd.tenant_id,
                ticket_id=wo.ticket_id,
                job_id=job.id,
                work_order_id=wo.id,
                parts=list(cmd.parts_needed),
            )
            await repo.add_parts_request(request)
            job.status = JobStatus.WAITING_PARTS
            lines = [
                ev.PartLine(part_code=p.part_code, quantity=p.quantity, source="warehouse") for p in cmd.parts_needed
            ]
            uow.emit(
                ev.PartsRequested(
                    ticket_id=wo.ticket_id,
                    tenant_id=cmd.tenant_id,
                    parts_request_id=request.id,
                    work_order_id=wo.id,
                    parts=lines,
                    requested_at=now,
                ),
                subject=wo.ticket_id,
                tenant=cmd.tenant_id,
            )
            uow.emit(
                ev.PartsRequestSubmitted(
                    ticket_id=wo.ticket_id,
                    tenant_id=cmd.tenant_id,
                    parts_request_id=request.id,
                    parts=lines,
                    technician_id=wo.technician_id,
                    needed_by=job.sla_deadline,
                    requested_at=now,
                ),
                subject=wo.ticket_id,
                tenant=cmd.tenant_id,
            )
            await repo.save_job(job)
        elif outcome == WorkOrderStatus.CUSTOMER_ABSENT:
            # note left; the next visit is booked at once, from two hours on
            job.status = JobStatus.OPEN
            job.earliest = now + timedelta(hours=2)
            await repo.save_job(job)
            await _place(uow, repo, job, planning=planning, now=now)
        else:
            job.status = JobStatus.OPEN  # escalated: the team lead decides; the batch optimiser may re-plan
            await repo.save_job(job)
        await uow.commit()
    return wo, request


async def _shipment_updated(
    uow: UnitOfWork, repo: Repository, *, envelope: Envelope, payload: ev.ShipmentUpdated, planning: Planning
) -> None:
    """Logistics answered a parts request: record the ETA; once shipped, book the follow-up visit."""
    await repo.lock_planning()
    pr = await repo.parts_request(payload.parts_request_id, lock=True)
    if pr is None:
        return  # not ours (or another tenant's): nothing to do
    if pr.id.startswith(PICKUP_PREFIX):  # a return on its way to the warehouse
        first_delivery = payload.status == "delivered" and pr.status != "delivered"
        pr.status, pr.shipment_id, pr.eta = payload.status, payload.shipment_id, payload.eta
        await repo.save_parts_request(pr)
        if first_delivery:
            uow.emit(
                ev.ReturnReceived(
                    ticket_id=pr.ticket_id,
                    tenant_id=pr.tenant_id,
                    pickup_request_id=pr.id,
                    shipment_id=payload.shipment_id,
                    carrier=payload.carrier,
                    received_at=payload.updated_at,
                ),
                subject=pr.ticket_id,
                tenant=pr.tenant_id,
                causation=envelope,
            )
        return
    pr.status, pr.shipment_id, pr.eta = payload.status, payload.shipment_id, payload.eta
    await repo.save_parts_request(pr)
    if payload.status not in ("shipped", "delivered"):
        return
    job = await repo.job(pr.job_id, lock=True) if pr.job_id else None
    if job is None or job.status != JobStatus.WAITING_PARTS:
        return
    now = uow.clock.now()
    job.status = JobStatus.OPEN
    job.earliest = max(now, payload.eta or now)
    await repo.save_job(job)
    await _place(uow, repo, job, planning=planning, now=now, causation=envelope)


# --- consumed events: each claims its event in the inbox and applies it in one unit of work ---------------------------


async def _claim(uow: UnitOfWork, consumer: str, envelope: Envelope) -> Repository | None:
    """In the open unit of work: scope it to the event's tenant and claim the event for `consumer`;
    None when it was applied before (a replay does nothing)."""
    await uow.scope_to_tenant(envelope.tenantid)
    if not await uow.claim(consumer, envelope):
        return None
    return Repository(uow.session, envelope.tenantid, uow.clock)


async def job_from_ticket(
    *, uow: UnitOfWork, consumer: str, envelope: Envelope, payload: TicketFacts, planning: Planning
) -> Job | None:
    """ticket.opened / ticket.triaged: create, refine or drop the ticket's job (see _job_from_ticket)."""
    async with uow:
        if (repo := await _claim(uow, consumer, envelope)) is None:
            return None
        job = await _job_from_ticket(uow, repo, envelope=envelope, payload=payload, planning=planning)
        await uow.commit()
    return job


async def quote_decided(
    *, uow: UnitOfWork, consumer: str, envelope: Envelope, ticket_id: str, accepted: bool, planning: Planning
) -> Job | None:
    """billing's quote.accepted / quote.rejected (see _quote_decided)."""
    async with uow:
        if (repo := await _claim(uow, consumer, envelope)) is None:
            return None
        job = await _quote_decided(
            uow, repo, envelope=envelope, ticket_id=ticket_id, accepted=accepted, planning=planning
        )
        await uow.commit()
    return job


async def cancel_job_for_ticket(
    *, uow: UnitOfWork, consumer: str, envelope: Envelope, ticket_id: str, detail: str = "ticket cancelled"
) -> None:
    """ticket.cancelled, or ticket.resolved without a visit (see _cancel_job_for_ticket)."""
    async with uow:
        if (repo := await _claim(uow, consumer, envelope)) is None:
            return
        await _cancel_job_for_ticket(uow, repo, envelope=envelope, ticket_id=ticket_id, detail=detail)
        await uow.commit()


async def reassign_after_unassignment(
    *, uow: UnitOfWork, consumer: str, envelope: Envelope, payload: ev.TechnicianUnassigned, planning: Planning
) -> WorkOrder | None:
    """dispatch's own technician.unassigned: place the job with someone else (see _reassign_after_unassignment)."""
    async with uow:
        if (repo := await _claim(uow, consumer, envelope)) is None:
            return None
        wo = await _reassign_after_unassignment(uow, repo, envelope=envelope, payload=payload, planning=planning)
        await uow.commit()
    return wo


async def shipment_updated(
    *, uow: UnitOfWork, consumer: str, envelope: Envelope, payload: ev.ShipmentUpdated, planning: Planning
) -> None:
    """logistics' shipment.updated: the ETA of requested parts or of a return (see _shipment_updated)."""
    async with uow:
        if (repo := await _claim(uow, consumer, envelope)) is None:
            return
        await _shipment_updated(uow, repo, envelope=envelope, payload=payload, planning=planning)
        await uow.commit()
