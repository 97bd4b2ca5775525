"""Appointments: bookable windows (offers), booking, confirmation, rescheduling (改约), cancellation."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from dispatch.adapters.repository import Repository
from dispatch.domain import commands
from dispatch.domain.exceptions import (
    IllegalTransition,
    NoTechnicianAvailable,
    NotFound,
    RuleViolation,
    TooLateToChange,
)
from dispatch.domain.intervals import Interval
from dispatch.domain.model import (
    Appointment,
    JobStatus,
    WorkOrder,
    WorkOrderStatus,
    check_future_window,
    new_id,
)
from dispatch.domain.placement import offer_windows as offer_windows_for
from dispatch.domain.placement import place_job
from dispatch.service_layer.planning import (
    Planning,
    _commit_visits,
    _guard_visits,
    _retime,
    _routes,
    _unassign,
    _window,
)
from fixflow_shared.events.contracts import dispatch as ev
from fixflow_shared.uow import UnitOfWork


async def offer_windows(*, uow: UnitOfWork, tenant_id: str, job_id: str, planning: Planning) -> list[dict[str, Any]]:
    """Bookable windows for a job from real calendars, routes and travel time: where it fits each
    qualified technician's route (best first), no earlier than they can have its parts."""
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        job = await repo.job(job_id)
        if job is None:
            raise NotFound("job", job_id)
        if job.lat is None:
            raise RuleViolation("the job has no location yet")
        spec = job.spec(window=None)
        # the offers are where the job fits its nearest qualified technicians' routes: only theirs are built
        routes = await _routes(repo, [spec], now=now, planning=planning, skip_jobs={job.id}, near=spec)
    offers = await asyncio.to_thread(
        offer_windows_for,
        routes.problem,
        job.id,
        planning.distances,
        count=planning.offer_count,
        window_minutes=planning.window_minutes,
    )
    return [
        {
            "start": o.start,
            "end": o.end,
            "technician_id": o.technician_id,
            "technician_name": o.technician_name,
            "score": o.score,
        }
        for o in offers
    ]


BOOKABLE = (JobStatus.OPEN, JobStatus.WAITING_PARTS)


async def book_appointment(
    *, uow: UnitOfWork, cmd: commands.BookAppointment, planning: Planning
) -> tuple[Appointment, WorkOrder]:
    """The customer picks a window: whoever qualified fits it on their route at least cost (or the
    technician named) gets the visit; a job waiting for parts may be booked with someone who can
    have them in time."""
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
        if job.status not in BOOKABLE or job.lat is None:
            raise IllegalTransition("job", job.status, "booked")
        if cmd.technician_id is not None and await repo.technician(cmd.technician_id) is None:
            raise NotFound("technician", cmd.technician_id)
        spec = job.spec(window=window)
        routes = await _routes(
            repo,
            [spec],
            now=now,
            planning=planning,
            only={cmd.technician_id} if cmd.technician_id else None,
            skip_jobs={job.id},
            near=spec,
        )
        placed = place_job(routes.problem, job.id, planning.distances)
        if placed is None:
            raise NoTechnicianAvailable(
                "no qualified technician is free in that window; ask /offers for bookable windows"
            )
        _guard_visits(routes, placed.visits, planning)
        await _retime(repo, routes, placed.retimed)
        appt = Appointment(
            id=new_id("APT"),
            tenant_id=job.tenant_id,
            job_id=job.id,
            ticket_id=job.ticket_id,
            technician_id=placed.visits[0].technician_id,
            window_start=window.start,
            window_end=window.end,
            visit_number=job.visits + 1,
        )
        await repo.add_appointment(appt)
        tech = routes.techs[appt.technician_id]
        wo = await _commit_visits(
            uow,
            repo,
            job,
            placed.visits,
            routes.techs,
            now=now,
            planning=planning,
            explanation=placed.explanation,
            appointment=appt,
        )
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
    by_customer: bool = False,
) -> Appointment:
    """改约: the same technician if they fit the new window, else whoever fits (转派); with
    `technician_id`, that technician or nobody (the board's drag and drop). A customer moves a
    visit only until the notice period before it and never once the technician set off."""
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
        wo = await repo.active_work_order_of_job(job.id, lock=True)
        if by_customer:
            customer_may_change(a, wo, now=now, notice=timedelta(hours=planning.customer_notice_hours))
        previous_window = a.reschedule(window, now=now, reason=reason)
        if wo is not None and wo.status != WorkOrderStatus.ASSIGNED:
            raise IllegalTransition("work order", wo.status, "rescheduled")
        placed, routes = None, None
        if technician_id is not None and await repo.technician(technician_id) is None:
            raise NotFound("technician", technician_id)
        for only in ({technician_id},) if technician_id else ({a.technician_id}, None):
            spec = job.spec(window=window)
            routes = await _routes(repo, [spec], now=now, planning=planning, only=only, skip_jobs={job.id}, near=spec)
            placed = place_job(routes.problem, job.id, planning.distances)
            if placed is not None:
                break
        if placed is None or routes is None:
            raise NoTechnicianAvailable(
                "no qualified technician is free in the new window; ask /offers for bookable windows"
            )
        _guard_visits(routes, placed.visits, planning)
        await _retime(repo, routes, placed.retimed)
        v = placed.visits[0]
        tech = routes.techs[v.technician_id]
        if wo is not None:
            if wo.technician_id == tech.id and len(placed.visits) == 1:
                wo.planned_start, wo.planned_end = v.start, v.end
                wo.travel_min, wo.explanation = v.travel_min, placed.explanation
                await repo.save_work_order(wo)
            else:
                for old in await repo.active_work_orders_of_job(job.id, lock=True):
                    await _unassign(
                        uow,
                        repo,
                        old,
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
            await _commit_visits(
                uow,
                repo,
                job,
                placed.visits,
                routes.techs,
                now=now,
                planning=planning,
                explanation=placed.explanation,
                appointment=a,
            )
        await uow.commit()
    return a


def customer_may_change(a: Appointment, wo: WorkOrder | None, *, now: datetime, notice: timedelta) -> None:
    """The rules a customer's own move or cancellation follows (the office may still do either)."""
    if wo is not None and wo.status in (WorkOrderStatus.EN_ROUTE, WorkOrderStatus.ON_SITE):
        raise IllegalTransition("work order", wo.status, "changed by the customer")
    if a.window_start - now < notice:
        hours = notice.total_seconds() / 3600
        raise TooLateToChange(f"a visit can be changed online until {hours:g} hours before it starts")


async def cancel_appointment(
    *,
    uow: UnitOfWork,
    tenant_id: str,
    appointment_id: str,
    reason: str,
    detail: str | None,
    customer_notice: timedelta | None = None,
) -> Appointment:
    """`customer_notice`: the customer cancels, within the rules (customer_may_change)."""
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        await repo.lock_planning()
        a = await repo.appointment(appointment_id, lock=True)
        if a is None:
            raise NotFound("appointment", appointment_id)
        job = await repo.job(a.job_id, lock=True)
        assert job is not None
        if customer_notice is not None:
            live = await repo.active_work_orders_of_job(job.id)
            customer_may_change(a, live[0] if live else None, now=now, notice=customer_notice)
        a.cancel(reason)
        await repo.save_appointment(a)
        for wo in await repo.active_work_orders_of_job(job.id, lock=True):  # a crew: every member
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
