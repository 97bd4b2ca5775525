"""Following one request: where it stands in plain words, the steps so far, the technician and the
window, the live ETA once the technician is on the way, moving or cancelling the visit, the quote
to accept or decline, invoices, receipts and the service report as PDF.

Every page of a ticket lives under /tickets/{ticket_id}: a signed link from a message opens one of
them and its session reaches that ticket's pages only. The services decide who may see what (a
customer token reaches its own customer's objects; anything else is 404) and what may change; the
portal only chooses which buttons to show."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from fixflow_shared.web.services import ServiceProblem
from fixflow_shared.web.sessions import Session
from portal.domain import progress as words
from portal.entrypoints.web import (
    CustomerDep,
    client_address,
    helpers,
    is_htmx,
    locale_of,
    render,
    services_of,
    settings_of,
)
from portal.i18n import translator

router = APIRouter(prefix="/tickets", include_in_schema=False)
ACTIVE_WO = ("assigned", "en_route", "on_site")
VISIT_AHEAD = ("scheduled", "in_progress")  # the timeline's last booking is the visit to come


async def _job(request: Request, session: Session, ticket_id: str) -> dict[str, Any] | None:
    """The ticket's job in dispatch with its visits; None before dispatch has one, or where dispatch
    does not let a customer read jobs (the timeline still names the technician and the window)."""
    dispatch = services_of(request).dispatch
    try:
        brief = await dispatch.get_or_none(f"/v1/jobs/by-ticket/{ticket_id}", token=session.token)
        if brief is None:
            return None
        return await dispatch.get_or_none(f"/v1/jobs/{brief['id']}", token=session.token)  # type: ignore[no-any-return]
    except ServiceProblem as exc:
        if exc.status == 403:
            return None
        raise


def _current(job: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The visit still to come (appointment) and the work order under way, if any."""
    if not job:
        return None, None
    appts = [a for a in job.get("appointments", []) if a["status"] in ("booked", "confirmed")]
    wos = [w for w in job.get("work_orders", []) if w["status"] in ACTIVE_WO]
    appt = max(appts, key=lambda a: a["visit_number"]) if appts else None
    wo = max(wos, key=lambda w: w["visit_number"]) if wos else None
    return appt, wo


async def _ticket(request: Request, session: Session, ticket_id: str) -> dict[str, Any]:
    return await services_of(request).intake.get(f"/v1/tickets/{ticket_id}", token=session.token)  # type: ignore[no-any-return]


async def _reports(request: Request, session: Session, ticket_id: str) -> dict[str, str]:
    """work order id -> the attachment id of its service report in dispatch."""
    found = await services_of(request).dispatch.get_or_none(
        f"/v1/tickets/{ticket_id}/attachments", token=session.token, params={"kind": "report"}
    )
    return {a["work_order_id"]: a["id"] for a in found or [] if a.get("kind") == "report"}


@router.get("/{ticket_id}")
async def ticket_page(request: Request, ticket_id: str, session: CustomerDep) -> Response:
    services = services_of(request)
    ticket = await _ticket(request, session, ticket_id)
    timeline, job, quotes, invoices, made = await asyncio.gather(
        services.intake.get(f"/v1/tickets/{ticket_id}/timeline", token=session.token),
        _job(request, session, ticket_id),
        services.billing.get("/v1/quotes", token=session.token, params={"ticket_id": ticket_id}),
        services.billing.get("/v1/invoices", token=session.token, params={"ticket_id": ticket_id}),
        _reports(request, session, ticket_id),
    )
    events = timeline.get("events", [])
    appt, wo = _current(job)
    fmt = helpers(request)["window"]
    # the service report dispatch made when each visit completed (work order, checklist, photos, signature)
    reports = [w for w in (job or {}).get("work_orders", []) if w["id"] in made]
    now = datetime.now(UTC)
    refusal = _refusal(request, appt, wo, now)
    return render(
        request,
        "customer/ticket.html",
        {
            "ticket": ticket,
            "progress": words.progress(ticket, job, wo),
            "steps": words.steps(events, fmt),
            "visit": words.latest_visit(events) if (appt or wo or ticket["status"] in VISIT_AHEAD) else None,
            "appointment": appt,
            "work_order": wo,
            "may_change": refusal is None and words.may_change_visit(appt, now, notice_hours=_notice(request)),
            "may_cancel": refusal is None and ticket["status"] in CANCELLABLE,
            "quotes": quotes,
            "invoices": invoices,
            "reports": reports,
            "new": request.query_params.get("new") == "1",
            "eta_refresh": settings_of(request).eta_refresh_s,
        },
    )


@router.get("/{ticket_id}/eta")
async def eta(request: Request, ticket_id: str, session: CustomerDep) -> Response:
    """The expected arrival, asked for again by the open page while the technician is on the way."""
    job = await _job(request, session, ticket_id)
    _, wo = _current(job)
    timeline = await services_of(request).intake.get(f"/v1/tickets/{ticket_id}/timeline", token=session.token)
    return render(
        request,
        "customer/eta.html",
        {
            "ticket": {"id": ticket_id},
            "work_order": wo,
            "visit": words.latest_visit(timeline.get("events", [])),
            "eta_refresh": settings_of(request).eta_refresh_s,
        },
    )


