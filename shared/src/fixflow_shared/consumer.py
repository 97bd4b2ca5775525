"""Consuming domain events: CloudEvents decoding, bounded retries, dead letters, telemetry.

Each message is finished before the offset moves: handled, or ignored (a type this consumer does
not handle), or dead-lettered after `max_attempts` (or at once when it can never succeed). Only
then is the offset committed, so a failed message is never skipped by a later commit (the
FastStream manual-ack trap); if even the dead-letter publish fails, the message is nacked (seek
back) and redelivered. Handlers are idempotent through the inbox (UnitOfWork.claim).

Batch mode (`batch_max > 0`, what ServiceRuntime uses) takes up to `batch_max` records per poll
and commits the offsets once for all of them, after each was finished as above (a crash midway
redelivers the batch; the inbox absorbs what was already applied). Per-event handlers run one after
the other, each in its own CONSUMER span under the span that produced the event. A handler
registered with `on_batch` gets the poll's events at once instead, to apply them in one transaction
(one BEGIN/COMMIT, one inbox statement); if it fails, its transaction is rolled back and the events
are handled again one by one by the per-event handlers, with the retries and dead letters above, so
a poison event still costs only itself. Per-record order within a partition is kept either way.
"""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from opentelemetry import trace
from prometheus_client import Counter
from tenacity import AsyncRetrying, retry_if_not_exception_type, stop_after_attempt, wait_exponential_jitter

from fixflow_shared import topics as topic_names
from fixflow_shared.events.envelope import Envelope, InvalidEnvelope
from fixflow_shared.events.registry import Event, UnknownEventType
from fixflow_shared.logs import get_logger
from fixflow_shared.tracing import context_from_headers

log = get_logger(__name__)
DEAD_LETTERED = Counter(
    "fixflow_dead_lettered", "Messages a consumer group sent to a dead-letter topic", ["group", "topic", "error"]
)

Handler = Callable[[Envelope, Any], Awaitable[None]]
BatchHandler = Callable[[list[tuple[Envelope, Any]]], Awaitable[None]]


class PermanentError(Exception):
    """The message can never be processed (e.g. refers to something that cannot exist): no retry."""


async def _raw_body(msg: Any) -> bytes:
    return msg.body  # type: ignore[no-any-return]


