"""Property and example tests of fixflow_shared.calendars.BusinessCalendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixflow_shared.calendars import BusinessCalendar

SH = ZoneInfo("Asia/Shanghai")
CN = BusinessCalendar.for_country("CN", years=range(2023, 2028))

instants = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.just(UTC))
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    tz = draw(st.sampled_from(["Asia/Shanghai", "UTC", "Europe/Berlin", "America/New_York"]))
    weekdays = draw(st.frozensets(st.integers(0, 6), min_size=1))
    if draw(st.booleans()):
        wh = None
    else:
        start = draw(st.integers(0, 22))
        end = draw(st.integers(start + 1, 23))
        wh = (time(start), time(end, draw(st.sampled_from([0, 30]))))
    days = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 1, 1))
    hol = draw(st.frozensets(days, max_size=30))
    extra = draw(st.frozensets(days, max_size=5))
    return BusinessCalendar(tz=tz, working_hours=wh, weekdays=weekdays, holidays=hol, extra_workdays=extra)


any_calendar = st.one_of(st.just(CN), st.just(BusinessCalendar.always()), calendars())


# ---------------------------------------------------------------------- examples
def test_cn_holidays_and_makeup_days() -> None:
    assert not CN.is_working_day(date(2024, 10, 1))  # National Day
    assert not CN.is_working_day(date(2024, 10, 7))  # substituted day off (Monday)
    assert CN.is_working_day(date(2024, 9, 29))  # Sunday make-up workday (调休)
    assert CN.is_working_day(date(2024, 10, 12))  # Saturday make-up workday
    assert not CN.is_working_day(date(2024, 10, 5))  # plain Saturday
    assert CN.is_working_day(date(2024, 10, 8))  # Tuesday after the golden week


def test_deadline_across_golden_week() -> None:
    # Monday 30 Sep 2024 17:00 local + 4 business hours: 1 h that day, then 3 h on Tue 8 Oct
    start = datetime(2024, 9, 30, 17, tzinfo=SH)
    due = CN.add_business_time(start, timedelta(hours=4))
    assert due == datetime(2024, 10, 8, 12, tzinfo=SH)
    assert CN.business_time_between(start, due) == timedelta(hours=4)


def test_exact_end_of_day_lands_on_closing_time() -> None:
    start = datetime(2024, 3, 4, 9, tzinfo=SH)  # Monday opening
    assert CN.add_business_time(start, timedelta(hours=9)) == datetime(2024, 3, 4, 18, tzinfo=SH)
    assert CN.add_business_time(start, timedelta(hours=9, seconds=1)) == datetime(2024, 3, 5, 9, 0, 1, tzinfo=SH)


def test_outside_hours_start_counts_from_next_opening() -> None:
    start = datetime(2024, 3, 8, 20, tzinfo=SH)  # Friday evening
    assert CN.add_business_time(start, timedelta(hours=1)) == datetime(2024, 3, 11, 10, tzinfo=SH)
    assert CN.next_business_time(start) == datetime(2024, 3, 11, 9, tzinfo=SH)


def test_add_working_days_keeps_local_time_and_skips_holidays() -> None:
    completed = datetime(2024, 9, 27, 15, 30, tzinfo=SH)  # Friday
    # Sun 29 Sep (make-up) is day 1, Mon 30 Sep day 2, then 1-7 Oct off, Tue 8 Oct day 3
    assert CN.add_working_days(completed, 3) == datetime(2024, 10, 8, 15, 30, tzinfo=SH)
    assert CN.add_working_days(completed, -1) == datetime(2024, 9, 26, 15, 30, tzinfo=SH)
    assert CN.add_working_days(datetime(2024, 10, 5, 8, tzinfo=SH), 0) == datetime(2024, 10, 8, 8, tzinfo=SH)


def test_result_keeps_callers_time_zone() -> None:
    start = datetime(2024, 3, 4, 1, tzinfo=UTC)  # 09:00 in Shanghai
    due = CN.add_business_time(start, timedelta(hours=2))
    assert due.tzinfo is UTC and due == datetime(2024, 3, 4, 3, tzinfo=UTC)


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2024, 3, 4, 9)
    aware = datetime(2024, 3, 4, 9, tzinfo=UTC)
    with pytest.raises(ValueError):
        CN.add_business_time(naive, timedelta(hours=1))
    with pytest.raises(ValueError):
        CN.business_time_between(aware, naive)
    with pytest.raises(ValueError):
        CN.add_working_days(naive, 1)
    with pytest.raises(ValueError):
        CN.add_business_time(aware, timedelta(hours=-1))


def test_invalid_configurations_are_rejected() -> None:
    with pytest.raises(ValueError):
        BusinessCalendar(working_hours=(time(18), time(9)))
    with pytest.raises(ValueError):
        BusinessCalendar(weekdays=frozenset())
    with pytest.raises(ValueError):
        BusinessCalendar(weekdays=frozenset({7}))
    with pytest.raises(KeyError):
        BusinessCalendar(tz="Mars/Olympus")


def test_twelve_hours_365_days_calendar() -> None:
    cal = BusinessCalendar(tz="Asia/Shanghai", working_hours=(time(8), time(20)), weekdays=frozenset(range(7)))
    start = datetime(2024, 10, 1, 19, tzinfo=SH)  # holiday, still open
    assert cal.add_business_time(start, timedelta(hours=48)) == datetime(2024, 10, 5, 19, tzinfo=SH)


@given(cal=any_calendar)
@settings(max_examples=50)
def test_config_round_trip(cal: BusinessCalendar) -> None:
    assert BusinessCalendar.from_config(cal.to_config()) == cal


# ---------------------------------------------------------------------- properties
@given(cal=any_calendar, start=instants, d=durations)
def test_add_then_measure_round_trips(cal: BusinessCalendar, start: datetime, d: timedelta) -> None:
    due = cal.add_business_time(start, d)
    assert due >= start
    assert cal.business_time_between(start, due) == d


@given(cal=any_calendar, start=instants, d=durations)
def test_result_is_the_earliest_such_instant(cal: BusinessCalendar, start: datetime, d: timedelta) -> None:
    due = cal.add_business_time(start, d)
    if d > timedelta(0):
        # one microsecond earlier has not accumulated the full duration yet
        assert cal.business_time_between(start, due - timedelta(microseconds=1)) < d
        # and a positive deadline is always inside (or at the closing edge of) business hours
        assert cal.is_business_time(due - timedelta(microseconds=1))


@given(cal=any_calendar, start=instants, d1=durations, d2=durations)
def test_add_is_monotonic_and_additive(cal: BusinessCalendar, start: datetime, d1: timedelta, d2: timedelta) -> None:
    lo, hi = sorted([d1, d2])
    assert cal.add_business_time(start, lo) <= cal.add_business_time(start, hi)
    if lo > timedelta(0):
        step = cal.add_business_time(cal.add_business_time(start, lo), hi)
        assert step == cal.add_business_time(start, lo + hi)


@given(cal=any_calendar, a=instants, b=instants, c=instants)
def test_between_is_additive_and_antisymmetric(cal: BusinessCalendar, a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted([a, b, c])
    ab, bc = cal.business_time_between(a, b), cal.business_time_between(b, c)
    assert ab >= timedelta(0) and bc >= timedelta(0)
    assert ab + bc == cal.business_time_between(a, c)
    assert cal.business_time_between(b, a) == -ab
    assert ab <= b - a


@given(start=instants, d=durations)
def test_24x7_equals_wall_clock(start: datetime, d: timedelta) -> None:
    cal = BusinessCalendar.always("Asia/Shanghai")
    assert cal.add_business_time(start, d) == start + d
    assert cal.business_time_between(start, start + d) == d


@given(start=instants, d=durations, tz=st.sampled_from(["UTC", "Asia/Shanghai", "Europe/Berlin"]))
def test_whole_day_every_day_is_wall_clock_even_over_dst(start: datetime, d: timedelta, tz: str) -> None:
    cal = BusinessCalendar(
        tz=tz, working_hours=None, weekdays=frozenset(range(7)), holidays=frozenset({date(1999, 1, 1)})
    )
    assert not cal.is_24x7  # force the interval walk, not the shortcut
    assert cal.add_business_time(start, d) == start + d


@given(cal=any_calendar, start=instants, n=st.integers(1, 40))
def test_working_days_never_land_on_a_day_off(cal: BusinessCalendar, start: datetime, n: int) -> None:
    moved = cal.add_working_days(start, n)
    assert moved > start
    assert cal.is_working_day(cal.local_date(moved))
    assert cal.working_days_between(cal.local_date(start), cal.local_date(moved)) == n
    back = cal.add_working_days(start, -n)
    assert back < start and cal.is_working_day(cal.local_date(back))


@given(start=instants, d=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=30)))
def test_cn_positive_deadlines_never_fall_on_holidays_or_weekends(start: datetime, d: timedelta) -> None:
    due = CN.add_business_time(start, d)
    local = (due - timedelta(microseconds=1)).astimezone(SH)
    assert CN.is_working_day(local.date())
    assert time(9) <= local.time() < time(18)
