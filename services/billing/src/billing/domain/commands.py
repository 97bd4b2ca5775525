"""Commands: what a caller asks billing to do (imperative names)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing.domain.pricing import WorkDone


@dataclass(frozen=True)
class IssueQuote:
    tenant_id: str
    ticket_id: str
    work: WorkDone
    issued_by: str
    customer_id: str | None = None
    valid_hours: int = 72


@dataclass(frozen=True)
class DecideQuote:
    tenant_id: str
    quote_id: str
    accept: bool
    recorded_by: str
    channel: str
    signed_name: str | None = None
    reason: str | None = None
    client_address: str | None = None


@dataclass(frozen=True)
class SettleWorkOrder:
    tenant_id: str
    ticket_id: str
    work_order_id: str
    work: WorkDone
    completed_at: datetime


@dataclass(frozen=True)
class RecordPayment:
    tenant_id: str
    invoice_id: str
    amount_minor: int
    currency: str
    method: str
    recorded_by: str
    reference: str | None = None


@dataclass(frozen=True)
class IssueRefund:
    tenant_id: str
    invoice_id: str
    amount_minor: int | None
    return_freight_minor: int
    card_fee_minor: int
    reason: str
    recorded_by: str
    ticket_id: str | None = None  # the return ticket the refund answers (default: the invoice's ticket)


@dataclass(frozen=True)
class RequestWaiver:
    tenant_id: str
    ticket_id: str
    amount_minor: int | None
    currency: str
    reason: str
    requested_by: str
    requester_is_manager: bool


@dataclass(frozen=True)
class ApplyCredit:
    tenant_id: str
    invoice_id: str
    amount_minor: int | None  # None: as much as both the credit and the balance due allow
    currency: str | None  # None: the invoice's currency
    recorded_by: str
