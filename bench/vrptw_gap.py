"""The routing engine on public VRPTW benchmarks: four Gehring–Homberger instances with 1,000
customers (bench/data/vrptw, with their best-known solutions), solved by PyVRP as dispatch uses it
(the pinned version, default parameters, seed 1) for a fixed time budget each.

Every route is checked here, from this script's own reading of the instance file and not the
solver's data: each customer served once, vehicle capacity, every time window (service starts by
the window's end, waits if early), back at the depot before it closes; the distance is summed here
too (DIMACS convention: Euclidean, truncated to one decimal). Prints the gap to the best known.

    .venv/bin/python bench/vrptw_gap.py [--seconds 60] [--instances C1_10_1,R1_10_1,RC1_10_1,R2_10_1]
"""

from __future__ import annotations

import argparse
import math
import os
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pyvrp
from pyvrp.stop import MaxRuntime

DATA = Path(__file__).resolve().parent / "data" / "vrptw"
INSTANCES = ("C1_10_1", "R1_10_1", "RC1_10_1", "R2_10_1")


@dataclass
class Vrptw:
    capacity: int
    service: float
    xy: dict[int, tuple[float, float]]
    demand: dict[int, int]
    window: dict[int, tuple[float, float]]
    depot: int


def parse(path: Path) -> Vrptw:
    """The instance as this script reads it (VRPLIB: NODE_COORD, DEMAND, TIME_WINDOW, DEPOT)."""
    head: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line == "EOF":
            continue
        if line.endswith("_SECTION"):
            current = line
            sections[current] = []
        elif current is None and ":" in line:
            k, v = line.split(":", 1)
            head[k.strip()] = v.strip()
        elif current is not None:
            sections[current].append(line.split())
    xy = {int(r[0]): (float(r[1]), float(r[2])) for r in sections["NODE_COORD_SECTION"]}
    demand = {int(r[0]): int(r[1]) for r in sections["DEMAND_SECTION"]}
    window = {int(r[0]): (float(r[1]), float(r[2])) for r in sections["TIME_WINDOW_SECTION"]}
    depot = int(sections["DEPOT_SECTION"][0][0])
    return Vrptw(int(head["CAPACITY"]), float(head.get("SERVICE_TIME", 0)), xy, demand, window, depot)


def dist(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.floor(math.hypot(a[0] - b[0], a[1] - b[1]) * 10) / 10


def check(inst: Vrptw, routes: list[list[int]]) -> tuple[float, list[str]]:
    """Total distance and every violation of the routes (lists of node ids, depot excluded)."""
    bad: list[str] = []
    served = [c for r in routes for c in r]
    customers = set(inst.xy) - {inst.depot}
    if sorted(served) != sorted(customers):
        bad.append(f"{len(customers - set(served))} customers unserved, {len(served) - len(set(served))} twice")
    total = 0.0
    for k, route in enumerate(routes):
        load = sum(inst.demand[c] for c in route)
        if load > inst.capacity:
            bad.append(f"route {k}: load {load} > capacity {inst.capacity}")
        t, prev = inst.window[inst.depot][0], inst.depot
        for c in route:
            d = dist(inst.xy[prev], inst.xy[c])
            total += d
            t = max(t + d, inst.window[c][0])
            if t > inst.window[c][1] + 1e-6:
                bad.append(f"route {k}: customer {c} served at {t:.1f} after its window closes {inst.window[c][1]}")
            t += inst.service if c != inst.depot else 0.0
            prev = c
        d = dist(inst.xy[prev], inst.xy[inst.depot])
        total += d
        if t + d > inst.window[inst.depot][1] + 1e-6:
            bad.append(f"route {k}: back at {t + d:.1f} after the depot closes")
    return total, bad


def best_known(name: str) -> float:
    return float((DATA / f"{name}.sol").read_text().split("Cost")[-1])


def best_known_routes(name: str) -> list[list[int]]:
    """The .sol file's routes (customer numbers from 1; node ids are one more: the depot is 1)."""
    lines = (DATA / f"{name}.sol").read_text().splitlines()
    return [[int(c) + 1 for c in line.split(":", 1)[1].split()] for line in lines if line.startswith("Route")]


def solve(name: str, seconds: float, seed: int) -> dict[str, object]:
    data = pyvrp.read(DATA / f"{name}.vrp", round_func="dimacs")
    t0 = time.perf_counter()
    result = pyvrp.solve(data, stop=MaxRuntime(seconds), seed=seed)
    elapsed = time.perf_counter() - t0
    clients = data.clients()
    routes = [[clients[a.idx].location + 1 for a in r if a.is_client()] for r in result.best.routes()]
    inst = parse(DATA / f"{name}.vrp")
    distance, bad = check(inst, routes)
    bks = best_known(name)
    return {
        "name": name,
        "routes": len(routes),
        "distance": distance,
        "bks": bks,
        "gap": (distance - bks) / bks,
        "violations": bad,
        "solver_feasible": result.best.is_feasible(),
        "iterations": result.num_iterations,
        "elapsed": elapsed,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0, help="time budget per instance")
    ap.add_argument("--instances", default=",".join(INSTANCES))
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    print(f"PyVRP {version('pyvrp')} (iterated local search), {a.seconds:.0f} s per instance, seed {a.seed}")
    print(
        f"{'instance':>9} {'routes':>6} {'distance':>10} {'best known':>10} {'gap %':>6} {'iters':>7} {'s':>6} checked"
    )
    for name in a.instances.split(","):
        # the checker first checks itself: the best-known solution passes and adds up to its cost
        known, bad = check(parse(DATA / f"{name}.vrp"), best_known_routes(name))
        assert not bad and abs(known - best_known(name)) < 0.5, (name, known, bad[:3])
        r = solve(name, a.seconds, a.seed)
        bad = r["violations"]
        status = "ok" if not bad else f"{len(bad)} violations: {bad[:2]}"  # type: ignore[arg-type]
        print(
            f"{r['name']:>9} {r['routes']:>6} {r['distance']:>10.1f} {r['bks']:>10.1f} "
            f"{100 * r['gap']:>6.2f} {r['iterations']:>7} {r['elapsed']:>6.1f} {status}"  # type: ignore[operator]
        )
    print(f"load average while running: {os.getloadavg()[0]:.1f} (2 cores shared with other work)")


if __name__ == "__main__":
    main()
