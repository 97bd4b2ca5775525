"""The six services in-process (one event loop, their own broker and Redis database), for the
security tests: hostile input, the authorisation matrix, schemathesis and the PII log check."""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixflow_shared.testing.plugin import flushed_redis_db, own_kafka, running_service

# The security tests' helper modules import by name (importlib mode does not add this folder).
sys.path.insert(0, str(Path(__file__).parent))

from authz_world import PARTNER_TENANT, World, build_world, partner_key_config  # noqa: E402

SERVICES = ("intake", "dispatch", "billing", "survey", "notify", "insight")


@pytest.fixture(scope="session")
def kafka(fixflow_root: Path) -> Iterator[Any]:
    yield from own_kafka(fixflow_root)


@pytest.fixture(scope="session")
def redis_url(stores: Any) -> str:
    return flushed_redis_db(stores, 13)


def settings_class(name: str) -> type[Any]:
    module = importlib.import_module(f"{name}.config")
    return next(v for k, v in vars(module).items() if k.endswith("Settings") and k != "ServiceSettings")


@pytest.fixture(scope="session")
async def apps(kafka: Any, make_database: Callable[[str], str], redis_url: str) -> AsyncIterator[dict[str, Any]]:
    """name -> FastAPI app of each running service."""
    async with contextlib.AsyncExitStack() as stack:
        started = {}
        for name in SERVICES:
            _, app = await stack.enter_async_context(
                running_service(
                    name,
                    settings_class(name),
                    kafka=kafka,
                    make_database=make_database,
                    redis_url=redis_url,
                    partner_api_keys=partner_key_config(PARTNER_TENANT),
                )
            )
            started[name] = app
        yield started


@pytest.fixture(scope="session")
async def clients(apps: dict[str, Any]) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    async with contextlib.AsyncExitStack() as stack:
        out = {}
        for name, app in apps.items():
            out[name] = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url=f"http://{name}"
                )
            )
        yield out


@pytest.fixture(scope="session")
async def world(clients: dict[str, httpx.AsyncClient]) -> World:
    """Two customers and their technicians with every kind of object (authz_world.py)."""
    return await build_world(clients, PARTNER_TENANT)
