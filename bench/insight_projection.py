"""Insight benchmark: projection throughput, rebuild time and memory for one million events, and
the latency of a year of KPIs for one tenant with one million tickets (target < 200 ms).

1. One million events of a year of tickets (about 8 per ticket: opened, first-response verdict,
   assignment, arrival, completion, resolution, and for some a survey or an invoice) are put on a
   broker of the benchmark's own, in time order, keyed by ticket as the producers key them.
2. `python -m insight rebuild` replays them into a fresh database, as a separate process: its
   wall time is the rebuild time, events / time the projection throughput, and its peak RSS the
   memory (getrusage of the child).
3. A second tenant gets the daily aggregates of one million tickets over a year (the same
   contribution code the projector runs, summed per day in memory and copied in), then
   `views.kpi_figures` answers a year of KPIs: median and p95 of 20 runs, for the whole tenant,
   one technician, and grouped by month.

    .venv/bin/python bench/insight_projection.py [--events 1000000] [--tickets 1000000]

Needs PostgreSQL (make infra) and the Kafka jars (FIXFLOW_KAFKA_LIBS or .local/kafka/libs); starts
its own broker and drops its databases at the end. `--skip-rebuild` / `--skip-kpis` run one half.

Measured on the shared 2-core development VM (2026-11-30) while other engineers' suites kept the
load average between 20 and 45 (so every figure here is several times what an idle machine gives):
- a year of KPIs for one tenant with 1,000,000 tickets (1.58 M daily and monthly aggregate rows):
  whole tenant p50 46 ms, p95 68 ms (target < 200 ms); one technician p50 28 ms, p95 121 ms;
  by month p50 129 ms, p95 608 ms; by technician (300 groups) p50 3.2 s, p95 9.2 s.
- re-measured after the projector work (read path unchanged), partly beside an e2e run: whole tenant
  p50 16 ms, p95 26 ms; one technician p50 6 ms, p95 32 ms; by month p50 38 ms, p95 116 ms; by
  technician (300 groups) p50 3.8 s, p95 7.1 s.
- rebuild of 1,000,000 events (20,000 per transaction), load average 5 to 40: 846 s wall,
  1,181 events/s, peak RSS 677 MiB (producing them took 250 s). Before the projector's batching
  work: 200,000 events in 981 s, 204 events/s, peak RSS 419 MiB (5,000 per transaction).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer

from fixflow_shared.events import new_envelope
from fixflow_shared.events.contracts import billing, dispatch, intake, survey
from fixflow_shared.migrations import upgrade
from fixflow_shared.testing.infra import KafkaBroker
from fixflow_shared.topics import ensure_topics
from insight import views
from insight.bootstrap import build
from insight.config import InsightSettings
from insight.domain import contributions as C

ROOT = Path(__file__).resolve().parents[1]
PG = "postgresql://insight:insight@127.0.0.1:5432/insight"
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
MODELS = [f"KF-{n}" for n in range(20, 60, 2)]
REGIONS = [f"CN-{n}" for n in range(31, 41)]
CAUSES = ["compressor", "pcb", "sensor", "fan", "seal", "valve", "wiring", "firmware", "pump", "misuse"]
CHANNELS = ["phone", "web", "wechat", "email", "walk_in", "partner"]
TECHS = [f"K{n:03d}" for n in range(300)]


def team_of(tech: str) -> str:
    return f"TEAM-{int(tech[1:]) // 20:02d}"


def ticket_events(tenant: str, i: int, rng: random.Random, opened: datetime) -> list[tuple[Any, datetime]]:
    """The events of one ticket (about 8)."""
    tid, tech = f"T{i:07d}", rng.choice(TECHS)
    kind = "repair" if rng.random() < 0.75 else rng.choice(["installation", "maintenance"])
    out: list[tuple[Any, datetime]] = []
    out.append(
        (
            intake.TicketOpened(
                ticket_id=tid,
                tenant_id=tenant,
                kind=kind,
                channel=rng.choice(CHANNELS),
                symptom="s",
                opened_at=opened,
                asset_id=f"A{rng.randrange(i // 2 + 1):07d}",
                product_model=rng.choice(MODELS),
                production_batch=f"B{rng.randrange(200):03d}",
                site=intake.Site(region=rng.choice(REGIONS)),
                priority="P3",
            ),
            opened,
        )
    )
    responded = opened + timedelta(seconds=rng.expovariate(1 / 5400))
    out.append(
        (
            intake.SlaClockStopped(
                ticket_id=tid,
                tenant_id=tenant,
                clock="first_response",
                started_at=opened,
                stopped_at=responded,
                target_s=14400,
                elapsed_s=(responded - opened).total_seconds(),
                met=(responded - opened).total_seconds() <= 14400,
            ),
            responded,
        )
    )
    out.append(
        (
            dispatch.TechnicianAssigned(
                ticket_id=tid,
                tenant_id=tenant,
                job_id="J" + tid,
                work_order_id="W" + tid,
                technician_id=tech,
                technician_name=tech,
                team_id=team_of(tech),
                assigned_at=responded,
            ),
            responded,
        )
    )
    arrived = responded + timedelta(hours=rng.uniform(4, 40))
    out.append(
        (
            dispatch.VisitStarted(
                ticket_id=tid,
                tenant_id=tenant,
                work_order_id="W" + tid,
                technician_id=tech,
                visit_number=1,
                arrived_at=arrived,
                on_time=rng.random() < 0.88,
            ),
            arrived,
        )
    )
    done = arrived + timedelta(minutes=rng.uniform(20, 120))
    out.append(
        (
            dispatch.WorkOrderCompleted(
                ticket_id=tid,
                tenant_id=tenant,
                work_order_id="W" + tid,
                job_id="J" + tid,
                technician_id=tech,
                team_id=team_of(tech),
                visit_number=1,
                labour_minutes=45,
                resolution_code="replaced_part",
                sign_off=dispatch.CustomerSignOff(signed_by="x", signed_at=done, signature_sha256="0" * 64),
                first_time_fix=rng.random() < 0.8,
                fault_cause=rng.choice(CAUSES),
                parts_used=[dispatch.PartLine(part_code=f"P{rng.randrange(80):02d}", quantity=1)],
                completed_at=done,
            ),
            done,
        )
    )
    resolved = done + timedelta(minutes=5)
    out.append(
        (
            intake.TicketResolved(
                ticket_id=tid,
                tenant_id=tenant,
                kind=kind,
                resolution="work_order_completed",
                technician_id=tech,
                resolved_at=resolved,
            ),
            resolved,
        )
    )
    if rng.random() < 0.6:
        answered = resolved + timedelta(days=rng.uniform(1, 5))
        score = rng.choice([5, 5, 5, 4, 4, 3, 2, 1])
        out.append(
            (
                survey.SurveyCompleted(
                    survey_id="S" + tid,
                    ticket_id=tid,
                    tenant_id=tenant,
                    technician_id=tech,
                    team_id=team_of(tech),
                    scores={"overall": score},
                    nps=min(10, score * 2),
                    satisfied=score >= 4,
                    completed_at=answered,
                ),
                answered,
            )
        )
    if rng.random() < 0.6:
        out.append(
            (
                billing.InvoiceIssued(
                    invoice_id="I" + tid,
                    invoice_number=f"2025-{i}",
                    ticket_id=tid,
                    tenant_id=tenant,
                    service_kind="A",
                    currency="CNY",
                    subtotal_minor=15000,
                    tax_minor=0,
                    total_minor=15000,
                    issued_at=resolved,
                ),
                resolved,
            )
        )
    return out


# --- 1 + 2: one million events, rebuilt -------------------------------------------------------------


async def produce(bootstrap: str, tenant: str, events: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=20, max_batch_size=512 * 1024
    )
    await producer.start()
    sent, i = 0, 0
    spacing = 365 * 86400 / max(1, events / 8)
    try:
        while sent < events:
            opened = YEAR_START + timedelta(seconds=i * spacing)
            for payload, at in ticket_events(tenant, i, rng, opened):
                if sent >= events:
                    break
                e = new_envelope(payload, source="/bench", subject=payload.ticket_id, tenant=tenant, time=at)
                await producer.send(payload.topic, e.body(), key=e.key, headers=e.headers())
                sent += 1
            i += 1
        await producer.flush()
    finally:
        await producer.stop()
    return sent


def rebuild_in_a_process(bootstrap: str, database_url: str) -> tuple[float, float, str]:
    env = {
        **os.environ,
        "INSIGHT_DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "INSIGHT_REBUILD_BATCH": "20000",
        "FIXFLOW_TRACE_SQL": "false",
        "LOG_LEVEL": "WARNING",
    }
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "insight", "rebuild"], env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"rebuild failed: {proc.stderr[-2000:]}")
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak_mib, proc.stdout.strip()


# --- 3: a year of KPIs over one million tickets -----------------------------------------------------


def ticket_facts(i: int, rng: random.Random, opened: datetime) -> dict[str, Any]:
    """The facts the projector keeps for one ticket of the generator above (built directly)."""
    tech = rng.choice(TECHS)
    o = opened.timestamp()
    responded = o + rng.expovariate(1 / 5400)
    arrived = responded + rng.uniform(4, 40) * 3600
    done = arrived + rng.uniform(20, 120) * 60
    f: dict[str, Any] = {
        "opened_at": o,
        "kind": "repair" if rng.random() < 0.75 else "installation",
        "channel": rng.choice(CHANNELS),
        "product_model": rng.choice(MODELS),
        "region": rng.choice(REGIONS),
        "resolved_at": done + 300,
        "clocks": {
            "first_response:1": {
                "clock": "first_response",
                "started_at": o,
                "stopped_at": responded,
                "target_s": 14400,
                "elapsed_s": responded - o,
            }
        },
        "assigned": [responded, "e", {"technician_id": tech, "team_id": team_of(tech)}],
        "visits": {"W:1": {"at": arrived, "on_time": rng.random() < 0.88, "technician_id": tech}},
        "completions": {
            "W:1": {"at": done, "ftf": rng.random() < 0.8, "technician_id": tech, "team_id": team_of(tech)}
        },
    }
    if rng.random() < 0.6:
        f["surveys"] = {"S": {"at": done + rng.uniform(1, 5) * 86400, "score": rng.choice([5, 5, 4, 3, 1]), "nps": 8}}
    if rng.random() < 0.6:
        f["invoices"] = {"I": {"at": done, "minor": 15000, "currency": "CNY"}}
    return f


def _hist_json(h: dict[int, int] | None) -> str | None:
    return orjson.dumps({str(b): c for b, c in h.items()}).decode() if h else None


async def load_aggregates(database_url: str, tenant: str, tickets: int, seed: int = 11) -> int:
    """Aggregate the tickets' contributions per day in memory and copy them in, a day at a time."""
    rng = random.Random(seed)
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    per_day = tickets / 365
    written, i = 0, 0
    pending: dict[Any, Any] = {}
    monthly: dict[Any, Any] = {}
    try:
        for day in range(366):
            last = int(per_day * (day + 1)) if day < 365 else tickets
            while i < min(last, tickets):
                opened = YEAR_START + timedelta(days=day, seconds=rng.uniform(0, 86400))
                C.aggregate(C.ticket_rows(ticket_facts(i, rng, opened), None), into=pending)
                i += 1
            # contributions land on later days too (resolution, surveys): flush what no ticket can reach any more
            cutoff = (YEAR_START + timedelta(days=day - 10)).date()
            done = [k for k in pending if k[0] < cutoff] if day < 365 else list(pending)
            rows = []
            for k in done:
                n, total, hist = pending.pop(k)
                rows.append((tenant, k[1], k[2][:120], k[0], k[3], int(n), float(total), _hist_json(hist)))
                cell = monthly.setdefault((k[0].replace(day=1), *k[1:]), [0, 0.0, {}])
                cell[0] += n
                cell[1] += total
                for b, c in (hist or {}).items():
                    cell[2][b] = cell[2].get(b, 0) + c
            if rows:
                await conn.copy_records_to_table(
                    "kpi_daily",
                    records=rows,
                    columns=["tenant_id", "dim", "dim_value", "day", "metric", "n", "total", "hist"],
                )
                written += len(rows)
        rows = [
            (tenant, k[1], k[2][:120], k[0], k[3], int(n), float(total), _hist_json(hist))
            for k, (n, total, hist) in monthly.items()
        ]
        await conn.copy_records_to_table(
            "kpi_monthly",
            records=rows,
            columns=["tenant_id", "dim", "dim_value", "day", "metric", "n", "total", "hist"],
        )
        written += len(rows)
        await conn.execute("ANALYZE kpi_daily")
        await conn.execute("ANALYZE kpi_monthly")
    finally:
        await conn.close()
    return written


