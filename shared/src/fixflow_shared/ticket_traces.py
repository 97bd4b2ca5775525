"""One trace per ticket, whoever the clients are.

A ticket's trace begins with the request that opened it. Every event about the ticket carries the
W3C `traceparent`, so consumers, timers and partners' answers stay in it (tracing.continue_trace).
HTTP requests were the gap: a browser, a technician's app or a partner's script that sends no
`traceparent` started a trace of its own with each request. Two pieces close it:

- `TicketTraces`, an index in Redis from a ticket's id, and from the ids of the ticket's resources
  (work order, appointment, job, quote, invoice, survey, ...), to the ticket's trace context. A unit
  of work records it when it commits events about a ticket; the first context recorded for an id
  stays (later events of the ticket are in the same trace anyway); `uow.joins_ticket_trace(id)` adds
  a resource no event names yet.
- `TicketTraceMiddleware`, outermost in every service's app: a request without a `traceparent` that
  names a ticket or one of its resources (a path parameter, a `ticket_id` query parameter or top-level
  JSON field, or what a service's own resolver derives from the path, e.g. survey's answer token)
  gets the ticket's `traceparent` before the server span starts. The request, and everything it
  causes, then joins the ticket's trace. The console puts it in front of its pages too (browsers
  send no `traceparent`), over the same Redis, so a page about a ticket and the calls it makes to the
  services join the ticket's trace.

Redis is a cache here, never the truth: a lost index only splits traces again, it breaks nothing. A
request that carries a `traceparent` of its own keeps it. Ids hold 80 random bits or more, so the index
needs no tenant (a guessed id finds nothing; a foreign tenant's request is refused by its route all
the same, and only its span would land in the other trace).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

from redis.asyncio import Redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fixflow_shared.logs import get_logger

log = get_logger(__name__)

KEY_PREFIX = "fixflow:trace:"
# How long an id keeps pointing at its ticket's trace: longer than a ticket stays open plus the
# survey's answer window; a request after that starts a trace of its own.
TTL_S = 90 * 24 * 3600
# Fields of an event payload that name the ticket or one of its resources (never a customer, a
# technician or a team: those outlive many tickets and must not pull requests into one ticket's trace).
TICKET_SCOPED_FIELDS = (
    "ticket_id",
    "job_id",
    "work_order_id",
    "appointment_id",
    "parts_request_id",
    "pickup_request_id",
    "quote_id",
    "invoice_id",
    "waiver_id",
    "credit_note_id",
    "refund_id",
    "payment_id",
    "survey_id",
    "revisit_id",
)
# Largest request body read to find a top-level `ticket_id` (ticket-scoped commands are small).
MAX_BODY_BYTES = 64 * 1024

Resolver = Callable[[Mapping[str, str]], str | None]


def ticket_scoped_ids(payload: Any) -> list[str]:
    """The ids an event payload gives for its ticket (empty for events not about a ticket)."""
    if not getattr(payload, "ticket_id", None):
        return []
    ids = []
    for name in TICKET_SCOPED_FIELDS:
        value = getattr(payload, name, None)
        if value:
            ids.append(str(value))
    return ids


class TicketTraces:
    """The Redis index id -> the ticket's `traceparent`."""

    def __init__(self, redis: Redis, *, ttl_s: int = TTL_S) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def remember(self, marks: Iterable[tuple[Sequence[str], str]]) -> None:
        """Record each (ids, traceparent); an id already recorded keeps its context."""
        pipe = self.redis.pipeline(transaction=False)
        n = 0
        for ids, traceparent in marks:
            for i in ids:
                pipe.set(KEY_PREFIX + i, traceparent, nx=True, ex=self.ttl_s)
                n += 1
        if n:
            await pipe.execute()

    async def lookup(self, ids: Sequence[str]) -> str | None:
        """The recorded `traceparent` of the first of `ids` that has one."""
        if not ids:
            return None
        for value in await self.redis.mget([KEY_PREFIX + i for i in ids]):
            if value:
                return value.decode() if isinstance(value, bytes) else str(value)
        return None


def _header(scope: Scope, name: bytes) -> bytes | None:
    for k, v in scope.get("headers", []):
        if k == name:
            return bytes(v)
    return None