class EventConsumer:
    """Routes events of the subscribed topics to handlers by CloudEvents type."""

    def __init__(
        self,
        broker: KafkaBroker,
        *,
        group_id: str,
        topics: tuple[str, ...],
        max_attempts: int = 4,
        backoff_initial_s: float = 0.05,
        backoff_max_s: float = 2.0,
        members: int = 1,
        batch_max: int = 0,
        batch_wait_ms: int = 20,
    ) -> None:
        self.broker = broker
        self.group_id = group_id
        self.topics = topics
        self.max_attempts = max_attempts
        self._backoff = (backoff_initial_s, backoff_max_s)
        self._handlers: dict[str, Handler] = {}
        self._batch_handler: BatchHandler | None = None
        batching: dict[str, Any] = (
            {"batch": True, "max_records": batch_max, "batch_timeout_ms": batch_wait_ms} if batch_max > 0 else {}
        )
        # Each member is a separate Kafka group member (its own client): the group's partitions are
        # split between them and handled concurrently, each partition by one member, in order.
        self.subscribers = []
        for i in range(max(1, members)):
            subscriber = broker.subscriber(
                *topics,
                group_id=group_id,
                ack_policy=AckPolicy.NACK_ON_ERROR,
                auto_offset_reset="earliest",
                # A killed member's partitions wait for its session to expire before a restarted
                # process gets them: 6 s is the brokers' default minimum (no static membership in
                # aiokafka), so a crashed consumer resumes within ~10 s of its restart.
                session_timeout_ms=6000,
                heartbeat_interval_ms=1500,
                title=f"consumer {group_id}" + (f" #{i + 1}" if i else ""),
                description=f"Consumer group {group_id}: CloudEvents from " + ", ".join(topics),
                # Raw bytes, no JSON decoding by FastStream: a body that fails to decode there would
                # raise before our code, be nacked, and block its partition forever.
                decoder=_raw_body,
                **batching,
            )
            subscriber(self._on_batch if batching else self._on_message)
            self.subscribers.append(subscriber)

    def on(self, event_type: str | type[Event]) -> Callable[[Handler], Handler]:
        type_ = event_type if isinstance(event_type, str) else event_type.type

        def register(fn: Handler) -> Handler:
            self._handlers[type_] = fn
            return fn

        return register

    def on_batch(self, fn: BatchHandler) -> BatchHandler:
        """Apply many events at once (batch mode); the per-event handlers remain the fallback."""
        self._batch_handler = fn
        return fn

    @property
    def handled_types(self) -> list[str]:
        return sorted(self._handlers)

    async def _on_message(self, body: bytes, msg: KafkaMessage) -> None:
        decoded = await self._decode(msg.raw_message)
        if decoded is not None:
            await self._handle_one(msg.raw_message, *decoded)

    async def _on_batch(self, bodies: list[bytes], msg: KafkaMessage) -> None:
        items: list[tuple[Any, Envelope, Any]] = []
        seen: set[str] = set()
        for record in msg.raw_message:
            decoded = await self._decode(record)
            # A copy of an event already in this poll (a producer retry) is the same event: handlers
            # see it once, as the inbox would make them in per-event mode.
            if decoded is not None and decoded[0].id not in seen:
                seen.add(decoded[0].id)
                items.append((record, *decoded))
        if not items:
            return
        if self._batch_handler is not None:
            try:
                await self._batch_handler([(envelope, payload) for _, envelope, payload in items])
                return
            except Exception as exc:  # one bad event must not cost the others: handle them one by one
                log.warning(
                    "batch failed, handling its events one by one",
                    consumer=self.group_id,
                    size=len(items),
                    error=repr(exc),
                )
        for record, envelope, payload in items:
            with consuming(envelope, record.topic):
                await self._handle_one(record, envelope, payload)

    async def _decode(self, raw: Any) -> tuple[Envelope, Any] | None:
        """The envelope and payload of a record this consumer handles; None once dead-lettered or not ours."""
        try:
            envelope = Envelope.from_kafka(raw.headers or [], raw.value)
        except InvalidEnvelope as exc:
            await self._dead_letter(raw, reason=str(exc), error="InvalidEnvelope")
            return None
        if envelope.type not in self._handlers:
            return None  # not ours: consumers ignore event types they do not handle
        try:
            return envelope, envelope.payload()
        except (InvalidEnvelope, UnknownEventType) as exc:
            await self._dead_letter(raw, reason=str(exc), error=type(exc).__name__)
            return None

    async def _handle_one(self, raw: Any, envelope: Envelope, payload: Any) -> None:
        handler = self._handlers[envelope.type]
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.max_attempts),
                wait=wait_exponential_jitter(initial=self._backoff[0], max=self._backoff[1]),
                retry=retry_if_not_exception_type(PermanentError),
                reraise=True,
            ):
                with attempt:
                    await handler(envelope, payload)
        except Exception as exc:
            log.warning(
                "event dead-lettered",
                event_id=envelope.id,
                event_type=envelope.type,
                consumer=self.group_id,
                error=repr(exc),
            )
            await self._dead_letter(
                raw,
                reason=f"{type(exc).__name__}: {exc}"[:1000],
                error=type(exc).__name__,
                stack="".join(traceback.format_exception(exc))[-4000:],
            )

    async def _dead_letter(self, raw: Any, *, reason: str, error: str, stack: str = "") -> None:
        headers = {k: (v.decode(errors="replace") if isinstance(v, bytes) else str(v)) for k, v in (raw.headers or [])}
        headers.update(
            {
                "x-dlq-reason": reason,
                "x-dlq-error": error,
                "x-dlq-consumer-group": self.group_id,
                "x-original-topic": raw.topic,
                "x-original-partition": str(raw.partition),
                "x-original-offset": str(raw.offset),
            }
        )
        if stack:
            headers["x-dlq-stacktrace"] = stack
        # Raises if the broker is away: the message is then nacked and redelivered, never lost.
        await self.broker.publish(
            raw.value or b"",
            topic=topic_names.dlq(raw.topic),
            key=raw.key,
            headers=headers,
        )
        DEAD_LETTERED.labels(self.group_id, raw.topic, error).inc()


_tracer = trace.get_tracer("fixflow.consumer")


def consuming(envelope: Envelope, topic: str) -> Any:
    """A CONSUMER span for one event of a batch, child of the span that produced it, so the event's
    effects (and the events it causes) stay in the ticket's trace as they do in per-event mode."""
    return _tracer.start_as_current_span(
        f"{topic} process",
        context=context_from_headers(envelope.trace_headers),
        kind=trace.SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.destination.name": topic,
            "messaging.message.id": envelope.id,
        },
    )


def each_traced(items: Sequence[tuple[Envelope, Any]]) -> Iterator[tuple[Envelope, Any]]:
    """Iterate a batch with each event's CONSUMER span current while the caller handles it."""
    for envelope, payload in items:
        with consuming(envelope, payload.topic):
            yield envelope, payload
