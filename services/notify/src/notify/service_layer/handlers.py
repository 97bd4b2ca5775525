"""Use cases of notify: plan the deliveries an event calls for, manage templates, preferences,
recipients and webhook endpoints. Sending lives in service_layer/dispatcher.py.

Exactly one message per (event, recipient, channel):
1. planning claims the event in the inbox and inserts delivery rows under a unique key
   (tenant, event id, channel, recipient) in ONE transaction: a redelivered event is skipped by the
   inbox, and even a second planner (a new consumer name, a replay) cannot add a second row;
2. only after that commit is a message handed to a provider;
3. then the row is marked sent (conditionally: status still pending) with the outgoing event.
A crash between 2 and 3 is the one window for a duplicate: the row stays pending, its lease runs
out, and the dispatcher's sweep sends it again. Providers get the delivery id as Idempotency-Key
(SMS) / Message-ID (email) / Fixflow-Delivery (webhooks) so they can drop that duplicate too.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fixflow_shared.consumer import each_traced
from fixflow_shared.contacts import (
    DEFAULT_PHONE_REGIONS,
    InvalidContact,
    PhoneRegions,
    normalise_contact,
    normalise_email,
    normalise_phone,
)
from fixflow_shared.events import Envelope, TicketEvent, registry
from fixflow_shared.events.contracts import billing as bev
from fixflow_shared.events.contracts import dispatch as dev
from fixflow_shared.events.contracts import intake as iev
from fixflow_shared.events.contracts import survey as sev
from fixflow_shared.events.contracts.notify import DeliveryDeferred, DeliveryFailed
from fixflow_shared.events.registry import Event
from fixflow_shared.logs import get_logger
from fixflow_shared.tracing import current_trace_headers
from fixflow_shared.uow import UnitOfWork
from notify.adapters import channels
from notify.adapters.repository import NotifyRepository, StoredTemplate
from notify.domain import context as ctx
from notify.domain import subscriptions, templates, webhook_targets
from notify.domain.exceptions import TemplateRejected
from notify.domain.model import (
    DEFAULT_PREFERENCE,
    Channel,
    Decision,
    Delivery,
    DeliveryStatus,
    new_delivery_id,
    template_name,
)
from notify.domain.portal_links import PortalLinks

log = get_logger(__name__)
PLAN_CONSUMER = "notify.plan"
# Tenant templates change rarely and are read for every event: cached per process for a few
# seconds (a save elsewhere is picked up within TEMPLATE_CACHE_S; a save here at once).
TEMPLATE_CACHE_S = 5.0
_template_cache: dict[tuple[str, str], tuple[float, dict[tuple[str, str], StoredTemplate]]] = {}


async def _tenant_templates(repo: NotifyRepository, tenant: str, name: str) -> dict[tuple[str, str], StoredTemplate]:
    now = time.monotonic()
    hit = _template_cache.get((tenant, name))
    if hit is not None and hit[0] > now:
        return hit[1]
    found = await repo.latest_templates(tenant, name)
    if len(_template_cache) > 10_000:
        _template_cache.clear()
    _template_cache[(tenant, name)] = (now + TEMPLATE_CACHE_S, found)
    return found


@dataclass
class Recipient:
    ref: str | None
    name: str = ""
    email: str | None = None
    phone: str | None = None
    in_app: str | None = None
    locale: str = "zh-CN"
    pref_refs: list[str] = field(default_factory=list)

    def address(self, channel: Channel) -> str | None:
        return {Channel.EMAIL: self.email, Channel.SMS: self.phone, Channel.IN_APP: self.in_app}.get(channel)


@dataclass
class Plan:
    to_send: list[Delivery]
    deferred: list[Delivery]
    duplicate: bool = False


# What the contracts declare about whom to reach (read after isinstance narrowing, never by key):
_CONTACTS = (iev.TicketOpened, iev.TicketWaitingCustomer, iev.TicketResolved, sev.SurveySent)
_CUSTOMER_IDS = (
    iev.TicketOpened,
    iev.TicketTriaged,
    iev.TicketResolved,
    iev.ComplaintOpened,
    bev.QuoteIssued,
    bev.InvoiceIssued,
    bev.ChargeWaived,
    sev.SurveySent,
)
_TECHNICIANS = (
    dev.TechnicianAssigned,
    dev.AppointmentBooked,
    dev.AppointmentRescheduled,
    dev.TechnicianDelayed,
    dev.TechnicianEnRoute,
)


def _norm(channel: Channel, value: str, region: str) -> str:
    """The address a message goes to, by the one contact rule (raises InvalidContact)."""
    if channel == Channel.EMAIL:
        return normalise_email(value)
    if channel == Channel.SMS:
        return normalise_phone(value, region)
    return value


def _ref(value: str | None, region: str) -> str | None:
    """A preference key as the preferences API stores it (normalised address; ids as they are)."""
    if not value:
        return None
    try:
        return normalise_contact(value, region)
    except InvalidContact:
        return value


async def _recipients(
    repo: NotifyRepository, audience: str, event: Event, tenant: str, ticket_id: str | None, region: str
) -> list[Recipient]:
    if audience == subscriptions.CUSTOMER:
        email = phone = locale = None
        if isinstance(event, _CONTACTS):
            email, phone, locale = event.contact_email, event.contact_phone, event.locale
        customer_id = event.customer_id if isinstance(event, _CUSTOMER_IDS) else None
        if ticket_id and not (email or phone):
            stored = await repo.contact(tenant, ticket_id)
            if stored:
                email, phone = stored["email"], stored["phone"]
                locale = locale or stored["locale"]
                customer_id = customer_id or stored["customer_id"]
        if not (email or phone):
            return []
        return [
            Recipient(
                ref=customer_id,
                email=email,
                phone=phone,
                in_app=customer_id,
                locale=locale or "zh-CN",
                pref_refs=[x for x in (customer_id, _ref(email, region), _ref(phone, region)) if x],
            )
        ]
    if audience == subscriptions.TECHNICIAN:
        if not isinstance(event, _TECHNICIANS) or not event.technician_id:
            return []
        tid, phone = event.technician_id, event.technician_phone
        return [
            Recipient(
                ref=tid,
                name=event.technician_name or "",
                phone=phone,
                in_app=tid,
                pref_refs=[x for x in (tid, _ref(phone, region)) if x],
            )
        ]
    if audience in (subscriptions.MANAGER, subscriptions.QUALITY):
        return [
            Recipient(
                ref=r["id"],
                name=r["name"],
                email=r["email"],
                phone=r["phone"],
                in_app=r["id"],
                locale=r["locale"],
                pref_refs=[x for x in (r["id"], _ref(r["email"], region), _ref(r["phone"], region)) if x],
            )
            for r in await repo.recipients_with_role(tenant, audience)
        ]
    return []


def _pick_template(
    name: str, audience: str, channel: Channel, locale: str, tenant_templates: dict[tuple[str, str], StoredTemplate]
) -> tuple[templates.TemplateSource, int] | None:
    loc = locale if locale in templates.LOCALES else ("zh-CN" if locale.lower().startswith("zh") else "en")
    stored = tenant_templates.get((channel.value, loc))
    if stored is not None:
        return stored.source, stored.version
    default = subscriptions.default_template(name, audience, loc)
    return (default, 0) if default is not None else None


async def plan_deliveries(
    *,
    uow: UnitOfWork,
    envelope: Envelope,
    event: Event,
    available: frozenset[Channel],
    lease_s: float,
    phones: PhoneRegions = DEFAULT_PHONE_REGIONS,
    links: PortalLinks | None = None,
) -> Plan:
    """Claim the event and write one delivery row per (recipient, channel) it calls for."""
    now = uow.clock.now()
    tenant = envelope.tenantid
    async with uow:
        await uow.scope_to_tenant(tenant)
        if not await uow.claim(PLAN_CONSUMER, envelope):
            return Plan([], [], duplicate=True)
        repo = NotifyRepository(uow.session)
        planned = await _plan_event(repo, envelope, event, available=available, now=now, phones=phones, links=links)
        plan = await _insert_and_emit(uow, repo, [(envelope, planned)], lease_s=lease_s, now=now)
        await uow.commit()
    return plan


async def plan_deliveries_batch(
    *,
    uow: UnitOfWork,
    batch: Sequence[tuple[Envelope, Event]],
    available: frozenset[Channel],
    lease_s: float,
    phones: PhoneRegions = DEFAULT_PHONE_REGIONS,
    links: PortalLinks | None = None,
) -> Plan:
    """`plan_deliveries` for a batch of events in one transaction: one inbox statement, the events
    planned in the order they came (per tenant), one insert of every delivery row, one commit."""
    now = uow.clock.now()
    if not batch:
        return Plan([], [], duplicate=True)
    async with uow:  # (the consumer hands each event of a poll over once)
        fresh = await uow.claim_many(PLAN_CONSUMER, [e for e, _ in batch])
        by_tenant: dict[str, list[tuple[Envelope, Event]]] = {}
        for envelope, event in batch:
            if envelope.id in fresh:
                by_tenant.setdefault(envelope.tenantid, []).append((envelope, event))
        if not by_tenant:
            return Plan([], [], duplicate=True)
        repo = NotifyRepository(uow.session)
        per_event: list[tuple[Envelope, list[Delivery]]] = []
        for tenant, group in by_tenant.items():
            await uow.scope_to_tenant(tenant)
            for envelope, event in each_traced(group):
                planned = await _plan_event(
                    repo, envelope, event, available=available, now=now, phones=phones, links=links
                )
                per_event.append((envelope, planned))
        plan = await _insert_and_emit(uow, repo, per_event, lease_s=lease_s, now=now)
        await uow.commit()
    return plan


async def _plan_event(
    repo: NotifyRepository,
    envelope: Envelope,
    event: Event,
    *,
    available: frozenset[Channel],
    now: datetime,
    phones: PhoneRegions = DEFAULT_PHONE_REGIONS,
    links: PortalLinks | None = None,
) -> list[Delivery]:
    """The delivery rows one event calls for (inside its tenant's scope; nothing inserted yet)."""
    tenant = envelope.tenantid
    region = phones.region_for(tenant)
    data = event.model_dump(mode="json")  # passed on whole (template context, webhook body), never read by key
    ticket_id = event.ticket_id if isinstance(event, TicketEvent) else (envelope.subject or None)
    name = template_name(envelope.type)
    model = registry.model_for(envelope.type)
    allowed = ctx.allowed_variables(model)
    if ticket_id and isinstance(event, _CONTACTS) and (event.contact_email or event.contact_phone):
        await repo.upsert_contact(
            tenant_id=tenant,
            ticket_id=ticket_id,
            customer_id=event.customer_id if isinstance(event, _CUSTOMER_IDS) else None,
            email=event.contact_email,
            phone=event.contact_phone,
            locale=event.locale or "zh-CN",
        )
    tenant_templates = await _tenant_templates(repo, tenant, name)
    planned: list[Delivery] = []
    trace_headers = current_trace_headers() or envelope.trace_headers or None  # the consumer's span

    def delivery(**kw: Any) -> Delivery:
        return Delivery(
            id=new_delivery_id(),
            tenant_id=tenant,
            ticket_id=ticket_id,
            trigger_event_id=envelope.id,
            trigger_event_type=envelope.type,
            template=name,
            created_at=now,
            trace_headers=trace_headers,
            **kw,
        )

    for rule in subscriptions.rules_for(envelope.type):
        for rcpt in await _recipients(repo, rule.audience, event, tenant, ticket_id, region):
            found = await repo.preference(tenant, rcpt.pref_refs)
            pref = found[1] if found else DEFAULT_PREFERENCE
            for channel in rule.channels:
                raw = rcpt.address(channel)
                if raw is None or channel not in available:
                    continue
                picked = _pick_template(name, rule.audience, channel, rcpt.locale, tenant_templates)
                if picked is None:
                    continue
                source, version = picked
                common = dict(
                    audience=rule.audience,
                    channel=channel,
                    recipient_ref=rcpt.ref,
                    locale=rcpt.locale,
                    template_version=version,
                    mandatory=rule.mandatory,
                )
                try:
                    address = _norm(channel, raw, region)
                except InvalidContact as exc:
                    planned.append(
                        delivery(
                            recipient=raw[:1000],
                            subject="",
                            body="",
                            status=DeliveryStatus.FAILED,
                            last_error=str(exc),
                            **common,
                        )
                    )
                    continue
                link = ""
                if links is not None and rule.audience == subscriptions.CUSTOMER:
                    link = links.for_message(
                        event_type=envelope.type,
                        data=data,
                        tenant=tenant,
                        customer_id=rcpt.ref,
                        ticket_id=ticket_id,
                        now=now,
                    )
                values = ctx.build_context(
                    data,
                    event_type=envelope.type,
                    tenant_id=tenant,
                    allowed=allowed,
                    recipient_name=rcpt.name,
                    portal_link=link,
                )
                try:
                    rendered = templates.render(source, values)
                except TemplateRejected as exc:
                    # A tenant template that fails on real data: fall back to the built-in one.
                    log.warning("tenant template failed, using default", template=name, error=str(exc))
                    default = subscriptions.default_template(name, rule.audience, rcpt.locale)
                    if default is None:
                        continue
                    rendered = templates.render(default, values)
                    common["template_version"] = 0
                decision, until = pref.decide(channel, mandatory=rule.mandatory, now=now)
                status = {
                    Decision.SEND: DeliveryStatus.PENDING,
                    Decision.DEFER: DeliveryStatus.DEFERRED,
                    Decision.SKIP: DeliveryStatus.SKIPPED,
                }[decision]
                planned.append(
                    delivery(
                        recipient=address,
                        subject=rendered.subject,
                        body=rendered.body,
                        status=status,
                        not_before=until,
                        **common,
                    )
                )
    if Channel.WEBHOOK in available:
        for ep in await repo.webhooks_for(tenant, envelope.type):
            d = delivery(
                audience=subscriptions.PARTNER,
                channel=Channel.WEBHOOK,
                recipient=ep["url"],
                recipient_ref=ep["id"],
                locale="en",
                template_version=0,
                subject=envelope.type,
                body="",
            )
            d.body = channels.webhook_body(
                delivery_id=d.id,
                event_id=envelope.id,
                event_type=envelope.type,
                tenant_id=tenant,
                subject=envelope.subject,
                data=webhook_targets.payload_data(
                    data, include_contact=ep["include_contact"], owner_roles=ep["owner_roles"] or ()
                ),
            )
            planned.append(d)
    return planned


async def _insert_and_emit(
    uow: UnitOfWork,
    repo: NotifyRepository,
    per_event: Sequence[tuple[Envelope, list[Delivery]]],
    *,
    lease_s: float,
    now: datetime,
) -> Plan:
    """Insert every planned row in one statement; emit deferred / refused ones, caused by their event."""
    inserted = await repo.add_deliveries([d for _, planned in per_event for d in planned], lease_s=lease_s)
    to_send: list[Delivery] = []
    all_deferred: list[Delivery] = []
    for envelope, planned in per_event:
        tenant = envelope.tenantid
        fresh = [d for d in planned if d.id in inserted]
        deferred = [d for d in fresh if d.status == DeliveryStatus.DEFERRED]
        for d in deferred:
            uow.emit(
                DeliveryDeferred(
                    delivery_id=d.id,
                    ticket_id=d.ticket_id,
                    channel=d.channel.value,
                    template=d.template,  # type: ignore[arg-type]
                    trigger_event_type=d.trigger_event_type,
                    reason="quiet_hours",
                    not_before=d.not_before,  # type: ignore[arg-type]
                    trigger_event_id=d.trigger_event_id,
                    audience=d.audience,
                    recipient_masked=d.masked_recipient,
                ),
                subject=d.ticket_id or d.id,
                tenant=tenant,
                causation=envelope,
            )
        for d in fresh:
            if d.status == DeliveryStatus.FAILED:  # refused at planning (e.g. an invalid address)
                uow.emit(
                    DeliveryFailed(
                        delivery_id=d.id,
                        ticket_id=d.ticket_id,
                        channel=d.channel.value,
                        template=d.template,  # type: ignore[arg-type]
                        trigger_event_type=d.trigger_event_type,
                        reason=d.last_error or "refused",
                        attempts=0,
                        trigger_event_id=d.trigger_event_id,
                        audience=d.audience,
                        recipient_masked=d.masked_recipient,
                        failed_at=now,
                    ),
                    subject=d.ticket_id or d.id,
                    tenant=tenant,
                    causation=envelope,
                )
        to_send += [d for d in fresh if d.status == DeliveryStatus.PENDING]
        all_deferred += deferred
    return Plan(to_send=to_send, deferred=all_deferred)


# --- templates ----------------------------------------------------------------------------------------


def template_model(name: str) -> type[Event] | None:
    for t in subscriptions.subscribed_types():
        if template_name(t) == name and t in registry:
            return registry.model_for(t)
    return None


def check_template(name: str, source: templates.TemplateSource) -> type[Event]:
    model = template_model(name)
    if model is None:
        raise TemplateRejected(f"no subscribed event has the template name {name!r}")
    templates.validate(source, ctx.allowed_variables(model), ctx.sample_context(model))
    return model


async def save_template(
    *,
    uow: UnitOfWork,
    tenant_id: str,
    name: str,
    channel: Channel,
    locale: str,
    source: templates.TemplateSource,
    created_by: str,
) -> int:
    check_template(name, source)
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        version = await NotifyRepository(uow.session).add_template_version(
            tenant_id=tenant_id, name=name, channel=channel.value, locale=locale, source=source, created_by=created_by
        )
        await uow.commit()
    _template_cache.pop((tenant_id, name), None)
    return version


def preview_template(
    name: str, source: templates.TemplateSource, data: dict[str, Any] | None, tenant_id: str
) -> templates.Rendered:
    model = check_template(name, source)
    values = ctx.sample_context(model)
    if data:
        allowed = ctx.allowed_variables(model)
        unknown = set(data) - allowed
        if unknown:
            raise TemplateRejected(f"unknown variables in sample data: {', '.join(sorted(unknown))}")
        values.update(ctx.build_context(data, event_type=model.type, tenant_id=tenant_id))
    return templates.render(source, values)


def available_templates() -> Sequence[str]:
    return sorted({template_name(t) for t in subscriptions.subscribed_types() if t in registry})
