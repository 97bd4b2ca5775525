"""Use cases of a ticket: open (with warranty, triage, duplicates and SLA clocks), move, retriage,
supply missing facts, add notes. Each opens its unit of work and commits it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fixflow_shared.events import Envelope
from fixflow_shared.events.contracts import intake as ev
from fixflow_shared.tracing import current_trace_headers
from fixflow_shared.uow import UnitOfWork
from intake.adapters.clocks import Clocks
from intake.adapters.repository import DirectoryRepository, TicketRepository
from intake.domain import triage as triage_rules
from intake.domain import warranty
from intake.domain.commands import OpenTicket
from intake.domain.duplicates import find_duplicate
from intake.domain.exceptions import IllegalTransition, NotFound, RuleViolation, UnknownReference
from intake.domain.model import Ticket, TicketStatus, new_ticket_id
from intake.domain.policy import TenantPolicy, missing_facts
from intake.service_layer.deps import Deps, PolicyStore, schedule_timers
from intake.service_layer.transitions import event_site, event_window, sla_deadlines, transition, triaged_event

S = TicketStatus


@dataclass
class Opened:
    ticket: Ticket
    duplicate: bool = False


def _product_terms(product: dict[str, Any] | None) -> warranty.ProductTerms | None:
    if not product:
        return None
    return warranty.ProductTerms(
        warranty_months=product["warranty_months"],
        return_window_days=product["return_window_days"],
        non_returnable=frozenset(product["non_returnable"] or ()),
    )


def _asset_terms(asset: dict[str, Any] | None) -> warranty.AssetTerms | None:
    if not asset:
        return None
    return warranty.AssetTerms(
        purchase_date=asset["purchase_date"],
        card_warranty_months=asset["card_warranty_months"],
        card_warranty_ends_on=asset["card_warranty_ends_on"],
    )


def _pick_site(customer: dict[str, Any] | None, address_id: str | None) -> dict[str, Any] | None:
    addresses = (customer or {}).get("addresses") or []
    if address_id:
        for a in addresses:
            if a["id"] == address_id:
                break
        else:
            raise UnknownReference("address", address_id)
    elif addresses:
        a = addresses[0]
    else:
        return None
    return {
        "address_id": a["id"],
        "region": a.get("region"),
        "in_province": a.get("in_province"),
        "lat": a.get("lat"),
        "lon": a.get("lon"),
    }


async def open_ticket(
    *, uow: UnitOfWork, cmd: OpenTicket, deps: Deps | None = None, causation: Envelope | None = None
) -> Opened:
    deps = deps or Deps(PolicyStore())
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        result = await open_in_uow(uow, cmd, deps, now, causation)
        await uow.commit()
    await schedule_timers(deps, result[1])
    return result[0]


async def open_in_uow(
    uow: UnitOfWork, cmd: OpenTicket, deps: Deps, now: datetime, causation: Envelope | None
) -> tuple[Opened, list[tuple[str, datetime]]]:
    session, tenant = uow.session, cmd.tenant_id
    policy = await deps.policies.get(session, tenant)
    tickets = TicketRepository(session)
    customer, asset, product = await _referenced(DirectoryRepository(session), tickets, cmd)
    _check_request(cmd, policy, now)

    contact_phone = cmd.contact_phone or (customer or {}).get("phone")
    contact_email = cmd.contact_email or (customer or {}).get("email")
    asset_id = asset["id"] if asset else None

    if cmd.check_duplicates and cmd.kind not in ("complaint", "consultation") and (asset_id or contact_phone):
        existing = await _same_request_again(tickets, cmd, policy, now, asset_id=asset_id, contact_phone=contact_phone)
        if existing is not None:
            return Opened(existing, duplicate=True), []

    today = policy.calendar.local_date(now)
    decision = warranty.determine(
        kind=cmd.kind,
        today=today,
        product=_product_terms(product),
        asset=_asset_terms(asset),
        purchase_date=cmd.purchase_date,
    )
    site = _pick_site(customer, cmd.address_id)
    grade = (customer or {}).get("grade")
    tri = triage_rules.triage(
        kind=cmd.kind,
        symptom=cmd.symptom,
        grade=grade,
        severity=cmd.severity,
        urgency=cmd.urgency,
        rules=policy.triage,
        kb=policy.knowledge_base,
    )
    product_model = (product or {}).get("model") or cmd.product_model
    missing = missing_facts(
        kind=cmd.kind,
        has_model=bool(product_model),
        has_purchase_date=decision.purchase_date is not None,
        has_site=site is not None,
        has_contact=bool(contact_phone or contact_email or customer),
        path=tri.path,
    )
    window = (
        {"start": cmd.requested_window[0].isoformat(), "end": cmd.requested_window[1].isoformat()}
        if cmd.requested_window
        else None
    )
    t = Ticket(
        id=new_ticket_id(),
        tenant_id=tenant,
        kind=cmd.kind,
        channel=cmd.channel,
        symptom=cmd.symptom,
        opened_at=now,
        updated_at=now,
        customer_name=cmd.customer_name or (customer or {}).get("name"),
        contact_email=contact_email,
        contact_phone=contact_phone,
        locale=cmd.locale,
        customer_id=(customer or {}).get("id"),
        asset_id=asset_id,
        product_id=(product or {}).get("id"),
        product_model=product_model,
        serial=(asset or {}).get("serial") or cmd.serial,
        purchase_date=decision.purchase_date,
        customer_grade=grade,
        priority=tri.priority,
        category=tri.category,
        path=tri.path,
        severity=tri.severity,
        urgency=tri.urgency,
        suggested_fix=tri.suggested_fix,
        warranty=decision.as_dict(),
        missing_facts=missing,
        requested_window=window,
        site=site,
        attachments=list(cmd.attachments),
        complaint_level=cmd.complaint_level,
        original_ticket_id=cmd.original_ticket_id,
        compensation_requested=cmd.compensation_requested,
        compensation_amount_minor=cmd.compensation_amount_minor,
        trace_headers=current_trace_headers() or None,
    )
    clocks = Clocks(uow, policy, t, new_ticket=True)
    await clocks.start(policy.sla.clocks_for(kind=t.kind, path=t.path), now)
    if t.kind == "complaint":
        await clocks.change(now, stop=("complaint_record",))  # recorded now, by this request
    _emit_opened(uow, t, decision, clocks, now, causation)
    if t.kind == "complaint":
        _emit_complaint_opened(uow, t, clocks, now, cmd.source, causation)
    if missing:
        await transition(uow, t, S.WAITING_CUSTOMER, now=now, clocks=clocks, causation=causation)
    else:
        await transition(uow, t, S.TRIAGED, now=now, clocks=clocks, causation=causation)
    await tickets.add(t)  # in its final state: the clocks (written at commit) refer to it
    return Opened(t), clocks.scheduled


async def _existing(
    get: Callable[[str, str], Awaitable[dict[str, Any] | None]], tenant: str, what: str, ident: str | None
) -> dict[str, Any] | None:
    """The row `ident` names (None when no id is given); an id that names nothing is refused."""
    if not ident:
        return None
    row = await get(tenant, ident)
    if row is None:
        raise UnknownReference(what, ident)
    return row


async def _referenced(
    d: DirectoryRepository, tickets: TicketRepository, cmd: OpenTicket
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, Any] | None]:
    """The customer, asset and product a request names (an asset brings its owner and its product;
    a model name finds its product); the original ticket of a complaint must exist."""
    tenant = cmd.tenant_id
    customer = await _existing(d.customer, tenant, "customer", cmd.customer_id)
    asset = await _existing(d.asset, tenant, "asset", cmd.asset_id)
    product = None
    if asset is not None:
        if customer and asset["customer_id"] != customer["id"]:
            raise RuleViolation(f"asset {cmd.asset_id} does not belong to customer {cmd.customer_id}")
        customer = customer or await d.customer(tenant, asset["customer_id"])
        product = await d.product(tenant, asset["product_id"])
    if product is None:
        product = await _existing(d.product, tenant, "product", cmd.product_id)
    if product is None and cmd.product_model:
        product = await d.product_by_model(tenant, cmd.product_model)
    if cmd.original_ticket_id and await tickets.get(tenant, cmd.original_ticket_id) is None:
        raise UnknownReference("ticket", cmd.original_ticket_id)
    return customer, asset, product


def _check_request(cmd: OpenTicket, policy: TenantPolicy, now: datetime) -> None:
    if cmd.purchase_date and cmd.purchase_date > policy.calendar.local_date(now):
        raise RuleViolation("purchase_date lies in the future")
    if cmd.requested_window and cmd.requested_window[1] <= cmd.requested_window[0]:
        raise RuleViolation("requested window ends before it starts")


async def _same_request_again(
    tickets: TicketRepository,
    cmd: OpenTicket,
    policy: TenantPolicy,
    now: datetime,
    *,
    asset_id: str | None,
    contact_phone: str | None,
) -> Ticket | None:
    """An open ticket this request repeats (same asset or phone, similar symptom, recent): it is
    counted and noted on that ticket, and no new ticket is opened."""
    tenant = cmd.tenant_id
    cands = await tickets.duplicate_candidates(
        tenant, asset_id=asset_id, contact_phone=contact_phone, since=now - policy.duplicate_window
    )
    dup = find_duplicate(
        cands,
        symptom=cmd.symptom,
        asset_id=asset_id,
        contact_phone=contact_phone,
        now=now,
        window=policy.duplicate_window,
        threshold=policy.duplicate_threshold,
    )
    existing = await tickets.get(tenant, dup, for_update=True) if dup else None
    if existing is None:
        return None
    existing.duplicate_count += 1
    existing.updated_at = now
    await tickets.save(existing)
    await tickets.add_note(
        tenant_id=tenant,
        ticket_id=existing.id,
        author=f"channel:{cmd.channel}",
        kind="duplicate",
        body=f"Same request received again: {cmd.symptom[:1000]}",
        at=now,
    )
    return existing


def _emit_opened(
    uow: UnitOfWork, t: Ticket, decision: warranty.Decision, clocks: Clocks, now: datetime, causation: Envelope | None
) -> None:
    uow.emit(
        ev.TicketOpened(
            ticket_id=t.id,
            tenant_id=t.tenant_id,
            customer_id=t.customer_id,
            asset_id=t.asset_id,
            kind=t.kind,  # type: ignore[arg-type]
            channel=t.channel,
            symptom=t.symptom,
            priority=t.priority,
            warranty_status=decision.status,  # type: ignore[arg-type]
            opened_at=now,
            contact_email=t.contact_email,
            contact_phone=t.contact_phone,
            locale=t.locale,
            warranty=ev.WarrantyDecision(**decision.as_dict()),
            customer_grade=t.customer_grade,
            product_id=t.product_id,  # type: ignore[arg-type]
            product_model=t.product_model,
            serial=t.serial,
            category=t.category,
            path=t.path,  # type: ignore[arg-type]
            requested_window=event_window(t),
            site=event_site(t),
            missing_facts=t.missing_facts,
            complaint_level=t.complaint_level,
            original_ticket_id=t.original_ticket_id,
            sla=sla_deadlines(clocks),
        ),
        subject=t.id,
        tenant=t.tenant_id,
        causation=causation,
    )


def _emit_complaint_opened(
    uow: UnitOfWork, t: Ticket, clocks: Clocks, now: datetime, source: str, causation: Envelope | None
) -> None:
    """complaint.opened, and complaint.escalated to a manager at once when it is serious."""
    level = t.complaint_level or 1
    serious = level >= 3 or t.compensation_requested
    uow.emit(
        ev.ComplaintOpened(
            ticket_id=t.id,
            tenant_id=t.tenant_id,
            original_ticket_id=t.original_ticket_id,
            customer_id=t.customer_id,
            level=level,
            compensation_requested=t.compensation_requested,
            compensation_amount_minor=t.compensation_amount_minor,
            escalated_to="manager" if serious else None,
            record_due=now,
            contact_due=clocks.deadlines.get("complaint_contact"),
            fix_due=clocks.deadlines.get("complaint_fix"),
            source=source,
            opened_at=now,  # type: ignore[arg-type]
        ),
        subject=t.id,
        tenant=t.tenant_id,
        causation=causation,
    )
    if serious:
        uow.emit(
            ev.ComplaintEscalated(
                ticket_id=t.id,
                tenant_id=t.tenant_id,
                from_level=level,
                level=level,
                to_role="manager",
                reason="compensation requested" if t.compensation_requested else f"level {level} complaint",
                respond_by=clocks.cal.add_working_days(now, 2),
                compensation_needs_approval=t.compensation_requested,
                escalated_at=now,
            ),
            subject=t.id,
            tenant=t.tenant_id,
            causation=causation,
        )


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
            t.site = _pick_site(customer, facts["address_id"])
        elif t.site is None and customer:
            t.site = _pick_site(customer, None)
        decision = warranty.determine(
            kind=t.kind,
            today=clocks.cal.local_date(now),
            product=_product_terms(product),
            asset=_asset_terms(asset),
            purchase_date=t.purchase_date,
        )  # type: ignore[arg-type]
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
