"""pytest plugin `fixflow`: session fixtures for real Kafka, PostgreSQL, Redis and SMTP.

kafka           a fresh single-node broker for the session (KafkaBroker: .bootstrap, .kill())
stores          PostgreSQL + Redis running (installed by the repo script if missing)
make_database   factory: a fresh, migrated database for a service, dropped at the end
redis_url       a Redis database flushed for the session
service_settings  settings for the service under test that depend on fixtures (default empty)
smtp_server     a real SMTP server (aiosmtpd) collecting messages
zipkin          the local trace viewer (ZipkinServer: .spans_endpoint, .traces(), .trace(id))
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from fixflow_shared.testing.infra import KafkaBroker, LocalStores, free_port, repo_root, unique_db_name, use_docker


def session_secrets() -> None:
    """Fresh secrets for this test session (services started as processes inherit them): no key
    is a constant in the code, and a session never reads a developer's own secrets file."""
    import json
    import os
    import secrets

    os.environ.setdefault("FIXFLOW_JWT_DEV_SECRET", secrets.token_urlsafe(48))
    os.environ.setdefault("SURVEY_ANSWER_TOKEN_SECRETS", json.dumps([secrets.token_urlsafe(48)]))


def pytest_configure(config: pytest.Config) -> None:
    session_secrets()
    # Property tests: no per-example deadline (a loaded 2-core machine is slow, not wrong); in CI
    # the examples are derandomized so a run is repeatable, while developers' runs keep exploring.
    import os

    from hypothesis import settings as hypothesis_settings

    hypothesis_settings.register_profile("dev", deadline=None)
    hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
    hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
    config.addinivalue_line("markers", "integration: needs real Kafka/PostgreSQL/Redis")
    # Consumers refuse payload fields their contract does not declare (services started as
    # processes inherit it): a producer sending, or a test faking, an undeclared field fails loudly.
    os.environ.setdefault("FIXFLOW_STRICT_CONTRACTS", "1")
    config.addinivalue_line("markers", "e2e: runs several services as processes")


@pytest.fixture(scope="session")
def fixflow_root(pytestconfig: pytest.Config) -> Path:
    return repo_root(Path(pytestconfig.rootpath))


class _DockerKafka:
    def __init__(self) -> None:
        from testcontainers.kafka import KafkaContainer

        self._c = KafkaContainer().with_kraft()
        self._c.start()
        self.bootstrap = self._c.get_bootstrap_server()

    def kill(self) -> None:
        self._c.get_wrapped_container().kill()

    def start(self) -> None:
        self._c.get_wrapped_container().start()

    def cleanup(self) -> None:
        self._c.stop()


def own_kafka(root: Path) -> Iterator[Any]:
    """A fresh broker with the project's topics; a conftest may yield from this to give its tests
    a broker of their own (service runtimes of one pytest session must not share one)."""
    if use_docker():
        broker: Any = _DockerKafka()
    else:
        broker = KafkaBroker(root=root)
        broker.start()
    from fixflow_shared.topics import ensure_topics

    asyncio.run(ensure_topics(broker.bootstrap))
    yield broker
    broker.cleanup()


@pytest.fixture(scope="session")
def kafka(fixflow_root: Path) -> Iterator[Any]:
    yield from own_kafka(fixflow_root)


class _Stores:
    """Where PostgreSQL (one role per service, password = name) and Redis answer."""

    def __init__(self, pg_host: str, pg_port: int, redis_url: str, superuser_url: str | None) -> None:
        self.pg_host, self.pg_port, self.redis_url, self.superuser_url = pg_host, pg_port, redis_url, superuser_url

    def url(self, service: str, database: str) -> str:
        return f"postgresql+asyncpg://{service}:{service}@{self.pg_host}:{self.pg_port}/{database}"


@pytest.fixture(scope="session")
def stores(fixflow_root: Path) -> Iterator[_Stores]:
    if use_docker():
        from testcontainers.postgres import PostgresContainer
        from testcontainers.redis import RedisContainer

        pg = PostgresContainer("postgres:16", username="postgres", password="postgres").start()
        rd = RedisContainer("redis:7").start()
        host, port = pg.get_container_host_ip(), int(pg.get_exposed_port(5432))
        su = f"postgresql://postgres:postgres@{host}:{port}/postgres"

        async def roles() -> None:
            conn = await asyncpg.connect(su)
            for s in ("intake", "dispatch", "billing", "survey", "notify", "insight"):
                await conn.execute(
                    f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='{s}') THEN "
                    f"CREATE ROLE {s} LOGIN CREATEDB PASSWORD '{s}'; END IF; END$$"
                )
                if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname=$1", s):
                    await conn.execute(f"CREATE DATABASE {s} OWNER {s}")
            await conn.close()

        asyncio.run(roles())
        redis_url = f"redis://{rd.get_container_host_ip()}:{rd.get_exposed_port(6379)}/15"
        yield _Stores(host, port, redis_url, su)
        pg.stop()
        rd.stop()
    else:
        local = LocalStores(fixflow_root)
        local.start()
        yield _Stores("127.0.0.1", local.pg_port, local.redis_url, None)


