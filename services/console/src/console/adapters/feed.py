"""The Kafka side of live updates: every console process reads the domain topics from their end
(no consumer group, no commits: each process must see every event for its own browsers, and a
restarted console has no backlog to catch up on) and hands each event to the hub."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from console.domain.live import to_live
from console.service_layer.live import LiveHub
from fixflow_shared import topics
from fixflow_shared.logs import get_logger

log = get_logger(__name__)
LIVE_TOPICS = (
    topics.INTAKE_TICKETS,
    topics.DISPATCH_WORK_ORDERS,
    topics.BILLING_INVOICES,
    topics.SURVEY_SURVEYS,
    topics.NOTIFY_DELIVERIES,
)


def _headers(raw: Any) -> dict[str, str]:
    out = {}
    for k, v in raw or ():
        with contextlib.suppress(UnicodeDecodeError, AttributeError):
            out[k] = v.decode()
    return out


class KafkaFeed:
    def __init__(self, bootstrap_servers: str, hub: LiveHub) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.hub = hub
        self.connected = False
        self.consumed = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="console-live-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, 10)

    def handle(self, headers: dict[str, str], value: bytes | None) -> None:
        event_type = headers.get("ce_type")
        if not event_type or value is None:
            return
        try:
            data = orjson.loads(value)
        except orjson.JSONDecodeError:
            return
        msg = to_live(
            event_type=event_type,
            tenant=headers.get("ce_tenantid"),
            subject=headers.get("ce_subject"),
            data=data if isinstance(data, dict) else {},
            time_=headers.get("ce_time"),
        )
        if msg is not None:
            self.hub.publish(msg)

    async def _run(self) -> None:
        backoff = 0.5
        while True:
            consumer = AIOKafkaConsumer(
                *LIVE_TOPICS,
                bootstrap_servers=self.bootstrap_servers,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="latest",
                fetch_max_wait_ms=50,
                client_id="console-live",
            )
            try:
                await consumer.start()
                self.connected = True
                backoff = 0.5
                log.info("live feed reading", topics=list(LIVE_TOPICS))
                while True:
                    batch = await consumer.getmany(timeout_ms=200, max_records=1000)
                    for records in batch.values():
                        for rec in records:
                            self.consumed += 1
                            self.handle(_headers(rec.headers), rec.value)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker may be away: pages still work, only without live updates
                log.warning("live feed interrupted", error=type(exc).__name__)
            finally:
                self.connected = False
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(consumer.stop(), 5)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)
