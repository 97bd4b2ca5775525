"""Events published by the billing service on fixflow.billing.invoices (key = ticket id).

Money is always integer minor units (`*_minor`) plus an ISO 4217 `currency` code.
Payloads carry ids, not PII: consumers (intake, notify) resolve contacts themselves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fixflow_shared import topics
from fixflow_shared.events.registry import TicketEvent, event

ServiceKind = Literal["A", "B", "C", "D"]
"""A paid (out of warranty), B contract, C free (in warranty), D internal."""

PaymentMethod = Literal["cash", "card", "transfer", "online", "credit"]


class LineSummary(BaseModel):
    """One invoice / quote line as it travels in events."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    code: str = Field(description="visit | adjustment | labour | part | reinstall | freight | discount | ...")
    description: str
    quantity: int = 1
    unit_price_minor: int
    amount_minor: int = Field(description="net amount of the line (quantity x unit price, after waivers)")
    charged: bool = Field(description="False when the line is covered (warranty, contract, package)")
    reason: str = Field(description="why charged or why free, and which rule")
    rule: str = Field(description="stable rule id, e.g. warranty.quality_repair_free")


@event("fixflow.billing.quote.issued.v1", topic=topics.BILLING_INVOICES)
class QuoteIssued(TicketEvent):
    quote_id: str
    ticket_id: str
    tenant_id: str
    customer_id: str | None = None
    currency: str
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    valid_until: datetime
    lines: list[LineSummary] = Field(default_factory=list)
    issued_at: datetime


@event("fixflow.billing.quote.accepted.v1", topic=topics.BILLING_INVOICES)
class QuoteAccepted(TicketEvent):
    quote_id: str
    ticket_id: str
    tenant_id: str
    total_minor: int
    currency: str
    consent_by: str = Field(description="subject (user id) who recorded the customer's consent")
    consent_channel: str = Field(description="phone | on_site_signature | web | wechat | ...")
    accepted_at: datetime


@event("fixflow.billing.quote.rejected.v1", topic=topics.BILLING_INVOICES)
class QuoteRejected(TicketEvent):
    quote_id: str
    ticket_id: str
    tenant_id: str
    consent_by: str
    consent_channel: str
    reason: str | None = None
    rejected_at: datetime


@event("fixflow.billing.invoice.issued.v1", topic=topics.BILLING_INVOICES)
class InvoiceIssued(TicketEvent):
    invoice_id: str
    invoice_number: str = Field(description="gapless per tenant and year, e.g. 2025-000042")
    ticket_id: str
    tenant_id: str
    customer_id: str | None = None
    work_order_id: str | None = None
    service_kind: ServiceKind
    currency: str
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    lines: list[LineSummary] = Field(default_factory=list)
    issued_at: datetime
    due_at: datetime | None = None


@event("fixflow.billing.charge.waived.v1", topic=topics.BILLING_INVOICES)
class ChargeWaived(TicketEvent):
    """Nothing to charge for a completed work order (warranty, contract, internal) or a waiver."""

    ticket_id: str
    tenant_id: str
    customer_id: str | None = None
    work_order_id: str | None = None
    service_kind: ServiceKind
    currency: str
    waived_minor: int = Field(description="what the work would have cost at list price")
    reason: str
    rule: str
    approved_by: str | None = Field(None, description="manager who approved a waiver over the threshold")
    waived_at: datetime


@event("fixflow.billing.payment.received.v1", topic=topics.BILLING_INVOICES)
class PaymentReceived(TicketEvent):
    payment_id: str
    invoice_id: str
    invoice_number: str
    ticket_id: str
    tenant_id: str
    method: PaymentMethod
    currency: str
    amount_minor: int
    applied_minor: int = Field(description="part of the amount applied to the invoice")
    credit_minor: int = Field(0, description="overpayment kept as customer credit")
    balance_due_minor: int = Field(description="still to pay on the invoice after this payment")
    receipt_number: str
    received_at: datetime


@event("fixflow.billing.refund.issued.v1", topic=topics.BILLING_INVOICES)
class RefundIssued(TicketEvent):
    refund_id: str
    invoice_id: str
    ticket_id: str
    tenant_id: str
    currency: str
    gross_minor: int = Field(description="amount being returned before the customer's share")
    customer_share_minor: int = Field(description="return freight, card fee: kept per policy")
    amount_minor: int = Field(description="paid back to the customer")
    credit_note_id: str
    issued_at: datetime


@event("fixflow.billing.credit-note.issued.v1", topic=topics.BILLING_INVOICES)
class CreditNoteIssued(TicketEvent):
    credit_note_id: str
    credit_note_number: str
    invoice_id: str
    invoice_number: str
    ticket_id: str
    tenant_id: str
    currency: str
    amount_minor: int
    reason: str
    issued_at: datetime
