"""Use cases of an open ticket: move, retriage, supply missing facts, add notes. Each opens its
unit of work and commits it."""

from __future__ import annotations

from typing import Any

from fixflow_shared.events.contracts import intake as ev
from fixflow_shared.uow import UnitOfWork
from intake.adapters.clocks import Clocks
from intake.adapters.repository import DirectoryRepository, TicketRepository
from intake.domain import warranty
from intake.domain.exceptions import IllegalTransition, NotFound, RuleViolation, UnknownReference
from intake.domain.model import Ticket, TicketStatus
from intake.domain.policy import missing_facts
from intake.service_layer.deps import Deps, schedule_timers
from intake.service_layer.opening import asset_terms, pick_site, product_terms
from intake.service_layer.transitions import transition, triaged_event

S = TicketStatus


async def load_ticket(uow: UnitOfWork, deps: Deps, tenant_id: str, ticket_id: str) -> tuple[Ticket, Clocks]:
    await uow.scope_to_tenant(tenant_id)
    t = await TicketRepository(uow.session).get(tenant_id, ticket_id, for_update=True)
    if t is None:
        raise NotFound("ticket", ticket_id)
    policy = await deps.policies.get(uow.session, tenant_id)
    return t, Clocks(uow, policy, t)


async def move(
    *, uow: UnitOfWork, deps: Deps, tenant_id: str, ticket_id: str, target: S, reason: str = "", author: str = "agent"
) -> Ticket:
    """cancel / close / reopen / resolve from the API (409 when illegal)."""
    now = uow.clock.now()
    async with uow:
        t, clocks = await load_ticket(uow, deps, tenant_id, ticket_id)
        if target is S.RESOLVED and t.status is S.REOPENED:
            await transition(uow, t, S.TRIAGED, now=now, clocks=clocks)
        if not t.can_move_to(target):
            raise IllegalTransition(t.status, target, allowed=t.allowed_moves)
        await transition(
            uow,
            t,
            target,
            now=now,
            clocks=clocks,
            reason=reason,
            cause="agent",
            resolution="remote_fix" if t.path == "remote" else "agent",
        )
        if reason:
            await TicketRepository(uow.session).add_note(
                tenant_id=tenant_id, ticket_id=t.id, author=author, kind=target.value, body=reason, at=now
            )
        await TicketRepository(uow.session).save(t)
        await uow.commit()
    await schedule_timers(deps, clocks.scheduled)
    return t


async def retriage(
    *,
    uow: UnitOfWork,
    deps: Deps,
    tenant_id: str,
    ticket_id: str,
    priority: str | None,
    path: str | None,
    category: str | None,
) -> Ticket:
    now = uow.clock.now()
    async with uow:
        t, clocks = await load_ticket(uow, deps, tenant_id, ticket_id)
        if t.status not in (S.RECEIVED, S.TRIAGED, S.REOPENED):
            raise IllegalTransition(t.status, S.TRIAGED)
        if priority:
            t.priority = priority
        if path:
            t.path = path
        if category:
            t.category = category
        await clocks.change(now, stop=("first_response",))
        t.first_response_at = t.first_response_at or now
        if t.status is S.TRIAGED:
            t.updated_at = now
            uow.emit(triaged_event(t, clocks, now, "agent"), subject=t.id, tenant=t.tenant_id)
        else:
            await transition(uow, t, S.TRIAGED, now=now, clocks=clocks, triaged_by="agent")
        await TicketRepository(uow.session).save(t)
        await uow.commit()
    await schedule_timers(deps, clocks.scheduled)
    return t


async def supply_facts(*, uow: UnitOfWork, deps: Deps, tenant_id: str, ticket_id: str, facts: dict[str, Any]) -> Ticket:
    now = uow.clock.now()
    async with uow:
        t, clocks = await load_ticket(uow, deps, tenant_id, ticket_id)
        if t.status is not S.WAITING_CUSTOMER:
            raise IllegalTransition(t.status, "facts supplied")
        d = DirectoryRepository(uow.session)
        customer = await d.customer(tenant_id, t.customer_id) if t.customer_id else None
        product = await d.product(tenant_id, t.product_id) if t.product_id else None
        asset = None
        if facts.get("asset_id"):
            asset = await d.asset(tenant_id, facts["asset_id"])
            if asset is None:
                raise UnknownReference("asset", facts["asset_id"])
            t.asset_id, t.serial = asset["id"], asset["serial"]
            product = await d.product(tenant_id, asset["product_id"])
            customer = customer or await d.customer(tenant_id, asset["customer_id"])
            t.customer_id = t.customer_id or asset["customer_id"]
        if facts.get("product_model"):
            t.product_model = facts["product_model"]
            product = product or await d.product_by_model(tenant_id, facts["product_model"])
        if product:
            t.product_id, t.product_model = product["id"], product["model"]
        if facts.get("purchase_date"):
            if facts["purchase_date"] > clocks.cal.local_date(now):
                raise RuleViolation("purchase_date lies in the future")
            t.purchase_date = facts["purchase_date"]
        for k in ("contact_phone", "contact_email"):
            if facts.get(k):
                setattr(t, k, facts[k])
        if facts.get("address_id"):
            t.site = pick_site(customer, facts["address_id"])
        elif t.site is None and customer:
            t.site = pick_site(customer, None)
        decision = warranty.determine(
            kind=t.kind,
            today=clocks.cal.local_date(now),
            product=product_terms(product),
            asset=asset_terms(asset),
            purchase_date=t.purchase_date,
        )
        t.warranty = decision.as_dict()
        t.missing_facts = missing_facts(
            kind=t.kind,
            has_model=bool(t.product_model),
            has_purchase_date=decision.purchase_date is not None,
            has_site=t.site is not None,
            has_contact=bool(t.contact_phone or t.contact_email or t.customer_id),
            path=t.path,
        )
        if t.missing_facts:
            t.updated_at = now  # still waiting: tell the customer what is left
            uow.emit(
                ev.TicketWaitingCustomer(
                    ticket_id=t.id,
                    tenant_id=t.tenant_id,
                    missing_facts=t.missing_facts,
                    contact_email=t.contact_email,
                    contact_phone=t.contact_phone,
                    locale=t.locale,
                    since=now,
                ),
                subject=t.id,
                tenant=t.tenant_id,
            )
        else:
            target = t.resume_target()
            await transition(uow, t, target, now=now, clocks=clocks)
            if target is S.RECEIVED:
                await transition(uow, t, S.TRIAGED, now=now, clocks=clocks)
        await TicketRepository(uow.session).save(t)
        await uow.commit()
    await schedule_timers(deps, clocks.scheduled)
    return t


async def add_note(
    *, uow: UnitOfWork, deps: Deps, tenant_id: str, ticket_id: str, author: str, kind: str, body: str
) -> int:
    now = uow.clock.now()
    async with uow:
        t, clocks = await load_ticket(uow, deps, tenant_id, ticket_id)
        note_id = await TicketRepository(uow.session).add_note(
            tenant_id=tenant_id, ticket_id=t.id, author=author, kind=kind, body=body, at=now
        )
        if kind == "contact":  # the customer was reached: response clocks stop
            await clocks.change(now, stop=("first_response", "complaint_contact"))
            t.first_response_at = t.first_response_at or now
        t.updated_at = now
        await TicketRepository(uow.session).save(t)
        await uow.commit()
    await schedule_timers(deps, clocks.scheduled)
    return note_id
