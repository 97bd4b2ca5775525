"""Invoices, waived charges, payments, refunds, credit notes and gapless document numbers. Every query
runs inside a tenant-scoped transaction (RLS) and filters by tenant as well, so a missing policy can
never leak another tenant's rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from billing.adapters.orm import credit_notes, invoices, payments, refunds, waived_charges
from billing.adapters.serialisation import line_from_json, line_to_json
from billing.domain.model import Invoice
from billing.domain.pricing import Charge, ServiceKind

# --- statements built once, executed with parameters --------------------------------------------
# (not .values(**row) / literal where-clauses per call: that builds a statement and coerces every
# value into a bound literal each time, which cost more Python than the query itself)
_TENANT: BindParameter[str] = bindparam("b_tenant")
_SETTLED = (
    select(invoices.c.id)
    .where(invoices.c.tenant_id == _TENANT, invoices.c.work_order_id == bindparam("b_wo"))
    .union_all(
        select(waived_charges.c.id).where(
            waived_charges.c.tenant_id == _TENANT, waived_charges.c.work_order_id == bindparam("b_wo")
        )
    )
    .limit(1)
)
_NEXT_NUMBER = text(
    "INSERT INTO document_counters AS c (tenant_id, series, year, last_value) VALUES (:t, :s, :y, 1) "
    "ON CONFLICT (tenant_id, series, year) DO UPDATE SET last_value = c.last_value + 1 "
    "RETURNING last_value"
)


class CounterRepository:
    async def next(self, session: AsyncSession, *, tenant_id: str, series: str, year: int) -> int:
        """Next number of a gapless series. One statement creates or increments the counter row and
        keeps it locked until this transaction ends, so concurrent issuers queue (for as short a time
        as possible: call it last before commit) and a rollback gives the number back."""
        return int((await session.execute(_NEXT_NUMBER, {"t": tenant_id, "s": series, "y": year})).scalar_one())


class InvoiceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, inv: Invoice, *, year: int, seq: int) -> None:
        await self.session.execute(
            insert(invoices),
            dict(
                id=inv.id,
                tenant_id=inv.tenant_id,
                number=inv.number,
                year=year,
                seq=seq,
                ticket_id=inv.ticket_id,
                customer_id=inv.customer_id,
                work_order_id=inv.work_order_id,
                service_kind=inv.service_kind.value,
                currency=inv.currency,
                subtotal_minor=inv.subtotal_minor,
                tax_minor=inv.tax_minor,
                total_minor=inv.total_minor,
                paid_minor=inv.paid_minor,
                refunded_minor=inv.refunded_minor,
                lines=[line_to_json(ln) for ln in inv.lines],
                price_book_version=inv.price_book_version,
                issued_at=inv.issued_at,
            ),
        )

    @staticmethod
    def from_row(r: Any) -> Invoice:
        return Invoice(
            id=r["id"],
            number=r["number"],
            tenant_id=r["tenant_id"],
            ticket_id=r["ticket_id"],
            customer_id=r["customer_id"],
            work_order_id=r["work_order_id"],
            service_kind=ServiceKind(r["service_kind"]),
            currency=r["currency"],
            lines=tuple(line_from_json(x) for x in r["lines"]),
            subtotal_minor=r["subtotal_minor"],
            tax_minor=r["tax_minor"],
            total_minor=r["total_minor"],
            issued_at=r["issued_at"],
            paid_minor=r["paid_minor"],
            refunded_minor=r["refunded_minor"],
            price_book_version=r["price_book_version"],
        )

    async def get(self, tenant_id: str, invoice_id: str, *, for_update: bool = False) -> Invoice | None:
        stmt = select(invoices).where(invoices.c.tenant_id == tenant_id, invoices.c.id == invoice_id)
        if for_update:
            stmt = stmt.with_for_update()
        r = (await self.session.execute(stmt)).mappings().first()
        return self.from_row(r) if r else None

    async def save_amounts(self, inv: Invoice) -> None:
        await self.session.execute(
            update(invoices)
            .where(invoices.c.tenant_id == inv.tenant_id, invoices.c.id == inv.id)
            .values(paid_minor=inv.paid_minor, refunded_minor=inv.refunded_minor)
        )

    async def settled_work_order(self, tenant_id: str, work_order_id: str) -> bool:
        return (
            await self.session.execute(_SETTLED, {"b_tenant": tenant_id, "b_wo": work_order_id})
        ).first() is not None

    async def add_waived(
        self,
        *,
        id: str,
        tenant_id: str,
        ticket_id: str,
        work_order_id: str | None,
        charge: Charge,
        reason: str,
        rule: str,
        approved_by: str | None,
        now: datetime,
    ) -> None:
        await self.session.execute(
            insert(waived_charges),
            dict(
                id=id,
                tenant_id=tenant_id,
                ticket_id=ticket_id,
                work_order_id=work_order_id,
                service_kind=charge.service_kind.value,
                currency=charge.currency,
                waived_minor=charge.list_total_minor,
                reason=reason,
                rule=rule,
                approved_by=approved_by,
                lines=[line_to_json(ln) for ln in charge.lines],
                waived_at=now,
            ),
        )

    async def add_payment(self, **values: Any) -> None:
        await self.session.execute(insert(payments).values(**values))

    async def id_for_work_order(self, tenant_id: str, work_order_id: str) -> str | None:
        """The invoice issued for a work order (or a sale: `sale:<asset id>`), if any."""
        return (
            await self.session.execute(
                select(invoices.c.id).where(
                    invoices.c.tenant_id == tenant_id, invoices.c.work_order_id == work_order_id
                )
            )
        ).scalar_one_or_none()

    async def paid_by_method(self, tenant_id: str, invoice_id: str, method: str) -> int:
        return int(
            (
                await self.session.execute(
                    select(func.coalesce(func.sum(payments.c.applied_minor), 0)).where(
                        payments.c.tenant_id == tenant_id,
                        payments.c.invoice_id == invoice_id,
                        payments.c.method == method,
                    )
                )
            ).scalar_one()
        )

    async def payment_count(self, tenant_id: str, invoice_id: str) -> int:
        return int(
            (
                await self.session.execute(
                    select(func.count())
                    .select_from(payments)
                    .where(payments.c.tenant_id == tenant_id, payments.c.invoice_id == invoice_id)
                )
            ).scalar_one()
        )

    async def add_refund(self, **values: Any) -> None:
        await self.session.execute(insert(refunds).values(**values))

    async def add_credit_note(self, **values: Any) -> None:
        await self.session.execute(insert(credit_notes).values(**values))
