"""One technician's working period as a route: when each visit starts given the order of the stops,
travel times, time windows, pinned starts and a break (pure, in epoch minutes).

A route leaves the period's start location (depot or home) no earlier than the period starts, serves
each stop in order (service starts inside the stop's window, exactly at a pinned stop's start) and
is back before the period ends. A break of `minutes` starts between its `earliest` and `latest`
wherever the technician is: during a wait if one is long enough, else as late as possible (just
before the visit it cannot be taken after), so it costs as little time as it can. A route that is
back home before the break's latest start needs no break.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

INF = math.inf
EPS = 1e-6


@dataclass(frozen=True)
class Brk:
    earliest: float
    latest: float
    minutes: float


@dataclass(frozen=True)
class Shift:
    tech: int  # index of the technician
    start: float  # epoch minutes
    end: float
    loc: int  # where the period starts (depot or home; the current visit's site): a row of the travel matrix
    brk: Brk | None
    day: int  # UTC day number the period starts on (maximum visits per day)
    end_loc: int = -1  # where it ends, when not where it starts

    @property
    def home(self) -> int:
        return self.loc if self.end_loc < 0 else self.end_loc


@dataclass(frozen=True)
class Stop:
    job: int
    loc: int
    duration: float
    lo: float  # service starts no earlier
    hi: float  # and no later
    fixed: float | None = None  # a pinned visit starts exactly then


@dataclass(frozen=True)
class Timeline:
    starts: tuple[float, ...]
    legs: tuple[float, ...]  # travel before each stop, then back to the start location (len = stops + 1)
    back: float  # back at the start location
    brk_start: float | None
    brk_before: int  # the break is taken before the service of this stop (== number of stops: before going back)
    brk_on_arrival: bool  # at the stop (after arriving) rather than before leaving the previous one

    @property
    def travel(self) -> float:
        return float(sum(self.legs))


def schedule(
    shift: Shift, stops: Sequence[Stop], tt: NDArray[np.float64], *, exhaustive: bool = True
) -> Timeline | None:
    """The earliest timeline of `stops` in this order, or None when no timeline keeps every
    constraint. The break goes where the greedy rule puts it; when that fails after the break cost
    time, every other place is tried (unless `exhaustive` is off: a search weighing many candidate
    routes does without)."""
    timeline, forced = _forward(shift, stops, tt, None)
    if timeline is not None or not forced or shift.brk is None or not exhaustive:
        return timeline
    best = None
    for k in range(len(stops) + 1):
        for on_arrival in (True, False):
            if on_arrival and k == len(stops):
                continue
            cand, _ = _forward(shift, stops, tt, (k, on_arrival))
            if cand is not None and (best is None or cand.back < best.back):
                best = cand
    return best


class _Walk:
    """The state of a forward pass over a route."""

    __slots__ = ("brk_before", "brk_on_arrival", "brk_start", "forced", "t")

    def __init__(self, t: float) -> None:
        self.t = t
        self.brk_start: float | None = None
        self.brk_before = -1
        self.brk_on_arrival = False
        self.forced = False

    def take(self, at: float, k: int, on_arrival: bool) -> None:
        self.brk_start, self.brk_before, self.brk_on_arrival = at, k, on_arrival


def _forward(
    shift: Shift, stops: Sequence[Stop], tt: NDArray[np.float64], force: tuple[int, bool] | None
) -> tuple[Timeline | None, bool]:
    b = shift.brk
    w = _Walk(shift.start)
    taken = b is None
    prev = shift.loc
    starts: list[float] = []
    legs: list[float] = []
    n = len(stops)
    for k in range(n + 1):
        last = k == n
        loc = shift.home if last else stops[k].loc
        leg = float(tt.item(prev, loc)) if prev != loc else 0.0
        depart = w.t
        if (
            not taken
            and b is not None
            and (
                (force is not None and force == (k, False))
                or (force is None and last and n and depart + leg > b.latest + EPS)
            )
        ):
            at = max(depart, b.earliest)
            if at > b.latest + EPS:
                return None, True
            w.forced = w.forced or force is None
            w.take(at, k, False)
            taken, depart = True, at + b.minutes
        arrive = depart + leg
        legs.append(leg)
        if last:
            if arrive > shift.end + EPS or (not taken and force is not None):
                return None, w.forced
            break
        s = stops[k]
        if s.fixed is not None and arrive > s.fixed + EPS:
            return None, w.forced
        ready = s.fixed if s.fixed is not None else max(arrive, s.lo)
        if not taken and b is not None:
            ready, taken, fail = _break_at_stop(w, b, s, k, arrive, ready, depart - 0.0, leg, force)
            if fail:
                return None, w.forced
        if ready > s.hi + EPS or ready + s.duration > shift.end + EPS:
            return None, w.forced
        starts.append(ready)
        w.t = ready + s.duration
        prev = s.loc
    return Timeline(tuple(starts), tuple(legs), arrive, w.brk_start, w.brk_before, w.brk_on_arrival), w.forced


def _break_at_stop(
    w: _Walk,
    b: Brk,
    s: Stop,
    k: int,
    arrive: float,
    ready: float,
    depart: float,
    leg: float,
    force: tuple[int, bool] | None,
) -> tuple[float, bool, bool]:
    """Decide whether the break is taken at stop k (returns the new service start, taken, failed)."""
    at = max(arrive, b.earliest)
    if force is not None:
        if force != (k, True):
            return ready, False, False
        if at > b.latest + EPS:
            return ready, False, True
        w.take(at, k, True)
        return _after_break(s, ready, at + b.minutes)
    if at <= b.latest + EPS and at + b.minutes <= ready + EPS:  # the wait holds the whole break
        w.take(at, k, True)
        return ready, True, False
    if ready + s.duration <= b.latest + EPS:
        return ready, False, False  # it can still be taken after this visit
    w.forced = True
    if at <= b.latest + EPS:  # on arrival, before the service
        w.take(at, k, True)
        return _after_break(s, ready, at + b.minutes)
    at = max(depart, b.earliest)  # before leaving the previous stop
    if at > b.latest + EPS:
        return ready, False, True
    w.take(at, k, False)
    arrive = at + b.minutes + leg
    if s.fixed is not None:
        return (s.fixed, True, arrive > s.fixed + EPS)
    return max(arrive, s.lo), True, False


def _after_break(s: Stop, ready: float, back_at_work: float) -> tuple[float, bool, bool]:
    if s.fixed is not None:
        return s.fixed, True, back_at_work > s.fixed + EPS
    return max(ready, back_at_work), True, False
