"""Persistence of dispatch's aggregates. Every query runs inside a tenant-scoped transaction (RLS)
and filters by tenant as well, so a missing policy can never leak another tenant's rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from dispatch.adapters.orm import (
    absences,
    appointments,
    certifications,
    jobs,
    parts_requests,
    planning_tenants,
    skills,
    technicians,
    work_orders,
)
from dispatch.domain.model import (
    Absence,
    Appointment,
    AppointmentStatus,
    Certification,
    CompletionFacts,
    Job,
    JobStatus,
    PartsRequest,
    PartUse,
    Technician,
    WeeklyHours,
    WorkOrder,
    WorkOrderStatus,
)
from dispatch.domain.optimiser import Interval
from fixflow_shared.clock import Clock
from fixflow_shared.db import rows_changed

ACTIVE_WO = (WorkOrderStatus.ASSIGNED.value, WorkOrderStatus.EN_ROUTE.value, WorkOrderStatus.ON_SITE.value)


# Statements built once, executed with parameters: building a statement per call (and coercing every
# value into a bound literal, then cache-keying it) cost more Python than the query itself.
_TENANT: BindParameter[str] = bindparam("b_tenant")
_LOCK_PLANNING = text("SELECT pg_advisory_xact_lock(hashtext(:k))")
_ADD_SKILL = pg_insert(skills).on_conflict_do_nothing()
_SAVE_TECHNICIAN = update(technicians).where(technicians.c.tenant_id == _TENANT, technicians.c.id == bindparam("b_id"))
# the tenant joins the optimiser's list in the same statement as its job (a CTE PostgreSQL always runs)
_ADD_JOB = (
    pg_insert(jobs)
    .on_conflict_do_nothing(constraint="uq_jobs_tenant_ticket")
    .add_cte(
        pg_insert(planning_tenants)
        .values(tenant_id=bindparam("pt_tenant"), first_seen=bindparam("pt_first_seen"))
        .on_conflict_do_nothing()
        .cte("new_planning_tenant")
    )
)
_SAVE_JOB = update(jobs).where(jobs.c.tenant_id == _TENANT, jobs.c.id == bindparam("b_id"))
_SET_JOB_STATUS = (
    update(jobs)
    .where(jobs.c.tenant_id == _TENANT, jobs.c.id == bindparam("b_id"))
    .values(status=bindparam("b_status"), updated_at=bindparam("b_at"))
    .returning(jobs.c.id)
)
_JOB = select(jobs).where(jobs.c.tenant_id == _TENANT, jobs.c.id == bindparam("b_id"))
_JOB_LOCK = _JOB.with_for_update()
_JOB_OF_TICKET = select(jobs).where(jobs.c.tenant_id == _TENANT, jobs.c.ticket_id == bindparam("b_ticket"))
_JOB_OF_TICKET_LOCK = _JOB_OF_TICKET.with_for_update()
_SAVE_APPOINTMENT = update(appointments).where(
    appointments.c.tenant_id == _TENANT, appointments.c.id == bindparam("b_id")
)
_APPOINTMENT = select(appointments).where(appointments.c.tenant_id == _TENANT, appointments.c.id == bindparam("b_id"))
_APPOINTMENT_LOCK = _APPOINTMENT.with_for_update()
_FINISH_APPOINTMENT = (
    update(appointments)
    .where(
        appointments.c.tenant_id == _TENANT,
        appointments.c.id == bindparam("b_id"),
        appointments.c.status.in_([AppointmentStatus.BOOKED.value, AppointmentStatus.CONFIRMED.value]),
    )
    .values(status=bindparam("b_status"), updated_at=bindparam("b_at"))
)
_APPOINTMENTS_OF_JOB = (
    select(appointments)
    .where(appointments.c.tenant_id == _TENANT, appointments.c.job_id == bindparam("b_job"))
    .order_by(appointments.c.created_at)
)
_LIVE_APPOINTMENTS = select(appointments).where(
    appointments.c.tenant_id == _TENANT,
    appointments.c.status.in_([AppointmentStatus.BOOKED.value, AppointmentStatus.CONFIRMED.value]),
    appointments.c.window_end > bindparam("b_start"),
    appointments.c.window_start < bindparam("b_end"),
)
_SAVE_WORK_ORDER = update(work_orders).where(work_orders.c.tenant_id == _TENANT, work_orders.c.id == bindparam("b_id"))
_WORK_ORDER = select(work_orders).where(work_orders.c.tenant_id == _TENANT, work_orders.c.id == bindparam("b_id"))
_WORK_ORDER_LOCK = _WORK_ORDER.with_for_update()
_TECHNICIANS = select(technicians).where(technicians.c.tenant_id == _TENANT)
_CERTIFICATIONS = select(certifications).where(
    certifications.c.tenant_id == _TENANT, certifications.c.technician_id.in_(bindparam("b_ids", expanding=True))
)
_ABSENCES = select(absences).where(
    absences.c.tenant_id == _TENANT,
    absences.c.technician_id.in_(bindparam("b_ids", expanding=True)),
    absences.c.end_at > bindparam("b_after"),
)
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
_SAVE_PARTS_REQUEST = update(parts_requests).where(
    parts_requests.c.tenant_id == _TENANT, parts_requests.c.id == bindparam("b_id")
)


def _hours_json(h: WeeklyHours) -> dict[str, Any]:
    return {"tz": h.tz, "days": {str(k): list(v) for k, v in h.days.items()}, "country": h.country}


def _hours(d: dict[str, Any]) -> WeeklyHours:
    return WeeklyHours(tz=d["tz"], days={int(k): (v[0], v[1]) for k, v in d["days"].items()}, country=d.get("country"))


def _parts_json(parts: list[PartUse]) -> list[dict[str, Any]]:
    return [{"part_code": p.part_code, "quantity": p.quantity, "source": p.source} for p in parts]


def _parts(rows: list[dict[str, Any]]) -> list[PartUse]:
    return [PartUse(r["part_code"], int(r["quantity"]), r.get("source", "van_stock")) for r in rows]


class Repository:
    def __init__(self, session: AsyncSession, tenant_id: str, clock: Clock) -> None:
        self.session = session
        self.tenant = tenant_id
        self.clock = clock  # the unit of work's: timestamps of the rows it writes
        self._planning_locked = False

    async def lock_planning(self) -> None:
        """Serialise planning within a tenant (two placements never take the same slot).

        The lock lasts until the transaction ends, and a repository lives in one transaction: taking
        it a second time (a use case that places a job it just created) costs no statement."""
        if self._planning_locked:
            return
        await self.session.execute(_LOCK_PLANNING, {"k": "dispatch-plan:" + self.tenant})
        self._planning_locked = True

    # --- skills -------------------------------------------------------------------------------------
    async def add_skill(self, code: str, name: str) -> bool:
        res = await self.session.execute(
            _ADD_SKILL, dict(tenant_id=self.tenant, code=code, name=name, created_at=self.clock.now())
        )
        return bool(rows_changed(res))

    async def skill_codes(self) -> set[str]:
        rows = await self.session.execute(select(skills.c.code).where(skills.c.tenant_id == self.tenant))
        return {r[0] for r in rows}

    async def list_skills(self) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(skills.c.code, skills.c.name).where(skills.c.tenant_id == self.tenant).order_by(skills.c.code)
        )
        return [dict(r._mapping) for r in rows]

    # --- technicians ----------------------------------------------------------------------------------
    async def add_technician(self, t: Technician) -> None:
        now = self.clock.now()
        await self.session.execute(
            insert(technicians),
            dict(
                id=t.id,
                tenant_id=self.tenant,
                name=t.name,
                phone=t.phone,
                home_lat=t.home_lat,
                home_lon=t.home_lon,
                skills=t.skills,
                regions=t.regions,
                hours=_hours_json(t.hours),
                max_jobs_per_day=t.max_jobs_per_day,
                van_stock=t.van_stock,
                active=t.active,
                created_at=now,
                updated_at=now,
                team_id=t.team_id,
            ),
        )

    async def save_technician(self, t: Technician) -> None:
        await self.session.execute(
            _SAVE_TECHNICIAN,
            dict(
                b_tenant=self.tenant,
                b_id=t.id,
                name=t.name,
                phone=t.phone,
                home_lat=t.home_lat,
                home_lon=t.home_lon,
                skills=t.skills,
                regions=t.regions,
                hours=_hours_json(t.hours),
                max_jobs_per_day=t.max_jobs_per_day,
                van_stock=t.van_stock,
                team_id=t.team_id,
                active=t.active,
                updated_at=self.clock.now(),
            ),
        )

    async def add_certification(self, technician_id: str, c: Certification) -> None:
        await self.session.execute(
            insert(certifications),
            dict(
                id=c.id,
                tenant_id=self.tenant,
                technician_id=technician_id,
                name=c.name,
                number=c.number,
                valid_until=c.valid_until,
            ),
        )

    async def add_absence(self, technician_id: str, a: Absence) -> None:
        await self.session.execute(
            insert(absences),
            dict(
                id=a.id,
                tenant_id=self.tenant,
                technician_id=technician_id,
                start_at=a.start,
                end_at=a.end,
                reason=a.reason,
                created_at=self.clock.now(),
            ),
        )

    async def technicians(
        self, ids: list[str] | None = None, *, lock: bool = False, absences_after: datetime | None = None
    ) -> list[Technician]:
        """Technicians with certifications and absences (only those ending after `absences_after`, if given)."""
        q = _TECHNICIANS
        params: dict[str, Any] = {"b_tenant": self.tenant}
        if ids is not None:
            q = q.where(technicians.c.id.in_(bindparam("b_ids", expanding=True)))
            params["b_ids"] = list(ids)
        if lock:
            q = q.with_for_update()
        rows = (await self.session.execute(q.order_by(technicians.c.id), params)).mappings().all()
        if not rows:
            return []
        tids = [r["id"] for r in rows]
        certs: dict[str, list[Certification]] = defaultdict(list)
        for c in (await self.session.execute(_CERTIFICATIONS, {"b_tenant": self.tenant, "b_ids": tids})).mappings():
            certs[c["technician_id"]].append(Certification(c["id"], c["name"], c["valid_until"], c["number"]))
        abs_: dict[str, list[Absence]] = defaultdict(list)
        for a in (
            await self.session.execute(
                _ABSENCES,
                {
                    "b_tenant": self.tenant,
                    "b_ids": tids,
                    "b_after": absences_after or datetime(1970, 1, 1, tzinfo=UTC),
                },
            )
        ).mappings():
            abs_[a["technician_id"]].append(Absence(a["id"], a["start_at"], a["end_at"], a["reason"]))
        return [
            Technician(
                id=r["id"],
                tenant_id=r["tenant_id"],
                name=r["name"],
                phone=r["phone"],
                home_lat=r["home_lat"],
                home_lon=r["home_lon"],
                skills=dict(r["skills"]),
                regions=list(r["regions"]),
                hours=_hours(r["hours"]),
                max_jobs_per_day=r["max_jobs_per_day"],
                van_stock=dict(r["van_stock"]),
                active=r["active"],
                team_id=r["team_id"],
                certifications=certs[r["id"]],
                absences=abs_[r["id"]],
            )
            for r in rows
        ]

    async def technician(self, technician_id: str, *, lock: bool = False) -> Technician | None:
        found = await self.technicians([technician_id], lock=lock)
        return found[0] if found else None

    # --- jobs ---------------------------------------------------------------------------------------------
    @staticmethod
    def _job(r: Any) -> Job:
        return Job(
            id=r["id"],
            tenant_id=r["tenant_id"],
            ticket_id=r["ticket_id"],
            kind=r["kind"],
            status=JobStatus(r["status"]),
            priority=r["priority"],
            required_skills=dict(r["required_skills"]),
            required_certifications=list(r["required_certifications"]),
            lat=r["lat"],
            lon=r["lon"],
            duration_min=r["duration_min"],
            sla_deadline=r["sla_deadline"],
            requested_start=r["requested_start"],
            requested_end=r["requested_end"],
            earliest=r["earliest"],
            visits=r["visits"],
            created_at=r["created_at"],
        )

    def _job_values(self, j: Job) -> dict[str, Any]:
        return dict(
            kind=j.kind,
            status=j.status.value,
            priority=j.priority,
            required_skills=j.required_skills,
            required_certifications=j.required_certifications,
            lat=j.lat,
            lon=j.lon,
            duration_min=j.duration_min,
            sla_deadline=j.sla_deadline,
            requested_start=j.requested_start,
            requested_end=j.requested_end,
            earliest=j.earliest,
            visits=j.visits,
            updated_at=self.clock.now(),
        )

    async def add_job(self, j: Job) -> bool:
        """Insert unless the ticket already has a job (False then)."""
        now = self.clock.now()
        res = await self.session.execute(
            _ADD_JOB,
            dict(
                id=j.id,
                tenant_id=self.tenant,
                ticket_id=j.ticket_id,
                created_at=now,
                **self._job_values(j),
                pt_tenant=self.tenant,
                pt_first_seen=now,
            ),
        )
        return bool(rows_changed(res))

    async def save_job(self, j: Job) -> None:
        await self.session.execute(_SAVE_JOB, dict(b_tenant=self.tenant, b_id=j.id, **self._job_values(j)))

    async def set_job_status(self, job_id: str, status: JobStatus) -> bool:
        """Only the status of a job (one statement, the row locked until commit); False if it does not exist."""
        res = await self.session.execute(
            _SET_JOB_STATUS,
            {"b_tenant": self.tenant, "b_id": job_id, "b_status": status.value, "b_at": self.clock.now()},
        )
        return res.first() is not None

    async def job(self, job_id: str, *, lock: bool = False) -> Job | None:
        q = _JOB_LOCK if lock else _JOB
        r = (await self.session.execute(q, {"b_tenant": self.tenant, "b_id": job_id})).mappings().first()
        return self._job(r) if r else None

    async def job_for_ticket(self, ticket_id: str, *, lock: bool = False) -> Job | None:
        q = _JOB_OF_TICKET_LOCK if lock else _JOB_OF_TICKET
        r = (await self.session.execute(q, {"b_tenant": self.tenant, "b_ticket": ticket_id})).mappings().first()
        return self._job(r) if r else None

    async def open_jobs(self) -> list[Job]:
        rows = await self.session.execute(
            select(jobs)
            .where(jobs.c.tenant_id == self.tenant, jobs.c.status == JobStatus.OPEN.value)
            .order_by(jobs.c.created_at)
        )
        return [self._job(r) for r in rows.mappings()]

    async def list_jobs(self, status: str | None, limit: int) -> list[Job]:
        q = select(jobs).where(jobs.c.tenant_id == self.tenant)
        if status:
            q = q.where(jobs.c.status == status)
        rows = await self.session.execute(q.order_by(jobs.c.created_at.desc()).limit(limit))
        return [self._job(r) for r in rows.mappings()]

    # --- appointments ----------------------------------------------------------------------------------------
    @staticmethod
    def _appt(r: Any) -> Appointment:
        return Appointment(
            id=r["id"],
            tenant_id=r["tenant_id"],
            job_id=r["job_id"],
            ticket_id=r["ticket_id"],
            technician_id=r["technician_id"],
            window_start=r["window_start"],
            window_end=r["window_end"],
            visit_number=r["visit_number"],
            status=AppointmentStatus(r["status"]),
            reason=r["reason"],
        )

    async def add_appointment(self, a: Appointment) -> None:
        now = self.clock.now()
        await self.session.execute(
            insert(appointments),
            dict(
                id=a.id,
                tenant_id=self.tenant,
                job_id=a.job_id,
                ticket_id=a.ticket_id,
                technician_id=a.technician_id,
                window_start=a.window_start,
                window_end=a.window_end,
                visit_number=a.visit_number,
                status=a.status.value,
                reason=a.reason,
                created_at=now,
                updated_at=now,
            ),
        )

    async def save_appointment(self, a: Appointment) -> None:
        await self.session.execute(
            _SAVE_APPOINTMENT,
            dict(
                b_tenant=self.tenant,
                b_id=a.id,
                technician_id=a.technician_id,
                window_start=a.window_start,
                window_end=a.window_end,
                status=a.status.value,
                reason=a.reason,
                updated_at=self.clock.now(),
            ),
        )

    async def appointment(self, appointment_id: str, *, lock: bool = False) -> Appointment | None:
        q = _APPOINTMENT_LOCK if lock else _APPOINTMENT
        r = (await self.session.execute(q, {"b_tenant": self.tenant, "b_id": appointment_id})).mappings().first()
        return self._appt(r) if r else None

    async def finish_appointment(self, appointment_id: str) -> None:
        """A booked or confirmed appointment becomes done (one statement); others are left as they are."""
        await self.session.execute(
            _FINISH_APPOINTMENT,
            {
                "b_tenant": self.tenant,
                "b_id": appointment_id,
                "b_status": AppointmentStatus.DONE.value,
                "b_at": self.clock.now(),
            },
        )

    async def live_appointments(self, *, start: datetime, end: datetime) -> list[Appointment]:
        rows = await self.session.execute(_LIVE_APPOINTMENTS, {"b_tenant": self.tenant, "b_start": start, "b_end": end})
        return [self._appt(r) for r in rows.mappings()]

    async def appointments_of_job(self, job_id: str) -> list[Appointment]:
        rows = await self.session.execute(_APPOINTMENTS_OF_JOB, {"b_tenant": self.tenant, "b_job": job_id})
        return [self._appt(r) for r in rows.mappings()]

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

    async def busy(self, *, start: datetime, end: datetime) -> dict[str, list[Interval]]:
        out: dict[str, list[Interval]] = defaultdict(list)
        for a in await self.live_appointments(start=start, end=end):
            out[a.technician_id].append(a.window)
        return out

    # --- parts ------------------------------------------------------------------------------------------------------
    async def add_parts_request(self, p: PartsRequest) -> None:
        now = self.clock.now()
        await self.session.execute(
            insert(parts_requests),
            dict(
                id=p.id,
                tenant_id=self.tenant,
                ticket_id=p.ticket_id,
                job_id=p.job_id,
                work_order_id=p.work_order_id,
                parts=_parts_json(p.parts),
                status=p.status,
                shipment_id=p.shipment_id,
                eta=p.eta,
                created_at=now,
                updated_at=now,
            ),
        )

    async def parts_request(self, request_id: str, *, lock: bool = False) -> PartsRequest | None:
        q = select(parts_requests).where(parts_requests.c.tenant_id == self.tenant, parts_requests.c.id == request_id)
        if lock:
            q = q.with_for_update()
        r = (await self.session.execute(q)).mappings().first()
        if r is None:
            return None
        return PartsRequest(
            id=r["id"],
            tenant_id=r["tenant_id"],
            ticket_id=r["ticket_id"],
            job_id=r["job_id"],
            work_order_id=r["work_order_id"],
            parts=_parts(r["parts"]),
            status=r["status"],
            shipment_id=r["shipment_id"],
            eta=r["eta"],
        )

    async def save_parts_request(self, p: PartsRequest) -> None:
        await self.session.execute(
            _SAVE_PARTS_REQUEST,
            dict(
                b_tenant=self.tenant,
                b_id=p.id,
                status=p.status,
                shipment_id=p.shipment_id,
                eta=p.eta,
                updated_at=self.clock.now(),
            ),
        )

    # --- KPIs -------------------------------------------------------------------------------------------------------
    async def work_orders_between(self, start: datetime, end: datetime) -> list[WorkOrder]:
        rows = await self.session.execute(
            select(work_orders).where(
                work_orders.c.tenant_id == self.tenant,
                and_(work_orders.c.created_at >= start, work_orders.c.created_at < end),
            )
        )
        return [self._wo(r) for r in rows.mappings()]


async def tenants_to_plan(session: AsyncSession) -> list[str]:
    """Tenants the periodic optimiser visits (a table without RLS holding ids only)."""
    return [
        r[0] for r in await session.execute(select(planning_tenants.c.tenant_id).order_by(planning_tenants.c.tenant_id))
    ]
