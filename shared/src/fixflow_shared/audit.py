"""Audit log: every write by staff (and partner keys) that passed authorisation is recorded per
service — who (subject, roles), tenant, action, object, when, request id and trace id — and admins
read it at GET /v1/audit (filters: object, subject, action, time).

The row is written after the answer, in a transaction of its own: a write that failed (4xx/5xx)
or an Idempotency-Key replay (answered before it reaches here) is not recorded. Every answer carries
an X-Request-ID (the client's, if it sent a sane one).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from opentelemetry import trace
from pydantic import BaseModel
from sqlalchemy import and_, insert, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fixflow_shared.access import Access, Authorize
from fixflow_shared.fields import When
from fixflow_shared.logs import get_logger

if TYPE_CHECKING:
    from fixflow_shared.runtime import ServiceRuntime

log = get_logger(__name__)
REQUEST_ID = b"x-request-id"
_SANE_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
AUDITED_ROLES = frozenset({"agent", "dispatcher", "manager", "admin", "partner"})


class AuditMiddleware:
    def __init__(self, app: ASGIApp, *, runtime: ServiceRuntime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(REQUEST_ID)
        request_id = given.decode() if given and _SANE_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        write = scope["method"] in WRITES
        status = 500
        created: list[bytes] = []
        trace_id: str | None = None

        async def capture(message: Message) -> None:
            nonlocal status, trace_id
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID, request_id.encode())]
                ctx = trace.get_current_span().get_span_context()
                trace_id = format(ctx.trace_id, "032x") if ctx.is_valid else None
            elif message["type"] == "http.response.body" and write and status == 201:
                if sum(map(len, created)) < 65536:
                    created.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        access: Access | None = scope["state"].get("access")
        if not write or status >= 400 or access is None or not access.principal.roles & AUDITED_ROLES:
            return
        object_id = _object_id(scope["state"].get("access_params") or {}, b"".join(created))
        try:
            async with self.runtime.uow() as uow:
                await uow.scope_to_tenant(access.tenant)
                await uow.session.execute(
                    insert(self.runtime.audit).values(
                        tenant_id=access.tenant,
                        subject=access.subject,
                        roles=sorted(access.roles),
                        action=access.action,
                        object_id=object_id,
                        method=scope["method"],
                        path=scope["path"][:500],
                        status=status,
                        request_id=request_id,
                        trace_id=trace_id,
                    )
                )
                await uow.commit()
        except Exception as exc:  # noqa: BLE001 - the write succeeded; its record is best effort, loudly
            log.error("audit record lost", action=access.action, request_id=request_id, error=type(exc).__name__)


def _object_id(params: dict[str, str], created: bytes) -> str | None:
    """The object acted on: the one the path names, else the one the write created."""
    if params:
        return "/".join(str(v) for v in params.values())[:200]
    if created:
        try:
            body = orjson.loads(created)
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("id"), str | int):
            return str(body["id"])[:200]
    return None


class AuditEntry(BaseModel):
    id: int
    at: datetime
    subject: str
    roles: list[str]
    action: str
    object_id: str | None
    method: str
    path: str
    status: int
    request_id: str
    trace_id: str | None


AuditReader = Annotated[Access, Depends(Authorize("audit.read"))]


def audit_router() -> APIRouter:
    router = APIRouter(tags=["audit"])

    @router.get("/audit", response_model=list[AuditEntry])
    async def audit(
        request: Request,
        principal: AuditReader,
        object_id: Annotated[str | None, Query(alias="object", max_length=200)] = None,
        subject: Annotated[str | None, Query(max_length=200)] = None,
        action: Annotated[str | None, Query(max_length=64)] = None,
        since: Annotated[When | None, Query(alias="from")] = None,
        until: Annotated[When | None, Query(alias="to")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        """Staff and partner writes of this service in the caller's tenant, newest first (admins only)."""
        rt: ServiceRuntime = request.app.state.runtime
        t = rt.audit
        where = [t.c.tenant_id == principal.tenant]
        if object_id:
            where.append(t.c.object_id == object_id)
        if subject:
            where.append(t.c.subject == subject)
        if action:
            where.append(t.c.action == action)
        if since:
            where.append(t.c.at >= since)
        if until:
            where.append(t.c.at < until)
        async with rt.uow() as uow:
            await uow.scope_to_tenant(principal.tenant)
            rows = (
                (await uow.session.execute(select(t).where(and_(*where)).order_by(t.c.id.desc()).limit(limit)))
                .mappings()
                .all()
            )
        return [{k: v for k, v in r.items() if k != "tenant_id"} for r in rows]

    return router
