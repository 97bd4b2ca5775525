"""Planning routes for a whole problem (the batch optimisation), and the answers the service needs
for one job (its best place now, bookable windows).

Batch: visits already planned stay where they are (pinned ones exactly; the others keep their
technician and window); crews are booked first; every other job is put where it costs least
(cheapest insertion, most urgent first), which is the routing engine's warm start; the technicians
are split into parts of at most `part_size` by where their days start (k-means), each job going
with the technician the warm start gave it; PyVRP improves each part within its share of the time;
a sequence the exact timeline refuses is re-ordered (one move or swap) before visits are dropped;
what it drops or leaves is inserted again where it costs least (now allowed to be late for its SLA);
the time left goes to moving single visits where they cost least on the exact timeline. The whole
runs within the budget: set-up, warm start, search, write-back and the plan.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from scipy.cluster.vq import kmeans2

from dispatch.domain.crews import place_crew
from dispatch.domain.distance import DistanceMatrix
from dispatch.domain.instance import Instance
from dispatch.domain.plan import RoutePlan, to_plan
from dispatch.domain.polish import relocate_descent
from dispatch.domain.routes import RouteSet, cheapest_insertion, unplaced_reason
from dispatch.domain.specs import Problem
from dispatch.domain.vrp import is_anchor, solve_part

RESERVE = 0.1  # of the budget, kept after the search for the write-back and the last insertions
PLAN_SECONDS = 2e-5  # per job, kept at the end to turn the routes into a plan


@dataclass(frozen=True)
class Budget:
    seconds: float = 10.0  # the whole optimisation, warm start included
    part_size: int = 40  # technicians per routing part
    seed: int = 1


def plan_routes(problem: Problem, distances: DistanceMatrix, budget: Budget = Budget()) -> RoutePlan:
    t0 = time.perf_counter()
    deadline = t0 + budget.seconds
    inst = Instance(problem, distances)
    rs = RouteSet(inst)
    rs.place_existing()
    new_jobs = list(range(inst.n_new)) + rs.displaced + rs.stranded
    crews = [j for j in new_jobs if inst.jobs[j].crew_size > 1]
    unplanned: dict[int, str] = {}
    for j in sorted(crews, key=lambda j: (inst.jobs[j].priority, inst.due[j])):
        if not place_crew(rs, j):
            unplanned[j] = "no crew of qualified technicians is free at one time"
    singles = [j for j in new_jobs if inst.jobs[j].crew_size <= 1]
    unplanned |= cheapest_insertion(rs, singles)
    warm = time.perf_counter() - t0
    # the search stops early enough for the write-back, the last insertions and the plan to fit
    # inside the budget; each part gets its share of the time left when it starts, so a part that
    # overran (its set-up, its write-back) shortens the next ones, not the budget
    search_until = deadline - RESERVE * budget.seconds
    improvement = 0.0
    final = 0.0
    iterations = 0
    if search_until - time.perf_counter() > 0.2 and singles:
        parts = partition(rs, singles, budget.part_size, budget.seed)
        todo = sum(len(js) for _, js in parts) or 1
        dropped: list[int] = []
        for shifts, jobs in parts:
            share = max(0.0, search_until - time.perf_counter()) * len(jobs) / todo
            todo -= len(jobs)
            res = solve_part(rs, shifts, jobs, seconds=share * 0.95, seed=budget.seed)
            dropped += res.dropped
            improvement += res.improvement_second_half
            final += res.final_cost
            iterations += res.iterations
        again = sorted(set(dropped) | {j for j in unplanned if inst.jobs[j].crew_size <= 1})
        for j in again:
            unplanned.pop(j, None)
        unplanned |= cheapest_insertion(rs, [j for j in again if not rs.where.get(j)])
    # what is left of the budget: single visits moved where they cost least on the exact timeline
    moves, _ = relocate_descent(
        rs, singles, deadline=deadline - PLAN_SECONDS * len(inst.jobs), movable=lambda x: not is_anchor(rs, x)
    )
    for j in list(unplanned):
        if rs.where.get(j):
            del unplanned[j]
    plan = to_plan(rs, unplanned={j: r or unplaced_reason(rs, j) for j, r in unplanned.items()})
    plan.elapsed_s = time.perf_counter() - t0
    plan.gap_estimate = improvement / final if final > 0 else 0.0
    plan.stats = {"warm_start_s": warm, "iterations": float(iterations), "relocations": float(moves)}
    return plan


def partition(rs: RouteSet, jobs: list[int], part_size: int, seed: int) -> list[tuple[list[int], list[int]]]:
    """Technicians in groups of about `part_size` by where their days start; each job goes to the
    group of the technician it is planned with (or of its nearest qualified technician)."""
    inst = rs.inst
    T = len(inst.techs)
    k = max(1, math.ceil(T / part_size))
    xy = np.array([[t.lat, t.lon * math.cos(math.radians(t.lat))] for t in inst.techs]) if T else np.zeros((0, 2))
    if k > 1:
        _, label = kmeans2(xy, k, seed=seed, minit="++")
    else:
        label = np.zeros(T, dtype=int)
    group_of = {t: int(label[t]) for t in range(T)}
    jobs_of: dict[int, list[int]] = defaultdict(list)
    for j in jobs:
        on = rs.where.get(j)
        if on:
            jobs_of[group_of[inst.shifts[on[0]].tech]].append(j)
        else:
            near = inst.nearest_techs(j, 1)
            if near:
                jobs_of[group_of[near[0]]].append(j)
    out = []
    for g in sorted(set(group_of.values())):
        shifts = [s for s, sh in enumerate(inst.shifts) if group_of[sh.tech] == g]
        if jobs_of[g] and shifts:
            out.append((shifts, jobs_of[g]))
    return out
