"""Portal test fixtures: the portal in-process against the session's Redis (plugin `fixflow`), the
five services replaced by a recording fake transport."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest

from portal.bootstrap import build
from portal.config import PortalSettings
from portal.entrypoints.web import COOKIE

NOWHERE = "http://127.0.0.1:9"
PORTS = {"intake": 18001, "dispatch": 18002, "billing": 18003, "survey": 18004, "notify": 18005}
Handler = Callable[[httpx.Request], Any]


@dataclass
class Call:
    service: str
    method: str
    path: str
    params: dict[str, str]
    body: Any
    headers: dict[str, str]

    @property
    def claims(self) -> dict[str, Any]:
        """The claims of the token the portal sent (not checked: the services check it)."""
        token = self.headers.get("authorization", "").removeprefix("Bearer ")
        return jwt.decode(token, options={"verify_signature": False}) if token else {}


@dataclass
class FakeServices:
    """Routes `(service, METHOD, path)` -> a JSON body, an httpx.Response or a function of the call."""

    routes: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def on(self, service: str, method: str, path: str, answer: Any) -> None:
        self.routes[(service, method, path)] = answer

    def made(self, service: str, method: str | None = None, path: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.service == service and (method is None or c.method == method) and (path is None or c.path == path)
        ]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        service = next(s for s, p in PORTS.items() if p == request.url.port)
        body: Any = None
        if request.content and request.headers.get("content-type", "").startswith("application/json"):
            body = json.loads(request.content)
        elif request.content:
            body = bytes(request.content)  # an image
        call = Call(
            service,
            request.method,
            request.url.path,
            dict(request.url.params),
            body,
            {k.lower(): v for k, v in request.headers.items()},
        )
        self.calls.append(call)
        answer = self.routes.get((service, request.method, request.url.path))
        if callable(answer):
            answer = answer(call)
        if answer is None:
            return problem(404, "Not found")
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)


def problem(status: int, title: str, detail: str = "") -> httpx.Response:
    return httpx.Response(
        status,
        json={"type": "about:blank", "title": title, "status": status, "detail": detail},
        headers={"content-type": "application/problem+json"},
    )


@pytest.fixture
def fake() -> FakeServices:
    return FakeServices()


@pytest.fixture(name="problem")
def problem_fixture() -> Callable[..., httpx.Response]:
    """problem(status, title, detail="") -> a service's problem+json answer."""
    return problem


@pytest.fixture
async def portal(redis_url: str, fake: FakeServices) -> AsyncIterator[Callable[..., Any]]:
    """portal(**settings) -> an httpx client on a freshly built portal whose service calls go to `fake`."""
    stack: list[Any] = []

    async def make(**kw: Any) -> httpx.AsyncClient:
        settings = PortalSettings(
            **{
                "redis_url": redis_url,
                "environment": "test",
                "timezone": "UTC",
                "default_locale": "en",
                "default_tenant": "acme",
                **{f"{s}_url": f"http://127.0.0.1:{p}" for s, p in PORTS.items()},
                **kw,
            }
        )
        app = build(settings)
        ctx = app.router.lifespan_context(app)
        await ctx.__aenter__()
        services = app.state.services
        await services.http.aclose()
        services.http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
        for client in services.all():
            client.http = services.http
        for pattern in ("portal:*", "rl:portal:*"):  # a clean slate for codes, sessions and limits
            async for key in app.state.redis.scan_iter(match=pattern):
                await app.state.redis.delete(key)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 50000)),
            base_url="http://portal.test",
            headers={"Accept-Language": "en"},
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
    return signed_in


async def signed_in(
    client: httpx.AsyncClient,
    *,
    role: str = "customer",
    tenant: str = "acme",
    who: str = "C-1",
    scope: str | None = None,
) -> Any:
    """A session for a customer (`who` is the customer id) or a technician (the technician id)."""
    app: Any = client.app  # type: ignore[attr-defined]
    tokens = app.state.tokens
    if role == "customer":
        issued = tokens.customer(tenant=tenant, customer_id=who, ttl_s=3600)
        extra = {"customer_id": who, "scope": scope}
    else:
        issued = tokens.technician(tenant=tenant, technician_id=who, name="Zhang Wei", ttl_s=3600)
        extra = {"technician_id": who}
    session = await app.state.sessions.create(
        subject=f"{role}:{who}",
        name="Zhang Wei" if role == "technician" else "",
        tenant=tenant,
        roles=[role],
        token=issued.token,
        token_expires_at=issued.expires_at,
        via="test",
        **extra,
    )
    client.cookies.set(COOKIE, session.id)
    return session
