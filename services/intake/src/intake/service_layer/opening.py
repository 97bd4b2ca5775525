"""Opening a ticket: references resolved, warranty decided, triaged, duplicates caught, SLA clocks
started and the events emitted, in the unit of work the use case opens."""

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
from intake.domain.exceptions import RuleViolation, UnknownReference
from intake.domain.model import Ticket, TicketStatus, new_ticket_id
from intake.domain.policy import TenantPolicy, missing_facts
from intake.service_layer.deps import Deps, PolicyStore, schedule_timers
from intake.service_layer.transitions import event_site, event_window, sla_deadlines, transition

S = TicketStatus


@dataclass
class Opened:
    ticket: Ticket
    duplicate: bool = False


def product_terms(product: dict[str, Any] | None) -> warranty.ProductTerms | None:
    if not product:
        return None
    return warranty.ProductTerms(
        warranty_months=product["warranty_months"],
        return_window_days=product["return_window_days"],
        non_returnable=frozenset(product["non_returnable"] or ()),
    )


def asset_terms(asset: dict[str, Any] | None) -> warranty.AssetTerms | None:
    if not asset:
        return None
    return warranty.AssetTerms(
        purchase_date=asset["purchase_date"],
        card_warranty_months=asset["card_warranty_months"],
        card_warranty_ends_on=asset["card_warranty_ends_on"],
    )


def pick_site(customer: dict[str, Any] | None, address_id: str | None) -> dict[str, Any] | None:
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
        existing = await _same_request_again(
            tickets, cmd, policy, now, asset_id=asset_id, contact_phone=contact_phone, customer=customer
        )
        if existing is not None:
            return Opened(existing, duplicate=True), []

    today = policy.calendar.local_date(now)
    decision = warranty.determine(
        kind=cmd.kind,
        today=today,
        product=product_terms(product),
        asset=asset_terms(asset),
        purchase_date=cmd.purchase_date,
    )
    site = pick_site(customer, cmd.address_id)
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
    customer: dict[str, Any] | None = None,
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
    # A customer's request is never folded into another customer's ticket (it would show them that
    # ticket): a phone number alone does not make two customers one.
    if existing is None or (customer and existing.customer_id not in (None, customer["id"])):
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
