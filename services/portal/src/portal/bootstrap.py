"""Wiring: the one place that builds the portal from its settings."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from redis.asyncio import Redis

import fixflow_shared
from fixflow_shared.auth import Authenticator
from fixflow_shared.errors import FixflowError
from fixflow_shared.logs import get_logger, setup_logging
from fixflow_shared.metrics import MetricsMiddleware
from fixflow_shared.problems import as_problem, problem_response
from fixflow_shared.ratelimit import RateLimiter
from fixflow_shared.tracing import setup_tracing
from fixflow_shared.web.oidc import OidcClient
from fixflow_shared.web.ops import install_ops
from fixflow_shared.web.security import CsrfRefused, install_security_headers
from fixflow_shared.web.services import ServiceProblem, Services
from fixflow_shared.web.sessions import SessionStore
from portal import SERVICE
from portal.adapters.codes import CodeStore
from portal.adapters.tokens import TokenIssuer
from portal.config import PortalSettings
from portal.entrypoints import customer_auth, pwa, requests, surveys, tech, tech_auth, tickets
from portal.entrypoints.web import (
    OutsideLink,
    SignInRequired,
    home_of,
    locale_of,
    optional_session,
    render,
    sign_in_redirect,
)
from portal.i18n import translator

log = get_logger(__name__)
STATIC = Path(__file__).parent / "static"
HTMX = Path(fixflow_shared.__file__).parent / "static" / "htmx"  # shared with the console
ROUTERS = (
    customer_auth.router,
    requests.router,
    tickets.router,
    surveys.router,
    tech_auth.router,
    tech.router,
    pwa.router,
)


def _csp(settings: PortalSettings) -> str:
    """Everything from the portal itself; photos previewed from the device (blob:), the signature as data:."""
    form = "'self'"
    if settings.oidc_issuer:
        parts = urlsplit(settings.oidc_issuer)
        form += f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; font-src 'self'; worker-src 'self'; manifest-src 'self'; "
        f"frame-ancestors 'none'; base-uri 'self'; form-action {form}"
    )


def build(settings: PortalSettings | None = None) -> FastAPI:
    settings = settings or PortalSettings()
    setup_logging(SERVICE, settings.log_level)
    tracer_provider = setup_tracing(SERVICE, otlp_endpoint=settings.otel_exporter_otlp_endpoint)
    redis = Redis.from_url(settings.redis_url)
    services = Services(
        {
            "intake": settings.intake_url,
            "dispatch": settings.dispatch_url,
            "billing": settings.billing_url,
            "survey": settings.survey_url,
            "notify": settings.notify_url,
        },
        timeout_s=settings.service_timeout_s,
    )
    oidc = None
    if settings.oidc_issuer and settings.oidc_client_id:
        oidc = OidcClient(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            redirect_uri=settings.public_url.rstrip("/") + "/tech/auth/callback",
            scopes=settings.oidc_scopes,
            discovery_url=settings.oidc_discovery_url,
            http=services.http,
        )
    dev_keys = settings.jwt_keys()  # None in production: the portal signs with its own key there
    tokens = TokenIssuer(
        dev_secret=dev_keys.signing_key.decode() if dev_keys is not None else None,
        signing_key_pem=settings.token_signing_key.get_secret_value() if settings.token_signing_key else None,
        issuer=settings.public_url,
        audience=settings.oidc_audience,
    )
    if not tokens.can_sign:
        log.warning("no PORTAL_TOKEN_SIGNING_KEY: customers cannot sign in")
    link_keys = settings.portal_link_keys()
    if link_keys is None:
        log.warning("no FIXFLOW_PORTAL_LINK_SECRETS: the links in customers' messages cannot be opened")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await services.close()
            await redis.aclose()

    app = FastAPI(
        title="Fixflow portal",
        description="Customers' self-service pages and the technicians' mobile app",
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.services = services
    app.state.redis = redis
    app.state.oidc = oidc
    app.state.tokens = tokens
    app.state.authenticator = Authenticator(settings)  # checks the company issuer's token at technician sign-in
    app.state.link_keys = link_keys
    app.state.sessions = SessionStore(
        redis, idle_s=settings.session_idle_minutes * 60, max_s=settings.session_max_hours * 3600, prefix="portal:"
    )
    app.state.codes = CodeStore(
        redis, ttl_s=settings.code_ttl_s, digits=settings.code_digits, attempts=settings.code_attempts
    )
    app.state.limits = RateLimiter(redis, "portal")

    for r in ROUTERS:
        app.include_router(r)
    app.mount("/static/htmx", StaticFiles(directory=HTMX), name="htmx")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _install_errors(app)
    _install_ops(app)
    install_security_headers(app, _csp(settings))
    app.add_middleware(MetricsMiddleware, service=SERVICE)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=tracer_provider, excluded_urls="healthz,readyz,metrics,static"
    )
    return app


def _api(request: Request) -> bool:
    """The technician app's queue talks JSON: its errors are problem+json, not pages."""
    return request.url.path.startswith("/tech/api/")


