"""The plumbing each service wires in its bootstrap: database, Redis, Kafka broker, outbox relay,
event consumers, telemetry, and the FastAPI app with health, readiness, metrics and errors.

A service's bootstrap builds a ServiceRuntime, registers its consumers and routers, and hands the
result to uvicorn. Tests build the same runtime with their own settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.specification import AsyncAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.trace import SpanProcessor
from redis.asyncio import Redis
from sqlalchemy import MetaData, Table, text

from fixflow_shared.access import register_actions
from fixflow_shared.audit import AuditMiddleware, audit_router
from fixflow_shared.auth import Authenticator, add_security_to_openapi
from fixflow_shared.clock import Clock, SystemClock
from fixflow_shared.consumer import EventConsumer
from fixflow_shared.contacts import PhoneRegions
from fixflow_shared.db import make_engine, make_session_factory
from fixflow_shared.deadletters.api import router as dead_letters_router
from fixflow_shared.deadletters.box import DeadLetterBox
from fixflow_shared.docs import install_offline_docs
from fixflow_shared.events import registry
from fixflow_shared.hostile import HostileInputMiddleware
from fixflow_shared.idempotency import IdempotencyMiddleware
from fixflow_shared.logs import get_logger, setup_logging
from fixflow_shared.metrics import MetricsMiddleware, metrics_endpoint
from fixflow_shared.ops_metrics import OpsMetrics
from fixflow_shared.outbox import OutboxRelay
from fixflow_shared.problems import add_problems_to_openapi, install_problem_handlers
from fixflow_shared.settings import ServiceSettings
from fixflow_shared.ticket_traces import Resolver, TicketTraces, join_ticket_traces
from fixflow_shared.tracing import setup_tracing
from fixflow_shared.uow import UnitOfWork

log = get_logger(__name__)
# What /readyz needs to answer 200: the outbox absorbs a Kafka outage, so Kafka is reported, not required.
REQUIRED_FOR_READINESS = ("database", "redis")


async def _bounded(aw: Any, what: str, timeout: float = 10.0) -> None:
    try:
        await asyncio.wait_for(aw, timeout)
    except (asyncio.CancelledError, Exception) as exc:  # noqa: BLE001 - shutting down regardless
        if not isinstance(exc, asyncio.CancelledError):
            log.warning("shutdown step failed or timed out", step=what, error=repr(exc))


def bootstrap_hosts(servers: str) -> list[str]:
    """KAFKA_BOOTSTRAP_SERVERS ("host:port[,host:port...]") as the list of its hosts."""
    return [h.strip() for h in servers.split(",") if h.strip()]


def _operation_id(route: APIRoute) -> str:
    return route.name


def _document(app: FastAPI) -> None:
    """Complete the app's OpenAPI document: security schemes and the problems of every operation."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()  # cached on the app; completed in place
            add_security_to_openapi(schema, app)
            add_problems_to_openapi(schema)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


