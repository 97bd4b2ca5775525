"""Business calendars: working days, working hours, holidays and make-up workdays (调休).

Pure Python, no I/O. Used by intake's SLA clocks and survey's send scheduling.

Semantics (every function below follows them):

* A *working day* is a local date ``d`` (in the calendar's time zone) such that
  ``d in extra_workdays`` or (``d.weekday() in weekdays`` and ``d not in holidays``).
  ``extra_workdays`` is an explicit override and wins over both the weekday set and
  ``holidays`` (China moves weekends with 调休; a tenant may also open on a holiday).
* On a working day the *business interval* is ``[start, end)`` of ``working_hours`` in local
  time, or the whole local day when ``working_hours`` is ``None``.
  :meth:`BusinessCalendar.always` (every day, whole day, no holidays) is a true 24x7 calendar
  where business time equals wall-clock time.
* Every datetime argument must be timezone-aware (``ValueError`` otherwise). Results carry the
  time zone of the ``start`` argument.
* ``add_business_time(start, 0)`` returns ``start`` unchanged. For a positive duration the result
  is the earliest instant ``t`` with ``business_time_between(start, t) == duration``; a deadline
  that uses up a day's hours exactly lands on the closing time (18:00), not on the next opening.
* ``add_working_days(start, n)`` moves to the ``n``-th working day after the local date of
  ``start`` (``n`` < 0: before), keeping the local wall-clock time; ``n == 0`` rolls forward to
  the first working day on or after that date.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["BusinessCalendar", "DEFAULT_TZ_BY_COUNTRY"]

WEEKDAYS_MON_FRI: frozenset[int] = frozenset(range(5))
ALL_DAYS: frozenset[int] = frozenset(range(7))
DEFAULT_TZ_BY_COUNTRY: dict[str, str] = {
    "CN": "Asia/Shanghai",
    "HK": "Asia/Hong_Kong",
    "TW": "Asia/Taipei",
    "SG": "Asia/Singapore",
    "JP": "Asia/Tokyo",
    "DE": "Europe/Berlin",
    "GB": "Europe/London",
    "US": "America/New_York",
}
# A calendar with no working day in this many consecutive days is considered broken.
_MAX_GAP_DAYS = 3 * 366


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


@dataclass(frozen=True, slots=False)
class BusinessCalendar:
    tz: str = "Asia/Shanghai"
    working_hours: tuple[time, time] | None = (time(9), time(18))
    weekdays: frozenset[int] = WEEKDAYS_MON_FRI
    holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        ZoneInfo(self.tz)  # raises ZoneInfoNotFoundError (a KeyError) for unknown zones
        # normalise iterables passed by callers into frozensets (dataclass is frozen)
        object.__setattr__(self, "weekdays", frozenset(self.weekdays))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "extra_workdays", frozenset(self.extra_workdays))
        if any(not isinstance(w, int) or not 0 <= w <= 6 for w in self.weekdays):
            raise ValueError("weekdays must be integers 0 (Monday) .. 6 (Sunday)")
        if self.working_hours is not None:
            if len(self.working_hours) != 2:
                raise ValueError("working_hours must be a (start, end) pair or None")
            start, end = self.working_hours
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("working_hours are local wall-clock times without tzinfo")
            if not start < end:
                raise ValueError("working_hours start must be before end (use None for a whole day)")
            object.__setattr__(self, "working_hours", (start, end))
        if not self.weekdays and not self.extra_workdays:
            raise ValueError("a calendar needs at least one working weekday or extra workday")

    # ------------------------------------------------------------------ constructors
    @classmethod
    def always(cls, tz: str = "UTC") -> BusinessCalendar:
        """24x7: every day, the whole day, no holidays. Business time == wall-clock time."""
        return cls(tz=tz, working_hours=None, weekdays=ALL_DAYS)

    @classmethod
    def for_country(
        cls,
        country: str = "CN",
        *,
        years: Iterable[int] | None = None,
        subdiv: str | None = None,
        tz: str | None = None,
        working_hours: tuple[time, time] | None = (time(9), time(18)),
        weekdays: Iterable[int] = WEEKDAYS_MON_FRI,
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
        remove_holidays: Iterable[date] = (),
    ) -> BusinessCalendar:
        """Public holidays (and weekend make-up workdays, 调休) from the ``holidays`` library,
        plus tenant overrides. ``years`` defaults to last year .. three years ahead."""
        import holidays as holidays_lib  # local import: keep module import cheap

        if years is None:
            this_year = date.today().year
            years = range(this_year - 1, this_year + 4)
        year_set = set(years)
        base = holidays_lib.country_holidays(country, subdiv=subdiv, years=sorted(year_set))
        public = {d for d in base if d.year in year_set}
        makeup = {d for d in getattr(base, "weekend_workdays", set()) if d.year in year_set}
        if tz is None:
            if country not in DEFAULT_TZ_BY_COUNTRY:
                raise ValueError(f"no default time zone for country {country!r}; pass tz=")
            tz = DEFAULT_TZ_BY_COUNTRY[country]
        hol = (public | set(extra_holidays)) - set(remove_holidays)
        return cls(
            tz=tz,
            working_hours=working_hours,
            weekdays=frozenset(weekdays),
            holidays=frozenset(hol),
            extra_workdays=frozenset(makeup | set(extra_workdays)),
        )

    # ------------------------------------------------------------------ (de)serialisation
    def to_config(self) -> dict[str, Any]:
        """JSON-friendly form, e.g. for a tenant's row in a database."""
        return {
            "tz": self.tz,
            "working_hours": None
            if self.working_hours is None
            else [self.working_hours[0].isoformat(), self.working_hours[1].isoformat()],
            "weekdays": sorted(self.weekdays),
            "holidays": sorted(d.isoformat() for d in self.holidays),
            "extra_workdays": sorted(d.isoformat() for d in self.extra_workdays),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> BusinessCalendar:
        wh = config.get("working_hours", ["09:00:00", "18:00:00"])
        return cls(
            tz=config.get("tz", "Asia/Shanghai"),
            working_hours=None if wh is None else (time.fromisoformat(wh[0]), time.fromisoformat(wh[1])),
            weekdays=frozenset(config.get("weekdays", WEEKDAYS_MON_FRI)),
            holidays=frozenset(date.fromisoformat(d) for d in config.get("holidays", ())),
            extra_workdays=frozenset(date.fromisoformat(d) for d in config.get("extra_workdays", ())),
        )

    # ------------------------------------------------------------------ queries
    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def is_24x7(self) -> bool:
        return self.working_hours is None and self.weekdays == ALL_DAYS and not self.holidays

    def is_working_day(self, d: date) -> bool:
        if isinstance(d, datetime):
            _require_aware("d", d)
            d = d.astimezone(self.zone).date()
        if d in self.extra_workdays:
            return True
        return d.weekday() in self.weekdays and d not in self.holidays

    def is_business_time(self, at: datetime) -> bool:
        _require_aware("at", at)
        local = at.astimezone(self.zone)
        for start, end in self._intervals_of(local.date()):
            if start <= at < end:
                return True
        return False

    def local_date(self, at: datetime) -> date:
        _require_aware("at", at)
        return at.astimezone(self.zone).date()

    # ------------------------------------------------------------------ intervals
    def _day_interval(self, d: date) -> tuple[datetime, datetime]:
        """The business interval of local date ``d`` in UTC (assumes d is a working day)."""
        if self.working_hours is None:
            start = datetime.combine(d, time(0), tzinfo=self.zone)
            end = datetime.combine(d + timedelta(days=1), time(0), tzinfo=self.zone)
        else:
            start = datetime.combine(d, self.working_hours[0], tzinfo=self.zone)
            end = datetime.combine(d, self.working_hours[1], tzinfo=self.zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def _intervals_of(self, d: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(d):
            return []
        start, end = self._day_interval(d)
        return [(start, end)] if start < end else []

    def _intervals_from(self, d: date) -> Iterator[tuple[datetime, datetime]]:
        gap = 0
        while True:
            ivs = self._intervals_of(d)
            if ivs:
                gap = 0
                yield from ivs
            else:
                gap += 1
                if gap > _MAX_GAP_DAYS:
                    raise ValueError(f"no working day within {_MAX_GAP_DAYS} days after {d}")
            d += timedelta(days=1)

    # ------------------------------------------------------------------ arithmetic
    def next_business_time(self, at: datetime) -> datetime:
        """The earliest business instant at or after ``at``."""
        _require_aware("at", at)
        at_utc = at.astimezone(UTC)
        # start one local day earlier: a whole-day interval may begin before ``at``'s local date
        for start, end in self._intervals_from(self.local_date(at) - timedelta(days=1)):
            if end > at_utc:
                return max(start, at_utc).astimezone(at.tzinfo)
        raise AssertionError("unreachable")  # pragma: no cover

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        _require_aware("start", start)
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        if duration == timedelta(0):
            return start
        if self.is_24x7:
            return (start.astimezone(UTC) + duration).astimezone(start.tzinfo)
        cur = start.astimezone(UTC)
        remaining = duration
        for iv_start, iv_end in self._intervals_from(self.local_date(start) - timedelta(days=1)):
            if iv_end <= cur:
                continue
            s = max(iv_start, cur)
            available = iv_end - s
            if remaining <= available:
                return (s + remaining).astimezone(start.tzinfo)
            remaining -= available
            cur = iv_end
        raise AssertionError("unreachable")  # pragma: no cover

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Business time in ``[start, end)``; negative when ``end`` is before ``start``."""
        _require_aware("start", start)
        _require_aware("end", end)
        a, b = start.astimezone(UTC), end.astimezone(UTC)
        if b < a:
            return -self.business_time_between(end, start)
        if self.is_24x7:
            return b - a
        total = timedelta(0)
        d = self.local_date(a) - timedelta(days=1)
        last = self.local_date(b)
        while d <= last:
            for iv_start, iv_end in self._intervals_of(d):
                lo, hi = max(iv_start, a), min(iv_end, b)
                if hi > lo:
                    total += hi - lo
            d += timedelta(days=1)
        return total

    def add_working_days(self, start: datetime, n: int) -> datetime:
        _require_aware("start", start)
        local = start.astimezone(self.zone)
        d = local.date()
        step = 1 if n >= 0 else -1
        if n == 0:
            count = 0
            while not self.is_working_day(d):
                d += timedelta(days=1)
                count += 1
                if count > _MAX_GAP_DAYS:
                    raise ValueError(f"no working day within {_MAX_GAP_DAYS} days after {local.date()}")
        else:
            left = abs(n)
            gap = 0
            while left:
                d += timedelta(days=step)
                if self.is_working_day(d):
                    left -= 1
                    gap = 0
                else:
                    gap += 1
                    if gap > _MAX_GAP_DAYS:
                        raise ValueError(f"no working day within {_MAX_GAP_DAYS} days of {d}")
        moved = datetime.combine(d, local.timetz().replace(tzinfo=None), tzinfo=self.zone)
        return moved.astimezone(start.tzinfo)

    def working_days_between(self, start: date, end: date) -> int:
        """Number of working days in the half-open local date range ``(start, end]``."""
        if end < start:
            return -self.working_days_between(end, start)
        n, d = 0, start
        while d < end:
            d += timedelta(days=1)
            n += self.is_working_day(d)
        return n
