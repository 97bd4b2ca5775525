"""Aggregates: payments, refunds, quotes, waivers; and warranty judged on the completion day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.domain.entitlements import WarrantyStatus
from billing.domain.exceptions import (
    ApprovalRequired,
    CurrencyMismatch,
    IllegalTransition,
    InvalidAmount,
    ReturnWindowClosed,
)
from billing.domain.model import Invoice, WaiverRequest, WaiverStatus
from billing.domain.pricing import ServiceKind
from billing.service_layer.entitlements import status_on

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def inv(total: int = 5000) -> Invoice:
    return Invoice(
        id="i",
        number="INV-2025-000001",
        tenant_id="t",
        ticket_id="k",
        customer_id=None,
        work_order_id="w",
        service_kind=ServiceKind.PAID,
        currency="CNY",
        lines=(),
        subtotal_minor=total,
        tax_minor=0,
        total_minor=total,
        issued_at=NOW,
    )


@given(total=st.integers(0, 10**7), payments=st.lists(st.integers(1, 10**7), max_size=6))
def test_payments_never_overpay_the_invoice_and_excess_is_credit(total, payments):
    i = inv(total)
    credit = 0
    for p in payments:
        out = i.pay(p, "CNY")
        credit += out.credit_minor
        assert out.applied_minor + out.credit_minor == p
    assert i.paid_minor == min(total, sum(payments))
    assert credit == sum(payments) - i.paid_minor


def test_payment_rules():
    i = inv()
    with pytest.raises(InvalidAmount):
        i.pay(-1, "CNY")
    with pytest.raises(CurrencyMismatch):
        i.pay(1, "USD")


def test_refund_window_and_customer_share():
    i = inv()
    i.pay(5000, "CNY")
    with pytest.raises(ReturnWindowClosed):
        i.refund(
            gross_minor=None, return_freight_minor=0, card_fee_minor=0, now=NOW + timedelta(days=31), window_days=30
        )
    out = i.refund(
        gross_minor=None, return_freight_minor=800, card_fee_minor=50, now=NOW + timedelta(days=30), window_days=30
    )
    assert (out.gross_minor, out.customer_share_minor, out.amount_minor) == (5000, 850, 4150)
    with pytest.raises(InvalidAmount):
        i.refund(gross_minor=1, return_freight_minor=0, card_fee_minor=0, now=NOW, window_days=30)


def test_waiver_threshold_and_approval():
    small = WaiverRequest.request(
        tenant_id="t",
        ticket_id="k",
        amount_minor=100,
        currency="CNY",
        reason="goodwill",
        requested_by="a",
        threshold_minor=5000,
        requester_is_manager=False,
    )
    assert small.status == WaiverStatus.APPROVED
    big = WaiverRequest.request(
        tenant_id="t",
        ticket_id="k",
        amount_minor=6000,
        currency="CNY",
        reason="complaint",
        requested_by="a",
        threshold_minor=5000,
        requester_is_manager=False,
    )
    assert big.status == WaiverStatus.PENDING
    full = WaiverRequest.request(
        tenant_id="t",
        ticket_id="k",
        amount_minor=None,
        currency="CNY",
        reason="vip",
        requested_by="a",
        threshold_minor=5000,
        requester_is_manager=False,
    )
    assert full.status == WaiverStatus.PENDING
    with pytest.raises(ApprovalRequired):
        big.approve(by="a", is_manager=False)
    big.approve(by="m", is_manager=True)
    with pytest.raises(IllegalTransition):
        big.approve(by="m", is_manager=True)


def test_warranty_that_ended_before_completion_is_out_of_warranty():
    from datetime import UTC, datetime

    from fixflow_shared.events.contracts.intake import TicketOpened, WarrantyDecision

    opened = TicketOpened(
        ticket_id="T-1",
        tenant_id="t",
        kind="repair",
        channel="phone",
        symptom="drawer sticks",
        opened_at=datetime(2025, 5, 1, tzinfo=UTC),
        warranty=WarrantyDecision(
            status="in_warranty",
            rule="warranty.card_months",
            reason="12 months from purchase",
            decided_on=date(2025, 5, 1),
            warranty_ends_on=date(2025, 5, 31),
        ),
    )
    facts = {"warranty_status": "in_warranty", "facts": opened.model_dump(mode="json")}
    assert status_on(facts, date(2025, 5, 31)) == WarrantyStatus.IN_WARRANTY
    assert status_on(facts, date(2025, 6, 1)) == WarrantyStatus.OUT_OF_WARRANTY
