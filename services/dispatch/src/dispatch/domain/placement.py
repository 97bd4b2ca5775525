"""One job at a time, as the service needs it: its best place on the routes as they are now (an
event arrives, a customer books), bookable windows for it, and — for a P1 that would otherwise
breach its SLA — the place it can take from movable visits, moving as few as possible."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dispatch.domain.crews import crew_options
from dispatch.domain.distance import DistanceMatrix
from dispatch.domain.instance import Instance, at
from dispatch.domain.plan import PlannedVisit
from dispatch.domain.routes import Option, RouteSet, unplaced_reason
from dispatch.domain.specs import Problem
from dispatch.domain.timeline import EPS


@dataclass
class Placement:
    visits: list[PlannedVisit]  # the job's (a crew: one per member, the lead first)
    explanation: str
    retimed: dict[str, datetime] = field(default_factory=dict)  # other visits whose start moved (inside their window)
    ejected: list[str] = field(default_factory=list)  # movable visits that made room (placed again by the caller)
    cost: float = 0.0

    @property
    def sla_breach(self) -> bool:
        return any(v.sla_breach for v in self.visits)


@dataclass(frozen=True)
class Offer:
    start: datetime
    end: datetime
    technician_id: str
    technician_name: str
    score: float


def _routes(problem: Problem, distances: DistanceMatrix) -> RouteSet:
    rs = RouteSet(Instance(problem, distances))
    rs.place_existing()
    return rs


def place_job(problem: Problem, job_id: str, distances: DistanceMatrix, *, late: bool = False) -> Placement | None:
    """The cheapest feasible place for the job (one of problem.jobs) on the routes as they are
    (`late`: a P1 that cannot keep its SLA anywhere goes where it ends soonest after it)."""
    rs = _routes(problem, distances)
    j = rs.inst.job_index[job_id]
    return _place(rs, j, late=late)


def why_unplaced(problem: Problem, job_id: str, distances: DistanceMatrix) -> str:
    rs = _routes(problem, distances)
    return unplaced_reason(rs, rs.inst.job_index[job_id])


def _place(rs: RouteSet, j: int, *, late: bool = False) -> Placement | None:
    inst = rs.inst
    size = inst.jobs[j].crew_size
    before = starts_of(rs)
    if late and size <= 1:
        opt = rs.best_relaxed(j, rs.candidate_shifts(j), rebook=False, late=True)
        if opt is None:
            return None
        rs.insert(opt)
        return Placement([planned_visit(rs, opt)], _explain(rs, j, [opt], None), moved_starts(rs, before, {j}))
    if size > 1:
        chosen = crew_options(rs, j, size)
        if chosen is None:
            return None
        runner = None
    else:
        best = rs.best(j)
        if best is None:
            return None
        others = [s for s in rs.candidate_shifts(j) if inst.shifts[s].tech != inst.shifts[best.shift].tech]
        runner = rs.best(j, others) if others else None
        chosen = [best]
    for o in chosen:
        rs.insert(o)
    visits = [planned_visit(rs, o) for o in chosen]
    return Placement(
        visits=visits,
        explanation=_explain(rs, j, chosen, runner),
        retimed=moved_starts(rs, before, exclude={j}),
        cost=sum(o.cost for o in chosen),
    )


def place_with_ejection(
    problem: Problem, job_id: str, distances: DistanceMatrix, movable: set[str]
) -> Placement | None:
    """A place for the job that keeps its SLA, taking the place of movable visits (unconfirmed,
    technician not on the way): the fewest visits moved, then the cheapest; every visit moved is
    placed again elsewhere if it can be (`ejected` lists them all; the caller books them again)."""
    rs = _routes(problem, distances)
    inst = rs.inst
    j = inst.job_index[job_id]
    direct = rs.best(j)
    if direct is not None and not is_late(rs, j, direct):
        return _place(rs, j)
    best: tuple[int, float, int] | None = None  # (moved, cost, shift)
    for s in rs.candidate_shifts(j, nearest=len(inst.techs), full_too=True):
        victims = [x.job for x in rs.stops[s] if inst.jobs[x.job].id in movable]
        for k in range(1, len(victims) + 1):
            trial = rs.copy()
            for v in victims[:k]:
                trial.remove(v)
            opt = trial.best(j, [s])
            if opt is not None and not is_late(trial, j, opt):
                cand = (k, opt.cost, s)
                if best is None or cand[:2] < best[:2]:
                    best = cand
                break
    if best is None:
        return None
    k, _, s = best
    victims = [x.job for x in rs.stops[s] if inst.jobs[x.job].id in movable][:k]
    for v in victims:
        rs.remove(v)
    placed = _place(rs, j)
    if placed is None:
        return None
    placed.ejected = [inst.jobs[v].id for v in victims]
    return placed


def offer_windows(
    problem: Problem, job_id: str, distances: DistanceMatrix, *, count: int, window_minutes: int
) -> list[Offer]:
    """Bookable arrival windows for the job, best first by cost, then sorted by start: for every
    qualified technician near it, where it fits their routes (at the earliest, and every window
    later the same day while it still fits). Parts count: a window opens no earlier than the
    technician can have them."""
    rs = _routes(problem, distances)
    inst = rs.inst
    j = inst.job_index[job_id]
    found: dict[tuple[str, float], Offer] = {}
    for o in rs.options(j, rs.candidate_shifts(j)):
        sh = inst.shifts[o.shift]
        tech = inst.techs[sh.tech]
        start = o.start
        while start <= o.stop.hi + EPS and start + o.stop.duration <= sh.end:
            fixed = rs.options(j, [o.shift], fixed=start) if start > o.start else [o]
            fit = [f for f in fixed if f.pos == o.pos]
            if not fit:
                break
            ws = max(_floor(start, 30.0), o.stop.lo, inst.now)
            key = (tech.id, ws)
            offer = Offer(at(ws), at(ws + window_minutes), tech.id, tech.name, round(fit[0].cost, 1))
            if key not in found or found[key].score > offer.score:
                found[key] = offer
            start = _floor(start, 30.0) + window_minutes
    best: dict[datetime, Offer] = {}
    for offer in sorted(found.values(), key=lambda x: x.score):
        best.setdefault(offer.start, offer)
    chosen = sorted(best.values(), key=lambda x: x.score)[:count]
    return sorted(chosen, key=lambda x: x.start)


def customer_window(start: datetime, *, not_before: datetime, minutes: int) -> tuple[datetime, datetime]:
    """The arrival window a customer is given for a visit planned to start at `start`: from the half
    hour before it (never before `not_before`) for `minutes`."""
    m = start.timestamp() / 60.0
    ws = max(at(_floor(m, 30.0)), not_before)
    if ws > start:
        ws = start
    return ws, ws + timedelta(minutes=minutes)


# --- details -----------------------------------------------------------------------------------------


def _floor(m: float, step: float) -> float:
    return math.floor(m / step + 1e-9) * step


def is_late(rs: RouteSet, j: int, o: Option) -> bool:
    return bool(o.start + o.stop.duration > rs.inst.due[j] + EPS)


def starts_of(rs: RouteSet) -> dict[int, float]:
    return {x.job: line.starts[i] for stops, line in zip(rs.stops, rs.lines, strict=True) for i, x in enumerate(stops)}


def moved_starts(rs: RouteSet, before: dict[int, float], exclude: set[int]) -> dict[str, datetime]:
    after = starts_of(rs)
    return {
        rs.inst.jobs[j].id: at(t)
        for j, t in after.items()
        if j not in exclude and j in before and abs(before[j] - t) > 1e-3 and j in rs.inst.placed
    }


def planned_visit(rs: RouteSet, o: Option) -> PlannedVisit:
    inst = rs.inst
    sh = inst.shifts[o.shift]
    stops, line = rs.stops[o.shift], rs.lines[o.shift]
    pos = next(i for i, x in enumerate(stops) if x is o.stop)
    prev = sh.loc if pos == 0 else stops[pos - 1].loc
    start = line.starts[pos]
    due = float(inst.due[o.stop.job])
    return PlannedVisit(
        job_id=inst.jobs[o.stop.job].id,
        technician_id=inst.techs[sh.tech].id,
        start=at(start),
        end=at(start + o.stop.duration),
        travel_min=line.legs[pos],
        travel_km=float(inst.km.item(prev, o.stop.loc)),
        sla_slack_min=None if due == math.inf else due - (start + o.stop.duration),
        earliest=at(o.stop.lo),
    )


def _explain(rs: RouteSet, j: int, chosen: list[Option], runner: Option | None) -> str:
    inst = rs.inst
    job = inst.jobs[j]
    parts = []
    for o in chosen:
        sh = inst.shifts[o.shift]
        tech = inst.techs[sh.tech]
        v = planned_visit(rs, o)
        pos = next(i for i, x in enumerate(rs.stops[o.shift]) if x is o.stop)
        parts.append(
            f"{tech.name or tech.id}: {v.travel_km:.1f} km ({v.travel_min:.0f} min) from the previous stop, "
            f"visit {pos + 1} of {len(rs.stops[o.shift])} on the route"
        )
    tech = inst.techs[inst.shifts[chosen[0].shift].tech]
    if job.required_skills:
        parts.append(
            "skills "
            + ", ".join(f"{k} {tech.skills.get(k, 0)}>={lvl}" for k, lvl in sorted(job.required_skills.items()))
        )
    if job.required_certifications:
        parts.append(
            "certified ("
            + ", ".join(f"{c} until {tech.certifications[c].date()}" for c in sorted(job.required_certifications))
            + ")"
        )
    if job.region:
        parts.append(f"covers {job.region}")
    v0 = planned_visit(rs, chosen[0])
    parts.append(f"starts {v0.start:%Y-%m-%d %H:%M} UTC")
    if len(chosen) > 1:
        parts.append(f"crew of {len(chosen)}")
    if job.parts and inst.holder[j] == inst.shifts[chosen[0].shift].tech:
        parts.append("holds the parts")
    if v0.sla_slack_min is not None:
        h = abs(v0.sla_slack_min) / 60
        parts.append(f"SLA BREACHED by {h:.1f} h" if v0.sla_breach else f"SLA met with {h:.1f} h to spare")
    if runner is not None:
        other = inst.techs[inst.shifts[runner.shift].tech]
        parts.append(f"next best {other.name or other.id} costs {runner.cost - chosen[0].cost:.0f} more")
    return "; ".join(parts)
