"""Facts about Kafka that tests wait for, instead of sleeping.

A consumer group commits a record's offset only once the record is finished (handled, ignored as
not its type, or dead-lettered; see fixflow_shared.consumer), so "the group committed past this
record" is the observable fact that it was processed, including when processing it changed
nothing. That is how a test shows that a duplicate or an early event did nothing:

    sent = await publish(kafka.bootstrap, done, done)       # the RecordMetadata of each send
    await consumed(kafka.bootstrap, "billing", *sent)       # both copies are behind the group
    assert await invoices_of(ticket) == []
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from fixflow_shared.events import Envelope, registry
from fixflow_shared.testing.waiting import eventually


class Record(NamedTuple):
    """Where a record sits (aiokafka's RecordMetadata has these fields too)."""

    topic: str
    partition: int
    offset: int


async def publish(bootstrap: str, *envelopes: Envelope, topic: str | None = None) -> list[Any]:
    """Publish envelopes as the services do (key = subject, CloudEvents headers), each to its
    contract's topic unless `topic` is given; returns each send's RecordMetadata, in order."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        return [
            await producer.send_and_wait(
                topic or registry.model_for(env.type).topic, env.body(), key=env.key, headers=env.headers()
            )
            for env in envelopes
        ]
    finally:
        await producer.stop()


async def committed_offsets(bootstrap: str, group_id: str) -> dict[tuple[str, int], int]:
    """The group's committed offsets, {(topic, partition): next offset to read}."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        found = await admin.list_consumer_group_offsets(group_id)
    finally:
        await admin.close()
    return {(tp.topic, tp.partition): meta.offset for tp, meta in found.items()}


async def end_offsets(bootstrap: str, topic: str) -> list[Record]:
    """The last record of each non-empty partition of `topic` now (what a reader must get past)."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # noqa: SLF001 - partitions of a topic never read
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        ends = await consumer.end_offsets(parts)
    finally:
        await consumer.stop()
    return [Record(tp.topic, tp.partition, end - 1) for tp, end in ends.items() if end > 0]


async def consumed(bootstrap: str, group_id: str, *records: Any, timeout: float = 30.0) -> None:
    """Wait until consumer group `group_id` has committed past every one of `records` (RecordMetadata
    or Record): each was finished by the group's consumer."""
    wanted: Iterable[tuple[str, int, int]] = [(r.topic, r.partition, r.offset) for r in records]

    async def behind() -> list[tuple[str, int, int]]:
        offsets = await committed_offsets(bootstrap, group_id)
        return [(t, p, o) for t, p, o in wanted if offsets.get((t, p), -1) <= o]

    await eventually(
        behind, lambda left: not left, timeout=timeout, interval=0.2, what=f"group {group_id} past these records"
    )


async def read_to_end(bootstrap: str, topic: str, *, subject: str | None = None) -> list[Envelope]:
    """Every event on `topic` (about `subject`, if given) up to the end of each partition as it is
    now: nothing published before the call is missed, and nothing later is waited for."""
    from aiokafka import AIOKafkaConsumer

    ends = {(r.topic, r.partition): r.offset for r in await end_offsets(bootstrap, topic)}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    found: list[Envelope] = []
    try:
        parts = [TopicPartition(t, p) for t, p in ends]
        if not parts:
            return found
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        left = set(parts)
        while left:
            for records in (await consumer.getmany(*left, timeout_ms=1000)).values():
                for rec in records:
                    if rec.offset <= ends[(rec.topic, rec.partition)]:
                        env = Envelope.from_kafka(rec.headers, rec.value)
                        if subject is None or env.subject == subject:
                            found.append(env)
            for tp in list(left):
                if await consumer.position(tp) > ends[(tp.topic, tp.partition)]:
                    left.discard(tp)
    finally:
        await consumer.stop()
    return found
