"""Wiring: the one place that builds insight from its settings."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor

from fixflow_shared.clock import Clock
from fixflow_shared.runtime import ServiceRuntime
from fixflow_shared.timers import DueTimerWheel
from insight import SERVICE
from insight.adapters.orm import metadata
from insight.config import InsightSettings
from insight.entrypoints.consumers import register_consumers
from insight.entrypoints.routes import kpis, quality, reports
from insight.service_layer.wiring import Services


def build(
    settings: InsightSettings | None = None,
    *,
    span_processors: tuple[SpanProcessor, ...] = (),
    clock: Clock | None = None,
) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or InsightSettings()  # type: ignore[call-arg]
    runtime = ServiceRuntime(
        name=SERVICE, settings=settings, metadata=metadata, span_processors=span_processors, clock=clock
    )
    services = Services(runtime=runtime, settings=settings, wheel=DueTimerWheel(runtime.redis, f"{SERVICE}:reports"))
    if settings.run_consumers:
        register_consumers(runtime, services)
    if settings.run_timers:
        runtime.background(services.run_timers)
    app = runtime.create_app(
        title="Fixflow insight",
        description="KPIs and SLA attainment rebuilt from events, the quality feedback loop, monthly management reports",
        routers=[kpis.router, quality.router, reports.router],
    )
    app.state.services = services
    return runtime, app
