"""Agent desk: find a customer (phone, name or serial), the customer card, and the new-ticket form
that shows at once the warranty decision, triage, missing facts and a duplicate."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from console.entrypoints.tickets import _with_badges
from console.entrypoints.web import AgentDep, problem_context, render, services_of
from fixflow_shared.web.services import ServiceProblem

router = APIRouter(include_in_schema=False)
PHONE = re.compile(r"^\+?[\d\s-]{6,20}$")
SERIAL = re.compile(r"^(?=.*\d)[A-Za-z0-9._/-]{5,100}$")


@router.get("/desk", response_class=HTMLResponse)
async def desk(request: Request, session: AgentDep, q: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
    results = await _search(request, session.token, q) if q else None
    return render(request, "desk/desk.html", {"q": q, "results": results})


@router.get("/desk/search", response_class=HTMLResponse)
async def search(request: Request, session: AgentDep, q: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
    return render(request, "desk/results.html", {"q": q, "results": await _search(request, session.token, q)})


async def _search(request: Request, token: str, q: str) -> dict[str, Any]:
    """A phone finds by phone; something with digits and no spaces by serial too; anything by name."""
    s = services_of(request)
    q = q.strip()
    if len(q) < 2:
        return {"customers": [], "assets": []}
    lookups: dict[str, Any] = {}
    if PHONE.match(q) and sum(c.isdigit() for c in q) >= 6:
        lookups["phone"] = s.intake.get("/v1/customers", token=token, params={"phone": q})
    if SERIAL.match(q):
        lookups["serial"] = s.intake.get("/v1/assets", token=token, params={"serial": q})
    if not q.replace("+", "").replace(" ", "").replace("-", "").isdigit():
        lookups["name"] = s.intake.get("/v1/customers", token=token, params={"name": q})
    answers = await asyncio.gather(*lookups.values(), return_exceptions=True)
    customers: dict[str, dict[str, Any]] = {}
    assets: list[dict[str, Any]] = []
    for kind, a in zip(lookups, answers, strict=True):
        if isinstance(a, ServiceProblem):
            if a.status in (400, 422):
                continue  # not a valid phone or serial after all
            raise a
        if isinstance(a, BaseException):
            raise a
        if kind == "serial":
            assets = a.get("items", [])
        else:
            for c in a.get("items", []):
                customers[c["id"]] = c
    missing = {x["customer_id"] for x in assets} - set(customers)
    if missing:
        found = await asyncio.gather(
            *(s.intake.get_or_none(f"/v1/customers/{cid}", token=token) for cid in sorted(missing))
        )
        for c in found:
            if c:
                customers[c["id"]] = c
    return {"customers": list(customers.values()), "assets": assets}


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
async def customer_card(request: Request, customer_id: str, session: AgentDep) -> HTMLResponse:
    s = services_of(request)
    customer, assets, tickets = await asyncio.gather(
        s.intake.get(f"/v1/customers/{customer_id}", token=session.token),
        s.intake.get("/v1/assets", token=session.token, params={"customer_id": customer_id, "limit": 100}),
        s.intake.get("/v1/tickets", token=session.token, params={"customer_id": customer_id, "limit": 50}),
    )
    items = assets.get("items", [])  # each with its product and intake's warranty decision for today
    closed = ("closed", "cancelled")
    ticket_items = await _with_badges(request, session.token, tickets.get("items", []))
    return render(
        request,
        "desk/customer.html",
        {
            "customer": customer,
            "assets": items,
            "open_tickets": [t for t in ticket_items if t["status"] not in closed],
            "past_tickets": [t for t in ticket_items if t["status"] in closed],
            "form": {"customer_id": customer_id, "asset_id": items[0]["id"] if len(items) == 1 else ""},
            "idem": str(uuid.uuid4()),
        },
    )


@router.get("/tickets/new", response_class=HTMLResponse)
async def new_ticket(request: Request, session: AgentDep, customer_id: str = "", asset_id: str = "") -> HTMLResponse:
    customer, assets = None, []
    s = services_of(request)
    if customer_id:
        customer = await s.intake.get(f"/v1/customers/{customer_id}", token=session.token)
        assets = (
            await s.intake.get("/v1/assets", token=session.token, params={"customer_id": customer_id, "limit": 100})
        ).get("items", [])
    return render(
        request,
        "desk/new_ticket.html",
        {
            "customer": customer,
            "assets": assets,
            "form": {"customer_id": customer_id, "asset_id": asset_id},
            "idem": str(uuid.uuid4()),
        },
    )


def ticket_body(form: dict[str, Any]) -> dict[str, Any]:
    """The form as intake's TicketCreate: empty fields left out, so intake judges what is missing."""
    body: dict[str, Any] = {}
    for k in (
        "kind",
        "channel",
        "symptom",
        "customer_id",
        "asset_id",
        "customer_name",
        "contact_phone",
        "contact_email",
        "serial",
        "product_model",
        "purchase_date",
        "locale",
        "original_ticket_id",
    ):
        v = (form.get(k) or "").strip()
        if v:
            body[k] = v
    for k in ("severity", "urgency", "complaint_level"):
        v = (form.get(k) or "").strip()
        if v:
            body[k] = int(v) if v.isdigit() else v
    if form.get("compensation_requested"):
        body["compensation_requested"] = True
    return body


@router.post("/tickets", response_class=HTMLResponse)
async def create_ticket(
    request: Request,
    session: AgentDep,
    kind: Annotated[str, Form(max_length=40)] = "",
    channel: Annotated[str, Form(max_length=40)] = "phone",
    symptom: Annotated[str, Form(max_length=5000)] = "",
    customer_id: Annotated[str, Form(max_length=64)] = "",
    asset_id: Annotated[str, Form(max_length=64)] = "",
    customer_name: Annotated[str, Form(max_length=300)] = "",
    contact_phone: Annotated[str, Form(max_length=40)] = "",
    contact_email: Annotated[str, Form(max_length=320)] = "",
    serial: Annotated[str, Form(max_length=100)] = "",
    product_model: Annotated[str, Form(max_length=100)] = "",
    purchase_date: Annotated[str, Form(max_length=20)] = "",
    severity: Annotated[str, Form(max_length=2)] = "",
    urgency: Annotated[str, Form(max_length=2)] = "",
    locale: Annotated[str, Form(max_length=10)] = "",
    complaint_level: Annotated[str, Form(max_length=2)] = "",
    original_ticket_id: Annotated[str, Form(max_length=64)] = "",
    idempotency_key: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    form = {k: v for k, v in locals().items() if k not in ("request", "session", "idempotency_key")}
    s = services_of(request)
    try:
        ticket = await s.intake.post(
            "/v1/tickets", ticket_body(form), token=session.token, idempotency_key=idempotency_key or None
        )
    except ServiceProblem as exc:
        if exc.status in (401, 403, 404) or exc.status >= 500:
            raise
        return render(
            request,
            "desk/ticket_form.html",
            {**problem_context(exc, form), "form": form, "idem": idempotency_key or str(uuid.uuid4())},
            status=422,
        )
    article = None
    if ticket.get("suggested_fix"):
        article = await s.intake.get_or_none(f"/v1/knowledge-base/{ticket['suggested_fix']}", token=session.token)
    return render(request, "desk/ticket_opened.html", {"ticket": ticket, "article": article})