# --- moving or cancelling the visit -----------------------------------------------------------------

CANCELLABLE = ("received", "triaged", "waiting_customer", "scheduled")


def _notice(request: Request) -> float:
    return settings_of(request).change_notice_hours


def _refusal(
    request: Request, appt: dict[str, Any] | None, wo: dict[str, Any] | None, now: datetime | None = None
) -> str | None:
    return words.change_refusal(appt, wo, now or datetime.now(UTC), notice_hours=_notice(request))


def _cannot_change(
    request: Request, ticket: dict[str, Any], why: str, problem: ServiceProblem | None = None
) -> Response:
    """The friendly page a refused move or cancellation gets (409): why, in the customer's words."""
    return render(
        request,
        "customer/cannot_change.html",
        {"ticket": ticket, "why": words.REFUSALS[why], "hours": f"{_notice(request):g}", "problem": problem},
        status=409,
    )


async def _refused(request: Request, session: Session, ticket_id: str, exc: ServiceProblem) -> Response:
    """A service said no: say why in the customer's words where the rules name it."""
    ticket = await _ticket(request, session, ticket_id)
    _appt, wo = _current(await _job(request, session, ticket_id))
    why = "on_the_way" if wo and wo.get("status") in ("en_route", "on_site") else None
    if why is None and exc.status == 409 and "too late" in exc.title.lower():
        why = "too_late"
    return _cannot_change(request, ticket, why or "refused", None if why else exc)


@router.get("/{ticket_id}/reschedule")
async def reschedule_page(request: Request, ticket_id: str, session: CustomerDep) -> Response:
    ticket = await _ticket(request, session, ticket_id)
    job = await _job(request, session, ticket_id)
    appt, wo = _current(job)
    why = _refusal(request, appt, wo)
    if why:
        return _cannot_change(request, ticket, why)
    offers: list[dict[str, Any]] = []
    if job and appt:
        offers = await services_of(request).dispatch.get(f"/v1/jobs/{job['id']}/offers", token=session.token)
    return render(request, "customer/reschedule.html", {"ticket": ticket, "appointment": appt, "offers": offers[:12]})


@router.post("/{ticket_id}/reschedule")
async def reschedule(
    request: Request,
    ticket_id: str,
    session: CustomerDep,
    slot: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    _ = translator(locale_of(request))
    job = await _job(request, session, ticket_id)
    appt, wo = _current(job)
    start, _sep, end = slot.partition("|")
    if not appt or not start or not end:
        return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
    why = _refusal(request, appt, wo)
    if why:
        return _cannot_change(request, await _ticket(request, session, ticket_id), why)
    try:
        await services_of(request).dispatch.post(
            f"/v1/appointments/{appt['id']}/reschedule",
            {"start": start, "end": end, "reason": "customer_request"},
            token=session.token,
        )
    except ServiceProblem as exc:
        if exc.status >= 500 or exc.status == 401:
            raise
        if exc.status == 409:
            return await _refused(request, session, ticket_id, exc)
        ticket = await _ticket(request, session, ticket_id)
        offers = await services_of(request).dispatch.get(f"/v1/jobs/{job['id']}/offers", token=session.token)  # type: ignore[index]
        return render(
            request,
            "customer/reschedule.html",
            {"ticket": ticket, "appointment": appt, "offers": offers[:12], "problem": exc},
            status=exc.status,
        )
    return RedirectResponse(f"/tickets/{ticket_id}?moved=1", status_code=303)


@router.get("/{ticket_id}/cancel")
async def cancel_page(request: Request, ticket_id: str, session: CustomerDep) -> Response:
    ticket = await _ticket(request, session, ticket_id)
    appt, wo = _current(await _job(request, session, ticket_id))
    why = _refusal(request, appt, wo)
    if why:
        return _cannot_change(request, ticket, why)
    return render(request, "customer/cancel.html", {"ticket": ticket})


@router.post("/{ticket_id}/cancel")
async def cancel(
    request: Request, ticket_id: str, session: CustomerDep, reason: Annotated[str, Form(max_length=500)] = ""
) -> Response:
    """Cancelling the request within the rules: not once the technician set off, not in the notice
    period before the visit (the booked visit is cancelled in dispatch first, which applies the same
    rules, then the request in intake)."""
    appt, wo = _current(await _job(request, session, ticket_id))
    why = _refusal(request, appt, wo)
    if why:
        return _cannot_change(request, await _ticket(request, session, ticket_id), why)
    try:
        if appt:
            await services_of(request).dispatch.post(
                f"/v1/appointments/{appt['id']}/cancel",
                {"reason": "customer_request", **({"detail": reason.strip()[:500]} if reason.strip() else {})},
                token=session.token,
            )
        await services_of(request).intake.post(
            f"/v1/tickets/{ticket_id}/cancel",
            {"reason": reason.strip() or "customer cancelled online"},
            token=session.token,
        )
    except ServiceProblem as exc:
        if exc.status >= 500 or exc.status in (401, 404):
            raise
        if exc.status == 409:
            return await _refused(request, session, ticket_id, exc)
        ticket = await _ticket(request, session, ticket_id)
        return render(request, "customer/cancel.html", {"ticket": ticket, "problem": exc}, status=exc.status)
    return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)


