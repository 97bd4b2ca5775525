"""Rows of the tenant's checklists, one per job kind."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from dispatch.adapters.orm import checklists
from dispatch.adapters.rows import Rows
from dispatch.domain.checklists import Checklist
from fixflow_shared.db import rows_changed


class ChecklistRows(Rows):
    async def checklist(self, job_kind: str) -> Checklist | None:
        stmt = select(checklists.c.code, checklists.c.title, checklists.c.fields).where(
            checklists.c.tenant_id == self.tenant, checklists.c.job_kind == job_kind
        )
        row = (await self.session.execute(stmt)).first()
        return Checklist.of(row.code, row.title, list(row.fields)) if row else None

    async def checklists(self) -> dict[str, Checklist]:
        stmt = select(checklists.c.job_kind, checklists.c.code, checklists.c.title, checklists.c.fields).where(
            checklists.c.tenant_id == self.tenant
        )
        return {r.job_kind: Checklist.of(r.code, r.title, list(r.fields)) for r in await self.session.execute(stmt)}

    async def put_checklist(self, job_kind: str, c: Checklist) -> None:
        values = dict(code=c.code, title=c.title, fields=[f.as_dict() for f in c.fields], updated_at=self.clock.now())
        stmt = insert(checklists).values(tenant_id=self.tenant, job_kind=job_kind, **values)
        await self.session.execute(stmt.on_conflict_do_update(index_elements=["tenant_id", "job_kind"], set_=values))

    async def drop_checklist(self, job_kind: str) -> bool:
        stmt = delete(checklists).where(checklists.c.tenant_id == self.tenant, checklists.c.job_kind == job_kind)
        return rows_changed(await self.session.execute(stmt)) > 0