def path_pattern(template: str) -> re.Pattern[str]:
    """`/v1/work-orders/{work_order_id}` -> a regex with a named group per path parameter."""
    parts = re.split(r"\{(\w+)(?::\w+)?\}", template)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts))
    return re.compile(f"^{regex}$")


class TicketTraceMiddleware:
    """Outermost ASGI middleware: a ticket-scoped request without `traceparent` gets the ticket's.

    `paths()` gives the app's path templates (its OpenAPI paths: public, whatever the framework's
    routing internals), read once at the first request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        traces: TicketTraces,
        paths: Callable[[], Iterable[str]],
        resolvers: Sequence[Resolver] = (),
    ) -> None:
        self.app = app
        self.traces = traces
        self._paths = paths
        self._patterns: list[re.Pattern[str]] | None = None
        self.resolvers = resolvers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _header(scope, b"traceparent") is not None:
            await self.app(scope, receive, send)
            return
        ids = self._ids_in_path(scope) + self._ids_in_query(scope)
        if not ids and scope["method"] in ("POST", "PUT", "PATCH"):
            body_id, receive = await self._id_in_body(scope, receive)
            ids = [body_id] if body_id else []
        if ids:
            try:
                traceparent = await self.traces.lookup(ids)
            except Exception as exc:  # Redis away: the request goes on, in a trace of its own
                log.warning("ticket trace lookup failed", error=repr(exc))
                traceparent = None
            if traceparent:
                scope = dict(scope)
                scope["headers"] = [*scope.get("headers", []), (b"traceparent", traceparent.encode())]
        await self.app(scope, receive, send)

    def _ids_in_path(self, scope: Scope) -> list[str]:
        if self._patterns is None:
            # Literal paths before templated ones (/v1/jobs/by-ticket/{id} before /v1/jobs/{id}/...).
            self._patterns = sorted((path_pattern(p) for p in self._paths()), key=lambda r: r.groups)
        path = scope.get("path", "")
        for pattern in self._patterns:
            m = pattern.match(path)
            if m:
                params = m.groupdict()
                ids = [v for k, v in params.items() if k.endswith("_id")]
                for resolve in self.resolvers:
                    try:
                        found = resolve(params)
                    except Exception:  # noqa: BLE001 - a resolver that cannot tell finds nothing
                        found = None
                    if found:
                        ids.append(found)
                return ids
        return []

    @staticmethod
    def _ids_in_query(scope: Scope) -> list[str]:
        query = parse_qs((scope.get("query_string") or b"").decode("latin-1"))
        return query.get("ticket_id", [])[:1]

    @staticmethod
    async def _id_in_body(scope: Scope, receive: Receive) -> tuple[str | None, Receive]:
        """A top-level `ticket_id` of a JSON body, and a `receive` that replays what was read."""
        content_type = (_header(scope, b"content-type") or b"").split(b";")[0].strip()
        length = _header(scope, b"content-length")
        if content_type != b"application/json" or not length or not length.isdigit() or int(length) > MAX_BODY_BYTES:
            return None, receive
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False) or len(body) > MAX_BODY_BYTES:
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        try:
            found = json.loads(body).get("ticket_id")
        except (ValueError, AttributeError):
            found = None
        return (found if isinstance(found, str) and found else None), replay


def join_ticket_traces(
    app: Any,
    traces: TicketTraces,
    resolvers: Sequence[Resolver] = (),
    *,
    paths: Callable[[], Iterable[str]] | None = None,
) -> None:
    """Put TicketTraceMiddleware outside everything `app` builds, OpenTelemetry's server middleware
    included (call after FastAPIInstrumentor.instrument_app): the ticket's traceparent must be in the
    request before the server span starts. `paths`: the path templates to read ids from (default:
    the app's OpenAPI paths; a web application whose pages are not in its schema gives its routes')."""
    inner = app.build_middleware_stack
    templates = paths or (lambda: app.openapi().get("paths", {}))

    def build_middleware_stack() -> ASGIApp:
        return TicketTraceMiddleware(inner(), traces=traces, paths=templates, resolvers=resolvers)

    app.build_middleware_stack = build_middleware_stack
