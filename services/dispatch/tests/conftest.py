"""Dispatch test fixtures: the service wired against real infrastructure (plugin `fixflow`)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dispatch.config import DispatchSettings
from fixflow_shared.testing.plugin import asgi_client, own_kafka, running_service

# Shared helpers of the integration tests, importable as `dispatch_test_helpers` (importlib mode
# does not put test folders on sys.path).
_spec = importlib.util.spec_from_file_location(
    "dispatch_test_helpers", Path(__file__).parent / "integration" / "_helpers.py"
)
assert _spec and _spec.loader
_helpers = importlib.util.module_from_spec(_spec)
sys.modules["dispatch_test_helpers"] = _helpers
_spec.loader.exec_module(_helpers)


@pytest.fixture(scope="session")
def kafka(fixflow_root: Path) -> Iterator[Any]:
    """A broker of dispatch's tests alone: in one pytest session every service's runtime consumes
    under its own group ids, and would otherwise react to the other services' test events."""
    yield from own_kafka(fixflow_root)


@pytest.fixture(scope="session")
async def dispatch_app(kafka: Any, make_database: Callable[[str], str], redis_url: str) -> AsyncIterator[Any]:
    async with running_service(
        "dispatch",
        DispatchSettings,
        kafka=kafka,
        make_database=make_database,
        redis_url=redis_url,
    ) as started:
        yield started


@pytest.fixture
async def client(dispatch_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(dispatch_app[1], "dispatch") as c:
        yield c
