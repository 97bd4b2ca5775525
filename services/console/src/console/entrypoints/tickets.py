"""Tickets: the list with filters and SLA badges, and the ticket page (timeline from every service,
SLA clocks, notes, facts, cancel/reopen/close, complaint escalation, compensation decision, the
quote and the customer's consent, the visit, invoices and the survey)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from console.domain import sla
from console.domain.timeline import summarise
from console.domain.traces import trace_link
from console.entrypoints.web import (
    AgentDep,
    ManagerDep,
    ReaderDep,
    locale_of,
    problem_context,
    render,
    services_of,
    settings_of,
)
from console.i18n import translator
from fixflow_shared.web.services import ServiceProblem

router = APIRouter(include_in_schema=False)
STATUSES = [
    "received",
    "triaged",
    "waiting_customer",
    "scheduled",
    "in_progress",
    "resolved",
    "reopened",
    "closed",
    "cancelled",
]
KINDS = ["repair", "installation", "maintenance", "return", "complaint", "consultation"]


def badge_view(b: sla.Badge | None, _: Any) -> dict[str, str] | None:
    if b is None:
        return None
    left = sla.humanise(b.left_s)
    clock = _(b.clock.replace("_", " ")) if b.clock else ""
    text = {
        "breached": _("Breached {t} ago", t=left) if b.left_s is not None and b.left_s < 0 else _("Breached"),
        "at_risk": _("At risk · {t} left", t=left),
        "running": _("{t} left", t=left),
        "paused": _("Paused"),
        "met": _("SLA met"),
        "missed": _("SLA missed"),
    }[b.state]
    return {"tone": b.tone, "text": text, "title": clock, "state": b.state}


async def _with_badges(request: Request, token: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not items:
        return items
    _ = translator(locale_of(request))
    clocks = await services_of(request).intake.get(
        "/v1/sla-clocks", token=token, params={"ticket_id": [t["id"] for t in items]}
    )
    per = sla.by_ticket(clocks.get("items", []))
    for t in items:
        t["sla"] = badge_view(sla.badge(per.get(t["id"], [])), _)
    return items


def _filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    return {
        "status": [s for s in q.getlist("status") if s in STATUSES],
        "kind": q.get("kind") if q.get("kind") in KINDS else None,
        "priority": q.get("priority") if q.get("priority") in ("P1", "P2", "P3", "P4") else None,
        "sla_risk": q.get("sla_risk") if q.get("sla_risk") in ("at_risk", "breached") else None,
        "customer_id": (q.get("customer_id") or "")[:40] or None,
        "cursor": (q.get("cursor") or "")[:300] or None,
        "limit": min(max(int(q.get("limit") or 25), 1), 100) if (q.get("limit") or "25").isdigit() else 25,
    }


async def _list(request: Request, token: str, f: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """intake filters by one status at a time: several statuses are several pages, merged by time."""
    base = {k: v for k, v in f.items() if k not in ("status",) and v}
    statuses = f["status"] or [None]
    pages = await asyncio.gather(
        *(services_of(request).intake.get("/v1/tickets", token=token, params={**base, "status": s}) for s in statuses)
    )
    items = sorted((t for p in pages for t in p["items"]), key=lambda t: t["opened_at"], reverse=True)[: f["limit"]]
    nxt = pages[0].get("next_cursor") if len(pages) == 1 else None
    return await _with_badges(request, token, items), nxt


@router.get("/tickets", response_class=HTMLResponse)
async def tickets(request: Request, session: ReaderDep) -> HTMLResponse:
    f = _filters(request)
    items, nxt = await _list(request, session.token, f)
    return render(
        request,
        "tickets/list.html",
        {"items": items, "next": nxt, "f": f, "statuses": STATUSES, "kinds": KINDS, "query": request.url.query},
    )


@router.get("/tickets/fragment", response_class=HTMLResponse)
async def tickets_fragment(request: Request, session: ReaderDep) -> HTMLResponse:
    items, _ = await _list(request, session.token, _filters(request))
    return render(request, "tickets/rows.html", {"items": items, "compact": True})


# --- the ticket page ---------------------------------------------------------------------------------


async def _ticket_data(request: Request, session: Any, ticket_id: str) -> dict[str, Any]:
    s = services_of(request)
    token = session.token
    if session.has_any("agent", "manager"):
        details = await s.intake.get(f"/v1/tickets/{ticket_id}/details", token=token)
        ticket, notes, clocks = details["ticket"], details["notes"], details["sla_clocks"]
    else:
        ticket, notes, clocks = await s.intake.get(f"/v1/tickets/{ticket_id}", token=token), [], []
    job, quotes, invoices, surveys = await asyncio.gather(
        s.dispatch.get_or_none(f"/v1/jobs/by-ticket/{ticket_id}", token=token),
        _quiet(s.billing.get("/v1/quotes", token=token, params={"ticket_id": ticket_id}), []),
        _quiet(s.billing.get("/v1/invoices", token=token, params={"ticket_id": ticket_id}), []),
        _quiet(s.survey.get("/v1/surveys", token=token, params={"ticket_id": ticket_id}), []),
    )
    if job is not None:
        job = await s.dispatch.get_or_none(f"/v1/jobs/{job['id']}", token=token)
    _ = translator(locale_of(request))
    running = [{**c, "due_at": c.get("due_at"), "state": _clock_state(c)} for c in clocks if c.get("name")]
    return {
        "ticket": ticket,
        "notes": notes,
        "clocks": running,
        "badge": badge_view(sla.badge([_clock_for_badge(c) for c in clocks]), _),
        "job": job,
        "quotes": quotes,
        "invoices": invoices,
        "surveys": surveys,
        "trace_url": trace_link(settings_of(request).trace_url, ticket.get("traceparent")),
        "idem": str(uuid.uuid4()),
    }


async def _quiet(call: Any, default: Any) -> Any:
    """A section another service fills: its refusal (role, outage) leaves the section empty."""
    try:
        return await call
    except ServiceProblem:
        return default


def _clock_for_badge(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "ticket_id": c.get("ticket_id"),
        "name": c.get("name"),
        "due_at": c.get("due_at"),
        "paused": c.get("paused_since") is not None,
        "stopped_at": c.get("stopped_at"),
        "at_risk": c.get("at_risk_raised"),
        "breached": c.get("breached_raised"),
        "met": c.get("met"),
    }


def _clock_state(c: dict[str, Any]) -> str:
    if c.get("stopped_at"):
        return "met" if c.get("met") else "breached"
    if c.get("breached_raised"):
        return "breached"
    if c.get("paused_since"):
        return "paused"
    return "at_risk" if c.get("at_risk_raised") else "running"


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
async def ticket_page(request: Request, ticket_id: str, session: ReaderDep) -> HTMLResponse:
    data = await _ticket_data(request, session, ticket_id)
    timeline = await services_of(request).intake.get(f"/v1/tickets/{ticket_id}/timeline", token=session.token)
    return render(
        request,
        "tickets/ticket.html",
        {**data, "events": [summarise(e) for e in timeline["events"]], "can_act": session.has_any("agent", "manager")},
    )


@router.get("/tickets/{ticket_id}/summary", response_class=HTMLResponse)
async def ticket_summary(request: Request, ticket_id: str, session: ReaderDep) -> HTMLResponse:
    data = await _ticket_data(request, session, ticket_id)
    return render(request, "tickets/summary.html", {**data, "can_act": session.has_any("agent", "manager")})


@router.get("/tickets/{ticket_id}/quote-actions", response_class=HTMLResponse)
async def quote_actions(request: Request, ticket_id: str, session: AgentDep) -> HTMLResponse:
    s = services_of(request)
    ticket, quotes = await asyncio.gather(
        s.intake.get(f"/v1/tickets/{ticket_id}", token=session.token),
        s.billing.get("/v1/quotes", token=session.token, params={"ticket_id": ticket_id}),
    )
    return render(request, "tickets/quote_actions.html", {"ticket": ticket, "quotes": quotes})


@router.get("/tickets/{ticket_id}/timeline", response_class=HTMLResponse)
async def ticket_timeline(request: Request, ticket_id: str, session: ReaderDep) -> HTMLResponse:
    timeline = await services_of(request).intake.get(f"/v1/tickets/{ticket_id}/timeline", token=session.token)
    return render(request, "tickets/timeline.html", {"events": [summarise(e) for e in timeline["events"]]})


# --- actions: each answers its own form again (with the service's problem, input kept) or a notice,
# and tells the page (HX-Trigger) to reload the summary and the timeline. -------------------------------


def _done(request: Request, message: str) -> HTMLResponse:
    """The notice stays in the page's status area: the summary it was sent from reloads at once."""
    response = render(request, "partials/done.html", {"message": message})
    response.headers["HX-Trigger"] = json.dumps({"ticket-changed": {}, "fixflow-notice": {"text": message}})
    return response


