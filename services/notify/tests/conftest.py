"""Notify test fixtures: the service wired against real infrastructure (plugin `fixflow`): a real
broker, PostgreSQL, Redis, an aiosmtpd SMTP server and two local HTTP SMS gateways."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from fixflow_shared.testing.services import service_fixtures

# http_receiver and notify_helpers are imported by name (importlib mode adds no test folder).
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


kafka, service_app, notify_app, client = service_fixtures(
    "notify",
    NotifySettings,
    send_max_attempts=3,
    send_backoff_initial_s=0.05,
    send_backoff_max_s=0.2,
    sweep_interval_s=0.2,
    lease_s=10.0,
    rate_limits={"t-rate": 2},
)


@pytest.fixture(scope="session")
def service_settings(smtp_server: Any, sms_primary: HttpReceiver, sms_failover: HttpReceiver) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_server.port,
        "sms_primary_url": sms_primary.url,
        "sms_failover_url": sms_failover.url,
        "webhook_allowed_networks": ["127.0.0.0/8"],  # the test receivers are local
    }


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


@pytest.fixture
def ticket_id() -> Iterator[str]:
    yield "T-" + uuid.uuid4().hex[:20]
