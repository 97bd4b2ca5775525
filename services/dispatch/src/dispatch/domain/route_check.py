"""Independent check of a route plan's hard constraints, from the problem's specs and the plan's own
times (not the planner's arrays or timelines): travel is asked of the distance provider again, and
every rule is applied as written here. Used by tests, benchmarks and as a guard before a plan is
saved."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np

from dispatch.domain.distance import DistanceMatrix
from dispatch.domain.eligibility import p1_sla_is_hard, parts_ready
from dispatch.domain.plan import PlannedRoute, PlannedVisit, RoutePlan
from dispatch.domain.specs import JobSpec, Problem, TechnicianSpec, VisitSpec

TOL = timedelta(seconds=61)  # planner times are minutes as floats: allow rounding


def violations(
    problem: Problem, plan: RoutePlan, distances: DistanceMatrix, *, rebooked: set[str] | frozenset[str] = frozenset()
) -> list[str]:
    """Every hard-constraint violation in `plan`. `rebooked` visits were given a new window (the
    customer is told): only what the customer asked for binds them, not the window booked before."""
    if rebooked:
        problem = replace(
            problem,
            jobs=tuple(replace(j, window=j.requested) if j.id in rebooked else j for j in problem.jobs),
            visits=tuple(
                replace(v, job=replace(v.job, window=v.job.requested)) if v.job.id in rebooked else v
                for v in problem.visits
            ),
        )
    techs = {t.id: t for t in problem.technicians}
    jobs = {j.id: j for j in problem.jobs} | {v.job.id: v.job for v in problem.visits}
    out: list[str] = []
    out += _visits_per_job(problem, plan, jobs)
    coords: dict[str, tuple[float, float]] = {f"T:{t.id}": (t.lat, t.lon) for t in problem.technicians}
    coords |= {f"J:{j.id}": (j.lat, j.lon) for j in jobs.values()}
    keys = sorted(coords)
    index = {k: i for i, k in enumerate(keys)}
    xy = np.array([coords[k] for k in keys], dtype=np.float64).reshape(-1, 2)
    minutes = distances.travel_minutes(xy, xy) if len(keys) else np.zeros((0, 0))

    def travel(a: str, b: str) -> timedelta:
        return timedelta(minutes=0.0 if a == b else float(minutes[index[a], index[b]]))

    out += _pinned(problem, plan, travel)
    per_day: Counter[tuple[str, object]] = Counter()
    for r in plan.routes:
        tech = techs.get(r.technician_id)
        if tech is None:
            out.append(f"{r.technician_id}: no such technician")
            continue
        out += _route(problem, r, tech, jobs, travel)
        for v in r.visits:
            per_day[(tech.id, v.start.date())] += 1
    for (tid, day), n in per_day.items():
        t = techs[tid]
        load = t.load_by_day.get(day, 0)  # type: ignore[call-overload]
        if n + load > t.max_jobs_per_day:
            out.append(f"{tid}: {n + load} visits on {day} > max {t.max_jobs_per_day}")
    return out


def visit_violations(problem: Problem, visits: list[PlannedVisit], *, late_ok: bool = False) -> list[str]:
    """The rules one visit must keep on its own (a single placement's guard): the technician works
    then, qualifies, and the visit keeps its windows, parts and duration (`late_ok`: a P1 whose
    SLA no technician can keep may end after it)."""
    techs = {t.id: t for t in problem.technicians}
    jobs = {j.id: j for j in problem.jobs} | {v.job.id: v.job for v in problem.visits}
    out = []
    for v in visits:
        tech, job = techs.get(v.technician_id), jobs.get(v.job_id)
        if tech is None or job is None:
            out.append(f"{v.job_id}: unknown technician or job")
            continue
        if not any(iv.start - TOL <= v.start and v.end <= iv.end + TOL for iv in tech.available):
            out.append(f"{v.job_id}: {tech.id} does not work {v.start}–{v.end}")
        out += _visit(problem, v, job, tech, late_ok=late_ok)
    return out


def _visits_per_job(problem: Problem, plan: RoutePlan, jobs: dict[str, JobSpec]) -> list[str]:
    out = []
    by_job: dict[str, list[PlannedVisit]] = defaultdict(list)
    for v in plan.visits:
        by_job[v.job_id].append(v)
    for jid, vs in by_job.items():
        job = jobs.get(jid)
        if job is None:
            out.append(f"{jid}: not a job of the problem")
            continue
        if len(vs) != job.crew_size:
            out.append(f"{jid}: {len(vs)} visits for a crew of {job.crew_size}")
        if len({v.technician_id for v in vs}) != len(vs):
            out.append(f"{jid}: the same technician twice")
        if len({v.start for v in vs}) > 1:
            out.append(f"{jid}: the crew does not start together")
    return out


def late_pinned(problem: Problem, plan: RoutePlan) -> dict[str, float]:
    """Pinned visits that start after their planned start: job id -> minutes late. `violations`
    accepts them only when the technician could not have been there on time (a reported delay)."""
    got = {(v.job_id, v.technician_id): v for v in plan.visits}
    out = {}
    for pv in problem.visits:
        v = got.get((pv.job.id, pv.technician_id))
        if pv.pinned and v is not None and v.start > pv.start + TOL:
            out[pv.job.id] = (v.start - pv.start).total_seconds() / 60
    return out


def _pinned(problem: Problem, plan: RoutePlan, travel: Callable[[str, str], timedelta]) -> list[str]:
    """A pinned visit keeps its technician, its place among their pinned visits and its start; it
    may start later only when the technician cannot be there at the planned start: their working
    stretch holding it begins too late to get there (a reported delay makes a technician
    unavailable for a while), or the pinned visit before it on the route ends too late. Unpinned
    visits give way, so they never excuse it; lateness for any other reason is a move."""
    out = []
    planned = {(pv.job.id, pv.technician_id): pv for pv in problem.visits if pv.pinned}
    got = {(v.job_id, v.technician_id): v for v in plan.visits}
    in_plan = {v.job_id for v in plan.visits}
    for (jid, tid), want in planned.items():
        v = got.get((jid, tid))
        if (v is None and jid in in_plan) or (v is not None and v.start < want.start - TOL):
            out.append(f"{jid}: a pinned visit moved")
    for r in plan.routes:
        prev: PlannedVisit | None = None
        seq: list[VisitSpec] = []
        for v in r.visits:
            pv = planned.get((v.job_id, r.technician_id))
            if pv is None:
                continue
            seq.append(pv)
            if v.start > pv.start + TOL:
                origin = f"J:{r.from_job_id}" if r.from_job_id else f"T:{r.technician_id}"
                need = travel(origin if prev is None else f"J:{prev.job_id}", f"J:{v.job_id}")
                after = _free_from(problem, r, v) if prev is None else prev.end
                if r.break_start is not None and after - TOL <= r.break_start <= v.start + TOL:
                    need += timedelta(minutes=r.break_minutes)
                if after + need <= pv.start + TOL:
                    out.append(f"{v.job_id}: a pinned visit moved (starts {v.start}, could start {pv.start})")
            prev = v
        if [x.start for x in seq] != sorted(x.start for x in seq):
            out.append(f"{r.technician_id}: pinned visits out of order ({', '.join(x.job.id for x in seq)})")
    return out


def _free_from(problem: Problem, r: PlannedRoute, v: PlannedVisit) -> datetime:
    """When the technician can set off for v at the earliest, from the problem (not the plan): the
    start of their working stretch holding v (a delay or an absence ends there), not before now,
    nor before the visit under way that the route starts from ends."""
    tech = next(t for t in problem.technicians if t.id == r.technician_id)
    held = [iv.start for iv in tech.available if iv.start - TOL <= v.start <= iv.end + TOL]
    free = max([problem.now, *held[:1]])
    cur = next((x for x in problem.visits if x.job.id == r.from_job_id and x.technician_id == tech.id), None)
    if cur is not None:
        free = max(free, cur.start + timedelta(minutes=cur.job.duration_min))
    return free


def _route(
    problem: Problem,
    r: PlannedRoute,
    tech: TechnicianSpec,
    jobs: dict[str, JobSpec],
    travel: Callable[[str, str], timedelta],
) -> list[str]:
    out = []
    tid = tech.id
    if not any(iv.start - TOL <= r.period_start and r.period_end <= iv.end + TOL for iv in tech.available):
        out.append(f"{tid}: works {r.period_start}–{r.period_end} outside working hours (or during an absence)")
    where = f"J:{r.from_job_id}" if r.from_job_id else f"T:{tid}"
    free = r.period_start
    brk = r.break_start
    brk_used = False
    for v in r.visits:
        job = jobs.get(v.job_id)
        if job is None:
            continue
        gap = v.start - free
        need = travel(where, f"J:{job.id}")
        if (
            brk is not None
            and not brk_used
            and free - TOL <= brk
            and brk + timedelta(minutes=r.break_minutes) <= v.start + TOL
        ):
            need += timedelta(minutes=r.break_minutes)
            brk_used = True
        if gap < need - TOL:
            out.append(f"{job.id}: {tid} cannot be there by {v.start} (needs {need} from {free})")
        out += _visit(problem, v, job, tech)
        free, where = v.end, f"J:{job.id}"
    back = travel(where, f"T:{tid}")
    if brk is not None and not brk_used:
        if not (free - TOL <= brk):
            out.append(f"{tid}: break at {brk} overlaps work")
        back += timedelta(minutes=r.break_minutes)
        brk_used = True
    if r.visits and free + back > r.back_at + TOL:
        out.append(f"{tid}: cannot be back by {r.back_at}")
    if r.back_at > r.period_end + TOL:
        out.append(f"{tid}: back at {r.back_at}, after the working period ends {r.period_end}")
    out += _break(r, tech)
    return out


def _break(r: PlannedRoute, tech: TechnicianSpec) -> list[str]:
    out = []
    for bw in tech.breaks:
        if not (r.period_start <= bw.latest and bw.earliest <= r.period_end):
            continue
        owed = r.period_start <= bw.latest - timedelta(minutes=bw.minutes)  # room for the whole break
        still_working = r.visits and r.back_at > bw.latest + TOL
        if r.break_start is None:
            if still_working and owed:
                out.append(f"{tech.id}: works through the break window {bw.earliest}–{bw.latest} without a break")
        elif not (bw.earliest - TOL <= r.break_start <= bw.latest + TOL) and r.period_start <= bw.latest:
            out.append(f"{tech.id}: break at {r.break_start} outside {bw.earliest}–{bw.latest}")
    return out


def _visit(
    problem: Problem, v: PlannedVisit, job: JobSpec, tech: TechnicianSpec, *, late_ok: bool = False
) -> list[str]:
    out = []
    if abs((v.end - v.start) - timedelta(minutes=job.duration_min)) > TOL:
        out.append(f"{job.id}: planned for {v.end - v.start}, needs {job.duration_min} min")
    pinned = any(x.pinned and x.job.id == job.id and x.technician_id == tech.id for x in problem.visits)
    if pinned:
        return out
    for sk, lvl in job.required_skills.items():
        if lvl > 0 and tech.skills.get(sk, 0) < lvl:
            out.append(f"{job.id}: {tech.id} lacks {sk} level {lvl}")
    if job.region is not None and tech.regions and job.region not in tech.regions:
        out.append(f"{job.id}: {tech.id} does not cover region {job.region}")
    for cert in job.required_certifications:
        until = tech.certifications.get(cert)
        if until is None or until < v.end:
            out.append(f"{job.id}: {tech.id} certificate {cert} not valid through the visit")
    if v.start < problem.now - TOL:
        out.append(f"{job.id}: starts in the past")
    for name, w in (("window", job.window), ("requested window", job.requested)):
        if w is not None and not (w.start - TOL <= v.start <= w.end + TOL):
            out.append(f"{job.id}: starts {v.start} outside its {name} {w.start}–{w.end}")
    if job.earliest is not None and v.start < job.earliest - TOL:
        out.append(f"{job.id}: starts before it may ({job.earliest})")
    if job.parts and v.start < parts_ready(job, tech, problem.now, problem.parts) - TOL:
        out.append(f"{job.id}: {tech.id} does not have the parts by {v.start}")
    if (
        not late_ok
        and p1_sla_is_hard(job, problem.now)
        and job.sla_deadline is not None
        and v.end > job.sla_deadline + TOL
    ):
        out.append(f"{job.id}: P1 ends {v.end}, after its SLA deadline {job.sla_deadline}")
    return out
