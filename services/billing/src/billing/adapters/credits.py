"""Customer credit balances and their ledger. Every query runs inside a tenant-scoped transaction (RLS)
and filters by tenant as well, so a missing policy can never leak another tenant's rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from billing.adapters.orm import credit_entries, customer_credits
from billing.domain.model import CustomerCredit


class CreditRepository:
    """Customer credit balances (one row per customer and currency, locked when changed) and the
    ledger of every change (overpayment +, applied -)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_for_update(self, tenant_id: str, customer_id: str, currency: str, now: datetime) -> CustomerCredit:

        await self.session.execute(
            pg_insert(customer_credits)
            .values(tenant_id=tenant_id, customer_id=customer_id, currency=currency, balance_minor=0, updated_at=now)
            .on_conflict_do_nothing()
        )
        bal = (
            await self.session.execute(
                select(customer_credits.c.balance_minor)
                .where(
                    customer_credits.c.tenant_id == tenant_id,
                    customer_credits.c.customer_id == customer_id,
                    customer_credits.c.currency == currency,
                )
                .with_for_update()
            )
        ).scalar_one()
        return CustomerCredit(tenant_id, customer_id, currency, int(bal))

    async def save(
        self,
        credit: CustomerCredit,
        *,
        delta_minor: int,
        kind: str,
        payment_id: str,
        invoice_id: str,
        entry_id: str,
        now: datetime,
    ) -> None:
        await self.session.execute(
            update(customer_credits)
            .where(
                customer_credits.c.tenant_id == credit.tenant_id,
                customer_credits.c.customer_id == credit.customer_id,
                customer_credits.c.currency == credit.currency,
            )
            .values(balance_minor=credit.balance_minor, updated_at=now)
        )
        await self.session.execute(
            insert(credit_entries).values(
                id=entry_id,
                tenant_id=credit.tenant_id,
                customer_id=credit.customer_id,
                currency=credit.currency,
                amount_minor=delta_minor,
                kind=kind,
                payment_id=payment_id,
                invoice_id=invoice_id,
                at=now,
            )
        )

    async def balances(self, tenant_id: str, customer_id: str) -> list[dict[str, Any]]:
        rows = (
            (
                await self.session.execute(
                    select(customer_credits)
                    .where(customer_credits.c.tenant_id == tenant_id, customer_credits.c.customer_id == customer_id)
                    .order_by(customer_credits.c.currency)
                )
            )
            .mappings()
            .all()
        )
        return [dict(r) for r in rows]

    async def entries(self, tenant_id: str, customer_id: str, limit: int = 50) -> list[dict[str, Any]]:
        rows = (
            (
                await self.session.execute(
                    select(credit_entries)
                    .where(credit_entries.c.tenant_id == tenant_id, credit_entries.c.customer_id == customer_id)
                    .order_by(credit_entries.c.at.desc(), credit_entries.c.id)
                    .limit(limit)
                )
            )
            .mappings()
            .all()
        )
        return [dict(r) for r in rows]
