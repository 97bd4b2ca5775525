"""Wiring: the one place that builds intake from its settings."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor

from fixflow_shared.runtime import ServiceRuntime
from intake import SERVICE
from intake.adapters.orm import metadata
from intake.config import IntakeSettings
from intake.entrypoints.consumers import register_consumers
from intake.entrypoints.routes import tickets


def build(settings: IntakeSettings | None = None, *, span_processors: tuple[SpanProcessor, ...] = ()) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or IntakeSettings()  # type: ignore[call-arg]
    runtime = ServiceRuntime(name=SERVICE, settings=settings, metadata=metadata, span_processors=span_processors)
    register_consumers(runtime)
    app = runtime.create_app(
        title="Fixflow intake",
        description="Customers, assets, tickets, warranty, triage, SLA clocks, complaints",
        routers=[tickets.router],
    )
    return runtime, app
