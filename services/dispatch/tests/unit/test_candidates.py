"""Placing one job looks only at the qualified technicians nearest to it (domain/candidates.py): the
routes of a far or unqualified technician are not built, and the place found is the one the search
over every technician's routes finds. The same for a repair (in-day replanning) on the routes of
its candidates: the same visits moved, to the same places, as the repair over everyone's routes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.domain.baseline import greedy_nearest
from dispatch.domain.candidates import may_do, nearest_qualified, replan_candidates
from dispatch.domain.distance import HaversineMatrix
from dispatch.domain.generated import field_service
from dispatch.domain.intervals import Interval, subtract
from dispatch.domain.placement import Placement, place_job, place_with_ejection
from dispatch.domain.replanning import Repair, repair
from dispatch.domain.routes import NEAREST
from dispatch.domain.specs import JobSpec, Problem, TechnicianSpec, VisitSpec

DM = HaversineMatrix()
NOW = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)


def tech(tid: str, dlat: float, **kw: object) -> TechnicianSpec:
    day = Interval(NOW, NOW + timedelta(hours=10))
    base: dict[str, object] = {"available": (day,), "skills": {"washer": 2}}
    return TechnicianSpec(id=tid, lat=31.2 + dlat, lon=121.4, **{**base, **kw})  # type: ignore[arg-type]


def test_far_and_unqualified_technicians_are_not_candidates():
    job = JobSpec(
        id="j",
        lat=31.2,
        lon=121.4,
        duration_min=60,
        required_skills={"washer": 2},
        required_certifications=("gas",),
        region="NW",
    )
    gas = {"gas": NOW - timedelta(days=1)}  # held, if expired: whether it holds is the route's matter
    techs = [
        tech("near", 0.01, certifications=gas),
        tech("novice", 0.0, skills={"washer": 1}, certifications=gas),
        tech("uncertified", 0.0),
        tech("elsewhere", 0.0, certifications=gas, regions=frozenset({"SE"})),
        tech("everywhere", 0.03, certifications=gas),
        tech("far", 0.5, certifications=gas),
    ]
    assert nearest_qualified(job, techs, DM, 2) == ["near", "everywhere"]
    assert nearest_qualified(job, techs, DM, 10) == ["near", "everywhere", "far"]


def test_equally_near_technicians_go_by_their_order():
    job = JobSpec(id="j", lat=31.2, lon=121.4, duration_min=60)
    techs = [tech(f"t{i}", 0.01 if i % 2 else -0.01) for i in range(6)]  # all equally near
    assert nearest_qualified(job, techs, DM, 3) == ["t0", "t1", "t2"]


def _on_routes(p: Problem) -> tuple[list[VisitSpec], list[JobSpec]]:
    """Half the jobs already on routes (placed greedily), the other half still to place."""
    half = len(p.jobs) // 2
    first = dataclasses.replace(p, jobs=p.jobs[:half])
    plan = greedy_nearest(first, DM)
    specs = {j.id: j for j in first.jobs}
    visits = [
        VisitSpec(specs[jid], v.technician_id, v.start, pinned=specs[jid].crew_size > 1)
        for jid, vs in plan.by_job().items()
        for v in vs
    ]
    return visits, list(p.jobs[half:])


def _key(placed: Placement | None) -> object:
    if placed is None:
        return None
    return (
        [(v.technician_id, v.start, v.end) for v in placed.visits],
        round(placed.cost, 6),
        placed.retimed,
        placed.explanation,
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 10_000), st.integers(20, 200), st.sampled_from([5, 30, 150, 250, 300]))
def test_the_candidates_routes_give_the_place_the_full_search_gives(seed, n_jobs, n_techs):
    # with 150 technicians and more, more than NEAREST qualify for most jobs: the candidates are fewer
    p = field_service(n_jobs, n_techs, seed=seed)
    visits, todo = _on_routes(p)
    for job in todo[:4]:
        full = dataclasses.replace(p, jobs=(job,), visits=tuple(visits))
        keep = set(nearest_qualified(job, p.technicians, DM, NEAREST))
        only = dataclasses.replace(
            full,
            technicians=tuple(t for t in p.technicians if t.id in keep),
            visits=tuple(v for v in visits if v.technician_id in keep),
        )
        for late in (False, True):
            if late and job.crew_size > 1:
                continue
            assert _key(place_job(only, job.id, DM, late=late)) == _key(place_job(full, job.id, DM, late=late))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 10_000), st.integers(200, 600), st.sampled_from([30, 150, 300]), st.sampled_from([10, 30, 90]))
def test_taking_the_place_of_movable_visits_needs_only_their_technicians_and_the_nearest(seed, n_jobs, n_techs, slack):
    p = field_service(n_jobs, n_techs, seed=seed)
    visits, todo = _on_routes(p)
    movable = {v.job.id for v in visits if v.job.priority in ("P3", "P4") and not v.pinned}
    holders = {v.technician_id for v in visits if v.job.id in movable}
    for job in todo[:3]:
        if job.crew_size > 1:
            continue
        # a P1 due soon after the working day starts (an hour after now): the early visits are in its way
        due = p.now + timedelta(minutes=60 + job.duration_min + slack)
        soon = dataclasses.replace(job, priority="P1", sla_deadline=due, window=None, requested=None, parts={})
        full = dataclasses.replace(p, jobs=(soon,), visits=tuple(visits))
        keep = set(nearest_qualified(soon, p.technicians, DM, NEAREST))
        keep |= {t.id for t in p.technicians if t.id in holders and may_do(soon, t)}
        only = dataclasses.replace(
            full,
            technicians=tuple(t for t in p.technicians if t.id in keep),
            visits=tuple(v for v in visits if v.technician_id in keep),
        )
        a, b = place_with_ejection(only, soon.id, DM, movable), place_with_ejection(full, soon.id, DM, movable)
        assert _key(a) == _key(b)
        assert (a and a.ejected) == (b and b.ejected)


def _repair_key(r: Repair) -> object:
    return (
        {j: [(v.technician_id, v.start, v.end) for v in vs] for j, vs in r.placed.items()},
        r.rebooked,
        r.unplaced,
        r.moved,
        r.retimed,
    )


def _repair_on_candidates(
    p: Problem, blocked: set[str], movable: frozenset[str], holders: set[str]
) -> tuple[Repair, set[str]]:
    """The service's way (service_layer/replanning.py): the routes of the blocked technicians and of
    the jobs' candidates only, widened by the candidates of every job the repair searched a place for
    until nobody is missing."""
    among = blocked | replan_candidates(p.jobs, p.technicians, DM, NEAREST, holders=holders)
    while True:
        only = dataclasses.replace(
            p,
            technicians=tuple(t for t in p.technicians if t.id in among),
            visits=tuple(v for v in p.visits if v.technician_id in among),
        )
        r = repair(only, DM, movable=movable)
        known = {j.id: j for j in (*only.jobs, *(v.job for v in only.visits))}
        searched = [known[j] for j in sorted(r.searched)]
        wanted = among | replan_candidates(searched, p.technicians, DM, NEAREST, holders=holders)
        if wanted <= among:
            return r, among
        among = wanted


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 10_000),
    st.integers(100, 500),
    st.sampled_from([20, 60, 150, 300]),
    st.sampled_from(["absence", "delay", "urgent"]),
)
def test_replanning_on_the_candidates_routes_gives_the_full_repair(seed, n_jobs, n_techs, event):
    p = field_service(n_jobs, n_techs, seed=seed)
    visits, todo = _on_routes(p)
    movable = frozenset(v.job.id for v in visits if v.job.priority in ("P3", "P4") and not v.pinned)
    holders = {v.technician_id for v in visits if v.job.id in movable}
    busiest = max(p.technicians, key=lambda t: (sum(v.technician_id == t.id for v in visits), t.id))
    blocked: set[str] = set()
    if event == "absence":  # the busiest technician is off: their visits come back as jobs to place
        jobs = tuple(v.job for v in visits if v.technician_id == busiest.id and v.job.crew_size == 1)
        techs = tuple(t for t in p.technicians if t.id != busiest.id)
        rest = tuple(v for v in visits if v.technician_id != busiest.id)
        full = dataclasses.replace(p, jobs=jobs, technicians=techs, visits=rest)
    elif event == "delay":  # the busiest technician is held up for three hours: what no longer fits moves
        held = Interval(p.now, p.now + timedelta(hours=4))
        techs = tuple(
            dataclasses.replace(t, available=tuple(subtract(list(t.available), [held]))) if t.id == busiest.id else t
            for t in p.technicians
        )
        full = dataclasses.replace(p, jobs=(), technicians=techs, visits=tuple(visits))
        blocked = {busiest.id}
    else:  # an urgent P1 due three hours from now may take the place of movable visits
        job = next(j for j in todo if j.crew_size == 1)
        urgent = dataclasses.replace(
            job, priority="P1", sla_deadline=p.now + timedelta(hours=3), window=None, requested=None, parts={}
        )
        full = dataclasses.replace(p, jobs=(urgent,), visits=tuple(visits))
    restricted, among = _repair_on_candidates(full, blocked, movable, holders)
    everyone = repair(full, DM, movable=movable)
    assert _repair_key(restricted) == _repair_key(everyone)
    if n_techs >= 150:
        assert len(among) < len(full.technicians)  # the point: fewer routes built