def _problem(status: int, title: str, detail: str = "", **members: object) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **members}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _page(request: Request, heading: str, message: str, status: int, **extra: object) -> Response:
    return render(request, "error.html", {"heading": heading, "message": message, **extra}, status=status)


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if _api(request):
            return _problem(401, "Sign in again", "the session ended; queued actions are kept on the device")
        return sign_in_redirect(request, technician=exc.technician, expired=exc.expired)

    @app.exception_handler(OutsideLink)
    async def _outside(request: Request, exc: OutsideLink) -> Response:
        _ = translator(locale_of(request))
        return _page(
            request,
            _("Sign in to see more"),
            _("The link you followed opens one page. To see your other requests, sign in with a code."),
            403,
            sign_in=True,
        )

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> Response:
        if _api(request):
            return _problem(403, "Form expired", "this action was not sent from a page of this session")
        _ = translator(locale_of(request))
        return _page(request, _("Form expired"), _("Reload the page and try again."), 403)

    _install_service_errors(app)


def _install_service_errors(app: FastAPI) -> None:
    @app.exception_handler(ServiceProblem)
    async def _service_problem(request: Request, exc: ServiceProblem) -> Response:
        status = exc.status if 400 <= exc.status < 500 else 502
        if status == 401:
            return sign_in_redirect(request, technician=request.url.path.startswith("/tech"), expired=True)
        if _api(request):
            return _problem(status, exc.title, exc.detail, service=exc.service)
        _ = translator(locale_of(request))
        if status == 404:
            return _page(request, _("Not found"), _("There is no such page, or it is not yours."), 404)
        if status >= 500:
            return _page(
                request, _("Please try again later"), _("Part of our system did not answer. Try again soon."), 502
            )
        return _page(request, _("That did not work"), f"{exc.title}: {exc.detail}".strip(": "), status)

    @app.exception_handler(FixflowError)
    async def _fixflow(request: Request, exc: FixflowError) -> Response:
        if _api(request):
            return problem_response(request, exc)
        _ = translator(locale_of(request))
        if exc.status == 429:
            response = _page(
                request, _("Please wait a moment"), _("Too many tries. Wait a minute, then try again."), 429
            )
        else:
            response = _page(request, exc.title, exc.detail or exc.title, exc.status)
        for k, v in (exc.headers or {}).items():
            response.headers[k] = v
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        if _api(request):  # the services' handling: a 503 while Redis restarts, a 500 with its trace id
            return problem_response(request, as_problem(request, exc))
        log.exception("unhandled error", path=request.url.path)
        _ = translator(locale_of(request))
        return _page(request, _("Something went wrong"), _("We could not show this page. Try again soon."), 500)

    @app.exception_handler(404)
    async def _not_found(request: Request, exc: Exception) -> Response:
        if _api(request):
            return _problem(404, "Not found")
        _ = translator(locale_of(request))
        await optional_session(request)
        return _page(request, _("Not found"), _("There is no such page, or it is not yours."), 404)


def _install_ops(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        return RedirectResponse(home_of(await optional_session(request)), status_code=303)

    @app.get("/.well-known/jwks.json", include_in_schema=False)
    async def jwks(request: Request) -> JSONResponse:
        """The public key of the tokens the portal signs (production), for the services to check."""
        return JSONResponse(request.app.state.tokens.jwks(), headers={"Cache-Control": "max-age=300"})

    install_ops(app, SERVICE)
