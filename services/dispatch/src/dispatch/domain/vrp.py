"""The routing engine: PyVRP (iterated local search, pinned in constraints.txt) on one part of the
problem. Each technician's working period is cut at its fixed visits (pinned, crews, visits kept
in place) into segments, each a vehicle of its own: from the depot (or a fixed visit's site) at its
start to the next fixed visit's site (or back) by its end. Who may do what (skills, certificates,
regions, parts) is a routing profile per group of technicians: a job a group may not do is out of
its reach. A P1's SLA deadline is a hard latest start; other jobs are routed on time first and the
ones left are inserted late afterwards (the caller's cheapest insertion), so breaches are penalised,
not forbidden. A lunch break shortens the segment it falls in; the exact timeline (break included)
is recomputed by `timeline.schedule`, and a sequence it refuses is repaired by dropping visits.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvrp
from pyvrp.stop import MaxRuntime

from dispatch.domain.polish import cheapest_drop, reorder
from dispatch.domain.routes import RouteSet
from dispatch.domain.specs import UNPLANNED_PENALTY
from dispatch.domain.timeline import EPS, Stop

# a client of the solver: (index of its location, window start, window end, prize, group, job)
Client = tuple[int, float, float, int, int | None, int]

UNREACHABLE = 10**9  # seconds: a job outside a profile's reach (far below PyVRP's MAX_VALUE)


@dataclass(frozen=True)
class Segment:
    shift: int
    after: int  # number of fixed stops of the period before this segment
    start_row: int
    end_row: int
    start: float  # minutes
    end: float
    break_minutes: float


@dataclass
class PartResult:
    dropped: list[int]  # jobs the solver's sequences could not keep (placed again by the caller)
    improvement_second_half: float  # travel-cost improvement in the second half of the search
    final_cost: float
    iterations: int


def is_anchor(rs: RouteSet, stop: Stop) -> bool:
    """Fixed for the solver: pinned (or a crew's common start), or a visit planned before."""
    return stop.fixed is not None or stop.job in rs.inst.placed


def segments(rs: RouteSet, s: int) -> list[Segment]:
    inst = rs.inst
    sh = inst.shifts[s]
    line = rs.lines[s]
    out = []
    row, t, k = sh.loc, sh.start, 0
    for stop, start in zip(rs.stops[s], line.starts, strict=False):
        if not is_anchor(rs, stop):
            continue
        out.append(Segment(s, k, row, stop.loc, t, start, 0.0))
        row, t, k = stop.loc, start + stop.duration, k + 1
    out.append(Segment(s, k, row, sh.home, t, sh.end, 0.0))
    b = sh.brk
    if b is not None:
        out = [
            Segment(g.shift, g.after, g.start_row, g.end_row, g.start, g.end, b.minutes)
            if g.start <= b.latest and g.end >= b.earliest + b.minutes and g.end - g.start > 2 * b.minutes
            else g
            for g in out
        ]
    return [g for g in out if g.end - g.start > 1.0]


def solve_part(
    rs: RouteSet, shifts: list[int], jobs: list[int], *, seconds: float, seed: int = 1, sla_hard: bool = True
) -> PartResult:
    """Re-route `jobs` over the working periods `shifts` (starting from where rs has them) and write
    the solver's routes back into rs."""
    inst = rs.inst
    t0 = math.floor(inst.now)
    segs = [g for s in shifts for g in segments(rs, s)]
    if not segs or not jobs:
        return PartResult([], 0.0, 0.0, 0)
    # clients: jobs some technician of this part may do; window = the union of the technicians' windows.
    # A job whose SLA deadline falls inside its window is two clients of one optional group: on time
    # (its full prize) or late (the prize less the breach penalty), so a breach is paid for, not barred.
    techs = sorted({inst.shifts[s].tech for s in shifts})
    w = inst.problem.weights
    located: list[int] = []
    reach: list[dict[int, Stop]] = []
    clients: list[Client] = []
    client_job: list[int] = []
    groups: list[list[int]] = []
    for j in jobs:
        stops = {t: inst.stop(j, t) for t in techs}
        ok = {t: x for t, x in stops.items() if x is not None}
        if not ok:
            continue
        lo, hi = min(x.lo for x in ok.values()), max(x.hi for x in ok.values())
        late_hi = max(x.hi for t in ok if (x := inst.stop(j, t, late=True)) is not None)
        on_time = float(inst.due[j]) - float(inst.dur[j])
        prize = UNPLANNED_PENALTY[inst.jobs[j].priority] * 60
        loc = len(located)
        located.append(j)
        reach.append(ok)
        copies = [(lo, hi, prize)]
        if lo <= on_time < hi:
            breach = float(inst.pw[j]) * w.sla_breach * 60
            copies = [(lo, on_time, prize), (on_time, hi, prize - breach)]
        elif sla_hard is False and hi < late_hi:
            copies = [(lo, late_hi, prize - float(inst.pw[j]) * w.sla_breach * 60)]
        group = len(groups) if len(copies) > 1 else None
        if group is not None:
            groups.append([len(clients) + k for k in range(len(copies))])
        for a, b, pz in copies:
            clients.append((loc, a, b, int(pz), group, j))
            client_job.append(j)
    depot_rows = sorted({g.start_row for g in segs} | {g.end_row for g in segs})
    rows = depot_rows + [inst.job_loc[j] for j in located]
    depot_of = {r: i for i, r in enumerate(depot_rows)}
    n_dep = len(depot_rows)
    base = np.ceil(inst.tt[np.ix_(rows, rows)] * 60.0).astype(np.int64)
    np.fill_diagonal(base, 0)

    def sec(m: float) -> int:
        return int(round((m - t0) * 60.0))

    pv_clients = [
        pyvrp.Client(
            location=n_dep + loc,
            delivery=[1],
            service_duration=int(math.ceil(inst.dur[j] * 60.0)),
            tw_early=max(0, int(math.ceil((a - t0) * 60.0 - 1e-6))),
            tw_late=max(0, int(math.floor((b - t0) * 60.0 + 1e-6))),
            prize=pz,
            required=False,
            group=group,
        )
        for loc, a, b, pz, group, j in clients
    ]
    # profiles: one per group of technicians who may do the same clients
    masks: dict[bytes, int] = {}
    profile_of: dict[int, int] = {}
    matrices: list[Any] = []  # int64 matrices (pyvrp's stubs spell the type differently)
    for t in techs:
        mask = np.array([t in r for r in reach], dtype=bool)  # per located job
        key = mask.tobytes()
        if key not in masks:
            m = base.copy()
            out = n_dep + np.flatnonzero(~mask)
            m[out, :] = UNREACHABLE
            m[:, out] = UNREACHABLE
            m[out, out] = 0
            masks[key] = len(matrices)
            matrices.append(m)
        profile_of[t] = masks[key]
    anchors: dict[tuple[int, int], int] = defaultdict(int)
    for s in shifts:
        sh = inst.shifts[s]
        anchors[(sh.tech, sh.day)] += sum(1 for x in rs.stops[s] if is_anchor(rs, x))
    vehicle_types = []
    for g in segs:
        sh = inst.shifts[g.shift]
        cap = max(0, inst.max_visits(sh.tech, sh.day) - anchors[(sh.tech, sh.day)])
        length = sec(g.end) - sec(g.start)
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=1,
                capacity=[cap],
                start_depot=depot_of[g.start_row],
                end_depot=depot_of[g.end_row],
                tw_early=sec(g.start),
                tw_late=sec(g.end),
                shift_duration=max(0, length - int(g.break_minutes * 60)),
                profile=profile_of[sh.tech],
                name=f"{g.shift}:{g.after}",
            )
        )
    locations = [pyvrp.Location(float(inst.coords[r][1]), float(inst.coords[r][0])) for r in rows]
    data = pyvrp.ProblemData(
        locations=locations,
        clients=pv_clients,
        depots=[pyvrp.Depot(location=i) for i in range(n_dep)],
        vehicle_types=vehicle_types,
        distance_matrices=matrices,
        duration_matrices=matrices,
        groups=[pyvrp.ClientGroup(g, required=False) for g in groups],
    )
    init = _warm_start(rs, data, segs, clients)
    result = pyvrp.solve(data, stop=MaxRuntime(max(0.05, seconds)), seed=seed, initial_solution=init)
    dropped = _write_back(rs, segs, result.best, client_job, jobs)
    return PartResult(dropped, *_convergence(result))


