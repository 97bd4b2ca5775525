"""Routes under construction: the stops of every working period, their timelines, and inserting or
removing a job at the cheapest feasible place (the planner's moves; pure, epoch minutes).

Cost of a route = travel minutes + for each visit ending after its SLA deadline, its priority
weight × (lateness_per_min × minutes late + sla_breach). Inserting a job also costs its priority
weight × waiting_per_hour × hours from now until it starts, and the holder of the job's parts gets
`holder_bonus` off (the technician who received the parts does the follow-up).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from dispatch.domain.instance import Instance
from dispatch.domain.timeline import EPS, INF, Shift, Stop, Timeline, schedule

NEAREST = 40  # technicians considered for one job (by travel from where their day starts)
SAME_DAY = 12 * 60.0  # a later period starting within this of a pinned visit is the same working day


@dataclass(frozen=True)
class Option:
    shift: int
    pos: int
    cost: float
    stop: Stop
    timeline: Timeline

    @property
    def start(self) -> float:
        return self.timeline.starts[self.pos]


class RouteSet:
    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        S = len(inst.shifts)
        self.stops: list[list[Stop]] = [[] for _ in range(S)]
        self.lines: list[Timeline] = []
        for s in inst.shifts:
            line = schedule(s, [], inst.tt)
            assert line is not None
            self.lines.append(line)
        self.where: dict[int, list[int]] = defaultdict(list)  # job -> the periods it is on (a crew: several)
        self.count: dict[tuple[int, int], int] = defaultdict(int)  # (technician, day) -> visits
        self.frozen: set[int] = set()  # periods whose pinned visits do not fit: nothing is added there
        self.displaced: list[int] = []  # visits already planned that no longer fit where they were
        self.late: dict[int, float] = {}  # pinned visits a delay made late -> minutes after their planned start
        self.stranded: list[int] = []  # pinned visits their technician can no longer do that day, even late
        self._costs: dict[int, float] = {}  # route costs, per period, while it is unchanged

    def copy(self) -> RouteSet:
        """An independent copy of the routes over the same instance (a trial to keep or drop)."""
        other = RouteSet.__new__(RouteSet)
        other.inst = self.inst
        other.stops = list(self.stops)  # a period's stops are replaced, never changed in place: shared
        other.lines = list(self.lines)
        other.where = defaultdict(list, {j: list(s) for j, s in self.where.items()})
        other.count = defaultdict(int, self.count)
        other.frozen = set(self.frozen)
        other.displaced = list(self.displaced)
        other.late = dict(self.late)
        other.stranded = list(self.stranded)
        other._costs = dict(self._costs)
        return other

    # --- costs -----------------------------------------------------------------------------------
    def route_cost(self, stops: Sequence[Stop], line: Timeline) -> float:
        inst, w = self.inst, self.inst.problem.weights
        cost = line.travel
        for stop, start in zip(stops, line.starts, strict=True):
            late = start + stop.duration - inst.due[stop.job]
            if late > EPS:
                cost += inst.pw[stop.job] * (w.lateness_per_min * late + w.sla_breach)
        return cost

    def own_cost(self, j: int, tech: int, start: float) -> float:
        """What placing job j with this technician at `start` costs beyond the route: waiting, and
        the parts holder's bonus."""
        inst, w = self.inst, self.inst.problem.weights
        cost = inst.pw[j] * w.waiting_per_hour * max(0.0, start - inst.now) / 60.0
        if inst.holder[j] == tech:
            cost -= w.holder_bonus
        return float(cost)

    # --- what is planned -----------------------------------------------------------------------------
    def place_existing(self) -> None:
        """Put the visits already planned on their technician's periods, in the order of their
        planned starts; a visit that no longer fits there is `displaced`. A pinned visit never is
        while its technician works later that day: when it can no longer start on time (a reported
        delay: the technician works again only later, or cannot be there by then), it stays with
        them, after the visits planned before it, pinned anew at the earliest start they can make
        (`late`: job -> minutes after its planned start). One they cannot do that day even late is
        `stranded` (not moved to anyone: a dispatcher decides); a crew's pinned visit that does not
        fit keeps its planned time and freezes its period (nothing is added there)."""
        inst = self.inst
        current = set(inst.current.values())
        for j, p in sorted(inst.placed.items(), key=lambda kv: kv[1].start):
            if j in current:
                continue
            shift = next(
                (s for s in inst.shifts_of[p.tech] if inst.shifts[s].start - EPS <= p.start <= inst.shifts[s].end),
                None,
            )
            if shift is None and p.pinned:  # planned while the technician is held up: later that day
                shift = next(
                    (s for s in inst.shifts_of[p.tech] if p.start < inst.shifts[s].start < p.start + SAME_DAY),
                    None,
                )
            stop = inst.stop(j, p.tech)
            if shift is None and p.pinned and inst.jobs[j].crew_size <= 1:
                self.stranded.append(j)  # its technician does not work again that day
                continue
            if shift is None or stop is None:
                self.displaced.append(j)
                continue
            stops = self.stops[shift]
            # its place in the route: after every visit planned to start before it
            pos = sum(1 for x in stops if inst.placed[x.job].start <= p.start)
            line = schedule(inst.shifts[shift], [*stops[:pos], stop, *stops[pos:]], inst.tt)
            if line is None and stop.fixed is None:
                # keep it where it was if its window allows, else it must move
                self.displaced.append(j)
                continue
            if line is None and inst.jobs[j].crew_size <= 1:
                if not self._pin_late(j, shift, pos, stop, p.start):
                    self.stranded.append(j)  # the period ends before its technician can do it
                continue
            if line is None:  # a pinned visit that does not fit even late: keep it as planned, add nothing here
                self.frozen.add(shift)
                line = _as_planned(inst.shifts[shift], [*stops[:pos], stop, *stops[pos:]], inst)
            self._put(shift, pos, stop, line)

    def _pin_late(self, j: int, shift: int, pos: int, stop: Stop, planned: float) -> bool:
        """Pinned visit j cannot start at its planned time in this place: the unpinned visits
        planned before it on the period give way first (each comes back in its planned order if it
        still fits there, else it is `displaced` and placed again like any visit that no longer fits). If it still cannot start on time, a delay holds
        its technician: it is pinned at the earliest start the period allows after the pinned visits
        before it (`late`). False (nothing changed) when the period has no room for it even late."""
        inst = self.inst
        sh = inst.shifts[shift]
        before = [x for x in self.stops[shift][:pos] if x.fixed is None]
        stops = [x for x in self.stops[shift] if x not in before]
        pos -= len(before)
        line = schedule(sh, [*stops[:pos], stop, *stops[pos:]], inst.tt)
        if line is None:
            free = replace(stop, lo=planned, hi=sh.end - stop.duration, fixed=None)
            trial = schedule(sh, [*stops[:pos], free, *stops[pos:]], inst.tt)
            if trial is None:
                return False
            t = trial.starts[pos]
            stop = replace(stop, lo=t, hi=t, fixed=t)
            line = schedule(sh, [*stops[:pos], stop, *stops[pos:]], inst.tt)
            if line is None:
                return False
            self.late[j] = t - planned
        for x in before:
            self.remove(x.job)
        self._put(shift, pos, stop, line)
        for x in before:  # back in their planned order where they still fit, else they move
            start = inst.placed[x.job].start
            stops = self.stops[shift]
            k = sum(1 for y in stops if inst.placed[y.job].start <= start)
            again = schedule(sh, [*stops[:k], x, *stops[k:]], inst.tt)
            if again is None:
                self.displaced.append(x.job)
            else:
                self._put(shift, k, x, again)
        return True

    def _put(self, shift: int, pos: int, stop: Stop, line: Timeline) -> None:
        s = self.inst.shifts[shift]
        self._costs.pop(shift, None)
        stops = self.stops[shift]
        self.stops[shift] = [*stops[:pos], stop, *stops[pos:]]  # a new list: copies share the old one
        self.lines[shift] = line
        self.where[stop.job].append(shift)
        self.count[(s.tech, s.day)] += 1

    def planned(self) -> set[int]:
        return {j for j, ss in self.where.items() if ss}

    # --- insertion -------------------------------------------------------------------------------------
    def candidate_shifts(
        self, j: int, techs: Iterable[int] | None = None, *, nearest: int = NEAREST, full_too: bool = False
    ) -> list[int]:
        """Working periods of the qualified technicians nearest to job j that overlap its window and
        have room for another visit that day (`full_too`: also the full ones, to free a place)."""
        inst = self.inst
        pool = inst.nearest_techs(j, nearest) if techs is None else list(techs)
        lo, hi, dur = float(inst.lo[j]), float(inst.hi[j]), float(inst.dur[j])
        out = []
        for t in pool:
            for s in inst.shifts_of[t]:
                sh = inst.shifts[s]
                if s in self.frozen or sh.end < lo + dur or sh.start > hi:
                    continue
                if not full_too and self.count[(t, sh.day)] >= inst.max_visits(t, sh.day):
                    continue
                out.append(s)
        return out

    def options(self, j: int, shifts: Iterable[int], *, fixed: float | None = None) -> list[Option]:
        """Every feasible place for job j in these periods with its cost (`fixed`: at that start only)."""
        inst = self.inst
        out = []
        for s in shifts:
            sh = inst.shifts[s]
            stop = inst.stop(j, sh.tech)
            if stop is None:
                continue
            if fixed is not None:
                if not stop.lo - EPS <= fixed <= stop.hi + EPS:
                    continue
                stop = Stop(stop.job, stop.loc, stop.duration, fixed, fixed, fixed)
            stops, line = self.stops[s], self.lines[s]
            base = self.route_cost(stops, line)
            for pos in range(len(stops) + 1):
                if pos > 0 and line.starts[pos - 1] > stop.hi + EPS:
                    break  # later positions only start later
                cand = [*stops[:pos], stop, *stops[pos:]]
                new = schedule(sh, cand, inst.tt, exhaustive=False)
                if new is None:
                    continue
                cost = self.route_cost(cand, new) - base + self.own_cost(j, sh.tech, new.starts[pos])
                out.append(Option(s, pos, cost, stop, new))
        return out

    def best(self, j: int, shifts: Iterable[int] | None = None, *, nearest: int = NEAREST) -> Option | None:
        """The cheapest feasible place for job j. Places are tried in order of a lower bound on
        their cost (the detour, plus waiting until the earliest start): the search stops once the
        bound reaches the best cost found."""
        inst = self.inst
        tt = inst.tt
        jl = inst.job_loc[j]
        item = tt.item
        cands: list[tuple[float, int, int, Stop]] = []
        per_tech: dict[int, tuple[Stop, float] | None] = {}
        for s in self.candidate_shifts(j, nearest=nearest) if shifts is None else shifts:
            sh = inst.shifts[s]
            if sh.tech not in per_tech:
                stop = inst.stop(j, sh.tech)
                per_tech[sh.tech] = None if stop is None else (stop, self.own_cost(j, sh.tech, stop.lo))
            known = per_tech[sh.tech]
            if known is None:
                continue
            stop, own = known
            if stop.lo > sh.end or stop.hi < sh.start - stop.duration:
                continue
            hi = stop.hi + EPS
            prev = sh.loc
            for pos, x in enumerate(self.stops[s]):
                if pos > 0 and self.lines[s].starts[pos - 1] > hi:
                    break
                b = x.loc
                cands.append((item(prev, jl) + item(jl, b) - item(prev, b) + own, s, pos, stop))
                prev = b
            else:
                pos = len(self.stops[s])
                if pos == 0 or self.lines[s].starts[pos - 1] <= hi:
                    b = sh.home
                    back = item(prev, b) if prev != b else 0.0
                    cands.append((item(prev, jl) + item(jl, b) - back + own, s, pos, stop))
        cands.sort(key=lambda c: c[0])
        best: Option | None = None
        for lb, s, pos, stop in cands:
            if best is not None and lb >= best.cost - EPS:
                break
            stops = self.stops[s]
            cand = [*stops[:pos], stop, *stops[pos:]]
            sh = inst.shifts[s]
            new = schedule(sh, cand, tt, exhaustive=False)
            if new is None:
                continue
            cost = self.route_cost(cand, new) - self.cost_of(s) + self.own_cost(j, sh.tech, new.starts[pos])
            if best is None or cost < best.cost:
                best = Option(s, pos, cost, stop, new)
        return best

    def best_relaxed(self, j: int, shifts: Iterable[int], *, rebook: bool, late: bool) -> Option | None:
        """best(), allowing a new booked window (`rebook`) or a P1 after its SLA deadline (`late`)."""
        if not rebook and not late:
            return self.best(j, shifts)
        inst = self.inst
        best: Option | None = None
        for s in shifts:
            sh = inst.shifts[s]
            if self.count[(sh.tech, sh.day)] >= inst.max_visits(sh.tech, sh.day):
                continue
            stop = inst.stop(j, sh.tech, rebook=rebook, late=late)
            if stop is None or stop.lo > sh.end or stop.hi < sh.start - stop.duration:
                continue
            stops, line = self.stops[s], self.lines[s]
            for pos in range(len(stops) + 1):
                if pos > 0 and line.starts[pos - 1] > stop.hi + EPS:
                    break
                cand = [*stops[:pos], stop, *stops[pos:]]
                new = schedule(sh, cand, inst.tt, exhaustive=False)
                if new is None:
                    continue
                cost = self.route_cost(cand, new) - self.cost_of(s) + self.own_cost(j, sh.tech, new.starts[pos])
                if best is None or cost < best.cost:
                    best = Option(s, pos, cost, stop, new)
        return best

    def cost_of(self, s: int) -> float:
        c = self._costs.get(s)
        if c is None:
            c = self._costs[s] = self.route_cost(self.stops[s], self.lines[s])
        return c

    def insert(self, opt: Option) -> None:
        self._put(opt.shift, opt.pos, opt.stop, opt.timeline)

    def remove(self, j: int) -> list[int]:
        """Take job j off every period it is on (the others' timelines are recomputed, never worse)."""
        inst = self.inst
        shifts = self.where.pop(j, [])
        for s in shifts:
            sh = inst.shifts[s]
            self._costs.pop(s, None)
            self.stops[s] = [x for x in self.stops[s] if x.job != j]
            line = schedule(sh, self.stops[s], inst.tt)
            assert line is not None, "removing a visit never makes a route infeasible"
            self.lines[s] = line
            self.count[(sh.tech, sh.day)] -= 1
        return shifts

    def set_route(self, s: int, stops: list[Stop]) -> bool:
        """Replace period s's stops (a solver's sequence) if that order is feasible."""
        inst = self.inst
        sh = inst.shifts[s]
        line = schedule(sh, stops, inst.tt)
        if line is None:
            return False
        self._costs.pop(s, None)
        for x in self.stops[s]:
            self.where[x.job].remove(s)
            self.count[(sh.tech, sh.day)] -= 1
        self.stops[s] = list(stops)  # a new list: copies share the old one
        for x in stops:
            self.where[x.job].append(s)
            self.count[(sh.tech, sh.day)] += 1
        self.lines[s] = line
        return True

    def total_cost(self) -> float:
        return sum(self.route_cost(st, ln) for st, ln in zip(self.stops, self.lines, strict=True))

    def travel(self) -> float:
        return sum(ln.travel for st, ln in zip(self.stops, self.lines, strict=True) if st)


