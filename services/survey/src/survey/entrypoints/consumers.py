"""Kafka entrypoints of survey: turn consumed events into calls of service_layer handlers."""

from __future__ import annotations

from fixflow_shared import topics
from fixflow_shared.events import Envelope
from fixflow_shared.events.contracts.intake import TicketCancelled, TicketReopened, TicketResolved
from fixflow_shared.runtime import ServiceRuntime
from survey.service_layer import handlers
from survey.service_layer.wiring import Services


def register_consumers(runtime: ServiceRuntime, services: Services | None = None) -> None:
    """ticket.resolved schedules surveys; reopened/cancelled tickets cancel surveys not yet sent."""
    if services is None:
        return
    c = runtime.consumer(topics.INTAKE_TICKETS)

    @c.on(TicketResolved)
    async def on_resolved(envelope: Envelope, event: TicketResolved) -> None:
        timers = await handlers.schedule_for_resolution(uow=runtime.uow(), envelope=envelope, event=event)
        await services.scheduled(timers)

    @c.on(TicketReopened)
    async def on_reopened(envelope: Envelope, event: TicketReopened) -> None:
        await handlers.cancel_for_ticket(
            uow=runtime.uow(), envelope=envelope, ticket_id=event.ticket_id, consumer="survey.ticket_reopened"
        )

    @c.on(TicketCancelled)
    async def on_cancelled(envelope: Envelope, event: TicketCancelled) -> None:
        await handlers.cancel_for_ticket(
            uow=runtime.uow(), envelope=envelope, ticket_id=event.ticket_id, consumer="survey.ticket_cancelled"
        )
