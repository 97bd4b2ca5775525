"""One service in-process against real infrastructure: the fixtures every service's conftest needs.

In services/<name>/tests/conftest.py:

    kafka, service_app, billing_app, client = service_fixtures("billing", BillingSettings)

gives these fixtures:

kafka          a broker of this service's tests alone (session): in one pytest session every
               service's runtime consumes under its own group ids, and would otherwise react to the
               other services' test events
service_app    (runtime, app) of the service, started on that broker, a fresh migrated database
               and the session's Redis (session); `<name>_app` is the same under the service's name
client         an httpx.AsyncClient on the app (per test)

Keyword arguments are settings for the service. Settings that need other fixtures (a test SMTP
server's port, ...) come from a session fixture named `service_settings` returning a dict, which a
conftest may define (the plugin's default is empty).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fixflow_shared.testing.plugin import asgi_client, own_kafka, running_service
from fixflow_shared.testing.waiting import eventually


def service_fixtures(name: str, settings_cls: type[Any], **settings: Any) -> tuple[Any, Any, Any, Any]:
    """The (kafka, service_app, <name>_app, client) fixtures of a service's tests; assign them in its
    conftest (pytest finds fixtures among a conftest's module attributes)."""

    @pytest.fixture(scope="session", name="kafka")
    def kafka(fixflow_root: Path) -> Iterator[Any]:
        yield from own_kafka(fixflow_root)

    @pytest.fixture(scope="session", name="service_app")
    async def service_app(
        kafka: Any, make_database: Callable[[str], str], redis_url: str, service_settings: dict[str, Any]
    ) -> AsyncIterator[tuple[Any, Any]]:
        async with running_service(
            name,
            settings_cls,
            kafka=kafka,
            make_database=make_database,
            redis_url=redis_url,
            **{**settings, **service_settings},
        ) as started:
            yield started

    @pytest.fixture(scope="session", name=f"{name}_app")
    def named_app(service_app: tuple[Any, Any]) -> tuple[Any, Any]:
        return service_app

    @pytest.fixture(name="client")
    async def client(service_app: tuple[Any, Any]) -> AsyncIterator[Any]:
        async with asgi_client(service_app[1], name) as c:
            yield c

    return kafka, service_app, named_app, client


async def outbox_sent(runtime: Any, *, key: str | None = None, timeout: float = 20.0) -> None:
    """Wait until the relay has published every outbox row of `runtime` (with message key `key`,
    e.g. a ticket id, if given): then its events are on the broker."""
    from sqlalchemy import func, select

    outbox = runtime.outbox
    unsent = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
    if key is not None:
        unsent = unsent.where(outbox.c.key == key)

    async def count() -> int:
        async with runtime.engine.connect() as conn:
            return int(await conn.scalar(unsent) or 0)

    await eventually(count, lambda n: n == 0, timeout=timeout, what=f"{runtime.name}'s outbox sent")
