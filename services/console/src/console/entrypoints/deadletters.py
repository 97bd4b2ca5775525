"""Dead letters (administrators): every service's dead-lettered messages in the tenant, with the
reason its consumer gave up; one shown with its headers and body; replayed to its source topic
after a fix, or discarded. Each service audits the action (its /v1/admin/dead-letters API, the
same the command line `python -m fixflow_shared.deadletters` uses)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from console.entrypoints.web import locale_of, problem_context, render, require, services_of
from console.i18n import translator
from fixflow_shared.web.services import ServiceClient, ServiceProblem
from fixflow_shared.web.sessions import Session

router = APIRouter(include_in_schema=False)
AdminDep = Annotated[Session, Depends(require("admin"))]
API = "/v1/admin/dead-letters"
STATUSES = ("pending", "replayed", "discarded", "all")


def _client(request: Request, service: str) -> ServiceClient:
    for client in services_of(request).all():
        if client.name == service:
            return client
    raise ServiceProblem(service, 404, {"title": "Unknown service", "detail": f"no service named {service!r}"})


async def _of(client: ServiceClient, token: str, status: str) -> tuple[str, list[dict[str, Any]] | ServiceProblem]:
    try:
        return client.name, await client.get(API, token=token, params={"status": status})
    except ServiceProblem as exc:  # one service away or refusing: the others still show theirs
        return client.name, exc


@router.get("/dead-letters", response_class=HTMLResponse)
async def dead_letters(request: Request, session: AdminDep, status: str = "pending") -> HTMLResponse:
    status = status if status in STATUSES else "pending"
    answers = await asyncio.gather(*(_of(c, session.token, status) for c in services_of(request).all()))
    rows = [
        {**letter, "service": name} for name, got in answers if not isinstance(got, ServiceProblem) for letter in got
    ]
    rows.sort(key=lambda r: str(r.get("dead_lettered_at") or ""))
    problems = [got for _, got in answers if isinstance(got, ServiceProblem)]
    return render(
        request, "deadletters/list.html", {"rows": rows, "problems": problems, "status": status, "statuses": STATUSES}
    )


async def _detail(request: Request, token: str, service: str, message_id: str) -> dict[str, Any]:
    letter = await _client(request, service).get(f"{API}/{message_id}", token=token)
    body = letter.get("body")
    shown = body if isinstance(body, str) else json.dumps(body, indent=2, ensure_ascii=False, sort_keys=True)
    return {"letter": letter, "service": service, "body": shown}


@router.get("/dead-letters/{service}/{message_id}", response_class=HTMLResponse)
async def dead_letter(request: Request, service: str, message_id: str, session: AdminDep) -> HTMLResponse:
    return render(request, "deadletters/show.html", await _detail(request, session.token, service, message_id))


async def _act(
    request: Request, session: Session, service: str, message_id: str, action: str, body: Any
) -> HTMLResponse:
    _ = translator(locale_of(request))
    try:
        await _client(request, service).post(f"{API}/{message_id}/{action}", body, token=session.token)
    except ServiceProblem as exc:
        if exc.status in (401, 403, 404) or exc.status >= 500:
            raise
        context = {**await _detail(request, session.token, service, message_id), **problem_context(exc, body)}
        return render(request, "deadletters/show.html", context, status=422)
    done = _("Replayed to its source topic.") if action == "replay" else _("Discarded.")
    context = {**await _detail(request, session.token, service, message_id), "done": done}
    return render(request, "deadletters/show.html", context)


@router.post("/dead-letters/{service}/{message_id}/replay", response_class=HTMLResponse)
async def replay(
    request: Request,
    service: str,
    message_id: str,
    session: AdminDep,
    note: Annotated[str, Form(max_length=2000)] = "",
    force: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    return await _act(request, session, service, message_id, "replay", {"note": note, "force": force})


@router.post("/dead-letters/{service}/{message_id}/discard", response_class=HTMLResponse)
async def discard(
    request: Request,
    service: str,
    message_id: str,
    session: AdminDep,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> HTMLResponse:
    return await _act(request, session, service, message_id, "discard", {"note": note})