def _warm_start(
    rs: RouteSet,
    data: pyvrp.ProblemData,
    segs: list[Segment],
    clients: list[Client],
) -> pyvrp.Solution:
    """The routes as rs has them, each job as the copy whose window holds its start."""
    copies: dict[int, list[tuple[int, float, float]]] = defaultdict(list)
    for c, (_, a, b, _, _, j) in enumerate(clients):
        copies[j].append((c, a, b))
    routes = []
    for v, g in enumerate(segs):
        free, k = [], 0
        line = rs.lines[g.shift]
        for stop, start in zip(rs.stops[g.shift], line.starts, strict=False):
            if is_anchor(rs, stop):
                k += 1
            elif k == g.after and stop.job in copies:
                fit = [c for c, a, b in copies[stop.job] if a - 1e-6 <= start <= b + 1e-6]
                free.append(fit[0] if fit else copies[stop.job][-1][0])
        if free:
            routes.append(pyvrp.Route(data, free, v))
    return pyvrp.Solution(data, routes)


def _write_back(
    rs: RouteSet, segs: list[Segment], best: pyvrp.Solution, client_job: list[int], jobs: list[int]
) -> list[int]:
    """Replace the periods' free stops with the solver's sequences; a sequence the exact timeline
    refuses is re-ordered if one move or swap makes it feasible, else loses the visits that break it (returned, with the jobs the solver left out)."""
    inst = rs.inst
    seq: dict[tuple[int, int], list[int]] = {}
    for route in best.routes():
        g = segs[route.vehicle_type()]
        seq[(g.shift, g.after)] = [client_job[a.idx] for a in route if a.is_client()]
    placed_now: set[int] = set()
    dropped: list[int] = []
    routes: dict[int, list[Stop]] = {}
    ours = set(jobs)
    for s in sorted({g.shift for g in segs}):
        sh = inst.shifts[s]
        fixed = [x for x in rs.stops[s] if is_anchor(rs, x)]
        # a visit another part put here (a refused sequence's visit moved to its cheapest place) is not
        # in this part's sequences: overwriting the route would lose it, so it is handed back as dropped
        dropped += [x.job for x in rs.stops[s] if not is_anchor(rs, x) and x.job not in ours]
        stops: list[Stop] = []
        for k in range(len(fixed) + 1):
            for j in seq.get((s, k), []):
                stop = inst.stop(j, sh.tech)
                if stop is None:
                    dropped.append(j)
                    continue
                stops.append(stop)
            if k < len(fixed):
                stops.append(fixed[k])
        routes[s] = stops
    dropped += _keep_day_limits(rs, routes)

    def free(x: Stop) -> bool:
        return not is_anchor(rs, x)

    refused: list[int] = []
    for s, stops in routes.items():
        if not rs.set_route(s, stops):
            again = reorder(rs, s, stops, free)
            if again is None or not rs.set_route(s, again):
                refused.append(s)
                rs.set_route(s, [x for x in stops if not free(x)])  # its fixed visits, for now
                continue
            stops[:] = again
        placed_now.update(x.job for x in stops if free(x))
    # a refused sequence loses the visit that is cheapest to place elsewhere (every other route
    # is written by now), else visits until it fits
    for s in refused:
        dropped += _fit_refused(rs, s, routes[s], free)
        placed_now.update(x.job for x in routes[s] if free(x))
    for j in jobs:
        if j not in placed_now and j not in dropped and not rs.where.get(j):
            dropped.append(j)
    return dropped


