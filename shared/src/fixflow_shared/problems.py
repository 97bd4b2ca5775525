"""RFC 9457 problem details over HTTP: the one exception handler, and the errors in OpenAPI.

The app factory (ServiceRuntime.create_app) installs one handler for every error a request can
end in: the shared hierarchy (fixflow_shared.errors, raised by domain, service layer, routes and
auth alike), request validation (422, or 400 for malformed JSON), the framework's own HTTP errors
(404 for an unknown path, 405 with an Allow header naming every method the path accepts), a
store that cannot be reached (PostgreSQL or Redis restarting: 503 with Retry-After) and, last,
any unexpected exception: a 500 problem without the exception's text (it is logged with
the trace id the body carries). Routes never translate exceptions themselves.

OpenAPI: every 4xx a route can answer is documented as application/problem+json with the shared
Problem schema. What follows from the plumbing is added to every operation (401/403 where a
caller must authenticate, 422 where there is input to validate, 400 for a JSON body, 400/409/422
from the Idempotency-Key on POST); what follows from a route's own logic (404, 409, 410, ...) the
route declares with `responses=problem_responses(404, 409)`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from opentelemetry import trace
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from fixflow_shared import errors
from fixflow_shared.logs import get_logger

PROBLEM_JSON = "application/problem+json"
INTERNAL_DETAIL = "An unexpected error occurred; quote the trace_id"
log = get_logger(__name__)


class ProblemFieldError(BaseModel):
    location: list[str | int] = Field(description='where, e.g. ["body", "contact_phone"] or ["query", "limit"]')
    message: str
    type: str = Field(description="pydantic's error type, e.g. missing, string_too_long")


class ProblemDetails(BaseModel):
    """An RFC 9457 problem document. Extension members follow the standard ones: `kind` and `id`
    of a missing object, `current_status`, `target` and `allowed_transitions` of a refused state
    change, `errors` of a validation failure, and others named in the detail's context."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="URI of the problem type: urn:fixflow:problem:<slug>")
    title: str = Field(description="short summary of the problem type")
    status: int = Field(description="the HTTP status code")
    detail: str | None = Field(None, description="what went wrong with this request")
    instance: str | None = Field(None, description="the request path")
    trace_id: str | None = Field(None, description="W3C trace id: quote it when reporting a problem")
    errors: list[ProblemFieldError] | None = Field(None, description="validation failures, one per field")


# --- the handler ---------------------------------------------------------------------------------


def problem_body(err: errors.FixflowError, instance: str | None) -> dict[str, Any]:
    """The document, with the current trace id (the key to the logs of this request)."""
    body = err.body(instance=instance)
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        body["trace_id"] = format(span.trace_id, "032x")
    return body


