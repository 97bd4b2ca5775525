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
from dispatch.domain.model import AppointmentStatus, JobStatus, WorkOrderStatus
from dispatch.domain.optimiser import Interval, _slots_of, solve
from dispatch.service_layer.handlers import Planning, _problem
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
    then the optimiser's own verdict for the pair; nothing is written."""
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
            slot_minutes=planning.slot_minutes,
        )
        if all(c.ok for c in checks):
            problem, _ = await _problem(
                repo,
                [job.spec(window=window)],
                now=now,
                planning=planning,
                only={tech.id},
                ignore_appointment=appointment_id,
            )
            plan = solve(problem, method="exact", distances=planning.distances)
            if plan.assignments:
                a = plan.assignments[0]
                checks.append(
                    Check(
                        "slot",
                        True,
                        f"visit {a.service_start:%H:%M}–{a.service_end:%H:%M} UTC, {a.travel_min:.0f} min drive",
                    )
                )
            else:
                checks.append(Check("slot", False, _no_slot(problem, window, tech.hours.tz, planning.slot_minutes)))
    return _answer(job_id, tech.id, tech.name, window, checks)


def _no_slot(problem: Any, window: Interval, tz: str, slot_minutes: int) -> str:
    """The optimiser found no slot: name the slots it does offer that day (the first max-per-day
    slots of the technician's free time), so the dispatcher can drop the visit where it fits."""
    detail = "no free slot in the window leaves room for the drive and the visit"
    if not problem.technicians:
        return detail
    zone = ZoneInfo(tz)
    day = window.start.astimezone(zone).date()
    starts, _ = _slots_of(problem.technicians[0], problem.now.timestamp() / 60.0, float(slot_minutes))
    offered = [t for m in starts if (t := datetime.fromtimestamp(float(m) * 60.0, UTC).astimezone(zone)).date() == day]
    shown = ", ".join(f"{t:%H:%M}" for t in offered)
    return f"{detail}; free slots that day: {shown}" if shown else f"{detail}; no free slot that day"


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
