"""Rows of work orders: the live ones per job and technician, load per day, bumpable bookings, KPIs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select, update

from dispatch.adapters.orm import (
    appointments,
    jobs,
    work_orders,
)
from dispatch.adapters.rows import _TENANT, ACTIVE_WO, Rows, _parts, _parts_json
from dispatch.domain.model import (
    AppointmentStatus,
    CompletionFacts,
    WorkOrder,
    WorkOrderStatus,
)

# Statements built once, executed with parameters: building a statement per call (and coercing every
# value into a bound literal, then cache-keying it) cost more Python than the query itself.
_SAVE_WORK_ORDER = update(work_orders).where(work_orders.c.tenant_id == _TENANT, work_orders.c.id == bindparam("b_id"))
_WORK_ORDER = select(work_orders).where(work_orders.c.tenant_id == _TENANT, work_orders.c.id == bindparam("b_id"))
_WORK_ORDER_LOCK = _WORK_ORDER.with_for_update()
_LOAD_DAY = func.date(func.timezone("UTC", work_orders.c.planned_start))
_LOAD_BY_DAY = (
    select(work_orders.c.technician_id, _LOAD_DAY, func.count())
    .where(
        work_orders.c.tenant_id == _TENANT,
        work_orders.c.status.in_(ACTIVE_WO),
        work_orders.c.planned_start >= bindparam("b_start"),
        work_orders.c.planned_start < bindparam("b_end"),
    )
    .group_by(work_orders.c.technician_id, _LOAD_DAY)
)


class WorkOrderRows(Rows):
    # --- work orders ----------------------------------------------------------------------------------------------
    @staticmethod
    def _wo(r: Any) -> WorkOrder:
        return WorkOrder(
            id=r["id"],
            tenant_id=r["tenant_id"],
            job_id=r["job_id"],
            ticket_id=r["ticket_id"],
            technician_id=r["technician_id"],
            visit_number=r["visit_number"],
            status=WorkOrderStatus(r["status"]),
            appointment_id=r["appointment_id"],
            planned_start=r["planned_start"],
            planned_end=r["planned_end"],
            travel_min=r["travel_min"],
            explanation=r["explanation"],
            en_route_at=r["en_route_at"],
            eta=r["eta"],
            eta_from=r["eta_from"],
            arrived_at=r["arrived_at"],
            arrived_lat=r["arrived_lat"],
            arrived_lon=r["arrived_lon"],
            diagnosis=r["diagnosis"],
            parts_used=_parts(r["parts_used"]),
            labour_minutes=r["labour_minutes"],
            photos=list(r["photos"]),
            resolution_code=r["resolution_code"],
            sign_off=r["sign_off"],
            rating=r["rating"],
            note=r["note"],
            finished_at=r["finished_at"],
            completion=CompletionFacts(**r["completion"]) if r["completion"] else None,
            checklist_answers=dict(r["checklist_answers"] or {}),
        )

    def _wo_values(self, w: WorkOrder) -> dict[str, Any]:
        return dict(
            technician_id=w.technician_id,
            status=w.status.value,
            appointment_id=w.appointment_id,
            planned_start=w.planned_start,
            planned_end=w.planned_end,
            travel_min=w.travel_min,
            explanation=w.explanation,
            en_route_at=w.en_route_at,
            eta=w.eta,
            eta_from=w.eta_from,
            arrived_at=w.arrived_at,
            arrived_lat=w.arrived_lat,
            arrived_lon=w.arrived_lon,
            diagnosis=w.diagnosis,
            parts_used=_parts_json(w.parts_used),
            labour_minutes=w.labour_minutes,
            photos=w.photos,
            resolution_code=w.resolution_code,
            sign_off=w.sign_off,
            rating=w.rating,
            note=w.note,
            finished_at=w.finished_at,
            completion=asdict(w.completion) if w.completion else None,
            checklist_answers=w.checklist_answers or None,
            updated_at=self.clock.now(),
        )

    async def add_work_order(self, w: WorkOrder) -> None:
        await self.session.execute(
            insert(work_orders),
            dict(
                id=w.id,
                tenant_id=self.tenant,
                job_id=w.job_id,
                ticket_id=w.ticket_id,
                visit_number=w.visit_number,
                created_at=self.clock.now(),
                **self._wo_values(w),
            ),
        )

    async def save_work_order(self, w: WorkOrder) -> None:
        await self.session.execute(_SAVE_WORK_ORDER, dict(b_tenant=self.tenant, b_id=w.id, **self._wo_values(w)))

    async def work_order(self, work_order_id: str, *, lock: bool = False) -> WorkOrder | None:
        q = _WORK_ORDER_LOCK if lock else _WORK_ORDER
        r = (await self.session.execute(q, {"b_tenant": self.tenant, "b_id": work_order_id})).mappings().first()
        return self._wo(r) if r else None

    async def active_work_order_of_job(self, job_id: str, *, lock: bool = False) -> WorkOrder | None:
        q = select(work_orders).where(
            work_orders.c.tenant_id == self.tenant, work_orders.c.job_id == job_id, work_orders.c.status.in_(ACTIVE_WO)
        )
        if lock:
            q = q.with_for_update()
        r = (await self.session.execute(q)).mappings().first()
        return self._wo(r) if r else None

    async def active_work_orders_of_job(self, job_id: str, *, lock: bool = False) -> list[WorkOrder]:
        """A job's live work orders: one, or one per member of a crew (the lead's first)."""
        q = (
            select(work_orders)
            .where(
                work_orders.c.tenant_id == self.tenant,
                work_orders.c.job_id == job_id,
                work_orders.c.status.in_(ACTIVE_WO),
            )
            .order_by(work_orders.c.created_at, work_orders.c.id)
        )
        if lock:
            q = q.with_for_update()
        return [self._wo(r) for r in (await self.session.execute(q)).mappings()]

    async def work_orders_of_job(self, job_id: str) -> list[WorkOrder]:
        rows = await self.session.execute(
            select(work_orders)
            .where(work_orders.c.tenant_id == self.tenant, work_orders.c.job_id == job_id)
            .order_by(work_orders.c.created_at)
        )
        return [self._wo(r) for r in rows.mappings()]

    async def assigned_work_orders_of(self, technician_id: str, *, lock: bool = False) -> list[WorkOrder]:
        q = select(work_orders).where(
            work_orders.c.tenant_id == self.tenant,
            work_orders.c.technician_id == technician_id,
            work_orders.c.status.in_([WorkOrderStatus.ASSIGNED.value, WorkOrderStatus.EN_ROUTE.value]),
        )
        if lock:
            q = q.with_for_update()
        return [self._wo(r) for r in (await self.session.execute(q)).mappings()]

    async def live_work_orders(
        self, *, start: datetime, end: datetime, technician_ids: list[str] | None = None
    ) -> list[WorkOrder]:
        """Work orders assigned, on the way or on site that end after `start` and begin before `end`:
        the visits on the technicians' routes (only those of `technician_ids`, if given)."""
        q = select(work_orders).where(
            work_orders.c.tenant_id == self.tenant,
            work_orders.c.status.in_(ACTIVE_WO),
            work_orders.c.planned_start < end,
            work_orders.c.planned_end > start,
        )
        if technician_ids is not None:
            q = q.where(work_orders.c.technician_id.in_(technician_ids))
        rows = await self.session.execute(q.order_by(work_orders.c.planned_start, work_orders.c.id))
        return [self._wo(r) for r in rows.mappings()]

    async def load_by_day(self, *, start: datetime, end: datetime) -> dict[str, dict[date, int]]:
        """Live work orders per technician and UTC day in the horizon (counted against max load)."""
        rows = await self.session.execute(_LOAD_BY_DAY, {"b_tenant": self.tenant, "b_start": start, "b_end": end})
        out: dict[str, dict[date, int]] = defaultdict(dict)
        for tid, d, n in rows:
            out[tid][d] = int(n)
        return out

    async def bumpable(self, *, start: datetime, end: datetime) -> dict[str, WorkOrder]:
        """Unconfirmed bookings of P3/P4 jobs whose technician has not set off: appointment id -> work order."""
        rows = await self.session.execute(
            select(work_orders)
            .join(appointments, appointments.c.id == work_orders.c.appointment_id)
            .join(jobs, jobs.c.id == work_orders.c.job_id)
            .where(
                work_orders.c.tenant_id == self.tenant,
                work_orders.c.status == WorkOrderStatus.ASSIGNED.value,
                appointments.c.status == AppointmentStatus.BOOKED.value,
                appointments.c.window_start >= start,
                appointments.c.window_start < end,
                jobs.c.priority.in_(["P3", "P4"]),
            )
            .with_for_update(of=work_orders)
        )
        out = {}
        for r in rows.mappings():
            wo = self._wo(r)
            if wo.appointment_id:
                out[wo.appointment_id] = wo
        return out

    # --- KPIs -------------------------------------------------------------------------------------------------------
    async def last_stop_of(self, technician_id: str, *, since: datetime, other_than: str) -> tuple[float, float] | None:
        """Where the technician last arrived since `since` (the position reported on arrival, else
        the site's): the start of the next journey when the app sent no position."""
        lat = func.coalesce(work_orders.c.arrived_lat, jobs.c.lat)
        lon = func.coalesce(work_orders.c.arrived_lon, jobs.c.lon)
        q = (
            select(lat, lon)
            .select_from(work_orders.join(jobs, jobs.c.id == work_orders.c.job_id))
            .where(
                work_orders.c.tenant_id == self.tenant,
                work_orders.c.technician_id == technician_id,
                work_orders.c.id != other_than,
                work_orders.c.arrived_at >= since,
                lat.is_not(None),
                lon.is_not(None),
            )
            .order_by(work_orders.c.arrived_at.desc())
            .limit(1)
        )
        row = (await self.session.execute(q)).first()
        return (float(row[0]), float(row[1])) if row else None

    async def work_orders_between(self, start: datetime, end: datetime) -> list[WorkOrder]:
        rows = await self.session.execute(
            select(work_orders).where(
                work_orders.c.tenant_id == self.tenant,
                and_(work_orders.c.created_at >= start, work_orders.c.created_at < end),
            )
        )
        return [self._wo(r) for r in rows.mappings()]
