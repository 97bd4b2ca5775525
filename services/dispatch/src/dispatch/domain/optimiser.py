"""Assignment optimiser: which technician visits which job, and when (pure domain code, no I/O).

Model (see docs/adr/dispatch-assignment-model.md):
- Each technician's availability (working hours minus absences and booked appointments) is cut
  into visit slots of `slot_minutes`; per day only `max_jobs_per_day - load that day` slots are
  offered, so max load is a property of the columns. A job takes one slot.
- A pair (job, slot) is feasible only if every hard constraint holds: skills at the required
  levels, every required certification valid until the slot ends, the technician available for
  the slot, travel + service fit in the slot, and for a booked job the service starts inside the
  booked window. Infeasible pairs never enter the solver.
- Cost of a feasible pair = travel minutes + priority-weighted (lateness past the SLA deadline,
  a fixed SLA-breach penalty, waiting until the visit) + a balancing term growing with the
  technician's load that day (convex, so work spreads). Leaving a job unplanned costs a large
  priority-dependent penalty, so the solver plans as many (and the most urgent) jobs as it can.
- That is a rectangular assignment problem on an expanded job × slot matrix: solved exactly by
  scipy's linear_sum_assignment (dense, reference) or by LAPJVsp on the cheapest candidate slots
  per job (sparse, fast); OR-Tools CP-SAT solves the same model as a cross-check for tests and
  benchmarks (method="cpsat", needs the `fixflow-dispatch[cpsat]` extra; the service never uses it).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from dispatch.domain.distance import DistanceMatrix, HaversineMatrix

Priority = Literal["P1", "P2", "P3", "P4"]
Method = Literal["fast", "exact", "cpsat", "greedy"]

PRIORITY_WEIGHT: dict[str, float] = {"P1": 4.0, "P2": 2.0, "P3": 1.0, "P4": 0.5}
UNPLANNED_PENALTY: dict[str, float] = {"P1": 200_000.0, "P2": 100_000.0, "P3": 50_000.0, "P4": 25_000.0}
_INF = math.inf


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("interval times must be timezone-aware")
        if self.end <= self.start:
            raise ValueError("an interval must end after it starts")

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class TechnicianSpec:
    id: str
    lat: float
    lon: float
    available: tuple[Interval, ...]
    skills: Mapping[str, int] = field(default_factory=dict)
    certifications: Mapping[str, datetime] = field(default_factory=dict)  # name -> valid until
    busy: tuple[Interval, ...] = ()
    max_jobs_per_day: int = 6
    load_by_day: Mapping[date, int] = field(default_factory=dict)
    name: str = ""


@dataclass(frozen=True)
class JobSpec:
    id: str
    lat: float
    lon: float
    duration_min: int
    priority: Priority = "P3"
    required_skills: Mapping[str, int] = field(default_factory=dict)
    required_certifications: tuple[str, ...] = ()
    sla_deadline: datetime | None = None
    window: Interval | None = None  # a booked arrival window: service must start inside it
    earliest: datetime | None = None


@dataclass(frozen=True)
class Weights:
    travel_per_min: float = 1.0
    lateness_per_min: float = 0.5
    sla_breach: float = 300.0
    waiting_per_hour: float = 0.25
    balance_per_job: float = 2.0


@dataclass(frozen=True)
class Problem:
    jobs: tuple[JobSpec, ...]
    technicians: tuple[TechnicianSpec, ...]
    now: datetime
    slot_minutes: int = 90
    weights: Weights = Weights()


@dataclass(frozen=True)
class Explanation:
    technician_id: str
    summary: str
    skills: dict[str, tuple[int, int]]  # skill -> (required, technician's level)
    certifications: dict[str, datetime]
    travel_km: float
    travel_min: float
    cost: dict[str, float]
    runner_up_id: str | None
    runner_up_extra_cost: float | None


@dataclass(frozen=True)
class Assignment:
    job_id: str
    technician_id: str
    slot_start: datetime
    slot_end: datetime
    service_start: datetime
    service_end: datetime
    travel_min: float
    travel_km: float
    cost: float
    sla_breach: bool
    explanation: Explanation


@dataclass
class Plan:
    assignments: list[Assignment]
    unplanned: dict[str, str]  # job id -> reason
    method: str
    elapsed_s: float
    objective: float  # model objective: assigned costs + unplanned penalties

    @property
    def travel_min(self) -> float:
        return float(sum(a.travel_min for a in self.assignments))

    @property
    def sla_breaches(self) -> int:
        return sum(1 for a in self.assignments if a.sla_breach)

    def by_job(self) -> dict[str, Assignment]:
        return {a.job_id: a for a in self.assignments}


def _due_minutes(due: datetime | None) -> float:
    return _INF if due is None else _minutes(due)


def _minutes(t: datetime) -> float:
    return t.timestamp() / 60.0


def _dt(m: float) -> datetime:
    return datetime.fromtimestamp(m * 60.0, tz=UTC)


def _slots_of(t: TechnicianSpec, now_m: float, L: float) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Slot starts (epoch minutes) of one technician and each slot's index in its UTC day.

    Slots tile each availability interval from its start (or now); slots overlapping a booking are
    dropped; per day only max_jobs_per_day - load slots are kept (the earliest ones).
    """
    chunks = []
    for iv in sorted(t.available, key=lambda i: i.start):
        a, b = max(_minutes(iv.start), now_m), _minutes(iv.end)
        if b - a >= L - 1e-9:
            chunks.append(a + L * np.arange(int(math.floor((b - a) / L + 1e-9))))
    if not chunks:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    starts = np.concatenate(chunks)
    if t.busy:
        bs = np.array([_minutes(x.start) for x in t.busy])
        be = np.array([_minutes(x.end) for x in t.busy])
        clash = ((bs[None, :] < starts[:, None] + L) & (starts[:, None] < be[None, :])).any(axis=1)
        starts = starts[~clash]
    day = np.floor(starts / 1440.0).astype(np.int64)  # UTC day number
    first = np.searchsorted(day, day, side="left")  # starts are sorted, so days are grouped
    rank = np.arange(day.size) - first
    epoch = date(1970, 1, 1)
    load = (
        np.array([t.load_by_day.get(epoch + timedelta(days=int(d)), 0) for d in day], dtype=np.int64)
        if t.load_by_day
        else np.zeros(day.size, dtype=np.int64)
    )
    k = load + rank
    keep = k < t.max_jobs_per_day
    return starts[keep], k[keep]


