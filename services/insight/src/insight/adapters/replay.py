"""Reading topics from their first retained offset to the end they had when the replay began,
and moving a consumer group's committed offsets there (so the live consumer resumes after it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupCoordinatorNotAvailableError
from aiokafka.structs import OffsetAndMetadata
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_fixed


@dataclass
class Replayed:
    records: int = 0
    ends: dict[TopicPartition, int] = field(default_factory=dict)
    # Partitions whose first retained offset is above 0: older events were deleted by retention.
    trimmed: dict[str, int] = field(default_factory=dict)


async def group_members(bootstrap: str, group_id: str) -> int:
    """How many members the group has now (a rebuild must not race the live consumer)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        # A fresh cluster creates its offsets topic (and so a coordinator) on first use: wait for it.
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(GroupCoordinatorNotAvailableError),
            stop=stop_after_delay(30),
            wait=wait_fixed(0.5),
            reraise=True,
        ):
            with attempt:
                described = await admin.describe_consumer_groups([group_id])
        total = 0
        for response in described:
            for group in response.groups:
                total += len(group[5])  # (error, group_id, state, protocol_type, protocol, members, ...)
        return total
    finally:
        await admin.close()


async def replay(
    bootstrap: str, topics: tuple[str, ...], on_batch: Callable[[list[Any]], Awaitable[None]], *, batch: int = 2000
) -> Replayed:
    out = Replayed()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await consumer.start()
    try:
        # topics() would fetch the same metadata but keep only the names: the partitions are needed
        cluster = await consumer._client.fetch_all_metadata()
        tps = [TopicPartition(t, p) for t in topics for p in sorted(cluster.partitions_for_topic(t) or ())]
        consumer.assign(tps)
        firsts = await consumer.beginning_offsets(tps)
        out.ends = await consumer.end_offsets(tps)
        out.trimmed = {f"{tp.topic}/{tp.partition}": o for tp, o in firsts.items() if o > 0}
        await consumer.seek_to_beginning(*tps)
        remaining = {tp for tp in tps if out.ends[tp] > firsts[tp]}
        while remaining:
            got = await consumer.getmany(*remaining, timeout_ms=1000, max_records=batch)
            records: list[Any] = []
            for tp, recs in got.items():
                end = out.ends[tp]
                records.extend(r for r in recs if r.offset < end)
                if recs and recs[-1].offset >= end - 1:
                    remaining.discard(tp)
            for tp in list(remaining):
                if await consumer.position(tp) >= out.ends[tp]:
                    remaining.discard(tp)
            if records:
                await on_batch(records)
                out.records += len(records)
    finally:
        await consumer.stop()
    return out


async def commit_group(bootstrap: str, group_id: str, offsets: dict[TopicPartition, int]) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()})
    finally:
        await consumer.stop()
