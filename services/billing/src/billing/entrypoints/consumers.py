"""Kafka entrypoints of billing: turn consumed events into calls of service_layer handlers.

- intake `ticket.opened`: the ticket's warranty facts (status, customer, asset) billing prices with.
- intake `customer.registered`: a customer that sales and entitlements may name.
- dispatch `return.received`: the returned goods are at the warehouse -> refund the sale minus the
  customer's share, with a credit note (refund.issued / credit-note.issued about the return ticket).
- dispatch `work-order.completed`: price the visit -> invoice.issued or charge.waived. A completion
  that arrives before its ticket's ticket.opened (another topic, so no ordering between them) is
  parked durably with its inbox claim and settled by the ticket.opened handler.
"""

from __future__ import annotations

from billing.domain.commands import SettleWorkOrder
from billing.domain.exceptions import DomainError
from billing.domain.pricing import PartUsed, WorkDone
from billing.service_layer import sales, settlement
from fixflow_shared import topics
from fixflow_shared.consumer import PermanentError
from fixflow_shared.events.contracts.dispatch import ReturnReceived, WorkOrderCompleted
from fixflow_shared.events.contracts.intake import CustomerRegistered, TicketOpened
from fixflow_shared.events.envelope import Envelope
from fixflow_shared.runtime import ServiceRuntime


def work_done_from(event: WorkOrderCompleted) -> WorkDone:
    """dispatch's contract (v1.1) carries what the technician recorded: parts, labour minutes,
    visit number, resolution code, work type, whose fault it was (fault_origin: billing's fault
    cause), adjustments, freight, internal work. A completion without a work type (or from before
    v1.1) is classified from the resolution code by the tenant's price book."""
    return WorkDone(
        visit_number=event.visit_number,
        resolution_code=event.resolution_code,
        labour_minutes=event.labour_minutes,
        parts=tuple(PartUsed(p.part_code, p.quantity) for p in event.parts_used),
        work_type=event.work_type,
        fault_cause=event.fault_origin,  # quality | customer | unknown (event.fault_cause says what failed)
        adjustments=event.adjustments,
        freight=event.freight,
        internal=event.internal,
    )


def register_consumers(runtime: ServiceRuntime) -> None:
    """Registers billing's consumer groups and handlers on the runtime's broker."""
    c = runtime.consumer(topics.INTAKE_TICKETS, topics.DISPATCH_WORK_ORDERS)

    @c.on(TicketOpened)
    async def on_ticket_opened(envelope: Envelope, event: TicketOpened) -> None:
        await settlement.record_ticket_facts(uow=runtime.uow(), envelope=envelope, event=event)

    @c.on(CustomerRegistered)
    async def on_customer_registered(envelope: Envelope, event: CustomerRegistered) -> None:
        if event.tenant_id != envelope.tenantid:
            raise PermanentError("payload tenant differs from the envelope's tenant")
        await settlement.record_customer(
            uow=runtime.uow(), envelope=envelope, customer_id=event.customer_id, at=event.registered_at
        )

    @c.on(ReturnReceived)
    async def on_return_received(envelope: Envelope, event: ReturnReceived) -> None:
        if event.tenant_id != envelope.tenantid:
            raise PermanentError("payload tenant differs from the envelope's tenant")
        try:
            await sales.refund_return(
                uow=runtime.uow(), envelope=envelope, ticket_id=event.ticket_id, shipment_id=event.shipment_id
            )
        except DomainError as exc:  # e.g. the return window closed: a person decides
            raise PermanentError(str(exc)) from exc

    @c.on(WorkOrderCompleted)
    async def on_work_order_completed(envelope: Envelope, event: WorkOrderCompleted) -> None:
        if event.tenant_id != envelope.tenantid:
            raise PermanentError("payload tenant differs from the envelope's tenant")
        try:
            await settlement.settle_work_order(
                uow=runtime.uow(),
                cmd=SettleWorkOrder(
                    tenant_id=event.tenant_id,
                    ticket_id=event.ticket_id,
                    work_order_id=event.work_order_id,
                    work=work_done_from(event),
                    completed_at=event.completed_at,
                ),
                causation=envelope,
                consumer="billing.work_order_completed",
            )
        except DomainError as exc:  # e.g. a part with no price: retrying cannot help
            raise PermanentError(str(exc)) from exc
