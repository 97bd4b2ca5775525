"""Billing test fixtures: the service wired against real infrastructure (plugin `fixflow`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixflow_shared.testing.plugin import own_kafka
from billing.bootstrap import build
from billing.config import BillingSettings


@pytest.fixture(scope="session")
def kafka(fixflow_root: Path) -> Iterator[Any]:
    """A broker of billing's tests alone: in one pytest session every service's runtime consumes
    under its own group ids, and would otherwise react to the other services' test events."""
    yield from own_kafka(fixflow_root)


@pytest.fixture(scope="session")
async def billing_app(kafka: Any, make_database: Callable[[str], str], redis_url: str) -> AsyncIterator[Any]:
    settings = BillingSettings(
        database_url=make_database("billing"),
        kafka_bootstrap_servers=kafka.bootstrap,
        redis_url=redis_url,
        relay_poll_interval_s=0.05,
    )
    runtime, app = build(settings)
    await runtime.start()
    yield runtime, app
    await runtime.stop()


@pytest.fixture
async def client(billing_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    _, app = billing_app
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://billing") as c:
        yield c
