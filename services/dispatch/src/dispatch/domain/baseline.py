"""The dispatcher's rule of thumb, as a baseline for the planner: the most urgent job first, to the
nearest qualified technician (from where their day starts) who can still take it at the end of one
of their days; a day's route is its visits in the order they were given. Crews as the planner books
them."""

from __future__ import annotations

import time

from dispatch.domain.crews import place_crew
from dispatch.domain.distance import DistanceMatrix
from dispatch.domain.instance import Instance
from dispatch.domain.plan import RoutePlan, to_plan
from dispatch.domain.routes import Option, RouteSet, unplaced_reason
from dispatch.domain.specs import Problem
from dispatch.domain.timeline import schedule


def greedy_nearest(problem: Problem, distances: DistanceMatrix) -> RoutePlan:
    t0 = time.perf_counter()
    inst = Instance(problem, distances)
    rs = RouteSet(inst)
    rs.place_existing()
    jobs = list(range(inst.n_new)) + rs.displaced + rs.stranded
    order = sorted(jobs, key=lambda j: (inst.jobs[j].priority, inst.due[j], inst.lo[j]))
    unplanned: dict[int, str] = {}
    for j in order:
        if inst.jobs[j].crew_size > 1:
            if not place_crew(rs, j):
                unplanned[j] = "no crew of qualified technicians is free at one time"
            continue
        if not _append_to_nearest(rs, j):
            unplanned[j] = unplaced_reason(rs, j)
    plan = to_plan(rs, unplanned=unplanned, method="greedy")
    plan.elapsed_s = time.perf_counter() - t0
    return plan


def _append_to_nearest(rs: RouteSet, j: int) -> bool:
    inst = rs.inst
    cand = inst.qual[j].nonzero()[0].tolist()
    cand.sort(key=lambda t: inst.tt.item(inst.tech_loc[t], inst.job_loc[j]))
    for t in cand:
        for s in rs.candidate_shifts(j, [t]):
            stop = inst.stop(j, t)
            if stop is None:
                break
            stops = [*rs.stops[s], stop]
            line = schedule(inst.shifts[s], stops, inst.tt)
            if line is not None:
                rs.insert(Option(s, len(stops) - 1, 0.0, stop, line))
                return True
    return False
