"""Use cases behind the dispatcher board: the rule check of one (job, technician, window) before a
drag and drop is committed, and the reason a named technician was refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from dispatch.adapters.repository import Repository
from dispatch.domain.exceptions import NotFound, RuleViolation
from dispatch.domain.fit import Booking, Check, fit_checks, refusal
from dispatch.domain.intervals import Interval
from dispatch.domain.model import AppointmentStatus, JobStatus, WorkOrderStatus
from dispatch.domain.placement import place_job
from dispatch.domain.specs import Problem
from dispatch.service_layer.planning import Planning, _routes
from fixflow_shared.uow import UnitOfWork


async def check_fit(
    *,
    uow: UnitOfWork,
    tenant_id: str,
    job_id: str,
    technician_id: str,
    start: datetime,
    end: datetime,
    planning: Planning,
    appointment_id: str | None = None,
) -> dict[str, Any]:
    """Each hard rule for booking the job (or moving its appointment) to this technician and window,
    then the route planner's own verdict for the pair (the visit inserted into the technician's
    route as it is); nothing is written."""
    now = uow.clock.now()
    if end <= start:
        raise RuleViolation("the window must end after it starts")
    window = Interval(start, end)
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        job = await repo.job(job_id)
        if job is None:
            raise NotFound("job", job_id)
        tech = await repo.technician(technician_id)
        if tech is None:
            raise NotFound("technician", technician_id)
        checks: list[Check] = []
        moving = None
        if appointment_id is not None:
            moving = await repo.appointment(appointment_id)
            if moving is None or moving.job_id != job.id:
                raise NotFound("appointment", appointment_id)
            wo = await repo.active_work_order_of_job(job.id)
            if moving.status not in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
                checks.append(Check("status", False, f"the appointment is {moving.status.value}"))
            elif wo is not None and wo.status != WorkOrderStatus.ASSIGNED:
                checks.append(Check("status", False, f"the technician is already {wo.status.value.replace('_', ' ')}"))
            else:
                checks.append(Check("status", True, f"appointment {moving.status.value}"))
        elif job.status != JobStatus.OPEN:
            reason = {
                JobStatus.AWAITING_CONSENT: "waits for the customer's consent to the quote",
                JobStatus.INCOMPLETE: "has no location yet",
                JobStatus.WAITING_PARTS: "waits for parts",
            }.get(job.status, f"is {job.status.value.replace('_', ' ')}")
            checks.append(Check("status", False, f"the job {reason}"))
        else:
            checks.append(Check("status", True, "open, waiting for a booking"))
        if job.lat is None or job.lon is None:
            checks.append(Check("travel", False, "the job has no location yet"))
            return _answer(job_id, tech.id, tech.name, window, checks)
        horizon = Interval(start - timedelta(days=1), end + timedelta(days=1))
        bookings = [
            Booking(a.window, a.ticket_id)
            for a in await repo.live_appointments(start=horizon.start, end=horizon.end)
            if a.technician_id == tech.id and a.id != appointment_id
        ]
        load = dict((await repo.load_by_day(start=horizon.start, end=horizon.end)).get(tech.id, {}))
        if moving is not None and moving.technician_id == tech.id:
            day = moving.window_start.astimezone(UTC).date()
            if load.get(day):
                load[day] -= 1  # the visit being moved is counted in its own day
        here = np.array([[job.lat, job.lon]])
        base = np.array([[tech.home_lat, tech.home_lon]])
        travel_min = float(planning.distances.travel_minutes(here, base)[0, 0])
        travel_km = float(planning.distances.distance_km(here, base)[0, 0])
        checks += fit_checks(
            job,
            tech,
            window,
            now=now,
            bookings=bookings,
            load_by_day=load,
            travel_min=travel_min,
            travel_km=travel_km,
        )
        if all(c.ok for c in checks):
            routes = await _routes(
                repo, [job.spec(window=window)], now=now, planning=planning, only={tech.id}, skip_jobs={job.id}
            )
            placed = place_job(routes.problem, job.id, planning.distances)
            if placed is not None:
                v = placed.visits[0]
                checks.append(
                    Check("slot", True, f"visit {v.start:%H:%M}–{v.end:%H:%M} UTC, {v.travel_min:.0f} min drive")
                )
            else:
                checks.append(Check("slot", False, _no_room(routes.problem, tech.id, window, tech.hours.tz)))
    return _answer(job_id, tech.id, tech.name, window, checks)


def _no_room(problem: Problem, technician_id: str, window: Interval, tz: str) -> str:
    """The route has no room: name the visits already on the technician's route that day, so the
    dispatcher can drop the visit between them."""
    detail = "no room on the route in the window for the drives and the visit"
    zone = ZoneInfo(tz)
    day = window.start.astimezone(zone).date()
    booked = sorted(
        (v.start, v.start + timedelta(minutes=v.job.duration_min))
        for v in problem.visits
        if v.technician_id == technician_id and v.start.astimezone(zone).date() == day
    )
    shown = ", ".join(f"{a.astimezone(zone):%H:%M}–{b.astimezone(zone):%H:%M}" for a, b in booked)
    return f"{detail}; visits that day: {shown}" if shown else f"{detail}; no other visit that day"


def _answer(job_id: str, tech_id: str, name: str, window: Interval, checks: list[Check]) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "technician_id": tech_id,
        "technician_name": name,
        "start": window.start,
        "end": window.end,
        "ok": all(c.ok for c in checks),
        "checks": [{"rule": c.rule, "ok": c.ok, "detail": c.detail} for c in checks],
        "refusal": refusal(name, checks),
    }


async def raise_refusal(
    *,
    uow_factory: Any,
    tenant_id: str,
    technician_id: str,
    start: datetime,
    end: datetime,
    planning: Planning,
    job_id: str | None = None,
    appointment_id: str | None = None,
) -> None:
    """After a booking or move to a named technician was refused: raise the rules it broke as a
    RuleViolation (the caller re-raises its own error when the rules do not say)."""
    if job_id is None and appointment_id is not None:
        async with uow_factory() as uow:
            await uow.scope_to_tenant(tenant_id)
            a = await Repository(uow.session, tenant_id, uow.clock).appointment(appointment_id)
        if a is None:
            return
        job_id = a.job_id
    if job_id is None:
        return
    answer = await check_fit(
        uow=uow_factory(),
        tenant_id=tenant_id,
        job_id=job_id,
        technician_id=technician_id,
        start=start,
        end=end,
        planning=planning,
        appointment_id=appointment_id,
    )
    if answer["refusal"]:
        raise RuleViolation(answer["refusal"])
