"""Field types every service's HTTP layer uses for times and dates a client sends.

Dates and times outside 1900-2200 are refused (422), as are numbers where a date or time is
expected: pydantic would read 1e15 as seconds since 1970 and a year 0 or 9999 breaks arithmetic
further in (a window, a statement month, an SLA deadline), where it used to be a 500.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, WithJsonSchema

EARLIEST = date(1900, 1, 1)
LATEST = date(2200, 12, 31)
_RANGE = f"between {EARLIEST.isoformat()} and {LATEST.isoformat()}"


def _text_only(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        raise ValueError("a date or time is written as text (ISO 8601), not as a number")
    return value


def _datetime_in_range(value: datetime) -> datetime:
    if not EARLIEST <= value.date() <= LATEST:
        raise ValueError(f"must be {_RANGE}")
    return value


def _date_in_range(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"must be {_RANGE}")
    return value


When = Annotated[
    AwareDatetime,
    BeforeValidator(_text_only),
    AfterValidator(_datetime_in_range),
    Field(description=f"RFC 3339 date-time with a zone, {_RANGE}"),
]
"""A moment with a time zone, 1900-2200 (windows, absences, report ranges, sign-offs)."""

Day = Annotated[
    date,
    BeforeValidator(_text_only),
    AfterValidator(_date_in_range),
    Field(description=f"ISO 8601 date, {_RANGE}"),
]
"""A calendar date, 1900-2200 (purchase dates, validity, effective dates)."""

MONTH_PATTERN = r"^(19[0-9]{2}|2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])$"
Month = Annotated[str, Field(pattern=MONTH_PATTERN, description="YYYY-MM, 1900-01 to 2200-12", examples=["2025-06"])]


def _wall_clock(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("a local wall-clock time has no offset (the zone is given separately)")
    return value


LocalTime = Annotated[
    time,
    BeforeValidator(_text_only),
    AfterValidator(_wall_clock),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
            "description": "local wall-clock time HH:MM[:SS], no offset (the time zone is a field of its own)",
            "examples": ["10:00"],
        }
    ),
]
"""A wall-clock time of day without offset (send times, quiet hours). OpenAPI's `format: time`
would promise an RFC 3339 time with an offset, which these are not."""