async def kpi_latency(database_url: str, tenant: str, runs: int = 20) -> dict[str, tuple[float, float]]:
    runtime, _ = build(
        InsightSettings(
            database_url=database_url, run_consumers=False, run_relay=False, run_timers=False, trace_sql=False
        )
    )
    start, end = date(2025, 1, 1), date(2026, 1, 1)
    cases = {
        "year, whole tenant": {},
        "year, one technician": {"dim": "technician", "value": TECHS[7]},
        "year, by month": {"group_by": "month"},
        "year, by technician (300)": {"group_by": "technician"},
    }
    out: dict[str, tuple[float, float]] = {}
    try:
        for name, kw in cases.items():
            await views.kpi_figures(uow=runtime.uow(), tenant=tenant, start=start, end=end, **kw)  # warm
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                figures = await views.kpi_figures(uow=runtime.uow(), tenant=tenant, start=start, end=end, **kw)
                times.append((time.perf_counter() - t0) * 1000)
            if name == "year, whole tenant":
                assert figures["tickets"]["opened"] > 0
                print(f"    (a year: {figures['tickets']['opened']:,} tickets opened)")
            times.sort()
            out[name] = (statistics.median(times), times[int(0.95 * (len(times) - 1))])
    finally:
        await runtime.engine.dispose()
    return out


