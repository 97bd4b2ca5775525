"""Notify test fixtures: the service wired against real infrastructure (plugin `fixflow`): a real
broker, PostgreSQL, Redis, an aiosmtpd SMTP server and two local HTTP SMS gateways."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from fixflow_shared.testing.plugin import asgi_client, own_kafka, running_service

sys.path.insert(0, str(Path(__file__).parent))

from http_receiver import HttpReceiver  # noqa: E402

from fixflow_shared.events import Envelope  # noqa: E402
from notify.config import NotifySettings  # noqa: E402


@pytest.fixture(scope="session")
async def sms_primary() -> AsyncIterator[HttpReceiver]:
    r = HttpReceiver()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture(scope="session")
async def sms_failover() -> AsyncIterator[HttpReceiver]:
    r = HttpReceiver()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture(scope="session")
def kafka(fixflow_root: Path) -> Iterator[Any]:
    """A broker of notify's tests alone: in one pytest session every service's runtime consumes
    under its own group ids, and would otherwise react to the other services' test events."""
    yield from own_kafka(fixflow_root)


@pytest.fixture(scope="session")
async def notify_app(
    kafka: Any,
    make_database: Callable[[str], str],
    redis_url: str,
    smtp_server: Any,
    sms_primary: HttpReceiver,
    sms_failover: HttpReceiver,
) -> AsyncIterator[Any]:
    async with running_service(
        "notify",
        NotifySettings,
        kafka=kafka,
        make_database=make_database,
        redis_url=redis_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        sms_primary_url=sms_primary.url,
        sms_failover_url=sms_failover.url,
        send_max_attempts=3,
        send_backoff_initial_s=0.05,
        send_backoff_max_s=0.2,
        sweep_interval_s=0.2,
        lease_s=10.0,
        rate_limits={"t-rate": 2},
    ) as started:
        yield started


@pytest.fixture
async def client(notify_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(notify_app[1], "notify") as c:
        yield c


@pytest.fixture(scope="session")
async def publish(kafka: Any) -> AsyncIterator[Callable[[Envelope], Awaitable[None]]]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", enable_idempotence=True)
    await producer.start()

    async def send(env: Envelope) -> None:
        from fixflow_shared.events import registry

        topic = registry.model_for(env.type).topic
        await producer.send_and_wait(topic, value=env.body(), key=env.key, headers=env.headers())

    yield send
    await producer.stop()


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = 20.0, interval: float = 0.1) -> Any:
    """Poll `check` until it returns a truthy value (returned) or the time runs out."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last={last!r}")


def subject_of(message: Any) -> str:
    """The decoded Subject of a received email (non-ASCII subjects arrive RFC 2047 encoded)."""
    from email.header import decode_header, make_header

    return str(make_header(decode_header(message["Subject"] or "")))


@pytest.fixture
def ticket_id() -> Iterator[str]:
    yield "T-" + uuid.uuid4().hex[:20]


def envelope_of(payload: Any, *, tenant: str, subject: str) -> Envelope:
    from fixflow_shared.events import new_envelope

    return new_envelope(payload, source="/fixflow/test", subject=subject, tenant=tenant)


async def deliveries_of(client: httpx.AsyncClient, tenant: str, ticket_id: str) -> list[dict]:
    from fixflow_shared.testing import auth_headers

    r = await client.get("/v1/deliveries", params={"ticket_id": ticket_id}, headers=auth_headers(tenant, "agent"))
    assert r.status_code == 200, r.text
    return r.json()


async def settled(
    client: httpx.AsyncClient,
    tenant: str,
    ticket_id: str,
    *,
    count: int,
    timeout: float = 20.0,
    final: tuple[str, ...] = ("sent", "failed", "skipped"),
) -> list[dict]:
    """Wait until `count` deliveries of the ticket exist and all reached a final status."""

    async def check() -> list[dict]:
        items = await deliveries_of(client, tenant, ticket_id)
        return items if len(items) >= count and all(d["status"] in final for d in items) else []

    return await eventually(check, timeout=timeout)
