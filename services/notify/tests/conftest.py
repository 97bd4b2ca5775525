"""Notify test fixtures: the service wired against real infrastructure (plugin `fixflow`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from notify.bootstrap import build
from notify.config import NotifySettings


@pytest.fixture(scope="session")
async def notify_app(kafka: Any, make_database: Callable[[str], str], redis_url: str) -> AsyncIterator[Any]:
    settings = NotifySettings(
        database_url=make_database("notify"),
        kafka_bootstrap_servers=kafka.bootstrap,
        redis_url=redis_url,
        relay_poll_interval_s=0.05,
    )
    runtime, app = build(settings)
    await runtime.start()
    yield runtime, app
    await runtime.stop()


@pytest.fixture
async def client(notify_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    _, app = notify_app
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notify") as c:
        yield c
