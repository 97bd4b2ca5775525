"""Hostile input stops at the edge: control characters in the path, the query or a JSON body, JSON
nested deeper than any of our documents, numbers or strings no database column takes, and oversized
bodies answer 4xx problem+json before a route (or the Idempotency-Key store) sees them.

Text may hold tab, line feed and carriage return (a symptom, a note, a template); NUL and the other
C0 control characters and DEL are refused everywhere. JSON is parsed once here with orjson, which
refuses what the routes' parser would let through to the database (lone surrogates, NaN); the
parsed document is not reused, only checked.
"""

from __future__ import annotations

import email.message
import re
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fixflow_shared import errors
from fixflow_shared.problems import PROBLEM_JSON, problem_body

MAX_DEPTH = 32
MAX_BODY_BYTES = 5 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab, LF, CR are text


class HostileInput(Exception):
    def __init__(self, status: int, title: str, detail: str, location: list[Any], kind: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.location, self.kind = status, title, detail, location, kind


def check_text(value: str, location: list[Any], *, multiline: bool = True) -> None:
    if (_TEXT_CONTROL if multiline else _CONTROL).search(value):
        raise HostileInput(422, "Validation failed", "control characters are not allowed", location, "control_chars")


def check_document(doc: Any, *, max_depth: int = MAX_DEPTH) -> None:
    """Depth and control characters of a parsed JSON document, without recursion."""
    stack: list[tuple[Any, list[Any]]] = [(doc, ["body"])]
    while stack:
        node, where = stack.pop()
        if len(where) > max_depth + 1:
            raise HostileInput(
                422, "Validation failed", f"JSON nested deeper than {max_depth} levels", where[:3], "too_deep"
            )
        if isinstance(node, str):
            check_text(node, where)
        elif isinstance(node, dict):
            for k, v in node.items():
                check_text(k, where, multiline=False)
                stack.append((v, [*where, k]))
        elif isinstance(node, list):
            stack.extend((v, [*where, i]) for i, v in enumerate(node))


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    """The same test FastAPI applies before parsing a body as JSON (no content type counts as JSON)."""
    value = next((v for k, v in headers if k.lower() == b"content-type"), None)
    if value is None:
        return True
    msg = email.message.Message()
    msg["content-type"] = value.decode("latin-1")
    sub = msg.get_content_subtype()
    return msg.get_content_maintype() == "application" and (sub == "json" or sub.endswith("+json"))


class HostileInputMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_DEPTH) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_text(scope["path"], ["path"], multiline=False)
            for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
                check_text(k, ["query"], multiline=False)
                check_text(v, ["query", k], multiline=False)
        except HostileInput as exc:
            await send_problem(scope, send, exc)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE") or not _is_json(scope["headers"]):
            await self.app(scope, receive, send)
            return

        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await send_problem(
                    scope,
                    send,
                    HostileInput(413, "Payload too large", f"at most {self.max_body_bytes} bytes", ["body"], "size"),
                )
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body:
            try:
                check_document(orjson.loads(body), max_depth=self.max_depth)
            except orjson.JSONDecodeError as exc:
                deep = "depth" in str(exc).lower()
                await send_problem(
                    scope,
                    send,
                    HostileInput(
                        422 if deep else 400,
                        "Validation failed" if deep else "Malformed JSON",
                        f"JSON nested deeper than {self.max_depth} levels"
                        if deep
                        else "The request body is not valid JSON (UTF-8 text, no lone surrogates, no NaN)",
                        ["body"],
                        "too_deep" if deep else "json_invalid",
                    ),
                )
                return
            except HostileInput as exc:
                await send_problem(scope, send, exc)
                return

        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def as_error(exc: HostileInput) -> errors.FixflowError:
    failures = [{"location": exc.location, "message": exc.detail, "type": exc.kind}]
    if exc.status == 413:
        return errors.FixflowError(exc.detail, status=413, title="Payload too large")
    if exc.kind == "json_invalid":
        return errors.BadRequest(exc.detail, title="Malformed JSON", errors=failures)
    return errors.Unprocessable(exc.detail, errors=failures)


async def send_problem(scope: Scope, send: Send, exc: HostileInput) -> None:
    """Answered here, not raised: this middleware runs outside the app's exception handler."""
    body = orjson.dumps(problem_body(as_error(exc), _CONTROL.sub("\ufffd", scope["path"])))
    await send(
        {
            "type": "http.response.start",
            "status": exc.status,
            "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
