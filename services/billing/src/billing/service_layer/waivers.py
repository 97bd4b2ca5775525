"""Use cases of waivers: request one, approve or reject it (a parked completion settles then). Each opens its unit of work and commits it."""

from __future__ import annotations

from billing.adapters.entitlements import TicketFactsRepository
from billing.adapters.price_books import PriceBookRepository
from billing.adapters.waivers import WaiverRepository
from billing.domain import commands as c
from billing.domain.exceptions import NotFound, UnknownReference
from billing.domain.model import WaiverRequest
from billing.service_layer.settlement import lock_ticket, settle_parked
from fixflow_shared.uow import UnitOfWork


async def request_waiver(*, uow: UnitOfWork, cmd: c.RequestWaiver) -> WaiverRequest:
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        await lock_ticket(uow, cmd.tenant_id, cmd.ticket_id)  # ordered against a completion being priced
        if await TicketFactsRepository(uow.session).get(cmd.tenant_id, cmd.ticket_id) is None:
            raise UnknownReference("ticket", cmd.ticket_id)
        book = await PriceBookRepository(uow.session).effective(cmd.tenant_id, now.date())
        if cmd.currency != book.currency:
            from billing.domain.exceptions import CurrencyMismatch

            raise CurrencyMismatch(book.currency, cmd.currency)
        w = WaiverRequest.request(
            tenant_id=cmd.tenant_id,
            ticket_id=cmd.ticket_id,
            amount_minor=cmd.amount_minor,
            currency=cmd.currency,
            reason=cmd.reason,
            requested_by=cmd.requested_by,
            threshold_minor=book.waiver_approval_threshold_minor,
            requester_is_manager=cmd.requester_is_manager,
        )
        await WaiverRepository(uow.session).add(w, now)
        await uow.commit()
    return w


async def decide_waiver(
    *, uow: UnitOfWork, tenant_id: str, waiver_id: str, approve: bool, by: str, is_manager: bool
) -> WaiverRequest:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = WaiverRepository(uow.session)
        w = await repo.get(tenant_id, waiver_id)
        if w is None:
            raise NotFound("waiver", waiver_id)
        await lock_ticket(uow, tenant_id, w.ticket_id)  # same lock order as every settlement path
        w = await repo.get(tenant_id, waiver_id, for_update=True)
        assert w is not None
        (w.approve if approve else w.reject)(by=by, is_manager=is_manager)
        await repo.save(w)
        # a completion parked for this decision is settled now, with the decision, atomically
        await settle_parked(uow, tenant_id, w.ticket_id, uow.clock.now())
        await uow.commit()
    return w