async def fresh_database() -> str:
    name = f"bench_insight_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(PG)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = f"postgresql+asyncpg://insight:insight@127.0.0.1:5432/{name}"
    await asyncio.to_thread(upgrade, ROOT / "services" / "insight", url)
    return url


async def drop(url: str) -> None:
    conn = await asyncpg.connect(PG)
    await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    await conn.close()


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--tickets", type=int, default=1_000_000)
    p.add_argument("--skip-rebuild", action="store_true")
    p.add_argument("--skip-kpis", action="store_true")
    args = p.parse_args()
    if not args.skip_rebuild:
        broker = KafkaBroker(root=ROOT)
        broker.start()
        url = await fresh_database()
        try:
            await ensure_topics(broker.bootstrap)
            t0 = time.perf_counter()
            sent = await produce(broker.bootstrap, "bench-events", args.events)
            print(f"produced {sent:,} events in {time.perf_counter() - t0:.0f} s")
            seconds, peak, said = rebuild_in_a_process(broker.bootstrap, url)
            print(f"  {said}")
            print(
                f"rebuild of {sent:,} events: {seconds:.0f} s wall (process start included), "
                f"{sent / seconds:,.0f} events/s projected, peak RSS {peak:.0f} MiB"
            )
        finally:
            broker.cleanup()
            await drop(url)
    if args.skip_kpis:
        return
    url = await fresh_database()
    try:
        t0 = time.perf_counter()
        rows = await load_aggregates(url, "bench-kpis", args.tickets)
        print(f"daily aggregates of {args.tickets:,} tickets: {rows:,} rows, built in {time.perf_counter() - t0:.0f} s")
        for name, (p50, p95) in (await kpi_latency(url, "bench-kpis")).items():
            print(f"  {name:28s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
    finally:
        await drop(url)


if __name__ == "__main__":
    asyncio.run(main())
