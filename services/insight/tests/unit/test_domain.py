"""The pure parts: histogram percentiles, quality rules and windows, the rectification order, the report."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insight.domain import quality as Q
from insight.domain import report as R
from insight.domain import sketch


@given(
    st.lists(st.floats(min_value=0, max_value=400 * 86400), min_size=1, max_size=300), st.sampled_from([0.5, 0.9, 0.95])
)
def test_histogram_percentile_is_within_one_percent_of_the_exact_nearest_rank(values, q):
    hist: dict[int, int] = {}
    for v in values:
        hist[sketch.bucket(v)] = hist.get(sketch.bucket(v), 0) + 1
    exact = sorted(values)[max(1, math.ceil(q * len(values))) - 1]
    got = sketch.quantile(hist, q)
    assert got is not None
    if exact >= 1:
        assert abs(got - exact) <= sketch.RELATIVE_ACCURACY * exact * 1.0000001
    else:
        assert got == 0.0


def test_histograms_add_up():
    assert sketch.quantile({}, 0.5) is None
    a, b = {sketch.bucket(10): 1}, {sketch.bucket(1000): 1}
    merged = {**a, **b}
    assert sketch.quantile(merged, 0.5) == pytest.approx(10, rel=0.01)
    assert sketch.quantile(merged, 0.9) == pytest.approx(1000, rel=0.01)


D = date(2025, 3, 1)


def test_a_rule_breaches_when_the_window_holds_enough_unreported_tickets():
    rule = Q.Rule("r", "product_model", threshold=3, window_days=30)
    faults = [("T1", D), ("T2", D + timedelta(days=10)), ("T3", D + timedelta(days=29))]
    breach = Q.evaluate(rule, "KF-35", faults)
    assert breach is not None and breach.ticket_ids == ("T1", "T2", "T3")
    assert (breach.window_start, breach.window_end) == (D, D + timedelta(days=29))
    # one day later the first fault falls out of the window
    assert (
        Q.evaluate(rule, "KF-35", [("T1", D), ("T2", D + timedelta(days=10)), ("T3", D + timedelta(days=30))]) is None
    )
    # the same ticket twice (two visits) counts once
    assert Q.evaluate(rule, "KF-35", [("T1", D), ("T1", D), ("T2", D)]) is None


def test_rules_are_checked():
    with pytest.raises(Q.BadRule):
        Q.Rule("r", "colour", threshold=3)
    with pytest.raises(Q.BadRule):
        Q.Rule("r", "part", threshold=0)
    assert Q.rules_from(None) == Q.DEFAULT_RULES
    assert Q.rules_from([]) == ()


def test_a_fault_counts_under_every_key_of_its_visit():
    completed = {"at": 1_740_787_200.0, "fault_cause": "pcb", "parts": ["P1", "P2"]}
    f = {"kind": "repair", "product_model": "KF-35", "completions": {"W1:1": completed}}
    day = date(2025, 3, 1)
    assert Q.faults_of("T1", f) == {
        ("product_model", "KF-35", day, "T1", "W1:1"),
        ("fault_cause", "pcb", day, "T1", "W1:1"),
        ("part", "P1", day, "T1", "W1:1"),
        ("part", "P2", day, "T1", "W1:1"),
        ("product_model_fault_cause", "KF-35|pcb", day, "T1", "W1:1"),
    }  # no batch known: no batch key
    assert Q.faults_of("T1", {**f, "kind": "installation"}) == set()
    batch = {**f, "production_batch": "B7"}
    assert ("production_batch", "B7", day, "T1", "W1:1") in Q.faults_of("T1", batch)


def test_a_fault_the_customer_caused_is_no_product_fault():
    """work-order.completed v1.1 `fault_origin`: misuse or damage (customer) is not reported to the
    factory; a product defect (quality), unknown, or not said (before v1.1) is."""
    visit = {"at": 1_740_787_200.0, "fault_cause": "misuse", "parts": []}
    f = {"kind": "repair", "product_model": "KF-35"}
    for origin, counted in (("customer", False), ("quality", True), ("unknown", True), (None, True)):
        faults = Q.faults_of("T1", {**f, "completions": {"W1:1": {**visit, "fault_origin": origin}}})
        assert bool(faults) is counted, origin


def test_rectification_goes_step_by_step():
    done: list[str] = []
    with pytest.raises(Q.StepRefused, match="next step is root_cause"):
        Q.check_step(done, "plan", note="x", owner="o", due_on=D)
    assert Q.check_step(done, "root_cause", note="capacitor lot", owner=None, due_on=None) == "root_cause_found"
    done.append("root_cause")
    with pytest.raises(Q.StepRefused, match="owner and a due date"):
        Q.check_step(done, "plan", note="replace supplier", owner=None, due_on=None)
    assert Q.check_step(done, "plan", note="replace supplier", owner="QA Li", due_on=D) == "rectifying"
    done += ["plan", "done", "customers_informed"]
    assert Q.check_step(done, "archived", note=None, owner=None, due_on=None) == "archived"
    done.append("archived")
    with pytest.raises(Q.StepRefused, match="archived"):
        Q.check_step(done, "archived", note=None, owner=None, due_on=None)


def test_months():
    assert R.month_bounds(date(2025, 12, 15)) == (date(2025, 12, 1), date(2026, 1, 1))
    assert R.previous_month(date(2025, 1, 10)) == date(2024, 12, 1)
    assert R.previous_month(date(2025, 3, 31)) == date(2025, 2, 1)
