"""The dispatcher board at scale: 300 technicians and 2,000 appointments on one day, and how fast a
change made elsewhere reaches an open board.

Runs a Kafka broker of its own, dispatch and the console as processes (a throw-away dispatch
database on the local PostgreSQL, Redis as configured), seeds the day through dispatch's own
repository, then:

- board: GET /board for that day (day view) and its week, as a signed-in dispatcher, N times:
  response time at the client on loopback (= server time plus a loopback hop) and the console's
  own split (fetching from dispatch, layout);
- live: an open event stream (GET /live) while appointments are confirmed one by one through
  dispatch's API: from the request that makes the change to the event arriving at the board, and
  to the board having fetched the moved bar (what the page's script does next).

Targets (docs/adr/0012-console-server-rendered-htmx.md): the board under 1 s of server time; a change
visible on an open board within 1 s (p95).

    deploy/local/infra.sh start-stores
    .venv/bin/python bench/console_board.py [--technicians 300] [--appointments 2000] [--events 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared" / "src"))
sys.path.insert(0, str(ROOT / "services" / "dispatch" / "src"))

from dispatch.adapters.orm import metadata  # noqa: E402
from dispatch.adapters.repository import Repository  # noqa: E402
from dispatch.config import DispatchSettings  # noqa: E402
from dispatch.domain import commands  # noqa: E402
from dispatch.domain.model import Appointment, Job, JobStatus, WeeklyHours, WorkOrder, new_id  # noqa: E402
from dispatch.service_layer import handlers  # noqa: E402
from fixflow_shared.migrations import upgrade  # noqa: E402
from fixflow_shared.runtime import ServiceRuntime  # noqa: E402
from fixflow_shared.testing.infra import KafkaBroker  # noqa: E402
from fixflow_shared.testing.processes import ServiceProcess  # noqa: E402
from fixflow_shared.topics import ensure_topics  # noqa: E402

ADMIN = "postgresql://dispatch:dispatch@127.0.0.1:5432/dispatch"
TENANT = "bench-board"
SKILLS = ["washer", "fridge", "aircon", "oven", "dishwasher", "tv"]
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def pct(xs: list[float], p: int) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[p - 1] if len(xs) > 1 else xs[0]


def figures(name: str, xs: list[float]) -> str:
    return (
        f"{name}: p50 {1000 * pct(xs, 50):.0f} ms, p95 {1000 * pct(xs, 95):.0f} ms, "
        f"max {1000 * max(xs):.0f} ms (n={len(xs)})"
    )


async def seed(url: str, n_techs: int, n_appts: int, day_start: datetime) -> list[str]:
    """Technicians working around the clock, and n_appts booked visits spread over the day."""
    settings = DispatchSettings(database_url=url, optimise_interval_s=0, log_level="WARNING")
    runtime = ServiceRuntime(name="dispatch", settings=settings, metadata=metadata)
    rng = random.Random(7)
    try:
        for s in SKILLS:
            await handlers.add_skill(uow=runtime.uow(), tenant_id=TENANT, code=s, name=s)
        hours = WeeklyHours(tz="UTC", days={d: ("00:00", "23:59") for d in range(7)})
        techs = []
        for i in range(n_techs):
            t = await handlers.register_technician(
                uow=runtime.uow(),
                cmd=commands.RegisterTechnician(
                    tenant_id=TENANT,
                    name=f"Tech {i:03d}",
                    phone=None,
                    home_lat=31.23 + rng.uniform(-0.27, 0.27),
                    home_lon=121.47 + rng.uniform(-0.27, 0.27),
                    skills={s: rng.randint(1, 3) for s in rng.sample(SKILLS, 3)},
                    hours=hours,
                    max_jobs_per_day=12,
                ),
            )
            techs.append(t.id)
        appointment_ids = []
        uow = runtime.uow()
        async with uow:
            await uow.scope_to_tenant(TENANT)
            repo = Repository(uow.session, TENANT, uow.clock)
            for i in range(n_appts):
                tech = techs[i % n_techs]
                slot = i // n_techs  # each technician's visits one after the other through the day
                start = day_start + timedelta(hours=1 + slot * 2, minutes=rng.choice([0, 30]))
                job = Job(
                    id=new_id("JOB"),
                    tenant_id=TENANT,
                    ticket_id=f"T-board-{i:05d}",
                    kind=rng.choice(["repair", "installation", "maintenance"]),
                    status=JobStatus.ASSIGNED,
                    priority=rng.choice(["P1", "P2", "P3", "P3", "P4"]),
                    required_skills={rng.choice(SKILLS): 1},
                    lat=31.23 + rng.uniform(-0.27, 0.27),
                    lon=121.47 + rng.uniform(-0.27, 0.27),
                    duration_min=60,
                    sla_deadline=start + timedelta(hours=24),
                    visits=1,
                    created_at=datetime.now(UTC),
                )
                await repo.add_job(job)
                a = Appointment(
                    id=new_id("APT"),
                    tenant_id=TENANT,
                    job_id=job.id,
                    ticket_id=job.ticket_id,
                    technician_id=tech,
                    window_start=start,
                    window_end=start + timedelta(minutes=90),
                    visit_number=1,
                )
                await repo.add_appointment(a)
                await repo.add_work_order(
                    WorkOrder(
                        id=new_id("WO"),
                        tenant_id=TENANT,
                        job_id=job.id,
                        ticket_id=job.ticket_id,
                        technician_id=tech,
                        visit_number=1,
                        appointment_id=a.id,
                        planned_start=start + timedelta(minutes=10),
                        planned_end=start + timedelta(minutes=70),
                        travel_min=10.0,
                        explanation="seeded",
                    )
                )
                appointment_ids.append(a.id)
            await uow.commit()
        return appointment_ids
    finally:
        await runtime.engine.dispose()
        await runtime.redis.aclose()


async def dispatch_times(dispatch: str, day_start: datetime) -> None:
    """What the board asks dispatch for, each alone (the console asks them at once)."""
    from fixflow_shared.testing import auth_headers

    period = {"start": day_start.isoformat(), "end": (day_start + timedelta(days=1)).isoformat()}
    calls = {
        "technicians": ("/v1/technicians", {}),
        "appointments of the day": ("/v1/appointments", period),
        "open jobs": ("/v1/jobs", {"status": "open", "limit": 500}),
    }
    async with httpx.AsyncClient(base_url=dispatch, headers=auth_headers(TENANT, "dispatcher"), timeout=60) as api:
        for name, (path, params) in calls.items():
            times = []
            for _ in range(4):
                t0 = time.perf_counter()
                r = await api.get(path, params=params)
                times.append(time.perf_counter() - t0)
                assert r.status_code == 200, r.text[:200]
            print(
                f"  dispatch {name}: {1000 * min(times[1:]):.0f}-{1000 * max(times[1:]):.0f} ms, {len(r.content) // 1024} KiB"
            )


async def sign_in(client: httpx.AsyncClient) -> str:
    page = await client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = await client.post(
        "/login/dev", data={"tenant": TENANT, "name": "bench", "roles": ["dispatcher"], "csrf_token": token}
    )
    assert r.status_code == 303, r.text
    return r.headers["location"]


async def board_times(client: httpx.AsyncClient, day: str, view: str, n: int) -> tuple[list[float], list[str], int]:
    times, split = [], []
    bars = 0
    for _ in range(n):
        t0 = time.perf_counter()
        r = await client.get("/board", params={"day": day, "view": view})
        times.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.text[:300]
        split.append(r.headers.get("server-timing", ""))
        bars = r.text.count('class="bar"')
    return times, split, bars


async def live_latency(
    client: httpx.AsyncClient, dispatch: str, appointment_ids: list[str], day: str, n: int
) -> tuple[list[float], list[float]]:
    """Confirm appointments one at a time; time until the board's stream says so, and until the board
    has fetched the bar that changed."""
    from fixflow_shared.testing import auth_headers

    headers = auth_headers(TENANT, "dispatcher")
    arrived: dict[str, float] = {}
    ready = asyncio.Event()

    async def listen() -> None:
        async with client.stream("GET", "/live", timeout=None) as r:
            event = None
            async for line in r.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                    if event == "hello":
                        ready.set()
                elif line.startswith("data:") and event == "board":
                    data = json.loads(line[5:])
                    if data.get("appointment_id"):
                        arrived.setdefault(data["appointment_id"], time.perf_counter())

    listener = asyncio.create_task(listen())
    await asyncio.wait_for(ready.wait(), 10)
    event_s, bar_s = [], []
    async with httpx.AsyncClient(base_url=dispatch, headers=headers, timeout=30) as api:
        for appt in appointment_ids[:n]:
            t0 = time.perf_counter()
            r = await api.post(f"/v1/appointments/{appt}/confirm")
            assert r.status_code == 200, r.text
            job_id = r.json()["job_id"]
            deadline = time.monotonic() + 10
            while appt not in arrived and time.monotonic() < deadline:
                await asyncio.sleep(0.002)
            if appt not in arrived:
                print(f"  event for {appt} did not arrive within 10 s")
                continue
            event_s.append(arrived[appt] - t0)
            got = await client.get("/board/job", params={"job_id": job_id, "day": day, "view": "day"})
            assert got.status_code == 200 and got.json()["place"] == "lane", got.text[:200]
            bar_s.append(time.perf_counter() - t0)
            await asyncio.sleep(0.05)
    listener.cancel()
    return event_s, bar_s


async def main(n_techs: int, n_appts: int, n_events: int, rounds: int) -> None:
    broker = KafkaBroker(root=ROOT)
    broker.start()
    name = f"dispatch_board_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(ADMIN)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    procs: list[ServiceProcess] = []
    try:
        await ensure_topics(broker.bootstrap)
        url = f"postgresql+asyncpg://dispatch:dispatch@127.0.0.1:5432/{name}"
        await asyncio.to_thread(upgrade, ROOT / "services" / "dispatch", url)
        day = (datetime.now(UTC) + timedelta(days=1)).date()
        day_start = datetime.combine(day, datetime.min.time(), UTC)
        t0 = time.perf_counter()
        appointment_ids = await seed(url, n_techs, n_appts, day_start)
        print(
            f"seeded {n_techs} technicians and {len(appointment_ids)} appointments on {day} in {time.perf_counter() - t0:.1f} s"
        )
        logs = Path(tempfile.mkdtemp(prefix="console-bench-"))
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
            "REDIS_URL": REDIS_URL,
            "FIXFLOW_ENV": "test",
            "LOG_LEVEL": "WARNING",
            "FIXFLOW_TRACE_SQL": "false",
        }
        dispatch = ServiceProcess(
            "dispatch", {**env, "DISPATCH_DATABASE_URL": url, "DISPATCH_OPTIMISE_INTERVAL_S": "0"}, logs
        )
        dispatch.start()
        procs.append(dispatch)
        console = ServiceProcess(
            "console",
            {
                **env,
                "CONSOLE_DISPATCH_URL": dispatch.url,
                "CONSOLE_TIMEZONE": "UTC",
                "CONSOLE_BOARD_HOURS": "[0, 24]",
                **{f"CONSOLE_{s}_URL": "http://127.0.0.1:9" for s in ("INTAKE", "BILLING", "SURVEY", "NOTIFY")},
            },
            logs,
        )
        console.start()
        procs.append(console)
        await dispatch_times(dispatch.url, day_start)
        async with httpx.AsyncClient(base_url=console.url, timeout=60, headers={"Accept-Language": "en"}) as client:
            await sign_in(client)
            await board_times(client, day.isoformat(), "day", 2)  # warm up both processes
            times, split, bars = await board_times(client, day.isoformat(), "day", rounds)
            print(figures(f"board, day view, {n_techs} technicians x {bars} visits", times))
            print(f"  console's Server-Timing, last 3: {' | '.join(split[-3:])}")
            wtimes, wsplit, wbars = await board_times(client, day.isoformat(), "week", max(3, rounds // 2))
            print(figures(f"board, week view, {wbars} visits", wtimes))
            print(f"  Server-Timing, last 2: {' | '.join(wsplit[-2:])}")
            event_s, bar_s = await live_latency(client, dispatch.url, appointment_ids, day.isoformat(), n_events)
            print(figures("live: change made (dispatch API) -> event at the open board", event_s))
            print(figures("live: change made -> board has the moved bar", bar_s))
            within = sum(1 for x in bar_s if x < 1.0) / max(len(bar_s), 1)
            print(f"  {100 * within:.0f} % of changes on the board within 1 s")
    finally:
        for p in reversed(procs):
            p.stop()
        broker.cleanup()
        conn = await asyncpg.connect(ADMIN)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--technicians", type=int, default=300)
    ap.add_argument("--appointments", type=int, default=2000)
    ap.add_argument("--events", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=10)
    a = ap.parse_args()
    asyncio.run(main(a.technicians, a.appointments, a.events, a.rounds))
