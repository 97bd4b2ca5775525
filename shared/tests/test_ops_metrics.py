"""The operational gauges on /metrics, each against the real thing it measures: a consumer group's
uncommitted records in Kafka, unsent outbox rows in PostgreSQL, dead letters in a DLQ topic, due
timers in Redis."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis
from sqlalchemy import insert

from fixflow_shared import topics
from fixflow_shared.clock import SystemClock
from fixflow_shared.db import add_messaging_tables, make_engine, new_metadata
from fixflow_shared.deadletters import DeadLetterBox
from fixflow_shared.ops_metrics import OpsMetrics
from fixflow_shared.testing import eventually
from fixflow_shared.timers import DueTimerWheel

pytestmark = pytest.mark.integration


def scraped(name: str, **labels: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Samples of `name` on /metrics whose labels include `labels`."""
    out = {}
    for family in text_string_to_metric_families(generate_latest().decode()):
        for s in family.samples:
            if s.name == name and labels.items() <= s.labels.items():
                out[tuple(sorted(s.labels.items()))] = s.value
    return out


async def test_lag_outbox_dead_letters_and_timers_are_measured_where_they_live(kafka, make_database, redis_url):
    service = f"svc{uuid.uuid4().hex[:6]}"
    group = f"{service}-lagging"
    engine = make_engine(await asyncio.to_thread(make_database, "intake"))
    outbox, _ = add_messaging_tables(new_metadata())
    redis = Redis.from_url(redis_url)
    runtime = SimpleNamespace(
        name=service,
        settings=SimpleNamespace(kafka_bootstrap_servers=kafka.bootstrap),
        consumers=[SimpleNamespace(group_id=group, topics=(topics.SURVEY_SURVEYS,))],
        outbox=outbox,
        engine=engine,
        redis=redis,
        clock=SystemClock(),
        dead_letters=DeadLetterBox(service=service, bootstrap_servers=kafka.bootstrap, engine=engine, table=None),
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    await producer.start()
    try:
        before = await _lag_sum(runtime, group)
        for i in range(5):  # a group that never consumes: 5 more records behind
            await producer.send_and_wait(topics.SURVEY_SURVEYS, b"{}", key=f"T-{i}".encode())
        for _ in range(2):  # two dead letters of ours, one of another service
            await producer.send_and_wait(
                topics.dlq(topics.SURVEY_SURVEYS),
                b"{}",
                key=b"T-1",
                headers=[("x-dlq-consumer-group", group.encode()), ("x-dlq-reason", b"boom"), ("ce_tenantid", b"t")],
            )
        await producer.send_and_wait(
            topics.dlq(topics.SURVEY_SURVEYS), b"{}", headers=[("x-dlq-consumer-group", b"someone-else")]
        )
    finally:
        await producer.stop()
    async with engine.begin() as conn:
        await conn.execute(
            insert(outbox),
            [
                {
                    "event_id": str(uuid.uuid4()),
                    "topic": topics.SURVEY_SURVEYS,
                    "key": "T-1",
                    "event_type": "fixflow.test.v1",
                    "headers": {},
                    "payload": b"{}",
                    "created_at": datetime.now(UTC) - timedelta(seconds=age),
                }
                for age in (120, 5, 1)
            ],
        )
    wheel = DueTimerWheel(redis, f"{service}:due")
    now = datetime.now(UTC)
    await wheel.schedule_many([("late-1", now - timedelta(seconds=90)), ("late-2", now - timedelta(seconds=3))])
    await wheel.schedule("later", now + timedelta(hours=1))

    metrics = OpsMetrics(runtime, interval_s=1)  # type: ignore[arg-type]
    try:

        async def lag_series() -> dict:
            await metrics.refresh()  # a fresh broker's group coordinator can take a moment
            return scraped("fixflow_consumer_lag", service=service, group=group)

        lag = await eventually(lag_series, lambda series: len(series) == 6, what="lag of each partition")
        assert len(lag) == 6, "one series per partition of the topic"
        assert sum(lag.values()) - before == 5
        assert scraped("fixflow_outbox_backlog", service=service) == {(("service", service),): 3.0}
        [age] = scraped("fixflow_outbox_oldest_age_seconds", service=service).values()
        assert 120 <= age < 180
        pending = scraped("fixflow_dead_letters_pending", service=service)
        assert pending == {(("group", group), ("service", service), ("topic", topics.SURVEY_SURVEYS)): 2.0}
        assert scraped("fixflow_timer_backlog", wheel=wheel.name) == {
            (("service", service), ("wheel", wheel.name)): 3.0
        }
        assert list(scraped("fixflow_timer_overdue", wheel=wheel.name).values()) == [2.0]
        [late] = scraped("fixflow_timer_oldest_overdue_seconds", wheel=wheel.name).values()
        assert 90 <= late < 150
    finally:
        await metrics._close()
        await wheel.clear()
        await redis.aclose()
        await engine.dispose()


async def _lag_sum(runtime: SimpleNamespace, group: str) -> float:
    """The group's lag before the test's records (the session's broker is shared with other tests)."""
    m = OpsMetrics(runtime, interval_s=1)  # type: ignore[arg-type]

    async def measured() -> dict:
        await m.refresh()
        return scraped("fixflow_consumer_lag", group=group)

    try:
        return sum((await eventually(measured, lambda series: len(series) == 6, what="lag before")).values())
    finally:
        await m._close()
