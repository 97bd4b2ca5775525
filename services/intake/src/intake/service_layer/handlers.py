"""Use cases: load, ask the domain, save with the events in one unit of work."""

from __future__ import annotations

from datetime import UTC, datetime

from fixflow_shared.events.contracts.intake import TicketOpened
from fixflow_shared.uow import UnitOfWork
from intake.adapters.repository import TicketRepository
from intake.domain.commands import OpenTicket
from intake.domain.model import Ticket, new_ticket_id


async def open_ticket(*, uow: UnitOfWork, cmd: OpenTicket) -> Ticket:
    now = datetime.now(UTC)
    ticket = Ticket(
        id=new_ticket_id(), tenant_id=cmd.tenant_id, kind=cmd.kind, channel=cmd.channel, symptom=cmd.symptom,
        opened_at=now, updated_at=now, customer_name=cmd.customer_name, contact_email=cmd.contact_email,
        contact_phone=cmd.contact_phone, locale=cmd.locale,
    )
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        await TicketRepository(uow.session).add(ticket)
        uow.emit(
            TicketOpened(
                ticket_id=ticket.id, tenant_id=ticket.tenant_id, kind=ticket.kind, channel=ticket.channel,  # type: ignore[arg-type]
                symptom=ticket.symptom, opened_at=now, contact_email=ticket.contact_email,
                contact_phone=ticket.contact_phone, locale=ticket.locale,
            ),
            subject=ticket.id,
            tenant=ticket.tenant_id,
        )
        await uow.commit()
    return ticket
