"""Readiness: a Kafka outage the outbox absorbs keeps the service in rotation; a database or
Redis outage takes it out."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


async def test_kafka_away_degrades_but_keeps_the_service_ready(client, intake_app, monkeypatch):
    runtime, _ = intake_app

    async def unreachable(timeout: float) -> bool:
        return False

    monkeypatch.setattr(runtime.broker, "ping", unreachable)
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "redis": "ok", "kafka": "error: unreachable"},
    }


async def test_redis_away_takes_the_service_out_of_rotation(client, intake_app, monkeypatch):
    runtime, _ = intake_app

    async def refused() -> None:
        raise ConnectionError("redis away")

    monkeypatch.setattr(runtime.redis, "ping", refused)
    ready = await client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["status"] == "unavailable", ready.text
    assert ready.json()["checks"]["redis"] == "error: ConnectionError"
