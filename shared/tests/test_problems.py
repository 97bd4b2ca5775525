"""The one problem+json handler the app factory installs: every error kind, validation, 405 with
every allowed method, an unexpected exception (a 500 that tells nothing), and the OpenAPI document."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from fixflow_shared import errors
from fixflow_shared.auth import CurrentPrincipal
from fixflow_shared.db import add_audit_table, add_messaging_tables, new_metadata
from fixflow_shared.problems import INTERNAL_DETAIL, PROBLEM_JSON, ProblemDetails, problem_responses
from fixflow_shared.runtime import ServiceRuntime
from fixflow_shared.settings import ServiceSettings
from fixflow_shared.testing import auth_headers

SECRET = "db password hunter2 for li.wei@example.com 13812345678"


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=10)
    count: int = Field(ge=1)


class Rejected(errors.RuleViolation):
    title = "Thing rejected"


# (raised error, status, title, type slug, extension members, headers)
KINDS = {
    "bad-request": (errors.BadRequest("invalid cursor"), 400, "Bad request", "bad-request", {}, {}),
    "unauthorized": (
        errors.Unauthorized("token expired"),
        401,
        "Unauthorized",
        "unauthorized",
        {},
        {"www-authenticate": "Bearer"},
    ),
    "forbidden": (errors.Forbidden("requires manager"), 403, "Forbidden", "forbidden", {}, {}),
    "not-found": (errors.NotFound("ticket", "T-1"), 404, "Not found", "not-found", {"kind": "ticket", "id": "T-1"}, {}),
    "conflict": (errors.Conflict("sold already"), 409, "Conflict", "conflict", {}, {}),
    "illegal-transition": (
        errors.IllegalTransition("ticket", "closed", "resolved", allowed={"reopened"}),
        409,
        "Conflict",
        "conflict",
        {
            "kind": "ticket",
            "current_status": "closed",
            "target": "resolved",
            "allowed_transitions": ["reopened"],
        },
        {},
    ),
    "gone": (errors.Gone("expired"), 410, "Gone", "gone", {}, {}),
    "unprocessable": (
        errors.Unprocessable("supply at least one fact"),
        422,
        "Validation failed",
        "validation-error",
        {},
        {},
    ),
    "rule": (errors.RuleViolation("no qualified technician"), 422, "Rule violated", "rule-violated", {}, {}),
    "subclass": (Rejected("too heavy", limit_kg=20), 422, "Thing rejected", "thing-rejected", {"limit_kg": 20}, {}),
    "too-many": (
        errors.TooManyRequests("slow down", retry_after_s=30),
        429,
        "Too many requests",
        "too-many-requests",
        {},
        {"retry-after": "30"},
    ),
    "unavailable": (
        errors.Unavailable("the routing engine is down", retry_after_s=5),
        503,
        "Service unavailable",
        "service-unavailable",
        {},
        {"retry-after": "5"},
    ),
}


@pytest.fixture(scope="module")
def app():
    metadata = new_metadata()
    add_messaging_tables(metadata)
    add_audit_table(metadata)
    settings = ServiceSettings(database_url="postgresql+asyncpg://unused:unused@127.0.0.1:1/unused", http_port=1)
    runtime = ServiceRuntime(name="probe", settings=settings, metadata=metadata)
    things, more_things = APIRouter(), APIRouter()

    @things.get("/errors/{kind}", responses=problem_responses(404, 409))
    async def raise_one(kind: str) -> None:
        raise KINDS[kind][0]

    @things.get("/things")
    async def list_things(principal: CurrentPrincipal) -> list[str]:
        return []

    @more_things.post("/things", status_code=201)
    async def create_thing(body: Thing, principal: CurrentPrincipal) -> Thing:
        return body

    @more_things.get("/store-down/{which}")
    async def store_down(which: str) -> None:
        import asyncpg
        from redis.exceptions import ConnectionError as RedisConnectionError
        from sqlalchemy.exc import DBAPIError

        if which == "postgres-restarting":  # what a request saw while `pg_ctlcluster ... restart -m fast` ran
            cause = asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command")
            try:
                raise cause
            except asyncpg.exceptions.AdminShutdownError as exc:
                raise DBAPIError("SELECT 1", {}, exc) from exc
        if which == "postgres-refused":
            raise ConnectionRefusedError(111, "Connect call failed")
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379")

    @more_things.get("/boom/{customer_phone}")
    async def boom(customer_phone: str) -> None:
        raise RuntimeError(f"{SECRET} {customer_phone}")

    # a probe of the error plumbing: its routes are no service's and name no action of the policy table
    return runtime.create_app(title="probe", routers=[things, more_things], require_actions=False)


@pytest.fixture
async def client(app):
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as c:
        yield c


def problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body = r.json()
    ProblemDetails.model_validate(body)  # the documented schema
    assert body["status"] == status and body["type"].startswith("urn:fixflow:problem:")
    assert body["instance"] == r.request.url.path
    return body


@pytest.mark.parametrize("kind", list(KINDS))
async def test_each_error_kind_answers_its_problem(client, kind):
    err, status, title, slug, members, headers = KINDS[kind]
    body = problem(await client.get(f"/v1/errors/{kind}"), status)
    assert body["title"] == title and body["type"] == f"urn:fixflow:problem:{slug}"
    assert body["detail"] == err.detail
    assert {k: body[k] for k in members} == members
    assert set(body) - {"type", "title", "status", "detail", "instance", "trace_id"} == set(members)
    r = await client.get(f"/v1/errors/{kind}")
    for name, value in headers.items():
        assert r.headers[name] == value


async def test_an_invalid_body_lists_each_field(client):
    r = await client.post("/v1/things", json={"name": "", "count": 0, "colour": "red"}, headers=auth_headers())
    body = problem(r, 422)
    assert body["title"] == "Validation failed" and body["type"] == "urn:fixflow:problem:validation-error"
    assert {tuple(e["location"]) for e in body["errors"]} == {
        ("body", "name"),
        ("body", "count"),
        ("body", "colour"),
    }


async def test_malformed_json_is_a_400(client):
    r = await client.post(
        "/v1/things", content=b'{"name": "x",', headers={**auth_headers(), "content-type": "application/json"}
    )
    assert problem(r, 400)["type"] == "urn:fixflow:problem:malformed-json"


async def test_missing_credentials_are_a_401_with_a_challenge(client):
    r = await client.get("/v1/things")
    assert problem(r, 401)["detail"] == "a bearer token or an API key is required"
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH"])
async def test_a_wrong_method_is_a_405_allowing_every_method_of_the_path(client, method):
    # GET /v1/things and POST /v1/things come from two routers; Starlette alone names only the first
    r = await client.request(method, "/v1/things")
    assert problem(r, 405)["title"] == "Method not allowed"
    assert r.headers["allow"] == "GET, POST"


async def test_an_unknown_path_is_a_404_problem(client):
    assert problem(await client.get("/v1/nothing-here"), 404)["title"] == "Not found"


@pytest.mark.parametrize("which", ["postgres-restarting", "postgres-refused", "redis-refused"])
async def test_a_store_that_is_restarting_is_a_503_with_retry_after_not_a_500(client, which):
    # A PostgreSQL or Redis restart answered 500 "unexpected error" (found by make chaos): it is a
    # dependency away for a moment, and the client should send the same request again.
    r = await client.get(f"/v1/store-down/{which}")
    body = problem(r, 503)
    assert body["title"] == "Service unavailable" and r.headers["retry-after"] == "1"


async def test_an_unexpected_exception_is_a_500_that_tells_nothing(client, capsys):
    r = await client.get("/v1/boom/13900001111")
    body = problem(r, 500)
    assert body["title"] == "Internal error" and body["detail"] == INTERNAL_DETAIL
    assert len(body["trace_id"]) == 32
    assert "hunter2" not in r.text and "RuntimeError" not in r.text
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "unhandled error" in line]
    assert logged and logged[0]["trace_id"] == body["trace_id"]
    assert logged[0]["route"] == "/v1/boom/{customer_phone}"
    assert "hunter2" in logged[0]["exception"]  # the operator sees the cause...
    assert "13812345678" not in logged[0]["exception"] and "13900001111" not in json.dumps(logged[0])  # ...not PII
    assert "li.wei@example.com" not in logged[0]["exception"]


def test_extension_members_cannot_overwrite_the_standard_ones():
    with pytest.raises(TypeError):
        errors.Conflict("x", status=200, title="t", type="about:blank")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        errors.RuleViolation("x", detail="twice")  # type: ignore[misc]


def test_the_hierarchy_is_pure_python():
    """Domain packages import it: no web framework, database or broker comes with it."""
    code = (
        "import sys, fixflow_shared.errors; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'fastapi', 'starlette', 'pydantic', 'sqlalchemy', 'redis', 'aiokafka', 'faststream', 'opentelemetry'}); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_openapi_documents_problems_with_the_problem_schema(app):
    doc = app.openapi()
    assert doc["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    ref = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    declared = doc["paths"]["/v1/errors/{kind}"]["get"]["responses"]
    assert set(declared) == {"200", "404", "409", "422"}  # as declared, and 422 for the path parameter
    created = doc["paths"]["/v1/things"]["post"]["responses"]
    assert set(created) == {"201", "400", "401", "403", "409", "422"}  # auth, JSON body, Idempotency-Key
    for responses in (declared, created):
        assert all(r["content"] == ref for s, r in responses.items() if s >= "400")
