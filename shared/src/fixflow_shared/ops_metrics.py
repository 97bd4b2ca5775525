"""What an operator watches besides HTTP: consumer lag, the outbox, dead letters and timers.

A background loop of each service refreshes these gauges every FIXFLOW_METRICS_INTERVAL_S seconds
(default 15) so that a scrape of /metrics stays cheap:

fixflow_consumer_lag{service,group,topic,partition}   records the group has not committed yet
fixflow_outbox_backlog{service}                       outbox rows not relayed yet
fixflow_outbox_oldest_age_seconds{service}            age of the oldest of them (0 when none)
fixflow_dead_letters_pending{service,topic,group}     dead letters nobody replayed or discarded
fixflow_timer_backlog{service,wheel}                  timers waiting in a wheel
fixflow_timer_overdue{service,wheel}                  of those, due already and not fired yet
fixflow_timer_oldest_overdue_seconds{service,wheel}   how late the latest of them is
fixflow_ops_metrics_errors_total{service,source}      refreshes that failed (the gauge keeps its last value)
fixflow_dead_lettered_total{group,topic,error}        (counter, from the consumer) messages sent to a DLQ

Every replica of a service reports the same group-level lag; dashboards and alerts take the max.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Gauge
from sqlalchemy import func, select

from fixflow_shared.logs import get_logger
from fixflow_shared.timers import wheels_of

if TYPE_CHECKING:
    from fixflow_shared.runtime import ServiceRuntime

log = get_logger(__name__)

CONSUMER_LAG = Gauge(
    "fixflow_consumer_lag", "Records a consumer group has not committed yet", ["service", "group", "topic", "partition"]
)
OUTBOX_BACKLOG = Gauge("fixflow_outbox_backlog", "Outbox rows not relayed to Kafka yet", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "fixflow_outbox_oldest_age_seconds", "Age of the oldest outbox row not relayed yet (0 when none)", ["service"]
)
DEAD_LETTERS_PENDING = Gauge(
    "fixflow_dead_letters_pending", "Dead letters nobody replayed or discarded yet", ["service", "topic", "group"]
)
TIMER_BACKLOG = Gauge("fixflow_timer_backlog", "Timers waiting in a wheel", ["service", "wheel"])
TIMER_OVERDUE = Gauge("fixflow_timer_overdue", "Timers due already and not fired yet", ["service", "wheel"])
TIMER_OLDEST_OVERDUE = Gauge(
    "fixflow_timer_oldest_overdue_seconds",
    "How late the most overdue timer of a wheel is (0 when none)",
    ["service", "wheel"],
)
ERRORS = Counter("fixflow_ops_metrics_errors", "Operational metric refreshes that failed", ["service", "source"])


class OpsMetrics:
    def __init__(self, runtime: ServiceRuntime, interval_s: float = 15.0) -> None:
        self.runtime = runtime
        self.service = runtime.name
        self.interval_s = interval_s
        self._admin: Any = None
        self._offsets: Any = None
        self._lag_labels: set[tuple[str, str, str, str]] = set()
        self._dlq_labels: set[tuple[str, str, str]] = set()

    async def run(self) -> None:
        """Refresh until cancelled."""
        try:
            while True:
                await self.refresh()
                await asyncio.sleep(self.interval_s)
        finally:
            await self._close()

    async def refresh(self) -> None:
        for source, step in (
            ("consumer_lag", self.consumer_lag),
            ("outbox", self.outbox),
            ("dead_letters", self.dead_letters),
            ("timers", self.timers),
        ):
            try:
                await asyncio.wait_for(step(), timeout=max(5.0, self.interval_s))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a figure missing must not stop the others
                ERRORS.labels(self.service, source).inc()
                log.warning("operational metric not refreshed", source=source, error=repr(exc))

    async def _clients(self) -> tuple[Any, Any]:
        if self._admin is None:
            from aiokafka import AIOKafkaConsumer
            from aiokafka.admin import AIOKafkaAdminClient

            bootstrap = self.runtime.settings.kafka_bootstrap_servers
            admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id=f"{self.service}-metrics")
            await admin.start()
            offsets = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, client_id=f"{self.service}-metrics")
            await offsets.start()
            self._admin, self._offsets = admin, offsets
        return self._admin, self._offsets

    async def _close(self) -> None:
        for client in (self._offsets, self._admin):
            if client is not None:
                with contextlib.suppress(Exception):
                    await (client.stop() if hasattr(client, "stop") else client.close())
        self._admin = self._offsets = None

    async def consumer_lag(self) -> None:
        from aiokafka import TopicPartition

        admin, offsets = await self._clients()
        seen: set[tuple[str, str, str, str]] = set()
        for consumer in self.runtime.consumers:
            try:
                committed = await admin.list_consumer_group_offsets(consumer.group_id)
            except Exception as exc:  # noqa: BLE001 - e.g. the group's coordinator moving: next round
                ERRORS.labels(self.service, "consumer_lag").inc()
                log.warning("consumer group offsets not read", group=consumer.group_id, error=repr(exc))
                seen |= {labels for labels in self._lag_labels if labels[1] == consumer.group_id}
                continue
            await offsets._client.force_metadata_update()  # noqa: SLF001 - partitions_for_topic reads it
            parts = [
                TopicPartition(t, p) for t in consumer.topics for p in sorted(offsets.partitions_for_topic(t) or ())
            ]
            if not parts:
                continue
            begin = await offsets.beginning_offsets(parts)
            end = await offsets.end_offsets(parts)
            for tp in parts:
                done = committed.get(tp)
                position = done.offset if done is not None and done.offset >= 0 else begin[tp]
                labels = (self.service, consumer.group_id, tp.topic, str(tp.partition))
                CONSUMER_LAG.labels(*labels).set(max(0, end[tp] - position))
                seen.add(labels)
        for gone in self._lag_labels - seen:
            CONSUMER_LAG.remove(*gone)
        self._lag_labels = seen

    async def outbox(self) -> None:
        o = self.runtime.outbox
        async with self.runtime.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(func.count(), func.min(o.c.created_at)).select_from(o).where(o.c.published_at.is_(None))
                )
            ).one()
        OUTBOX_BACKLOG.labels(self.service).set(row[0])
        OUTBOX_OLDEST_AGE.labels(self.service).set(
            0.0 if row[1] is None else max(0.0, time.time() - row[1].timestamp())
        )

    async def dead_letters(self) -> None:
        counts = await self.runtime.dead_letters.pending_counts()
        seen = set()
        for (topic, group), n in counts.items():
            DEAD_LETTERS_PENDING.labels(self.service, topic, group).set(n)
            seen.add((self.service, topic, group))
        for gone in self._dlq_labels - seen:
            DEAD_LETTERS_PENDING.labels(*gone).set(0)  # kept at 0: an alert on it resolves
        self._dlq_labels |= seen

    async def timers(self) -> None:
        now = self.runtime.clock.now().timestamp()
        for wheel in wheels_of(self.runtime.redis):
            TIMER_BACKLOG.labels(self.service, wheel.name).set(await wheel.size())
            overdue = await wheel.overdue(now)
            TIMER_OVERDUE.labels(self.service, wheel.name).set(overdue[0])
            TIMER_OLDEST_OVERDUE.labels(self.service, wheel.name).set(overdue[1])
