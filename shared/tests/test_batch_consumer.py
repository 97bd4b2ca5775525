"""EventConsumer's batch path without a broker: what a poll hands to the handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from faststream.kafka import KafkaBroker

from fixflow_shared import topics
from fixflow_shared.consumer import EventConsumer
from fixflow_shared.events import Envelope, new_envelope
from fixflow_shared.events.contracts.intake import TicketOpened


@dataclass
class Record:  # the fields of aiokafka's ConsumerRecord the consumer reads
    value: bytes
    headers: list[tuple[str, bytes]]
    key: bytes = b""
    topic: str = topics.INTAKE_TICKETS
    partition: int = 0
    offset: int = 0


@dataclass
class Poll:
    raw_message: tuple[Record, ...]
    body: list[bytes] = field(default_factory=list)


def opened(i: int) -> Envelope:
    return new_envelope(
        TicketOpened(
            ticket_id=f"T-{i}",
            tenant_id="t1",
            kind="repair",
            channel="web",
            symptom=f"s{i}",
            opened_at=datetime.now(UTC),
        ),
        source="/fixflow/test",
        subject=f"T-{i}",
        tenant="t1",
    )


def record(env: Envelope, offset: int) -> Record:
    return Record(value=env.body(), headers=env.headers(), key=env.key, offset=offset)


def consumer_with(batch_fails: bool) -> tuple[EventConsumer, list[list[str]], list[str]]:
    c = EventConsumer(KafkaBroker("127.0.0.1:1"), group_id="g", topics=(topics.INTAKE_TICKETS,), batch_max=10)
    batches: list[list[str]] = []
    one_by_one: list[str] = []

    @c.on(TicketOpened)
    async def apply(envelope: Envelope, event: Any) -> None:
        one_by_one.append(envelope.id)

    @c.on_batch
    async def apply_all(batch: list[tuple[Envelope, Any]]) -> None:
        batches.append([e.id for e, _ in batch])
        if batch_fails:
            raise RuntimeError("batch cannot be applied")

    return c, batches, one_by_one


async def test_a_copy_of_an_event_in_the_same_poll_is_handed_over_once():
    a, b = opened(1), opened(2)
    poll = Poll((record(a, 0), record(b, 1), record(a, 2)))  # a producer retry duplicated `a`

    c, batches, one_by_one = consumer_with(batch_fails=False)
    await c._on_batch([], poll)  # type: ignore[arg-type]
    assert batches == [[a.id, b.id]] and one_by_one == []

    c, batches, one_by_one = consumer_with(batch_fails=True)
    await c._on_batch([], poll)  # type: ignore[arg-type]
    assert batches == [[a.id, b.id]], "the batch handler was tried first"
    assert one_by_one == [a.id, b.id], "then each event once, in order"
