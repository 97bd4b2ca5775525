"""Our own smoke test of the local Kafka build with our client (aiokafka's CI stops at old
brokers): produce, consume, consumer-group commit and resume, transactions, and the topics the
code declares."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from fixflow_shared.topics import ALL_TOPICS

pytestmark = pytest.mark.integration
TOPIC = "fixflow.integration.shipments"


async def test_declared_topics_exist_with_their_partitions(kafka):
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([t.name for t in ALL_TOPICS])
    finally:
        await admin.close()
    partitions = {d["topic"]: len(d["partitions"]) for d in described}
    assert partitions == {t.name: t.partitions for t in ALL_TOPICS}


async def test_group_commit_and_resume(kafka):
    key = uuid.uuid4().hex.encode()
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    meta = [await producer.send_and_wait(TOPIC, f"m{i}".encode(), key=key) for i in range(3)]
    await producer.stop()
    tp = TopicPartition(TOPIC, meta[0].partition)
    group = f"smoke-{uuid.uuid4()}"

    async def consume_one() -> bytes:
        c = AIOKafkaConsumer(
            bootstrap_servers=kafka.bootstrap, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
        )
        await c.start()
        try:
            c.assign([tp])
            committed = await c.committed(tp)
            c.seek(tp, committed if committed is not None else meta[0].offset)
            rec = await c.getone()
            await c.commit({tp: rec.offset + 1})
            return rec.value
        finally:
            await c.stop()

    assert await consume_one() == b"m0"
    assert await consume_one() == b"m1", "a restarted member resumes after the committed offset"


async def test_transactions_commit_and_abort(kafka):
    tx = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, transactional_id=f"smoke-{uuid.uuid4()}")
    await tx.start()
    key = uuid.uuid4().hex.encode()
    try:
        async with tx.transaction():
            await tx.send(TOPIC, b"committed", key=key)
        await tx.begin_transaction()
        await tx.send(TOPIC, b"aborted", key=key)
        await tx.abort_transaction()
        async with tx.transaction():
            await tx.send(TOPIC, b"end", key=key)
    finally:
        await tx.stop()
    c = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=kafka.bootstrap,
        group_id=f"rc-{uuid.uuid4()}",
        isolation_level="read_committed",
        auto_offset_reset="earliest",
    )
    await c.start()
    seen = []
    try:
        async for rec in c:
            if rec.key == key:
                seen.append(rec.value)
                if rec.value == b"end":
                    break
    finally:
        await c.stop()
    assert seen == [b"committed", b"end"]
