"""Kafka entrypoints of dispatch: turn consumed events into calls of service_layer use cases.

- intake tickets: ticket.opened / ticket.triaged create or refine the job (on-site path) and place it
  at once (a triage after a reopen books a new visit); ticket.cancelled, or ticket.resolved without
  us (remote fix), cancels the job and its appointment.
- dispatch's own work-order events: technician.unassigned (absent, declined, delayed) triggers the
  reassignment, so 转派 survives a crash between the unassignment and the new placement.
- billing quotes: quote.accepted releases an out-of-warranty repair waiting for consent (the visit
  is booked then); quote.rejected cancels it.
- logistics shipments: the ETA of requested parts; shipped -> the follow-up visit is booked.
Every effect commits together with its inbox row (replays are harmless).
"""

from __future__ import annotations

from dispatch.service_layer import jobs, parts, placement
from dispatch.service_layer.planning import Planning
from fixflow_shared import topics
from fixflow_shared.events import Envelope
from fixflow_shared.events.contracts import billing as bev
from fixflow_shared.events.contracts import dispatch as dev
from fixflow_shared.events.contracts import intake as iev
from fixflow_shared.runtime import ServiceRuntime


def register_consumers(runtime: ServiceRuntime, planning: Planning) -> None:
    c = runtime.consumer(
        topics.INTAKE_TICKETS, topics.DISPATCH_WORK_ORDERS, topics.INTEGRATION_SHIPMENTS, topics.BILLING_INVOICES
    )

    @c.on(iev.TicketOpened)
    async def on_opened(envelope: Envelope, event: iev.TicketOpened) -> None:
        await jobs.job_from_ticket(
            uow=runtime.uow(), consumer="dispatch.ticket_opened", envelope=envelope, payload=event, planning=planning
        )

    @c.on(iev.TicketTriaged)
    async def on_triaged(envelope: Envelope, event: iev.TicketTriaged) -> None:
        await jobs.job_from_ticket(
            uow=runtime.uow(), consumer="dispatch.ticket_triaged", envelope=envelope, payload=event, planning=planning
        )

    @c.on(iev.TicketCancelled)
    async def on_cancelled(envelope: Envelope, event: iev.TicketCancelled) -> None:
        await jobs.cancel_job_for_ticket(
            uow=runtime.uow(), consumer="dispatch.ticket_cancelled", envelope=envelope, ticket_id=event.ticket_id
        )

    @c.on(iev.TicketResolved)
    async def on_resolved(envelope: Envelope, event: iev.TicketResolved) -> None:
        if event.resolution == "work_order_completed":
            return  # our own completion, echoed by intake
        await jobs.cancel_job_for_ticket(
            uow=runtime.uow(),
            consumer="dispatch.ticket_resolved",
            envelope=envelope,
            ticket_id=event.ticket_id,
            detail=f"ticket resolved: {event.resolution}",
        )

    @c.on(dev.TechnicianUnassigned)
    async def on_unassigned(envelope: Envelope, event: dev.TechnicianUnassigned) -> None:
        await placement.reassign_after_unassignment(
            uow=runtime.uow(), consumer="dispatch.reassign", envelope=envelope, payload=event, planning=planning
        )

    @c.on(bev.QuoteAccepted)
    async def on_quote_accepted(envelope: Envelope, event: bev.QuoteAccepted) -> None:
        await jobs.quote_decided(
            uow=runtime.uow(),
            consumer="dispatch.quote_accepted",
            envelope=envelope,
            ticket_id=event.ticket_id,
            accepted=True,
            planning=planning,
        )

    @c.on(bev.QuoteRejected)
    async def on_quote_rejected(envelope: Envelope, event: bev.QuoteRejected) -> None:
        await jobs.quote_decided(
            uow=runtime.uow(),
            consumer="dispatch.quote_rejected",
            envelope=envelope,
            ticket_id=event.ticket_id,
            accepted=False,
            planning=planning,
        )

    @c.on(dev.ShipmentUpdated)
    async def on_shipment(envelope: Envelope, event: dev.ShipmentUpdated) -> None:
        await parts.shipment_updated(
            uow=runtime.uow(), consumer="dispatch.shipment", envelope=envelope, payload=event, planning=planning
        )
