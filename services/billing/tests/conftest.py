"""Billing test fixtures: the service wired against real infrastructure (plugin `fixflow`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from billing.config import BillingSettings
from fixflow_shared.testing.plugin import asgi_client, own_kafka, running_service


@pytest.fixture(scope="session")
def kafka(fixflow_root: Path) -> Iterator[Any]:
    """A broker of billing's tests alone: in one pytest session every service's runtime consumes
    under its own group ids, and would otherwise react to the other services' test events."""
    yield from own_kafka(fixflow_root)


@pytest.fixture(scope="session")
async def billing_app(kafka: Any, make_database: Callable[[str], str], redis_url: str) -> AsyncIterator[Any]:
    async with running_service(
        "billing",
        BillingSettings,
        kafka=kafka,
        make_database=make_database,
        redis_url=redis_url,
    ) as started:
        yield started


@pytest.fixture
async def client(billing_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(billing_app[1], "billing") as c:
        yield c
