"""Repairs on the exact timeline after the routing engine: a refused order is re-ordered before any
visit is dropped, a refused sequence loses the visit cheapest to place elsewhere, and the
relocation descent only ever lowers the cost and keeps every hard constraint."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.domain.distance import HaversineMatrix
from dispatch.domain.generated import field_service
from dispatch.domain.instance import Instance
from dispatch.domain.intervals import Interval
from dispatch.domain.plan import to_plan
from dispatch.domain.polish import cheapest_drop, period_cost, relocate_descent, reorder
from dispatch.domain.route_check import violations
from dispatch.domain.routes import RouteSet, cheapest_insertion
from dispatch.domain.specs import BreakWindow, JobSpec, Problem, TechnicianSpec
from dispatch.domain.timeline import schedule

DM = HaversineMatrix()
NOW = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
LUNCH = (BreakWindow(NOW + timedelta(hours=3, minutes=30), NOW + timedelta(hours=5, minutes=30), 45),)


def tech(tid: str, dlat: float = 0.0) -> TechnicianSpec:
    day = Interval(NOW, NOW + timedelta(hours=10))
    return TechnicianSpec(id=tid, lat=31.2 + dlat, lon=121.4, available=(day,), skills={"washer": 2}, breaks=LUNCH)


def job(jid: str, dlat: float, minutes: float, window_hours: tuple[float, float] | None = None) -> JobSpec:
    window = None
    if window_hours is not None:
        window = Interval(NOW + timedelta(hours=window_hours[0]), NOW + timedelta(hours=window_hours[1]))
    return JobSpec(
        id=jid, lat=31.2 + dlat, lon=121.4, duration_min=minutes, required_skills={"washer": 1}, window=window
    )


def routes(jobs: list[JobSpec], techs: list[TechnicianSpec]) -> RouteSet:
    p = Problem(jobs=tuple(jobs), technicians=tuple(techs), now=NOW, horizon_end=NOW + timedelta(days=1))
    return RouteSet(Instance(p, DM))


def test_an_order_the_break_refuses_is_reordered_not_cut():
    # four hours of work first leave no room before the short visit's window closes: the other
    # order does the short visit first, then the long one, with the break after it
    rs = routes([job("long", 0.01, 240), job("short", 0.012, 60, (0, 2))], [tech("a")])
    inst = rs.inst
    long_, short = inst.stop(0, 0), inst.stop(1, 0)
    assert long_ is not None and short is not None
    assert schedule(inst.shifts[0], [long_, short], inst.tt) is None
    again = reorder(rs, 0, [long_, short], lambda x: True)
    assert again is not None and [x.job for x in again] == [1, 0]


def test_a_refused_sequence_loses_the_visit_that_is_cheapest_to_place_elsewhere():
    # a day too full for three visits: the one beside a second technician's home goes to them
    jobs = [job("x", 0.01, 240), job("y", 0.012, 240), job("beside-b", 0.3, 180)]
    rs = routes(jobs, [tech("a"), tech("b", 0.3)])
    inst = rs.inst
    stops = [inst.stop(j, 0) for j in range(3)]
    assert all(x is not None for x in stops)
    seq = [x for x in stops if x is not None]
    assert schedule(inst.shifts[0], seq, inst.tt) is None
    choice = cheapest_drop(rs, 0, seq, lambda x: True)
    assert choice is not None
    kept, victim, opt = choice
    assert victim.job == 2 and opt is not None and inst.shifts[opt.shift].tech == 1
    assert [x.job for x in kept] == [0, 1]


def cost(rs: RouteSet) -> float:
    """What the descent lowers: the routes' costs and each visit's own (waiting, parts holder)."""
    return sum(period_cost(rs, s) for s in range(len(rs.stops)))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 10_000), st.integers(10, 40), st.integers(2, 6))
def test_relocation_never_raises_the_cost_and_keeps_every_hard_constraint(seed, n_jobs, n_techs):
    p = field_service(n_jobs, n_techs, seed=seed)
    rs = RouteSet(Instance(p, DM))
    rs.place_existing()
    singles = [j for j in range(rs.inst.n_new) if rs.inst.jobs[j].crew_size <= 1]
    unplaced = cheapest_insertion(rs, singles)
    planned = rs.planned()
    before = cost(rs)
    moves, saved = relocate_descent(rs, singles, deadline=time.perf_counter() + 5, movable=lambda x: True)
    assert cost(rs) <= before + 1e-6
    assert abs(before - cost(rs) - saved) < 1e-3
    assert rs.planned() == planned  # every visit is somewhere
    assert violations(p, to_plan(rs, unplanned=unplaced), DM) == []
    assert moves == 0 or saved > 0
