"""Faults at scale: three brokers, two replicas of each service, one fault at a time under load.

    .venv/bin/python bench/chaos.py [--rate 2] [--seconds 30] [--faults all|kill,broker,freeze,pg,redis]
    .venv/bin/python bench/chaos.py --soak-minutes 20        # no faults: memory and latency over time

It starts (all of its own): a three-broker KRaft cluster (fixflow_shared.testing.cluster: replication
3, min.insync.replicas 2; every producer of the services uses acks=all with idempotence), fresh
migrated databases of intake, dispatch, billing, survey and notify on the local PostgreSQL, two
processes of each of those services (`python -m <svc> serve`, one consumer member each, so each
group has two members in two processes), an SMTP sink that records every email, and drives the
full lifecycle of bench/lifecycle.py (open -> assigned -> visit -> invoice -> survey -> closed) at
`--rate` tickets per second, through a client-side balancer over the two replicas of each service
(a request a dead replica cannot take goes to the other; a 5xx is sent again with the same
Idempotency-Key, as a real client does).

Each fault is one phase: `--seconds` of load, the fault `--lead` seconds in, then the phase's
tickets are awaited and the invariants checked (docs/reliability.md):
  kill:<svc>:<n>  kill -9 of one replica, restarted 3 s later (as an orchestrator would)
  broker          kill -9 of the broker leading the most partitions, restarted 10 s later
  freeze          SIGSTOP of a dispatch replica for session timeout + 6 s, then SIGCONT
  pg              `pg_ctlcluster <ver> main restart -m fast` (the machine's shared cluster!)
  redis           the chaos Redis (--redis-port) shut down without saving and started empty

One table: fault, load, tickets, lost, duplicated, recovery seconds (see `recovery` below).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "shared" / "src"))

import lifecycle as lc  # noqa: E402

from fixflow_shared import topics  # noqa: E402

SERVICES = lc.SERVICES
PG_VERSION = os.environ.get("PG_VERSION", "15")
SESSION_TIMEOUT_S = 6.0  # fixflow_shared.consumer
# Causal hops (upstream on Kafka -> downstream written): a hop slower than --late-ms is a stall.
HOPS = (
    (lc.TRIAGED, lc.ASSIGNED),
    (lc.COMPLETED, lc.RESOLVED),
    (lc.COMPLETED, lc.INVOICED),
    (lc.RESOLVED, lc.SCHEDULED),
    (lc.ANSWERED, lc.CLOSED),
    (lc.OPENED, lc.TRIAGED),
)


# ------------------------------------------------------------------------------------ environment


class Mailbox:
    """An SMTP sink that keeps each email's delivery id and ticket (X-Fixflow-Delivery / -Ticket)."""

    def __init__(self) -> None:
        from email import message_from_bytes

        from aiosmtpd.controller import Controller

        from fixflow_shared.testing.infra import free_port

        self.deliveries: Counter[str] = Counter()
        self.message_ids: dict[str, set[str]] = {}  # delivery id -> Message-IDs it came with
        self.received: dict[str, list[tuple[float, str]]] = {}  # delivery id -> (time, ticket) per copy
        box = self

        class Keep:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                msg = message_from_bytes(envelope.content)
                key = msg.get("X-Fixflow-Delivery", "?")
                box.deliveries[key] += len(envelope.rcpt_tos)
                box.message_ids.setdefault(key, set()).add(msg.get("Message-ID", ""))
                box.received.setdefault(key, []).append((time.time(), msg.get("X-Fixflow-Ticket", "")))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Keep(), hostname="127.0.0.1", port=self.port)


class Replica:
    """One service process; replicas of a service share its database and consumer groups."""

    def __init__(self, name: str, index: int, env: dict[str, str], logs: Path) -> None:
        from fixflow_shared.testing.processes import ServiceProcess

        self.name, self.index = name, index
        self.proc = ServiceProcess(name, env, logs / f"{name}-{index}")

    @property
    def label(self) -> str:
        return f"{self.name}#{self.index}"

    def pid(self) -> int | None:
        p = self.proc.proc
        return p.pid if p is not None and p.poll() is None else None

    def alive(self) -> bool:
        return self.pid() is not None


