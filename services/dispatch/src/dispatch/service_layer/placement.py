"""Placing jobs on technicians' routes: immediate placement of one job (keeping its booked window
when someone fits it), a P1 taking the place of movable visits, the batch route optimisation, and
re-placement after a technician was unassigned (转派)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from dispatch.adapters.repository import Repository
from dispatch.domain.intervals import Interval
from dispatch.domain.model import Appointment, AppointmentStatus, Job, JobStatus, WorkOrder
from dispatch.domain.placement import Placement, customer_window, place_job, place_with_ejection
from dispatch.domain.plan import PlannedVisit, RoutePlan
from dispatch.domain.planner import Budget, plan_routes
from dispatch.service_layer.planning import (
    Planning,
    Routes,
    _claim,
    _commit_visits,
    _guard_plan,
    _guard_visits,
    _reschedule,
    _retime,
    _routes,
    _unassign,
)
from fixflow_shared.events import Envelope
from fixflow_shared.events.contracts import dispatch as ev
from fixflow_shared.uow import UnitOfWork


async def _place(
    uow: UnitOfWork,
    repo: Repository,
    job: Job,
    *,
    planning: Planning,
    now: datetime,
    causation: Envelope | None = None,
    exclude: frozenset[str] | set[str] = frozenset(),
    previous: WorkOrder | None = None,
    new_job: bool = False,
) -> WorkOrder | None:
    """Immediate placement of one job: where it costs least on the routes as they are, keeping its
    booked window if anyone fits it (else the appointment moves: 改约). A P1 that cannot keep its
    SLA may take the place of movable visits, and is otherwise booked as early as it can be.
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
    attempts: list[Interval | None] = [appointment.window] if appointment else []
    attempts.append(None)
    for window in attempts:
        spec = job.spec(window=window)
        routes = await _routes(repo, [spec], now=now, planning=planning, exclude=exclude, skip_jobs={job.id}, near=spec)
        placed = place_job(routes.problem, job.id, planning.distances)
        if placed is None:
            continue
        if job.priority == "P1" and placed.sla_breach:
            bumped = await _place_by_bumping(
                uow, repo, job, planning=planning, now=now, causation=causation, exclude=exclude, previous=previous
            )
            if bumped is not None:
                return bumped
        if appointment is not None and window is None:
            await _move_appointment(uow, repo, routes, appointment, placed, now=now, causation=causation)
        return await _book(
            uow,
            repo,
            job,
            routes,
            placed,
            planning=planning,
            now=now,
            appointment=appointment,
            previous=previous,
            causation=causation,
        )
    if job.priority != "P1":
        return None
    bumped = await _place_by_bumping(
        uow, repo, job, planning=planning, now=now, causation=causation, exclude=exclude, previous=previous
    )
    if bumped is not None:
        return bumped
    # no place keeps the SLA, even freed: the earliest visit there is, late (the SLA escalates in intake)
    spec = job.spec()
    routes = await _routes(repo, [spec], now=now, planning=planning, exclude=exclude, skip_jobs={job.id}, near=spec)
    late = place_job(routes.problem, job.id, planning.distances, late=True)
    if late is None:
        return None
    if appointment is not None:
        await _move_appointment(uow, repo, routes, appointment, late, now=now, causation=causation)
    return await _book(
        uow,
        repo,
        job,
        routes,
        late,
        planning=planning,
        now=now,
        appointment=appointment,
        previous=previous,
        causation=causation,
        late_ok=True,
    )


async def _book(
    uow: UnitOfWork,
    repo: Repository,
    job: Job,
    routes: Routes,
    placed: Placement,
    *,
    planning: Planning,
    now: datetime,
    appointment: Appointment | None = None,
    previous: WorkOrder | None = None,
    causation: Envelope | None = None,
    late_ok: bool = False,
) -> WorkOrder:
    _guard_visits(routes, placed.visits, planning, late_ok=late_ok)
    await _retime(repo, routes, placed.retimed)
    return await _commit_visits(
        uow,
        repo,
        job,
        placed.visits,
        routes.techs,
        now=now,
        planning=planning,
        explanation=placed.explanation,
        appointment=appointment,
        previous=previous,
        causation=causation,
    )


