"""GET /live: Server-Sent Events for the open pages of a signed-in user (tenant and roles of the
session). Events are named by channel (board, tickets, followup, kpi) and `ticket-<id>`; the data
is JSON with identifiers only. The stream ends when the session does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from console.domain.live import sse_events
from console.entrypoints.web import SessionDep, store_of
from console.service_layer.live import LiveHub

router = APIRouter(include_in_schema=False)
SESSION_CHECK_S = 30.0


@router.get("/live", response_class=EventSourceResponse)
async def live(request: Request, session: SessionDep) -> AsyncIterator[ServerSentEvent]:
    hub: LiveHub = request.app.state.hub
    roles = frozenset(session.roles)
    sub = hub.subscribe(session.tenant, roles)
    checked = time.monotonic()
    try:
        yield ServerSentEvent(event="hello", data={"tenant": session.tenant}, retry=2000)
        while True:
            try:
                msg = await asyncio.wait_for(sub.queue.get(), SESSION_CHECK_S)
            except TimeoutError:
                msg = None
                if await request.is_disconnected():
                    return
            if sub.overflowed:
                sub.overflowed = False
                yield ServerSentEvent(event="resync", data={})
            if msg is not None:
                for name, data in sse_events(msg, roles):
                    yield ServerSentEvent(event=name, data=data)
                sub.delivered += 1
            elif sub.queue.empty() and request.app.state.stopping:
                return
            if time.monotonic() - checked > SESSION_CHECK_S:
                checked = time.monotonic()
                if not await store_of(request).alive(session.id):
                    yield ServerSentEvent(event="signed-out", data={})
                    return
    finally:
        hub.unsubscribe(sub)
