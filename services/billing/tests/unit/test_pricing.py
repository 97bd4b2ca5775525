"""Charge computation: the retailer's fee schedule (docs/domain.md), entitlements, and property-based invariants."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.domain.entitlements import Entitlements, Package, ServiceContract, Waiver, WarrantyCard, WarrantyStatus
from billing.domain.exceptions import CurrencyMismatch, InvalidAmount, UnknownCurrency
from billing.domain.money import Money, ratio_half_up
from billing.domain.price_book import PartPrice, PriceBook, demo_price_book
from billing.domain.pricing import PartUsed, ServiceKind, WorkDone, compute_charge

TODAY = date(2025, 6, 1)
BOOK = demo_price_book("t1")
OUT = Entitlements(warranty_status=WarrantyStatus.OUT_OF_WARRANTY)


def charge(work: WorkDone, ent: Entitlements = OUT, book: PriceBook = BOOK):
    return compute_charge(book=book, work=work, entitlements=ent, on=TODAY)


# --- money ---------------------------------------------------------------------------------------


def test_money_refuses_unknown_currency_and_mixing():
    with pytest.raises(UnknownCurrency):
        Money(100, "XXX")
    with pytest.raises(UnknownCurrency):
        Money(100, "cny")
    with pytest.raises(CurrencyMismatch):
        Money(1, "CNY") + Money(1, "USD")
    with pytest.raises(InvalidAmount):
        Money(1.5, "CNY")  # type: ignore[arg-type]
    assert Money(2050, "CNY").format() == "20.50 CNY"
    assert Money(-5, "CNY").format() == "-0.05 CNY"
    assert Money(500, "JPY").format() == "500 JPY"
    assert Money(1234, "KWD").format() == "1.234 KWD"


def test_ratio_half_up():
    assert ratio_half_up(2000, 600, 10600) == 113  # 113.2 -> 113
    assert ratio_half_up(5, 1, 2) == 3
    assert ratio_half_up(-5, 1, 2) == -3


# --- the retailer schedule ------------------------------------------------------------------------


def test_visit_and_adjustment_are_20_cny_each():
    c = charge(WorkDone(resolution_code="adjusted_hinges", adjustments=1))
    assert [(ln.code, ln.amount_minor) for ln in c.lines] == [("visit", 2000), ("adjustment", 2000)]
    assert c.total_minor == 4000 and c.service_kind == ServiceKind.PAID
    assert c.tax_minor == ratio_half_up(4000, 600, 10600)  # tax shown, included in the schedule price
    assert all(ln.reason and ln.rule for ln in c.lines)


def test_part_replacement_first_visit_charges_visit_fee_only():
    c = charge(WorkDone(visit_number=1, resolution_code="part_replaced", parts=(PartUsed("HINGE-35", 2),)))
    assert c.total_minor == 2000
    part = next(ln for ln in c.lines if ln.code == "part")
    assert not part.charged and "first visit" in part.reason


def test_second_visit_same_address_charges_part_cost_plus_fitting_labour():
    c = charge(WorkDone(visit_number=2, resolution_code="part_replaced", parts=(PartUsed("HINGE-35", 2),)))
    assert {ln.code: ln.amount_minor for ln in c.lines} == {"part": 2 * 1500, "labour": 3000}
    assert c.total_minor == 6000
    assert all(ln.rule == "schedule.part_replacement.second_visit" for ln in c.lines)


def test_reinstall_is_labour_plus_visit():
    c = charge(WorkDone(resolution_code="reinstalled"))
    assert {ln.code: ln.amount_minor for ln in c.lines} == {"labour": 3000, "visit": 2000}


def test_unknown_part_on_a_charged_line_is_refused():
    with pytest.raises(InvalidAmount):
        charge(WorkDone(visit_number=2, resolution_code="part_replaced", parts=(PartUsed("NOPE", 1),)))


def test_exclusive_tax_is_its_own_line():
    book = PriceBook(tenant_id="t1", version=2, effective_from=TODAY, tax_inclusive=False, tax_rate_bp=1300)
    c = charge(WorkDone(resolution_code="adjusted"), book=book)
    tax = [ln for ln in c.lines if ln.code == "tax"]
    assert len(tax) == 1 and tax[0].amount_minor == 520 and c.total_minor == 4520


# --- entitlements ---------------------------------------------------------------------------------


def test_in_warranty_quality_repair_is_free_with_reason():
    c = charge(
        WorkDone(
            visit_number=2, resolution_code="quality_defect_part_replaced", parts=(PartUsed("PUMP-W1"),), freight=True
        ),
        Entitlements(warranty_status=WarrantyStatus.IN_WARRANTY),
    )
    assert c.total_minor == 0 and c.service_kind == ServiceKind.FREE
    assert all(not ln.charged and ln.rule == "warranty.quality_repair_free" for ln in c.lines)
    assert c.waived_rule == "warranty.quality_repair_free" and "warranty" in (c.waived_reason or "")


def test_in_warranty_customer_damage_is_charged():
    c = charge(
        WorkDone(resolution_code="customer_damage_adjusted"), Entitlements(warranty_status=WarrantyStatus.IN_WARRANTY)
    )
    assert c.total_minor == 4000 and c.service_kind == ServiceKind.PAID


def test_internal_work_is_kind_d_and_free():
    c = charge(WorkDone(resolution_code="inspection", internal=True))
    assert c.service_kind == ServiceKind.INTERNAL and c.total_minor == 0


def test_contract_covers_visits_within_quota_and_labour():
    contract = ServiceContract(
        "k1", date(2025, 1, 1), date(2025, 12, 31), covers_labour=True, visits_per_year=2, visits_used=1
    )
    c = charge(WorkDone(resolution_code="adjusted"), Entitlements(WarrantyStatus.OUT_OF_WARRANTY, contract=contract))
    assert c.service_kind == ServiceKind.CONTRACT and c.total_minor == 0
    used_up = ServiceContract(
        "k1", date(2025, 1, 1), date(2025, 12, 31), covers_labour=False, visits_per_year=2, visits_used=2
    )
    c2 = charge(WorkDone(resolution_code="adjusted"), Entitlements(WarrantyStatus.OUT_OF_WARRANTY, contract=used_up))
    assert c2.total_minor == 4000
    expired = ServiceContract("k1", date(2024, 1, 1), date(2024, 12, 31))
    assert charge(WorkDone(resolution_code="adjusted"), Entitlements(contract=expired)).total_minor == 4000


def test_package_prepaid_visit_and_discount():
    c = charge(
        WorkDone(resolution_code="adjusted"), Entitlements(package=Package("p1", visits_remaining=1, discount_bp=1000))
    )
    assert [(ln.code, ln.amount_minor) for ln in c.lines] == [("visit", 0), ("adjustment", 2000), ("discount", -200)]
    assert c.total_minor == 1800


def test_warranty_card_lower_price_wins_and_higher_does_not():
    card = WarrantyCard("wc1", {"visit": 1000, "adjustment": 5000})
    c = charge(WorkDone(resolution_code="adjusted"), Entitlements(warranty_card=card))
    visit = next(ln for ln in c.lines if ln.code == "visit")
    adj = next(ln for ln in c.lines if ln.code == "adjustment")
    assert visit.amount_minor == 1000 and visit.rule == "warranty_card.lower_price"
    assert adj.amount_minor == 2000 and adj.rule == "schedule.adjustment"


def test_waiver_caps_at_the_subtotal():
    c = charge(WorkDone(resolution_code="adjusted"), Entitlements(waivers=(Waiver("w1", 10_000, "goodwill", "boss"),)))
    assert c.total_minor == 0 and c.waiver_approved_by == "boss"
    assert c.waived_rule == "waiver.approved"


# --- properties -----------------------------------------------------------------------------------

PART_CODES = ["HINGE-35", "DRAWER-RAIL", "PUMP-W1"]
money = st.integers(min_value=0, max_value=1_000_000)


@st.composite
def books(draw):
    return PriceBook(
        tenant_id="t1",
        version=1,
        effective_from=date(2025, 1, 1),
        visit_fee_minor=draw(money),
        adjustment_fee_minor=draw(money),
        fitting_labour_minor=draw(money),
        labour_per_hour_minor=draw(st.none() | money),
        parts_basis=draw(st.sampled_from(["cost", "list"])),
        freight_minor=draw(money),
        second_visit_charges_visit_fee=draw(st.booleans()),
        tax_rate_bp=draw(st.integers(0, 3000)),
        tax_inclusive=draw(st.booleans()),
        parts={c: PartPrice(draw(money), draw(money)) for c in PART_CODES},
    )


works = st.builds(
    WorkDone,
    visit_number=st.integers(1, 4),
    resolution_code=st.sampled_from(
        [
            "adjusted",
            "part_replaced",
            "reinstalled",
            "repaired",
            "inspection",
            "quality_defect",
            "customer_damage",
            "whatever",
        ]
    ),
    labour_minutes=st.integers(0, 600),
    parts=st.lists(st.builds(PartUsed, code=st.sampled_from(PART_CODES), quantity=st.integers(1, 5)), max_size=3).map(
        tuple
    ),
    fault_cause=st.sampled_from([None, "quality", "customer", "unknown"]),
    adjustments=st.integers(1, 4),
    freight=st.booleans(),
    internal=st.booleans(),
)

entitlements = st.builds(
    Entitlements,
    warranty_status=st.sampled_from(list(WarrantyStatus)),
    contract=st.none()
    | st.builds(
        ServiceContract,
        id=st.just("k"),
        valid_from=st.just(date(2025, 1, 1)),
        valid_to=st.sampled_from([date(2025, 3, 1), date(2025, 12, 31)]),
        covers_labour=st.booleans(),
        covers_parts=st.booleans(),
        covers_visits=st.booleans(),
        visits_per_year=st.none() | st.integers(0, 4),
        visits_used=st.integers(0, 4),
        discount_bp=st.integers(0, 10_000),
    ),
    package=st.none()
    | st.builds(Package, id=st.just("p"), visits_remaining=st.integers(0, 3), discount_bp=st.integers(0, 10_000)),
    warranty_card=st.none()
    | st.builds(
        WarrantyCard,
        id=st.just("wc"),
        prices_minor=st.dictionaries(
            st.sampled_from(["visit", "adjustment", "labour", "freight", *PART_CODES]), money, max_size=5
        ),
    ),
    waivers=st.lists(
        st.builds(
            Waiver,
            id=st.just("w"),
            amount_minor=st.none() | st.integers(1, 1_000_000),
            reason=st.just("goodwill"),
            approved_by=st.none() | st.just("m"),
        ),
        max_size=2,
    ).map(tuple),
)


@settings(max_examples=400, deadline=None)
@given(book=books(), work=works, ent=entitlements)
def test_lines_sum_to_total_and_never_negative(book, work, ent):
    c = compute_charge(book=book, work=work, entitlements=ent, on=TODAY)
    assert sum(ln.amount_minor for ln in c.lines) == c.total_minor
    assert c.total_minor >= 0
    assert all(ln.reason and ln.rule for ln in c.lines)
    assert all(ln.amount_minor == 0 for ln in c.lines if not ln.charged)
    if book.tax_inclusive:
        assert c.subtotal_minor == c.total_minor and 0 <= c.tax_minor <= c.total_minor
    else:
        assert c.subtotal_minor + c.tax_minor == c.total_minor


@settings(max_examples=300, deadline=None)
@given(book=books(), work=works, ent=entitlements)
def test_in_warranty_quality_repair_is_never_charged(book, work, ent):
    from dataclasses import replace

    ent = replace(ent, warranty_status=WarrantyStatus.IN_WARRANTY)
    work = replace(work, fault_cause="quality")
    c = compute_charge(book=book, work=work, entitlements=ent, on=TODAY)
    assert c.total_minor == 0 and all(not ln.charged for ln in c.lines)


@settings(max_examples=300, deadline=None)
@given(
    book=books(),
    work=works,
    card=st.dictionaries(st.sampled_from(["visit", "adjustment", "labour", "freight", *PART_CODES]), money, max_size=6),
)
def test_lower_of_schedule_and_warranty_card_always_applies(book, work, card):
    from dataclasses import replace

    work = replace(work, internal=False, fault_cause="customer")
    c = compute_charge(
        book=book, work=work, entitlements=Entitlements(warranty_card=WarrantyCard("wc", card)), on=TODAY
    )
    for ln in c.lines:
        if ln.code in ("tax", "discount", "waiver") or not ln.charged:
            continue
        key = ln.ref if ln.code == "part" else ln.code
        expected_unit = min(ln.unit_price_minor, card.get(key, ln.unit_price_minor))
        assert ln.amount_minor == expected_unit * ln.quantity