async def _move_appointment(
    uow: UnitOfWork,
    repo: Repository,
    routes: Routes,
    appointment: Appointment,
    placed: Placement,
    *,
    now: datetime,
    causation: Envelope | None,
) -> None:
    """The booked time cannot be kept: move the appointment (改约) around the new visit."""
    v = placed.visits[0]
    minutes = int((appointment.window_end - appointment.window_start).total_seconds() // 60)
    ws, we = customer_window(v.start, not_before=max(now, v.earliest or now), minutes=minutes)
    await _reschedule(
        uow,
        repo,
        appointment,
        Interval(ws, we),
        routes.techs[v.technician_id],
        now=now,
        reason="reassigned: no technician free in the booked window",
        causation=causation,
    )


async def _place_by_bumping(
    uow: UnitOfWork,
    repo: Repository,
    job: Job,
    *,
    planning: Planning,
    now: datetime,
    causation: Envelope | None,
    exclude: frozenset[str] | set[str],
    previous: WorkOrder | None,
) -> WorkOrder | None:
    """A P1 that would breach its SLA (or find no place) may take the place of unconfirmed P3/P4
    visits whose technician has not left yet, moving as few as it can; those jobs are then placed
    again (the customer hears of the new time through appointment.rescheduled)."""
    if any(
        a.status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
        for a in await repo.appointments_of_job(job.id)
    ):
        return None  # keep it simple: only a job without a live booking bumps others
    bumpable = await repo.bumpable(start=now - timedelta(hours=12), end=now + timedelta(days=planning.horizon_days))
    if not bumpable:
        return None
    movable = {wo.job_id: wo for wo in bumpable.values()}
    # the search looks at the nearest qualified technicians and at every qualified one with a visit
    # to take: nobody else's routes can change its answer
    spec = job.spec()
    holders = {wo.technician_id for wo in bumpable.values()}
    routes = await _routes(
        repo, [spec], now=now, planning=planning, exclude=exclude, skip_jobs={job.id}, near=spec, near_too=holders
    )
    placed = place_with_ejection(routes.problem, job.id, planning.distances, set(movable))
    if placed is None or placed.sla_breach or not placed.ejected:
        return None
    for job_id in placed.ejected:
        await _unassign(
            uow,
            repo,
            movable[job_id],
            reason="rebalanced",
            detail=f"making room for P1 ticket {job.ticket_id}",
            now=now,
            causation=causation,
        )
    for job_id in placed.ejected:  # their visits no longer hold the place
        placed.retimed.pop(job_id, None)
    wo = await _book(uow, repo, job, routes, placed, planning=planning, now=now, previous=previous, causation=causation)
    for job_id in placed.ejected:
        bumped_job = await repo.job(job_id, lock=True)
        if bumped_job is not None:
            await _place(
                uow, repo, bumped_job, planning=planning, now=now, causation=causation, previous=movable[job_id]
            )
    return wo


async def optimise(
    *, uow: UnitOfWork, tenant_id: str, planning: Planning, method: str = "routes", seconds: float | None = None
) -> RoutePlan:
    """Batch: plan every open job of the tenant at once (on demand or periodically) on the routes as
    they are; visits already booked keep their technician and window."""
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        await repo.lock_planning()
        open_jobs = {j.id: j for j in await repo.open_jobs() if j.plannable}
        routes = await _routes(repo, [j.spec() for j in open_jobs.values()], now=now, planning=planning)
        budget = Budget(seconds=seconds or planning.optimise_seconds, part_size=planning.part_size)
        if not open_jobs:
            budget = Budget(seconds=0.0, part_size=planning.part_size)
        # the search takes seconds of CPU: keep the event loop serving meanwhile
        plan = await asyncio.to_thread(plan_routes, routes.problem, planning.distances, budget)
        plan.method = method
        _guard_plan(routes, plan, planning)
        by_job = plan.by_job()
        for job_id, job in open_jobs.items():
            if job_id in by_job:
                visits = sorted(by_job[job_id], key=lambda v: v.technician_id)
                plan.explanations[job_id] = _why(plan, visits, routes)
                await _commit_visits(
                    uow,
                    repo,
                    job,
                    visits,
                    routes.techs,
                    now=now,
                    planning=planning,
                    explanation=plan.explanations[job_id],
                )
        await _retime(repo, routes, {j: vs[0].start for j, vs in by_job.items() if j not in open_jobs})
        await uow.commit()
    return plan


def _why(plan: RoutePlan, visits: list[PlannedVisit], routes: Routes) -> str:
    v = visits[0]
    route = next(r for r in plan.routes if r.technician_id == v.technician_id and v in r.visits)
    k = route.visits.index(v)
    tech = routes.techs[v.technician_id]
    parts = [
        f"{tech.name}: visit {k + 1} of {len(route.visits)} on the optimised route",
        f"{v.travel_km:.1f} km ({v.travel_min:.0f} min) from the previous stop",
        f"starts {v.start:%Y-%m-%d %H:%M} UTC",
    ]
    if len(visits) > 1:
        parts.append(f"crew of {len(visits)}")
    if v.sla_slack_min is not None:
        h = abs(v.sla_slack_min) / 60
        parts.append(f"SLA BREACHED by {h:.1f} h" if v.sla_breach else f"SLA met with {h:.1f} h to spare")
    return "; ".join(parts)


async def _reassign_after_unassignment(
    uow: UnitOfWork, repo: Repository, *, envelope: Envelope, payload: ev.TechnicianUnassigned, planning: Planning
) -> WorkOrder | None:
    """Consumer step: a technician declined, is absent or late: find someone else (unless the job
    was placed again already, in the transaction that unassigned it)."""
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
