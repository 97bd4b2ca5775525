"""Crash tests: services and the broker are killed with SIGKILL under load, so they get a broker,
a Redis database and service processes of their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixflow_shared.testing.plugin import own_kafka


@pytest.fixture(scope="session")
def kafka(fixflow_root: Path) -> Iterator[Any]:
    yield from own_kafka(fixflow_root)


@pytest.fixture(scope="session")
def redis_url(stores: Any) -> str:
    import redis

    url = stores.redis_url.rsplit("/", 1)[0] + "/13"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url
