"""Wiring: the one place that builds billing from its settings."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor

from billing import SERVICE
from billing.adapters.orm import metadata
from billing.config import BillingSettings
from billing.entrypoints.consumers import register_consumers
from billing.entrypoints.routes import customers, invoices, quotes, sales, settlements, setup, statements, waivers
from fixflow_shared.clock import Clock
from fixflow_shared.runtime import ServiceRuntime


def build(
    settings: BillingSettings | None = None,
    *,
    span_processors: tuple[SpanProcessor, ...] = (),
    clock: Clock | None = None,
) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or BillingSettings()  # type: ignore[call-arg]
    runtime = ServiceRuntime(
        name=SERVICE, settings=settings, metadata=metadata, span_processors=span_processors, clock=clock
    )
    register_consumers(runtime)
    app = runtime.create_app(
        title="Fixflow billing",
        description="Fee schedules, entitlements, quotes, invoices, payments, refunds, statements",
        routers=[
            setup.router,
            quotes.router,
            invoices.router,
            sales.router,
            waivers.router,
            statements.router,
            settlements.router,
            customers.router,
        ],
    )
    return runtime, app