class ServiceRuntime:
    def __init__(
        self,
        *,
        name: str,
        settings: ServiceSettings,
        metadata: MetaData,
        span_processors: tuple[SpanProcessor, ...] = (),
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self.clock: Clock = clock or SystemClock()
        self.settings = settings
        self.phones = PhoneRegions.from_settings(settings)  # one phone rule: E.164, tenant's region
        setup_logging(name, settings.log_level)
        self.tracer_provider = setup_tracing(
            name,
            otlp_endpoint=settings.otel_exporter_otlp_endpoint,
            exporters=settings.otel_traces_exporter,
            zipkin_endpoint=settings.otel_exporter_zipkin_endpoint,
            extra_processors=span_processors,
        )
        self.engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        # _instrument, not instrument(): the public call instruments only the first engine of a
        # process, and tests run several services in one process.
        if settings.trace_sql:
            SQLAlchemyInstrumentor()._instrument(  # type: ignore[no-untyped-call]  # the library's method is unannotated
                engine=self.engine.sync_engine, tracer_provider=self.tracer_provider
            )
        self.session_factory = make_session_factory(self.engine)
        self.outbox: Table = metadata.tables["outbox"]
        self.inbox: Table = metadata.tables["inbox"]
        self.audit: Table = metadata.tables["audit_log"]
        self.redis: Redis = Redis.from_url(settings.redis_url)
        self.ticket_traces = TicketTraces(self.redis)
        # Extra ways to find the ticket of a request from its path parameters (survey's answer token).
        self.trace_resolvers: list[Resolver] = []
        self.broker = KafkaBroker(
            # A list: FastStream takes a string as one host, and "a:9092,b:9092,c:9092" (a cluster,
            # KAFKA_BOOTSTRAP_SERVERS as aiokafka and the Kafka tools read it) would not resolve.
            bootstrap_hosts(settings.kafka_bootstrap_servers),
            acks="all",
            enable_idempotence=True,
            client_id=name,
            middlewares=[KafkaTelemetryMiddleware(tracer_provider=self.tracer_provider)],
            allow_auto_create_topics=False,
            log_level=logging.DEBUG,  # per-message "Received/Processed" lines only when debugging
        )
        self._declare_published_events()
        self.relay = OutboxRelay(
            engine=self.engine,
            outbox=self.outbox,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            service=name,
            batch_size=settings.relay_batch_size,
            poll_interval_s=settings.relay_poll_interval_s,
            lease_s=settings.relay_lease_s,
        )
        self.consumers: list[EventConsumer] = []
        # Operators list, replay and discard this service's dead letters (/v1/admin/dead-letters).
        self.dead_letters = DeadLetterBox(
            service=name,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            engine=self.engine,
            table=metadata.tables.get("dead_letter_actions"),
        )
        self.authenticator = Authenticator(settings)
        self._background: list[Callable[[], Coroutine[Any, Any, None]]] = []
        # Consumer lag, outbox, dead letters and timers on /metrics (fixflow_shared.ops_metrics).
        self.ops_metrics = OpsMetrics(self, interval_s=settings.metrics_interval_s)
        self.background(self.ops_metrics.run)
        self.started = False

    # --- building blocks -------------------------------------------------------------------------
    def uow(self, *, clock: Clock | None = None) -> UnitOfWork:
        """A fresh, unopened unit of work for one use case. `clock` overrides the service's clock for
        this unit of work alone (a test running one use case at a pinned instant)."""
        return UnitOfWork(
            self.session_factory,
            outbox=self.outbox,
            inbox=self.inbox,
            source=f"/fixflow/{self.name}",
            clock=clock or self.clock,
            traces=self.ticket_traces,
        )

    def consumer(
        self, *topic_names: str, group_suffix: str = "", members: int | None = None, batch_max: int | None = None
    ) -> EventConsumer:
        """A consumer group of this service; register handlers with `@consumer.on(EventType)`.

        `members` (default: settings.consumer_members) group members run in this process; each
        polls up to `batch_max` (default: settings.consumer_batch_max) records at once and commits
        their offsets together (see EventConsumer); `@consumer.on_batch` may apply them at once."""
        c = EventConsumer(
            self.broker,
            group_id=f"{self.name}{group_suffix}",
            members=members or self.settings.consumer_members,
            topics=tuple(topic_names),
            max_attempts=self.settings.consumer_max_attempts,
            backoff_initial_s=self.settings.consumer_backoff_initial_s,
            backoff_max_s=self.settings.consumer_backoff_max_s,
            batch_max=self.settings.consumer_batch_max if batch_max is None else batch_max,
            batch_wait_ms=self.settings.consumer_batch_wait_ms,
        )
        self.consumers.append(c)
        return c

    def background(self, coro_factory: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run a long-lived coroutine (timer wheel, scheduler) while the service runs."""
        self._background.append(coro_factory)

    def _declare_published_events(self) -> None:
        """Publishers for the AsyncAPI document only: the outbox relay does the real publishing."""
        for type_ in registry.types():
            if type_.split(".")[1] == self.name:
                model = registry.model_for(type_)
                self.broker.publisher(
                    model.topic,
                    title=type_,
                    schema=model,
                    description=(model.__doc__ or type_).strip()
                    + " CloudEvents binary mode: ce_* headers, key = ticket id, JSON body = this schema.",
                )

    def asyncapi(self) -> dict[str, Any]:
        spec = AsyncAPI(self.broker, title=f"fixflow {self.name}", version="1.0.0").to_specification()
        document: dict[str, Any] = spec.to_jsonable()
        return document

    # --- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        # Topics exist already: created once by the deployment, never here (fixflow_shared.topics).
        if self.settings.run_consumers or self.consumers:
            await self.broker.start()
        if self.settings.run_relay:
            await self.relay.start()
        self._tasks = [asyncio.create_task(f(), name=f"{self.name}-bg") for f in self._background]
        self.started = True
        log.info("service started", consumers=[c.group_id for c in self.consumers])

    async def stop(self) -> None:
        """Stop everything, each step bounded: a stuck step is logged and skipped, never waited on
        forever (a shutdown that hangs is worse than one that leaves a socket to the OS)."""
        for t in getattr(self, "_tasks", []):
            t.cancel()
        for t in getattr(self, "_tasks", []):
            await _bounded(t, "background task")
        if self.settings.run_relay:
            await _bounded(self.relay.stop(), "outbox relay")
        await _bounded(self.broker.stop(), "kafka broker", timeout=20)
        await _bounded(self.redis.aclose(), "redis")
        await _bounded(self.engine.dispose(), "database pool")
        self.started = False

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        try:
            await self.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
        try:
            checks["kafka"] = "ok" if await self.broker.ping(timeout=2.0) else "error: unreachable"
        except Exception as exc:
            checks["kafka"] = f"error: {type(exc).__name__}"
        return checks

    # --- HTTP ------------------------------------------------------------------------------------
    def create_app(
        self, *, title: str, routers: Sequence[APIRouter], description: str = "", require_actions: bool = True
    ) -> FastAPI:
        """`require_actions`: every route must name its action in the policy table (off only for
        probes of the plumbing itself, whose routes are no service's)."""
        runtime = self

        @contextlib.asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await runtime.start()
            try:
                yield
            finally:
                await runtime.stop()

        app = FastAPI(
            title=title,
            description=description,
            version="1.0.0",
            lifespan=lifespan,
            generate_unique_id_function=_operation_id,
            docs_url=None,
            redoc_url=None,
        )
        install_offline_docs(app)
        app.state.runtime = self
        app.state.authenticator = self.authenticator
        install_problem_handlers(app)
        _document(app)
        routers = [*routers, dead_letters_router, audit_router()]
        for r in routers:
            app.include_router(r, prefix="/v1")
        register_actions(
            app, [("/v1", route) for r in routers for route in r.routes if isinstance(route, APIRoute)], require_actions
        )

        @app.get("/healthz", tags=["ops"], include_in_schema=True)
        async def healthz() -> dict[str, str]:
            return {"status": "ok", "service": runtime.name}

        @app.get("/readyz", tags=["ops"])
        async def readyz() -> JSONResponse:
            """Ready while the database and Redis answer. Kafka away does not take the service out
            of rotation: requests still commit their events to the outbox, which the relay sends
            once the broker is back (the answer then says `degraded` and names it)."""
            checks = await runtime.readiness()
            ok = all(checks[k] == "ok" for k in REQUIRED_FOR_READINESS)
            degraded = sorted(k for k, v in checks.items() if v != "ok" and k not in REQUIRED_FOR_READINESS)
            status = ("degraded" if degraded else "ok") if ok else "unavailable"
            return JSONResponse({"status": status, "checks": checks}, status_code=200 if ok else 503)

        @app.get("/asyncapi.json", tags=["ops"])
        async def asyncapi() -> dict[str, Any]:
            return runtime.asyncapi()

        app.add_route("/metrics", metrics_endpoint, include_in_schema=False)

        app.add_middleware(AuditMiddleware, runtime=self)  # inside the Idempotency-Key store: a replay is no new write
        app.add_middleware(IdempotencyMiddleware, redis=self.redis, service=self.name, authenticator=self.authenticator)
        app.add_middleware(HostileInputMiddleware)  # outside the Idempotency-Key store: junk is never kept
        app.add_middleware(MetricsMiddleware, service=self.name)
        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=self.tracer_provider, excluded_urls="healthz,readyz,metrics"
        )
        # Outside the instrumentation's middleware (which starts the server span): a ticket-scoped
        # request without a traceparent is given the ticket's before that span starts.
        join_ticket_traces(app, self.ticket_traces, self.trace_resolvers)
        return app
