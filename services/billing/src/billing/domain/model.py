"""Billing aggregates: quotes, invoices (with payments and refunds), waivers. Pure Python."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from billing.domain.exceptions import (
    ApprovalRequired,
    CurrencyMismatch,
    IllegalTransition,
    InsufficientCredit,
    InvalidAmount,
    MoreThanDue,
    ReturnWindowClosed,
)
from billing.domain.money import check_currency
from billing.domain.pricing import Charge, Line, ServiceKind


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def format_invoice_number(year: int, seq: int, series: str = "INV") -> str:
    return f"{series}-{year}-{seq:06d}"


# --- quotes ------------------------------------------------------------------------------------


class QuoteStatus(StrEnum):
    ISSUED = "issued"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EXPIRED = "expired"  # issued and past valid_until without a decision (state only, no event)


@dataclass(frozen=True)
class Consent:
    decision: str  # accepted | rejected
    recorded_by: str
    channel: str
    signed_name: str | None
    at: datetime
    reason: str | None = None
    client_address: str | None = None  # where a customer decided online (the portal sends it)


@dataclass
class Quote:
    id: str
    tenant_id: str
    ticket_id: str
    customer_id: str | None
    charge: Charge
    issued_at: datetime
    valid_until: datetime
    status: QuoteStatus = QuoteStatus.ISSUED
    consent: Consent | None = None

    def expire_if_due(self, now: datetime) -> bool:
        """An undecided quote past its validity is expired (evaluated lazily, whenever it is read)."""
        if self.status == QuoteStatus.ISSUED and now > self.valid_until:
            self.status = QuoteStatus.EXPIRED
            return True
        return False

    def decide(
        self,
        *,
        accept: bool,
        by: str,
        channel: str,
        signed_name: str | None,
        at: datetime,
        reason: str | None = None,
        client_address: str | None = None,
    ) -> Consent:
        target = QuoteStatus.ACCEPTED if accept else QuoteStatus.REJECTED
        self.expire_if_due(at)
        if self.status != QuoteStatus.ISSUED:
            raise IllegalTransition("quote", self.status.value, target.value)
        self.status = target
        self.consent = Consent(target.value, by, channel, signed_name, at, reason, client_address)
        return self.consent


# --- invoices ----------------------------------------------------------------------------------


class InvoiceStatus(StrEnum):
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


@dataclass(frozen=True)
class PaymentOutcome:
    applied_minor: int
    credit_minor: int
    balance_due_minor: int


@dataclass(frozen=True)
class RefundOutcome:
    gross_minor: int
    customer_share_minor: int
    amount_minor: int


@dataclass
class Invoice:
    id: str
    number: str
    tenant_id: str
    ticket_id: str
    customer_id: str | None
    work_order_id: str | None
    service_kind: ServiceKind
    currency: str
    lines: tuple[Line, ...]
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    issued_at: datetime
    paid_minor: int = 0
    refunded_minor: int = 0
    price_book_version: int = 0

    @property
    def balance_due_minor(self) -> int:
        return max(0, self.total_minor - self.paid_minor)

    @property
    def status(self) -> InvoiceStatus:
        if self.refunded_minor > 0:
            return (
                InvoiceStatus.REFUNDED if self.refunded_minor >= self.paid_minor else InvoiceStatus.PARTIALLY_REFUNDED
            )
        if self.paid_minor >= self.total_minor:
            return InvoiceStatus.PAID
        return InvoiceStatus.PARTIALLY_PAID if self.paid_minor > 0 else InvoiceStatus.ISSUED

    def pay(self, amount_minor: int, currency: str) -> PaymentOutcome:
        """Apply a payment; anything above the balance due becomes the customer's credit."""
        check_currency(currency)
        if currency != self.currency:
            raise CurrencyMismatch(self.currency, currency)
        if amount_minor <= 0:
            raise InvalidAmount("a payment must be a positive amount")
        if self.refunded_minor > 0:
            raise IllegalTransition("invoice", self.status.value, "paid")
        applied = min(amount_minor, self.balance_due_minor)
        self.paid_minor += applied
        return PaymentOutcome(applied, amount_minor - applied, self.balance_due_minor)

    def apply_credit(self, amount_minor: int, currency: str, *, available_minor: int) -> PaymentOutcome:
        """Pay from the customer's credit: never more than is due, never more than the credit holds."""
        check_currency(currency)
        if currency != self.currency:
            raise CurrencyMismatch(self.currency, currency)
        if amount_minor <= 0:
            raise InvalidAmount("credit applied must be a positive amount")
        if self.refunded_minor > 0:
            raise IllegalTransition("invoice", self.status.value, "paid")
        if amount_minor > self.balance_due_minor:
            raise MoreThanDue(
                f"only {self.balance_due_minor} minor units are due on invoice {self.number}; "
                f"{amount_minor} of credit cannot be applied"
            )
        if amount_minor > available_minor:
            raise InsufficientCredit(
                f"the customer has {available_minor} {currency} minor units of credit, {amount_minor} asked"
            )
        self.paid_minor += amount_minor
        return PaymentOutcome(amount_minor, 0, self.balance_due_minor)

    def refund(
        self,
        *,
        gross_minor: int | None,
        return_freight_minor: int,
        card_fee_minor: int,
        now: datetime,
        window_days: int,
    ) -> RefundOutcome:
        """Refund within the return window, keeping the customer's share (return freight, card fee)."""
        if now > self.issued_at + timedelta(days=window_days):
            raise ReturnWindowClosed(
                f"the return window of {window_days} days closed on "
                f"{(self.issued_at + timedelta(days=window_days)).date().isoformat()}"
            )
        refundable = self.paid_minor - self.refunded_minor
        gross = refundable if gross_minor is None else gross_minor
        if gross <= 0 or return_freight_minor < 0 or card_fee_minor < 0:
            raise InvalidAmount("refund amounts must be positive, shares must not be negative")
        if gross > refundable:
            raise InvalidAmount(f"at most {refundable} minor units can be refunded on this invoice")
        share = return_freight_minor + card_fee_minor
        if share > gross:
            raise InvalidAmount("the customer's share exceeds the amount being refunded")
        self.refunded_minor += gross
        return RefundOutcome(gross, share, gross - share)


