"""A planning problem compiled for the route planner: locations and their travel matrix, each
technician's working periods (shifts) with breaks, and per job × technician whether the technician
qualifies, until when their certificates hold and from when they have the parts (epoch minutes)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from dispatch.domain.distance import DistanceMatrix
from dispatch.domain.eligibility import covers_region, p1_sla_is_hard, parts_ready
from dispatch.domain.specs import PRIORITY_WEIGHT, JobSpec, Problem, TechnicianSpec
from dispatch.domain.timeline import INF, Brk, Shift, Stop

DAY = 1440.0


def minutes(t: datetime) -> float:
    return t.timestamp() / 60.0


def at(m: float) -> datetime:
    return datetime.fromtimestamp(m * 60.0, tz=UTC)


@dataclass(frozen=True)
class Placed:
    """A visit already on a route: its technician, start and whether it is pinned (or under way)."""

    tech: int
    start: float
    pinned: bool
    under_way: bool = False


class Instance:
    def __init__(self, problem: Problem, distances: DistanceMatrix) -> None:
        self.problem = problem
        self.now = minutes(problem.now)
        self.end = minutes(problem.horizon_end)
        self.techs: tuple[TechnicianSpec, ...] = problem.technicians
        self.n_new = len(problem.jobs)
        self.jobs: tuple[JobSpec, ...] = problem.jobs + tuple(v.job for v in problem.visits)
        self.tech_index = {t.id: i for i, t in enumerate(self.techs)}
        self.job_index = {j.id: i for i, j in enumerate(self.jobs)}
        T, J = len(self.techs), len(self.jobs)
        self.tech_loc = list(range(T))
        self.job_loc = list(range(T, T + J))
        coords = np.array([[t.lat, t.lon] for t in self.techs] + [[j.lat, j.lon] for j in self.jobs], dtype=np.float64)
        self.coords = coords.reshape(-1, 2)
        tt, km = distances.table(self.coords, self.coords) if len(coords) else (np.zeros((0, 0)), np.zeros((0, 0)))
        self.tt: NDArray[np.float64] = np.asarray(tt, dtype=np.float64)
        self.km: NDArray[np.float64] = np.asarray(km, dtype=np.float64)
        np.fill_diagonal(self.tt, 0.0)
        np.fill_diagonal(self.km, 0.0)
        self.placed: dict[int, Placed] = {
            self.n_new + i: Placed(
                self.tech_index[v.technician_id], minutes(v.start), v.pinned or v.under_way, v.under_way
            )
            for i, v in enumerate(problem.visits)
            if v.technician_id in self.tech_index
        }
        self._compile_jobs()
        self._compile_eligibility()
        self._compile_shifts()

    # --- jobs ------------------------------------------------------------------------------------
    def _compile_jobs(self) -> None:
        jobs = self.jobs
        self.dur = np.array([float(j.duration_min) for j in jobs])
        self.pw = np.array([PRIORITY_WEIGHT[j.priority] for j in jobs])
        self.due = np.array([minutes(j.sla_deadline) if j.sla_deadline else INF for j in jobs])
        lo, hi, free_lo, free_hi, cap = [], [], [], [], []
        for i, j in enumerate(jobs):
            a = max(self.now, minutes(j.earliest) if j.earliest else -INF)
            b = self.end
            if j.requested is not None:
                a, b = max(a, minutes(j.requested.start)), min(b, minutes(j.requested.end))
            # a P1's SLA is hard while it can still be kept: its visit starts early enough to end in time
            cap.append(self.due[i] - self.dur[i] if p1_sla_is_hard(j, self.problem.now) else INF)
            free_lo.append(a)
            free_hi.append(b)
            if j.window is not None:
                a, b = max(a, minutes(j.window.start)), min(b, minutes(j.window.end))
            lo.append(a)
            hi.append(b)
        self.lo, self.hi = np.array(lo), np.array(hi)
        self.free_lo, self.free_hi = np.array(free_lo), np.array(free_hi)  # without the booked window
        self.sla_cap = np.array(cap)  # latest start that keeps a P1's SLA

    def _compile_eligibility(self) -> None:
        jobs, techs = self.jobs, self.techs
        J, T = len(jobs), len(techs)
        ok = np.ones((J, T), dtype=bool)
        for sk in sorted({s for j in jobs for s in j.required_skills}):
            need = np.array([j.required_skills.get(sk, 0) for j in jobs])
            have = np.array([t.skills.get(sk, 0) for t in techs])
            ok &= (need[:, None] <= 0) | (have[None, :] >= need[:, None])
        for region in sorted({j.region for j in jobs if j.region}):
            rows = np.array([j.region == region for j in jobs])
            cover = np.array([covers_region(jobs[int(np.argmax(rows))], t) for t in techs], dtype=bool)
            ok[rows] &= cover[None, :]
        until = np.full((J, T), INF)
        for name in sorted({c for j in jobs for c in j.required_certifications}):
            rows = np.array([name in j.required_certifications for j in jobs])
            exp = np.array([minutes(t.certifications[name]) if name in t.certifications else -INF for t in techs])
            until[rows] = np.minimum(until[rows], exp[None, :])
        ok &= until > -INF
        self.qual = ok
        self.until = until
        ready = np.full((J, T), self.now)
        policy = self.problem.parts
        for i, j in enumerate(jobs):
            if j.parts:
                ready[i] = [minutes(parts_ready(j, t, self.problem.now, policy)) for t in techs]
        self.ready = ready
        self.holder = np.array([self.tech_index.get(j.parts_holder or "", -1) if j.parts else -1 for j in jobs])

    # --- working periods ---------------------------------------------------------------------------
    def _compile_shifts(self) -> None:
        """Working periods from now to the horizon. A technician on site (or on the way) starts the
        period under way at that visit's site when it ends (a delayed one: the period the visit
        begins in): the visit itself is done for planning."""
        self.shifts: list[Shift] = []
        self.shifts_of: list[list[int]] = [[] for _ in self.techs]
        self.current: dict[int, int] = {}  # technician -> the visit under way (on the way or on site)
        for j, p in self.placed.items():
            begun = p.under_way or (p.pinned and p.start <= self.now + 1e-6)
            if begun and (p.tech not in self.current or self.placed[self.current[p.tech]].start < p.start):
                self.current[p.tech] = j
        for ti, t in enumerate(self.techs):
            cur = self.current.get(ti)
            cur_end = self.placed[cur].start + float(self.dur[cur]) if cur is not None else -INF
            for iv in sorted(t.available, key=lambda x: x.start):
                a, b = max(minutes(iv.start), self.now), min(minutes(iv.end), self.end)
                loc, end_loc = self.tech_loc[ti], -1
                # the day goes on from the visit under way in the first working stretch left, the
                # one holding now or, after a delay, the one it begins in (it ends after it opens)
                if cur is not None and self.now < minutes(iv.end) and minutes(iv.start) <= max(self.now, cur_end):
                    a = max(a, cur_end)
                    loc, end_loc = self.job_loc[cur], self.tech_loc[ti]
                    cur = None
                if b - a < 1:
                    continue
                brk = None
                for bw in t.breaks:
                    # a period owes the break when it starts early enough to hold all of it before
                    # the latest start (one that begins later, after a visit under way, does not)
                    e, latest = max(minutes(bw.earliest), a), min(minutes(bw.latest), b - bw.minutes)
                    if e <= latest and a <= minutes(bw.latest) - bw.minutes:
                        brk = Brk(e, latest, float(bw.minutes))
                        break
                self.shifts_of[ti].append(len(self.shifts))
                self.shifts.append(Shift(ti, a, b, loc, brk, int(math.floor(a / DAY)), end_loc))

    # --- what the planner asks ---------------------------------------------------------------------
    def stop(self, j: int, t: int, *, rebook: bool = False, late: bool = False) -> Stop | None:
        """Job j as a stop on technician t's route, with the window that technician can serve it in;
        None when the technician may not do it. `rebook`: its booked window may change; `late`: a
        P1 that cannot be on time anywhere may end after its SLA deadline."""
        placed = self.placed.get(j)
        if placed is not None and placed.pinned and not rebook:
            return Stop(j, self.job_loc[j], float(self.dur[j]), placed.start, placed.start, placed.start)
        if not self.qual[j, t]:
            return None
        lo = max(float(self.free_lo[j] if rebook else self.lo[j]), float(self.ready[j, t]))
        hi = min(float(self.free_hi[j] if rebook else self.hi[j]), float(self.until[j, t]) - float(self.dur[j]))
        if not late:
            hi = min(hi, float(self.sla_cap[j]))
        if lo > hi:
            return None
        return Stop(j, self.job_loc[j], float(self.dur[j]), lo, hi)

    def max_visits(self, t: int, day: int) -> int:
        tech = self.techs[t]
        load = tech.load_by_day.get(at(day * DAY).date(), 0) if tech.load_by_day else 0
        return tech.max_jobs_per_day - load

    def nearest_techs(self, j: int, k: int) -> list[int]:
        """The k technicians nearest to job j (by travel from where their day starts) who qualify."""
        cand = np.flatnonzero(self.qual[j])
        if cand.size <= k:
            return [int(t) for t in cand]
        d = self.tt[np.array(self.tech_loc)[cand], self.job_loc[j]]
        # a stable order: equally near technicians go by their order, whoever else is in the problem
        return [int(t) for t in cand[np.argsort(d, kind="stable")[:k]]]
