"""Rows of jobs (one per ticket that needs a visit)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from dispatch.adapters.orm import (
    jobs,
    planning_tenants,
)
from dispatch.adapters.rows import _TENANT, Rows
from dispatch.domain.model import (
    Job,
    JobStatus,
)
from fixflow_shared.db import rows_changed

# Statements built once, executed with parameters: building a statement per call (and coercing every
# value into a bound literal, then cache-keying it) cost more Python than the query itself.
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


class JobRows(Rows):
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
            region=r["region"],
            crew_size=r["crew_size"],
            parts={k: int(v) for k, v in (r["parts"] or {}).items()},
            parts_holder=r["parts_holder"],
            parts_eta=r["parts_eta"],
            customer_id=r["customer_id"],
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
            region=j.region,
            crew_size=j.crew_size,
            parts=j.parts,
            parts_holder=j.parts_holder,
            parts_eta=j.parts_eta,
            customer_id=j.customer_id,
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

    async def jobs_by_id(self, ids: list[str]) -> dict[str, Job]:
        if not ids:
            return {}
        rows = await self.session.execute(select(jobs).where(jobs.c.tenant_id == self.tenant, jobs.c.id.in_(ids)))
        return {r["id"]: self._job(r) for r in rows.mappings()}

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
