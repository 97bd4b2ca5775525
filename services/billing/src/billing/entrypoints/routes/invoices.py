"""HTTP: /v1/invoices (JSON and PDF), payments with receipts, refunds with credit notes."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ConfigDict, Field

from billing import views
from billing.adapters import rendering
from billing.domain.commands import ApplyCredit, IssueRefund, RecordPayment
from billing.domain.model import Invoice
from billing.domain.money import check_currency
from billing.entrypoints.routes.common import (
    Currency,
    LineOut,
    MinorAmount,
    NonNegMinor,
    RuntimeDep,
    invoice_owner,
    lines_out,
)
from billing.service_layer import payments
from fixflow_shared.access import Access, Authorize
from fixflow_shared.errors import NotFound
from fixflow_shared.problems import problem_responses

router = APIRouter(prefix="/invoices", tags=["invoices"])
InvoicesList = Annotated[Access, Depends(Authorize("invoices.list"))]
InvoicesRead = Annotated[Access, Depends(Authorize("invoices.read", owner=invoice_owner, what="invoice"))]
Pay = Annotated[Access, Depends(Authorize("invoices.pay"))]
CreditApply = Annotated[Access, Depends(Authorize("invoices.apply_credit"))]
Refund = Annotated[Access, Depends(Authorize("invoices.refund"))]


class ReceiptOut(BaseModel):
    receipt_number: str
    method: str
    amount_minor: int
    applied_minor: int
    credit_minor: int
    received_at: datetime

    @classmethod
    def of(cls, p: dict[str, Any]) -> ReceiptOut:
        return cls(**{k: p[k] for k in cls.model_fields})


class InvoiceOut(BaseModel):
    id: str
    number: str
    ticket_id: str
    customer_id: str | None
    work_order_id: str | None
    service_kind: str
    status: str
    currency: str
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    paid_minor: int
    refunded_minor: int
    balance_due_minor: int
    lines: list[LineOut]
    issued_at: datetime
    price_book_version: int
    payments: list[ReceiptOut] = Field(default_factory=list, description="payments received, each with its receipt")

    @classmethod
    def of(cls, i: Invoice, paid: list[dict[str, Any]] | None = None) -> InvoiceOut:
        return cls(
            id=i.id,
            number=i.number,
            ticket_id=i.ticket_id,
            customer_id=i.customer_id,
            work_order_id=i.work_order_id,
            service_kind=i.service_kind.value,
            status=i.status.value,
            currency=i.currency,
            subtotal_minor=i.subtotal_minor,
            tax_minor=i.tax_minor,
            total_minor=i.total_minor,
            paid_minor=i.paid_minor,
            refunded_minor=i.refunded_minor,
            balance_due_minor=i.balance_due_minor,
            lines=lines_out(i.lines),
            issued_at=i.issued_at,
            price_book_version=i.price_book_version,
            payments=[ReceiptOut.of(p) for p in paid or []],
        )


@router.get("", response_model=list[InvoiceOut])
async def list_invoices(
    principal: InvoicesList,
    rt: RuntimeDep,
    ticket_id: str | None = None,
    customer_id: str | None = None,
    limit: int = 100,
) -> list[InvoiceOut]:
    rows = await views.list_invoices(
        uow=rt.uow(),
        tenant_id=principal.tenant,
        ticket_id=ticket_id,
        customer_id=principal.customer_scope or customer_id,  # a customer lists its own invoices only
        limit=max(1, min(limit, 500)),
    )
    paid = await views.payments_of(uow=rt.uow(), tenant_id=principal.tenant, invoice_ids=[i.id for i in rows])
    return [InvoiceOut.of(i, paid.get(i.id)) for i in rows]


@router.get("/{invoice_id}", response_model=InvoiceOut, responses=problem_responses(404))
async def read_invoice(invoice_id: str, principal: InvoicesRead, rt: RuntimeDep) -> InvoiceOut:
    inv = await views.get_invoice(uow=rt.uow(), tenant_id=principal.tenant, invoice_id=invoice_id)
    if inv is None:
        raise NotFound("invoice", invoice_id)
    paid = await views.payments_of(uow=rt.uow(), tenant_id=principal.tenant, invoice_ids=[inv.id])
    return InvoiceOut.of(inv, paid.get(inv.id))


@router.get(
    "/{invoice_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **problem_responses(404)},
)
async def invoice_pdf(invoice_id: str, principal: InvoicesRead, rt: RuntimeDep) -> Response:
    inv = await views.get_invoice(uow=rt.uow(), tenant_id=principal.tenant, invoice_id=invoice_id)
    if inv is None:
        raise NotFound("invoice", invoice_id)
    return Response(
        await asyncio.to_thread(rendering.invoice_pdf, inv),  # CPU work: off the event loop
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="{inv.number}.pdf"'},
    )


@router.get(
    "/{invoice_id}/receipts/{receipt_number}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **problem_responses(404)},
)
async def receipt_pdf(invoice_id: str, receipt_number: str, principal: InvoicesRead, rt: RuntimeDep) -> Response:
    """The receipt of one payment of the invoice (whoever may read the invoice may read its receipts)."""
    inv = await views.get_invoice(uow=rt.uow(), tenant_id=principal.tenant, invoice_id=invoice_id)
    if inv is None:
        raise NotFound("invoice", invoice_id)
    paid = await views.payments_of(uow=rt.uow(), tenant_id=principal.tenant, invoice_ids=[inv.id])
    found = next((p for p in paid.get(inv.id, []) if p["receipt_number"] == receipt_number), None)
    if found is None:
        raise NotFound("receipt", receipt_number)
    return Response(
        await asyncio.to_thread(rendering.receipt_pdf, inv, found),
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="{receipt_number}.pdf"'},
    )


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_minor: MinorAmount
    currency: Currency
    method: Literal["cash", "card", "transfer", "online"]
    reference: str | None = Field(None, max_length=200)


class PaymentOut(BaseModel):
    payment_id: str
    receipt_number: str
    invoice_id: str
    amount_minor: int
    applied_minor: int
    credit_minor: int
    balance_due_minor: int
    invoice_status: str
    received_at: datetime


@router.post(
    "/{invoice_id}/payments",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentOut,
    responses=problem_responses(404, 409),
)
async def pay_invoice(invoice_id: str, body: PaymentIn, principal: Pay, rt: RuntimeDep) -> PaymentOut:
    check_currency(body.currency)
    r = await payments.record_payment(
        uow=rt.uow(),
        cmd=RecordPayment(
            tenant_id=principal.tenant,
            invoice_id=invoice_id,
            amount_minor=body.amount_minor,
            currency=body.currency,
            method=body.method,
            recorded_by=principal.subject,
            reference=body.reference,
        ),
    )
    return PaymentOut(
        payment_id=r.payment_id,
        receipt_number=r.receipt_number,
        invoice_id=invoice_id,
        amount_minor=body.amount_minor,
        applied_minor=r.applied_minor,
        credit_minor=r.credit_minor,
        balance_due_minor=r.invoice.balance_due_minor,
        invoice_status=r.invoice.status.value,
        received_at=r.received_at,
    )


class ApplyCreditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_minor: MinorAmount | None = Field(
        None, description="default: as much as both the customer's credit and the balance due allow"
    )
    currency: Currency | None = Field(None, description="default: the invoice's currency")


@router.post(
    "/{invoice_id}/apply-credit",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentOut,
    responses=problem_responses(404, 409),
)
async def apply_credit(invoice_id: str, body: ApplyCreditIn, principal: CreditApply, rt: RuntimeDep) -> PaymentOut:
    """Pay from the customer's credit (a payment of method "credit"), never more than is due."""
    r = await payments.apply_credit(
        uow=rt.uow(),
        cmd=ApplyCredit(
            tenant_id=principal.tenant,
            invoice_id=invoice_id,
            amount_minor=body.amount_minor,
            currency=body.currency,
            recorded_by=principal.subject,
        ),
    )
    return PaymentOut(
        payment_id=r.payment_id,
        receipt_number=r.receipt_number,
        invoice_id=invoice_id,
        amount_minor=r.applied_minor,
        applied_minor=r.applied_minor,
        credit_minor=0,
        balance_due_minor=r.invoice.balance_due_minor,
        invoice_status=r.invoice.status.value,
        received_at=r.received_at,
    )


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_minor: MinorAmount | None = Field(None, description="gross amount returned; default: all paid")
    return_freight_minor: NonNegMinor = 0
    card_fee_minor: NonNegMinor = 0
    reason: str = Field(min_length=1, max_length=2000)


class RefundOut(BaseModel):
    refund_id: str
    credit_note_id: str
    credit_note_number: str
    gross_minor: int
    customer_share_minor: int
    amount_minor: int
    invoice_status: str


@router.post(
    "/{invoice_id}/refunds",
    status_code=status.HTTP_201_CREATED,
    response_model=RefundOut,
    responses=problem_responses(404, 409),
)
async def refund_invoice(invoice_id: str, body: RefundIn, principal: Refund, rt: RuntimeDep) -> RefundOut:
    r = await payments.issue_refund(
        uow=rt.uow(),
        cmd=IssueRefund(
            tenant_id=principal.tenant,
            invoice_id=invoice_id,
            amount_minor=body.amount_minor,
            return_freight_minor=body.return_freight_minor,
            card_fee_minor=body.card_fee_minor,
            reason=body.reason,
            recorded_by=principal.subject,
        ),
    )
    return RefundOut(
        refund_id=r.refund_id,
        credit_note_id=r.credit_note_id,
        credit_note_number=r.credit_note_number,
        gross_minor=r.gross_minor,
        customer_share_minor=r.customer_share_minor,
        amount_minor=r.amount_minor,
        invoice_status=r.invoice.status.value,
    )
