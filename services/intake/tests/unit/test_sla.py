"""SLA clocks over business calendars, holidays and pauses (property-based)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from fixflow_shared.calendars import BusinessCalendar
from intake.domain.sla import SlaClock, SlaPolicy

SH = ZoneInfo("Asia/Shanghai")
CN = BusinessCalendar.for_country("CN", years=range(2024, 2028))
CALS = st.sampled_from(
    [
        CN,
        BusinessCalendar.always(),
        BusinessCalendar(tz="Asia/Shanghai", working_hours=(time(8), time(20)), weekdays=frozenset(range(7))),
    ]
)
starts = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 6, 1), timezones=st.just(UTC))
targets = st.integers(1, 96).map(lambda h: timedelta(hours=h))
gaps = st.lists(st.tuples(st.integers(0, 72 * 60), st.integers(0, 72 * 60)), max_size=4)  # (run, pause) minutes


def run_with_pauses(cal: BusinessCalendar, clock: SlaClock, plan: list[tuple[int, int]]) -> tuple[datetime, timedelta]:
    """Apply run/pause phases; return the end instant and total paused business time."""
    now, paused = clock.started_at, timedelta(0)
    for run_min, pause_min in plan:
        now += timedelta(minutes=run_min)
        clock.pause(now)
        end = now + timedelta(minutes=pause_min)
        paused += cal.business_time_between(now, end)
        clock.resume(cal, end)
        now = end
    return now, paused


@given(cal=CALS, start=starts, target=targets, plan=gaps)
def test_pauses_push_the_deadline_by_exactly_the_paused_business_time(cal, start, target, plan) -> None:
    clock = SlaClock("resolution", target, start)
    now, paused = run_with_pauses(cal, clock, plan)
    assert clock.paused_business == paused
    assert clock.elapsed(cal, now) == cal.business_time_between(start, now) - paused
    due = clock.due_at(cal)
    assert cal.business_time_between(start, due) - paused == target
    assert clock.at_risk_at(cal) <= due


@given(cal=CALS, start=starts, target=targets, pause_at=st.integers(0, 200 * 60), pause_len=st.integers(1, 400 * 60))
def test_never_breaches_while_paused(cal, start, target, pause_at, pause_len) -> None:
    clock = SlaClock("resolution", target, start)
    p = start + timedelta(minutes=pause_at)
    early = clock.evaluate(cal, p)
    clock.pause(p)
    frozen = clock.elapsed(cal, p)
    later = p + timedelta(minutes=pause_len)
    assert clock.evaluate(cal, later) == []
    assert clock.elapsed(cal, later) == frozen
    clock.resume(cal, later)
    signals = clock.evaluate(cal, later)
    assert "breached" not in signals or frozen >= target or "breached" in early or clock.breached_raised


@given(cal=CALS, start=starts, target=targets, checks=st.lists(st.integers(0, 500 * 60), min_size=1, max_size=8))
def test_each_signal_is_raised_once_and_in_order(cal, start, target, checks) -> None:
    clock = SlaClock("first_response", target, start)
    raised: list[str] = []
    for m in sorted(checks):
        raised += clock.evaluate(cal, start + timedelta(minutes=m))
    assert raised in ([], ["at_risk"], ["at_risk", "breached"])
    # evaluating again at the same instant changes nothing
    assert clock.evaluate(cal, start + timedelta(minutes=max(checks))) == []


@given(cal=CALS, start=starts, target=targets)
def test_signals_fire_exactly_at_their_instants(cal, start, target) -> None:
    clock = SlaClock("resolution", target, start)
    risk, due = clock.at_risk_at(cal), clock.due_at(cal)
    assert clock.next_check(cal) == risk
    if risk - timedelta(microseconds=1) >= start:
        assert clock.evaluate(cal, risk - timedelta(microseconds=1)) == [] or risk == start
    assert "at_risk" in clock.evaluate(cal, risk)
    assert clock.next_check(cal) == due
    assert clock.evaluate(cal, due) == ["breached"]
    assert clock.next_check(cal) is None


@given(cal=CALS, start=starts, target=targets, stop_after=st.integers(0, 300 * 60))
def test_stopped_clock_is_met_iff_within_target(cal, start, target, stop_after) -> None:
    clock = SlaClock("resolution", target, start)
    stop = start + timedelta(minutes=stop_after)
    clock.stop(cal, stop)
    assert clock.met(cal) == (cal.business_time_between(start, stop) <= target)
    assert clock.evaluate(cal, stop + timedelta(days=30)) == []
    assert clock.next_check(cal) is None


def test_weekend_and_holiday_do_not_count() -> None:
    start = datetime(2025, 9, 30, 16, tzinfo=SH)  # Tuesday before the golden week (1-8 Oct 2025)
    clock = SlaClock("first_response", timedelta(hours=4), start)
    assert clock.due_at(CN).astimezone(SH) == datetime(2025, 10, 9, 11, tzinfo=SH)


def test_policy_defaults_and_overrides() -> None:
    p = SlaPolicy.from_config({"targets": {"first_response": {"P1": 0.5}}, "at_risk_share": 0.75})
    assert p.target("first_response", priority="P1") == timedelta(minutes=30)
    assert p.target("on_site_arrival", priority="P3", in_province=False) == timedelta(hours=48)
    assert p.target("on_site_arrival", priority="P3", in_province=True) == timedelta(hours=24)
    assert p.target("complaint_record", priority=None) == timedelta(hours=3)
    assert p.clocks_for(kind="repair", path="on_site") == ("first_response", "on_site_arrival", "resolution")
    assert p.clocks_for(kind="complaint", path="remote") == ("complaint_record", "complaint_contact", "complaint_fix")
    assert p.at_risk_share == 0.75
