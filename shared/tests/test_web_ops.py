"""A web application's operations endpoints: ready only while its Redis (the sessions) answers."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request

from fixflow_shared.web.ops import install_ops


class _Redis:
    def __init__(self, up: bool) -> None:
        self.up = up

    async def ping(self) -> bool:
        if not self.up:
            raise ConnectionError("refused")
        return True


def _app(redis: _Redis) -> httpx.AsyncClient:
    app = FastAPI()
    app.state.redis = redis

    def broker(request: Request) -> dict[str, str]:
        return {"live_updates": "connecting"}

    install_ops(app, "webapp", reported=broker)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://webapp.test")


async def test_ready_while_redis_answers_and_the_reported_checks_do_not_count():
    redis = _Redis(up=True)
    async with _app(redis) as c:
        assert (await c.get("/healthz")).json() == {"status": "ok", "service": "webapp"}
        ready = await c.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ok", "checks": {"redis": "ok", "live_updates": "connecting"}}
        redis.up = False
        down = await c.get("/readyz")
        assert down.status_code == 503 and down.json()["status"] == "unavailable"
        assert down.json()["checks"]["redis"] == "error: ConnectionError"
        assert (await c.get("/healthz")).status_code == 200
        assert (await c.get("/metrics")).status_code == 200
