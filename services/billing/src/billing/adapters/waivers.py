"""Waiver requests and their approval. Every query runs inside a tenant-scoped transaction (RLS) and
filters by tenant as well, so a missing policy can never leak another tenant's rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from billing.adapters.orm import waivers
from billing.domain.model import WaiverRequest, WaiverStatus

# --- statements built once, executed with parameters --------------------------------------------
# (not .values(**row) / literal where-clauses per call: that builds a statement and coerces every
# value into a bound literal each time, which cost more Python than the query itself)
_TENANT: BindParameter[str] = bindparam("b_tenant")
_OPEN_WAIVERS = (
    select(waivers)
    .where(
        waivers.c.tenant_id == _TENANT,
        waivers.c.ticket_id == bindparam("b_ticket"),
        waivers.c.status.in_([WaiverStatus.PENDING.value, WaiverStatus.APPROVED.value]),
    )
    .order_by(waivers.c.created_at)
)


class WaiverRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, w: WaiverRequest, now: datetime) -> None:
        await self.session.execute(
            insert(waivers).values(
                id=w.id,
                tenant_id=w.tenant_id,
                ticket_id=w.ticket_id,
                amount_minor=w.amount_minor,
                currency=w.currency,
                reason=w.reason,
                requested_by=w.requested_by,
                status=w.status.value,
                approved_by=w.approved_by,
                created_at=now,
            )
        )

    @staticmethod
    def _from(r: Any) -> WaiverRequest:
        return WaiverRequest(
            id=r["id"],
            tenant_id=r["tenant_id"],
            ticket_id=r["ticket_id"],
            amount_minor=r["amount_minor"],
            currency=r["currency"],
            reason=r["reason"],
            requested_by=r["requested_by"],
            status=WaiverStatus(r["status"]),
            approved_by=r["approved_by"],
        )

    async def get(self, tenant_id: str, waiver_id: str, *, for_update: bool = False) -> WaiverRequest | None:
        stmt = select(waivers).where(waivers.c.tenant_id == tenant_id, waivers.c.id == waiver_id)
        if for_update:
            stmt = stmt.with_for_update()
        r = (await self.session.execute(stmt)).mappings().first()
        return self._from(r) if r else None

    async def approved_for_ticket(self, tenant_id: str, ticket_id: str) -> list[WaiverRequest]:
        rows = (
            (
                await self.session.execute(
                    select(waivers)
                    .where(
                        waivers.c.tenant_id == tenant_id,
                        waivers.c.ticket_id == ticket_id,
                        waivers.c.status == WaiverStatus.APPROVED.value,
                    )
                    .order_by(waivers.c.created_at)
                )
            )
            .mappings()
            .all()
        )
        return [self._from(r) for r in rows]

    async def open_for_ticket(self, tenant_id: str, ticket_id: str) -> list[WaiverRequest]:
        """The ticket's pending and approved waivers (oldest first): `has_pending` and
        `approved_for_ticket` in one statement."""
        rows = (
            (await self.session.execute(_OPEN_WAIVERS, {"b_tenant": tenant_id, "b_ticket": ticket_id})).mappings().all()
        )
        return [self._from(r) for r in rows]

    async def mark_applied(self, tenant_id: str, ticket_id: str) -> None:
        await self.session.execute(
            update(waivers)
            .where(
                waivers.c.tenant_id == tenant_id,
                waivers.c.ticket_id == ticket_id,
                waivers.c.status == WaiverStatus.APPROVED.value,
            )
            .values(status=WaiverStatus.APPLIED.value)
        )

    async def has_pending(self, tenant_id: str, ticket_id: str) -> bool:
        return (
            await self.session.execute(
                select(waivers.c.id)
                .where(
                    waivers.c.tenant_id == tenant_id,
                    waivers.c.ticket_id == ticket_id,
                    waivers.c.status == WaiverStatus.PENDING.value,
                )
                .limit(1)
            )
        ).first() is not None

    async def save(self, w: WaiverRequest) -> None:
        await self.session.execute(
            update(waivers)
            .where(waivers.c.tenant_id == w.tenant_id, waivers.c.id == w.id)
            .values(status=w.status.value, approved_by=w.approved_by)
        )