# --- quotes -------------------------------------------------------------------------------------------


async def _quote(request: Request, session: Session, ticket_id: str, quote_id: str) -> dict[str, Any]:
    quote = await services_of(request).billing.get(f"/v1/quotes/{quote_id}", token=session.token)
    if quote.get("ticket_id") != ticket_id:
        raise ServiceProblem("billing", 404, {"title": "Not found", "detail": f"quote {quote_id}"})
    return quote  # type: ignore[no-any-return]


@router.get("/{ticket_id}/quotes/{quote_id}")
async def quote_page(request: Request, ticket_id: str, quote_id: str, session: CustomerDep) -> Response:
    quote = await _quote(request, session, ticket_id, quote_id)
    return render(request, "customer/quote.html", {"quote": quote, "ticket_id": ticket_id})


@router.post("/{ticket_id}/quotes/{quote_id}/{decision}")
async def decide_quote(
    request: Request,
    ticket_id: str,
    quote_id: str,
    decision: str,
    session: CustomerDep,
    signed_name: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if decision not in ("accept", "reject"):
        raise ServiceProblem("portal", 404, {"title": "Not found"})
    _ = translator(locale_of(request))
    await _quote(request, session, ticket_id, quote_id)
    body: dict[str, Any] = {"channel": "web", "client_address": client_address(request)}
    if signed_name.strip():
        body["signed_name"] = signed_name.strip()
    if reason.strip():
        body["reason"] = reason.strip()
    try:
        quote = await services_of(request).billing.post(f"/v1/quotes/{quote_id}/{decision}", body, token=session.token)
    except ServiceProblem as exc:
        if exc.status >= 500 or exc.status in (401, 404):
            raise
        quote = await _quote(request, session, ticket_id, quote_id)
        return render(
            request, "customer/quote.html", {"quote": quote, "ticket_id": ticket_id, "problem": exc}, status=exc.status
        )
    return render(request, "customer/quote.html", {"quote": quote, "ticket_id": ticket_id, "decided": True})


# --- documents ------------------------------------------------------------------------------------------


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "private, no-store"},
    )


@router.get("/{ticket_id}/invoices/{invoice_id}.pdf")
async def invoice_pdf(request: Request, ticket_id: str, invoice_id: str, session: CustomerDep) -> Response:
    billing = services_of(request).billing
    invoice = await billing.get(f"/v1/invoices/{invoice_id}", token=session.token)
    if invoice.get("ticket_id") != ticket_id:
        raise ServiceProblem("billing", 404, {"title": "Not found"})
    r = await billing.request(
        "GET", f"/v1/invoices/{invoice_id}/pdf", token=session.token, raw=True, accept="application/pdf"
    )
    return _pdf(r.content, f"{invoice.get('number') or invoice_id}.pdf")


@router.get("/{ticket_id}/invoices/{invoice_id}/receipts/{receipt_number}.pdf")
async def receipt_pdf(
    request: Request, ticket_id: str, invoice_id: str, receipt_number: str, session: CustomerDep
) -> Response:
    """A payment's receipt, under its invoice's ticket only (billing answers 404 for another's invoice)."""
    billing = services_of(request).billing
    invoice = await billing.get(f"/v1/invoices/{invoice_id}", token=session.token)
    if invoice.get("ticket_id") != ticket_id:
        raise ServiceProblem("billing", 404, {"title": "Not found"})
    r = await billing.request(
        "GET",
        f"/v1/invoices/{invoice_id}/receipts/{receipt_number}/pdf",
        token=session.token,
        raw=True,
        accept="application/pdf",
    )
    return _pdf(r.content, f"{receipt_number}.pdf")


@router.get("/{ticket_id}/reports/{work_order_id}.pdf")
async def report_pdf(request: Request, ticket_id: str, work_order_id: str, session: CustomerDep) -> Response:
    report = (await _reports(request, session, ticket_id)).get(work_order_id)
    if report is None:
        raise ServiceProblem("dispatch", 404, {"title": "Not found", "detail": "no service report for this visit"})
    r = await services_of(request).dispatch.request(
        "GET", f"/v1/attachments/{report}", token=session.token, raw=True, accept="application/pdf"
    )
    return _pdf(r.content, f"service-report-{work_order_id}.pdf")


__all__ = ["router", "is_htmx"]
