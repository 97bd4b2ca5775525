"""Use cases of price books (versioned fee schedules). Each opens its unit of work and commits it."""

from __future__ import annotations

from billing.adapters.price_books import PriceBookRepository
from billing.domain.price_book import PriceBook
from fixflow_shared.uow import UnitOfWork


async def set_price_book(*, uow: UnitOfWork, book: PriceBook, created_by: str) -> PriceBook:
    async with uow:
        await uow.scope_to_tenant(book.tenant_id)
        repo = PriceBookRepository(uow.session)
        # Versions are numbered per tenant; the row lock on the tenant's newest version is not
        # needed because (tenant_id, version) is the primary key: a concurrent writer fails cleanly.
        version = await repo.next_version(book.tenant_id)
        from dataclasses import replace

        book = replace(book, version=version)
        await repo.add(book, created_by=created_by, now=uow.clock.now())
        await uow.commit()
    return book
