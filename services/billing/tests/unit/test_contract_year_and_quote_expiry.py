"""Contract visit quotas reset on each anniversary of the contract; undecided quotes expire."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.domain.entitlements import Entitlements, ServiceContract, contract_year_start, next_contract_year_start
from billing.domain.exceptions import IllegalTransition
from billing.domain.model import Quote, QuoteStatus
from billing.domain.price_book import demo_price_book
from billing.domain.pricing import Charge, ServiceKind, WorkDone, compute_charge

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


@given(start=days, offset=st.integers(0, 20 * 366))
def test_contract_year_contains_the_day_and_starts_on_an_anniversary(start, offset):
    day = start + timedelta(days=offset)
    ys, ye = contract_year_start(start, day), next_contract_year_start(start, day)
    assert ys <= day < ye
    assert 365 <= (ye - ys).days <= 366
    assert (ys.month, ys.day) == (start.month, start.day) or (start.month, start.day, ys.day) == (2, 29, 28)
    assert ys.year - start.year == (ye.year - start.year) - 1
    # every day of that contract year maps to the same start
    assert contract_year_start(start, ye - timedelta(days=1)) == ys
    assert contract_year_start(start, ye) == ye


def test_contract_year_examples():
    assert contract_year_start(date(2024, 3, 15), date(2025, 3, 14)) == date(2024, 3, 15)
    assert contract_year_start(date(2024, 3, 15), date(2025, 3, 15)) == date(2025, 3, 15)
    assert contract_year_start(date(2024, 2, 29), date(2025, 2, 28)) == date(2025, 2, 28)
    assert contract_year_start(date(2024, 2, 29), date(2028, 3, 1)) == date(2028, 2, 29)
    assert contract_year_start(date(2024, 3, 15), date(2024, 1, 1)) == date(2024, 3, 15)


def test_quota_is_per_contract_year():
    book = demo_price_book("t")
    k = ServiceContract("k", date(2024, 6, 1), date(2026, 5, 31), covers_labour=False, visits_per_year=1)
    used_this_year = ServiceContract(
        "k", date(2024, 6, 1), date(2026, 5, 31), covers_labour=False, visits_per_year=1, visits_used=1
    )
    work = WorkDone(resolution_code="adjusted")
    assert (
        compute_charge(book=book, work=work, entitlements=Entitlements(contract=k), on=date(2025, 6, 1)).total_minor
        == 2000
    )  # visit covered
    assert (
        compute_charge(
            book=book, work=work, entitlements=Entitlements(contract=used_this_year), on=date(2025, 5, 31)
        ).total_minor
        == 4000
    )
    assert k.year_start(date(2025, 5, 31)) == date(2024, 6, 1) and k.year_start(date(2025, 6, 1)) == date(2025, 6, 1)


NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def quote(hours: int = 72) -> Quote:
    charge = Charge("CNY", ServiceKind.PAID, (), 0, 0, 0, 0)
    return Quote(
        id="q",
        tenant_id="t",
        ticket_id="k",
        customer_id=None,
        charge=charge,
        issued_at=NOW,
        valid_until=NOW + timedelta(hours=hours),
    )


def test_quote_expires_lazily_and_cannot_be_decided():
    q = quote(1)
    assert not q.expire_if_due(NOW + timedelta(minutes=59)) and q.status == QuoteStatus.ISSUED
    assert q.expire_if_due(NOW + timedelta(hours=1, seconds=1)) and q.status == QuoteStatus.EXPIRED
    for accept in (True, False):
        with pytest.raises(IllegalTransition):
            quote(1).decide(accept=accept, by="a", channel="phone", signed_name=None, at=NOW + timedelta(hours=2))


def test_decided_quotes_do_not_expire():
    q = quote(1)
    q.decide(accept=True, by="a", channel="phone", signed_name=None, at=NOW)
    assert not q.expire_if_due(NOW + timedelta(days=30)) and q.status == QuoteStatus.ACCEPTED
