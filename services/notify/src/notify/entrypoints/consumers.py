"""Kafka entrypoints of notify: every event type a subscription rule names (and the contracts
registry knows) is consumed by the group "notify"; planning is one transaction, sending follows."""

from __future__ import annotations

from collections import defaultdict

from fixflow_shared.events import Envelope, registry
from fixflow_shared.events.registry import Event
from fixflow_shared.runtime import ServiceRuntime
from notify.domain import subscriptions
from notify.domain.portal_links import PortalLinks
from notify.service_layer import handlers
from notify.service_layer.dispatcher import Dispatcher


def register_consumers(
    runtime: ServiceRuntime, dispatcher: Dispatcher, *, members: int = 1, links: PortalLinks | None = None
) -> list[str]:
    """Registers notify's consumer group and handlers; returns the event types consumed.

    `members` > 1 joins the group several times from this process (the shared EventConsumer's
    members): the partitions are split between them and handled concurrently, each partition
    still by one member, in order."""
    by_topic: dict[str, list[str]] = defaultdict(list)
    for t in subscriptions.subscribed_types():
        if t in registry:  # producers publish their contracts as they go; follow what exists
            by_topic[registry.model_for(t).topic].append(t)
    if not by_topic:
        return []
    # Batches: notify takes nearly every event of the lifecycle, so one transaction per poll (one
    # inbox statement, one delivery insert, one commit, one offset commit), not per event.
    consumer = runtime.consumer(*sorted(by_topic), members=max(1, members))

    async def handle(envelope: Envelope, event: Event) -> None:
        plan = await handlers.plan_deliveries(
            uow=runtime.uow(),
            envelope=envelope,
            event=event,
            available=dispatcher.available,
            lease_s=dispatcher.lease_s,
            phones=runtime.phones,
            links=links,
        )
        dispatcher.submit(plan.to_send)
        await dispatcher.schedule_deferred(plan.deferred)

    @consumer.on_batch
    async def handle_all(batch: list[tuple[Envelope, Event]]) -> None:
        plan = await handlers.plan_deliveries_batch(
            uow=runtime.uow(),
            batch=batch,
            available=dispatcher.available,
            lease_s=dispatcher.lease_s,
            phones=runtime.phones,
            links=links,
        )
        dispatcher.submit(plan.to_send)
        await dispatcher.schedule_deferred(plan.deferred)

    types = sorted(t for ts in by_topic.values() for t in ts)
    for t in types:
        consumer.on(t)(handle)
    return types
