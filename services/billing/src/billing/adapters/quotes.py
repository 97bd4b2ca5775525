"""Quotes and the customer's consent. Every query runs inside a tenant-scoped transaction (RLS) and
filters by tenant as well, so a missing policy can never leak another tenant's rows."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from billing.adapters.orm import quotes
from billing.adapters.serialisation import charge_from_json, charge_to_json
from billing.domain.model import Consent, Quote, QuoteStatus


class QuoteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, q: Quote) -> None:
        await self.session.execute(
            insert(quotes).values(
                id=q.id,
                tenant_id=q.tenant_id,
                ticket_id=q.ticket_id,
                customer_id=q.customer_id,
                status=q.status.value,
                currency=q.charge.currency,
                total_minor=q.charge.total_minor,
                charge=charge_to_json(q.charge),
                issued_at=q.issued_at,
                valid_until=q.valid_until,
                consent=None,
            )
        )

    async def get(self, tenant_id: str, quote_id: str, *, for_update: bool = False) -> Quote | None:
        stmt = select(quotes).where(quotes.c.tenant_id == tenant_id, quotes.c.id == quote_id)
        if for_update:
            stmt = stmt.with_for_update()
        r = (await self.session.execute(stmt)).mappings().first()
        if r is None:
            return None
        consent = None
        if r["consent"]:
            c = dict(r["consent"])
            c["at"] = datetime.fromisoformat(c["at"])
            consent = Consent(**c)
        return Quote(
            id=r["id"],
            tenant_id=r["tenant_id"],
            ticket_id=r["ticket_id"],
            customer_id=r["customer_id"],
            charge=charge_from_json(r["charge"]),
            issued_at=r["issued_at"],
            valid_until=r["valid_until"],
            status=QuoteStatus(r["status"]),
            consent=consent,
        )

    async def save_decision(self, q: Quote) -> None:
        assert q.consent is not None
        c = asdict(q.consent)
        c["at"] = q.consent.at.isoformat()
        await self.session.execute(
            update(quotes)
            .where(quotes.c.tenant_id == q.tenant_id, quotes.c.id == q.id)
            .values(status=q.status.value, consent=c)
        )
