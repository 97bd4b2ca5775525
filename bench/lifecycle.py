"""Full lifecycle benchmark: N tickets open -> assigned -> completed -> invoiced -> surveyed.

Target (issue 8): >= 200 full lifecycles/s, and p99 of ticket.opened -> technician.assigned
< 250 ms at half that load, on 2 cores with all infrastructure local.

By default it starts everything it needs of its own: a Kafka broker (fresh storage, free ports),
fresh migrated databases for the five services on the local PostgreSQL, Redis db 13, an SMTP sink,
and the five services as processes (`python -m <svc> serve`, like the e2e tests). `--local` drives
the processes of `make run` instead (127.0.0.1:8001..8005, Kafka 127.0.0.1:9092; it adds bench
tenants to the make-run databases).

Each tenant gets the retailer fee schedule (billing's default), a survey plan that sends at once,
technicians working around the clock, and customers with an appliance bought three years ago. A
ticket is a yearly maintenance visit (on site, out of warranty, so billing issues an invoice):

  client POST /v1/tickets -> intake ticket.opened + ticket.triaged -> dispatch places it:
  technician.assigned -> client (technician app) POST arrival, POST completion -> dispatch
  work-order.completed -> intake ticket.resolved, billing invoice.issued, survey survey.scheduled
  -> survey.sent (answer link) -> client POST answers on the public link -> survey.completed ->
  intake ticket.closed.

Tickets arrive open-loop at `--rate` per second (`--rate 0`: as fast as `--concurrency` lifecycles
in flight allow). Timing comes from the events themselves: every message on the four topics is
read (aiokafka, no consumer group) and matched by ticket id; `ce_time` is when the producing
service wrote the event (in its transaction), the Kafka timestamp is when its outbox relay sent it.

    .venv/bin/python bench/lifecycle.py [--tickets 200] [--rate 100] [--tenants 4] [--local]

Measured on the 2-core development VM (2026-11-23, other test suites running beside it at times),
spawned services, 4 tenants x 40 technicians, OpenTelemetry SDK off, 2 consumer members per service:
- closed loop, 64 in flight: 10.0-10.7 full lifecycles/s (was 2.7 before batched polls and the
  per-service statement work); opened -> assigned p50 1.3-1.7 s, p99 4.3-5.0 s (queueing).
  6 members: 7.5/s (more pollers, smaller batches); 128 in flight: 9.2/s.
- open loop at 5/s (half the measured maximum): opened -> assigned p50 85 ms, p99 266 ms; a whole
  lifecycle p50 0.71 s, p99 1.37 s.
- the five services spend ~156 ms of CPU per lifecycle (intake ~45, notify ~35, dispatch ~34,
  survey ~23, billing ~18; it was 350-460 ms); the machine is then saturated with Kafka, PostgreSQL
  and this client. The target of 200/s needs about 20x that: per-event Python (SQLAlchemy,
  FastStream, pydantic) and one database transaction per step are the floor of this design.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import random
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared" / "src"))

from fixflow_shared import topics  # noqa: E402
from fixflow_shared.testing import auth_headers  # noqa: E402
from fixflow_shared.testing.checklists import required_answers  # noqa: E402

SERVICES = ("intake", "dispatch", "billing", "survey", "notify")
LOCAL_PORTS = {"intake": 8001, "dispatch": 8002, "billing": 8003, "survey": 8004, "notify": 8005}
TOPICS = (topics.INTAKE_TICKETS, topics.DISPATCH_WORK_ORDERS, topics.BILLING_INVOICES, topics.SURVEY_SURVEYS)
T = "fixflow."
OPENED, TRIAGED, ASSIGNED = (
    T + "intake.ticket.opened.v1",
    T + "intake.ticket.triaged.v1",
    T + "dispatch.technician.assigned.v1",
)
STARTED, COMPLETED = T + "dispatch.visit.started.v1", T + "dispatch.work-order.completed.v1"
RESOLVED, CLOSED = T + "intake.ticket.resolved.v1", T + "intake.ticket.closed.v1"
INVOICED, WAIVED = T + "billing.invoice.issued.v1", T + "billing.charge.waived.v1"
SCHEDULED, SENT, ANSWERED = (
    T + "survey.survey.scheduled.v1",
    T + "survey.survey.sent.v1",
    T + "survey.survey.completed.v1",
)
CENTRE = (31.2304, 121.4737)


# ------------------------------------------------------------------------------------ environment


class SmtpSink:
    """Accepts and drops every email notify sends (the bench does not read them)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        class Drop:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook)
                return "250 OK"

        from fixflow_shared.testing.infra import free_port

        self.port = free_port()
        self.controller = Controller(Drop(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@dataclass
class Target:
    urls: dict[str, str]
    bootstrap: str


@contextlib.contextmanager
def spawned(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from fixflow_shared.migrations import upgrade
    from fixflow_shared.testing.infra import KafkaBroker
    from fixflow_shared.testing.processes import ServiceProcess

    Profiled = _profiled_class()  # noqa: N806
    stack = contextlib.ExitStack()
    dbs: list[tuple[str, str]] = []
    procs: list[ServiceProcess] = []
    try:
        t0 = time.monotonic()
        broker = KafkaBroker(ROOT)
        broker.start()
        stack.callback(broker.cleanup)
        smtp = stack.enter_context(SmtpSink())
        logs = Path(tempfile.mkdtemp(prefix="fixflow-bench-"))
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
            "REDIS_URL": "redis://127.0.0.1:6379/13",
            "FIXFLOW_ENV": "test",
            "LOG_LEVEL": "WARNING",
            "NOTIFY_SMTP_HOST": "127.0.0.1",
            "NOTIFY_SMTP_PORT": str(smtp.port),
            "SURVEY_TIMER_POLL_S": "0.2",
            "SURVEY_PUBLIC_RATE_PER_MINUTE": "1000000",  # the bench answers surveys from one address
            "SURVEY_PUBLIC_RATE_PER_CLIENT_PER_MINUTE": "1000000",
            # consumer group members per process (partitions, 6, bound the useful number)
            **{f"{s.upper()}_CONSUMER_MEMBERS": str(args.members) for s in SERVICES},
            **({"OTEL_SDK_DISABLED": "true"} if not args.traced else {}),
        }
        for name in SERVICES:
            db = f"{name}_bench_{uuid.uuid4().hex[:8]}"
            asyncio.run(admin_sql(name, f'CREATE DATABASE "{db}"'))
            dbs.append((name, db))
            url = f"postgresql+asyncpg://{name}:{name}@127.0.0.1:5432/{db}"
            upgrade(ROOT / "services" / name, url)
            p = (Profiled if name in args.profile else ServiceProcess)(
                name, {**env, f"{name.upper()}_DATABASE_URL": url}, logs
            )
            if name == "survey":
                p.env["SURVEY_ANSWER_URL_BASE"] = f"http://127.0.0.1:{p.port}/v1/public/surveys/"
            procs.append(p)
        for p in procs:
            p.start()
        print(f"[bench] broker, databases and five services up in {time.monotonic() - t0:.0f} s (logs: {logs})")
        yield Target({p.name: p.url for p in procs}, broker.bootstrap)
    finally:
        for p in procs:
            p.stop()
            if isinstance(p, Profiled):
                p.report()
        for name, db in dbs:
            asyncio.run(admin_sql(name, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        stack.close()


def _profiled_class():  # type: ignore[no-untyped-def]
    from fixflow_shared.testing.processes import ServiceProcess

    class Profiled(ServiceProcess):
        """The service under cProfile (all of its event loop's work), reported when it stops."""

        def start(self, timeout: float = 60.0) -> None:
            import subprocess

            self.prof = self.log_path.with_suffix(".prof")
            real = sys.executable
            # ServiceProcess runs `python -m <svc> serve`: run cProfile around the same module instead
            orig_popen = subprocess.Popen

            def popen(cmd, *a, **kw):  # type: ignore[no-untyped-def]
                if cmd[:2] == [real, "-m"]:
                    cmd = [real, "-m", "cProfile", "-o", str(self.prof), "-m", *cmd[2:]]
                return orig_popen(cmd, *a, **kw)

            subprocess.Popen = popen  # type: ignore[misc]
            try:
                super().start(timeout)
            finally:
                subprocess.Popen = orig_popen  # type: ignore[misc]

        def stop(self) -> None:  # a profiled process shuts down slowly: give it time to write the profile
            import signal

            if self.proc and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)
                try:
                    self.proc.wait(120)
                except Exception:  # noqa: BLE001
                    self.proc.kill()

        def report(self, n: int = 25) -> None:
            import pstats

            if not self.prof.exists():
                print(f"[bench] no profile written for {self.name}")
                return
            print(f"\n[bench] {self.name} under cProfile, top {n} by own time (tottime):")
            pstats.Stats(str(self.prof)).sort_stats("tottime").print_stats(n)
            print(f"[bench] {self.name}, top {n} by cumulative time:")
            pstats.Stats(str(self.prof)).sort_stats("cumulative").print_stats(n)

    return Profiled


async def admin_sql(service: str, sql: str) -> None:
    """Run `sql` (CREATE / DROP DATABASE) as the service's role on its own database."""
    conn = await asyncpg.connect(f"postgresql://{service}:{service}@127.0.0.1:5432/{service}")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# ------------------------------------------------------------------------------------------- setup


@dataclass
class Tenant:
    name: str
    staff: dict[str, str]
    assets: list[str] = field(default_factory=list)


async def setup_tenant(c: httpx.AsyncClient, t: Target, name: str, technicians: int, customers: int) -> Tenant:
    staff = auth_headers(name, "agent,dispatcher,manager", subject="bench")
    ten = Tenant(name, staff)

    async def post(svc: str, path: str, body: Any, method: str = "POST") -> Any:
        r = await c.request(method, t.urls[svc] + path, json=body, headers=staff)
        if r.status_code >= 300:
            raise RuntimeError(f"{svc} {path}: {r.status_code} {r.text[:300]}")
        return r.json()

    today = datetime.now(UTC).date()
    await post("intake", "/v1/settings", {"duplicate_threshold": 1.0, "duplicate_window_hours": 0.01}, "PUT")
    await post(
        "survey",
        "/v1/survey-plan",
        {
            "delay_working_days": 0,
            "send_time": "00:00:00",
            "channel": "email",
            "reminder_after_days": [2],
            "calendar": {
                "country": "CN",
                "tz": "UTC",
                "extra_workdays": [today.isoformat(), (today + timedelta(days=1)).isoformat()],
            },
        },
        "PUT",
    )
    await post("dispatch", "/v1/skills", {"code": "maintenance", "name": "Maintenance"})
    rnd = random.Random(name)
    hours = {"tz": "UTC", "days": {str(d): ["00:00", "23:59"] for d in range(7)}}
    await asyncio.gather(
        *(
            post(
                "dispatch",
                "/v1/technicians",
                {
                    "name": f"Tech {i}",
                    "phone": f"+86 137 0000 {i:04d}",
                    "home_lat": CENTRE[0] + rnd.uniform(-0.1, 0.1),
                    "home_lon": CENTRE[1] + rnd.uniform(-0.1, 0.1),
                    "skills": {"maintenance": 3},
                    "hours": hours,
                    "max_jobs_per_day": 20,
                },
            )
            for i in range(technicians)
        )
    )
    product = await post(
        "intake", "/v1/products", {"model": "WH-60-E", "name": "Water heater 60 L", "warranty_months": 12}
    )
    sem = asyncio.Semaphore(16)

    async def customer(i: int) -> str:
        async with sem:
            cu = await post(
                "intake",
                "/v1/customers",
                {
                    "name": f"Bench {i}",
                    "phone": f"+86139{rnd.randrange(10**8):08d}",
                    "email": f"bench.{i}@example.com",
                    "addresses": [
                        {
                            "line": f"Bench road {i}",
                            "region": "CN-31",
                            "in_province": True,
                            "lat": CENTRE[0] + rnd.uniform(-0.08, 0.08),
                            "lon": CENTRE[1] + rnd.uniform(-0.08, 0.08),
                        }
                    ],
                },
            )
            a = await post(
                "intake",
                "/v1/assets",
                {
                    "customer_id": cu["id"],
                    "product_id": product["id"],
                    "serial": f"SN-{i:06d}",
                    "purchase_date": (date.today() - timedelta(days=1100)).isoformat(),
                },
            )
            return a["id"]

    ten.assets = list(await asyncio.gather(*(customer(i) for i in range(customers))))
    return ten


# ------------------------------------------------------------------------------------ measurement


@dataclass
class Seen:
    ce_time: datetime
    kafka_ms: int
    data: dict[str, Any]


class Events:
    """Every event of the four topics, by ticket id and type; waiters are woken as events arrive."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.by_ticket: dict[str, dict[str, Seen]] = defaultdict(dict)
        self.waiters: dict[tuple[str, str], asyncio.Future[Seen]] = {}
        self.count = 0

    async def start(self) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, group_id=None, fetch_max_wait_ms=20
        )
        await self.consumer.start()
        parts: list[TopicPartition] = []
        for _ in range(100):
            await self.consumer._client.force_metadata_update()  # noqa: SLF001
            parts = [TopicPartition(tp, p) for tp in TOPICS for p in self.consumer.partitions_for_topic(tp) or ()]
            if {p.topic for p in parts} == set(TOPICS):
                break
            await asyncio.sleep(0.2)
        self.consumer.assign(parts)
        await self.consumer.seek_to_end(*parts)
        for p in parts:  # resolve the end offsets now: only events of this run count
            await self.consumer.position(p)
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=100, max_records=5000)
            for records in batch.values():
                for m in records:
                    h = {k: v for k, v in m.headers}
                    subject, type_ = h.get("ce_subject", b"").decode(), h.get("ce_type", b"").decode()
                    seen = Seen(datetime.fromisoformat(h["ce_time"].decode()), m.timestamp, {})
                    if type_ == ASSIGNED or type_ == SENT:
                        seen.data = orjson.loads(m.value)
                    self.count += 1
                    self.by_ticket[subject].setdefault(type_, seen)
                    fut = self.waiters.pop((subject, type_), None)
                    if fut and not fut.done():
                        fut.set_result(seen)

    async def wait(self, ticket: str, type_: str, timeout: float) -> Seen:
        if type_ in self.by_ticket.get(ticket, {}):
            return self.by_ticket[ticket][type_]
        fut = self.waiters.setdefault((ticket, type_), asyncio.get_running_loop().create_future())
        return await asyncio.wait_for(fut, timeout)

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.consumer.stop()


@dataclass
class Run:
    http_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    done: list[tuple[str, float, float]] = field(default_factory=list)  # ticket, started, finished (monotonic)
    failed: list[str] = field(default_factory=list)
    retries: int = 0


async def lifecycle(
    c: httpx.AsyncClient, t: Target, ev: Events, ten: Tenant, asset: str, n: int, run: Run, timeout: float
) -> None:
    started = time.monotonic()

    async def post(label: str, url: str, body: Any, headers: dict[str, str]) -> Any:
        t0 = time.perf_counter()
        # Like a real client: an Idempotency-Key, so a request whose answer was lost can be sent again.
        headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
        for attempt in range(3):
            try:
                r = await c.post(url, json=body, headers=headers)
                break
            except httpx.TransportError:
                if attempt == 2:
                    raise
                run.retries += 1
        run.http_ms[label].append((time.perf_counter() - t0) * 1000)
        if r.status_code >= 300:
            raise RuntimeError(f"{label}: {r.status_code} {r.text[:200]}")
        return r.json()

    tid = "?"
    try:
        tid = (
            await post(
                "POST /tickets",
                t.urls["intake"] + "/v1/tickets",
                {
                    "kind": "maintenance",
                    "channel": "web",
                    "symptom": f"yearly maintenance please, visit {n} {uuid.uuid4().hex[:6]}",
                    "asset_id": asset,
                },
                ten.staff,
            )
        )["id"]
        assigned = (await ev.wait(tid, ASSIGNED, timeout)).data
        wo = assigned["work_order_id"]
        tech = auth_headers(ten.name, "technician", subject="bench-tech", technician_id=assigned["technician_id"])
        base = f"{t.urls['dispatch']}/v1/work-orders/{wo}"
        await post("POST arrival", base + "/arrival", {}, tech)
        form = await c.get(base + "/checklist", headers=tech)
        answers, _ = required_answers(form.json())  # a maintenance visit: the inspection, no photo required
        await post(
            "POST completion",
            base + "/completion",
            {
                "checklist": answers,
                "resolution_code": "maintenance_done",
                "signed_by": "customer",
                "signed_at": datetime.now(UTC).isoformat(),
                "signature_sha256": hashlib.sha256(tid.encode()).hexdigest(),
                "rating": 5,
            },
            tech,
        )
        await ev.wait(tid, INVOICED, timeout)
        token = (await ev.wait(tid, SENT, timeout)).data["answer_url"].rstrip("/").rsplit("/", 1)[-1]
        await post(
            "POST survey answer",
            f"{t.urls['survey']}/v1/public/surveys/{token}/answers",
            {
                "scores": {"timeliness": 5, "professionalism": 5, "attitude": 5, "effectiveness": 5, "overall": 5},
                "nps": 9,
            },
            {},
        )
        await ev.wait(tid, ANSWERED, timeout)
        await ev.wait(tid, CLOSED, timeout)  # intake closes the ticket on survey.completed: the lifecycle's end
        run.done.append((tid, started, time.monotonic()))
    except Exception as exc:  # noqa: BLE001 (a bench reports and goes on)
        run.failed.append(f"{tid}: {exc!r}"[:300])


async def scrape(c: httpx.AsyncClient, t: Target) -> dict[str, dict[str, float]]:
    """Each service's Prometheus counters: CPU seconds and HTTP requests per route."""
    out: dict[str, dict[str, float]] = {}
    for svc, url in t.urls.items():
        rows: dict[str, float] = {}
        for line in (await c.get(url + "/metrics")).text.splitlines():
            if line.startswith(("process_cpu_seconds_total", "fixflow_http_requests_total")):
                name, _, value = line.rpartition(" ")
                rows[name] = float(value)
        out[svc] = rows
    return out


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q / 100 * len(xs) + 0.5) - 1))]


