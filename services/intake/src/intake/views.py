"""Read side: queries that answer the API directly."""

from __future__ import annotations

from fixflow_shared.uow import UnitOfWork
from intake.adapters.repository import TicketRepository
from intake.domain.model import Ticket


async def get_ticket(*, uow: UnitOfWork, tenant_id: str, ticket_id: str) -> Ticket | None:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await TicketRepository(uow.session).get(tenant_id, ticket_id)
