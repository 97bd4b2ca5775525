"""Ticket persistence. Every query runs inside a tenant-scoped transaction (RLS) and filters by
tenant as well, so a missing policy can never leak another tenant's rows."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters.orm import tickets
from intake.domain.model import Ticket, TicketStatus


class TicketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, t: Ticket) -> None:
        await self.session.execute(
            insert(tickets).values(
                id=t.id, tenant_id=t.tenant_id, kind=t.kind, channel=t.channel, status=t.status.value,
                symptom=t.symptom, customer_name=t.customer_name, contact_email=t.contact_email,
                contact_phone=t.contact_phone, locale=t.locale, opened_at=t.opened_at,
                updated_at=t.updated_at or t.opened_at, version=1,
            )
        )

    async def get(self, tenant_id: str, ticket_id: str) -> Ticket | None:
        row = (
            await self.session.execute(
                select(tickets).where(tickets.c.tenant_id == tenant_id, tickets.c.id == ticket_id)
            )
        ).mappings().first()
        if row is None:
            return None
        return Ticket(
            id=row["id"], tenant_id=row["tenant_id"], kind=row["kind"], channel=row["channel"],
            symptom=row["symptom"], opened_at=row["opened_at"], status=TicketStatus(row["status"]),
            customer_name=row["customer_name"], contact_email=row["contact_email"],
            contact_phone=row["contact_phone"], locale=row["locale"], updated_at=row["updated_at"],
        )