def _refused(
    request: Request, template: str, exc: ServiceProblem, form: dict[str, Any], extra: dict[str, Any]
) -> HTMLResponse:
    if exc.status in (401, 403, 404) or exc.status >= 500:
        raise exc
    return render(request, template, {**problem_context(exc, form), **extra}, status=422)


@router.post("/tickets/{ticket_id}/notes", response_class=HTMLResponse)
async def add_note(
    request: Request,
    ticket_id: str,
    session: AgentDep,
    body: Annotated[str, Form(max_length=5000)] = "",
    kind: Annotated[str, Form(max_length=20)] = "note",
) -> HTMLResponse:
    _ = translator(locale_of(request))
    try:
        await services_of(request).intake.post(
            f"/v1/tickets/{ticket_id}/notes", {"body": body, "kind": kind}, token=session.token
        )
    except ServiceProblem as exc:
        return _refused(
            request, "tickets/form_note.html", exc, {"body": body, "kind": kind}, {"ticket": {"id": ticket_id}}
        )
    response = render(
        request, "tickets/form_note.html", {"ticket": {"id": ticket_id}, "values": {}, "saved": _("Note added.")}
    )
    response.headers["HX-Trigger"] = "ticket-changed"
    return response


@router.post("/tickets/{ticket_id}/move", response_class=HTMLResponse)
async def move(
    request: Request,
    ticket_id: str,
    session: AgentDep,
    action: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> HTMLResponse:
    _ = translator(locale_of(request))
    if action not in ("cancel", "reopen", "close", "resolve"):
        return render(request, "partials/done.html", {"message": _("Unknown action.")}, status=422)
    try:
        await services_of(request).intake.post(
            f"/v1/tickets/{ticket_id}/{action}", {"reason": reason}, token=session.token
        )
    except ServiceProblem as exc:
        return _refused(
            request, "tickets/form_move.html", exc, {"reason": reason, "action": action}, {"ticket": {"id": ticket_id}}
        )
    return _done(
        request,
        {
            "cancel": _("Ticket cancelled."),
            "reopen": _("Ticket reopened."),
            "close": _("Ticket closed."),
            "resolve": _("Ticket resolved."),
        }[action],
    )


@router.post("/tickets/{ticket_id}/facts", response_class=HTMLResponse)
async def supply_facts(
    request: Request,
    ticket_id: str,
    session: AgentDep,
    product_model: Annotated[str, Form(max_length=100)] = "",
    purchase_date: Annotated[str, Form(max_length=20)] = "",
    contact_phone: Annotated[str, Form(max_length=40)] = "",
    contact_email: Annotated[str, Form(max_length=320)] = "",
) -> HTMLResponse:
    _ = translator(locale_of(request))
    form = {
        "product_model": product_model,
        "purchase_date": purchase_date,
        "contact_phone": contact_phone,
        "contact_email": contact_email,
    }
    try:
        await services_of(request).intake.post(
            f"/v1/tickets/{ticket_id}/facts", {k: v.strip() for k, v in form.items() if v.strip()}, token=session.token
        )
    except ServiceProblem as exc:
        return _refused(request, "tickets/form_facts.html", exc, form, {"ticket": {"id": ticket_id}})
    return _done(request, _("Facts recorded."))


@router.post("/tickets/{ticket_id}/escalate", response_class=HTMLResponse)
async def escalate(
    request: Request,
    ticket_id: str,
    session: AgentDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
    level: Annotated[str, Form(max_length=2)] = "",
) -> HTMLResponse:
    _ = translator(locale_of(request))
    body: dict[str, Any] = {"reason": reason}
    if level.isdigit():
        body["level"] = int(level)
    try:
        await services_of(request).intake.post(f"/v1/tickets/{ticket_id}/escalate", body, token=session.token)
    except ServiceProblem as exc:
        return _refused(
            request,
            "tickets/form_escalate.html",
            exc,
            {"reason": reason, "level": level},
            {"ticket": {"id": ticket_id}},
        )
    return _done(request, _("Complaint escalated."))


@router.post("/tickets/{ticket_id}/compensation", response_class=HTMLResponse)
async def compensation(
    request: Request, ticket_id: str, session: ManagerDep, approved: Annotated[str, Form(max_length=5)]
) -> HTMLResponse:
    _ = translator(locale_of(request))
    try:
        await services_of(request).intake.post(
            f"/v1/tickets/{ticket_id}/compensation", {"approved": approved == "yes"}, token=session.token
        )
    except ServiceProblem as exc:
        return _refused(request, "tickets/form_compensation.html", exc, {}, {"ticket": {"id": ticket_id}})
    return _done(request, _("Compensation approved.") if approved == "yes" else _("Compensation refused."))


# --- the quote (out of warranty) and the customer's consent --------------------------------------------


@router.get("/tickets/{ticket_id}/quote-form", response_class=HTMLResponse)
async def quote_form(request: Request, ticket_id: str, session: AgentDep) -> HTMLResponse:
    book = await services_of(request).billing.get("/v1/price-books/effective", token=session.token)
    return render(
        request,
        "tickets/form_quote.html",
        {"ticket": {"id": ticket_id}, "book": book, "values": {}, "idem": str(uuid.uuid4())},
    )


@router.post("/tickets/{ticket_id}/quotes", response_class=HTMLResponse)
async def create_quote(request: Request, ticket_id: str, session: AgentDep) -> HTMLResponse:
    _ = translator(locale_of(request))
    form = await request.form()
    parts = []
    for code, qty in zip(form.getlist("part_code"), form.getlist("part_qty"), strict=False):
        code, qty = str(code).strip(), str(qty).strip()
        if code:
            parts.append({"code": code, "quantity": int(qty) if qty.isdigit() else qty})
    labour = str(form.get("labour_minutes") or "0").strip()
    work = {
        "resolution_code": str(form.get("resolution_code") or "repair"),
        "parts": parts,
        "labour_minutes": int(labour) if labour.isdigit() else labour,
    }
    s = services_of(request)
    try:
        await s.billing.post(
            "/v1/quotes",
            {"ticket_id": ticket_id, "customer_id": str(form.get("customer_id") or "") or None, "work": work},
            token=session.token,
            idempotency_key=str(form.get("idempotency_key") or "") or None,
        )
    except ServiceProblem as exc:
        if exc.status in (401, 403) or exc.status >= 500:
            raise
        book = await s.billing.get("/v1/price-books/effective", token=session.token)
        values = {k: str(v) for k, v in form.items()}
        return render(
            request,
            "tickets/form_quote.html",
            {
                **problem_context(exc, values),
                "ticket": {"id": ticket_id},
                "book": book,
                "idem": str(form.get("idempotency_key") or uuid.uuid4()),
            },
            status=422,
        )
    return _done(request, _("Quote issued: read it to the customer and record the answer."))


@router.post("/quotes/{quote_id}/decision", response_class=HTMLResponse)
async def decide_quote(
    request: Request,
    quote_id: str,
    session: AgentDep,
    decision: Annotated[str, Form(max_length=10)],
    signed_name: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> HTMLResponse:
    _ = translator(locale_of(request))
    verb = "accept" if decision == "accept" else "reject"
    body = {"channel": "phone", "signed_name": signed_name or None, "reason": reason or None}
    try:
        await services_of(request).billing.post(f"/v1/quotes/{quote_id}/{verb}", body, token=session.token)
    except ServiceProblem as exc:
        if exc.status in (401, 403) or exc.status >= 500:
            raise
        return render(request, "partials/problem_only.html", problem_context(exc), status=422)
    return _done(
        request,
        _("The customer accepted the quote: dispatch books the visit.")
        if verb == "accept"
        else _("The customer declined the quote."),
    )