class Balancer(httpx.AsyncBaseTransport):
    """http://<service>/... goes to a live replica of <service>, round robin. A connection refused
    goes to the next replica at once; a 5xx or 409 "request in progress" (or no replica answering) is sent again after a pause,
    up to `patience` seconds, with the request's own Idempotency-Key. `stalls` records when a
    request needed that patience (the client's view of a fault)."""

    def __init__(self, replicas: dict[str, list[Replica]], patience: float = 60.0) -> None:
        self.replicas = replicas
        self.inner = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=128, max_keepalive_connections=64))
        self.patience = patience
        self.turn: Counter[str] = Counter()
        self.stalls: list[tuple[float, float, str]] = []  # (started, finished, what)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        svc = request.url.host
        started = time.monotonic()
        await request.aread()
        pause, last = 0.1, "no replica"
        while True:
            for _ in range(len(self.replicas[svc])):
                self.turn[svc] += 1
                r = self.replicas[svc][self.turn[svc] % len(self.replicas[svc])]
                if not r.alive():
                    continue
                url = request.url.copy_with(scheme="http", host="127.0.0.1", port=r.proc.port)
                attempt = httpx.Request(request.method, url, headers=request.headers, content=request.content)
                try:
                    resp = await self.inner.handle_async_request(attempt)
                except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError, httpx.ReadTimeout) as exc:
                    last = f"{r.label}: {exc!r}"
                    continue
                # 409 "request in progress": the first request with this key is still running (or
                # its replica died with the claim: the claim is a lease that lapses in seconds).
                in_progress = resp.status_code == 409 and "request-in-progress" in (await resp.aread()).decode(
                    errors="replace"
                )
                if resp.status_code < 500 and not in_progress:
                    if pause > 0.1:
                        path = "/".join(request.url.path.split("/")[:4])  # no ids or tokens
                        self.stalls.append((started, time.monotonic(), f"{request.method} {svc}{path}"))
                    return resp
                await resp.aread()
                last = f"{r.label}: {resp.status_code} {resp.content[:200]!r}"
                await resp.aclose()
            if time.monotonic() - started > self.patience:
                raise httpx.ConnectError(f"{svc}: no replica took {request.method} {request.url.path}: {last}")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Env:
    cluster: Any
    replicas: dict[str, list[Replica]]
    databases: dict[str, str]  # service -> database name
    mailbox: Mailbox
    redis_port: int
    logs: Path

    @property
    def all(self) -> list[Replica]:
        return [r for rs in self.replicas.values() for r in rs]


@contextlib.contextmanager
def environment(args: argparse.Namespace, services: tuple[str, ...] = SERVICES):  # type: ignore[no-untyped-def]
    from fixflow_shared.migrations import upgrade
    from fixflow_shared.testing.cluster import KafkaCluster

    stack = contextlib.ExitStack()
    dbs: dict[str, str] = {}
    env_obj: Env | None = None
    try:
        t0 = time.monotonic()
        cluster = KafkaCluster(ROOT, memory_watch=bool(args.soak_minutes))
        stack.callback(cluster.cleanup)
        cluster.start()
        print(f"[chaos] three brokers up, topics at RF 3 / min ISR 2 in {time.monotonic() - t0:.0f} s", flush=True)
        mailbox = Mailbox()
        mailbox.controller.start()
        stack.callback(mailbox.controller.stop)
        if not args.redis_port:
            from fixflow_shared.testing.infra import free_port

            args.redis_port = free_port()
        if not _redis_ping(args.redis_port):
            _redis_start(args.redis_port)
            stack.callback(_redis_stop, args.redis_port)
        subprocess.run(
            ["redis-cli", "-p", str(args.redis_port), "-n", "12", "flushdb"], check=True, capture_output=True
        )
        logs = Path(tempfile.mkdtemp(prefix="fixflow-chaos-"))
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": cluster.bootstrap,
            "REDIS_URL": f"redis://127.0.0.1:{args.redis_port}/12",
            "FIXFLOW_ENV": "test",
            "LOG_LEVEL": "WARNING",
            "NOTIFY_SMTP_HOST": "127.0.0.1",
            "NOTIFY_SMTP_PORT": str(mailbox.port),
            "SURVEY_TIMER_POLL_S": "0.2",
            "SURVEY_PUBLIC_RATE_PER_MINUTE": "1000000",
            "SURVEY_PUBLIC_RATE_PER_CLIENT_PER_MINUTE": "1000000",
            "OTEL_SDK_DISABLED": "true",
            **{f"{s.upper()}_CONSUMER_MEMBERS": "1" for s in services},
            **{f"{s.upper()}_RELAY_POLL_INTERVAL_S": "0.2" for s in services},
        }
        replicas: dict[str, list[Replica]] = {}
        for name in services:
            db = f"{name}_chaos_{uuid.uuid4().hex[:8]}"
            asyncio.run(lc.admin_sql(name, f'CREATE DATABASE "{db}"'))
            dbs[name] = db
            url = f"postgresql+asyncpg://{name}:{name}@127.0.0.1:5432/{db}"
            upgrade(ROOT / "services" / name, url)
            replicas[name] = [Replica(name, i, {**env, f"{name.upper()}_DATABASE_URL": url}, logs) for i in (1, 2)]
        survey_answers = "http://survey/v1/public/surveys/"  # the balancer's address of survey
        for r in replicas.get("survey", []):
            r.proc.env["SURVEY_ANSWER_URL_BASE"] = survey_answers
        env_obj = Env(cluster, replicas, dbs, mailbox, args.redis_port, logs)
        for r in env_obj.all:
            r.proc.start(timeout=120)
        print(
            f"[chaos] {len(env_obj.all)} service processes up in {time.monotonic() - t0:.0f} s (logs: {logs})",
            flush=True,
        )
        yield env_obj
    finally:
        if env_obj is not None:
            for r in env_obj.all:
                if r.pid():
                    os.kill(r.pid(), signal.SIGCONT)  # a frozen one must be able to stop
                r.proc.stop()
        for name, db in dbs.items():
            with contextlib.suppress(Exception):
                asyncio.run(lc.admin_sql(name, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        stack.close()


def _redis_ping(port: int) -> bool:
    r = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, check=False)
    return "PONG" in r.stdout


def _redis_stop(port: int) -> None:
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], check=False, capture_output=True)


