"""Crash tests: services and the broker are killed with SIGKILL under load, so they get a broker,
a Redis database and service processes of their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixflow_shared.testing.plugin import flushed_redis_db, own_kafka


@pytest.fixture(scope="session")
def kafka(fixflow_root: Path) -> Iterator[Any]:
    yield from own_kafka(fixflow_root)


@pytest.fixture(scope="session")
def redis_url(stores: Any) -> str:
    return flushed_redis_db(stores, 13)
