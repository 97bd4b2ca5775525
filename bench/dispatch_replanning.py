"""In-day replanning on a 300-technician day: routes planned for 1,500 jobs, then at 10:00 an
urgent P1 job, an absence (the busiest technician off for the rest of the day), a 90-minute delay
and a cancellation. Each repair moves only visits that no longer fit (and, for a P1 that needs it,
the fewest movable ones); prints the time it took, how many visits moved, how many could not be
placed, and the independent checker's verdict on the repaired routes. Pinned visits a delay makes
late stay with their technician in their place: how many, and by how many minutes.

Visits under way at 10:00 and a third of the later ones (confirmed) are pinned; the others keep
their technician and a two-hour window around their planned start.

    .venv/bin/python bench/dispatch_replanning.py [--jobs 1500] [--technicians 300] [--seconds 20]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "services" / "dispatch" / "src"))

from dispatch.domain.distance import HaversineMatrix  # noqa: E402
from dispatch.domain.generated import field_service  # noqa: E402
from dispatch.domain.intervals import Interval, subtract  # noqa: E402
from dispatch.domain.placement import customer_window  # noqa: E402
from dispatch.domain.planner import Budget, plan_routes  # noqa: E402
from dispatch.domain.replanning import STRANDED, repair  # noqa: E402
from dispatch.domain.route_check import violations  # noqa: E402
from dispatch.domain.specs import JobSpec, Problem, VisitSpec  # noqa: E402


def day_at_ten(jobs: int, techs: int, seconds: float, seed: int) -> tuple[Problem, frozenset[str]]:
    """The routes as planned in the morning, seen at 10:00: what is done is gone, the visit each
    technician is on the way to (or at) is under way, a third of the later ones are confirmed
    (pinned), the rest may move."""
    dm = HaversineMatrix()
    base = field_service(jobs, techs, days=1, seed=seed)
    base = dataclasses.replace(base, jobs=tuple(j for j in base.jobs if j.crew_size == 1 and not j.parts))
    plan = plan_routes(base, dm, Budget(seconds=seconds, seed=seed))
    now = base.now + timedelta(hours=3)
    rng = random.Random(seed)
    spec = {j.id: j for j in base.jobs}
    visits, movable = [], set()
    # where each technician is at 10:00: on the way to (or at) the last visit they set off for; a
    # technician leaves as soon as the previous visit ends (and waits on site if early)
    begun = {}
    for r in plan.routes:
        left = r.period_start
        for v in r.visits:
            if left <= now:
                begun[v.technician_id] = v
            left = v.end
    for v in plan.visits:
        under_way = begun.get(v.technician_id) is v
        if v.start <= now and not under_way:
            continue  # done
        ws, we = customer_window(v.start, not_before=base.now, minutes=120)
        job = dataclasses.replace(spec[v.job_id], window=Interval(ws, we))
        pinned = under_way or rng.random() < 1 / 3
        visits.append(VisitSpec(job, v.technician_id, v.start, pinned, under_way))
        if not pinned:
            movable.add(v.job_id)
    return dataclasses.replace(base, jobs=(), visits=tuple(visits), now=now), frozenset(movable)


def report(label: str, problem: Problem, movable: frozenset[str], fresh: frozenset[str] = frozenset()) -> None:
    dm = HaversineMatrix()
    r = repair(problem, dm, movable=movable, fresh=fresh)
    assert r.plan is not None
    bad = violations(problem, r.plan, dm, rebooked=r.rebooked)
    late = sorted(r.late.values())
    print(
        f"  {label:<42} {1000 * r.elapsed_s:>8.0f} ms  moved {r.moved:>3}  rebooked {len(r.rebooked):>3}  "
        f"unplaced {len(r.unplaced):>2}  retimed {len(r.retimed):>4}  violations {len(bad)}"
    )
    if late:
        # pinned visits kept with their technician, later than planned (the customer is told)
        planned = {v.job.id: v for v in problem.visits}
        got = {v.job_id: v for v in r.plan.visits}
        windows = sum(1 for j in r.late if (w := planned[j].job.window) is not None and got[j].start > w.end)
        risk = sum(1 for j in r.late if got[j].sla_at_risk)
        print(
            f"    {len(late)} pinned visits kept late: {', '.join(f'{m:.0f}' for m in late)} min "
            f"({windows} past their booked window, {risk} at SLA risk)"
        )
    stranded = [j for j, why in r.unplaced.items() if why == STRANDED]
    if stranded:
        print(f"    {len(stranded)} pinned visits their technician can no longer do today: left for a dispatcher")
    if os.environ.get("BENCH_VERBOSE"):
        print("   ", r.unplaced, bad[:4], sorted(r.placed))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=1500)
    ap.add_argument("--technicians", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=20.0, help="budget of the morning plan")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    problem, movable = day_at_ten(a.jobs, a.technicians, a.seconds, a.seed)
    load = {}
    for v in problem.visits:
        load[v.technician_id] = load.get(v.technician_id, 0) + 1
    print(
        f"{a.technicians} technicians at 10:00: {len(problem.visits)} visits on the routes "
        f"({len(problem.visits) - len(movable)} pinned), load average {os.getloadavg()[0]:.1f}"
    )
    centre = problem.technicians[0]
    urgent = JobSpec(
        id="urgent-p1",
        lat=centre.lat + 0.01,
        lon=centre.lon,
        duration_min=60,
        priority="P1",
        required_skills={},
        sla_deadline=problem.now + timedelta(hours=3),
    )
    report("urgent P1 job (due in 3 h)", dataclasses.replace(problem, jobs=(urgent,)), movable, frozenset({urgent.id}))
    busiest = max(load, key=lambda t: load[t])
    off = [
        dataclasses.replace(
            t, available=tuple(subtract(list(t.available), [Interval(problem.now, problem.horizon_end)]))
        )
        if t.id == busiest
        else t
        for t in problem.technicians
    ]
    # as the service does: the absent technician's visits not yet begun are taken off them first
    theirs = [v for v in problem.visits if v.technician_id == busiest and not v.under_way]
    absent = dataclasses.replace(
        problem,
        technicians=tuple(off),
        jobs=tuple(v.job for v in theirs),
        visits=tuple(v for v in problem.visits if v not in theirs),
    )
    report(f"absence: {busiest} off ({len(theirs)} visits to move)", absent, movable)
    late = max((t for t in load if t != busiest), key=lambda t: load[t])
    blocked = [
        dataclasses.replace(
            t,
            available=tuple(subtract(list(t.available), [Interval(problem.now, problem.now + timedelta(minutes=90))])),
        )
        if t.id == late
        else t
        for t in problem.technicians
    ]
    report(
        f"delay: {late} 90 min late ({load[late]} visits)",
        dataclasses.replace(problem, technicians=tuple(blocked)),
        movable,
    )
    gone = next(v for v in problem.visits if not v.pinned)
    rest = tuple(v for v in problem.visits if v is not gone)
    report(f"cancellation of {gone.job.id}", dataclasses.replace(problem, visits=rest), movable - {gone.job.id})


if __name__ == "__main__":
    main()
