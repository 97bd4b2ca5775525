"""Persistence of dispatch's aggregates: one repository per unit of work, composed of the row stores
of each feature. Every query runs inside a tenant-scoped transaction (RLS) and filters by tenant as
well, so a missing policy can never leak another tenant's rows."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.adapters.appointment_rows import AppointmentRows
from dispatch.adapters.checklist_rows import ChecklistRows
from dispatch.adapters.job_rows import JobRows
from dispatch.adapters.orm import (
    planning_tenants,
)
from dispatch.adapters.parts_rows import PartsRows
from dispatch.adapters.technician_rows import TechnicianRows
from dispatch.adapters.work_order_rows import WorkOrderRows
from fixflow_shared.clock import Clock

_LOCK_PLANNING = text("SELECT pg_advisory_xact_lock(hashtext(:k))")


class Repository(TechnicianRows, JobRows, AppointmentRows, WorkOrderRows, PartsRows, ChecklistRows):
    def __init__(self, session: AsyncSession, tenant_id: str, clock: Clock) -> None:
        super().__init__(session, tenant_id, clock)
        self._planning_locked = False

    async def lock_planning(self) -> None:
        """Serialise planning within a tenant (two placements never take the same slot).

        The lock lasts until the transaction ends, and a repository lives in one transaction: taking
        it a second time (a use case that places a job it just created) costs no statement."""
        if self._planning_locked:
            return
        await self.session.execute(_LOCK_PLANNING, {"k": "dispatch-plan:" + self.tenant})
        self._planning_locked = True


async def tenants_to_plan(session: AsyncSession) -> list[str]:
    """Tenants the periodic optimiser visits (a table without RLS holding ids only)."""
    return [
        r[0] for r in await session.execute(select(planning_tenants.c.tenant_id).order_by(planning_tenants.c.tenant_id))
    ]
