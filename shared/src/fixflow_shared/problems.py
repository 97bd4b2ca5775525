"""RFC 9457 problem details (application/problem+json) for every error a client can cause.

Bad input is a 4xx with a clear title and detail, never a 500; an unexpected failure is still a
problem+json 500 without internals (the trace id lets an operator find the cause).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import trace
from starlette.exceptions import HTTPException as StarletteHTTPException

from fixflow_shared.logs import get_logger

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:fixflow:problem:"
log = get_logger(__name__)


class Problem(Exception):
    """Raise from anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type_: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_ or TYPE_PREFIX + title.lower().replace(" ", "-")
        self.headers = headers or {}
        self.extensions = extensions


def not_found(what: str, ident: object) -> Problem:
    # Another tenant's resources answer the same 404: existence is not disclosed.
    return Problem(404, "Not found", f"{what} {ident} does not exist", type_=TYPE_PREFIX + "not-found")


def conflict(detail: str, **ext: Any) -> Problem:
    return Problem(409, "Conflict", detail, type_=TYPE_PREFIX + "conflict", **ext)


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str | None,
    type_: str,
    headers: dict[str, str] | None = None,
    **ext: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "instance": request.url.path}
    if detail:
        body["detail"] = detail
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        body["trace_id"] = format(span.trace_id, "032x")
    body.update(ext)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_STATUS_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    410: "Gone",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
}


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc.status, exc.title, exc.detail, exc.type, exc.headers, **exc.extensions)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        malformed = any(e["type"] == "json_invalid" for e in errors)
        return problem_response(
            request,
            400 if malformed else 422,
            "Malformed JSON" if malformed else "Validation failed",
            "The request body is not valid JSON" if malformed else "The request has invalid or missing fields",
            TYPE_PREFIX + ("malformed-json" if malformed else "validation-error"),
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = _STATUS_TITLES.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
        return problem_response(
            request,
            exc.status_code,
            title,
            detail,
            TYPE_PREFIX + title.lower().replace(" ", "-"),
            getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path)
        return problem_response(
            request,
            500,
            "Internal error",
            "An unexpected error occurred; quote the trace_id",
            TYPE_PREFIX + "internal-error",
        )