def _redis_start(port: int) -> None:
    if _redis_ping(port):
        return
    subprocess.run(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--daemonize", "yes"],
        check=True,
        capture_output=True,
    )
    for _ in range(100):
        if _redis_ping(port):
            return
        time.sleep(0.1)
    raise RuntimeError(f"redis on {port} did not start")


# ------------------------------------------------------------------------------------------ faults


@dataclass
class Fault:
    name: str
    started: float = 0.0  # monotonic
    ended: float = 0.0  # when the faulted component was back
    note: str = ""
    zombie_log: tuple[Path, int] | None = None  # a resumed replica's log, from where it resumed


async def inject(env: Env, fault: str, stats: Fault) -> None:
    """Apply one fault and undo it (restart, resume) as production would; returns once undone."""
    loop = asyncio.get_running_loop()
    stats.started = time.monotonic()
    if fault.startswith("kill:"):
        _, svc, n = fault.split(":")
        r = env.replicas[svc][int(n) - 1]
        r.proc.kill()
        await asyncio.sleep(3.0)
        await loop.run_in_executor(None, lambda: r.proc.start(timeout=120))
    elif fault == "broker":
        node = await env.cluster.busiest_leader()
        stats.note = f"node {node}"
        env.cluster.kill(node)
        await asyncio.sleep(10.0)
        await loop.run_in_executor(None, env.cluster.start_node, node)
        await env.cluster.wait_fully_replicated()
    elif fault == "freeze":
        r = env.replicas["dispatch"][0]
        pid = r.pid()
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        await asyncio.sleep(SESSION_TIMEOUT_S + 6.0)
        stats.zombie_log = (r.proc.log_path, r.proc.log_path.stat().st_size)
        os.kill(pid, signal.SIGCONT)
        stats.note = f"{r.label} frozen {SESSION_TIMEOUT_S + 6:.0f} s"
    elif fault == "pg":
        await loop.run_in_executor(
            None,
            lambda: subprocess.run(["pg_ctlcluster", PG_VERSION, "main", "restart", "-m", "fast"], check=True),
        )
    elif fault == "redis":
        _redis_stop(env.redis_port)
        await asyncio.sleep(2.0)
        _redis_start(env.redis_port)
    elif fault != "none":
        raise ValueError(f"unknown fault {fault}")
    stats.ended = time.monotonic()


# ------------------------------------------------------------------------------------- invariants


def zombie_refusals(stats: Fault) -> dict[str, int]:
    """What the resumed (frozen) replica was refused, from its log since SIGCONT: offset commits
    of a generation the group had moved past (aiokafka: "OffsetCommit failed ... will rejoin" /
    CommitFailedError), and an outbox relay batch whose session its lease had ended. Zero when it
    was frozen between batches: then it had nothing stale to commit."""
    if stats.zombie_log is None:
        return {}
    path, start = stats.zombie_log
    with path.open("rb") as f:
        f.seek(start)
        text = f.read().decode(errors="replace")
    return {
        "offset commits refused": text.count("OffsetCommit failed"),
        "relay batches refused": text.count("idle-in-transaction timeout"),
    }


async def _conn(env: Env, svc: str) -> asyncpg.Connection:
    for _ in range(60):  # the database may be restarting (the pg fault)
        try:
            return await asyncpg.connect(f"postgresql://{svc}:{svc}@127.0.0.1:5432/{env.databases[svc]}")
        except (OSError, asyncpg.PostgresError):
            await asyncio.sleep(0.5)
    raise RuntimeError(f"database of {svc} unreachable")


async def _per_tenant(conn: asyncpg.Connection, tenants: list[str], sql: str) -> list[Any]:
    rows: list[Any] = []
    for t in tenants:
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", t)
            rows.extend(await conn.fetch(sql))
    return rows


