"""Transactional outbox: events are written with the state change, then relayed to Kafka.

The relay publishes with an idempotent producer (acks=all). One relay per service database is
active at a time (a PostgreSQL advisory lock), so per-key order survives several replicas; a
batch is awaited as a whole before rows are marked sent. The lock is a lease: the relay's
transaction sets `idle_in_transaction_session_timeout`, so a relay whose process stops answering
mid-batch (frozen, SIGSTOP, a stalled VM) loses its session and its lock after `lease_s` and
another replica takes over; when the frozen one resumes, its mark fails with the dead session
and the batch, already published, is published again by the new holder (a duplicate the inboxes
absorb, never a loss). A crash between publish and mark sends
the batch again: consumers' inboxes absorb the duplicates (at-least-once, effectively once).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence

import asyncpg
from aiokafka import AIOKafkaProducer
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fixflow_shared.db import asyncpg_dsn
from fixflow_shared.events.envelope import Envelope
from fixflow_shared.logs import get_logger
from fixflow_shared.tracing import context_from_headers

NOTIFY_CHANNEL = "fixflow_outbox"
log = get_logger(__name__)


async def write_outbox(
    session: AsyncSession, outbox: Table, envelopes: Sequence[Envelope], topic_of: dict[str, str]
) -> None:
    """Insert envelopes in the caller's transaction and wake the relay when it commits."""
    if not envelopes:
        return
    # pg_notify in RETURNING wakes the relay without a NOTIFY round trip of its own; PostgreSQL
    # folds the identical notifications of a transaction into one, sent only if it commits.
    await session.execute(
        insert(outbox).returning(func.pg_notify(NOTIFY_CHANNEL, "")),
        [
            {
                "event_id": e.id,
                "topic": topic_of[e.id],
                "key": e.key.decode(),
                "event_type": e.type,
                "headers": {k: v.decode() for k, v in e.headers()},
                "payload": e.body(),
            }
            for e in envelopes
        ],
    )


def make_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    # aiokafka defaults to acks=1 and no idempotence: both set explicitly (docs/architecture.md, "Outbox and inbox").
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        max_batch_size=256 * 1024,
        request_timeout_ms=15000,
    )


class OutboxRelay:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        outbox: Table,
        bootstrap_servers: str,
        service: str,
        batch_size: int = 500,
        poll_interval_s: float = 0.5,
        lease_s: float = 20.0,
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._bootstrap = bootstrap_servers
        self._service = service
        self._batch_size = batch_size
        self._poll_interval = poll_interval_s
        # Longer than the producer's request timeout (15 s): a batch waiting for acks during a
        # broker failover keeps its lock; only a relay that stopped answering loses it.
        self._lease_ms = str(int(lease_s * 1000))
        self._lock_key = int.from_bytes(f"outbox:{service}".encode()[:8].ljust(8, b"\0"), "big", signed=True)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listener: asyncpg.Connection | None = None
        self._producer: AIOKafkaProducer | None = None
        self._tracer = trace.get_tracer("fixflow.outbox")
        self.published = 0
        # Fault-injection seam for the crash tests: called after the broker acked a batch and
        # before its rows are marked sent (the window that produces duplicates).
        self.after_publish_hook: Callable[[int], None] | None = None

    async def start(self) -> None:
        self._producer = make_producer(self._bootstrap, f"{self._service}-relay")
        await self._producer.start()
        with contextlib.suppress(Exception):  # LISTEN is an optimisation; polling still works
            self._listener = await asyncpg.connect(asyncpg_dsn(self._engine.url.render_as_string(hide_password=False)))
            await self._listener.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
        self._task = asyncio.create_task(self._run(), name=f"{self._service}-outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._listener:
            with contextlib.suppress(Exception):
                await self._listener.close()
        if self._producer:
            await self._producer.stop()

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            # Cleared before reading, not after: a commit notified while a batch is being published
            # keeps the event set, so its row goes in the next batch instead of waiting for the poll.
            self._wake.clear()
            try:
                sent = await self.publish_batch()
                backoff = 0.1
                if sent >= self._batch_size:
                    continue  # more waiting: no sleep
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database away: keep the rows, retry later
                log.warning("outbox relay batch failed", error=str(exc), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_interval)

    async def publish_batch(self) -> int:
        """Publish one batch of unsent rows in id order; returns how many were sent."""
        assert self._producer is not None
        o = self._outbox
        async with self._engine.begin() as conn:
            # The lease first (set_config(..., true) is SET LOCAL), then the lock it protects.
            got = (
                await conn.execute(
                    text(
                        "SELECT set_config('idle_in_transaction_session_timeout', :lease, true),"
                        " pg_try_advisory_xact_lock(:k)"
                    ),
                    {"lease": self._lease_ms, "k": self._lock_key},
                )
            ).one()[1]
            if not got:
                return 0  # another replica is relaying
            rows = (
                await conn.execute(
                    select(o.c.id, o.c.topic, o.c.key, o.c.headers, o.c.payload, o.c.event_type, o.c.created_at)
                    .where(o.c.published_at.is_(None))
                    .order_by(o.c.id)
                    .limit(self._batch_size)
                )
            ).all()
            if not rows:
                return 0
            futures = []
            for row in rows:
                headers = dict(row.headers)
                # A short producer span, child of the request or consumer that wrote the event;
                # its context replaces the stored traceparent so the consumer links to it.
                with self._tracer.start_as_current_span(
                    f"{row.topic} publish",
                    context=context_from_headers(headers),
                    kind=SpanKind.PRODUCER,
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.destination.name": row.topic,
                        "messaging.kafka.message.key": row.key,
                        "fixflow.ticket_id": row.key,
                        "messaging.message.id": headers.get("ce_id", ""),
                        "cloudevents.event_type": row.event_type,
                    },
                ):
                    propagate.inject(headers)
                    futures.append(
                        await self._producer.send(
                            row.topic,
                            value=bytes(row.payload),
                            key=row.key.encode(),
                            headers=[(k, str(v).encode()) for k, v in headers.items()],
                        )
                    )
            await asyncio.gather(*futures)  # every record acked by the broker (acks=all)
            if self.after_publish_hook:
                self.after_publish_hook(len(rows))
            await conn.execute(update(o).where(o.c.id.in_([r.id for r in rows])).values(published_at=text("now()")))
        self.published += len(rows)
        return len(rows)


async def outbox_lag_seconds(session: AsyncSession, outbox: Table) -> float:
    """Age of the oldest unsent row (0 when none): a readiness/metrics signal."""
    oldest = await session.scalar(
        select(outbox.c.created_at).where(outbox.c.published_at.is_(None)).order_by(outbox.c.id).limit(1)
    )
    return 0.0 if oldest is None else max(0.0, time.time() - oldest.timestamp())
