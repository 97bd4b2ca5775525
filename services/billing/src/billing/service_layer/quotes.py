"""Use cases of quotes: issue one (priced like a completion), record the customer's decision. Each opens its unit of work and commits it."""

from __future__ import annotations

from datetime import timedelta

from billing.adapters.entitlements import TicketFactsRepository
from billing.adapters.price_books import PriceBookRepository
from billing.adapters.quotes import QuoteRepository
from billing.domain import commands as c
from billing.domain.exceptions import NotFound, UnknownReference
from billing.domain.model import Quote, new_id
from billing.domain.pricing import compute_charge
from billing.service_layer.common import line_summary
from billing.service_layer.entitlements import entitlements_for
from fixflow_shared.events.contracts import billing as ev
from fixflow_shared.uow import UnitOfWork


async def issue_quote(*, uow: UnitOfWork, cmd: c.IssueQuote) -> Quote:
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        facts_repo = TicketFactsRepository(uow.session)
        facts = await facts_repo.get(cmd.tenant_id, cmd.ticket_id)
        if facts is None:  # a quote is for a ticket intake opened: billing learned it from ticket.opened
            raise UnknownReference("ticket", cmd.ticket_id)
        if cmd.customer_id and cmd.customer_id != (facts.get("customer_id") or cmd.customer_id):
            raise UnknownReference(
                "customer", cmd.customer_id, f"ticket {cmd.ticket_id} is not customer {cmd.customer_id}'s"
            )
        if cmd.customer_id and not facts.get("customer_id"):
            if not await facts_repo.customer_known(cmd.tenant_id, cmd.customer_id):
                raise UnknownReference("customer", cmd.customer_id)
            facts = {**facts, "customer_id": cmd.customer_id}
        book = await PriceBookRepository(uow.session).effective(cmd.tenant_id, now.date())
        ent = await entitlements_for(uow, cmd.tenant_id, facts, cmd.ticket_id, now.date())
        charge = compute_charge(book=book, work=cmd.work, entitlements=ent, on=now.date())
        quote = Quote(
            id=new_id("quo"),
            tenant_id=cmd.tenant_id,
            ticket_id=cmd.ticket_id,
            customer_id=(facts or {}).get("customer_id") or cmd.customer_id,
            charge=charge,
            issued_at=now,
            valid_until=now + timedelta(hours=cmd.valid_hours),
        )
        await QuoteRepository(uow.session).add(quote)
        uow.emit(
            ev.QuoteIssued(
                quote_id=quote.id,
                ticket_id=quote.ticket_id,
                tenant_id=quote.tenant_id,
                customer_id=quote.customer_id,
                currency=charge.currency,
                subtotal_minor=charge.subtotal_minor,
                tax_minor=charge.tax_minor,
                total_minor=charge.total_minor,
                valid_until=quote.valid_until,
                lines=[line_summary(ln) for ln in charge.lines],
                issued_at=now,
            ),
            subject=quote.ticket_id,
            tenant=quote.tenant_id,
        )
        await uow.commit()
    return quote


async def decide_quote(*, uow: UnitOfWork, cmd: c.DecideQuote) -> Quote:
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = QuoteRepository(uow.session)
        quote = await repo.get(cmd.tenant_id, cmd.quote_id, for_update=True)
        if quote is None:
            raise NotFound("quote", cmd.quote_id)
        quote.decide(
            accept=cmd.accept,
            by=cmd.recorded_by,
            channel=cmd.channel,
            signed_name=cmd.signed_name,
            at=now,
            reason=cmd.reason,
            client_address=cmd.client_address,
        )
        await repo.save_decision(quote)
        if cmd.accept:
            uow.emit(
                ev.QuoteAccepted(
                    quote_id=quote.id,
                    ticket_id=quote.ticket_id,
                    tenant_id=quote.tenant_id,
                    total_minor=quote.charge.total_minor,
                    currency=quote.charge.currency,
                    consent_by=cmd.recorded_by,
                    consent_channel=cmd.channel,
                    accepted_at=now,
                ),
                subject=quote.ticket_id,
                tenant=quote.tenant_id,
            )
        else:
            uow.emit(
                ev.QuoteRejected(
                    quote_id=quote.id,
                    ticket_id=quote.ticket_id,
                    tenant_id=quote.tenant_id,
                    consent_by=cmd.recorded_by,
                    consent_channel=cmd.channel,
                    reason=cmd.reason,
                    rejected_at=now,
                ),
                subject=quote.ticket_id,
                tenant=quote.tenant_id,
            )
        await uow.commit()
    return quote