class Compiled:
    """The expanded job × slot model as arrays (infeasible pairs have cost = +inf)."""

    def __init__(self, problem: Problem, distances: DistanceMatrix) -> None:
        self.problem = problem
        jobs, techs = problem.jobs, problem.technicians
        L = float(problem.slot_minutes)
        self.now_m = _minutes(problem.now)

        # --- slots -------------------------------------------------------------------------------
        parts_tech: list[NDArray[np.int64]] = []
        parts_start: list[NDArray[np.float64]] = []
        parts_k: list[NDArray[np.int64]] = []
        for ti, t in enumerate(techs):
            starts, k = _slots_of(t, self.now_m, L)
            parts_tech.append(np.full(starts.size, ti, dtype=np.int64))
            parts_start.append(starts)
            parts_k.append(k)
        self.slot_tech = np.concatenate(parts_tech) if parts_tech else np.zeros(0, dtype=np.int64)
        self.slot_start = np.concatenate(parts_start) if parts_start else np.zeros(0)
        self.slot_end = self.slot_start + L
        self.slot_k = (np.concatenate(parts_k) if parts_k else np.zeros(0)).astype(np.float64)
        s_tech = self.slot_tech
        J, T, S = len(jobs), len(techs), len(s_tech)
        self.shape = (J, S)

        # --- job × technician ------------------------------------------------------------------
        jc = np.array([[j.lat, j.lon] for j in jobs], dtype=np.float64).reshape(J, 2)
        tc = np.array([[t.lat, t.lon] for t in techs], dtype=np.float64).reshape(T, 2)
        self.travel_jt = distances.travel_minutes(jc, tc) if J and T else np.zeros((J, T))
        self.km_jt = distances.distance_km(jc, tc) if J and T else np.zeros((J, T))

        skills = sorted({s for j in jobs for s in j.required_skills})
        ok_jt = np.ones((J, T), dtype=bool)
        for sk in skills:
            need = np.array([j.required_skills.get(sk, 0) for j in jobs], dtype=np.int64)
            have = np.array([t.skills.get(sk, 0) for t in techs], dtype=np.int64)
            ok_jt &= (need[:, None] <= 0) | (have[None, :] >= need[:, None])
        # Latest moment every required certification is still valid (inf when none is needed).
        cert_until = np.full((J, T), _INF)
        for c in sorted({c for j in jobs for c in j.required_certifications}):
            need_c = np.array([c in j.required_certifications for j in jobs], dtype=bool)
            until = np.array([_minutes(t.certifications[c]) if c in t.certifications else -_INF for t in techs])
            cert_until = np.where(need_c[:, None], np.minimum(cert_until, until[None, :]), cert_until)
        self.ok_jt = ok_jt

        # --- per job constants -------------------------------------------------------------------
        self.cert_until = cert_until
        self.dur = np.array([float(j.duration_min) for j in jobs])
        self.lo = np.array(
            [
                max(_minutes(j.window.start) if j.window else -_INF, _minutes(j.earliest) if j.earliest else -_INF)
                for j in jobs
            ]
        )
        self.hi = np.array([_minutes(j.window.end) if j.window else _INF for j in jobs])
        # The visit window shown to the customer opens no earlier than the job may start (parts ETA,
        # a second visit after an absence): a window opening before the parts arrive is a broken promise.
        self.earliest = np.array([_minutes(j.earliest) if j.earliest else -_INF for j in jobs])
        self.window_start = np.array([_minutes(j.window.start) if j.window else np.nan for j in jobs])
        self.sla = np.array([_minutes(j.sla_deadline) if j.sla_deadline else _INF for j in jobs])
        self.pw = np.array([PRIORITY_WEIGHT[j.priority] for j in jobs])
        self.unplanned_penalty = np.array([UNPLANNED_PENALTY[j.priority] for j in jobs])
        # slots are generated technician by technician: tech t owns slots tech_ptr[t]:tech_ptr[t+1]
        self.tech_ptr = np.searchsorted(self.slot_tech, np.arange(T + 1))
        self._dense: NDArray[np.float64] | None = None
        self._rows: dict[int, tuple[NDArray[np.int64], NDArray[np.float64]]] = {}

    def _shown_start(self, j: NDArray[np.int64], s: NDArray[np.int64]) -> NDArray[np.float64]:
        """Where the customer's window opens: the booked window if any, else the slot."""
        booked = self.window_start[j]
        return np.where(np.isnan(booked), self.slot_start[s], booked)

    def pairs(
        self, j: NDArray[np.int64], s: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
        """Cost (+inf when a hard constraint fails), service start and SLA breach of (job, slot) pairs."""
        w = self.problem.weights
        t = self.slot_tech[s]
        travel = self.travel_jt[j, t]
        service_start = np.maximum(self.slot_start[s] + travel, self.lo[j])
        finish = service_start + self.dur[j]
        feasible = (
            self.ok_jt[j, t]
            & (finish <= self.slot_end[s] + 1e-9)
            & (service_start <= self.hi[j] + 1e-9)
            & (self._shown_start(j, s) >= self.earliest[j] - 1e-9)
            & (self.cert_until[j, t] >= self.slot_end[s])
        )
        late = np.maximum(finish - self.sla[j], 0.0)
        breach = late > 1e-9
        cost = (
            w.travel_per_min * travel
            + self.pw[j]
            * (
                w.lateness_per_min * late
                + w.sla_breach * breach
                + w.waiting_per_hour * (service_start - self.now_m) / 60.0
            )
            + w.balance_per_job * self.slot_k[s]
        )
        return np.where(feasible, cost, _INF), service_start, breach

    def dense(self) -> NDArray[np.float64]:
        if self._dense is None:
            J, S = self.shape
            jj = np.repeat(np.arange(J), S)
            ss = np.tile(np.arange(S), J)
            self._dense = self.pairs(jj, ss)[0].reshape(J, S)
        return self._dense

    def row(self, j: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Slots considered for job j and their costs (all slots when the dense matrix exists)."""
        if self._dense is not None:
            return np.arange(self.shape[1]), self._dense[j]
        return self._rows.get(j, (np.zeros(0, dtype=np.int64), np.zeros(0)))

    def candidates(self, k_techs: int) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """Feasible (job, slot, cost) among the slots of each job's k nearest qualified technicians."""
        J, S = self.shape
        T = self.travel_jt.shape[1]
        k = min(k_techs, T)
        reach = np.where(self.ok_jt, self.travel_jt, _INF)
        near = np.argpartition(reach, k - 1, axis=1)[:, :k] if k < T else np.broadcast_to(np.arange(T), (J, T))
        near_ok = np.take_along_axis(reach, near, axis=1) < _INF
        jj = np.repeat(np.arange(J), near.shape[1]).reshape(near.shape)[near_ok]
        tt = near[near_ok]
        counts = self.tech_ptr[tt + 1] - self.tech_ptr[tt]
        rows = np.repeat(jj, counts)
        # slot ids: tech_ptr[t] + 0..count-1 for every (job, tech) pair
        offs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        cols = np.repeat(self.tech_ptr[tt], counts) + offs
        cost = self.pairs(rows, cols)[0]
        keep = np.isfinite(cost)
        rows, cols, cost = rows[keep], cols[keep], cost[keep]
        order = np.argsort(rows, kind="stable")
        rows, cols, cost = rows[order], cols[order], cost[order]
        ptr = np.searchsorted(rows, np.arange(J + 1))
        self._rows = {
            j: (cols[ptr[j] : ptr[j + 1]], cost[ptr[j] : ptr[j + 1]]) for j in range(J) if ptr[j + 1] > ptr[j]
        }
        return rows, cols, cost

    # -----------------------------------------------------------------------------------------
    def objective(self, pairs: Sequence[tuple[int, int]]) -> float:
        assigned = {j for j, _ in pairs}
        if pairs:
            js = np.array([j for j, _ in pairs])
            ss = np.array([x for _, x in pairs])
            total = float(self.pairs(js, ss)[0].sum())
        else:
            total = 0.0
        total += float(sum(self.unplanned_penalty[j] for j in range(self.shape[0]) if j not in assigned))
        return total


# --- solvers ------------------------------------------------------------------------------------


def _solve_exact(c: Compiled) -> list[tuple[int, int]]:
    J, S = c.shape
    if J == 0 or S == 0:
        return []
    big = 1e12
    m = np.full((J, S + J), big)
    d = c.dense()
    m[:, :S] = np.where(np.isfinite(d), d - c.unplanned_penalty[:, None], big)
    m[np.arange(J), S + np.arange(J)] = 0.0  # each job's own "leave unplanned" column
    rows, cols = linear_sum_assignment(m)
    return [(int(j), int(s)) for j, s in zip(rows, cols, strict=True) if s < S and m[j, s] < big / 2]


def _solve_sparse(c: Compiled, k_techs: int) -> list[tuple[int, int]]:
    J, S = c.shape
    if J == 0 or S == 0:
        return []
    rows, cols, cost = c.candidates(k_techs)
    shift = float(c.unplanned_penalty.max()) + 1.0  # keeps every weight > 0 (LAPJVsp needs non-zero)
    w = cost - c.unplanned_penalty[rows] + shift
    rows = np.concatenate([rows, np.arange(J)])
    cols = np.concatenate([cols, S + np.arange(J)])  # each job's own "leave unplanned" column
    w = np.concatenate([w, np.full(J, shift)])
    g = csr_matrix((w, (rows, cols)), shape=(J, S + J))
    r, s = min_weight_full_bipartite_matching(g)
    return [(int(j), int(x)) for j, x in zip(r, s, strict=True) if x < S]


def _solve_greedy(c: Compiled) -> list[tuple[int, int]]:
    """Baseline: most urgent job first, to the nearest feasible technician (earliest free slot)."""
    jobs = c.problem.jobs
    order = sorted(
        range(len(jobs)),
        key=lambda j: (jobs[j].priority, _due_minutes(jobs[j].sla_deadline)),
    )
    used = np.zeros(c.shape[1], dtype=bool)
    dense = c.dense()
    pairs: list[tuple[int, int]] = []
    for j in order:
        ok = np.isfinite(dense[j]) & ~used
        if not ok.any():
            continue
        cand = np.flatnonzero(ok)
        key = c.travel_jt[j, c.slot_tech[cand]] * 1e6 + (c.slot_start[cand] - c.now_m)
        s = int(cand[np.argmin(key)])
        used[s] = True
        pairs.append((j, s))
    return pairs


def _solve_cpsat(c: Compiled, time_limit_s: float) -> list[tuple[int, int]]:
    try:
        from ortools.sat.python import cp_model
    except ImportError as e:  # the service image does not ship OR-Tools
        raise RuntimeError('method="cpsat" needs OR-Tools: install fixflow-dispatch[cpsat]') from e

    J, S = c.shape
    dense = c.dense()
    model = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    by_slot: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    terms = []
    for j in range(J):
        row = []
        for s in np.flatnonzero(np.isfinite(dense[j])):
            v = model.new_bool_var(f"x{j}_{s}")
            x[(j, int(s))] = v
            row.append(v)
            by_slot[int(s)].append(v)
            terms.append(int(round((dense[j, s] - c.unplanned_penalty[j]) * 100)) * v)
        if row:
            model.add_at_most_one(row)
    for vs in by_slot.values():
        model.add_at_most_one(vs)
    model.minimize(sum(terms))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 2
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return []
    return [k for k, v in x.items() if solver.value(v)]


# --- explanations and the public entry point ------------------------------------------------------


def _explain(c: Compiled, j: int, s: int) -> Assignment:
    p, w = c.problem, c.problem.weights
    job, ti = p.jobs[j], int(c.slot_tech[s])
    tech = p.technicians[ti]
    travel = float(c.travel_jt[j, ti])
    km = float(c.km_jt[j, ti])
    cost_arr, ss_arr, breach_arr = c.pairs(np.array([j]), np.array([s]))
    own, ss, breach = float(cost_arr[0]), float(ss_arr[0]), bool(breach_arr[0])
    cols, costs = c.row(j)
    other = np.where(c.slot_tech[cols] == ti, _INF, costs)
    alt = int(np.argmin(other)) if other.size else -1
    runner_up = p.technicians[int(c.slot_tech[cols[alt]])].id if alt >= 0 and np.isfinite(other[alt]) else None
    extra = float(other[alt] - own) if runner_up else None
    skills = {k: (lvl, tech.skills.get(k, 0)) for k, lvl in job.required_skills.items()}
    certs = {k: tech.certifications[k] for k in job.required_certifications}
    parts = [f"{tech.name or tech.id}: {km:.1f} km ({travel:.0f} min) away"]
    if skills:
        parts.append("skills " + ", ".join(f"{k} {have}>={need}" for k, (need, have) in sorted(skills.items())))
    if certs:
        parts.append("certified (" + ", ".join(f"{k} until {v.date()}" for k, v in sorted(certs.items())) + ")")
    parts.append(f"starts {_dt(ss):%Y-%m-%d %H:%M} UTC")
    if job.sla_deadline:
        margin = (_minutes(job.sla_deadline) - (ss + job.duration_min)) / 60
        parts.append(
            f"SLA {'BREACHED by' if breach else 'met with'} {abs(margin):.1f} h {'' if breach else 'to spare'}".strip()
        )
    parts.append(f"job #{int(c.slot_k[s]) + 1} of the day")
    if runner_up:
        parts.append(f"next best {runner_up} costs {extra:.0f} more")
    late = max(0.0, ss + job.duration_min - (_minutes(job.sla_deadline) if job.sla_deadline else _INF))
    pw = PRIORITY_WEIGHT[job.priority]
    return Assignment(
        job_id=job.id,
        technician_id=tech.id,
        slot_start=_dt(float(c.slot_start[s])),
        slot_end=_dt(float(c.slot_end[s])),
        service_start=_dt(ss),
        service_end=_dt(ss + job.duration_min),
        travel_min=travel,
        travel_km=km,
        cost=own,
        sla_breach=breach,
        explanation=Explanation(
            technician_id=tech.id,
            summary="; ".join(parts),
            skills=skills,
            certifications=certs,
            travel_km=km,
            travel_min=travel,
            cost={
                "travel": w.travel_per_min * travel,
                "lateness": pw * w.lateness_per_min * late,
                "sla_breach": pw * w.sla_breach * breach,
                "waiting": pw * w.waiting_per_hour * (ss - c.now_m) / 60,
                "balance": w.balance_per_job * float(c.slot_k[s]),
            },
            runner_up_id=runner_up,
            runner_up_extra_cost=extra,
        ),
    )


def _unplanned_reason(c: Compiled, j: int) -> str:
    if not c.ok_jt[j].any():
        return "no technician has the required skills at the required levels"
    if not np.isfinite(c.row(j)[1]).any():
        return "no qualified technician in reach is free (certification, hours, booked window or load)"
    return "every feasible slot went to a more valuable job"


def compile_problem(problem: Problem, distances: DistanceMatrix | None = None) -> Compiled:
    return Compiled(problem, distances or HaversineMatrix())


def solve(
    problem: Problem,
    *,
    method: Method = "fast",
    distances: DistanceMatrix | None = None,
    candidates: int = 40,
    time_limit_s: float = 10.0,
    compiled: Compiled | None = None,
    explain: bool = True,
) -> Plan:
    """Plan the jobs; every returned assignment satisfies every hard constraint."""
    t0 = time.perf_counter()
    c = compiled or compile_problem(problem, distances)
    if method == "exact":
        pairs = _solve_exact(c)
    elif method == "fast":
        pairs = _solve_sparse(c, candidates)
    elif method == "cpsat":
        pairs = _solve_cpsat(c, time_limit_s)
    elif method == "greedy":
        pairs = _solve_greedy(c)
    else:
        raise ValueError(f"unknown method {method!r}")
    objective = c.objective(pairs)
    assignments = [_explain(c, j, s) for j, s in pairs] if explain else [_explain_light(c, j, s) for j, s in pairs]
    planned = {j for j, _ in pairs}
    unplanned = {problem.jobs[j].id: _unplanned_reason(c, j) for j in range(len(problem.jobs)) if j not in planned}
    return Plan(
        assignments=assignments,
        unplanned=unplanned,
        method=method,
        elapsed_s=time.perf_counter() - t0,
        objective=objective,
    )


def _explain_light(c: Compiled, j: int, s: int) -> Assignment:
    p = c.problem
    ti = int(c.slot_tech[s])
    cost_arr, ss_arr, breach_arr = c.pairs(np.array([j]), np.array([s]))
    ss = float(ss_arr[0])
    e = Explanation(p.technicians[ti].id, "", {}, {}, float(c.km_jt[j, ti]), float(c.travel_jt[j, ti]), {}, None, None)
    return Assignment(
        p.jobs[j].id,
        p.technicians[ti].id,
        _dt(float(c.slot_start[s])),
        _dt(float(c.slot_end[s])),
        _dt(ss),
        _dt(ss + p.jobs[j].duration_min),
        float(c.travel_jt[j, ti]),
        float(c.km_jt[j, ti]),
        float(cost_arr[0]),
        bool(breach_arr[0]),
        e,
    )


# --- independent check of the hard constraints (used by tests and as a guard before saving) ------


def violations(problem: Problem, plan: Plan, distances: DistanceMatrix | None = None) -> list[str]:
    """Every hard-constraint violation in `plan`, checked from the specs (not the solver's arrays)."""
    dm = distances or HaversineMatrix()
    jobs = {j.id: j for j in problem.jobs}
    techs = {t.id: t for t in problem.technicians}
    out: list[str] = []
    per_day: dict[tuple[str, date], int] = defaultdict(int)
    by_tech: dict[str, list[Assignment]] = defaultdict(list)
    seen: set[str] = set()
    # one matrix call for the whole plan (a road-network provider answers one request)
    jids = sorted({a.job_id for a in plan.assignments})
    tids = sorted({a.technician_id for a in plan.assignments})
    jrow, tcol = {j: i for i, j in enumerate(jids)}, {t: i for i, t in enumerate(tids)}
    travel_m = (
        dm.travel_minutes(
            np.array([[jobs[j].lat, jobs[j].lon] for j in jids]), np.array([[techs[t].lat, techs[t].lon] for t in tids])
        )
        if jids
        else np.zeros((0, 0))
    )
    for a in plan.assignments:
        if a.job_id in seen:
            out.append(f"{a.job_id}: planned twice")
        seen.add(a.job_id)
        job, tech = jobs[a.job_id], techs[a.technician_id]
        for sk, lvl in job.required_skills.items():
            if lvl > 0 and tech.skills.get(sk, 0) < lvl:
                out.append(f"{job.id}: {tech.id} lacks {sk} level {lvl}")
        for cert in job.required_certifications:
            until = tech.certifications.get(cert)
            if until is None or until < a.slot_end:
                out.append(f"{job.id}: {tech.id} certification {cert} not valid for the visit")
        slot = Interval(a.slot_start, a.slot_end)
        if not any(iv.start <= a.slot_start and a.slot_end <= iv.end for iv in tech.available):
            out.append(f"{job.id}: {tech.id} not available {a.slot_start}–{a.slot_end}")
        if any(b.overlaps(slot) for b in tech.busy):
            out.append(f"{job.id}: {tech.id} already booked during the slot")
        if a.slot_start < problem.now - timedelta(seconds=1):
            out.append(f"{job.id}: slot in the past")
        travel = float(travel_m[jrow[job.id], tcol[tech.id]])
        if a.service_start < a.slot_start + timedelta(minutes=travel) - timedelta(seconds=1):
            out.append(f"{job.id}: service starts before the technician can arrive")
        if a.service_start + timedelta(minutes=job.duration_min) > a.slot_end + timedelta(seconds=1):
            out.append(f"{job.id}: visit does not fit the slot")
        if job.window and not (
            job.window.start - timedelta(seconds=1) <= a.service_start <= job.window.end + timedelta(seconds=1)
        ):
            out.append(f"{job.id}: service start {a.service_start} outside the booked window")
        if job.earliest and a.service_start < job.earliest - timedelta(seconds=1):
            out.append(f"{job.id}: starts before it may")
        if job.earliest and (job.window.start if job.window else a.slot_start) < job.earliest - timedelta(seconds=1):
            out.append(f"{job.id}: window opens before the job may start")
        per_day[(tech.id, a.slot_start.astimezone(UTC).date())] += 1
        by_tech[tech.id].append(a)
    for (tid, day), n in per_day.items():
        t = techs[tid]
        if n + t.load_by_day.get(day, 0) > t.max_jobs_per_day:
            out.append(f"{tid}: {n + t.load_by_day.get(day, 0)} jobs on {day} > max {t.max_jobs_per_day}")
    for tid, items in by_tech.items():
        items.sort(key=lambda a: a.slot_start)
        for x, y in zip(items, items[1:], strict=False):
            if y.slot_start < x.slot_end:
                out.append(f"{tid}: overlapping visits {x.job_id} and {y.job_id}")
    return out


# --- urgent placement: repair a solved plan without re-solving everything -------------------------

_UNREACHABLE = 1e12


def dual_potentials(cost: NDArray[np.float64], col_of_row: NDArray[np.int64]) -> NDArray[np.float64]:
    """Column potentials v of an optimal assignment (free columns 0), so that every reduced cost
    cost[i, j] - u_i - v_j with u_i = cost[i, col(i)] - v_col(i) is >= 0.

    v_j = -(shortest distance from column j to a free column), where leaving column j means its row
    moves: edge j -> j' costs cost[owner(j), j'] - cost[owner(j), j]. Computed once per solved plan
    (label-correcting, vectorised) and kept up to date by `place_urgent`.
    """
    n, m = cost.shape
    matched = np.flatnonzero(col_of_row >= 0)
    cols = col_of_row[matched]
    d = np.full(m, _UNREACHABLE)
    free = np.ones(m, dtype=bool)
    free[cols] = False
    d[free] = 0.0
    base = cost[matched, cols]
    sub = np.where(np.isfinite(cost[matched]), cost[matched], np.inf)
    for _ in range(m + 1):
        cand = np.min(sub + d[None, :], axis=1) - base
        cand = np.minimum(cand, _UNREACHABLE)
        better = cand < d[cols] - 1e-9
        if not better.any():
            break
        d[cols[better]] = cand[better]
    return -d


def place_urgent(
    cost: NDArray[np.float64], col_of_row: NDArray[np.int64], row: int, v: NDArray[np.float64] | None = None
) -> tuple[NDArray[np.int64], float]:
    """Insert `row` (col_of_row[row] == -1) into an optimal assignment by one shortest augmenting path.

    Dijkstra on reduced costs (potentials `v` from `dual_potentials`, computed here if not given and
    updated in place when given) from the row to the nearest free column; the jobs on the path each
    shift one column. With an optimal input this equals re-solving the whole matrix. Infeasible
    entries are +inf. Returns (new col_of_row, cost change); +inf (nothing moved) if impossible.
    """
    n, m = cost.shape
    if v is None:
        v = dual_potentials(cost, col_of_row)
    owner = np.full(m, -1, dtype=np.int64)
    assigned = np.flatnonzero(col_of_row >= 0)
    owner[col_of_row[assigned]] = assigned
    dist = cost[row] - v
    dist[~np.isfinite(dist)] = np.inf
    done = np.zeros(m, dtype=bool)
    pred = np.full(m, -1, dtype=np.int64)
    open_ = dist.copy()
    target = -1
    for _ in range(m):
        j = int(np.argmin(open_))
        if not np.isfinite(open_[j]):
            break
        done[j] = True
        open_[j] = np.inf
        i = owner[j]
        if i < 0:
            target = j
            break
        nd = dist[j] + cost[i] - cost[i, j] + v[j] - v
        better = (nd < dist - 1e-12) & ~done
        if better.any():
            dist[better] = nd[better]
            open_[better] = nd[better]
            pred[better] = j
    new = col_of_row.copy()
    if target < 0:
        return new, _INF
    # keep the potentials valid for the next event (Hungarian dual update)
    v[done] -= dist[target] - dist[done]
    delta = 0.0
    col = target
    while pred[col] >= 0:
        u = int(pred[col])
        i = int(owner[u])
        delta += float(cost[i, col] - cost[i, u])
        new[i] = col
        col = u
    new[row] = col
    delta += float(cost[row, col])
    return new, delta
