"""In-day replanning: after an absence, a delay, a cancellation or an urgent job, the routes are
repaired moving as few visits as possible.

The visits already planned are put back where they are (pinned ones exactly, the others on their
technician inside their booked window). A pinned visit (confirmed, en route, on site) never moves:
when a reported delay means its technician cannot start it on time, it stays with them in its place
in the route, pinned at the earliest start they can make, and is reported `late` (the customer is
told the new time); one they can no longer do that day is left `unplaced` for a dispatcher, not
given to someone else. Only unpinned visits move. Those that no longer fit — the absent technician's, the
ones a delay pushed out of their window — are the only candidates to move: each is placed where it
costs least, in its booked window if anyone can keep it, else in a new window (the customer is told);
a P1 that fits nowhere on time may take the place of movable visits, which then move too. Every
other visit keeps its technician and window (its planned start may shift inside the window).

A visit is placed again among the qualified technicians nearest to it (`routes.NEAREST`, as one
job's placement looks), a P1 may also take the place of movable visits of any qualified technician.
So the repair needs only the routes of those technicians and of the ones whose visits no longer
fit (`candidates.replan_candidates`; `Repair.searched` names the jobs whose candidates count).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from dispatch.domain.distance import DistanceMatrix
from dispatch.domain.instance import Instance, at
from dispatch.domain.placement import is_late, moved_starts, planned_visit, starts_of
from dispatch.domain.plan import PlannedVisit, RoutePlan, to_plan
from dispatch.domain.routes import NEAREST, Option, RouteSet
from dispatch.domain.specs import Problem

STRANDED = "pinned: its technician can no longer do it today, even late; not moved to anyone (a dispatcher decides)"


@dataclass
class Repair:
    placed: dict[str, list[PlannedVisit]] = field(default_factory=dict)  # moved (or new) visits, where they went
    rebooked: set[str] = field(default_factory=set)  # of those, the ones whose booked window changed
    retimed: dict[str, datetime] = field(default_factory=dict)  # visits that kept their place, new starts
    late: dict[str, float] = field(default_factory=dict)  # pinned visits kept late (a delay): minutes late
    unplaced: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0
    plan: RoutePlan | None = None  # every route after the repair

    fresh: frozenset[str] = frozenset()  # placed jobs that were not planned before (not moves)
    searched: set[str] = field(default_factory=set)  # jobs a place was looked for (their candidates count)

    @property
    def moved(self) -> int:
        """Visits planned before that were placed again (another technician or window) or lost
        their place."""
        return len((set(self.placed) | set(self.unplaced)) - self.fresh)


def repair(
    problem: Problem,
    distances: DistanceMatrix,
    *,
    movable: frozenset[str] = frozenset(),
    fresh: frozenset[str] = frozenset(),
) -> Repair:
    """Place problem.jobs (visits just taken off a technician, or `fresh` jobs such as an urgent
    one) and every visit that no longer fits where it was planned, moving nothing else unless a P1
    needs a movable visit's place."""
    t0 = time.perf_counter()
    rs = RouteSet(Instance(problem, distances))
    rs.place_existing()
    inst = rs.inst
    before = starts_of(rs)
    out = Repair(fresh=fresh)
    todo = sorted(
        [*range(inst.n_new), *rs.displaced],
        key=lambda j: (inst.jobs[j].priority, inst.due[j], inst.lo[j]),
    )
    out.searched = {inst.jobs[j].id for j in todo}
    for j in rs.stranded:
        out.unplaced[inst.jobs[j].id] = STRANDED
    for j in todo:
        opt, rebook = _place(rs, j)
        victims: list[int] = []
        if opt is None and inst.jobs[j].priority == "P1":
            opt, victims = _eject_for(rs, j, movable)
        if opt is None:
            opt, rebook = _place(rs, j, late=True)
        if opt is None:
            out.unplaced[inst.jobs[j].id] = "no qualified technician has time for it"
            continue
        rs.insert(opt)
        out.placed[inst.jobs[j].id] = [planned_visit(rs, opt)]
        if rebook:
            out.rebooked.add(inst.jobs[j].id)
        for v in victims:  # the visits that made room go where they cost least
            out.searched.add(inst.jobs[v].id)
            again, moved_window = _place(rs, v)
            if again is None:
                out.unplaced[inst.jobs[v].id] = "its place went to a P1 and no other technician has time for it"
                continue
            rs.insert(again)
            out.placed[inst.jobs[v].id] = [planned_visit(rs, again)]
            if moved_window:
                out.rebooked.add(inst.jobs[v].id)
    out.retimed = moved_starts(rs, before, exclude={j for j in todo})
    out.late = {inst.jobs[j].id: m for j, m in rs.late.items()}
    out.elapsed_s = time.perf_counter() - t0
    out.plan = to_plan(rs, unplanned={inst.job_index[j]: r for j, r in out.unplaced.items() if j in inst.job_index})
    return out


def _place(rs: RouteSet, j: int, *, late: bool = False) -> tuple[Option | None, bool]:
    """Where job j costs least among its nearest qualified technicians (as placement looks):
    inside its booked window if possible, else anywhere in their periods."""
    inst = rs.inst
    shifts = rs.candidate_shifts(j)
    best = rs.best_relaxed(j, shifts, rebook=False, late=late)
    if best is not None:
        return best, False
    if j in inst.placed or inst.jobs[j].window is not None:
        near = [s for t in inst.nearest_techs(j, NEAREST) for s in inst.shifts_of[t] if s not in rs.frozen]
        return rs.best_relaxed(j, near, rebook=True, late=late), True
    return None, False


def _eject_for(rs: RouteSet, j: int, movable: frozenset[str]) -> tuple[Option | None, list[int]]:
    """A P1's place on time, freed by taking the fewest movable visits off one route (returned: the
    caller places them again once the P1 is in)."""
    inst = rs.inst
    best: tuple[int, float, int] | None = None
    for s in rs.candidate_shifts(j, nearest=len(inst.techs), full_too=True):
        victims = [x.job for x in rs.stops[s] if inst.jobs[x.job].id in movable]
        for k in range(1, len(victims) + 1):
            trial = rs.copy()
            for v in victims[:k]:
                trial.remove(v)
            opt = trial.best(j, [s])
            if opt is not None and not is_late(trial, j, opt):
                if best is None or (k, opt.cost) < best[:2]:
                    best = (k, opt.cost, s)
                break
    if best is None:
        return None, []
    k, _, s = best
    victims = [x.job for x in rs.stops[s] if inst.jobs[x.job].id in movable][:k]
    for v in victims:
        rs.remove(v)
    return rs.best(j, [s]), victims


__all__ = ["Repair", "at", "repair"]