def problem_response(request: Request, err: errors.FixflowError) -> JSONResponse:
    body = problem_body(err, request.url.path)
    return JSONResponse(body, status_code=err.status, media_type=PROBLEM_JSON, headers=err.headers or None)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app accepts on this path (Starlette names only the first)."""
    path = request.scope.get("path", "")
    allowed: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and route.methods and regex.match(path):
            allowed |= route.methods
    return sorted(allowed)


def route_template(request: Request) -> str | None:
    """The matched route's path template, prefix included: logged instead of the path, which may
    hold a phone number or an e-mail address."""
    matched = request.scope.get("route")
    for route in iter_route_contexts(request.app.router.routes):
        if route.original_route is matched:
            return route.path
    return getattr(matched, "path", None)


def _validation(exc: RequestValidationError) -> errors.FixflowError:
    failures = [
        {"location": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    if any(f["type"] == "json_invalid" for f in failures):
        return errors.BadRequest("The request body is not valid JSON", title="Malformed JSON", errors=failures)
    return errors.Unprocessable("The request has invalid or missing fields", errors=failures)


def as_problem(request: Request, exc: Exception) -> errors.FixflowError:
    """Any exception a request ended in, as the error its client is told about."""
    if isinstance(exc, errors.FixflowError):
        return exc
    if isinstance(exc, RequestValidationError):
        return _validation(exc)
    if isinstance(exc, StarletteHTTPException):
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return errors.for_status(exc.status_code, exc.detail if isinstance(exc.detail, str) else None, headers)
    if store_unavailable(exc):
        # The database or Redis restarting (or failing over): the request did not happen, and the
        # same request a moment later will. A 503 with Retry-After says so; a 500 said "bug".
        log.warning(
            "a store is unavailable", method=request.method, route=route_template(request), error=type(exc).__name__
        )
        return errors.Unavailable("A data store is restarting; retry shortly", retry_after_s=1)
    log.exception("unhandled error", method=request.method, route=route_template(request), error=type(exc).__name__)
    return errors.FixflowError(INTERNAL_DETAIL)


def store_unavailable(exc: BaseException) -> bool:
    """The exception (or one it was raised from) says a store cannot be reached or is shutting
    down or starting up: its connection failed, not the statement."""
    import asyncpg
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import DBAPIError

    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, DBAPIError) and cur.connection_invalidated:
            return True
        if isinstance(
            cur,
            (
                ConnectionError,  # refused, reset, aborted
                asyncpg.exceptions.AdminShutdownError,  # "terminating connection due to administrator command"
                asyncpg.exceptions.CannotConnectNowError,  # "the database system is starting up"
                asyncpg.exceptions.ConnectionDoesNotExistError,
                asyncpg.exceptions.ConnectionFailureError,
                RedisConnectionError,
                RedisTimeoutError,
            ),
        ):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(request, as_problem(request, exc))


def install_problem_handlers(app: FastAPI) -> None:
    """One handler for everything a request can end in (see the module's docstring)."""
    for cls in (errors.FixflowError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(cls, _handle)


# --- OpenAPI -------------------------------------------------------------------------------------

PROBLEM_REF = "#/components/schemas/Problem"
DESCRIPTIONS = {
    400: "Bad request: the body is not valid JSON, or the Idempotency-Key header is malformed",
    401: "Unauthorized: missing or invalid credentials",
    403: "Forbidden: the caller's roles do not allow this",
    404: "Not found: no such object for the caller's tenant",
    409: "Conflict: the object's state does not allow this, or the first request with this Idempotency-Key "
    "is still running",
    410: "Gone: no longer usable",
    422: "Unprocessable: invalid or missing fields, or a business rule refused the request",
    429: "Too many requests: retry after the Retry-After header's seconds",
    503: "Service unavailable: retry later",
}


def problem_response_doc(status: int) -> dict[str, Any]:
    return {"description": DESCRIPTIONS[status], "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route: the problems its own logic answers with, e.g. problem_responses(404, 409)."""
    return {s: problem_response_doc(s) for s in statuses}


def implied_statuses(method: str, operation: dict[str, Any]) -> set[int]:
    """The problems every operation of this shape can answer, whatever its route does."""
    implied: set[int] = set()
    if operation.get("security"):
        implied |= {401, 403}
    if operation.get("parameters") or operation.get("requestBody"):
        implied.add(422)
    if operation.get("requestBody"):
        implied.add(400)
    if method == "post":
        implied.add(400)  # a malformed Idempotency-Key
        if operation.get("security"):
            implied |= {409, 422}  # its first request still running; reused with another body
    return implied


def _is_frameworks_422(response: dict[str, Any]) -> bool:
    return "HTTPValidationError" in str(response.get("content", {}))


def add_problems_to_openapi(schema: dict[str, Any]) -> None:
    """Document the implied problems of every operation and the Problem schema; replace the
    framework's own 422 (a JSON body no Fixflow service sends)."""
    for item in schema.get("paths", {}).values():
        for method, op in item.items():
            responses = op.setdefault("responses", {})
            if "422" in responses and _is_frameworks_422(responses["422"]):
                del responses["422"]
            for status in implied_statuses(method, op):
                responses.setdefault(str(status), problem_response_doc(status))
            op["responses"] = dict(sorted(responses.items()))
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    problem = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    schema["components"]["schemas"] = dict(sorted(components.items()))
