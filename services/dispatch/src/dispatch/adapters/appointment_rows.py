"""Rows of appointments (booked visit windows)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from dispatch.adapters.orm import (
    appointments,
)
from dispatch.adapters.rows import _TENANT, Rows
from dispatch.domain.intervals import Interval
from dispatch.domain.model import (
    Appointment,
    AppointmentStatus,
)

# Statements built once, executed with parameters: building a statement per call (and coercing every
# value into a bound literal, then cache-keying it) cost more Python than the query itself.
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


class AppointmentRows(Rows):
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

    async def appointments_by_id(self, ids: list[str]) -> dict[str, Appointment]:
        if not ids:
            return {}
        rows = await self.session.execute(
            select(appointments).where(appointments.c.tenant_id == self.tenant, appointments.c.id.in_(ids))
        )
        return {r["id"]: self._appt(r) for r in rows.mappings()}

    async def appointments_of_job(self, job_id: str) -> list[Appointment]:
        rows = await self.session.execute(_APPOINTMENTS_OF_JOB, {"b_tenant": self.tenant, "b_job": job_id})
        return [self._appt(r) for r in rows.mappings()]

    async def busy(self, *, start: datetime, end: datetime) -> dict[str, list[Interval]]:
        out: dict[str, list[Interval]] = defaultdict(list)
        for a in await self.live_appointments(start=start, end=end):
            out[a.technician_id].append(a.window)
        return out
