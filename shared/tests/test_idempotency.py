"""Idempotency-Key middleware against the real Redis."""

from __future__ import annotations

import itertools
import uuid

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from fixflow_shared.auth import Authenticator, CurrentPrincipal
from fixflow_shared.idempotency import IdempotencyMiddleware
from fixflow_shared.problems import install_problem_handlers
from fixflow_shared.settings import ServiceSettings
from fixflow_shared.testing import auth_headers

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(redis_url):
    counter = itertools.count(1)
    settings = ServiceSettings(database_url="postgresql+asyncpg://unused/x", http_port=1)
    app = FastAPI()
    app.state.authenticator = Authenticator(settings)
    install_problem_handlers(app)

    @app.post("/things", status_code=201)
    async def create(body: dict, principal: CurrentPrincipal) -> dict:
        return {"n": next(counter), "tenant": principal.tenant}

    redis = Redis.from_url(redis_url)
    app.add_middleware(
        IdempotencyMiddleware, redis=redis, service=f"test-{uuid.uuid4()}", authenticator=app.state.authenticator
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c
    await redis.aclose()


async def test_same_key_same_caller_replays(client):
    h = {**auth_headers("a", "agent", subject="u1"), "Idempotency-Key": "k1"}
    first = await client.post("/things", json={"x": 1}, headers=h)
    again = await client.post(
        "/things", json={"x": 1}, headers={**auth_headers("a", "agent", subject="u1"), "Idempotency-Key": "k1"}
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"


async def test_same_key_other_caller_is_not_replayed(client):
    first = await client.post(
        "/things", json={"x": 1}, headers={**auth_headers("a", "agent", subject="u1"), "Idempotency-Key": "k2"}
    )
    other = await client.post(
        "/things", json={"x": 1}, headers={**auth_headers("b", "agent", subject="u1"), "Idempotency-Key": "k2"}
    )
    assert other.json()["n"] != first.json()["n"] and other.json()["tenant"] == "b"


async def test_unauthenticated_request_is_not_cached(client):
    r = await client.post("/things", json={"x": 1}, headers={"Idempotency-Key": "k3"})
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    ok = await client.post("/things", json={"x": 1}, headers={**auth_headers("a"), "Idempotency-Key": "k3"})
    assert ok.status_code == 201


async def test_key_reused_with_other_body_is_422(client):
    h = auth_headers("a")
    await client.post("/things", json={"x": 1}, headers={**h, "Idempotency-Key": "k4"})
    r = await client.post("/things", json={"x": 2}, headers={**h, "Idempotency-Key": "k4"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


async def test_oversized_key_is_400(client):
    r = await client.post("/things", json={}, headers={**auth_headers("a"), "Idempotency-Key": "x" * 300})
    assert r.status_code == 400