@pytest.fixture(scope="session")
def make_database(stores: _Stores, fixflow_root: Path) -> Iterator[Callable[[str], str]]:
    """make_database("intake") -> URL of a new database with intake's migrations applied."""
    from fixflow_shared.migrations import upgrade

    created: list[tuple[str, str]] = []

    def make(service: str) -> str:
        # In a thread of its own: callers may be async fixtures, and alembic runs its own loop.
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(_make, service).result()

    def _make(service: str) -> str:
        name = unique_db_name(service)

        async def create() -> None:
            conn = await asyncpg.connect(stores.url(service, service).replace("+asyncpg", ""))
            await conn.execute(f'CREATE DATABASE "{name}"')
            await conn.close()

        asyncio.run(create())
        created.append((service, name))
        url = stores.url(service, name)
        upgrade(fixflow_root / "services" / service, url)
        return url

    yield make

    # Together, not one by one: every DROP DATABASE waits for a checkpoint (about 0.5 s each; a
    # whole suite's few hundred took over a minute), and drops waiting at once share one.
    async def drop(service: str, name: str, slots: asyncio.Semaphore) -> None:
        async with slots:
            conn = await asyncpg.connect(stores.url(service, service).replace("+asyncpg", ""))
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()

    async def drop_all() -> None:
        slots = asyncio.Semaphore(16)
        await asyncio.gather(*(drop(service, name, slots) for service, name in created))

    asyncio.run(drop_all())


def flushed_redis_db(stores: Any, index: int | None = None) -> str:
    """URL of a Redis database emptied for this session (`index` picks another database, for
    tests whose service processes must not share timer wheels with the in-process runtimes)."""
    import redis

    url = stores.redis_url if index is None else stores.redis_url.rsplit("/", 1)[0] + f"/{index}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return str(url)


@pytest.fixture(scope="session")
def redis_url(stores: _Stores) -> str:
    return flushed_redis_db(stores)


@pytest.fixture(scope="session")
def service_settings() -> dict[str, Any]:
    """Settings for the service under test that depend on other fixtures; a service's conftest
    overrides this (see fixflow_shared.testing.services)."""
    return {}


class SmtpInbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd hook
        self.messages.append(message_from_bytes(envelope.content))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [m for m, (_, rcpts) in zip(self.messages, self.envelopes, strict=True) if address in rcpts]


class SmtpServer:
    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.inbox = SmtpInbox()
        self.port = free_port()
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def otlp_receiver() -> Iterator[Any]:
    from fixflow_shared.testing.otlp import OtlpReceiver

    receiver = OtlpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def zipkin(fixflow_root: Path) -> Iterator[Any]:
    from fixflow_shared.testing.zipkin import ZipkinServer

    server = ZipkinServer(root=fixflow_root)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sms_gateway() -> Iterator[Any]:
    from fixflow_shared.testing.sms_gateway import SmsGateway

    gateway = SmsGateway()
    gateway.start()
    yield gateway
    gateway.stop()


@contextlib.asynccontextmanager
async def running_service(
    name: str,
    settings_cls: type[Any],
    *,
    kafka: Any,
    make_database: Callable[[str], str],
    redis_url: str,
    clock: Any = None,
    **overrides: Any,
) -> AsyncIterator[tuple[Any, Any]]:
    """A service's runtime and app, started in-process against the test infrastructure. `clock`
    (a fixflow_shared.clock.Clock) replaces the wall clock for the whole service."""
    import importlib

    settings = settings_cls(
        database_url=make_database(name),
        kafka_bootstrap_servers=kafka.bootstrap,
        redis_url=redis_url,
        # the relay at its production poll: a commit's NOTIFY wakes it at once; polling every
        # 50 ms, as before, cost each in-process service 20 transactions a second on the tests' loop
        **overrides,
    )
    runtime, app = importlib.import_module(f"{name}.bootstrap").build(settings, clock=clock)
    await runtime.start()
    try:
        yield runtime, app
    finally:
        await runtime.stop()


@contextlib.asynccontextmanager
async def asgi_client(app: Any, name: str) -> AsyncIterator[Any]:
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}") as c:
        yield c
