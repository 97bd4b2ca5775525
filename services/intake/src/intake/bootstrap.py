"""Wiring: the one place that builds intake from its settings."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor

from fixflow_shared.clock import Clock
from fixflow_shared.runtime import ServiceRuntime
from fixflow_shared.timers import DueTimerWheel
from intake import SERVICE
from intake.adapters.orm import metadata
from intake.config import IntakeSettings
from intake.entrypoints.consumers import register_consumers, register_timers
from intake.entrypoints.routes import admin, directory, tickets
from intake.service_layer.deps import Deps, PolicyStore


def build(
    settings: IntakeSettings | None = None,
    *,
    span_processors: tuple[SpanProcessor, ...] = (),
    clock: Clock | None = None,
) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or IntakeSettings()  # type: ignore[call-arg]
    runtime = ServiceRuntime(
        name=SERVICE, settings=settings, metadata=metadata, span_processors=span_processors, clock=clock
    )
    deps = Deps(policies=PolicyStore(settings.policy_cache_ttl_s), timers=DueTimerWheel(runtime.redis, "intake:sla"))
    if settings.run_consumers:
        register_consumers(runtime, deps)
    if settings.run_sla_timers:
        register_timers(runtime, deps, poll_s=settings.sla_poll_s, reseed_every_s=settings.sla_reseed_every_s)
    app = runtime.create_app(
        title="Fixflow intake",
        description="Customers, assets, tickets, warranty, triage, SLA clocks, complaints",
        routers=[tickets.router, directory.router, admin.router],
    )
    app.state.intake_deps = deps
    runtime.intake_deps = deps  # type: ignore[attr-defined]
    return runtime, app
