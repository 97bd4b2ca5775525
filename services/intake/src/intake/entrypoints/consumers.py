"""Kafka entrypoints: every event about a ticket, from every service, lands on the ticket's
timeline; events from dispatch and survey also move the ticket (model.external_moves).

Intake subscribes to its own topic too, so the timeline is built from Kafka alone.
"""

from __future__ import annotations

from typing import Any

from fixflow_shared import topics
from fixflow_shared.events import Envelope, Event
from fixflow_shared.events.registry import registry
from fixflow_shared.runtime import ServiceRuntime
from fixflow_shared.timers import run_timer_loop
from intake.service_layer import sla_timers, timeline
from intake.service_layer.deps import Deps

TIMELINE_TOPICS = (
    topics.INTAKE_TICKETS,
    topics.DISPATCH_WORK_ORDERS,
    topics.BILLING_INVOICES,
    topics.SURVEY_SURVEYS,
    topics.NOTIFY_DELIVERIES,
)


def register_consumers(runtime: ServiceRuntime, deps: Deps) -> list[str]:
    # Batches: the timeline takes every event of five topics, so one transaction per poll, not per event.
    c = runtime.consumer(*TIMELINE_TOPICS)

    async def apply(envelope: Envelope, event: Event) -> None:
        await timeline.apply_event(uow=runtime.uow(), deps=deps, envelope=envelope, payload=event)

    @c.on_batch
    async def apply_all(batch: list[tuple[Envelope, Event]]) -> None:
        await timeline.apply_events(uow=runtime.uow(), deps=deps, batch=batch)

    import fixflow_shared.events.contracts  # noqa: F401  (registers every contract)

    handled = [t for t in registry.types() if registry.model_for(t).topic in TIMELINE_TOPICS]
    for t in handled:
        c.on(t)(apply)
    return handled


def register_timers(runtime: ServiceRuntime, deps: Deps, *, poll_s: float, reseed_every_s: float) -> None:
    assert deps.timers is not None

    async def fire(clock_id: str) -> None:
        await sla_timers.fire_clock(uow=runtime.uow(), deps=deps, clock_id=clock_id)

    async def reseed() -> list[tuple[str, Any]]:
        return await sla_timers.pending_clocks(uow=runtime.uow())

    wheel = deps.timers
    runtime.background(
        lambda: run_timer_loop(wheel, fire, reseed, poll_s, reseed_every_s=reseed_every_s, clock=runtime.clock)
    )
