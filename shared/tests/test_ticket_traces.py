"""A ticket-scoped request without traceparent joins the ticket's trace (against the real Redis)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from redis.asyncio import Redis
from starlette.requests import Request

from fixflow_shared.ticket_traces import TicketTraces, join_ticket_traces, path_pattern, ticket_scoped_ids

pytestmark = pytest.mark.integration

TICKET_TRACE = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TICKET_TRACE}-b7ad6b7169203331-01"


@pytest.fixture
async def traces(redis_url):
    redis = Redis.from_url(redis_url)
    yield TicketTraces(redis, ttl_s=60)
    await redis.aclose()


def _public_router(seen):
    from fastapi import APIRouter

    router = APIRouter(prefix="/public")

    @router.get("/{token}")
    async def public(token: str, request: Request) -> dict:
        return seen(request)

    return router


@pytest.fixture
def spans():
    return InMemorySpanExporter()


@pytest.fixture
def provider(spans):
    p = TracerProvider()
    p.add_span_processor(SimpleSpanProcessor(spans))
    return p


def server_trace_ids(spans: InMemorySpanExporter) -> list[str]:
    return [format(s.context.trace_id, "032x") for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]


@pytest.fixture
async def client(traces, provider):
    """An app whose handlers answer with the traceparent header they saw (what OpenTelemetry's
    server middleware, inside ours, would continue)."""
    app = FastAPI()

    def seen(request: Request) -> dict:
        return {"traceparent": request.headers.get("traceparent")}

    @app.get("/v1/work-orders/{work_order_id}")
    async def work_order(work_order_id: str, request: Request) -> dict:
        return seen(request)

    @app.get("/v1/invoices")
    async def invoices(request: Request) -> dict:
        return seen(request)

    @app.post("/v1/quotes")
    async def quote(body: dict, request: Request) -> dict:
        return {**seen(request), "body": body}

    app.include_router(_public_router(seen), prefix="/v1")  # included routers: how services add theirs
    resolvers = [lambda p: p["token"].removeprefix("tok-") if "token" in p else None]
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)  # as ServiceRuntime.create_app does
    join_ticket_traces(app, traces, resolvers)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


async def test_ids_of_a_ticket_lead_to_its_trace_and_the_first_context_stays(traces):
    ticket, wo = str(uuid.uuid4()), str(uuid.uuid4())
    await traces.remember([([ticket, wo], TRACEPARENT)])
    await traces.remember([([wo], "00-11111111111111111111111111111111-2222222222222222-01")])
    assert await traces.lookup([wo]) == TRACEPARENT
    assert await traces.lookup([str(uuid.uuid4()), ticket]) == TRACEPARENT
    assert await traces.lookup([str(uuid.uuid4())]) is None


def test_only_ticket_scoped_ids_of_an_event_are_indexed():
    class Payload:
        ticket_id = "t-1"
        work_order_id = "wo-1"
        technician_id = "tech-1"  # outlives the ticket: never an entry of the index
        customer_id = "c-1"
        quote_id = None

    assert ticket_scoped_ids(Payload()) == ["t-1", "wo-1"]

    class NotAboutATicket:
        technician_id = "tech-1"

    assert ticket_scoped_ids(NotAboutATicket()) == []


async def test_a_request_naming_a_ticket_resource_gets_the_tickets_traceparent(client, traces, spans):
    ticket, wo, survey = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    await traces.remember([([ticket, wo, survey], TRACEPARENT)])

    assert (await client.get(f"/v1/work-orders/{wo}")).json()["traceparent"] == TRACEPARENT  # path
    assert (await client.get("/v1/invoices", params={"ticket_id": ticket})).json()["traceparent"] == TRACEPARENT
    posted = (await client.post("/v1/quotes", json={"ticket_id": ticket, "work": {"n": 1}})).json()
    assert posted["traceparent"] == TRACEPARENT and posted["body"] == {"ticket_id": ticket, "work": {"n": 1}}
    assert (await client.get(f"/v1/public/tok-{survey}")).json()["traceparent"] == TRACEPARENT  # resolver
    # The server spans OpenTelemetry started are in the ticket's trace.
    assert server_trace_ids(spans) == [TICKET_TRACE] * 4


async def test_requests_that_name_no_known_ticket_or_bring_their_own_context_are_left_alone(client, traces, spans):
    wo = str(uuid.uuid4())
    await traces.remember([([wo], TRACEPARENT)])
    own = "00-33333333333333333333333333333333-4444444444444444-01"
    r = await client.get(f"/v1/work-orders/{wo}", headers={"traceparent": own})
    assert r.json()["traceparent"] == own
    assert (await client.get(f"/v1/work-orders/{uuid.uuid4()}")).json()["traceparent"] is None
    assert (await client.post("/v1/quotes", json=[1, 2])).status_code in (200, 422)  # not an object: no id
    assert (await client.get("/v1/public/not-a-token")).json()["traceparent"] is None
    assert TICKET_TRACE not in server_trace_ids(spans)


def test_path_templates_become_patterns_with_their_parameters():
    m = path_pattern("/v1/jobs/{job_id}/appointments").match("/v1/jobs/JOB-1/appointments")
    assert m and m.groupdict() == {"job_id": "JOB-1"}
    assert not path_pattern("/v1/jobs/{job_id}").match("/v1/jobs/JOB-1/appointments")
