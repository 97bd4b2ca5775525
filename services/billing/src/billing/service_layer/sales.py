"""Counter sales and returns (退换货): the sale's invoice, and the refund when the goods come back. Each opens its unit of work and commits it."""

from __future__ import annotations

from typing import Any

from billing.adapters.entitlements import TicketFactsRepository
from billing.adapters.invoices import CounterRepository, InvoiceRepository
from billing.adapters.price_books import PriceBookRepository
from billing.domain import commands as c
from billing.domain.exceptions import UnknownReference
from billing.domain.model import Invoice, format_invoice_number, new_id
from billing.service_layer.payments import RefundResult, emit_refund
from billing.service_layer.settlement import issue_invoice
from fixflow_shared.events.envelope import Envelope
from fixflow_shared.uow import UnitOfWork


def sale_reference(asset_id: str) -> str:
    """A sale is keyed by the asset sold (one sale per serial): invoices.work_order_id holds it,
    so the unique (tenant, work_order_id) makes recording the same sale twice impossible."""
    return f"sale:{asset_id}"


async def record_sale(
    *, uow: UnitOfWork, tenant_id: str, customer_id: str, asset_id: str, sale_id: str, items: tuple[Any, ...]
) -> Invoice:
    """A counter sale of goods (the asset): an invoice the customer pays like any other, and the
    one a return of that asset refunds. The invoice's ticket id is the sale's own reference."""
    from billing.domain.sales import sale_charge

    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        if not await TicketFactsRepository(uow.session).customer_known(tenant_id, customer_id):
            raise UnknownReference("customer", customer_id)
        if await InvoiceRepository(uow.session).id_for_work_order(tenant_id, sale_reference(asset_id)):
            from billing.domain.exceptions import AlreadySold

            raise AlreadySold(f"asset {asset_id} was sold already")
        book = await PriceBookRepository(uow.session).effective(tenant_id, now.date())
        charge = sale_charge(book=book, items=items)
        inv = await issue_invoice(
            uow,
            tenant_id=tenant_id,
            ticket_id=sale_id,
            customer_id=customer_id,
            work_order_id=sale_reference(asset_id),
            charge=charge,
            book=book,
            now=now,
            causation=None,
        )
        await uow.commit()
    return inv


async def refund_return(
    *, uow: UnitOfWork, envelope: Envelope, ticket_id: str, shipment_id: str
) -> RefundResult | None:
    """dispatch's return.received: the returned goods reached the warehouse. Refund what was paid
    for them, minus the customer's share (the tenant's return freight and the card fee on what was
    paid by card), with a credit note, within the price book's return window; the events are about
    the return ticket. Nothing to refund (no sale of that asset recorded here, nothing paid) is
    left to an agent; an expired window is a permanent refusal (ReturnWindowClosed)."""
    from billing.domain.sales import card_fee_minor

    tenant = envelope.tenantid
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(tenant)
        if not await uow.claim("billing.return_received", envelope):
            return None
        facts = await TicketFactsRepository(uow.session).get(tenant, ticket_id)
        repo = InvoiceRepository(uow.session)
        invoice_id = (
            await repo.id_for_work_order(tenant, sale_reference(facts["asset_id"]))
            if facts and facts.get("asset_id")
            else None
        )
        inv = await repo.get(tenant, invoice_id, for_update=True) if invoice_id else None
        if inv is None or inv.paid_minor - inv.refunded_minor <= 0:
            await uow.commit()  # keep the inbox row: there is nothing billing can refund
            return None
        book = await PriceBookRepository(uow.session).effective(tenant, inv.issued_at.date())
        gross = inv.paid_minor - inv.refunded_minor
        freight = min(book.freight_minor, gross)
        card = min(
            card_fee_minor(book=book, card_paid_minor=await repo.paid_by_method(tenant, inv.id, "card")),
            gross - freight,
        )
        cmd = c.IssueRefund(
            tenant_id=tenant,
            invoice_id=inv.id,
            amount_minor=gross,
            return_freight_minor=freight,
            card_fee_minor=card,
            recorded_by="system:return",
            reason=f"return received at the warehouse (shipment {shipment_id})",
            ticket_id=ticket_id,
        )
        out = inv.refund(
            gross_minor=gross,
            return_freight_minor=freight,
            card_fee_minor=card,
            now=now,
            window_days=book.return_window_days,
        )
        seq = await CounterRepository().next(uow.session, tenant_id=tenant, series="CN", year=now.year)
        cn_number = format_invoice_number(now.year, seq, series="CN")
        cn_id, rf_id = new_id("crn"), new_id("rfd")
        await repo.add_credit_note(
            id=cn_id,
            tenant_id=tenant,
            number=cn_number,
            invoice_id=inv.id,
            currency=inv.currency,
            amount_minor=out.gross_minor,
            reason=cmd.reason,
            issued_at=now,
        )
        await repo.add_refund(
            id=rf_id,
            tenant_id=tenant,
            invoice_id=inv.id,
            gross_minor=out.gross_minor,
            customer_share_minor=out.customer_share_minor,
            amount_minor=out.amount_minor,
            credit_note_id=cn_id,
            issued_at=now,
        )
        await repo.save_amounts(inv)
        await emit_refund(
            uow, cmd, inv, out, cn_id=cn_id, cn_number=cn_number, rf_id=rf_id, now=now, causation=envelope
        )
        await uow.commit()
    return RefundResult(rf_id, cn_id, cn_number, out.gross_minor, out.customer_share_minor, out.amount_minor, inv)