def _fit_refused(rs: RouteSet, s: int, stops: list[Stop], free: Callable[[Stop], bool]) -> list[int]:
    """Make a refused sequence fit (in place): the visit cheapest to place elsewhere goes there,
    else visits are dropped until it fits. Returns the jobs dropped."""
    choice = cheapest_drop(rs, s, stops, free)
    if choice is not None:
        kept, victim, opt = choice
        rs.set_route(s, kept)
        stops[:] = kept
        if opt is None:
            return [victim.job]
        rs.insert(opt)
        return []
    dropped = []
    while not rs.set_route(s, stops):
        victim = _worst(rs, s, stops)
        stops.remove(victim)
        dropped.append(victim.job)
    return dropped


def _keep_day_limits(rs: RouteSet, routes: dict[int, list[Stop]]) -> list[int]:
    """Segments of one day each had the day's remaining capacity: drop the least urgent free visits
    of a day over its maximum (counting periods of that day outside this part too)."""
    inst = rs.inst
    per_day: dict[tuple[int, int], list[int]] = defaultdict(list)
    for s in routes:
        sh = inst.shifts[s]
        per_day[(sh.tech, sh.day)].append(s)
    dropped = []
    for (tech, day), shifts in per_day.items():
        others = sum(len(rs.stops[x]) for x in inst.shifts_of[tech] if x not in routes and inst.shifts[x].day == day)
        over = others + sum(len(routes[s]) for s in shifts) - inst.max_visits(tech, day)
        while over > 0:
            free = [(inst.pw[x.job], -inst.lo[x.job], s, x) for s in shifts for x in routes[s] if not is_anchor(rs, x)]
            if not free:
                break
            _, _, s, x = min(free, key=lambda f: (f[0], f[1]))
            routes[s].remove(x)
            dropped.append(x.job)
            over -= 1
    return dropped


def _worst(rs: RouteSet, s: int, stops: list[Stop]) -> Stop:
    """The free stop whose removal makes the route feasible (or, failing that, the last free one)."""
    from dispatch.domain.timeline import schedule

    sh = rs.inst.shifts[s]
    free = [x for x in stops if not is_anchor(rs, x)]
    for x in reversed(free):
        if schedule(sh, [y for y in stops if y is not x], rs.inst.tt) is not None:
            return x
    return free[-1]


def _convergence(result: pyvrp.Result) -> tuple[float, float, int]:
    """How much the best feasible objective (travel seconds plus the prizes of jobs left out) still
    fell in the second half of the search, and its final value."""
    stats = result.stats
    points = [(t, d.best_cost) for t, d in zip(np.cumsum(stats.runtimes), stats.data, strict=False) if d.best_feas]
    if not points:
        return 0.0, float(result.best.distance_cost()), stats.num_iterations
    half = float(np.sum(stats.runtimes)) / 2
    before = [c for t, c in points if t <= half]
    at_half = before[-1] if before else points[0][1]
    final = float(points[-1][1])
    return max(0.0, float(at_half) - final), final, stats.num_iterations


__all__ = ["EPS", "PartResult", "Segment", "solve_part"]
