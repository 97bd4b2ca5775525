"""Kafka entrypoint of insight: every event of every projected topic, typed by its contract,
applied by the projector one poll at a time (one transaction per poll)."""

from __future__ import annotations

from fixflow_shared.events import Envelope, Event, registry
from fixflow_shared.runtime import ServiceRuntime
from insight.service_layer.projector import apply_batch
from insight.service_layer.wiring import Services
from insight.topics import PROJECTED_TOPICS


def projected_types() -> list[str]:
    return [t for t in registry.types() if registry.model_for(t).topic in PROJECTED_TOPICS]


def register_consumers(runtime: ServiceRuntime, services: Services) -> None:
    consumer = runtime.consumer(*PROJECTED_TOPICS)

    async def one(envelope: Envelope, event: Event) -> None:
        await services.applied(await apply_batch(runtime.uow(), [(envelope, event)]))

    @consumer.on_batch
    async def many(batch: list[tuple[Envelope, Event]]) -> None:
        await services.applied(await apply_batch(runtime.uow(), batch))

    for t in projected_types():
        consumer.on(registry.model_for(t))(one)
