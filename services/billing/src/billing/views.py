"""Read side: queries that answer the API directly."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from billing.adapters.credits import CreditRepository
from billing.adapters.invoices import InvoiceRepository
from billing.adapters.orm import credit_notes, invoices, payments, quotes, waived_charges
from billing.adapters.price_books import PriceBookRepository
from billing.adapters.quotes import QuoteRepository
from billing.adapters.settlements import PendingSettlementRepository
from billing.domain.model import Invoice, Quote
from billing.domain.price_book import PriceBook
from fixflow_shared.uow import UnitOfWork


async def effective_price_book(*, uow: UnitOfWork, tenant_id: str, on: date | None) -> PriceBook:
    """The price book in force on `on` (default: today by the service's clock)."""
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await PriceBookRepository(uow.session).effective(tenant_id, on or uow.clock.now().date())


async def get_invoice(*, uow: UnitOfWork, tenant_id: str, invoice_id: str) -> Invoice | None:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await InvoiceRepository(uow.session).get(tenant_id, invoice_id)


async def payments_of(*, uow: UnitOfWork, tenant_id: str, invoice_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The payments (each with its receipt) of these invoices, oldest first."""
    if not invoice_ids:
        return {}
    stmt = (
        select(payments)
        .where(payments.c.tenant_id == tenant_id, payments.c.invoice_id.in_(invoice_ids))
        .order_by(payments.c.received_at, payments.c.receipt_number)
    )
    out: dict[str, list[dict[str, Any]]] = {}
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        for r in (await uow.session.execute(stmt)).mappings():
            out.setdefault(r["invoice_id"], []).append(dict(r))
    return out


async def list_invoices(
    *, uow: UnitOfWork, tenant_id: str, ticket_id: str | None, customer_id: str | None, limit: int
) -> list[Invoice]:
    stmt = select(invoices).where(invoices.c.tenant_id == tenant_id)
    if ticket_id:
        stmt = stmt.where(invoices.c.ticket_id == ticket_id)
    if customer_id:
        stmt = stmt.where(invoices.c.customer_id == customer_id)
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        rows = (await uow.session.execute(stmt.order_by(invoices.c.issued_at).limit(limit))).mappings().all()
    return [InvoiceRepository.from_row(r) for r in rows]


async def quotes_of_ticket(*, uow: UnitOfWork, tenant_id: str, ticket_id: str) -> list[Quote]:
    """A ticket's quotes, oldest first (a ticket has a handful at most)."""
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        ids = (
            await uow.session.execute(
                select(quotes.c.id)
                .where(quotes.c.tenant_id == tenant_id, quotes.c.ticket_id == ticket_id)
                .order_by(quotes.c.issued_at)
                .limit(50)
            )
        ).scalars()
        repo = QuoteRepository(uow.session)
        found = [q for i in list(ids) if (q := await repo.get(tenant_id, i)) is not None]
    now = datetime.now(UTC)
    for q in found:
        q.expire_if_due(now)
    return found


async def pending_settlements(*, uow: UnitOfWork, tenant_id: str, limit: int) -> list[dict[str, Any]]:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await PendingSettlementRepository(uow.session).list(tenant_id, limit)


async def waived_charges_of_ticket(*, uow: UnitOfWork, tenant_id: str, ticket_id: str) -> list[dict[str, Any]]:
    """Work orders settled at no charge (warranty, contract, package, waiver), oldest first."""
    stmt = (
        select(waived_charges)
        .where(waived_charges.c.tenant_id == tenant_id, waived_charges.c.ticket_id == ticket_id)
        .order_by(waived_charges.c.waived_at, waived_charges.c.id)
    )
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return [dict(r) for r in (await uow.session.execute(stmt)).mappings().all()]


async def customer_credit(
    *, uow: UnitOfWork, tenant_id: str, customer_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = CreditRepository(uow.session)
        return await repo.balances(tenant_id, customer_id), await repo.entries(tenant_id, customer_id)


async def get_quote(*, uow: UnitOfWork, tenant_id: str, quote_id: str) -> Quote | None:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        q = await QuoteRepository(uow.session).get(tenant_id, quote_id)
    if q is not None:
        q.expire_if_due(uow.clock.now())  # expiry is evaluated lazily, on read (no event)
    return q


@dataclass
class Statement:
    tenant_id: str
    customer_id: str
    month: str
    rows: list[dict[str, Any]] = field(default_factory=list)  # chronological documents
    totals: dict[str, dict[str, int]] = field(default_factory=dict)  # per currency

    def as_json(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "month": self.month, "rows": self.rows, "totals": self.totals}


async def monthly_statement(*, uow: UnitOfWork, tenant_id: str, customer_id: str, month: str) -> Statement:
    y, m = (int(x) for x in month.split("-"))
    start = datetime(y, m, 1, tzinfo=UTC)
    end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
    st = Statement(tenant_id, customer_id, month)
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        s = uow.session
        inv = (
            (
                await s.execute(
                    select(invoices).where(
                        invoices.c.tenant_id == tenant_id,
                        invoices.c.customer_id == customer_id,
                        invoices.c.issued_at >= start,
                        invoices.c.issued_at < end,
                    )
                )
            )
            .mappings()
            .all()
        )
        pay = (
            (
                await s.execute(
                    select(payments).where(
                        payments.c.tenant_id == tenant_id,
                        payments.c.customer_id == customer_id,
                        payments.c.received_at >= start,
                        payments.c.received_at < end,
                    )
                )
            )
            .mappings()
            .all()
        )
        inv_ids = [
            r["id"]
            for r in (
                await s.execute(
                    select(invoices.c.id).where(
                        invoices.c.tenant_id == tenant_id, invoices.c.customer_id == customer_id
                    )
                )
            )
            .mappings()
            .all()
        ]
        cns = (
            (
                await s.execute(
                    select(credit_notes).where(
                        credit_notes.c.tenant_id == tenant_id,
                        credit_notes.c.invoice_id.in_(inv_ids or [""]),
                        credit_notes.c.issued_at >= start,
                        credit_notes.c.issued_at < end,
                    )
                )
            )
            .mappings()
            .all()
        )
    for r in inv:
        st.rows.append(
            {
                "date": r["issued_at"].isoformat(),
                "document": r["number"],
                "kind": "invoice",
                "ticket_id": r["ticket_id"],
                "currency": r["currency"],
                "debit_minor": r["total_minor"],
                "credit_minor": 0,
            }
        )
    for r in pay:
        # credit applied is money the customer already paid (counted with the overpayment): shown, not
        # counted again
        by_credit = r["method"] == "credit"
        st.rows.append(
            {
                "date": r["received_at"].isoformat(),
                "document": r["receipt_number"],
                "kind": "credit_applied" if by_credit else "payment",
                "ticket_id": "",
                "currency": r["currency"],
                "debit_minor": 0,
                "credit_minor": 0 if by_credit else r["amount_minor"],
            }
        )
    for r in cns:
        st.rows.append(
            {
                "date": r["issued_at"].isoformat(),
                "document": r["number"],
                "kind": "credit_note",
                "ticket_id": "",
                "currency": r["currency"],
                "debit_minor": 0,
                "credit_minor": r["amount_minor"],
            }
        )
    st.rows.sort(key=lambda r: (r["date"], r["document"]))
    for line in st.rows:
        t = st.totals.setdefault(line["currency"], {"debit_minor": 0, "credit_minor": 0, "balance_minor": 0})
        t["debit_minor"] += line["debit_minor"]
        t["credit_minor"] += line["credit_minor"]
        t["balance_minor"] = t["debit_minor"] - t["credit_minor"]
    return st
