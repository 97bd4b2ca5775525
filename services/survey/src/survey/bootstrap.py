"""Wiring: the one place that builds survey from its settings."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor

from fixflow_shared.clock import Clock
from fixflow_shared.runtime import ServiceRuntime
from fixflow_shared.timers import DueTimerWheel
from survey import SERVICE
from survey.adapters.orm import metadata
from survey.config import SurveySettings
from survey.domain.tokens import TokenSigner
from survey.entrypoints.consumers import register_consumers
from survey.entrypoints.routes import public, reports, revisits, surveys
from survey.service_layer.handlers import Links
from survey.service_layer.wiring import Services


def build(
    settings: SurveySettings | None = None,
    *,
    span_processors: tuple[SpanProcessor, ...] = (),
    clock: Clock | None = None,
) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or SurveySettings()  # type: ignore[call-arg]
    runtime = ServiceRuntime(
        name=SERVICE, settings=settings, metadata=metadata, span_processors=span_processors, clock=clock
    )
    signer = TokenSigner(settings.answer_keys())
    # The customer's browser answering through the link sends no traceparent: the token names the
    # survey, whose id leads to the ticket's trace (fixflow_shared.ticket_traces).
    runtime.trace_resolvers.append(
        lambda params: signer.verify(params["token"]).survey_id if "token" in params else None
    )
    services = Services(
        runtime=runtime,
        links=Links(signer=signer, answer_url_base=settings.answer_url_base),
        wheel=DueTimerWheel(runtime.redis, f"{SERVICE}:due"),
        poll_s=settings.timer_poll_s,
        reseed_s=settings.timer_reseed_s,
    )
    register_consumers(runtime, services)
    if settings.run_timers:
        runtime.background(services.run_timers)
    app = runtime.create_app(
        title="Fixflow survey",
        description="Surveys, revisits, satisfaction, dissatisfaction follow-up",
        routers=[public.router, surveys.router, reports.router, revisits.router],
    )
    app.state.services = services
    return runtime, app
