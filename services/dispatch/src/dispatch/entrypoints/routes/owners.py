"""Whose is a dispatch object (for callers limited to their own, see fixflow_shared.access): a job
and its appointments belong to the ticket's customer and to the technicians assigned to it (a crew
visit to every member); a work order and a parts request to their technician; a technician's record
to that technician."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import select, union

from dispatch import views
from dispatch.adapters.orm import appointments, attachments, jobs, parts_requests, work_orders
from dispatch.domain.model import WorkOrderStatus
from fixflow_shared.access import Owner, path_owner, row_owner
from fixflow_shared.auth import Principal


async def _rows(request: Request, tenant: str, stmt: Any) -> list[Any]:
    return await views.rows(uow=request.app.state.runtime.uow(), tenant_id=tenant, stmt=stmt)


async def _job_owner(request: Request, principal: Principal, where: Any) -> Owner | None:
    t = principal.tenant
    found = await _rows(request, t, select(jobs.c.id, jobs.c.customer_id).where(jobs.c.tenant_id == t, where))
    if not found:
        return None
    job_id, customer_id = found[0]
    assigned = union(
        select(work_orders.c.technician_id).where(work_orders.c.tenant_id == t, work_orders.c.job_id == job_id),
        select(appointments.c.technician_id).where(appointments.c.tenant_id == t, appointments.c.job_id == job_id),
    )
    technicians = [r[0] for r in await _rows(request, t, assigned)]
    return Owner.of(customer_id, technicians)


async def job_owner(request: Request, principal: Principal) -> Owner | None:
    return await _job_owner(request, principal, jobs.c.id == request.path_params["job_id"])


async def ticket_job_owner(request: Request, principal: Principal) -> Owner | None:
    return await _job_owner(request, principal, jobs.c.ticket_id == request.path_params["ticket_id"])


async def appointment_owner(request: Request, principal: Principal) -> Owner | None:
    """The ticket's customer, the technician the visit is booked with and, for a crew, every member
    (each has a work order naming the appointment)."""
    t, appointment_id = principal.tenant, request.path_params["appointment_id"]
    stmt = (
        select(appointments.c.technician_id, jobs.c.customer_id)
        .join(jobs, (jobs.c.id == appointments.c.job_id) & (jobs.c.tenant_id == appointments.c.tenant_id))
        .where(appointments.c.tenant_id == t, appointments.c.id == appointment_id)
    )
    found = await _rows(request, t, stmt)
    if not found:
        return None
    members = select(work_orders.c.technician_id).where(
        work_orders.c.tenant_id == t,
        work_orders.c.appointment_id == appointment_id,
        work_orders.c.status != WorkOrderStatus.UNASSIGNED.value,
    )
    crew = [r[0] for r in await _rows(request, t, members)]
    return Owner.of(found[0][1], [found[0][0], *crew])


async def parts_request_owner(request: Request, principal: Principal) -> Owner | None:
    t = principal.tenant
    stmt = (
        select(work_orders.c.technician_id)
        .select_from(parts_requests)
        .outerjoin(
            work_orders,
            (work_orders.c.id == parts_requests.c.work_order_id)
            & (work_orders.c.tenant_id == parts_requests.c.tenant_id),
        )
        .where(parts_requests.c.tenant_id == t, parts_requests.c.id == request.path_params["request_id"])
    )
    found = await _rows(request, t, stmt)
    return Owner.of(None, [found[0][0]]) if found else None


work_order_owner = row_owner(work_orders, param="work_order_id", customer=None, technician="technician_id")
technician_self = path_owner("technician_id", technician=True)


async def attachment_owner(request: Request, principal: Principal) -> Owner | None:
    """An attachment belongs to its work order's technician and to the ticket's customer."""
    t = principal.tenant
    stmt = (
        select(work_orders.c.technician_id, jobs.c.customer_id)
        .select_from(attachments)
        .join(work_orders, (work_orders.c.id == attachments.c.work_order_id) & (work_orders.c.tenant_id == t))
        .join(jobs, (jobs.c.id == work_orders.c.job_id) & (jobs.c.tenant_id == t))
        .where(attachments.c.tenant_id == t, attachments.c.id == request.path_params["attachment_id"])
    )
    found = await _rows(request, t, stmt)
    return Owner.of(found[0][1], [found[0][0]]) if found else None
