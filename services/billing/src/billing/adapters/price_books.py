"""Price books, versioned per tenant. Every query runs inside a tenant-scoped transaction (RLS) and
filters by tenant as well, so a missing policy can never leak another tenant's rows."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from billing.adapters.orm import price_books
from billing.adapters.serialisation import book_from_row, book_to_config
from billing.domain.price_book import PriceBook, demo_price_book

# --- statements built once, executed with parameters --------------------------------------------
# (not .values(**row) / literal where-clauses per call: that builds a statement and coerces every
# value into a bound literal each time, which cost more Python than the query itself)
_TENANT: BindParameter[str] = bindparam("b_tenant")
_EFFECTIVE_BOOK = (
    select(price_books)
    .where(price_books.c.tenant_id == _TENANT, price_books.c.effective_from <= bindparam("b_on"))
    .order_by(price_books.c.effective_from.desc(), price_books.c.version.desc())
    .limit(1)
)


class PriceBookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_version(self, tenant_id: str) -> int:
        v = (
            await self.session.execute(
                select(func.coalesce(func.max(price_books.c.version), 0)).where(price_books.c.tenant_id == tenant_id)
            )
        ).scalar_one()
        return int(v) + 1

    async def add(self, book: PriceBook, *, created_by: str, now: datetime) -> None:
        await self.session.execute(
            insert(price_books).values(
                tenant_id=book.tenant_id,
                version=book.version,
                effective_from=book.effective_from,
                currency=book.currency,
                config=book_to_config(book),
                created_by=created_by,
                created_at=now,
            )
        )

    async def effective(self, tenant_id: str, on: date) -> PriceBook:
        """The newest version in effect on `on`; the retailer's demo schedule if none is configured."""
        row = (await self.session.execute(_EFFECTIVE_BOOK, {"b_tenant": tenant_id, "b_on": on})).mappings().first()
        return book_from_row(row) if row else demo_price_book(tenant_id)

    async def list(self, tenant_id: str) -> list[PriceBook]:
        rows = (
            (
                await self.session.execute(
                    select(price_books).where(price_books.c.tenant_id == tenant_id).order_by(price_books.c.version)
                )
            )
            .mappings()
            .all()
        )
        return [book_from_row(r) for r in rows]