async def unsent_outbox(env: Env) -> dict[str, int]:
    out = {}
    for svc in env.databases:
        conn = await _conn(env, svc)
        try:
            out[svc] = int(await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
        finally:
            await conn.close()
    return out


async def consumer_lag(env: Env) -> dict[str, int]:
    """Records not yet committed by each service's groups, over every topic they read."""
    from aiokafka.admin import AIOKafkaAdminClient

    from fixflow_shared.testing.kafka import end_offsets

    ends: dict[tuple[str, int], int] = {}
    for t in topics.DOMAIN_TOPICS:
        for rec in await end_offsets(env.cluster.bootstrap, t):
            ends[(rec.topic, rec.partition)] = rec.offset + 1
    admin = AIOKafkaAdminClient(bootstrap_servers=env.cluster.bootstrap)
    await admin.start()
    try:
        groups = [g[0] for g in await admin.list_consumer_groups()]
        lag: dict[str, int] = {}
        for g in groups:
            offs = await admin.list_consumer_group_offsets(g)
            read = {tp.topic for tp in offs}
            lag[g] = sum(
                end - (offs[tp].offset if (tp := _tp(t, p)) in offs else 0) for (t, p), end in ends.items() if t in read
            )
        return lag
    finally:
        await admin.close()


def _tp(topic: str, partition: int) -> Any:
    from aiokafka import TopicPartition

    return TopicPartition(topic, partition)


async def dead_letters(env: Env) -> int:
    from fixflow_shared.testing.kafka import end_offsets

    total = 0
    for t in topics.DOMAIN_TOPICS:
        total += sum(r.offset + 1 for r in await end_offsets(env.cluster.bootstrap, topics.dlq(t)))
    return total


async def duplicates(env: Env, tenants: list[str]) -> dict[str, int]:
    """Effects applied more than once, over the whole run (each should be 0)."""
    out: dict[str, int] = {}
    if "billing" in env.databases:
        c = await _conn(env, "billing")
        try:
            rows = await _per_tenant(c, tenants, "SELECT tenant_id, work_order_id, ticket_id, year, seq FROM invoices")
        finally:
            await c.close()
        out["invoices per work order"] = sum(n - 1 for n in Counter((r[0], r[1]) for r in rows).values())
        out["invoices per ticket"] = sum(n - 1 for n in Counter((r[0], r[2]) for r in rows).values())
        gaps = 0
        for key in {(r[0], r[3]) for r in rows}:
            seqs = sorted(r[4] for r in rows if (r[0], r[3]) == key)
            gaps += seqs[-1] - seqs[0] + 1 - len(set(seqs)) + (len(seqs) - len(set(seqs)))
        out["invoice number gaps"] = gaps
    if "survey" in env.databases:
        c = await _conn(env, "survey")
        try:
            rows = await _per_tenant(c, tenants, "SELECT tenant_id, ticket_id, round FROM surveys")
        finally:
            await c.close()
        out["surveys per ticket"] = sum(n - 1 for n in Counter(tuple(r) for r in rows).values())
    if "dispatch" in env.databases:
        c = await _conn(env, "dispatch")
        try:
            rows = await _per_tenant(c, tenants, "SELECT tenant_id, ticket_id FROM work_orders")
        finally:
            await c.close()
        out["work orders per ticket"] = sum(n - 1 for n in Counter(tuple(r) for r in rows).values())
    # One delivery id is one message. Sent again under the same Message-ID it is the documented
    # at-least-once window of SMTP (a replica killed between the send and its mark: notify's
    # handlers.py), which receivers drop by Message-ID: counted apart, as "resent", not as an effect
    # applied twice. Under another Message-ID it would be a second message: a duplicate.
    out["emails per delivery (new Message-ID)"] = sum(len(ids) - 1 for ids in env.mailbox.message_ids.values())
    return out


def resent(env: Env) -> int:
    """Emails sent again under the same Message-ID (see duplicates)."""
    return sum(n - 1 for n in env.mailbox.deliveries.values())


async def pending_deliveries(env: Env, tenants: list[str]) -> int:
    if "notify" not in env.databases:
        return 0
    c = await _conn(env, "notify")
    try:
        rows = await _per_tenant(c, tenants, "SELECT count(*) FROM deliveries WHERE status = 'pending'")
    finally:
        await c.close()
    return sum(int(r[0]) for r in rows)


async def statuses(env: Env, tenants: list[str], ids: list[str]) -> Counter[str]:
    c = await _conn(env, "intake")
    try:
        rows = await _per_tenant(c, tenants, "SELECT id, status FROM tickets")
    finally:
        await c.close()
    by_id = {r[0]: r[1] for r in rows}
    return Counter(by_id.get(i, "missing") for i in ids)


async def insight_gap(env: Env, c: httpx.AsyncClient, tenants: list[str]) -> dict[str, int]:
    """insight's projection against intake's truth (with --services ...,insight): for each tenant,
    the tickets opened and resolved today (UTC) as GET /v1/kpis counts them, minus intake's own
    count; asked of both insight replicas (the balancer alternates). Positive: an event projected
    twice; negative: one missing. Empty without insight."""
    if "insight" not in env.replicas:
        return {}
    from datetime import UTC, datetime, timedelta

    from fixflow_shared.testing import auth_headers

    conn = await _conn(env, "intake")
    try:
        rows = await _per_tenant(
            conn,
            tenants,
            "SELECT count(*) AS opened, count(*) FILTER (WHERE status IN ('resolved', 'closed')) AS resolved"
            " FROM tickets",
        )
    finally:
        await conn.close()
    today = datetime.now(UTC).date()
    period = {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    gap = {"opened": 0, "resolved": 0}
    for tenant, truth in zip(tenants, rows, strict=True):
        for _ in env.replicas["insight"]:
            r = await c.get("http://insight/v1/kpis", params=period, headers=auth_headers(tenant, "manager"))
            r.raise_for_status()
            seen = r.json()["tickets"]
            for k in gap:
                gap[k] += int(seen[k]) - int(truth[k])
    return gap


async def quiesce(env: Env, tenants: list[str], timeout: float) -> float:
    """Wait until every outbox row is sent, every group has read everything and no delivery is
    pending (one a killed replica held is sent by the sweep once its lease ran out: its effect
    belongs to this phase); seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        with contextlib.suppress(Exception):
            if (
                not any((await unsent_outbox(env)).values())
                and not any((await consumer_lag(env)).values())
                and not await pending_deliveries(env, tenants)
            ):
                return time.monotonic() - t0
        await asyncio.sleep(0.5)
    return time.monotonic() - t0


def recovery(
    ev: lc.Events, ids: list[str], fault: Fault, stalls: list[tuple[float, float, str]], late_ms: float
) -> tuple[float, str]:
    """Seconds from the fault until the last stall it caused ended, and what that stall was: the
    latest of (a causal hop slower than `late_ms` ending after the fault) and (a client request
    that needed retries). 0 when nothing stalled."""
    wall_fault = time.time() - (time.monotonic() - fault.started)
    last, what = 0.0, ""
    for tid in ids:
        e = ev.by_ticket.get(tid, {})
        for a, b in HOPS:
            if a in e and b in e:
                ended = e[b].ce_time.timestamp()
                took = ended - e[a].kafka_ms / 1000
                if took * 1000 > late_ms and ended - wall_fault > last:
                    last, what = ended - wall_fault, f"{a.split('.')[-2]}->{b.split('.')[-2]} took {took:.1f} s"
    for started, finished, label in stalls:
        if finished - fault.started > last:
            last, what = finished - fault.started, f"{label} retried {finished - started:.1f} s"
    return last, what


# ------------------------------------------------------------------------------------------ phases


@dataclass
class Row:
    fault: str
    load: str
    tickets: int
    lost: int
    duplicated: int
    recovery_s: float
    stall: str = ""
    resent: int = 0
    details: dict[str, Any] = field(default_factory=dict)


async def phase(
    env: Env, c: httpx.AsyncClient, ev: lc.Events, tenants: list[lc.Tenant], balancer: Balancer, fault: str, args: Any
) -> Row:
    target = lc.Target({s: f"http://{s}" for s in env.replicas}, env.cluster.bootstrap)
    run = lc.Run()
    count = max(1, int(args.rate * args.seconds))
    names = [t.name for t in tenants]
    dup_before = await duplicates(env, names)
    gap_before = await insight_gap(env, c, names)
    resent_before = resent(env)
    stalls_before = len(balancer.stalls)
    offset = phase.counter  # type: ignore[attr-defined]
    phase.counter += count  # type: ignore[attr-defined]

    async def load() -> None:
        tasks = []
        start = time.monotonic()
        for n in range(count):
            ten = tenants[n % len(tenants)]
            asset = ten.assets[((offset + n) // len(tenants)) % len(ten.assets)]
            delay = start + n / args.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(lc.lifecycle(c, target, ev, ten, asset, offset + n, run, args.timeout)))
        await asyncio.gather(*tasks)

    stats = Fault(fault)
    loading = asyncio.create_task(load())
    await asyncio.sleep(args.lead if fault != "none" else 0)
    await inject(env, fault, stats)
    await loading
    drained = await quiesce(env, names, args.timeout)
    ids = [tid for tid, _, _ in run.done] + [f.split(":")[0] for f in run.failed if not f.startswith("?")]
    state = await statuses(env, names, ids)
    dup_after = await duplicates(env, names)
    dup = {k: dup_after[k] - dup_before.get(k, 0) for k in dup_after}
    unsent = await unsent_outbox(env)
    lag = await consumer_lag(env)
    dlq = await dead_letters(env)
    gap_after = await insight_gap(env, c, names)
    gap = {k: v - gap_before.get(k, 0) for k, v in gap_after.items()}  # this phase's
    lost = len(ids) - state.get("closed", 0) + sum(-v for v in gap.values() if v < 0)
    dup["insight projection"] = sum(v for v in gap.values() if v > 0)
    row = Row(
        fault,
        f"{args.rate:g}/s x {args.seconds:g} s",
        len(ids),
        lost,
        sum(dup.values()),
        *recovery(ev, ids, stats, balancer.stalls[stalls_before:], args.late_ms),
        resent(env) - resent_before,
        {
            "not opened (client gave up)": sum(1 for f in run.failed if f.startswith("?")),
            "statuses": dict(state),
            "duplicates": {k: v for k, v in dup.items() if v},
            "unsent outbox rows": {k: v for k, v in unsent.items() if v},
            "lag": {k: v for k, v in lag.items() if v},
            "dead letters": dlq,
            **({"insight minus intake": gap} if gap else {}),
            "emails resent under the same Message-ID": resent(env) - resent_before,
            "drained after load s": round(drained, 1),
            "failed": run.failed[:3],
            "fault": stats.note,
            **({"zombie": zombie_refusals(stats)} if stats.zombie_log else {}),
        },
    )
    print(f"[chaos] {fault}: {row.details}", flush=True)
    return row


phase.counter = 0  # type: ignore[attr-defined]


def rss_mb(pid: int | None) -> float:
    if pid is None:
        return float("nan")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def soak(
    env: Env, c: httpx.AsyncClient, ev: lc.Events, tenants: list[lc.Tenant], target: lc.Target, args: Any
) -> None:
    """Steady load for --soak-minutes, no faults: RSS of every process at start and end (after the
    warm-up) and every 5 minutes, the brokers' heap in use after each collection (their JVMs run with
    a pre-touched heap and a GC log, KafkaCluster's memory_watch), and ticket.opened ->
    technician.assigned p99 of each minute's tickets."""
    procs = {r.label: r.pid for r in env.all}
    procs.update({f"kafka#{i}": (lambda n=n: n.pid) for i, n in enumerate(env.cluster.nodes, 1)})
    start_rss = {k: rss_mb(f()) for k, f in procs.items()}
    rss_by_minute: dict[int, dict[str, float]] = {}
    node_ids = range(1, len(env.cluster.nodes) + 1)
    gc_seen = {0: {i: len(env.cluster.heap_after_gc_mb(i)) for i in node_ids}}  # minute -> collections so far
    run = lc.Run()
    minutes: list[list[str]] = []
    t0 = time.monotonic()
    total = int(args.soak_minutes * 60 * args.rate)
    tasks: list[asyncio.Task[None]] = []
    opened: list[tuple[float, int]] = []
    loads: dict[int, float] = {}  # minute -> the machine's 1-minute load average at its end

    async def sample_load() -> None:
        while True:
            await asyncio.sleep(60)
            m = int((time.monotonic() - t0) // 60) - 1
            loads[m] = os.getloadavg()[0]
            rss_by_minute[m] = {k: rss_mb(f()) for k, f in procs.items()}
            gc_seen[m + 1] = {i: len(env.cluster.heap_after_gc_mb(i)) for i in node_ids}
            print(
                f"[soak] minute {m}: {len(opened)} opened, {len(run.done)} closed, {len(run.failed)} failed, "
                f"load average {loads[m]:.1f}",
                flush=True,
            )

    sampler = asyncio.create_task(sample_load())
    for n in range(total):
        delay = t0 + n / args.rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        ten = tenants[n % len(tenants)]
        asset = ten.assets[(n // len(tenants)) % len(ten.assets)]
        opened.append((time.monotonic() - t0, n))
        tasks.append(asyncio.create_task(lc.lifecycle(c, target, ev, ten, asset, 10**6 + n, run, args.timeout)))
        tasks = [t for t in tasks if not t.done()] if n % 100 == 0 else tasks
    await asyncio.gather(*tasks)
    sampler.cancel()
    end_rss = {k: rss_mb(f()) for k, f in procs.items()}
    by_minute: dict[int, list[str]] = {}
    for tid, started, _ in run.done:
        by_minute.setdefault(int((started - t0) // 60), []).append(tid)
    minutes = [by_minute[m] for m in sorted(by_minute)]
    print(f"\n[soak] {len(run.done)} of {total} lifecycles closed, {len(run.failed)} failed, at {args.rate:g}/s")
    print(f"{'minute':>6} {'tickets':>7} {'opened->assigned p50 ms':>24} {'p99 ms':>8} {'load 1m':>7}")
    for m, ids in zip(sorted(by_minute), minutes, strict=True):
        xs = lc.hop(ev, ids, lc.OPENED, lc.ASSIGNED)
        print(f"{m:>6} {len(ids):>7} {lc.pct(xs, 50):>24.0f} {lc.pct(xs, 99):>8.0f} {loads.get(m, float('nan')):>7.1f}")
    print(f"\n{'minutes':>7} {'tickets':>7} {'opened->assigned p50 ms':>24} {'p99 ms':>8}")  # p99 of more tickets
    for w in range(0, max(by_minute, default=-1) + 1, 5):
        ids = [tid for m in range(w, w + 5) for tid in by_minute.get(m, [])]
        xs = lc.hop(ev, ids, lc.OPENED, lc.ASSIGNED)
        print(f"{f'{w}-{w + 4}':>7} {len(ids):>7} {lc.pct(xs, 50):>24.0f} {lc.pct(xs, 99):>8.0f}")
    print(f"\n{'process':<12} {'RSS start MB':>12} {'RSS end MB':>10} {'growth %':>8}")
    for k in procs:
        a, b = start_rss[k], end_rss[k]
        print(f"{k:<12} {a:>12.0f} {b:>10.0f} {100 * (b - a) / a:>8.1f}")
    every5 = [m for m in sorted(rss_by_minute) if m % 5 == 4]
    print(f"\n{'RSS MB at minute':<16} " + " ".join(f"{m + 1:>6}" for m in every5))
    for k in procs:
        print(f"{k:<16} " + " ".join(f"{rss_by_minute[m][k]:>6.0f}" for m in every5))
    print_heap_after_gc(env, gc_seen)


def print_heap_after_gc(env: Env, gc_seen: dict[int, dict[int, int]]) -> None:
    """The brokers' heap in use right after collections, in the soak's first and last five
    minutes: after every collection (young ones leave the old generation's garbage until the next
    marking, so these follow G1's cycle) and after mixed/full ones only (the closest to the live
    data, what a leak would grow), whatever the heap's size or the RSS."""
    last = max(gc_seen)
    print(
        f"\n{'broker':<8} {'collections':>11} {'after GC MB min/median: first 5 min':>36} {'last 5 min':>10}"
        f" {'growth %':>8} {'after mixed GC MB min: first 5 min':>35} {'last 5 min':>10} {'growth %':>8}"
    )
    for i in range(1, len(env.cluster.nodes) + 1):
        every = env.cluster.heap_after_gc_mb(i)
        mixed = env.cluster.heap_after_gc_mb(i, old_too=True)

        def uptime_at(minute: int, node: int = i, log: list[tuple[float, int]] = every) -> float:
            seen = gc_seen[min(max(minute, 0), last)][node]  # collections logged by then
            return log[seen - 1][0] if seen else 0.0

        def window(log: list[tuple[float, int]], lo: float, hi: float) -> list[int]:
            return [mb for t, mb in log if lo < t <= hi]

        start, five, tail_from = uptime_at(0), uptime_at(5), uptime_at(last - 5)
        first, tail = window(every, start, five), window(every, tail_from, float("inf"))
        m_first, m_tail = window(mixed, start, five), window(mixed, tail_from, float("inf"))
        if not first or not tail:
            print(f"kafka#{i:<2} {len(every):>11} (too few collections to compare)")
            continue
        a, b = min(first), min(tail)
        line = (
            f"kafka#{i:<2} {len(every) - gc_seen[0][i]:>11} {f'{a}/{statistics.median(first):.0f}':>36} "
            f"{f'{b}/{statistics.median(tail):.0f}':>10} {100 * (b - a) / a:>8.1f}"
        )
        if m_first and m_tail:
            ma, mb = min(m_first), min(m_tail)
            line += f" {ma:>35} {mb:>10} {100 * (mb - ma) / ma:>8.1f}"
        else:
            line += f" {'(no mixed collection in a window)':>55}"
        print(line)


async def ramp(
    env: Env, c: httpx.AsyncClient, ev: lc.Events, tenants: list[lc.Tenant], target: lc.Target, args: Any
) -> None:
    """The maximum sustainable lifecycle rate: open-loop steps of --step-seconds at each rate of
    --ramp, no faults, the earlier steps' lifecycles still running (as in a steady state). A step
    is judged --grace seconds after its last ticket opened, on its own tickets: opened -> assigned
    p99 of each half of the step, a ticket not yet assigned counting as its age (so an unbounded
    queue shows). Sustainable: p99 under --bound-ms in both halves and the second half not above
    twice the first + 1 s. The ramp stops at the first step that is not; every lifecycle is then
    followed to its end (or --timeout) and the abandoned ones are counted per step."""
    run = lc.Run()
    tasks: list[asyncio.Task[None]] = []
    results: list[tuple[float, int, float, float, float, float, bool, tuple[float, float], str]] = []
    windows: list[tuple[float, float, float]] = []  # rate, wall start, wall end
    n = 0
    for rate in [float(x) for x in args.ramp.split(",")]:
        t0, w0 = time.monotonic(), time.time()
        count = int(rate * args.step_seconds)
        for i in range(count):
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            ten = tenants[n % len(tenants)]
            asset = ten.assets[(n // len(tenants)) % len(ten.assets)]
            tasks.append(asyncio.create_task(lc.lifecycle(c, target, ev, ten, asset, 2 * 10**6 + n, run, args.timeout)))
            n += 1
        w1 = time.time()
        windows.append((rate, w0, w1))
        await asyncio.sleep(args.grace)
        now = time.time()
        mid = (w0 + w1) / 2
        halves: list[list[float]] = [[], []]
        pending = 0
        for e in list(ev.by_ticket.values()):
            o = e.get(lc.OPENED)
            if o is None or not (w0 <= o.ce_time.timestamp() <= w1):
                continue
            a = e.get(lc.ASSIGNED)
            ms = ((a.ce_time.timestamp() if a else now) - o.ce_time.timestamp()) * 1000
            pending += a is None
            halves[o.ce_time.timestamp() > mid].append(ms)
        p1, p2 = lc.pct(halves[0], 99), lc.pct(halves[1], 99)
        allx = halves[0] + halves[1]
        ok = p1 < args.bound_ms and p2 < args.bound_ms and p2 <= 2 * p1 + 1000
        load = os.getloadavg()
        results.append((rate, len(allx), lc.pct(allx, 50), p1, p2, pending, ok, load[:2], ""))
        print(
            f"[ramp] {rate:g}/s: {len(allx)} opened, opened->assigned p50 {lc.pct(allx, 50):.0f} ms, "
            f"p99 first half {p1:.0f} ms, second half {p2:.0f} ms, {pending} not assigned after {args.grace:g} s; "
            f"load average {load[0]:.1f} -> {'sustained' if ok else 'NOT sustained'}",
            flush=True,
        )
        if not ok:
            break
    _, late = await asyncio.wait(tasks, timeout=args.timeout)  # still running by then: abandoned
    for t in late:
        t.cancel()
    print(
        f"\n{'rate/s':>6} {'opened':>6} {'p50 ms':>7} {'p99 1st':>8} {'p99 2nd':>8} {'unassigned':>10} {'abandoned':>9} {'load 1m':>7}  verdict"
    )
    for (rate, k, p50, p1, p2, pending, ok, load, _), (_, w0, w1) in zip(results, windows, strict=True):
        abandoned = sum(
            1
            for tid, e in ev.by_ticket.items()
            if lc.OPENED in e and w0 <= e[lc.OPENED].ce_time.timestamp() <= w1 and lc.CLOSED not in e
        )
        print(
            f"{rate:>6g} {k:>6} {p50:>7.0f} {p1:>8.0f} {p2:>8.0f} {pending:>10} {abandoned:>9} {load[0]:>7.1f}  "
            f"{'sustained' if ok and not abandoned else 'not sustained'}"
        )
    print(f"[ramp] {len(run.done)} lifecycles closed, {len(run.failed)} abandoned by the client: {run.failed[:3]}")


def print_table(rows: list[Row]) -> None:
    print(
        f"\n{'fault':<18} {'load':<14} {'tickets':>7} {'lost':>5} {'duplicated':>10} {'recovery s':>10} {'resent':>6}  last stall"
    )
    for r in rows:
        print(
            f"{r.fault:<18} {r.load:<14} {r.tickets:>7} {r.lost:>5} {r.duplicated:>10} {r.recovery_s:>10.1f} {r.resent:>6}  {r.stall}"
        )


def fault_list(spec: str, services: tuple[str, ...]) -> list[str]:
    kills = [f"kill:{s}:{n}" for s in services for n in (1, 2)]
    groups = {"kill": kills, "broker": ["broker"], "freeze": ["freeze"], "pg": ["pg"], "redis": ["redis"]}
    if spec == "all":
        return [*kills, "broker", "freeze", "redis", "pg"]
    out: list[str] = []
    for part in spec.split(","):
        out.extend(groups.get(part, [part]))
    return out


async def drive(env: Env, args: argparse.Namespace) -> list[Row]:
    balancer = Balancer(env.replicas)
    async with httpx.AsyncClient(transport=balancer, timeout=60) as c:
        target = lc.Target({s: f"http://{s}" for s in env.replicas}, env.cluster.bootstrap)
        suffix = uuid.uuid4().hex[:6]
        tenants = list(
            await asyncio.gather(*(lc.setup_tenant(c, target, f"chaos-{suffix}-{i}", 20, 40) for i in range(2)))
        )
        ev = lc.Events(env.cluster.bootstrap)
        await ev.start()
        try:
            warm = await phase(
                env, c, ev, tenants, balancer, "none", argparse.Namespace(**{**vars(args), "seconds": 5})
            )
            rows = [warm]
            if args.ramp:
                await ramp(env, c, ev, tenants, target, args)
                return rows
            if args.soak_minutes:
                await soak(env, c, ev, tenants, target, args)
                return rows
            for fault in fault_list(args.faults, tuple(env.replicas)):
                rows.append(await phase(env, c, ev, tenants, balancer, fault, args))
            return rows
        finally:
            await ev.stop()


def main(argv: list[str] | None = None) -> list[Row]:
    import logging

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # a killed broker is expected here
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=float, default=2.0, help="tickets opened per second")
    ap.add_argument("--seconds", type=float, default=30.0, help="load per fault phase")
    ap.add_argument("--lead", type=float, default=8.0, help="seconds of load before the fault")
    ap.add_argument(
        "--faults", default="all", help="all, or a comma list of kill,broker,freeze,pg,redis,kill:<svc>:<n>"
    )
    ap.add_argument("--services", default=",".join(SERVICES))
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds one lifecycle step may wait")
    ap.add_argument("--late-ms", type=float, default=5000.0, help="a causal hop slower than this is a stall")
    ap.add_argument(
        "--redis-port",
        type=int,
        default=0,
        help="a Redis of the run's own, restarted by the redis fault (default: started on a free port)",
    )
    ap.add_argument("--soak-minutes", type=float, default=0.0)
    ap.add_argument("--ramp", default="", help="comma list of rates: find the maximum sustainable rate (no faults)")
    ap.add_argument("--step-seconds", type=float, default=60.0, help="arrivals per --ramp step")
    ap.add_argument("--grace", type=float, default=15.0, help="seconds after a --ramp step before it is judged")
    ap.add_argument("--bound-ms", type=float, default=10000.0, help="a --ramp step's p99 opened->assigned limit")
    args = ap.parse_args(argv)
    with environment(args, tuple(args.services.split(","))) as env:
        rows = asyncio.run(drive(env, args))
    print_table(rows)
    return rows


if __name__ == "__main__":
    os.chdir(ROOT)
    rows = main()
    sys.exit(0 if all(r.lost == 0 and r.duplicated == 0 for r in rows) else 1)
