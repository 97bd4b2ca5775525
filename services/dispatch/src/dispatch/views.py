"""Read side: queries that answer the API directly, and the KPIs."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select

from dispatch.adapters import orm, repository
from dispatch.adapters.repository import Repository
from dispatch.domain.model import Appointment, AppointmentStatus, Job, Technician, WorkOrder, WorkOrderStatus
from fixflow_shared.uow import UnitOfWork


async def rows(*, uow: UnitOfWork, tenant_id: str, stmt: Any) -> list[Any]:
    """The rows of a read-only statement in the tenant (who owns an object, for the HTTP layer)."""
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return list((await uow.session.execute(stmt)).all())


async def tenants_to_plan(*, uow: UnitOfWork) -> list[str]:
    """Tenants the periodic optimiser visits."""
    async with uow:
        return await repository.tenants_to_plan(uow.session)


async def technician(*, uow: UnitOfWork, tenant_id: str, technician_id: str) -> Technician | None:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await Repository(uow.session, tenant_id, uow.clock).technician(technician_id)


async def technicians(*, uow: UnitOfWork, tenant_id: str) -> list[Technician]:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await Repository(uow.session, tenant_id, uow.clock).technicians()


async def skills(*, uow: UnitOfWork, tenant_id: str) -> list[dict[str, Any]]:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await Repository(uow.session, tenant_id, uow.clock).list_skills()


async def job(*, uow: UnitOfWork, tenant_id: str, job_id: str) -> tuple[Job, list[Appointment], list[WorkOrder]] | None:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        j = await repo.job(job_id)
        if j is None:
            return None
        return j, await repo.appointments_of_job(j.id), await repo.work_orders_of_job(j.id)


async def job_for_ticket(*, uow: UnitOfWork, tenant_id: str, ticket_id: str) -> Job | None:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await Repository(uow.session, tenant_id, uow.clock).job_for_ticket(ticket_id)


async def jobs(*, uow: UnitOfWork, tenant_id: str, status: str | None, limit: int) -> list[Job]:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await Repository(uow.session, tenant_id, uow.clock).list_jobs(status, limit)


async def appointment(*, uow: UnitOfWork, tenant_id: str, appointment_id: str) -> Appointment | None:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await Repository(uow.session, tenant_id, uow.clock).appointment(appointment_id)


async def work_order(*, uow: UnitOfWork, tenant_id: str, work_order_id: str) -> WorkOrder | None:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await Repository(uow.session, tenant_id, uow.clock).work_order(work_order_id)


async def parts_request(*, uow: UnitOfWork, tenant_id: str, request_id: str) -> Any:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await Repository(uow.session, tenant_id, uow.clock).parts_request(request_id)


_BOARD_STATUSES = (AppointmentStatus.BOOKED.value, AppointmentStatus.CONFIRMED.value, AppointmentStatus.DONE.value)


async def board_appointments(
    *, uow: UnitOfWork, tenant_id: str, start: datetime, end: datetime, technician_id: str | None = None
) -> list[dict[str, Any]]:
    """Appointments overlapping [start, end) that are not cancelled, each with what the board draws:
    the job's priority, kind, status and place, and the state of the visit's work order; one
    technician's only if given (its own visits: those it leads or works on as a crew member)."""
    mine = []
    if technician_id is not None:
        crew = select(orm.work_orders.c.appointment_id).where(
            orm.work_orders.c.tenant_id == tenant_id,
            orm.work_orders.c.technician_id == technician_id,
            orm.work_orders.c.status != WorkOrderStatus.UNASSIGNED.value,
        )
        mine = [or_(orm.appointments.c.technician_id == technician_id, orm.appointments.c.id.in_(crew))]
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        rows = (
            (
                await uow.session.execute(
                    select(
                        orm.appointments,
                        orm.jobs.c.priority,
                        orm.jobs.c.kind,
                        orm.jobs.c.status.label("job_status"),
                        orm.jobs.c.lat,
                        orm.jobs.c.lon,
                        orm.jobs.c.sla_deadline,
                        orm.jobs.c.duration_min,
                    )
                    .join(
                        orm.jobs,
                        and_(
                            orm.jobs.c.tenant_id == orm.appointments.c.tenant_id,
                            orm.jobs.c.id == orm.appointments.c.job_id,
                        ),
                    )
                    .where(
                        orm.appointments.c.tenant_id == tenant_id,
                        orm.appointments.c.status.in_(_BOARD_STATUSES),
                        orm.appointments.c.window_end > start,
                        orm.appointments.c.window_start < end,
                        *mine,
                    )
                    .order_by(orm.appointments.c.window_start, orm.appointments.c.id)
                )
            )
            .mappings()
            .all()
        )
        orders: dict[str, Any] = {}
        if rows:
            wo, ap = orm.work_orders.c, orm.appointments.c
            for w in (
                await uow.session.execute(
                    select(wo.appointment_id, wo.id, wo.status, wo.planned_start, wo.planned_end, wo.travel_min)
                    .join(orm.appointments, and_(ap.tenant_id == wo.tenant_id, ap.id == wo.appointment_id))
                    .where(
                        wo.tenant_id == tenant_id,
                        wo.status != WorkOrderStatus.UNASSIGNED.value,
                        ap.status.in_(_BOARD_STATUSES),
                        ap.window_end > start,
                        ap.window_start < end,
                    )
                    .order_by(wo.created_at)
                )
            ).mappings():
                orders[w["appointment_id"]] = w  # the latest live one wins
    out = []
    for r in rows:
        order = orders.get(r["id"])
        out.append(
            {
                "id": r["id"],
                "job_id": r["job_id"],
                "ticket_id": r["ticket_id"],
                "technician_id": r["technician_id"],
                "window_start": r["window_start"],
                "window_end": r["window_end"],
                "visit_number": r["visit_number"],
                "status": r["status"],
                "priority": r["priority"],
                "kind": r["kind"],
                "job_status": r["job_status"],
                "lat": r["lat"],
                "lon": r["lon"],
                "sla_deadline": r["sla_deadline"],
                "duration_min": r["duration_min"],
                "work_order_id": order["id"] if order else None,
                "work_order_status": order["status"] if order else None,
                "planned_start": order["planned_start"] if order else None,
                "planned_end": order["planned_end"] if order else None,
                "travel_min": order["travel_min"] if order else None,
            }
        )
    return out


