"""When a survey goes out: N working days after resolution on the tenant's business calendar.

The working-day arithmetic is the shared BusinessCalendar (CN holidays and 调休 make-up days,
time zones); this module only decides which local day and time of day the survey is sent.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from fixflow_shared.calendars import BusinessCalendar
from survey.domain.exceptions import RuleViolation
from survey.domain.model import CalendarSpec, SurveyPlan


@lru_cache(maxsize=256)
def _calendar(spec: CalendarSpec, first_year: int, last_year: int) -> BusinessCalendar:
    return BusinessCalendar.for_country(
        spec.country,
        years=range(first_year, last_year + 1),
        tz=spec.tz,
        working_hours=None,
        extra_holidays=spec.extra_holidays,
        extra_workdays=spec.extra_workdays,
    )


def calendar_for(spec: CalendarSpec, around: datetime) -> BusinessCalendar:
    """The tenant's calendar covering the year of `around` and the next one (cached)."""
    return _calendar(spec, around.year - 1, around.year + 1)


def check_calendar(spec: CalendarSpec, around: datetime) -> None:
    """Refuse (422) a calendar the holiday data cannot build: an unknown country or time zone."""
    try:
        calendar_for(spec, around)
    except (KeyError, ValueError, NotImplementedError) as exc:
        raise RuleViolation(f"unusable calendar: {exc}") from exc


def send_time_on(day: date, plan: SurveyPlan, cal: BusinessCalendar) -> datetime:
    """`day` at the plan's local send time, as UTC."""
    return datetime.combine(day, plan.send_time, tzinfo=cal.zone).astimezone(UTC)


def due_at(
    resolved_at: datetime, plan: SurveyPlan, *, working_days: int | None = None, cal: BusinessCalendar | None = None
) -> datetime:
    """The send time of a survey for a ticket resolved at `resolved_at`.

    The local date of resolution (in the tenant's time zone) is moved forward by the plan's
    working days (holidays skipped, make-up working days counted); the survey goes out on that
    day at the plan's local send time.
    """
    if resolved_at.tzinfo is None:
        raise ValueError("resolved_at must be timezone-aware")
    cal = cal or calendar_for(plan.calendar, resolved_at)
    n = plan.delay_working_days if working_days is None else working_days
    day = cal.local_date(cal.add_working_days(resolved_at, n))
    return send_time_on(day, plan, cal)


def follow_up_due_at(resolved_at: datetime, plan: SurveyPlan, cal: BusinessCalendar | None = None) -> datetime:
    """Major issues are surveyed again within a month of resolution."""
    return due_at(resolved_at, plan, working_days=plan.follow_up_working_days, cal=cal)


def expiry_after_sending(plan: SurveyPlan) -> timedelta:
    return timedelta(days=plan.expires_after_days)


def reminder_times(sent_at: datetime, plan: SurveyPlan) -> list[datetime]:
    return [sent_at + timedelta(days=d) for d in plan.reminder_after_days]
