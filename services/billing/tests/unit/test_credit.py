"""Customer credit: overpayments fill it, invoices spend it; never negative, never more than due,
and money is conserved (property-tested)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.domain.exceptions import (
    CurrencyMismatch,
    IllegalTransition,
    InsufficientCredit,
    InvalidAmount,
    MoreThanDue,
)
from billing.domain.model import CustomerCredit, Invoice
from billing.domain.pricing import ServiceKind

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def inv(total: int) -> Invoice:
    return Invoice(
        id="i",
        number="INV-2025-000001",
        tenant_id="t",
        ticket_id="k",
        customer_id="c",
        work_order_id="w",
        service_kind=ServiceKind.PAID,
        currency="CNY",
        lines=(),
        subtotal_minor=total,
        tax_minor=0,
        total_minor=total,
        issued_at=NOW,
    )


ops = st.lists(st.tuples(st.sampled_from(["pay", "apply"]), st.integers(-5, 20_000)), max_size=25)


@given(totals=st.lists(st.integers(0, 20_000), min_size=1, max_size=5), ops=ops, data=st.data())
def test_credit_never_negative_never_more_than_due_and_conserved(totals, ops, data):
    invoices = [inv(t) for t in totals]
    credit = CustomerCredit("t", "c", "CNY")
    cash_in = 0
    for op, amount in ops:
        i = invoices[data.draw(st.integers(0, len(invoices) - 1))]
        if op == "pay":
            if amount <= 0:
                continue
            out = i.pay(amount, "CNY")
            cash_in += amount
            if out.credit_minor:
                credit.add(out.credit_minor)
        else:
            before = (i.paid_minor, credit.balance_minor)
            try:
                out = i.apply_credit(amount, "CNY", available_minor=credit.balance_minor)
            except (InvalidAmount, MoreThanDue, InsufficientCredit):
                assert (i.paid_minor, credit.balance_minor) == before  # a refusal changes nothing
                assert amount <= 0 or amount > i.balance_due_minor or amount > credit.balance_minor
                continue
            credit.use(amount)
            assert out.credit_minor == 0
        assert credit.balance_minor >= 0
        assert all(0 <= x.paid_minor <= x.total_minor for x in invoices)
        # every unit of cash paid in is on an invoice or still the customer's credit
        assert cash_in == sum(x.paid_minor for x in invoices) + credit.balance_minor


def test_money_is_conserved_through_overpayment_and_credit():
    a, b = inv(3000), inv(2500)
    credit = CustomerCredit("t", "c", "CNY")
    credit.add(a.pay(5000, "CNY").credit_minor)
    assert (a.paid_minor, credit.balance_minor) == (3000, 2000)
    out = b.apply_credit(2000, "CNY", available_minor=credit.balance_minor)
    credit.use(2000)
    assert (b.paid_minor, out.balance_due_minor, credit.balance_minor) == (2000, 500, 0)
    assert a.paid_minor + b.paid_minor + credit.balance_minor == 5000


def test_apply_credit_refusals():
    i = inv(1000)
    with pytest.raises(MoreThanDue):
        i.apply_credit(1001, "CNY", available_minor=5000)
    with pytest.raises(InsufficientCredit):
        i.apply_credit(600, "CNY", available_minor=500)
    with pytest.raises(InvalidAmount):
        i.apply_credit(0, "CNY", available_minor=500)
    with pytest.raises(CurrencyMismatch):
        i.apply_credit(100, "USD", available_minor=500)
    assert i.paid_minor == 0
    i.pay(1000, "CNY")
    i.refund(gross_minor=100, return_freight_minor=0, card_fee_minor=0, now=NOW, window_days=30)
    with pytest.raises(IllegalTransition):
        i.apply_credit(1, "CNY", available_minor=500)


@given(st.lists(st.integers(-10, 10_000), max_size=30))
def test_credit_balance_never_negative(amounts):
    c = CustomerCredit("t", "c", "CNY")
    for a in amounts:
        try:
            (c.add if a % 2 else c.use)(a)
        except (InvalidAmount, InsufficientCredit):
            pass
        assert c.balance_minor >= 0
