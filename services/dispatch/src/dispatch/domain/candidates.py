"""Which technicians one job's placement needs to look at: the qualified ones nearest to it, by travel
from where their day starts — the same technicians (in the same order) the route planner's
`Instance.nearest_techs` picks from the whole team. Building routes for them alone (and loading only
their visits) gives the same placement as building every technician's routes, at a fraction of the
cost: the planner never considers anyone else for the job.

The rules mirror Instance._compile_eligibility (skills at level, territory, every certificate held —
whether it still holds when the visit ends is a matter of the route, decided later)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dispatch.domain.distance import DistanceMatrix
from dispatch.domain.eligibility import covers_region, has_skills
from dispatch.domain.specs import JobSpec, TechnicianSpec


def may_do(job: JobSpec, tech: TechnicianSpec) -> bool:
    """Skills, territory and the certificates held (expiry aside): as the planner qualifies them."""
    return (
        has_skills(job, tech)
        and covers_region(job, tech)
        and all(c in tech.certifications for c in job.required_certifications)
    )


def nearest_qualified(job: JobSpec, techs: Sequence[TechnicianSpec], distances: DistanceMatrix, k: int) -> list[str]:
    """The ids of the `k` technicians nearest to the job (travel minutes from their start location)
    who may do it, in the order of `techs`; ties go to the earlier technician, as in the planner."""
    pool = [t for t in techs if may_do(job, t)]
    if len(pool) <= k:
        return [t.id for t in pool]
    origins = np.array([[t.lat, t.lon] for t in pool], dtype=np.float64)
    tt, _ = distances.table(origins, np.array([[job.lat, job.lon]], dtype=np.float64))
    order = np.argsort(np.asarray(tt, dtype=np.float64)[:, 0], kind="stable")[:k]
    keep = set(int(i) for i in order)
    return [t.id for i, t in enumerate(pool) if i in keep]


def replan_candidates(
    jobs: Sequence[JobSpec],
    techs: Sequence[TechnicianSpec],
    distances: DistanceMatrix,
    k: int,
    *,
    holders: frozenset[str] | set[str] = frozenset(),
) -> set[str]:
    """The technicians a repair placing `jobs` looks at (domain/replanning.py): each job's `k`
    nearest qualified ones, and for a P1 every qualified technician in `holders` (holding a movable
    visit it may take the place of)."""
    out: set[str] = set()
    for job in jobs:
        out.update(nearest_qualified(job, techs, distances, k))
        if job.priority == "P1":
            out.update(t.id for t in techs if t.id in holders and may_do(job, t))
    return out
