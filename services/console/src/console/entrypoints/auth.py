"""Sign-in, sign-out and the language switch.

Production: OpenID Connect (authorisation code + PKCE) against FIXFLOW_OIDC_ISSUER; the access
token it yields is what the console sends to the services. Development: a page to choose tenant
and roles, which signs a development token with the local key (fixflow_shared.auth), never
offered when FIXFLOW_ENV=production.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from console import i18n
from console.entrypoints.web import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    STAFF_ROLES,
    SessionDep,
    home_of,
    optional_session,
    render,
    settings_of,
    store_of,
)
from fixflow_shared.auth import MAX_DEV_TTL_S, Authenticator, dev_token
from fixflow_shared.errors import FixflowError, NotFound
from fixflow_shared.web import i18n as web_i18n
from fixflow_shared.web.oidc import SignInFailed
from fixflow_shared.web.security import double_submit_ok, set_session_cookie, set_sign_in_form_cookie
from fixflow_shared.web.security import safe_next as _safe_next

router = APIRouter(include_in_schema=False)
TENANT = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def _set_session_cookie(request: Request, response: Response, session_id: str, max_age: int) -> None:
    set_session_cookie(response, COOKIE, session_id, max_age=max_age, secure=settings_of(request).secure_cookies)


async def _end_previous_session(request: Request) -> None:
    """A sign-in replaces the session this browser held: its cookie must not keep working until it
    expires (another account signed in on a shared desk, or a stolen id outliving the new sign-in)."""
    await store_of(request).delete(request.cookies.get(COOKIE))


def _login_page(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    settings = settings_of(request)
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        {
            "login_csrf": token,
            "next": _safe_next(request.query_params.get("next")) or "",
            "expired": request.query_params.get("expired") == "1",
            "error": error,
            "dev": settings.dev_sign_in,
            "oidc": request.app.state.oidc is not None,
            "roles": STAFF_ROLES,
        },
        status=status,
    )
    set_sign_in_form_cookie(response, LOGIN_CSRF_COOKIE, token, secure=settings.secure_cookies)
    return response


@router.get("/login")
async def login(request: Request) -> Response:
    session = await optional_session(request)
    if session is not None:
        return RedirectResponse(_safe_next(request.query_params.get("next")) or home_of(session), status_code=303)
    return _login_page(request)


@router.post("/login/dev")
async def login_dev(
    request: Request,
    tenant: Annotated[str, Form(max_length=64)],
    name: Annotated[str, Form(max_length=100)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    settings = settings_of(request)
    _ = i18n.translator(i18n.negotiate(request.headers.get("accept-language"), request.cookies.get(i18n.COOKIE)))
    keys = settings.jwt_keys()  # None in production: development tokens are refused there
    if not settings.dev_sign_in or keys is None:
        raise NotFound("page", "development sign-in")
    if not double_submit_ok(request, LOGIN_CSRF_COOKIE, csrf_token):
        return _login_page(request, error=_("The sign-in form expired; please try again."), status=403)
    tenant = tenant.strip().lower()
    chosen = sorted({r for r in roles or [] if r in STAFF_ROLES})
    if not TENANT.match(tenant):
        return _login_page(request, error=_("Enter a tenant: lower-case letters, digits and dashes."), status=422)
    if not chosen:
        return _login_page(request, error=_("Choose at least one role."), status=422)
    display = name.strip()[:100] or "dev-user"
    ttl = min(int(settings.session_max_hours * 3600), MAX_DEV_TTL_S)  # services refuse longer ones
    subject = "dev:" + re.sub(r"[^A-Za-z0-9_.-]+", "-", display).strip("-")[:60]
    token = dev_token(
        tenant=tenant, roles=chosen, subject=subject or "dev:user", secret=keys.signing_key.decode(), ttl_s=ttl
    )
    session = await store_of(request).create(
        subject=subject,
        name=display,
        tenant=tenant,
        roles=chosen,
        token=token,
        token_expires_at=time.time() + ttl,
        via="dev",
    )
    await _end_previous_session(request)
    response = RedirectResponse(_safe_next(next) or home_of(session), status_code=303)
    _set_session_cookie(request, response, session.id, ttl)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.get("/login/oidc")
async def login_oidc(request: Request) -> Response:
    oidc = request.app.state.oidc
    if oidc is None:
        raise NotFound("page", "OpenID Connect sign-in")
    started = await oidc.start()
    await store_of(request).put_pending(
        started.state,
        {
            "verifier": started.verifier,
            "nonce": started.nonce,
            "next": _safe_next(request.query_params.get("next")) or "",
        },
    )
    return RedirectResponse(started.url, status_code=303)


@router.get("/auth/callback")
async def oidc_callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
    oidc = request.app.state.oidc
    _ = i18n.translator(i18n.negotiate(request.headers.get("accept-language"), request.cookies.get(i18n.COOKIE)))
    pending = await store_of(request).pop_pending(state)
    if oidc is None or pending is None or not code or error:
        return _login_page(request, error=_("Sign-in was not completed; please try again."), status=400)
    try:
        signed = await oidc.finish(code=code, verifier=pending["verifier"], nonce=pending["nonce"])
        authenticator: Authenticator = request.app.state.authenticator
        principal = authenticator.verify_token(signed.access_token)
    except (SignInFailed, FixflowError):
        return _login_page(request, error=_("Sign-in was not completed; please try again."), status=400)
    roles = sorted(principal.roles & set(STAFF_ROLES))
    if not roles:
        return _login_page(request, error=_("This console is for staff: your account has no staff role."), status=403)
    claims = signed.id_claims
    session = await store_of(request).create(
        subject=principal.subject,
        name=str(claims.get("name") or claims.get("preferred_username") or principal.subject)[:100],
        tenant=principal.tenant,
        roles=roles,
        token=signed.access_token,
        token_expires_at=signed.expires_at,
        via="oidc",
        id_token=signed.id_token,
    )
    await _end_previous_session(request)
    response = RedirectResponse(_safe_next(pending.get("next")) or home_of(session), status_code=303)
    _set_session_cookie(request, response, session.id, int(settings_of(request).session_max_hours * 3600))
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep) -> Response:
    await store_of(request).delete(session.id)
    target = "/login"
    oidc = request.app.state.oidc
    if session.via == "oidc" and oidc is not None:
        target = await oidc.logout_url(session.id_token, settings_of(request).public_url + "/login") or target
    response: Response = RedirectResponse(target, status_code=303)
    if request.headers.get("hx-request") == "true":
        response = Response(status_code=204, headers={"HX-Redirect": target})
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/lang/{code}")
async def switch_language(request: Request, code: str) -> Response:
    return web_i18n.switch_language(request, code, i18n.COOKIE)
