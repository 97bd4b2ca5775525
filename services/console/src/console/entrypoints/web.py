"""What every page shares: the signed-in session, CSRF protection of every unsafe request, the
role a page needs, the language, and rendering a template with all of that in its context."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from console import i18n
from console.config import ConsoleSettings
from fixflow_shared.web.security import UNSAFE, check_csrf
from fixflow_shared.web.services import ServiceProblem, Services
from fixflow_shared.web.sessions import Session, SessionStore

COOKIE = "fixflow_console"
LOGIN_CSRF_COOKIE = "console_login_csrf"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))

# Pages and who may open them (admin opens everything). Order = the navigation bar.
PAGES: list[tuple[str, str, tuple[str, ...]]] = [
    ("/desk", "Agent desk", ("agent", "manager")),
    ("/tickets", "Tickets", ("agent", "dispatcher", "manager")),
    ("/follow-up", "Follow-up", ("agent", "manager")),
    ("/board", "Dispatch board", ("dispatcher", "manager")),
    ("/dashboard", "Dashboard", ("manager",)),
    ("/dead-letters", "Dead letters", ("admin",)),
]
STAFF_ROLES = ("agent", "dispatcher", "manager", "admin")


class SignInRequired(Exception):
    def __init__(self, expired: bool = False) -> None:
        self.expired = expired


class NotAllowed(Exception):
    def __init__(self, roles: tuple[str, ...]) -> None:
        self.roles = roles


def settings_of(request: Request) -> ConsoleSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def services_of(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def store_of(request: Request) -> SessionStore:
    return request.app.state.sessions  # type: ignore[no-any-return]


def locale_of(request: Request) -> str:
    cached = getattr(request.state, "locale", None)
    if cached:
        return cached  # type: ignore[no-any-return]
    loc = i18n.negotiate(
        request.headers.get("accept-language"),
        request.cookies.get(i18n.COOKIE),
        settings_of(request).default_locale,
    )
    request.state.locale = loc
    return loc


async def optional_session(request: Request) -> Session | None:
    if hasattr(request.state, "session"):
        return request.state.session  # type: ignore[no-any-return]
    s = await store_of(request).get(request.cookies.get(COOKIE))
    request.state.session = s
    return s


async def current_session(request: Request) -> Session:
    s = await optional_session(request)
    if s is None:
        raise SignInRequired(expired=COOKIE in request.cookies)
    if request.method in UNSAFE:
        await check_csrf(request, s.csrf)
    return s


def require(*roles: str) -> Any:
    """Dependency: a signed-in staff session holding one of `roles` (admin passes)."""

    async def check(session: Annotated[Session, Depends(current_session)]) -> Session:
        if not session.has_any(*roles):
            raise NotAllowed(roles)
        return session

    return check


SessionDep = Annotated[Session, Depends(current_session)]
AgentDep = Annotated[Session, Depends(require("agent", "manager"))]
ReaderDep = Annotated[Session, Depends(require("agent", "dispatcher", "manager"))]
DispatcherDep = Annotated[Session, Depends(require("dispatcher", "manager"))]
ManagerDep = Annotated[Session, Depends(require("manager"))]


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def home_of(session: Session) -> str:
    """Where a role starts its day: agents at the desk, dispatchers on the board, managers on the dashboard."""
    for role, path in (("agent", "/desk"), ("dispatcher", "/board"), ("manager", "/dashboard")):
        if role in session.roles:
            return path
    return "/desk" if session.has_any("agent") else "/login"


def helpers(request: Request) -> dict[str, Any]:
    """What every template may use: translation, labels of codes, times in the board's zone, money."""
    loc = locale_of(request)
    settings = settings_of(request)
    session: Session | None = getattr(request.state, "session", None)
    zone = ZoneInfo(settings.timezone)

    def when(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if not value:
            return "—"
        t = datetime.fromisoformat(value) if isinstance(value, str) else value
        return t.astimezone(zone).strftime(fmt) if t.tzinfo else t.strftime(fmt)

    return {
        "_": i18n.translator(loc),
        "label": i18n.labeller(loc),
        "when": when,
        "money": lambda minor, cur="CNY": f"{(minor or 0) / 100:,.2f} {cur}",
        "lang": loc,
        "session": session,
        "nav": [(p, t) for p, t, roles in PAGES if session and session.has_any(*roles)],
        "path": request.url.path,
        "tz": settings.timezone,
        "csrf": session.csrf if session else "",
    }


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200) -> HTMLResponse:
    ctx = {"request": request, **helpers(request), **(context or {})}
    return TEMPLATES.TemplateResponse(request, name, ctx, status_code=status)


def problem_context(exc: ServiceProblem, form: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a form shows when a service refused it: the problem, each field's message, the input kept."""
    return {"problem": exc, "errors": exc.field_errors(), "values": form or {}}


def sign_in_redirect(request: Request, expired: bool) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = f"/login?next={quote(target, safe='')}" + ("&expired=1" if expired else "")
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
