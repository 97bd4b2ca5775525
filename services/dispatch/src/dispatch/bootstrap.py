"""Wiring: the one place that builds dispatch from its settings."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor

from fixflow_shared.runtime import ServiceRuntime
from dispatch import SERVICE
from dispatch.adapters.orm import metadata
from dispatch.config import DispatchSettings
from dispatch.entrypoints.consumers import register_consumers


def build(settings: DispatchSettings | None = None, *, span_processors: tuple[SpanProcessor, ...] = ()) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or DispatchSettings()  # type: ignore[call-arg]
    runtime = ServiceRuntime(name=SERVICE, settings=settings, metadata=metadata, span_processors=span_processors)
    register_consumers(runtime)
    app = runtime.create_app(
        title="Fixflow dispatch",
        description="Technicians, skills, calendars, appointments, assignment optimisation, work orders",
        routers=[],
    )
    return runtime, app
