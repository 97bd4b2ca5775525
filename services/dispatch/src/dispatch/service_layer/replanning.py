"""In-day replanning in the service: after an absence or a delay, the visits that no longer fit
are placed again at once, in the same transaction, moving as few as possible (domain/replanning.py);
the answer says how many moved. Pinned visits (confirmed, en route, on site) never move: one a delay
makes late keeps its technician and place, and its customer is told the new expected time."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dispatch.adapters.repository import Repository
from dispatch.domain.candidates import replan_candidates
from dispatch.domain.intervals import Interval
from dispatch.domain.model import Appointment, AppointmentStatus, Job, WorkOrder
from dispatch.domain.placement import customer_window
from dispatch.domain.plan import PlannedVisit, RoutePlan
from dispatch.domain.replanning import repair
from dispatch.domain.routes import NEAREST
from dispatch.service_layer.planning import (
    Planning,
    Routes,
    _commit_visits,
    _guard_visits,
    _reschedule,
    _retime,
    _routes,
    _unassign,
    _window,
)
from fixflow_shared.events import Envelope
from fixflow_shared.events.contracts import dispatch as ev
from fixflow_shared.uow import UnitOfWork


@dataclass
class Replanned:
    moved: int = 0  # visits that changed technician or window
    unplaced: dict[str, str] = field(default_factory=dict)  # job id -> why it waits for a dispatcher
    retimed: int = 0  # visits that kept their place and window, new start inside it
    late: dict[str, float] = field(default_factory=dict)  # pinned visits kept late (job id -> minutes)
    elapsed_ms: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "moved": self.moved,
            "unplaced": self.unplaced,
            "retimed": self.retimed,
            "late": {j: round(m) for j, m in self.late.items()},
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


async def _replan(
    uow: UnitOfWork,
    repo: Repository,
    jobs: list[Job],
    *,
    previous: dict[str, WorkOrder],
    now: datetime,
    planning: Planning,
    reason: str,
    exclude: frozenset[str] | set[str] = frozenset(),
    blocked: dict[str, Interval] | None = None,
    pinned: frozenset[str] | set[str] = frozenset(),
    causation: Envelope | None = None,
) -> Replanned:
    """Place `jobs` (just unassigned) again, and every planned visit that no longer fits where it
    was (a technician `blocked` for a while), keeping booked windows when anyone can."""
    live: dict[str, Appointment | None] = {}
    for job in jobs:
        appts = [
            a
            for a in await repo.appointments_of_job(job.id)
            if a.status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
        ]
        live[job.id] = appts[-1] if appts else None
    specs = [j.spec(window=a.window if (a := live[j.id]) is not None else None) for j in jobs if j.plannable]
    bumpable = await repo.bumpable(start=now, end=now + timedelta(days=planning.horizon_days))
    movable = frozenset(wo.job_id for wo in bumpable.values())
    holders = frozenset(wo.technician_id for wo in bumpable.values())
    # only the technicians the repair looks at are built (domain/candidates.py): those whose visits
    # no longer fit (`blocked`), and each job's nearest qualified ones (a P1's: with movable visits
    # too). The jobs it then searched a place for (visits that no longer fit, visits a P1 took the
    # place of) may need others: those are added and the repair runs again, until nobody is missing.
    profiles = [p for p in await repo.technician_profiles() if p.id not in exclude]
    among = set(blocked or {}) | replan_candidates(specs, profiles, planning.distances, NEAREST, holders=holders)
    while True:
        routes = await _routes(
            repo,
            specs,
            now=now,
            planning=planning,
            exclude=exclude,
            skip_jobs={j.id for j in jobs},
            blocked=blocked,
            pinned=pinned,
            among=among,
        )
        rep = await asyncio.to_thread(repair, routes.problem, planning.distances, movable=movable)
        known = {x.id: x for x in (*routes.problem.jobs, *(v.job for v in routes.problem.visits))}
        searched = [known[j] for j in sorted(rep.searched) if j in known]
        wanted = among | replan_candidates(searched, profiles, planning.distances, NEAREST, holders=holders)
        if wanted <= among:
            break
        among = wanted
    out = Replanned(moved=rep.moved, unplaced=rep.unplaced, elapsed_ms=rep.elapsed_s * 1000)
    by_id = {j.id: j for j in jobs}
    for job_id, visits in rep.placed.items():
        _guard_visits(routes, visits, planning, late_ok=True)
        found = by_id.get(job_id) or await repo.job(job_id, lock=True)
        assert found is not None
        job = found
        appointment = live.get(job_id) or routes.appointments.get(job_id)
        await _move(
            uow,
            repo,
            routes,
            job,
            visits,
            appointment=appointment,
            rebooked=job_id in rep.rebooked,
            previous=previous.get(job_id),
            now=now,
            planning=planning,
            reason=reason,
            causation=causation,
        )
    out.retimed = await _retime(repo, routes, rep.retimed)
    if rep.late and rep.plan is not None:
        out.late = await _late(uow, repo, routes, rep.plan, rep.late, now=now, causation=causation)
    return out


async def _late(
    uow: UnitOfWork,
    repo: Repository,
    routes: Routes,
    plan: RoutePlan,
    late: dict[str, float],
    *,
    now: datetime,
    causation: Envelope | None,
) -> dict[str, float]:
    """Pinned visits a delay made late stay with their technician: their work orders take the new
    times and the customer is told the new expected time (technician.delayed, as for the visit the
    delay was reported on; notify sends it)."""
    got = {(v.job_id, v.technician_id): v for v in plan.visits}
    out = {}
    for job_id, minutes in late.items():
        appt = routes.appointments.get(job_id)
        for wo in routes.work_orders.get(job_id, []):
            v = got.get((job_id, wo.technician_id))
            tech = routes.techs.get(wo.technician_id)
            if v is None or tech is None:
                continue
            wo.planned_start, wo.planned_end, wo.travel_min = v.start, v.end, v.travel_min
            await repo.save_work_order(wo)
            out[job_id] = minutes
            uow.emit(
                ev.TechnicianDelayed(
                    ticket_id=wo.ticket_id,
                    tenant_id=wo.tenant_id,
                    job_id=job_id,
                    work_order_id=wo.id,
                    technician_id=tech.id,
                    technician_name=tech.name,
                    technician_phone=tech.phone,
                    window=_window(appt.window_start, appt.window_end) if appt else None,
                    new_eta=v.start,
                    delay_minutes=max(1, round(minutes)),
                    sla_at_risk=v.sla_at_risk or bool(appt and v.start > appt.window_end),
                    reported_at=now,
                ),
                subject=wo.ticket_id,
                tenant=wo.tenant_id,
                causation=causation,
            )
    return out


async def _move(
    uow: UnitOfWork,
    repo: Repository,
    routes: Routes,
    job: Job,
    visits: list[PlannedVisit],
    *,
    appointment: Appointment | None,
    rebooked: bool,
    previous: WorkOrder | None,
    now: datetime,
    planning: Planning,
    reason: str,
    causation: Envelope | None,
) -> None:
    """Book a visit the repair moved: the same technician keeps their work order (new times), another
    one gets a new work order (转派); a changed window moves the appointment (改约)."""
    appt = appointment
    v = visits[0]
    tech = routes.techs[v.technician_id]
    if appt is not None and (rebooked or not appt.window_start <= v.start <= appt.window_end):
        minutes = int((appt.window_end - appt.window_start).total_seconds() // 60)
        ws, we = customer_window(v.start, not_before=max(now, v.earliest or now), minutes=minutes)
        await _reschedule(
            uow, repo, appt, Interval(ws, we), tech, now=now, reason=f"replanned: {reason}", causation=causation
        )
    current = [w for w in routes.work_orders.get(job.id, []) if w.status.value in ("assigned", "en_route")]
    same = [w for w in current if w.technician_id == v.technician_id]
    if same and len(visits) == 1 and len(current) == 1:
        wo = same[0]
        wo.planned_start, wo.planned_end, wo.travel_min = v.start, v.end, v.travel_min
        await repo.save_work_order(wo)
        return
    for w in current:
        await _unassign(uow, repo, w, reason="rebalanced", detail=f"replanned: {reason}", now=now, causation=causation)
    await _commit_visits(
        uow,
        repo,
        job,
        visits,
        routes.techs,
        now=now,
        planning=planning,
        explanation=f"replanned ({reason}): {tech.name} starts {v.start:%Y-%m-%d %H:%M} UTC",
        appointment=appt,
        previous=previous or (current[0] if current else None),
        causation=causation,
    )
