"""Dead letters of one service: read from the `<topic>.dlq` topics, replayed or discarded by an
operator, every action written to the service's `dead_letter_actions` table.

A consumer that cannot process a message publishes it to `<topic>.dlq` with the reason in `x-dlq-*`
headers (fixflow_shared.consumer). A service's box holds the dead letters its own consumer groups
produced (header `x-dlq-consumer-group`), in the caller's tenant (`ce_tenantid`; a message too broken
to name a tenant is shown to any admin and can only be discarded).

- Reading: the box keeps a summary of each dead letter (headers, no body) and reads only what is
  new on each call; `show` reads the one record again for its body.
- Replay: the original value, key and headers (without `x-dlq-*`/`x-original-*`, with the trace
  context, so the retry joins the ticket's trace) go back to the source topic. Every consumer group
  of that topic sees it again; their inboxes make the groups that had applied it skip it, so a
  replay applies at most once more where it had failed. A second replay needs `force`.
- Discard: the dead letter stays in Kafka until retention (30 days) but is no longer pending.
- Kafka cannot delete one record: "pending", "replayed" and "discarded" are read from the table.
  An advisory lock per message keeps two replicas from replaying it at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from fixflow_shared import topics
from fixflow_shared.errors import Conflict, NotFound
from fixflow_shared.outbox import make_producer

ACTIONS = ("replayed", "discarded")
STRIPPED_PREFIXES = ("x-dlq-", "x-original-")


def add_dead_letter_table(metadata: MetaData) -> Table:
    """The audit of operators' actions on dead letters (one row per action, never updated)."""
    return Table(
        "dead_letter_actions",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("message_id", String(300), nullable=False),
        Column("dlq_topic", String(250), nullable=False),
        Column("source_topic", String(250), nullable=False),
        Column("event_id", String(100)),
        Column("event_type", String(200)),
        Column("tenant_id", String(100)),
        Column("consumer_group", String(200), nullable=False),
        Column("action", String(20), nullable=False),
        Column("actor", String(200), nullable=False),
        Column("note", Text, nullable=False, server_default=""),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("ix_dead_letter_actions_message_id", "message_id"),
    )


