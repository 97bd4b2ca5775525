"""Completions parked until they can be priced. Every query runs inside a tenant-scoped transaction
(RLS) and filters by tenant as well, so a missing policy can never leak another tenant's rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from billing.adapters.orm import pending_settlements
from billing.adapters.serialisation import envelope_to_json, work_to_json
from billing.domain.pricing import WorkDone
from fixflow_shared.events.envelope import Envelope

# --- statements built once, executed with parameters --------------------------------------------
# (not .values(**row) / literal where-clauses per call: that builds a statement and coerces every
# value into a bound literal each time, which cost more Python than the query itself)
_TENANT: BindParameter[str] = bindparam("b_tenant")
_WAITING_FOR_TICKET = (
    select(pending_settlements)
    .where(
        pending_settlements.c.tenant_id == _TENANT,
        pending_settlements.c.ticket_id == bindparam("b_ticket"),
        pending_settlements.c.status == "waiting",
    )
    .order_by(pending_settlements.c.completed_at, pending_settlements.c.work_order_id)
    .with_for_update()
)


class PendingSettlementRepository:
    """Work-order completions billing cannot price yet (ticket facts missing, waiver undecided)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def park(
        self,
        *,
        tenant_id: str,
        ticket_id: str,
        work_order_id: str,
        work: WorkDone,
        completed_at: datetime,
        causation: Envelope | None,
        waiting_for: str,
        now: datetime,
    ) -> None:

        stmt = pg_insert(pending_settlements).values(
            tenant_id=tenant_id,
            work_order_id=work_order_id,
            ticket_id=ticket_id,
            waiting_for=waiting_for,
            status="waiting",
            work=work_to_json(work),
            completed_at=completed_at,
            causation=envelope_to_json(causation) if causation is not None else None,
            error=None,
            parked_at=now,
            updated_at=now,
        )
        # A second completion of the same work order (new event id) while parked changes nothing.
        await self.session.execute(stmt.on_conflict_do_nothing(index_elements=["tenant_id", "work_order_id"]))

    async def waiting_for_ticket(self, tenant_id: str, ticket_id: str) -> list[dict[str, Any]]:
        rows = (
            (await self.session.execute(_WAITING_FOR_TICKET, {"b_tenant": tenant_id, "b_ticket": ticket_id}))
            .mappings()
            .all()
        )
        return [dict(r) for r in rows]

    async def set_waiting_for(self, tenant_id: str, ticket_id: str, waiting_for: str, now: datetime) -> None:
        await self.session.execute(
            update(pending_settlements)
            .where(
                pending_settlements.c.tenant_id == tenant_id,
                pending_settlements.c.ticket_id == ticket_id,
                pending_settlements.c.status == "waiting",
            )
            .values(waiting_for=waiting_for, updated_at=now)
        )

    async def remove(self, tenant_id: str, work_order_id: str) -> None:
        from sqlalchemy import delete

        await self.session.execute(
            delete(pending_settlements).where(
                pending_settlements.c.tenant_id == tenant_id, pending_settlements.c.work_order_id == work_order_id
            )
        )

    async def mark_failed(self, tenant_id: str, work_order_id: str, error: str, now: datetime) -> None:
        await self.session.execute(
            update(pending_settlements)
            .where(pending_settlements.c.tenant_id == tenant_id, pending_settlements.c.work_order_id == work_order_id)
            .values(status="failed", error=error[:2000], updated_at=now)
        )

    async def list(self, tenant_id: str, limit: int = 100) -> list[dict[str, Any]]:
        rows = (
            (
                await self.session.execute(
                    select(pending_settlements)
                    .where(pending_settlements.c.tenant_id == tenant_id)
                    .order_by(pending_settlements.c.parked_at)
                    .limit(limit)
                )
            )
            .mappings()
            .all()
        )
        return [dict(r) for r in rows]
