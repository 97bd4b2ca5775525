"""In-day replanning (domain): a repair moves only the visits that no longer fit, counts them, and
its routes pass the independent checker, a rebooked visit judged by what the customer asked for."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from dispatch.domain.distance import HaversineMatrix
from dispatch.domain.intervals import Interval
from dispatch.domain.replanning import repair
from dispatch.domain.route_check import violations
from dispatch.domain.specs import JobSpec, Problem, TechnicianSpec, VisitSpec

DM = HaversineMatrix()
NOW = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
DAY = Interval(NOW, NOW + timedelta(hours=10))


def tech(tid: str, dlat: float = 0.0, available: tuple[Interval, ...] = (DAY,)) -> TechnicianSpec:
    return TechnicianSpec(id=tid, lat=31.2 + dlat, lon=121.4, available=available, skills={"washer": 2})


def job(jid: str, start_h: float, dlat: float = 0.01, hours: float = 2.0) -> JobSpec:
    w = Interval(NOW + timedelta(hours=start_h), NOW + timedelta(hours=start_h + hours))
    return JobSpec(id=jid, lat=31.2 + dlat, lon=121.4, duration_min=60, required_skills={"washer": 1}, window=w)


def visit(j: JobSpec, tid: str, **kw: bool) -> VisitSpec:
    assert j.window is not None
    return VisitSpec(j, tid, j.window.start + timedelta(minutes=30), **kw)


def day_of(visits: list[VisitSpec], techs: list[TechnicianSpec], jobs: tuple[JobSpec, ...] = ()) -> Problem:
    return Problem(
        jobs=jobs, technicians=tuple(techs), now=NOW, horizon_end=NOW + timedelta(days=1), visits=tuple(visits)
    )


def test_an_absence_moves_the_absent_technicians_visits_and_nothing_else():
    a1, a2, b1 = job("a1", 1), job("a2", 4), job("b1", 2, dlat=0.02)
    # technician a is off from now: their visits come back as jobs to place, b's visit stays
    p = day_of([visit(b1, "b")], [tech("a", available=()), tech("b", dlat=0.02)], jobs=(a1, a2))
    r = repair(p, DM)
    assert r.plan is not None
    assert {j: [v.technician_id for v in vs] for j, vs in r.placed.items()} == {"a1": ["b"], "a2": ["b"]}
    assert r.moved == 2 and not r.unplaced and "b1" not in r.placed
    assert violations(p, r.plan, DM, rebooked=r.rebooked) == []


def test_an_urgent_job_is_fresh_not_a_move():
    b1 = job("b1", 2)
    urgent = dataclasses.replace(job("urgent", 0, hours=8), priority="P1", sla_deadline=NOW + timedelta(hours=3))
    p = day_of([visit(b1, "b")], [tech("b")], jobs=(urgent,))
    r = repair(p, DM, fresh=frozenset({"urgent"}))
    assert "urgent" in r.placed and r.moved == 0
    assert r.plan is not None and violations(p, r.plan, DM) == []


def test_a_visit_that_no_longer_fits_its_window_is_rebooked_and_judged_by_the_request():
    # b is 5 hours late: the 1-3 h window cannot be kept by anyone, so the visit gets a new window
    late = (Interval(NOW + timedelta(hours=5), DAY.end),)
    a1 = job("a1", 1)
    p = day_of([], [tech("b", available=late)], jobs=(a1,))
    r = repair(p, DM)
    assert r.rebooked == {"a1"} and r.moved == 1
    assert r.plan is not None
    assert any("outside its window" in x for x in violations(p, r.plan, DM))  # the old window is gone
    assert violations(p, r.plan, DM, rebooked=r.rebooked) == []
