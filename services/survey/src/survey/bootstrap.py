"""Wiring: the one place that builds survey from its settings."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor

from fixflow_shared.runtime import ServiceRuntime
from survey import SERVICE
from survey.adapters.orm import metadata
from survey.config import SurveySettings
from survey.entrypoints.consumers import register_consumers


def build(settings: SurveySettings | None = None, *, span_processors: tuple[SpanProcessor, ...] = ()) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or SurveySettings()  # type: ignore[call-arg]
    runtime = ServiceRuntime(name=SERVICE, settings=settings, metadata=metadata, span_processors=span_processors)
    register_consumers(runtime)
    app = runtime.create_app(
        title="Fixflow survey",
        description="Surveys, revisits, satisfaction, dissatisfaction follow-up",
        routers=[],
    )
    return runtime, app
