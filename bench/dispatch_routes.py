"""Dispatch's route planner on generated field-service instances (100 × 20, 500 × 80, 2000 × 300
jobs × technicians, two working days; see dispatch/domain/generated.py): travel against the greedy
nearest-technician baseline, SLA breaches, unplanned jobs, hard-constraint violations (found by the
independent checker, dispatch/domain/route_check.py, not by the planner), solve time, and the gap
to a longer run of the same planner (ten times longer unless --long-factors says otherwise; 0 skips).

Greedy leaves more jobs unplanned than the planner, and the jobs it leaves are the hard ones (few
qualified technicians, far from them, in windows): travel in total compares plans of different
work. The row "planner, greedy's jobs" plans exactly the jobs greedy planned, with the same budget,
so that travel compares the same work.

    .venv/bin/python bench/dispatch_routes.py [--sizes 100x20,500x80,2000x300] [--budgets 4,8,45]
                                              [--long-factors 10,10,3] [--seed 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "services" / "dispatch" / "src"))

from dispatch.domain.baseline import greedy_nearest  # noqa: E402
from dispatch.domain.distance import HaversineMatrix  # noqa: E402
from dispatch.domain.generated import field_service  # noqa: E402
from dispatch.domain.plan import RoutePlan  # noqa: E402
from dispatch.domain.planner import Budget, plan_routes  # noqa: E402
from dispatch.domain.route_check import violations  # noqa: E402
from dispatch.domain.specs import Problem  # noqa: E402


def row(label: str, plan: RoutePlan, seconds: float, viol: int) -> str:
    visits = len(plan.by_job())
    per = plan.travel_min / visits if visits else 0.0
    return (
        f"  {label:<14} {seconds:>7.1f} {plan.travel_min / 60:>8.1f} {per:>7.1f} {visits:>6} "
        f"{len(plan.unplanned):>5} {plan.sla_breaches:>5} {viol:>5}"
    )


def timed(problem: Problem, dm: HaversineMatrix, budget: float, seed: int) -> tuple[RoutePlan, float]:
    t0 = time.perf_counter()
    plan = plan_routes(problem, dm, Budget(seconds=budget, seed=seed))
    return plan, time.perf_counter() - t0


def less(a: float, b: float) -> float:
    return 100 * (1 - a / b) if b else 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100x20,500x80,2000x300")
    ap.add_argument("--budgets", default="4,8,45", help="seconds per size (set-up, warm start and write-back included)")
    ap.add_argument("--long-factors", default="10,10,3", help="the longer run's budget per size, as a multiple")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    dm = HaversineMatrix()
    sizes = [tuple(int(x) for x in s.split("x")) for s in a.sizes.split(",")]
    budgets = [float(b) for b in a.budgets.split(",")]
    factors = [float(f) for f in a.long_factors.split(",")]
    print("per size: time s, travel h, travel min per planned job, jobs planned, unplanned, SLA breaches, violations")
    for (jobs, techs), budget, factor in zip(sizes, budgets, factors, strict=True):
        problem = field_service(jobs, techs, seed=a.seed)
        print(f"{jobs} jobs x {techs} technicians, 2 days (load average {os.getloadavg()[0]:.1f})")
        t0 = time.perf_counter()
        greedy = greedy_nearest(problem, dm)
        g_s = time.perf_counter() - t0
        print(row("greedy nearest", greedy, g_s, len(violations(problem, greedy, dm))))
        plan, p_s = timed(problem, dm, budget, a.seed)
        print(row(f"planner {budget:g} s", plan, p_s, len(violations(problem, plan, dm))))
        done = set(greedy.by_job())
        same = dataclasses.replace(problem, jobs=tuple(j for j in problem.jobs if j.id in done))
        fair, f_s = timed(same, dm, budget, a.seed)
        print(row("  greedy's jobs", fair, f_s, len(violations(same, fair, dm))))
        per_g = greedy.travel_min / max(1, len(greedy.by_job()))
        per_p = plan.travel_min / max(1, len(plan.by_job()))
        print(
            f"  travel vs greedy: {less(plan.travel_min, greedy.travel_min):.1f} % less in total, "
            f"{less(per_p, per_g):.1f} % less per planned job; on greedy's {len(done)} jobs "
            f"{less(fair.travel_min, greedy.travel_min):.1f} % less ({len(fair.unplanned)} of them unplanned); "
            f"the {len(plan.by_job()) - len(fair.by_job())} more jobs the planner plans cost "
            f"{(plan.travel_min - fair.travel_min) / 60:.1f} h"
        )
        if factor > 0:
            long, l_s = timed(problem, dm, budget * factor, a.seed)
            print(row(f"planner {budget * factor:g} s", long, l_s, len(violations(problem, long, dm))))
            print(
                f"  gap to the {factor:g}x run: travel {100 * (plan.travel_min / long.travel_min - 1):+.2f} %, "
                f"unplanned {len(plan.unplanned) - len(long.unplanned):+d}, "
                f"breaches {plan.sla_breaches - long.sla_breaches:+d}; "
                f"search's own estimate {100 * (plan.gap_estimate or 0):.2f} %"
            )
        print(f"  (load average at the end {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