def hop(ev: Events, tickets: list[str], a: str, b: str, *, a_kafka: bool = False, b_kafka: bool = False) -> list[float]:
    out = []
    for tid in tickets:
        e = ev.by_ticket.get(tid, {})
        if a in e and b in e:
            ta = e[a].kafka_ms / 1000 if a_kafka else e[a].ce_time.timestamp()
            tb = e[b].kafka_ms / 1000 if b_kafka else e[b].ce_time.timestamp()
            out.append((tb - ta) * 1000)
    return out


async def bench(args: argparse.Namespace, t: Target) -> None:
    limits = httpx.Limits(max_connections=args.connections, max_keepalive_connections=args.connections)
    async with httpx.AsyncClient(timeout=60, limits=limits) as c:
        t0 = time.monotonic()
        suffix = uuid.uuid4().hex[:6]
        tenants = await asyncio.gather(
            *(setup_tenant(c, t, f"bench-{suffix}-{i}", args.technicians, args.customers) for i in range(args.tenants))
        )
        print(
            f"[bench] {args.tenants} tenants x ({args.technicians} technicians, {args.customers} customers) "
            f"set up in {time.monotonic() - t0:.1f} s"
        )
        ev = Events(t.bootstrap)
        await ev.start()

        async def wave(count: int, rate: float, run: Run) -> float:
            tasks = []
            sem = asyncio.Semaphore(args.concurrency) if rate <= 0 else None
            start = time.monotonic()
            for n in range(count):
                ten = tenants[n % len(tenants)]
                asset = ten.assets[(n // len(tenants)) % len(ten.assets)]
                if sem is not None:
                    await sem.acquire()
                    task = asyncio.create_task(lifecycle(c, t, ev, ten, asset, n, run, args.timeout))
                    task.add_done_callback(lambda _: sem.release())
                else:
                    delay = start + n / rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    task = asyncio.create_task(lifecycle(c, t, ev, ten, asset, n, run, args.timeout))
                tasks.append(task)
            await asyncio.gather(*tasks)
            return time.monotonic() - start

        warm = Run()
        await wave(min(40, args.tickets), 20, warm)  # connections, caches, consumer assignments
        idle0 = await scrape(c, t)
        await asyncio.sleep(args.idle)  # what the processes burn with nothing to do (polling, timers)
        idle1 = await scrape(c, t)
        run = Run()
        before = await scrape(c, t)
        wall = await wave(args.tickets, args.rate, run)
        after = await scrape(c, t)
        await asyncio.sleep(0.5)
        await ev.stop()

    ids = [tid for tid, _, _ in run.done]
    assigned = hop(ev, ids, OPENED, ASSIGNED)
    mode = (
        f"open loop at {args.rate:g} tickets/s"
        if args.rate > 0
        else f"closed loop, {args.concurrency} lifecycles in flight"
    )
    print(
        f"\n{len(run.done)} of {args.tickets} lifecycles completed in {wall:.1f} s ({mode}); "
        f"{len(run.failed)} failed; {run.retries} requests sent again after a transport error; {ev.count} events read"
    )
    for f in run.failed[:5]:
        print("  failed:", f)
    if not run.done:
        return
    first = min(s for _, s, _ in run.done)
    last = max(e for _, _, e in run.done)
    print(
        f"throughput: {len(run.done) / (last - first):.1f} full lifecycles/s "
        f"(first ticket opened to last ticket closed after its survey)"
    )
    print(
        f"ticket.opened -> technician.assigned: p50 {pct(assigned, 50):.0f} ms, p99 {pct(assigned, 99):.0f} ms, "
        f"max {max(assigned):.0f} ms (n={len(assigned)})"
    )
    life = [(e - s) * 1000 for _, s, e in run.done]
    print(
        f"one lifecycle, client view (open .. closed after the survey): p50 {pct(life, 50):.0f} ms, p99 {pct(life, 99):.0f} ms"
    )
    print("\nwhere the time goes (ms; ce_time = written by the service, kafka = sent by its outbox relay):")
    print(f"  {'hop':<58} {'p50':>7} {'p99':>7}")
    rows = [
        ("intake: ticket.opened written -> relayed to Kafka", hop(ev, ids, OPENED, OPENED, b_kafka=True)),
        ("intake: ticket.opened -> ticket.triaged written", hop(ev, ids, OPENED, TRIAGED)),
        ("dispatch: ticket.triaged on Kafka -> technician.assigned", hop(ev, ids, TRIAGED, ASSIGNED, a_kafka=True)),
        ("dispatch: technician.assigned written -> on Kafka", hop(ev, ids, ASSIGNED, ASSIGNED, b_kafka=True)),
        ("client+dispatch: assigned on Kafka -> visit.started", hop(ev, ids, ASSIGNED, STARTED, a_kafka=True)),
        ("dispatch: visit.started -> work-order.completed", hop(ev, ids, STARTED, COMPLETED)),
        ("intake: work-order.completed on Kafka -> ticket.resolved", hop(ev, ids, COMPLETED, RESOLVED, a_kafka=True)),
        ("billing: work-order.completed on Kafka -> invoice.issued", hop(ev, ids, COMPLETED, INVOICED, a_kafka=True)),
        ("survey: ticket.resolved on Kafka -> survey.scheduled", hop(ev, ids, RESOLVED, SCHEDULED, a_kafka=True)),
        ("survey: survey.scheduled -> survey.sent (timer)", hop(ev, ids, SCHEDULED, SENT)),
        ("client+survey: survey.sent on Kafka -> survey.completed", hop(ev, ids, SENT, ANSWERED, a_kafka=True)),
        ("intake: survey.completed on Kafka -> ticket.closed", hop(ev, ids, ANSWERED, CLOSED, a_kafka=True)),
    ]
    for label, xs in rows:
        print(f"  {label:<58} {pct(xs, 50):>7.0f} {pct(xs, 99):>7.0f}")
    for label, xs in run.http_ms.items():
        print(f"  {'HTTP ' + label + ' (client round trip)':<58} {pct(xs, 50):>7.0f} {pct(xs, 99):>7.0f}")
    print(
        f"\nCPU of the service processes during the measured wave ({wall:.1f} s wall, 2 cores = {2 * wall:.0f} core-s):"
    )
    total = idle_total = 0.0
    for svc in t.urls:
        cpu = after[svc].get("process_cpu_seconds_total", 0) - before[svc].get("process_cpu_seconds_total", 0)
        idle = (
            idle1[svc].get("process_cpu_seconds_total", 0) - idle0[svc].get("process_cpu_seconds_total", 0)
        ) / args.idle
        idle_total += idle
        total += cpu
        http = {
            k: after[svc][k] - before[svc].get(k, 0)
            for k in after[svc]
            if k.startswith("fixflow_http") and after[svc][k] > before[svc].get(k, 0)
        }
        calls = ", ".join(
            f"{k.split('route=')[1].split(',')[0]} {k.split('method=')[1].split(',')[0]} x{v:.0f}"
            for k, v in sorted(http.items(), key=lambda kv: -kv[1])[:4]
        )
        print(
            f"  {svc:<9} {cpu:7.1f} s  ({1000 * cpu / max(1, len(run.done)):.0f} ms per lifecycle; idle {100 * idle:.0f}% of a core)   HTTP: {calls}"
        )
    net = total - idle_total * wall
    print(
        f"  {'all five':<9} {total:7.1f} s  ({1000 * total / max(1, len(run.done)):.0f} ms per lifecycle; idle {100 * idle_total:.0f}% of a core; "
        f"net of idle {1000 * net / max(1, len(run.done)):.0f} ms per lifecycle)"
    )
    print("  the rest of the machine (Kafka, PostgreSQL, Redis, this client, anything else running) had the remainder")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tickets", type=int, default=200)
    ap.add_argument("--rate", type=float, default=100.0, help="arrivals per second; 0 = closed loop")
    ap.add_argument("--concurrency", type=int, default=64, help="lifecycles in flight with --rate 0")
    ap.add_argument("--tenants", type=int, default=4)
    ap.add_argument("--technicians", type=int, default=40, help="per tenant")
    ap.add_argument("--customers", type=int, default=100, help="per tenant")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds one step may wait for its event")
    ap.add_argument("--members", type=int, default=2, help="consumer group members per spawned service process")
    ap.add_argument("--idle", type=float, default=5.0, help="seconds of idle CPU measured before the wave")
    ap.add_argument("--traced", action="store_true", help="keep the OpenTelemetry SDK on (spawned services)")
    ap.add_argument(
        "--profile",
        action="append",
        default=[],
        choices=SERVICES,
        help="run this spawned service under cProfile and print where its time went",
    )
    ap.add_argument("--local", action="store_true", help="use the services of `make run` instead of starting our own")
    args = ap.parse_args()
    if args.local:
        asyncio.run(bench(args, Target({s: f"http://127.0.0.1:{p}" for s, p in LOCAL_PORTS.items()}, "127.0.0.1:9092")))
        return
    with spawned(args) as target:
        asyncio.run(bench(args, target))


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
