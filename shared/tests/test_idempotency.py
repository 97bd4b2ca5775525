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


async def test_a_claim_is_a_renewed_lease_so_a_dead_replicas_claim_frees_quickly(redis_url, monkeypatch):
    # A replica killed mid-request left its claim for a minute: every retry of the client on the
    # other replica got 409 "in progress" meanwhile (found by bench/chaos.py killing dispatch).
    import asyncio

    from fixflow_shared import idempotency

    monkeypatch.setattr(idempotency, "IN_FLIGHT_LEASE_S", 0.6)
    settings = ServiceSettings(database_url="postgresql+asyncpg://unused/x", http_port=1)
    app = FastAPI()
    app.state.authenticator = Authenticator(settings)
    install_problem_handlers(app)
    release = asyncio.Event()

    @app.post("/slow", status_code=201)
    async def slow(body: dict, principal: CurrentPrincipal) -> dict:
        await release.wait()
        return {"done": True}

    service = f"test-{uuid.uuid4()}"
    redis = Redis.from_url(redis_url)
    app.add_middleware(IdempotencyMiddleware, redis=redis, service=service, authenticator=app.state.authenticator)
    h = {**auth_headers("a", "agent", subject="u1"), "Idempotency-Key": "lease"}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            first = asyncio.create_task(c.post("/slow", json={}, headers=h))
            keys: list[bytes] = []
            while not keys:
                keys = [k async for k in redis.scan_iter(f"idem:{service}:*")]
                await asyncio.sleep(0.01)
            # The claim is a lease: what a replica killed now would leave lapses within it ...
            assert 0 < await redis.pttl(keys[0]) <= 600
            await asyncio.sleep(1.5)  # ... and the running request renews it: past the lease, still 409
            # A lapsed claim would let this request claim the key and wait on `release` itself: a
            # bounded wait makes that a failure here, not a hang until the suite's timeout.
            again = await asyncio.wait_for(c.post("/slow", json={}, headers=h), 10)
            assert again.status_code == 409 and not first.done()
            release.set()
            assert (await first).status_code == 201
            assert await redis.ttl(keys[0]) > 3600  # the answer is kept, not the lease
    finally:
        await redis.aclose()