def _as_planned(sh: Shift, stops: list[Stop], inst: Instance) -> Timeline:
    """The timeline of a period whose pinned visits no longer fit together: each visit where it was
    planned (pinned at its time), travel as it comes."""
    starts, legs, prev = [], [], sh.loc
    for x in stops:
        placed = inst.placed.get(x.job)
        starts.append(x.fixed if x.fixed is not None else placed.start if placed else x.lo)
        legs.append(float(inst.tt.item(prev, x.loc)) if prev != x.loc else 0.0)
        prev = x.loc
    legs.append(float(inst.tt.item(prev, sh.home)) if prev != sh.home else 0.0)
    back = (starts[-1] + stops[-1].duration if stops else sh.start) + legs[-1]
    return Timeline(tuple(starts), tuple(legs), back, None, -1, False)


def cheapest_insertion(rs: RouteSet, jobs: Sequence[int], *, nearest: int = NEAREST) -> dict[int, str]:
    """Insert jobs one by one (most urgent first) where each costs least among the `nearest`
    qualified technicians; returns the unplaced ones with a reason."""
    inst = rs.inst
    order = sorted(jobs, key=lambda j: (inst.jobs[j].priority, inst.due[j], inst.lo[j]))
    unplaced: dict[int, str] = {}
    for j in order:
        opt = rs.best(j, nearest=nearest)
        if opt is None:
            unplaced[j] = unplaced_reason(rs, j)
            continue
        rs.insert(opt)
    return unplaced


def unplaced_reason(rs: RouteSet, j: int) -> str:
    inst = rs.inst
    if not inst.qual[j].any():
        return "no technician has the required skills, certificates and region"
    if inst.lo[j] > inst.hi[j] + EPS:
        return "its window (or a P1's SLA) has no time left in the horizon"
    if not any(inst.stop(j, t) is not None for t in range(len(inst.techs))):
        return "no qualified technician has the parts or a valid certificate in its window"
    return "no qualified technician in reach has time in its window"


__all__ = ["INF", "NEAREST", "Option", "RouteSet", "cheapest_insertion", "unplaced_reason"]
