"""Console test fixtures: the console in-process against the session's Redis (plugin `fixflow`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from console.bootstrap import build
from console.config import ConsoleSettings

NOWHERE = "http://127.0.0.1:9"  # no service answers here: a page that needs one shows its problem


@pytest.fixture
def console_settings(redis_url: str) -> Callable[..., ConsoleSettings]:
    def make(**kw: Any) -> ConsoleSettings:
        base: dict[str, Any] = {
            "redis_url": redis_url,
            "live_updates": False,
            "environment": "test",
            **{f"{s}_url": NOWHERE for s in ("intake", "dispatch", "billing", "survey", "notify", "insight")},
        }
        return ConsoleSettings(**{**base, **kw})

    return make


@pytest.fixture
async def console(console_settings: Callable[..., ConsoleSettings]) -> AsyncIterator[Callable[..., Any]]:
    """console(**settings) -> an httpx client on a freshly built console (lifespan run)."""
    stack: list[Any] = []

    async def make(**kw: Any) -> httpx.AsyncClient:
        app = build(console_settings(**kw))
        ctx = app.router.lifespan_context(app)
        await ctx.__aenter__()
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://console.test", headers={"Accept-Language": "en"}
        )
        client.app = app  # type: ignore[attr-defined]
        stack.append((ctx, client))
        return client

    yield make
    for ctx, client in reversed(stack):
        await client.aclose()
        await ctx.__aexit__(None, None, None)


@pytest.fixture
def sign_in() -> Callable[..., Any]:
    return _sign_in


async def _sign_in(
    client: httpx.AsyncClient, *, tenant: str = "acme", roles: tuple[str, ...] = ("agent",), name: str = "Li Na"
) -> str:
    """Development sign-in through the form, as a browser does; returns the session's CSRF token."""
    page = await client.get("/login")
    assert page.status_code == 200
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = await client.post(
        "/login/dev",
        data={"tenant": tenant, "name": name, "roles": list(roles), "csrf_token": token, "next": ""},
    )
    assert r.status_code == 303, r.text
    desk = await client.get(r.headers["location"])
    assert desk.status_code in (200, 502), desk.text[:300]
    return desk.text.split('"X-CSRF-Token": "', 1)[1].split('"', 1)[0]
