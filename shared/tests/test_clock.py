"""fixflow_shared.clock: the one source of "now" (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from fixflow_shared.clock import SYSTEM_CLOCK, Clock, SettableClock, SystemClock


def test_the_system_clock_gives_an_aware_utc_instant():
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert before <= now <= datetime.now(UTC)
    assert isinstance(SYSTEM_CLOCK, Clock) and isinstance(SettableClock(before), Clock)


def test_a_settable_clock_stands_still_until_set_or_advanced():
    at = datetime(2030, 3, 1, 6, 0, tzinfo=UTC)
    clock = SettableClock(at)
    assert clock.now() == clock.now() == at
    assert clock.advance(hours=2) == at + timedelta(hours=2) == clock.now()
    assert clock.advance(timedelta(minutes=30)) == at + timedelta(hours=2, minutes=30)
    clock.set(at - timedelta(days=1))  # set() may go anywhere, also back
    assert clock.now() == at - timedelta(days=1)


def test_a_settable_clock_answers_in_utc_whatever_zone_it_was_set_in():
    shanghai = timezone(timedelta(hours=8))
    clock = SettableClock(datetime(2030, 3, 1, 8, 0, tzinfo=shanghai))
    assert clock.now() == datetime(2030, 3, 1, 0, 0, tzinfo=UTC)
    assert clock.now().utcoffset() == timedelta(0) and clock.now().tzinfo is UTC


def test_naive_times_and_backward_steps_are_refused():
    with pytest.raises(ValueError):
        SettableClock(datetime(2030, 1, 1))
    clock = SettableClock(datetime(2030, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        clock.set(datetime(2030, 1, 2))
    with pytest.raises(ValueError):
        clock.advance(seconds=-1)
