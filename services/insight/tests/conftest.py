"""Insight test fixtures: the service wired against real infrastructure (plugin `fixflow`)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixflow_shared.testing.plugin import asgi_client, own_kafka, running_service
from insight.bootstrap import build
from insight.config import InsightSettings

# The known event streams, importable as `insight_test_streams` (importlib mode does not put test
# folders on sys.path); the benchmark loads the same file.
_spec = importlib.util.spec_from_file_location("insight_test_streams", Path(__file__).parent / "streams.py")
assert _spec and _spec.loader
_streams = importlib.util.module_from_spec(_spec)
sys.modules["insight_test_streams"] = _streams
_spec.loader.exec_module(_streams)


@pytest.fixture(scope="session")
def kafka(fixflow_root: Path) -> Iterator[Any]:
    """A broker of insight's tests alone (insight consumes every topic)."""
    yield from own_kafka(fixflow_root)


@pytest.fixture(scope="session")
def insight_db(make_database: Callable[[str], str]) -> str:
    return make_database("insight")


@pytest.fixture(scope="session")
async def projector_runtime(insight_db: str, redis_url: str) -> AsyncIterator[Any]:
    """A runtime that is built, not started: its units of work reach the database, nothing else."""
    runtime, _ = build(
        InsightSettings(
            database_url=insight_db, redis_url=redis_url, run_consumers=False, run_relay=False, run_timers=False
        )
    )
    yield runtime
    await runtime.engine.dispose()


@pytest.fixture(scope="session")
async def insight_app(kafka: Any, make_database: Callable[[str], str], redis_url: str) -> AsyncIterator[Any]:
    async with running_service(
        "insight",
        InsightSettings,
        kafka=kafka,
        make_database=make_database,
        redis_url=redis_url,
        consumer_batch_wait_ms=10,
        timer_poll_s=0.2,
        timer_reseed_s=1.0,
    ) as started:
        yield started


@pytest.fixture
async def client(insight_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(insight_app[1], "insight") as c:
        yield c
