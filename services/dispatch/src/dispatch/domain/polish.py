"""Repairs and improvements made on the exact timeline (breaks, pinned visits) after the routing
engine, whose model of a working period is close but not exact (a break is only time taken off the
period, not a pause that must start inside its window).

- `reorder`: a sequence the exact timeline refuses is first re-ordered (every move of one free
  visit to another position, every swap of two) before any visit is taken off it: most refusals
  are a break that cannot fit between two visits in that order, and another order keeps them all.
- `cheapest_drop`: a sequence no such order saves loses the visit that is cheapest to place
  elsewhere (not the one the solver happened to put last).
- `relocate_descent`: every free visit is taken off its route and put back where it costs least
  (cheapest insertion over its candidate technicians), while that lowers the cost and time is left.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

from dispatch.domain.routes import Option, RouteSet
from dispatch.domain.timeline import Stop, schedule

UNPLACED_MINUTES = 10_000.0  # per unit of priority weight: a visit left out costs more than any detour


def _orders(stops: list[Stop], free: Callable[[Stop], bool]) -> Iterator[list[Stop]]:
    """Every order reached by moving one free stop or swapping two; fixed stops keep their order."""
    n = len(stops)
    for i in range(n):
        if not free(stops[i]):
            continue
        rest = stops[:i] + stops[i + 1 :]
        for k in range(n):
            if k != i:
                yield [*rest[:k], stops[i], *rest[k:]]
    for i in range(n):
        for k in range(i + 1, n):
            if free(stops[i]) and free(stops[k]):
                swapped = list(stops)
                swapped[i], swapped[k] = swapped[k], swapped[i]
                yield swapped


def reorder(rs: RouteSet, s: int, stops: list[Stop], free: Callable[[Stop], bool]) -> list[Stop] | None:
    """The cheapest feasible order of these stops one move or swap away from the given one (None
    when there is none). Fixed stops keep their relative order, so their starts stay possible."""
    inst = rs.inst
    sh = inst.shifts[s]
    fixed = [x for x in stops if not free(x)]
    best: tuple[float, list[Stop]] | None = None
    for cand in _orders(stops, free):
        if [x for x in cand if not free(x)] != fixed:
            continue
        line = schedule(sh, cand, inst.tt)
        if line is None:
            continue
        cost = rs.route_cost(cand, line)
        if best is None or cost < best[0]:
            best = (cost, cand)
    return None if best is None else best[1]


def cheapest_drop(
    rs: RouteSet, s: int, stops: list[Stop], free: Callable[[Stop], bool]
) -> tuple[list[Stop], Stop, Option | None] | None:
    """A refused sequence for period s (whose current route holds its fixed stops only): the free
    stop whose removal (with `reorder` if needed) makes it feasible at the least cost, counting
    where that stop then goes (its cheapest place on the other routes, or its price unplaced).
    Returns the sequence kept, the stop taken off and its new place (None: unplaced), or None
    when no single removal helps."""
    inst = rs.inst
    sh = inst.shifts[s]
    best: tuple[float, list[Stop], Stop, Option | None] | None = None
    for x in stops:
        if not free(x):
            continue
        rest = [y for y in stops if y is not x]
        line = schedule(sh, rest, inst.tt)
        if line is None:
            again = reorder(rs, s, rest, free)
            if again is None:
                continue
            rest = again
        trial = rs.copy()
        if not trial.set_route(s, rest):
            continue
        opt = trial.best(x.job)
        elsewhere = opt.cost if opt is not None else inst.pw[x.job] * UNPLACED_MINUTES
        cost = trial.cost_of(s) + elsewhere
        if best is None or cost < best[0]:
            best = (cost, rest, x, opt)
    return None if best is None else best[1:]


def period_cost(rs: RouteSet, s: int) -> float:
    """A period's route cost and each of its visits' own (waiting, the parts holder's bonus)."""
    tech = rs.inst.shifts[s].tech
    own = sum(rs.own_cost(x.job, tech, t) for x, t in zip(rs.stops[s], rs.lines[s].starts, strict=True))
    return rs.cost_of(s) + own


def relocate_descent(
    rs: RouteSet, jobs: Sequence[int], *, deadline: float, movable: Callable[[Stop], bool]
) -> tuple[int, float]:
    """Move single visits (not crews, not fixed ones) to their cheapest place while that lowers the
    cost of the two periods involved (their visits' waiting included: a move shifts the others'
    starts too), until no move helps or `deadline` (time.perf_counter()) passes. Returns the moves
    made and the cost saved."""
    moves, saved_total = 0, 0.0
    while time.perf_counter() < deadline:
        improved = 0
        for j in jobs:
            if time.perf_counter() >= deadline:
                break
            on = rs.where.get(j)
            if not on or len(on) != 1:
                continue
            s = on[0]
            old_s = rs.stops[s]
            if not movable(next(x for x in old_s if x.job == j)):
                continue
            before = period_cost(rs, s)
            rs.remove(j)
            opt = rs.best(j)
            if opt is None:
                _restore(rs, {s: old_s})
                continue
            t = opt.shift
            old = {s: old_s} if t == s else {s: old_s, t: rs.stops[t]}
            if t != s:
                before += period_cost(rs, t)
            rs.insert(opt)
            after = sum(period_cost(rs, x) for x in old)
            if after < before - 1e-3:
                improved += 1
                saved_total += before - after
            else:
                _restore(rs, old)
        moves += improved
        if not improved:
            break
    return moves, saved_total


def _restore(rs: RouteSet, routes: dict[int, list[Stop]]) -> None:
    for s in routes:  # in any order: each route is replaced whole
        restored = rs.set_route(s, list(routes[s]))
        assert restored, "a route that was feasible stays feasible"


__all__ = ["cheapest_drop", "period_cost", "relocate_descent", "reorder"]
