"""Use cases of payments, credit and refunds. Each opens its unit of work and commits it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from billing.adapters.credits import CreditRepository
from billing.adapters.invoices import CounterRepository, InvoiceRepository
from billing.adapters.price_books import PriceBookRepository
from billing.domain import commands as c
from billing.domain.exceptions import DomainError, NotFound
from billing.domain.model import Invoice, format_invoice_number, new_id
from fixflow_shared.events.contracts import billing as ev
from fixflow_shared.events.envelope import Envelope
from fixflow_shared.uow import UnitOfWork


@dataclass(frozen=True)
class PaymentResult:
    payment_id: str
    receipt_number: str
    invoice: Invoice
    applied_minor: int
    credit_minor: int
    received_at: datetime


async def record_payment(*, uow: UnitOfWork, cmd: c.RecordPayment) -> PaymentResult:
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = InvoiceRepository(uow.session)
        inv = await repo.get(cmd.tenant_id, cmd.invoice_id, for_update=True)
        if inv is None:
            raise NotFound("invoice", cmd.invoice_id)
        outcome = inv.pay(cmd.amount_minor, cmd.currency)
        n = await repo.payment_count(cmd.tenant_id, inv.id) + 1
        receipt = f"R-{inv.number}-{n:02d}"
        pid = new_id("pay")
        await repo.add_payment(
            id=pid,
            tenant_id=cmd.tenant_id,
            invoice_id=inv.id,
            customer_id=inv.customer_id,
            method=cmd.method,
            currency=cmd.currency,
            amount_minor=cmd.amount_minor,
            applied_minor=outcome.applied_minor,
            credit_minor=outcome.credit_minor,
            receipt_number=receipt,
            reference=cmd.reference,
            received_at=now,
        )
        if outcome.credit_minor > 0 and inv.customer_id:
            # the overpayment becomes the customer's credit, in the invoice's currency
            credits = CreditRepository(uow.session)
            credit = await credits.get_for_update(cmd.tenant_id, inv.customer_id, inv.currency, now)
            credit.add(outcome.credit_minor)
            await credits.save(
                credit,
                delta_minor=outcome.credit_minor,
                kind="overpayment",
                payment_id=pid,
                invoice_id=inv.id,
                entry_id=new_id("cre"),
                now=now,
            )
        await repo.save_amounts(inv)
        uow.emit(
            ev.PaymentReceived(
                payment_id=pid,
                invoice_id=inv.id,
                invoice_number=inv.number,
                ticket_id=inv.ticket_id,
                tenant_id=cmd.tenant_id,
                method=cmd.method,
                currency=cmd.currency,  # type: ignore[arg-type]
                amount_minor=cmd.amount_minor,
                applied_minor=outcome.applied_minor,
                credit_minor=outcome.credit_minor,
                balance_due_minor=outcome.balance_due_minor,
                receipt_number=receipt,
                received_at=now,
            ),
            subject=inv.ticket_id,
            tenant=cmd.tenant_id,
        )
        await uow.commit()
    return PaymentResult(pid, receipt, inv, outcome.applied_minor, outcome.credit_minor, now)


async def apply_credit(*, uow: UnitOfWork, cmd: c.ApplyCredit) -> PaymentResult:
    """Pay an invoice from the customer's credit: a payment of method "credit" (receipt, event),
    never more than due, never more than the balance; the balance row is locked, so concurrent
    applications queue and the balance can never go negative (also a CHECK in the table)."""
    from billing.domain.exceptions import InsufficientCredit, MoreThanDue
    from billing.domain.money import check_currency

    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = InvoiceRepository(uow.session)
        inv = await repo.get(cmd.tenant_id, cmd.invoice_id, for_update=True)
        if inv is None:
            raise NotFound("invoice", cmd.invoice_id)
        currency = check_currency(cmd.currency) if cmd.currency is not None else inv.currency
        if inv.customer_id is None:
            raise DomainError("the invoice has no customer whose credit could pay it")
        if currency != inv.currency:
            from billing.domain.exceptions import CurrencyMismatch

            raise CurrencyMismatch(inv.currency, currency)
        credits = CreditRepository(uow.session)
        credit = await credits.get_for_update(cmd.tenant_id, inv.customer_id, currency, now)
        amount = cmd.amount_minor
        if amount is None:
            amount = min(credit.balance_minor, inv.balance_due_minor)
            if inv.balance_due_minor == 0:
                raise MoreThanDue(f"nothing is due on invoice {inv.number}")
            if amount == 0:
                raise InsufficientCredit(f"the customer has no {currency} credit")
        outcome = inv.apply_credit(amount, currency, available_minor=credit.balance_minor)
        credit.use(amount)
        n = await repo.payment_count(cmd.tenant_id, inv.id) + 1
        receipt = f"R-{inv.number}-{n:02d}"
        pid = new_id("pay")
        await repo.add_payment(
            id=pid,
            tenant_id=cmd.tenant_id,
            invoice_id=inv.id,
            customer_id=inv.customer_id,
            method="credit",
            currency=currency,
            amount_minor=amount,
            applied_minor=amount,
            credit_minor=0,
            receipt_number=receipt,
            reference=f"credit applied by {cmd.recorded_by}"[:200],
            received_at=now,
        )
        await credits.save(
            credit,
            delta_minor=-amount,
            kind="applied",
            payment_id=pid,
            invoice_id=inv.id,
            entry_id=new_id("cre"),
            now=now,
        )
        await repo.save_amounts(inv)
        uow.emit(
            ev.PaymentReceived(
                payment_id=pid,
                invoice_id=inv.id,
                invoice_number=inv.number,
                ticket_id=inv.ticket_id,
                tenant_id=cmd.tenant_id,
                method="credit",
                currency=currency,
                amount_minor=amount,
                applied_minor=amount,
                credit_minor=0,
                balance_due_minor=outcome.balance_due_minor,
                receipt_number=receipt,
                received_at=now,
            ),
            subject=inv.ticket_id,
            tenant=cmd.tenant_id,
        )
        await uow.commit()
    return PaymentResult(pid, receipt, inv, amount, 0, now)


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    credit_note_id: str
    credit_note_number: str
    gross_minor: int
    customer_share_minor: int
    amount_minor: int
    invoice: Invoice


async def issue_refund(*, uow: UnitOfWork, cmd: c.IssueRefund) -> RefundResult:
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = InvoiceRepository(uow.session)
        inv = await repo.get(cmd.tenant_id, cmd.invoice_id, for_update=True)
        if inv is None:
            raise NotFound("invoice", cmd.invoice_id)
        book = await PriceBookRepository(uow.session).effective(cmd.tenant_id, inv.issued_at.date())
        out = inv.refund(
            gross_minor=cmd.amount_minor,
            return_freight_minor=cmd.return_freight_minor,
            card_fee_minor=cmd.card_fee_minor,
            now=now,
            window_days=book.return_window_days,
        )
        seq = await CounterRepository().next(uow.session, tenant_id=cmd.tenant_id, series="CN", year=now.year)
        cn_number = format_invoice_number(now.year, seq, series="CN")
        cn_id, rf_id = new_id("crn"), new_id("rfd")
        await repo.add_credit_note(
            id=cn_id,
            tenant_id=cmd.tenant_id,
            number=cn_number,
            invoice_id=inv.id,
            currency=inv.currency,
            amount_minor=out.gross_minor,
            reason=cmd.reason,
            issued_at=now,
        )
        await repo.add_refund(
            id=rf_id,
            tenant_id=cmd.tenant_id,
            invoice_id=inv.id,
            gross_minor=out.gross_minor,
            customer_share_minor=out.customer_share_minor,
            amount_minor=out.amount_minor,
            credit_note_id=cn_id,
            issued_at=now,
        )
        await repo.save_amounts(inv)
        await emit_refund(uow, cmd, inv, out, cn_id=cn_id, cn_number=cn_number, rf_id=rf_id, now=now, causation=None)
        await uow.commit()
    return RefundResult(rf_id, cn_id, cn_number, out.gross_minor, out.customer_share_minor, out.amount_minor, inv)


async def emit_refund(
    uow: UnitOfWork,
    cmd: c.IssueRefund,
    inv: Invoice,
    out: Any,
    *,
    cn_id: str,
    cn_number: str,
    rf_id: str,
    now: datetime,
    causation: Envelope | None,
) -> None:
    """Credit note + refund events, about the return ticket when there is one (else the invoice's)."""
    ticket = cmd.ticket_id or inv.ticket_id
    uow.emit(
        ev.CreditNoteIssued(
            credit_note_id=cn_id,
            credit_note_number=cn_number,
            invoice_id=inv.id,
            invoice_number=inv.number,
            ticket_id=ticket,
            tenant_id=cmd.tenant_id,
            currency=inv.currency,
            amount_minor=out.gross_minor,
            reason=cmd.reason,
            issued_at=now,
        ),
        subject=ticket,
        tenant=cmd.tenant_id,
        causation=causation,
    )
    uow.emit(
        ev.RefundIssued(
            refund_id=rf_id,
            invoice_id=inv.id,
            ticket_id=ticket,
            tenant_id=cmd.tenant_id,
            currency=inv.currency,
            gross_minor=out.gross_minor,
            customer_share_minor=out.customer_share_minor,
            amount_minor=out.amount_minor,
            credit_note_id=cn_id,
            issued_at=now,
        ),
        subject=ticket,
        tenant=cmd.tenant_id,
        causation=causation,
    )
