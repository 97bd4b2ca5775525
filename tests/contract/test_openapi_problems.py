"""Every operation of the services documents the problems it can answer, as
application/problem+json with the shared Problem schema (RFC 9457), and nothing else for errors.

What an operation must document follows from its shape in the OpenAPI document itself:
  authenticated (security)            401, 403
  parameters or a body                422 (validation)
  a JSON body                         400 (malformed JSON)
  POST                                400 (malformed Idempotency-Key); authenticated also 409, 422
  a path naming an object (not PUT)   404, unless listed in NO_404 with the reason
  a public operation (no security)    must be listed in PUBLIC; its credential is in the path: 401
"""

from __future__ import annotations

import importlib

import pytest

SERVICES = ("intake", "dispatch", "billing", "survey", "notify", "insight")

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
METHODS = {"get", "post", "put", "patch", "delete"}

# GET/POST paths with a parameter that cannot be "not found": why.
NO_404 = {
    ("get", "/v1/statements/{customer_id}/{month}"): "a month without invoices is an empty statement",
}
# Operations without a bearer token or API key: the signed link in the path is the credential.
PUBLIC = {("get", "/v1/public/surveys/{token}"), ("post", "/v1/public/surveys/{token}/answers")}
OPS = {("get", "/healthz"), ("get", "/readyz"), ("get", "/asyncapi.json")}


def expected(method: str, path: str, op: dict) -> set[int]:
    want: set[int] = set()
    secured = bool(op.get("security"))
    if secured:
        want |= {401, 403}
    elif (method, path) in PUBLIC:
        want.add(401)
    if op.get("parameters") or op.get("requestBody"):
        want.add(422)
    if op.get("requestBody"):
        want.add(400)
    if method == "post":
        want.add(400)
        if secured:
            want |= {409, 422}
    names_an_object = any(p["in"] == "path" for p in op.get("parameters", []))
    if names_an_object and method != "put" and (method, path) not in NO_404:
        want.add(404)
    return want


@pytest.fixture(scope="module", params=SERVICES)
def document(request):
    name = request.param
    config = importlib.import_module(f"{name}.config")
    settings_cls = next(v for k, v in vars(config).items() if k.endswith("Settings") and k != "ServiceSettings")
    # building the app opens no connection
    _, app = importlib.import_module(f"{name}.bootstrap").build(
        settings_cls(database_url=f"postgresql+asyncpg://{name}:{name}@127.0.0.1:5432/{name}")
    )
    return app.openapi()


def operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method, path, op


def test_every_operation_documents_its_problems(document):
    missing = {
        f"{method.upper()} {path}": sorted(want - {int(s) for s in op["responses"] if s.isdigit()})
        for method, path, op in operations(document)
        if (want := expected(method, path, op)) - {int(s) for s in op["responses"] if s.isdigit()}
    }
    assert not missing, f"operations lacking problem responses (declare them with problem_responses): {missing}"


def test_errors_are_documented_only_as_problem_json(document):
    wrong = {
        f"{method.upper()} {path} {status}": response.get("content")
        for method, path, op in operations(document)
        for status, response in op["responses"].items()
        if not status.startswith(("1", "2", "3")) and response.get("content") != PROBLEM
    }
    assert not wrong, f"errors documented with another media type or schema: {wrong}"
    schemas = document["components"]["schemas"]
    assert {"type", "title", "status", "detail", "instance"} <= set(schemas["Problem"]["properties"])
    assert "HTTPValidationError" not in schemas


def test_every_operation_is_authenticated_or_known_to_be_public(document):
    unguarded = {
        f"{method.upper()} {path}"
        for method, path, op in operations(document)
        if not op.get("security") and (method, path) not in PUBLIC | OPS
    }
    assert not unguarded, f"operations without security that are not listed as public: {unguarded}"
