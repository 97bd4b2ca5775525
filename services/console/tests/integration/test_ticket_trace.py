"""Pages about a ticket join the ticket's trace: browsers send no traceparent, so the console looks
the ticket up in the index the services keep in Redis (fixflow_shared.ticket_traces), and the calls
the page makes to the services carry the ticket's trace; a page about no ticket stays in its own."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from fixflow_shared.ticket_traces import KEY_PREFIX

pytestmark = pytest.mark.integration

TRACE_ID = uuid.uuid4().hex
TICKET_TRACEPARENT = f"00-{TRACE_ID}-{uuid.uuid4().hex[:16]}-01"


def trace_of(traceparent: str | None) -> str | None:
    return traceparent.split("-")[1] if traceparent else None


async def test_a_ticket_page_and_its_calls_join_the_tickets_trace(console: Any, sign_in: Any, redis_url: str) -> None:
    ticket_id = f"T-{uuid.uuid4().hex[:12]}"
    seen: list[tuple[str, str | None]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.headers.get("traceparent")))
        if request.url.path == f"/v1/tickets/{ticket_id}/details":
            ticket = {"id": ticket_id, "status": "triaged", "kind": "repair", "channel": "phone", "round": 1}
            return httpx.Response(200, json={"ticket": ticket, "notes": [], "sla_clocks": []})
        if request.url.path == f"/v1/tickets/{ticket_id}/timeline":
            return httpx.Response(200, json={"ticket_id": ticket_id, "events": []})
        return httpx.Response(404, json={"title": "Not found", "status": 404})

    redis = Redis.from_url(redis_url)
    await redis.set(KEY_PREFIX + ticket_id, TICKET_TRACEPARENT, ex=600)  # what intake's unit of work records
    await redis.aclose()
    c = await console()
    services = c.app.state.services
    await services.http.aclose()
    services.http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    for client in services.all():
        client.http = services.http
    await sign_in(c, roles=("agent",))

    seen.clear()
    page = await c.get(f"/tickets/{ticket_id}")
    assert page.status_code == 200, page.text[-300:]
    calls = {path: trace_of(tp) for path, tp in seen}
    assert calls[f"/v1/tickets/{ticket_id}/details"] == TRACE_ID, calls
    assert set(calls.values()) == {TRACE_ID}, "every call the page made is in the ticket's trace"

    seen.clear()
    await c.get("/desk?q=nobody")
    assert seen and all(trace_of(tp) not in (None, TRACE_ID) for _, tp in seen), "another page: a trace of its own"
