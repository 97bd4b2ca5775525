"""Warranty/return determination, triage and duplicate detection."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from intake.domain.duplicates import Candidate, find_duplicate, similarity
from intake.domain.triage import TriageRules, triage
from intake.domain.warranty import AssetTerms, ProductTerms, add_months, determine

TODAY = date(2025, 6, 15)


def test_in_warranty_one_year_from_purchase() -> None:
    d = determine(kind="repair", today=TODAY, product=ProductTerms(), asset=AssetTerms(purchase_date=date(2024, 6, 16)))
    assert d.status == "in_warranty" and d.warranty_ends_on == date(2025, 6, 15) and d.rule == "warranty.product_months"
    d = determine(kind="repair", today=TODAY, product=ProductTerms(), asset=AssetTerms(purchase_date=date(2024, 6, 15)))
    assert d.status == "out_of_warranty"


def test_warranty_card_extends() -> None:
    d = determine(
        kind="repair",
        today=TODAY,
        product=ProductTerms(warranty_months=12),
        asset=AssetTerms(purchase_date=date(2023, 1, 1), card_warranty_months=36),
    )
    assert d.status == "in_warranty" and d.rule == "warranty.card_months" and d.warranty_ends_on == date(2025, 12, 31)


def test_return_window_and_non_returnable() -> None:
    bought = TODAY - timedelta(days=10)
    d = determine(kind="return", today=TODAY, product=ProductTerms(), asset=None, purchase_date=bought)
    assert d.status == "return_window_open" and d.returnable and d.return_window_ends_on == bought + timedelta(days=30)
    d = determine(
        kind="return",
        today=TODAY,
        product=ProductTerms(non_returnable=frozenset({"clearance"})),
        asset=None,
        purchase_date=bought,
    )
    assert d.status == "not_returnable" and d.non_returnable_reasons == ["clearance"] and d.returnable is False
    d = determine(
        kind="return", today=TODAY, product=ProductTerms(), asset=None, purchase_date=TODAY - timedelta(days=31)
    )
    assert d.status == "in_warranty" and d.returnable is False


def test_unknown_without_purchase_date() -> None:
    assert determine(kind="repair", today=TODAY, product=None, asset=None).status == "unknown"


@given(d=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), m=st.integers(0, 120))
def test_add_months_lands_in_the_right_month(d: date, m: int) -> None:
    r = add_months(d, m)
    assert (r.year * 12 + r.month) - (d.year * 12 + d.month) == m
    assert r.day <= d.day


@given(bought=st.dates(min_value=date(2015, 1, 1), max_value=TODAY), months=st.integers(1, 60))
def test_warranty_status_is_monotonic_in_time(bought: date, months: int) -> None:
    terms, asset = ProductTerms(warranty_months=months), AssetTerms(purchase_date=bought)
    first = determine(kind="repair", today=bought, product=terms, asset=asset)
    assert first.status == "in_warranty"
    d = determine(kind="repair", today=TODAY, product=terms, asset=asset)
    assert (d.status == "in_warranty") == (TODAY <= d.warranty_ends_on)


def test_triage_priority_from_severity_urgency_grade() -> None:
    t = triage(kind="repair", symptom="the oven smells of gas and smoke", grade="C")
    assert t.priority == "P1" and t.category == "safety" and t.path == "on_site"
    assert triage(kind="repair", symptom="washing machine leak", grade="VIP").priority == "P2"  # 3+2+2 = 7
    assert triage(kind="repair", symptom="washing machine leak", grade="VIP", urgency=3).priority == "P1"  # 8
    assert triage(kind="repair", symptom="door squeaks", grade="C").priority == "P4"
    assert triage(kind="repair", symptom="door squeaks", grade="C", severity=2, urgency=2).priority == "P3"


def test_triage_suggests_remote_fix_first() -> None:
    t = triage(kind="repair", symptom="TV has no power since yesterday", grade="B")
    assert t.path == "remote" and t.suggested_fix == "KB-001" and t.fix_steps
    leak = triage(kind="repair", symptom="冰箱漏水", grade="B")
    assert leak.path == "on_site" and leak.required_skills == ("plumbing",)
    assert triage(kind="return", symptom="wrong colour", grade=None).path == "send_in"
    assert triage(kind="installation", symptom="install new AC", grade=None).path == "on_site"
    no_remote = triage(kind="repair", symptom="no power", grade=None, rules=TriageRules(remote_first=False))
    assert no_remote.path == "on_site"


@given(sev=st.integers(1, 4), urg=st.integers(1, 4), grade=st.sampled_from(["A", "B", "C", "VIP", None]))
def test_priority_never_drops_when_severity_or_grade_rises(sev: int, urg: int, grade: str | None) -> None:
    order = ["P1", "P2", "P3", "P4"]
    base = triage(kind="repair", symptom="x", grade=grade, severity=sev, urgency=urg).priority
    if sev < 4:
        worse = triage(kind="repair", symptom="x", grade=grade, severity=sev + 1, urgency=urg).priority
        assert order.index(worse) <= order.index(base)
    vip = triage(kind="repair", symptom="x", grade="VIP", severity=sev, urgency=urg).priority
    assert order.index(vip) <= order.index(base)


def test_similarity_handles_chinese_and_english() -> None:
    assert similarity("洗衣机漏水严重", "洗衣机漏水") > 0.5
    assert similarity("washer leaks water", "the washer leaks water") > 0.5
    assert similarity("washer leaks water", "tv no picture") == 0


def test_duplicate_by_asset_or_phone_within_window() -> None:
    now = datetime(2025, 6, 15, 12, tzinfo=UTC)
    cands = [
        Candidate("T-old", "washer leaks water", now - timedelta(days=5), "A-1", None),
        Candidate("T-a", "washer leaks water", now - timedelta(hours=2), "A-1", None),
        Candidate("T-p", "fridge not cold", now - timedelta(hours=1), None, "+8613800000000"),
    ]
    kw = {"now": now, "window": timedelta(hours=72)}
    assert find_duplicate(cands, symptom="washer leaks water again", asset_id="A-1", contact_phone=None, **kw) == "T-a"
    assert (
        find_duplicate(cands, symptom="fridge not cold", asset_id=None, contact_phone="+8613800000000", **kw) == "T-p"
    )
    assert find_duplicate(cands, symptom="tv broken", asset_id="A-1", contact_phone=None, **kw) is None
    assert find_duplicate(cands, symptom="washer leaks water", asset_id="A-2", contact_phone=None, **kw) is None
