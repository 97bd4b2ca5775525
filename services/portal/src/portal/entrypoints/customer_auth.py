"""Customers sign in with a one-time code sent to their phone or e-mail, or by a signed link from a
message; both yield a customer-scoped token (claim `customer_id`) kept in the session.

Requests for codes are limited per tenant and client address and per phone or e-mail, code entries
per tenant and client address (429 over the limit). The answer to "send me a code" is the same
whether or not the phone or e-mail belongs to a customer, so the page tells a stranger nothing.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from fixflow_shared import links
from fixflow_shared.logs import get_logger
from fixflow_shared.web import i18n as web_i18n
from fixflow_shared.web.security import double_submit_ok, safe_next, set_session_cookie, set_sign_in_form_cookie
from fixflow_shared.web.services import ServiceProblem
from portal import i18n
from portal.domain.contacts import NotAContact, parse_contact
from portal.entrypoints.web import (
    COOKIE,
    SIGN_IN_CSRF_COOKIE,
    client_address,
    locale_of,
    optional_session,
    render,
    services_of,
    settings_of,
    store_of,
)

router = APIRouter(include_in_schema=False)
log = get_logger(__name__)
TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def tenant_of(request: Request, given: str | None = None) -> str | None:
    """The company the customer signs in to: by the host they came by, else as given, else the default."""
    settings = settings_of(request)
    host = (request.headers.get("host") or "").split(":")[0].lower()
    tenant = settings.tenant_hosts.get(host) or given or request.query_params.get("tenant") or settings.default_tenant
    return tenant if tenant and TENANT.match(tenant) else None


def _page(request: Request, name: str, status: int = 200, **context: object) -> Response:
    token = request.cookies.get(SIGN_IN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, name, {"form_token": token, **context}, status=status)
    set_sign_in_form_cookie(response, SIGN_IN_CSRF_COOKIE, token, secure=settings_of(request).secure_cookies)
    return response


async def start_session(
    request: Request, *, tenant: str, customer_id: str, via: str, max_s: float, scope: str | None, next_path: str
) -> Response:
    settings = settings_of(request)
    issued = request.app.state.tokens.customer(tenant=tenant, customer_id=customer_id, ttl_s=int(max_s))
    old = request.cookies.get(COOKIE)
    await store_of(request).delete(old)  # a new sign-in never reuses a session id (fixation)
    session = await store_of(request).create(
        subject=f"customer:{customer_id}",
        name="",
        tenant=tenant,
        roles=["customer"],
        token=issued.token,
        token_expires_at=issued.expires_at,
        via=via,
        max_s=max_s,
        customer_id=customer_id,
        scope=scope,
    )
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(response, COOKIE, session.id, max_age=int(max_s), secure=settings.secure_cookies)
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path="/")
    return response


async def _customer_of(request: Request, portal_token: str, field: str, value: str) -> str | None:
    """The customer this phone or e-mail belongs to: exactly one, else nobody (no code is sent)."""
    try:
        found = await services_of(request).intake.get("/v1/customers", token=portal_token, params={field: value})
    except ServiceProblem as exc:
        if exc.status in (404, 422):
            return None  # not a number intake accepts: nobody
        raise
    items = found.get("items", []) if isinstance(found, dict) else []
    return str(items[0]["id"]) if len(items) == 1 else None


@router.get("/sign-in")
async def sign_in(request: Request) -> Response:
    session = await optional_session(request)
    nxt = safe_next(request.query_params.get("next")) or ""
    if session is not None and "customer" in session.roles and not session.scope:
        return RedirectResponse(nxt or "/my", status_code=303)
    return _page(
        request,
        "customer/sign_in.html",
        tenant=tenant_of(request) or "",
        next=nxt,
        expired=request.query_params.get("expired") == "1",
    )


@router.post("/sign-in")
async def ask_for_code(
    request: Request,
    contact: Annotated[str, Form(max_length=200)] = "",
    tenant: Annotated[str, Form(max_length=64)] = "",
    form_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    settings = settings_of(request)
    _ = i18n.translator(locale_of(request))
    company = tenant_of(request, tenant.strip() or None)
    if not double_submit_ok(request, SIGN_IN_CSRF_COOKIE, form_token):
        return _page(
            request,
            "customer/sign_in.html",
            403,
            tenant=company or "",
            next=next,
            contact=contact,
            error=_("The form expired; please try again."),
        )
    if company is None:
        return _page(
            request,
            "customer/sign_in.html",
            422,
            tenant="",
            next=next,
            contact=contact,
            error=_("Open the sign-in page from your service company's link."),
        )
    try:
        who = parse_contact(contact)
    except NotAContact:
        return _page(
            request,
            "customer/sign_in.html",
            422,
            tenant=company,
            next=next,
            contact=contact,
            error=_("Enter your mobile number or your e-mail address."),
        )
    address = client_address(request)
    await request.app.state.limits.check(
        [
            (f"code:{company}:{address}", settings.code_requests_per_address),
            (f"code-to:{company}:{who.key}", settings.code_requests_per_contact),
        ]
    )
    services = services_of(request)
    portal_token = request.app.state.tokens.service(tenant=company)
    customer_id = await _customer_of(request, portal_token, who.field, who.value)
    code = request.app.state.codes.new_code()
    challenge = await request.app.state.codes.open(
        tenant=company, customer_id=customer_id, channel=who.channel, masked=who.masked, code=code
    )
    if customer_id is not None:
        await services.notify.post(
            "/v1/sign-in-codes",
            {
                "channel": who.channel,
                "to": who.value,
                "code": code,
                "locale": locale_of(request),
                "valid_minutes": settings.code_ttl_s // 60,
                "customer_id": customer_id,
            },
            token=portal_token,
        )
    log.info("sign-in code requested", tenant=company, channel=who.channel, known=customer_id is not None)
    target = f"/sign-in/code?c={challenge.id}" + (f"&next={quote(next, safe='/')}" if safe_next(next) else "")
    return RedirectResponse(target, status_code=303)


@router.get("/sign-in/code")
async def code_page(request: Request, c: str = "") -> Response:
    challenge = await request.app.state.codes.peek(c)
    return _page(
        request,
        "customer/code.html",
        challenge=challenge,
        challenge_id=c,
        next=safe_next(request.query_params.get("next")) or "",
        minutes=settings_of(request).code_ttl_s // 60,
    )


@router.post("/sign-in/code")
async def enter_code(
    request: Request,
    challenge_id: Annotated[str, Form(max_length=100)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
    form_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    settings = settings_of(request)
    _ = i18n.translator(locale_of(request))
    codes = request.app.state.codes
    challenge = await codes.peek(challenge_id)
    context = {"challenge": challenge, "challenge_id": challenge_id, "next": next, "minutes": settings.code_ttl_s // 60}
    if not double_submit_ok(request, SIGN_IN_CSRF_COOKIE, form_token):
        return _page(request, "customer/code.html", 403, error=_("The form expired; please try again."), **context)
    if challenge is None:
        return _page(request, "customer/code.html", 410, **context)
    await request.app.state.limits.check(
        [(f"verify:{challenge.tenant}:{client_address(request)}", settings.verify_attempts_per_address)]
    )
    spent = await codes.redeem(challenge_id, code)
    if spent is None or spent.customer_id is None:
        still = await codes.peek(challenge_id)
        context["challenge"] = still
        return _page(
            request,
            "customer/code.html",
            422 if still else 410,
            error=_("That code is not right.") if still else None,
            **context,
        )
    log.info("customer signed in with a code", tenant=spent.tenant)
    return await start_session(
        request,
        tenant=spent.tenant,
        customer_id=spent.customer_id,
        via="code",
        max_s=settings.session_max_hours * 3600,
        scope=None,
        next_path=safe_next(next) or "/my",
    )


@router.get("/l/{token}")
async def follow_link(request: Request, token: str) -> Response:
    """A signed link from a message: opens its page (and only its ticket's pages) without a code."""
    settings = settings_of(request)
    try:
        link = links.verify(token, request.app.state.link_keys or (), now=time.time())
    except links.LinkExpired as exc:
        return render(
            request, "customer/link_expired.html", {"tenant": exc.link.tenant, "next": exc.link.path}, status=410
        )
    except links.BadLink:
        return render(request, "customer/link_expired.html", {"tenant": "", "next": "", "bad": True}, status=404)
    session = await optional_session(request)
    if (
        session is not None
        and "customer" in session.roles
        and session.tenant == link.tenant
        and session.customer_id == link.customer_id
        and (session.scope is None or session.scope == link.scope)
    ):
        return RedirectResponse(link.path, status_code=303)
    remaining = max(60.0, min(settings.link_session_minutes * 60.0, link.expires - time.time()))
    return await start_session(
        request,
        tenant=link.tenant,
        customer_id=link.customer_id,
        via="link",
        max_s=remaining,
        scope=link.scope,
        next_path=link.path,
    )


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    session = await optional_session(request)
    target = "/tech/sign-in" if session and "technician" in session.roles else "/sign-in"
    if session is not None:
        from fixflow_shared.web.security import check_csrf

        await check_csrf(request, session.csrf)
        await store_of(request).delete(session.id)
        if session.tenant:
            target += f"?tenant={session.tenant}" if target == "/sign-in" else ""
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/lang/{code}")
async def switch_language(request: Request, code: str) -> Response:
    return web_i18n.switch_language(request, code, i18n.COOKIE)