def kpis_of(orders: list[WorkOrder], available_minutes: float = 0.0) -> dict[str, Any]:
    """First-time-fix, on-time arrival, utilisation (labour + travel over the technicians' working
    minutes in the period), labour share of busy time, travel, jobs per technician."""
    finished = [
        w
        for w in orders
        if w.status
        not in (WorkOrderStatus.ASSIGNED, WorkOrderStatus.EN_ROUTE, WorkOrderStatus.ON_SITE, WorkOrderStatus.UNASSIGNED)
    ]
    completed = [w for w in finished if w.status == WorkOrderStatus.COMPLETED]
    arrived = [w for w in orders if w.arrived_at is not None]
    on_time = [
        w
        for w in arrived
        if w.planned_start
        and w.planned_end
        and w.arrived_at
        and w.planned_start.timestamp() - 900 <= w.arrived_at.timestamp() <= w.planned_end.timestamp()
    ]
    labour = sum(w.labour_minutes for w in finished)
    travel = sum(w.travel_min for w in finished)
    per_tech = Counter(w.technician_id for w in finished)
    return {
        "visits": len(finished),
        "completed": len(completed),
        "first_time_fix_rate": (sum(1 for w in completed if w.visit_number == 1) / len(completed))
        if completed
        else None,
        "on_time_arrival_rate": (len(on_time) / len(arrived)) if arrived else None,
        "utilisation": round((labour + travel) / available_minutes, 4) if available_minutes else None,
        "labour_share": round(labour / (labour + travel), 4) if labour + travel else None,
        "available_minutes": round(available_minutes),
        "travel_minutes": round(travel, 1),
        "jobs_per_technician": dict(sorted(per_tech.items())),
    }


async def kpis(*, uow: UnitOfWork, tenant_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        orders = await repo.work_orders_between(start, end)
        techs = await repo.technicians(absences_after=start)
    available = sum((iv.end - iv.start).total_seconds() / 60 for t in techs for iv in t.availability(start, end))
    return {"from": start, "to": end, **kpis_of(orders, available)}
