"""Wiring: the one place that builds notify from its settings."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor

from fixflow_shared.runtime import ServiceRuntime
from notify import SERVICE
from notify.adapters.orm import metadata
from notify.config import NotifySettings
from notify.entrypoints.consumers import register_consumers


def build(settings: NotifySettings | None = None, *, span_processors: tuple[SpanProcessor, ...] = ()) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or NotifySettings()  # type: ignore[call-arg]
    runtime = ServiceRuntime(name=SERVICE, settings=settings, metadata=metadata, span_processors=span_processors)
    register_consumers(runtime)
    app = runtime.create_app(
        title="Fixflow notify",
        description="Templates, channels, preferences, reliable delivery",
        routers=[],
    )
    return runtime, app
