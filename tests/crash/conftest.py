"""Crash tests: services and brokers are killed with SIGKILL under load, so they get a Kafka cluster,
a Redis database and service processes of their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixflow_shared.testing.plugin import flushed_redis_db


@pytest.fixture(scope="session")
def kafka_cluster(fixflow_root: Path) -> Iterator[Any]:
    """Three brokers (replication 3, min.insync.replicas 2) with the project's topics."""
    from fixflow_shared.testing.cluster import KafkaCluster

    cluster = KafkaCluster(fixflow_root)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.cleanup()


@pytest.fixture(scope="session")
def redis_url(stores: Any) -> str:
    return flushed_redis_db(stores, 13)
