"""Working-day scheduling of surveys on the shared BusinessCalendar (property-based)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixflow_shared.calendars import BusinessCalendar
from survey.domain.model import CalendarSpec, SurveyPlan
from survey.domain.scheduling import calendar_for, due_at, follow_up_due_at

SH = ZoneInfo("Asia/Shanghai")
PLAN = SurveyPlan(tenant_id="t1")
CN_2025 = BusinessCalendar.for_country("CN", years=range(2024, 2027), working_hours=None)
ZONES = ["Asia/Shanghai", "UTC", "America/New_York", "Europe/Berlin", "Pacific/Kiritimati", "Pacific/Pago_Pago"]

instants = st.datetimes(min_value=datetime(2024, 6, 1), max_value=datetime(2026, 6, 30), timezones=st.just(UTC))


def test_national_day_week_is_skipped_and_make_up_saturday_counts():
    # Resolved Tue 30 Sep 2025: 1-8 Oct are holidays; Thu 9, Fri 10 and Sat 11 Oct (调休) work.
    resolved = datetime(2025, 9, 30, 15, 0, tzinfo=SH)
    assert due_at(resolved, PLAN) == datetime(2025, 10, 11, 10, 0, tzinfo=SH)


def test_make_up_sunday_before_national_day_counts():
    resolved = datetime(2025, 9, 26, 17, 0, tzinfo=SH)  # Friday; Sun 28 Sep is a make-up workday
    assert due_at(resolved, PLAN) == datetime(2025, 9, 30, 10, 0, tzinfo=SH)


def test_local_date_decides_not_utc_date():
    # 23:30 UTC on Friday is already Saturday in Shanghai: the count starts from Saturday.
    resolved = datetime(2025, 3, 7, 23, 30, tzinfo=UTC)  # Sat 8 Mar 07:30 local
    assert due_at(resolved, PLAN) == datetime(2025, 3, 12, 10, 0, tzinfo=SH)  # Mon, Tue, Wed


def test_tenant_overrides_are_honoured():
    plan = PLAN.with_(calendar=CalendarSpec(extra_holidays=(date(2025, 3, 10),), extra_workdays=(date(2025, 3, 8),)))
    resolved = datetime(2025, 3, 7, 12, 0, tzinfo=SH)  # Friday; Sat 8 works, Mon 10 is off
    assert due_at(resolved, plan) == datetime(2025, 3, 12, 10, 0, tzinfo=SH)  # Sat 8, Tue 11, Wed 12


def test_follow_up_of_a_major_issue_is_within_about_a_month():
    resolved = datetime(2025, 5, 6, 12, 0, tzinfo=SH)
    f = follow_up_due_at(resolved, PLAN)
    assert timedelta(days=20) < f - resolved <= timedelta(days=35)


@settings(max_examples=300, deadline=None)
@given(resolved=instants, n=st.integers(0, 15))
def test_due_day_is_a_working_day_exactly_n_working_days_later(resolved, n):
    cal = calendar_for(PLAN.calendar, resolved)
    due = due_at(resolved, PLAN, working_days=n)
    start_day, due_day = cal.local_date(resolved), cal.local_date(due)
    assert cal.is_working_day(due_day)
    assert due.astimezone(cal.zone).time() == PLAN.send_time
    if n > 0:
        assert cal.working_days_between(start_day, due_day) == n
        assert due > resolved
        # no working day is skipped: the day before the due day is within the counted n-1 days
        assert cal.working_days_between(start_day, due_day - timedelta(days=1)) == n - 1
    else:
        assert due_day >= start_day


@settings(max_examples=200, deadline=None)
@given(resolved=instants, zone=st.sampled_from(ZONES), n=st.integers(0, 10))
def test_the_time_zone_a_timestamp_is_written_in_does_not_matter(resolved, zone, n):
    assert due_at(resolved.astimezone(ZoneInfo(zone)), PLAN, working_days=n) == due_at(resolved, PLAN, working_days=n)


@settings(max_examples=200, deadline=None)
@given(a=instants, gap=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)), n=st.integers(0, 10))
def test_later_resolution_never_gives_an_earlier_survey(a, gap, n):
    b = a + gap
    if b.year > 2026:
        return
    assert due_at(a, PLAN, working_days=n) <= due_at(b, PLAN, working_days=n)


weekday_sets = st.frozensets(st.integers(0, 6), min_size=1, max_size=7)
day_in_2025 = st.dates(min_value=date(2025, 1, 1), max_value=date(2025, 12, 31))


@settings(max_examples=300, deadline=None)
@given(
    weekdays=weekday_sets,
    holidays=st.frozensets(day_in_2025, max_size=40),
    extra=st.frozensets(day_in_2025, max_size=10),
    zone=st.sampled_from(ZONES),
    resolved=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2025, 10, 31), timezones=st.just(UTC)),
    n=st.integers(1, 8),
    hour=st.integers(0, 23),
)
def test_any_calendar_holidays_and_weekends_are_skipped(weekdays, holidays, extra, zone, resolved, n, hour):
    cal = BusinessCalendar(tz=zone, working_hours=None, weekdays=weekdays, holidays=holidays, extra_workdays=extra)
    plan = PLAN.with_(send_time=time(hour))
    due = due_at(resolved, plan, working_days=n, cal=cal)
    d = cal.local_date(due)
    assert d in extra or (d.weekday() in weekdays and d not in holidays)
    assert cal.working_days_between(cal.local_date(resolved), d) == n
    # every skipped day strictly between is either not a working day or counted
    skipped = [cal.local_date(resolved) + timedelta(days=i) for i in range(1, (d - cal.local_date(resolved)).days)]
    assert sum(cal.is_working_day(x) for x in skipped) == n - 1


def test_naive_resolution_time_is_refused():
    with pytest.raises(ValueError):
        due_at(datetime(2025, 1, 1, 12), PLAN)
