"""What every page shares: who is signed in (a customer or a technician), the CSRF check of every
unsafe request, the language, the client's address, and rendering a template with all of that."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from fixflow_shared.web.security import UNSAFE, check_csrf
from fixflow_shared.web.services import Services
from fixflow_shared.web.sessions import Session, SessionStore
from portal import i18n
from portal.config import PortalSettings

COOKIE = "fixflow_portal"
SIGN_IN_CSRF_COOKIE = "portal_sign_in_csrf"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))
ALWAYS_OPEN = ("/sign-out", "/lang/", "/static/")  # a link's session may still sign out or switch language


class SignInRequired(Exception):
    """No session for this page: a customer page sends to /sign-in, a technician page to /tech/sign-in."""

    def __init__(self, *, technician: bool = False, expired: bool = False) -> None:
        self.technician = technician
        self.expired = expired


class OutsideLink(Exception):
    """A session opened by a signed link asked for another page than the link's."""


def settings_of(request: Request) -> PortalSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def services_of(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def store_of(request: Request) -> SessionStore:
    return request.app.state.sessions  # type: ignore[no-any-return]


def client_address(request: Request) -> str:
    """The browser's address (uvicorn takes it from X-Forwarded-For when the ingress is trusted)."""
    return request.client.host if request.client else "unknown"


def locale_of(request: Request) -> str:
    cached = getattr(request.state, "locale", None)
    if cached:
        return cached  # type: ignore[no-any-return]
    loc = i18n.negotiate(
        request.headers.get("accept-language"), request.cookies.get(i18n.COOKIE), settings_of(request).default_locale
    )
    request.state.locale = loc
    return loc


async def optional_session(request: Request) -> Session | None:
    if hasattr(request.state, "session"):
        return request.state.session  # type: ignore[no-any-return]
    s = await store_of(request).get(request.cookies.get(COOKIE))
    request.state.session = s
    return s


async def _signed_in(request: Request, role: str) -> Session:
    s = await optional_session(request)
    if s is None or role not in s.roles:
        raise SignInRequired(technician=role == "technician", expired=COOKIE in request.cookies)
    if s.scope and not (request.url.path.startswith(s.scope) or request.url.path.startswith(ALWAYS_OPEN)):
        raise OutsideLink()
    if request.method in UNSAFE:
        await check_csrf(request, s.csrf)
    return s


async def current_customer(request: Request) -> Session:
    return await _signed_in(request, "customer")


async def current_technician(request: Request) -> Session:
    return await _signed_in(request, "technician")


CustomerDep = Annotated[Session, Depends(current_customer)]
TechnicianDep = Annotated[Session, Depends(current_technician)]


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def home_of(session: Session | None) -> str:
    if session is None:
        return "/sign-in"
    if "technician" in session.roles:
        return "/tech"
    return session.scope or "/my"


def helpers(request: Request) -> dict[str, Any]:
    """What every template may use: translation, labels of codes, local times, money."""
    loc = locale_of(request)
    settings = settings_of(request)
    session: Session | None = getattr(request.state, "session", None)
    zone = ZoneInfo(settings.timezone)

    def when(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if not value:
            return "—"
        t = datetime.fromisoformat(value) if isinstance(value, str) else value
        return t.astimezone(zone).strftime(fmt) if t.tzinfo else t.strftime(fmt)

    def window(start: Any, end: Any) -> str:
        if not start or not end:
            return "—"
        a = datetime.fromisoformat(start) if isinstance(start, str) else start
        b = datetime.fromisoformat(end) if isinstance(end, str) else end
        a, b = a.astimezone(zone), b.astimezone(zone)
        return f"{a:%Y-%m-%d %H:%M}–{b:%H:%M}" if a.date() == b.date() else f"{a:%Y-%m-%d %H:%M} – {b:%Y-%m-%d %H:%M}"

    return {
        "_": i18n.translator(loc),
        "label": i18n.labeller(loc),
        "when": when,
        "window": window,
        "money": lambda minor, cur="CNY": f"{(minor or 0) / 100:,.2f} {cur}",
        "lang": loc,
        "session": session,
        "path": request.url.path,
        "csrf": session.csrf if session else "",
    }


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200) -> HTMLResponse:
    ctx = {"request": request, **helpers(request), **(context or {})}
    return TEMPLATES.TemplateResponse(request, name, ctx, status_code=status)


def sign_in_redirect(request: Request, *, technician: bool, expired: bool) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    base = "/tech/sign-in" if technician else "/sign-in"
    url = f"{base}?next={quote(target, safe='')}" + ("&expired=1" if expired else "")
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
