"""Wiring: the one place that builds the console from its settings."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from redis.asyncio import Redis

import fixflow_shared
from console import SERVICE
from console.adapters.feed import KafkaFeed
from console.adapters.kpis import InsightKpiSource
from console.config import ConsoleSettings
from console.entrypoints import auth, board, dashboard, deadletters, desk, followup, live, tickets
from console.entrypoints.web import (
    NotAllowed,
    SignInRequired,
    home_of,
    optional_session,
    render,
    sign_in_redirect,
)
from console.i18n import translator
from console.service_layer.live import LiveHub
from fixflow_shared.auth import Authenticator
from fixflow_shared.errors import FixflowError
from fixflow_shared.logs import get_logger, setup_logging
from fixflow_shared.metrics import MetricsMiddleware
from fixflow_shared.ticket_traces import TicketTraces, join_ticket_traces
from fixflow_shared.tracing import setup_tracing
from fixflow_shared.web.oidc import OidcClient
from fixflow_shared.web.ops import install_ops
from fixflow_shared.web.security import CsrfRefused, install_security_headers
from fixflow_shared.web.services import ServiceProblem, Services
from fixflow_shared.web.sessions import SessionStore

log = get_logger(__name__)
STATIC = Path(__file__).parent / "static"
HTMX = Path(fixflow_shared.__file__).parent / "static" / "htmx"  # shared with the portal
ROUTERS = (
    auth.router,
    live.router,
    desk.router,
    tickets.router,
    followup.router,
    board.router,
    dashboard.router,
    deadletters.router,
)


def _csp(settings: ConsoleSettings) -> str:
    """Everything from the console itself; bar positions use inline styles; an optional tile server."""
    img = "'self' data:"
    if settings.map_tile_url:
        parts = urlsplit(settings.map_tile_url.replace("{", "").replace("}", ""))
        img += f" {parts.scheme}://{parts.netloc}"
    form = "'self'"
    if settings.oidc_issuer:
        parts = urlsplit(settings.oidc_issuer)
        form += f" {parts.scheme}://{parts.netloc}"
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src {img}; "
        f"connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action {form}"
    )


def page_paths() -> list[str]:
    """The path templates of the console's pages (they are not in an OpenAPI schema)."""
    return [r.prefix + route.path for r in ROUTERS for route in r.routes if isinstance(route, APIRoute)]


def build(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()
    setup_logging(SERVICE, settings.log_level)
    tracer_provider = setup_tracing(
        SERVICE,
        otlp_endpoint=settings.otel_exporter_otlp_endpoint,
        exporters=settings.otel_traces_exporter,
        zipkin_endpoint=settings.otel_exporter_zipkin_endpoint,
    )
    redis = Redis.from_url(settings.redis_url)
    services = Services(
        {
            "intake": settings.intake_url,
            "dispatch": settings.dispatch_url,
            "billing": settings.billing_url,
            "survey": settings.survey_url,
            "notify": settings.notify_url,
            "insight": settings.insight_url,
        },
        timeout_s=settings.service_timeout_s,
    )
    hub = LiveHub(settings.live_queue_size)
    feed = KafkaFeed(settings.kafka_bootstrap_servers, hub) if settings.live_updates else None
    oidc = None
    if settings.oidc_issuer and settings.oidc_client_id:
        oidc = OidcClient(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            redirect_uri=settings.public_url.rstrip("/") + "/auth/callback",
            scopes=settings.oidc_scopes,
            discovery_url=settings.oidc_discovery_url,
            http=services.http,
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if feed is not None:
            feed.start()
        try:
            yield
        finally:
            app.state.stopping = True
            hub.close_all()
            if feed is not None:
                await feed.stop()
            await services.close()
            await redis.aclose()

    app = FastAPI(
        title="Fixflow console",
        description="The staff web application: pages for agents, dispatchers and managers",
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.services = services
    app.state.sessions = SessionStore(
        redis, idle_s=settings.session_idle_minutes * 60, max_s=settings.session_max_hours * 3600
    )
    app.state.redis = redis
    app.state.hub = hub
    app.state.feed = feed
    app.state.oidc = oidc
    app.state.authenticator = Authenticator(settings)
    app.state.kpis = InsightKpiSource(services.insight, services.intake)
    app.state.stopping = False

    for r in ROUTERS:
        app.include_router(r)
    app.mount("/static/htmx", StaticFiles(directory=HTMX), name="htmx")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _install_errors(app)
    _install_ops(app)

    install_security_headers(app, _csp(settings))

    app.add_middleware(MetricsMiddleware, service=SERVICE)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=tracer_provider, excluded_urls="healthz,readyz,metrics,static,live"
    )
    # Browsers send no traceparent: a page about a ticket (or its quote, job, survey...) joins the
    # ticket's trace through the index the services keep in the same Redis, and so do the calls
    # the page makes to the services, which carry its context.
    join_ticket_traces(app, TicketTraces(redis), paths=page_paths)
    return app


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if request.url.path == "/live":
            return Response(status_code=204)  # an event stream without a session ends; the page redirects itself
        return sign_in_redirect(request, exc.expired)

    @app.exception_handler(NotAllowed)
    async def _forbidden(request: Request, exc: NotAllowed) -> Response:
        _ = translator(_locale(request))
        return render(
            request,
            "error.html",
            {
                "heading": _("Not for your role"),
                "message": _("This page needs one of these roles: {roles}.", roles=", ".join(exc.roles)),
            },
            status=403,
        )

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> Response:
        _ = translator(_locale(request))
        return render(
            request,
            "error.html",
            {
                "heading": _("Form expired"),
                "message": _("This form was not sent from a current page of yours. Reload the page and try again."),
            },
            status=403,
        )

    @app.exception_handler(ServiceProblem)
    async def _service_problem(request: Request, exc: ServiceProblem) -> Response:
        _ = translator(_locale(request))
        status = exc.status if 400 <= exc.status < 600 else 502
        if status == 401:
            return sign_in_redirect(request, True)
        return render(
            request,
            "error.html",
            {
                "heading": _("The {service} service refused this", service=exc.service),
                "message": f"{exc.title}: {exc.detail}".strip(": "),
            },
            status=status if status < 500 else 502,
        )

    @app.exception_handler(FixflowError)
    async def _problem(request: Request, exc: FixflowError) -> Response:
        return render(
            request, "error.html", {"heading": exc.title, "message": exc.detail or exc.title}, status=exc.status
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", path=request.url.path)
        _ = translator(_locale(request))
        return render(
            request,
            "error.html",
            {
                "heading": _("Something went wrong"),
                "message": _(
                    "The console could not show this page. Try again; if it persists, tell your administrator."
                ),
            },
            status=500,
        )

    @app.exception_handler(404)
    async def _not_found(request: Request, exc: Exception) -> Response:
        _ = translator(_locale(request))
        await optional_session(request)
        return render(
            request, "error.html", {"heading": _("Not found"), "message": _("There is no such page.")}, status=404
        )


def _locale(request: Request) -> str:
    from console.entrypoints.web import locale_of

    return locale_of(request)


def _install_ops(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        from fastapi.responses import RedirectResponse

        session = await optional_session(request)
        return RedirectResponse(home_of(session) if session else "/login", status_code=303)

    install_ops(app, SERVICE, reported=_live_updates)


def _live_updates(request: Request) -> dict[str, str]:
    """The pages work without the broker (no live updates): reported, not a reason to stop serving."""
    feed = request.app.state.feed
    return {"live_updates": "off" if feed is None else ("ok" if feed.connected else "connecting")}
