"""The one error hierarchy of Fixflow: what a refusal means, whatever layer raises it.

Pure Python (no web framework, no I/O), so domain packages raise these or subclasses of them. Each
error carries what an RFC 9457 problem document needs: status, title, a type URI
(urn:fixflow:problem:<slug>), a detail for the client and extension members (the object's kind and
id, the current status and the allowed transitions, ...). The HTTP layer (fixflow_shared.problems)
turns any of them into application/problem+json; nothing else translates errors.

    FixflowError              500  base; also what an unexpected failure becomes
    ├── BadRequest            400  the request cannot be read (malformed JSON, a bad cursor)
    ├── Unauthorized          401  no or invalid credentials (carries WWW-Authenticate)
    ├── Forbidden             403  authenticated, but not allowed
    ├── NotFound              404  no such object here (another tenant's objects too)
    ├── Conflict              409  the current state does not allow this
    │   └── IllegalTransition 409  a state machine refused a move (current, target, allowed)
    ├── Gone                  410  existed, but no longer usable
    ├── Unprocessable         422  input the schema accepts but the use case cannot (validation)
    ├── RuleViolation         422  a business rule said no
    ├── TooManyRequests       429  slow down (Retry-After)
    └── Unavailable           503  a dependency is down; retry later (Retry-After)

A service subclasses these for its own refusals, naming only what differs (usually the title; the
type slug follows from it): `class ReturnWindowClosed(RuleViolation): title = "Return window closed"`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import Enum
from http import HTTPStatus
from typing import Any, ClassVar

TYPE_PREFIX = "urn:fixflow:problem:"
RESERVED_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})


def slug_of(title: str) -> str:
    """The type slug of a title: "Return window closed" -> "return-window-closed"."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _jsonable(v: Any) -> Any:
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, str | int | float | bool) or v is None:
        return v
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, set | frozenset):
        return sorted(_jsonable(x) for x in v)
    if isinstance(v, Iterable):
        return [_jsonable(x) for x in v]
    return str(v)


class FixflowError(Exception):
    """Base of every error a client is told about. Subclasses set `status` and `title` (and
    `slug` when the type should not follow from the title)."""

    status: int = 500
    title: str = "Internal error"
    slug: str = "internal-error"
    default_headers: ClassVar[Mapping[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "title" in cls.__dict__ and "slug" not in cls.__dict__:
            cls.slug = slug_of(cls.title)

    def __init__(
        self,
        detail: str | None = None,
        *,
        status: int | None = None,
        title: str | None = None,
        slug: str | None = None,
        headers: Mapping[str, str] | None = None,
        **members: Any,
    ) -> None:
        clash = RESERVED_MEMBERS & members.keys()
        if clash:
            raise TypeError(f"extension members may not be named {', '.join(sorted(clash))}")
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title
            self.slug = slug or slug_of(title)
        elif slug is not None:
            self.slug = slug
        self.detail = detail
        self.headers: dict[str, str] = {**self.default_headers, **(headers or {})}
        self.members: dict[str, Any] = {k: _jsonable(v) for k, v in members.items()}
        super().__init__(detail or self.title)

    @property
    def type(self) -> str:
        return TYPE_PREFIX + self.slug

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document (RFC 9457 members first, then the extension members)."""
        out: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            out["detail"] = self.detail
        if instance:
            out["instance"] = instance
        out.update(self.members)
        return out


class BadRequest(FixflowError):
    status = 400
    title = "Bad request"


class Unauthorized(FixflowError):
    status = 401
    title = "Unauthorized"
    default_headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(FixflowError):
    status = 403
    title = "Forbidden"


class NotFound(FixflowError):
    """`NotFound("ticket", "T-1")`: members kind and id. Another tenant's object answers the same,
    so existence is never disclosed across tenants."""

    status = 404
    title = "Not found"

    def __init__(self, kind: str | None = None, ident: object = None, *, detail: str | None = None) -> None:
        if detail is None and kind is not None:
            detail = f"{kind} {ident} does not exist"
        members: dict[str, Any] = {"kind": kind, "id": ident} if kind is not None else {}
        super().__init__(detail, **members)
        self.kind, self.ident = kind, ident


class Conflict(FixflowError):
    status = 409
    title = "Conflict"


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


class IllegalTransition(Conflict):
    """A state machine refused a move: members kind, current_status, target and, when the
    machine knows them, allowed_transitions (the states it could move to instead)."""

    def __init__(
        self,
        kind: str,
        current: object,
        target: object,
        *,
        allowed: Iterable[object] | None = None,
        detail: str | None = None,
    ) -> None:
        cur, tgt = _jsonable(current), _jsonable(target)
        members: dict[str, Any] = {"kind": kind, "current_status": cur, "target": tgt}
        if allowed is not None:
            members["allowed_transitions"] = sorted(str(_jsonable(a)) for a in allowed)
        super().__init__(detail or f"{_article(kind)} {kind} in state {cur} cannot move to {tgt}", **members)
        self.kind, self.current, self.target = kind, current, target


class Gone(FixflowError):
    status = 410
    title = "Gone"


class Unprocessable(FixflowError):
    """Input the schema accepts but the use case cannot work with (a period that ends before it
    starts, no field supplied); `errors` lists the fields when known."""

    status = 422
    title = "Validation failed"
    slug = "validation-error"


class RuleViolation(FixflowError):
    """A business rule said no: well-formed input the domain refuses."""

    status = 422
    title = "Rule violated"


class TooManyRequests(FixflowError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after_s: int | None = None, **members: Any) -> None:
        headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else None
        super().__init__(detail, headers=headers, **members)


class Unavailable(FixflowError):
    status = 503
    title = "Service unavailable"

    def __init__(self, detail: str | None = None, *, retry_after_s: int | None = None, **members: Any) -> None:
        headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else None
        super().__init__(detail, headers=headers, **members)


_TITLES = {c.status: c.title for c in (BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Gone, TooManyRequests)}
_TITLES |= {405: "Method not allowed", 413: "Payload too large", 415: "Unsupported media type"}


def for_status(status: int, detail: str | None = None, headers: Mapping[str, str] | None = None) -> FixflowError:
    """The error for a bare HTTP status (the framework's own 404, 405, 413, ...)."""
    title = _TITLES.get(status)
    if title is None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        title = phrase[:1] + phrase[1:].lower()
    if detail and detail.lower() == title.lower():
        detail = None  # Starlette's "Not Found" says nothing the title does not
    return FixflowError(detail, status=status, title=title, headers=headers)
