"""A route's timeline: windows, pinned starts, the way back, and where the break goes."""

from __future__ import annotations

import numpy as np

from dispatch.domain.timeline import Brk, Shift, Stop, schedule

# locations: 0 = home, 1..3 = sites; 30 minutes between any two different places
TT = np.full((4, 4), 30.0)
np.fill_diagonal(TT, 0.0)
DAY = Shift(tech=0, start=480.0, end=1080.0, loc=0, brk=None, day=0)  # 08:00–18:00 in minutes


def stop(job: int, duration: float = 60.0, lo: float = 0.0, hi: float = 1e9, fixed: float | None = None) -> Stop:
    return Stop(job, job, duration, lo, hi, fixed)


def test_visits_start_as_early_as_travel_and_windows_allow():
    line = schedule(DAY, [stop(1), stop(2, lo=720.0)], TT)
    assert line is not None
    assert line.starts == (510.0, 720.0)  # 08:30 after the drive; the second waits for its window at 12:00
    assert line.back == 720.0 + 60.0 + 30.0 and line.travel == 90.0


def test_long_visits_fit_when_the_day_has_room():
    assert schedule(DAY, [stop(1, duration=240.0), stop(2, duration=240.0)], TT) is not None
    assert schedule(DAY, [stop(1, duration=300.0), stop(2, duration=240.0)], TT) is None  # back after 18:00


def test_a_window_that_closes_before_arrival_refuses_the_order():
    assert schedule(DAY, [stop(1, duration=120.0), stop(2, hi=600.0)], TT) is None


def test_a_pinned_visit_starts_exactly_at_its_time():
    line = schedule(DAY, [stop(1, fixed=600.0), stop(2)], TT)
    assert line is not None and line.starts == (600.0, 690.0)
    assert schedule(DAY, [stop(2, duration=120.0), stop(1, fixed=600.0)], TT) is None  # cannot be there by 10:00


def test_the_break_fits_in_a_wait_without_costing_time():
    day = Shift(0, 480.0, 1080.0, 0, Brk(690.0, 810.0, 45.0), 0)
    line = schedule(day, [stop(1), stop(2, lo=780.0)], TT)
    assert line is not None and line.starts == (510.0, 780.0)
    assert line.brk_start is not None and 690.0 <= line.brk_start and line.brk_start + 45.0 <= 780.0


def test_the_break_is_taken_before_the_visit_it_cannot_follow():
    day = Shift(0, 480.0, 1080.0, 0, Brk(690.0, 810.0, 45.0), 0)
    line = schedule(day, [stop(1, duration=180.0), stop(2, duration=180.0)], TT)
    assert line is not None
    # first visit 08:30–11:30, at the second site at 12:00; serving it first would put the break
    # after 13:30: it is taken on arrival, the visit starts 12:45
    assert line.brk_start == 720.0 and line.brk_on_arrival and line.starts == (510.0, 765.0)


def test_a_day_over_before_the_break_needs_none_and_a_break_that_cannot_fit_refuses():
    day = Shift(0, 480.0, 1080.0, 0, Brk(690.0, 810.0, 45.0), 0)
    line = schedule(day, [stop(1)], TT)
    assert line is not None and line.brk_start is None and line.back == 600.0
    # a pinned visit from 11:00 to 15:00 leaves no room for a break that must start by 13:30
    assert schedule(day, [stop(1, duration=240.0, fixed=660.0)], TT) is None


def test_the_search_finds_an_earlier_break_the_greedy_rule_misses():
    # The 30-minute wait before stop 2 cannot hold the whole 45-minute break, so the greedy rule
    # defers it until after stop 2, which makes stop 3 miss its window; taking it on arrival at
    # stop 2 (costing 15 minutes there) keeps every window.
    day = Shift(0, 480.0, 1080.0, 0, Brk(600.0, 700.0, 45.0), 0)
    stops = [stop(1), stop(2, lo=630.0), stop(3, hi=750.0)]
    assert schedule(day, stops, TT, exhaustive=False) is None
    line = schedule(day, stops, TT)
    assert line is not None and line.brk_start == 600.0 and line.starts == (510.0, 645.0, 735.0)
