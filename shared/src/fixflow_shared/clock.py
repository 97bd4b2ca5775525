"""The one source of "now" for every service.

Production code never calls `datetime.now()`: a service's bootstrap hands a `Clock` to its
runtime, every unit of work carries it (`uow.clock`), and a use case reads `now = uow.clock.now()`
once and passes that instant to the domain, whose functions take `now` as an argument and never
read a clock themselves. Tests give the bootstrap (or one unit of work) a `SettableClock` to run a
use case at a pinned instant: an SLA deadline, a survey's send time or a working-hours check is
then computed from that instant, whatever the hour the suite runs at.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a clock is set to an aware datetime (naive times have no instant)")
    return at.astimezone(UTC)


class SettableClock:
    """A clock that stands still at the instant it is set to, until set or advanced (tests)."""

    def __init__(self, at: datetime) -> None:
        self._at = _utc(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = _utc(at)

    def advance(self, by: timedelta | None = None, /, **delta: float) -> datetime:
        """Move forward by `by` or by timedelta keywords (`advance(hours=2)`); returns the new now."""
        step = by if by is not None else timedelta(**delta)
        if step < timedelta(0):
            raise ValueError("time does not run backwards: set() the clock instead")
        self._at += step
        return self._at

    def __repr__(self) -> str:
        return f"SettableClock({self._at.isoformat()})"


SYSTEM_CLOCK: Clock = SystemClock()
