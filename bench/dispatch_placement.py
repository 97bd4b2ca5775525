"""Dispatch's share of ticket.triaged -> technician.assigned: the immediate-placement transaction.

Runs the consumer step in-process (inbox claim, job, cheapest insertion into the technicians' routes
as they are, work order + appointment + outbox rows, commit) against a throw-away PostgreSQL
database on the local infrastructure, with 300 technicians, for N tickets in a row (routes fill up),
and prints latency percentiles. Kafka is not involved: add the relay's publish lag and the consumer's
poll for the end-to-end figure (target in docs/architecture.md: p99 < 250 ms end to end).

    deploy/local/infra.sh start-stores   # PostgreSQL + Redis, if not running
    .venv/bin/python bench/dispatch_placement.py [--tickets 400] [--technicians 300]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared" / "src"))
sys.path.insert(0, str(ROOT / "services" / "dispatch" / "src"))

from dispatch.adapters.orm import metadata  # noqa: E402
from dispatch.config import DispatchSettings  # noqa: E402
from dispatch.domain import commands  # noqa: E402
from dispatch.domain.model import WeeklyHours  # noqa: E402
from dispatch.service_layer import jobs, technicians  # noqa: E402
from dispatch.service_layer.planning import Planning  # noqa: E402
from fixflow_shared.events import new_envelope  # noqa: E402
from fixflow_shared.events.contracts.intake import Site, TicketTriaged  # noqa: E402
from fixflow_shared.migrations import upgrade  # noqa: E402
from fixflow_shared.runtime import ServiceRuntime  # noqa: E402

ADMIN = "postgresql://dispatch:dispatch@127.0.0.1:5432/dispatch"
SKILLS = ["washer", "fridge", "aircon", "oven", "dishwasher", "tv"]


async def main(n_tickets: int, n_techs: int) -> None:
    name = f"dispatch_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(ADMIN)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = f"postgresql+asyncpg://dispatch:dispatch@127.0.0.1:5432/{name}"
    await asyncio.to_thread(upgrade, ROOT / "services" / "dispatch", url)
    settings = DispatchSettings(database_url=url, optimise_interval_s=0, log_level="WARNING")
    runtime = ServiceRuntime(name="dispatch", settings=settings, metadata=metadata)
    planning = Planning(horizon_days=settings.horizon_days, window_minutes=settings.window_minutes)
    rng = random.Random(5)
    tenant = "bench"
    try:
        for s in SKILLS:
            await technicians.add_skill(uow=runtime.uow(), tenant_id=tenant, code=s, name=s)
        hours = WeeklyHours(tz="Asia/Shanghai", days={d: ("08:00", "20:00") for d in range(7)})
        for i in range(n_techs):
            await technicians.register_technician(
                uow=runtime.uow(),
                cmd=commands.RegisterTechnician(
                    tenant_id=tenant,
                    name=f"Tech {i}",
                    phone="+8613800000000",
                    home_lat=31.23 + rng.uniform(-0.27, 0.27),
                    home_lon=121.47 + rng.uniform(-0.27, 0.27),
                    skills={s: rng.randint(1, 3) for s in rng.sample(SKILLS, 3)},
                    hours=hours,
                    max_jobs_per_day=6,
                ),
            )
        latencies: list[float] = []
        assigned = 0
        for i in range(n_tickets):
            tid = f"T-bench-{i}"
            payload = TicketTriaged(  # a job is placed on triage
                ticket_id=tid,
                tenant_id=tenant,
                kind="repair",
                category="appliance",
                priority=rng.choice(["P1", "P2", "P3", "P3", "P4"]),
                path="on_site",
                required_skills=[rng.choice(SKILLS)],
                estimated_minutes=rng.choice([30, 60, 60, 90, 120, 180]),
                site=Site(lat=31.23 + rng.uniform(-0.27, 0.27), lon=121.47 + rng.uniform(-0.27, 0.27)),
                triaged_at=datetime.now(UTC),
            )
            env = new_envelope(payload, source="/fixflow/intake", subject=tid, tenant=tenant)
            t0 = time.perf_counter()
            job = await jobs.job_from_ticket(
                uow=runtime.uow(), consumer="dispatch.ticket_triaged", envelope=env, payload=payload, planning=planning
            )
            latencies.append(time.perf_counter() - t0)
            assigned += bool(job and job.status.value == "assigned")
        q = statistics.quantiles(latencies, n=100)
        print(
            f"immediate placement, {n_techs} technicians, {n_tickets} tickets in a row: "
            f"p50 {1000 * q[49]:.1f} ms, p95 {1000 * q[94]:.1f} ms, p99 {1000 * q[98]:.1f} ms, "
            f"max {1000 * max(latencies):.1f} ms; assigned {assigned}/{n_tickets}"
        )
    finally:
        await runtime.engine.dispose()
        await runtime.redis.aclose()
        conn = await asyncpg.connect(ADMIN)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=400)
    ap.add_argument("--technicians", type=int, default=300)
    a = ap.parse_args()
    asyncio.run(main(a.tickets, a.technicians))