def create_dead_letter_table_v1(op: Any) -> None:
    """The table as a migration creates it (frozen: a later change is a migration of its own)."""
    import sqlalchemy as sa

    op.create_table(
        "dead_letter_actions",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(300), nullable=False),
        sa.Column("dlq_topic", sa.String(250), nullable=False),
        sa.Column("source_topic", sa.String(250), nullable=False),
        sa.Column("event_id", sa.String(100)),
        sa.Column("event_type", sa.String(200)),
        sa.Column("tenant_id", sa.String(100)),
        sa.Column("consumer_group", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_dead_letter_actions_message_id", "dead_letter_actions", ["message_id"])


@dataclass
class DeadLetter:
    id: str  # <dlq topic>:<partition>:<offset>
    dlq_topic: str
    source_topic: str
    consumer_group: str
    reason: str
    error: str
    event_id: str | None
    event_type: str | None
    subject: str | None
    tenant_id: str | None
    dead_lettered_at: datetime
    key: str | None
    headers: dict[str, str] = field(repr=False)
    status: str = "pending"
    actions: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        out = asdict(self)
        del out["headers"]
        return out


def _id(topic: str, partition: int, offset: int) -> str:
    return f"{topic}:{partition}:{offset}"


def _parse_id(message_id: str) -> tuple[str, int, int]:
    try:
        topic, partition, offset = message_id.rsplit(":", 2)
        return topic, int(partition), int(offset)
    except ValueError:
        raise NotFound("dead letter", message_id) from None


class DeadLetterBox:
    def __init__(
        self, *, service: str, bootstrap_servers: str, engine: AsyncEngine, table: Table | None, max_kept: int = 20_000
    ) -> None:
        self.service = service
        self.bootstrap = bootstrap_servers
        self.engine = engine
        self.table = table
        self.max_kept = max_kept
        self.dlq_topics = tuple(topics.dlq(t) for t in topics.DOMAIN_TOPICS)
        self._next: dict[TopicPartition, int] = {}
        self._letters: dict[str, DeadLetter] = {}
        self._lock = asyncio.Lock()

    def _ours(self, headers: dict[str, str]) -> bool:
        group = headers.get("x-dlq-consumer-group", "")
        return group == self.service or group.startswith(self.service + "-") or group.startswith(self.service + ".")

    # --- reading -----------------------------------------------------------------------------------
    async def _consumer(self) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False, client_id=f"{self.service}-dlq"
        )
        await consumer.start()
        return consumer

    async def refresh(self) -> None:
        """Read the dead letters added since the last call (and forget those past retention)."""
        async with self._lock:
            consumer = await self._consumer()
            try:
                await consumer._client.force_metadata_update()  # noqa: SLF001 - partitions_for_topic needs it
                parts = [
                    TopicPartition(t, p)
                    for t in self.dlq_topics
                    for p in sorted(consumer.partitions_for_topic(t) or ())
                ]
                if not parts:
                    return
                consumer.assign(parts)
                begin = await consumer.beginning_offsets(parts)
                end = await consumer.end_offsets(parts)
                for tp in parts:
                    start = max(self._next.get(tp, 0), begin[tp])
                    if start < end[tp]:
                        consumer.seek(tp, start)
                    else:
                        consumer.pause(tp)
                    self._forget_before(tp, begin[tp])
                    self._next[tp] = max(start, self._next.get(tp, 0))
                while any(self._next[tp] < end[tp] for tp in parts):
                    batch = await consumer.getmany(timeout_ms=1000)
                    if not batch:
                        break
                    for tp, records in batch.items():
                        for r in records:
                            self._keep(r)
                            self._next[tp] = r.offset + 1
                        if self._next[tp] >= end[tp]:
                            consumer.pause(tp)
            finally:
                await consumer.stop()

    def _forget_before(self, tp: TopicPartition, offset: int) -> None:
        prefix = f"{tp.topic}:{tp.partition}:"
        for k in [k for k in self._letters if k.startswith(prefix) and int(k.rsplit(":", 1)[1]) < offset]:
            del self._letters[k]

    def _keep(self, record: Any) -> None:
        headers = {k: (v.decode(errors="replace") if isinstance(v, bytes) else str(v)) for k, v in record.headers or []}
        if not self._ours(headers) or len(self._letters) >= self.max_kept:
            return
        letter = DeadLetter(
            id=_id(record.topic, record.partition, record.offset),
            dlq_topic=record.topic,
            source_topic=headers.get("x-original-topic") or record.topic.removesuffix(topics.DLQ_SUFFIX),
            consumer_group=headers.get("x-dlq-consumer-group", ""),
            reason=headers.get("x-dlq-reason", ""),
            error=headers.get("x-dlq-error", ""),
            event_id=headers.get("ce_id"),
            event_type=headers.get("ce_type"),
            subject=headers.get("ce_subject"),
            tenant_id=headers.get("ce_tenantid"),
            dead_lettered_at=datetime.fromtimestamp(record.timestamp / 1000, UTC),
            key=record.key.decode(errors="replace") if record.key else None,
            headers=headers,
        )
        self._letters[letter.id] = letter

    async def _with_actions(self, letters: list[DeadLetter]) -> list[DeadLetter]:
        if self.table is None or not letters:
            return letters
        t = self.table
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(t.c.message_id, t.c.action, t.c.actor, t.c.note, t.c.at)
                    .where(t.c.message_id.in_([d.id for d in letters]))
                    .order_by(t.c.id)
                )
            ).all()
        by_id: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            by_id.setdefault(r.message_id, []).append(
                {"action": r.action, "actor": r.actor, "note": r.note, "at": r.at}
            )
        for d in letters:
            d.actions = by_id.get(d.id, [])
            d.status = d.actions[-1]["action"] if d.actions else "pending"
        return letters

    @staticmethod
    def _visible(d: DeadLetter, tenant: str | None) -> bool:
        return tenant is None or d.tenant_id in (None, tenant)

    async def list(
        self, *, tenant: str | None, topic: str | None = None, status: str | None = "pending"
    ) -> list[DeadLetter]:
        """Dead letters (newest last), of one source topic if given, in a status if given."""
        await self.refresh()
        letters = [
            d
            for d in self._letters.values()
            if self._visible(d, tenant) and (topic is None or topic in (d.source_topic, d.dlq_topic))
        ]
        letters = await self._with_actions(letters)
        return [d for d in letters if status in (None, "all", d.status)]

    async def get(self, message_id: str, *, tenant: str | None) -> DeadLetter:
        topic, _, _ = _parse_id(message_id)
        if topic not in self.dlq_topics:
            raise NotFound("dead letter", message_id)
        if message_id not in self._letters:
            await self.refresh()
        letter = self._letters.get(message_id)
        if letter is None or not self._visible(letter, tenant):
            raise NotFound("dead letter", message_id)
        return (await self._with_actions([letter]))[0]

    async def body(self, message_id: str) -> bytes:
        """The record's value, read again from Kafka."""
        topic, partition, offset = _parse_id(message_id)
        consumer = await self._consumer()
        try:
            tp = TopicPartition(topic, partition)
            consumer.assign([tp])
            consumer.seek(tp, offset)
            records = (await consumer.getmany(tp, timeout_ms=5000, max_records=1)).get(tp, [])
            if not records or records[0].offset != offset:
                raise NotFound("dead letter", message_id)
            return bytes(records[0].value or b"")
        finally:
            await consumer.stop()

    async def show(self, message_id: str, *, tenant: str | None) -> dict[str, Any]:
        letter = await self.get(message_id, tenant=tenant)
        raw = await self.body(message_id)
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        return {**letter.summary(), "headers": letter.headers, "body": body}

    # --- acting ------------------------------------------------------------------------------------
    async def replay(
        self, message_id: str, *, tenant: str | None, actor: str, note: str = "", force: bool = False
    ) -> DeadLetter:
        letter = await self.get(message_id, tenant=tenant)
        if letter.tenant_id is None:
            raise Conflict(
                "a dead letter without a tenant cannot be replayed (it never had a valid envelope): discard it"
            )
        return await self._act(letter, "replayed", actor=actor, note=note, force=force)

    async def discard(self, message_id: str, *, tenant: str | None, actor: str, note: str = "") -> DeadLetter:
        letter = await self.get(message_id, tenant=tenant)
        return await self._act(letter, "discarded", actor=actor, note=note, force=False)

    async def _act(self, letter: DeadLetter, action: str, *, actor: str, note: str, force: bool) -> DeadLetter:
        if self.table is None:
            raise Conflict(f"{self.service} keeps no audit of dead letters: nothing can be replayed or discarded here")
        lock = int.from_bytes(hashlib.sha256(f"dlq:{letter.id}".encode()).digest()[:8], "big", signed=True)
        async with self.engine.begin() as conn:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock})
            t = self.table
            last = await conn.scalar(
                select(t.c.action).where(t.c.message_id == letter.id).order_by(t.c.id.desc()).limit(1)
            )
            if last == "discarded":
                raise Conflict(f"dead letter {letter.id} was discarded")
            if last == "replayed" and (action == "discarded" or not force):
                raise Conflict(
                    f"dead letter {letter.id} was replayed already"
                    + (": replay again with force" if action == "replayed" else "")
                )
            if action == "replayed":
                await self._publish(letter)
            await conn.execute(
                insert(t).values(
                    message_id=letter.id,
                    dlq_topic=letter.dlq_topic,
                    source_topic=letter.source_topic,
                    event_id=letter.event_id,
                    event_type=letter.event_type,
                    tenant_id=letter.tenant_id,
                    consumer_group=letter.consumer_group,
                    action=action,
                    actor=actor,
                    note=note[:2000],
                )
            )
        return (await self._with_actions([letter]))[0]

    async def _publish(self, letter: DeadLetter) -> None:
        value = await self.body(letter.id)
        headers = [(k, v.encode()) for k, v in letter.headers.items() if not k.startswith(STRIPPED_PREFIXES)] + [
            ("x-replayed-from", letter.id.encode())
        ]
        producer = make_producer(self.bootstrap, f"{self.service}-dlq-replay")
        await producer.start()
        try:
            await producer.send_and_wait(
                letter.source_topic, value=value, key=letter.key.encode() if letter.key else None, headers=headers
            )
        finally:
            await producer.stop()

    # --- figures for /metrics ------------------------------------------------------------------------
    async def pending_counts(self) -> dict[tuple[str, str], int]:
        """Pending dead letters by (source topic, consumer group), all tenants."""
        letters = await self.list(tenant=None, status="pending")
        counts: dict[tuple[str, str], int] = {}
        for d in letters:
            counts[(d.source_topic, d.consumer_group)] = counts.get((d.source_topic, d.consumer_group), 0) + 1
        return counts
