"""`insight rebuild`: fresh projections from the start of the topics.

The projections are emptied (facts, aggregates, faults, and the projector's inbox), every
projected topic is read from its first retained offset up to the end it had when the rebuild
began, through the same projector as live consumption, and the live consumer group's offsets are
set to those ends, so the service resumes right after. Alerts, rectification steps, rules and
reports are insight's own records and stay: evidence already reported raises nothing again.
Run it with the consumers stopped (it refuses while the group has members); see
docs/adr/0011-topic-retention-for-replays.md for what a shorter retention means.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from fixflow_shared.events.envelope import Envelope, InvalidEnvelope
from fixflow_shared.events.registry import UnknownEventType
from fixflow_shared.logs import get_logger
from fixflow_shared.runtime import ServiceRuntime
from insight.adapters import replay
from insight.adapters.repository import ProjectionRepository
from insight.service_layer.projector import CONSUMER, apply_batch
from insight.topics import PROJECTED_TOPICS

log = get_logger(__name__)


class GroupActive(RuntimeError):
    pass


@dataclass
class RebuildResult:
    events: int
    skipped: int
    seconds: float
    trimmed: dict[str, int]

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def decode(records: list[Any]) -> tuple[list[tuple[Envelope, Any]], int]:
    items, skipped = [], 0
    for r in records:
        try:
            envelope = Envelope.from_kafka(r.headers or [], r.value)
            items.append((envelope, envelope.payload()))
        except (InvalidEnvelope, UnknownEventType):
            skipped += 1  # what the live consumer dead-letters or ignores
    return items, skipped


async def analyze(runtime: ServiceRuntime) -> None:
    async with runtime.uow() as uow:
        await ProjectionRepository(uow.session).analyze()
        await uow.commit()


async def rebuild(runtime: ServiceRuntime, *, batch: int = 2000, force: bool = False) -> RebuildResult:
    bootstrap = runtime.settings.kafka_bootstrap_servers
    group = runtime.name
    if not force and await replay.group_members(bootstrap, group):
        raise GroupActive(f"consumer group {group!r} has members: stop the insight consumers first")
    started = time.perf_counter()
    async with runtime.uow() as uow:
        await ProjectionRepository(uow.session).truncate(CONSUMER)
        await uow.commit()
    skipped, batches = 0, 0

    async def apply(records: list[Any]) -> None:
        nonlocal skipped, batches
        items, bad = decode(records)
        skipped += bad
        if items:
            await apply_batch(runtime.uow(), items)
            batches += 1
            if batches & (batches - 1) == 0:  # after batches 1, 2, 4, 8, ...: the tables grew twofold
                await analyze(runtime)

    done = await replay.replay(bootstrap, PROJECTED_TOPICS, apply, batch=batch)
    await replay.commit_group(bootstrap, group, done.ends)
    result = RebuildResult(done.records - skipped, skipped, time.perf_counter() - started, done.trimmed)
    if done.trimmed:
        log.warning("history incomplete: retention deleted the start of some partitions", partitions=done.trimmed)
    log.info("rebuild done", events=result.events, skipped=skipped, seconds=round(result.seconds, 1))
    return result