# --- customer credit ---------------------------------------------------------------------------


@dataclass
class CustomerCredit:
    """What billing owes a customer in one currency (from overpayments); spent on later invoices."""

    tenant_id: str
    customer_id: str
    currency: str
    balance_minor: int = 0

    def add(self, amount_minor: int) -> None:
        if amount_minor <= 0:
            raise InvalidAmount("credit added must be a positive amount")
        self.balance_minor += amount_minor

    def use(self, amount_minor: int) -> None:
        if amount_minor <= 0:
            raise InvalidAmount("credit used must be a positive amount")
        if amount_minor > self.balance_minor:
            raise InsufficientCredit(
                f"the customer has {self.balance_minor} {self.currency} minor units of credit, {amount_minor} asked"
            )
        self.balance_minor -= amount_minor


# --- waivers -----------------------------------------------------------------------------------


class WaiverStatus(StrEnum):
    PENDING = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    APPLIED = "applied"


@dataclass
class WaiverRequest:
    id: str
    tenant_id: str
    ticket_id: str
    amount_minor: int | None  # None = everything
    currency: str
    reason: str
    requested_by: str
    status: WaiverStatus
    approved_by: str | None = None

    @classmethod
    def request(
        cls,
        *,
        tenant_id: str,
        ticket_id: str,
        amount_minor: int | None,
        currency: str,
        reason: str,
        requested_by: str,
        threshold_minor: int,
        requester_is_manager: bool,
        list_total_minor: int | None = None,
    ) -> WaiverRequest:
        """Small waivers are approved at once; over the threshold (or a full waiver of an unknown or
        larger amount) they wait for a manager, unless a manager asks."""
        check_currency(currency)
        if amount_minor is not None and amount_minor <= 0:
            raise InvalidAmount("a waiver amount must be positive")
        if not reason.strip():
            raise InvalidAmount("a waiver needs a reason")
        size = amount_minor if amount_minor is not None else list_total_minor
        needs_approval = size is None or size > threshold_minor
        auto = requester_is_manager or not needs_approval
        return cls(
            id=new_id("wvr"),
            tenant_id=tenant_id,
            ticket_id=ticket_id,
            amount_minor=amount_minor,
            currency=currency,
            reason=reason.strip(),
            requested_by=requested_by,
            status=WaiverStatus.APPROVED if auto else WaiverStatus.PENDING,
            approved_by=requested_by if requester_is_manager else None,
        )

    def approve(self, *, by: str, is_manager: bool) -> None:
        if not is_manager:
            raise ApprovalRequired("only a manager can approve a waiver over the threshold")
        if self.status != WaiverStatus.PENDING:
            raise IllegalTransition("waiver", self.status.value, WaiverStatus.APPROVED.value)
        self.status = WaiverStatus.APPROVED
        self.approved_by = by

    def reject(self, *, by: str, is_manager: bool) -> None:
        if not is_manager:
            raise ApprovalRequired("only a manager can reject a waiver")
        if self.status != WaiverStatus.PENDING:
            raise IllegalTransition("waiver", self.status.value, WaiverStatus.REJECTED.value)
        self.status = WaiverStatus.REJECTED
        self.approved_by = by
