"""Notify throughput: ticket.opened events on the real broker -> acknowledgement emails delivered to
a local SMTP server (aiosmtpd), with everything notify does per event (inbox claim, contact upsert,
template render, delivery row, SMTP send, mark sent + delivery.sent through the outbox relay).

    .venv/bin/python bench/notify_throughput.py                # 2,000 events
    .venv/bin/python bench/notify_throughput.py --events 5000 --workers 16 --smtp-pool 8

Starts its own Kafka broker (deploy/local/infra.sh), uses the local PostgreSQL/Redis (a fresh
database, dropped at the end). Prints events/s from the first publish to the last email received,
and the latency from the event's time to the email's arrival (p50/p99).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "services" / "notify" / "src"))

import asyncpg  # noqa: E402
from aiokafka import AIOKafkaProducer  # noqa: E402

from fixflow_shared.events import new_envelope  # noqa: E402
from fixflow_shared.events.contracts.intake import TicketOpened  # noqa: E402
from fixflow_shared.migrations import upgrade  # noqa: E402
from fixflow_shared.testing.infra import KafkaBroker, LocalStores, free_port, unique_db_name  # noqa: E402
from fixflow_shared.topics import ensure_topics  # noqa: E402

# The SMTP server runs in a process of its own (as a real mail relay would), printing one line
# per message received: "<epoch seconds> <recipient>".
SMTP_SERVER = """
import sys, time, asyncio
from aiosmtpd.controller import Controller
class H:
    async def handle_DATA(self, server, session, envelope):
        for r in envelope.rcpt_tos:
            sys.stdout.write(f"{time.time()} {r}\\n")
        sys.stdout.flush()
        return "250 OK"
c = Controller(H(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
sys.stdin.read()
c.stop()
"""


class Counter:
    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}  # recipient -> arrival (epoch seconds)
        self.count = 0

    async def read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            ts, rcpt = line.decode().split()
            self.arrivals.setdefault(rcpt, float(ts))
            self.count += 1


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--smtp-pool", type=int, default=4)
    ap.add_argument("--members", type=int, default=3, help="consumer group members in the process")
    ap.add_argument("--db-pool", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()

    stores = LocalStores(ROOT)
    stores.start()
    broker = KafkaBroker(root=ROOT)
    broker.start()
    db = unique_db_name("notify")
    admin = "postgresql://notify:notify@127.0.0.1:5432/notify"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{db}"')
    await conn.close()
    url = f"postgresql+asyncpg://notify:notify@127.0.0.1:5432/{db}"
    await asyncio.to_thread(upgrade, ROOT / "services" / "notify", url)
    await ensure_topics(broker.bootstrap)

    counter = Counter()
    smtp_port = free_port()
    smtp = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SMTP_SERVER, str(smtp_port), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    reader = asyncio.create_task(counter.read(smtp.stdout))
    await asyncio.sleep(1.0)
    from notify.bootstrap import build
    from notify.config import NotifySettings

    settings = NotifySettings(
        database_url=url,
        kafka_bootstrap_servers=broker.bootstrap,
        redis_url="redis://127.0.0.1:6379/14",
        smtp_port=smtp_port,
        dispatch_workers=a.workers,
        consumer_members=a.members,
        smtp_pool_size=a.smtp_pool,
        rate_limit_per_minute=10**9,
        log_level="WARNING",
        relay_poll_interval_s=0.05,
        db_pool_size=a.db_pool,
    )
    runtime, _ = build(settings)
    await runtime.start()
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        # Warm-up: one event end to end (consumer group joined, pools open).
        async def publish(n: int, tag: str) -> list[str]:
            rcpts = []
            futs = []
            for i in range(n):
                tid = f"T-{tag}-{i}"
                rcpt = f"c{i}.{tag}@example.com"
                rcpts.append(rcpt)
                env = new_envelope(
                    TicketOpened(
                        ticket_id=tid,
                        tenant_id="bench",
                        kind="repair",
                        channel="web",
                        symptom="bench",
                        opened_at=datetime.now(UTC),
                        contact_email=rcpt,
                        locale="zh-CN" if i % 2 else "en",
                    ),
                    source="/fixflow/intake",
                    subject=tid,
                    tenant="bench",
                )
                futs.append(
                    await producer.send(TicketOpened.topic, value=env.body(), key=env.key, headers=env.headers())
                )
            await asyncio.gather(*futs)
            return rcpts

        warm = await publish(20, "warm")
        deadline = time.time() + 60
        while not all(r in counter.arrivals for r in warm):
            if time.time() > deadline:
                raise SystemExit("warm-up did not complete: is the consumer running?")
            await asyncio.sleep(0.05)

        tag = uuid.uuid4().hex[:6]
        t0 = time.time()
        sent_at: dict[str, float] = {}
        rcpts = await publish(a.events, tag)
        t_pub = time.time()
        for r in rcpts:
            sent_at[r] = t0  # conservative: latency measured from the start of the burst
        deadline = t0 + a.timeout
        while sum(1 for r in rcpts if r in counter.arrivals) < a.events:
            if time.time() > deadline:
                break
            await asyncio.sleep(0.02)
        got = [counter.arrivals[r] for r in rcpts if r in counter.arrivals]
        t_end = max(got) if got else time.time()
        elapsed = t_end - t0
        dispatcher = runtime.dispatcher  # type: ignore[attr-defined]
        print(f"events published: {a.events} in {t_pub - t0:.2f}s ({a.events / max(t_pub - t0, 1e-9):.0f}/s)")
        print(
            f"emails delivered: {len(got)}/{a.events} (duplicates at the SMTP server: {counter.count - len(counter.arrivals)})"
        )
        print(
            f"throughput: {len(got) / elapsed:.1f} events/s to delivered emails (burst of {a.events}, {elapsed:.2f}s)"
        )
        if got:
            lat = sorted(x - t0 for x in got)
            print(
                f"time from burst start to email: p50 {statistics.median(lat):.2f}s, "
                f"p99 {lat[int(0.99 * (len(lat) - 1))]:.2f}s (includes queueing behind the burst)"
            )
        print(
            f"dispatcher: sent={dispatcher.sent} failed={dispatcher.failed}; workers={a.workers} smtp_pool={a.smtp_pool} "
            f"members={a.members}"
        )
    finally:
        await producer.stop()
        await runtime.stop()
        smtp.stdin.close()
        await smtp.wait()
        reader.cancel()
        broker.cleanup()
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
