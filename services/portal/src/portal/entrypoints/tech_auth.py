"""Technicians sign in: with the company's OpenID Connect issuer in production (authorisation code
with PKCE; the access token carries `technician_id`), or in development by choosing a tenant and a
technician id. A technician's session lasts the shift: the app keeps working offline and queued
actions are sent when it is back, still inside the session."""

from __future__ import annotations

import re
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from fixflow_shared.errors import FixflowError, NotFound
from fixflow_shared.web.oidc import SignInFailed
from fixflow_shared.web.security import double_submit_ok, safe_next, set_session_cookie, set_sign_in_form_cookie
from fixflow_shared.web.services import ServiceProblem
from portal import i18n
from portal.entrypoints.web import (
    COOKIE,
    SIGN_IN_CSRF_COOKIE,
    locale_of,
    optional_session,
    render,
    services_of,
    settings_of,
    store_of,
)

router = APIRouter(prefix="/tech", include_in_schema=False)
TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
TECHNICIAN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def _next(value: str | None) -> str:
    target = safe_next(value)
    return target if target and target.startswith("/tech") else "/tech"


def _page(request: Request, *, error: str | None = None, status: int = 200, **values: str) -> Response:
    settings = settings_of(request)
    token = request.cookies.get(SIGN_IN_CSRF_COOKIE) or secrets.token_urlsafe(24)  # one per browser: tabs agree
    response = render(
        request,
        "tech/sign_in.html",
        {
            "form_token": token,
            "next": _next(request.query_params.get("next")),
            "dev": settings.dev_sign_in,
            "oidc": request.app.state.oidc is not None,
            "error": error,
            "expired": request.query_params.get("expired") == "1",
            "values": values,
        },
        status=status,
    )
    set_sign_in_form_cookie(response, SIGN_IN_CSRF_COOKIE, token, secure=settings.secure_cookies)
    return response


async def _start(
    request: Request,
    *,
    tenant: str,
    technician_id: str,
    name: str,
    token: str,
    expires_at: float,
    via: str,
    id_token: str | None = None,
    next_path: str = "/tech",
) -> Response:
    settings = settings_of(request)
    await store_of(request).delete(request.cookies.get(COOKIE))
    max_s = settings.session_max_hours * 3600
    session = await store_of(request).create(
        subject=f"technician:{technician_id}",
        name=name,
        tenant=tenant,
        roles=["technician"],
        token=token,
        token_expires_at=expires_at,
        via=via,
        id_token=id_token,
        idle_s=int(settings.tech_session_idle_hours * 3600),
        technician_id=technician_id,
    )
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(response, COOKIE, session.id, max_age=int(max_s), secure=settings.secure_cookies)
    response.delete_cookie(SIGN_IN_CSRF_COOKIE)
    return response


@router.get("/sign-in")
async def sign_in(request: Request) -> Response:
    session = await optional_session(request)
    if session is not None and "technician" in session.roles:
        return RedirectResponse(_next(request.query_params.get("next")), status_code=303)
    return _page(request)


@router.post("/sign-in/dev")
async def sign_in_dev(
    request: Request,
    tenant: Annotated[str, Form(max_length=64)] = "",
    technician_id: Annotated[str, Form(max_length=64)] = "",
    form_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    settings = settings_of(request)
    _ = i18n.translator(locale_of(request))
    if not settings.dev_sign_in:
        raise NotFound("page", "development sign-in")
    values = {"tenant": tenant, "technician_id": technician_id}
    if not double_submit_ok(request, SIGN_IN_CSRF_COOKIE, form_token):
        return _page(request, error=_("The form expired; please try again."), status=403, **values)
    tenant, technician_id = tenant.strip(), technician_id.strip()
    if not TENANT.match(tenant) or not TECHNICIAN.match(technician_id):
        return _page(request, error=_("Enter the tenant and your technician id."), status=422, **values)
    ttl = int(settings.session_max_hours * 3600)
    issued = request.app.state.tokens.technician(tenant=tenant, technician_id=technician_id, name="", ttl_s=ttl)
    try:
        me = await services_of(request).dispatch.get(f"/v1/technicians/{technician_id}", token=issued.token)
    except ServiceProblem as exc:
        if exc.status in (403, 404):
            return _page(request, error=_("There is no such technician."), status=422, **values)
        raise
    return await _start(
        request,
        tenant=tenant,
        technician_id=technician_id,
        name=str(me.get("name") or technician_id),
        token=issued.token,
        expires_at=issued.expires_at,
        via="dev",
        next_path=_next(next),
    )


@router.get("/login/oidc")
async def login_oidc(request: Request) -> Response:
    oidc = request.app.state.oidc
    if oidc is None:
        raise NotFound("page", "OpenID Connect sign-in")
    started = await oidc.start()
    await store_of(request).put_pending(
        started.state,
        {"verifier": started.verifier, "nonce": started.nonce, "next": _next(request.query_params.get("next"))},
    )
    return RedirectResponse(started.url, status_code=303)


@router.get("/auth/callback")
async def oidc_callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
    oidc = request.app.state.oidc
    _ = i18n.translator(locale_of(request))
    pending = await store_of(request).pop_pending(state)
    if oidc is None or pending is None or not code or error:
        return _page(request, error=_("Sign-in was not completed; please try again."), status=400)
    try:
        signed = await oidc.finish(code=code, verifier=pending["verifier"], nonce=pending["nonce"])
        principal = request.app.state.authenticator.verify_token(signed.access_token)
    except (SignInFailed, FixflowError):
        return _page(request, error=_("Sign-in was not completed; please try again."), status=400)
    technician_id = getattr(principal, "technician_id", None)
    if "technician" not in principal.roles or not technician_id:
        return _page(request, error=_("This app is for technicians: your account is not a technician's."), status=403)
    claims = signed.id_claims
    return await _start(
        request,
        tenant=principal.tenant,
        technician_id=technician_id,
        name=str(claims.get("name") or claims.get("preferred_username") or technician_id)[:100],
        token=signed.access_token,
        expires_at=signed.expires_at,
        via="oidc",
        id_token=signed.id_token,
        next_path=_next(pending.get("next")),
    )
