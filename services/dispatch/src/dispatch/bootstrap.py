"""Wiring: the one place that builds dispatch from its settings."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor

from dispatch import SERVICE
from dispatch.adapters.orm import metadata
from dispatch.config import DispatchSettings
from dispatch.domain.distance import DistanceMatrix, HaversineMatrix
from dispatch.domain.specs import PartsPolicy
from dispatch.entrypoints.consumers import register_consumers
from dispatch.entrypoints.routes import attachments, board, jobs, technicians, work_orders
from dispatch.entrypoints.scheduler import optimise_periodically
from dispatch.service_layer.planning import Planning
from fixflow_shared.clock import Clock
from fixflow_shared.runtime import ServiceRuntime


def _distances(settings: DispatchSettings) -> DistanceMatrix:
    crow = HaversineMatrix(speed_kmh=settings.travel_speed_kmh, detour_factor=settings.detour_factor)
    if settings.osrm_url:
        from dispatch.adapters.routing import OsrmTable

        return OsrmTable(settings.osrm_url, fallback=crow, max_table=settings.osrm_max_table)
    return crow


def build(
    settings: DispatchSettings | None = None,
    *,
    span_processors: tuple[SpanProcessor, ...] = (),
    clock: Clock | None = None,
    distances: DistanceMatrix | None = None,
) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or DispatchSettings()  # type: ignore[call-arg]
    planning = Planning(
        horizon_days=settings.horizon_days,
        distances=distances or _distances(settings),
        offer_count=settings.offer_count,
        customer_notice_hours=settings.customer_notice_hours,
        window_minutes=settings.window_minutes,
        optimise_seconds=settings.optimise_seconds,
        part_size=settings.part_size,
        parts=PartsPolicy(handover_hours=settings.parts_handover_hours, order_hours=settings.parts_order_hours),
    )
    runtime = ServiceRuntime(
        name=SERVICE, settings=settings, metadata=metadata, span_processors=span_processors, clock=clock
    )
    register_consumers(runtime, planning)
    if settings.optimise_interval_s > 0:
        interval = settings.optimise_interval_s
        runtime.background(lambda: optimise_periodically(runtime, planning, interval))
    app = runtime.create_app(
        title="Fixflow dispatch",
        description="Technicians, skills, calendars, appointments, assignment optimisation, work orders",
        routers=[technicians.router, jobs.router, board.router, work_orders.router, attachments.router],
    )
    app.state.planning = planning
    return runtime, app
