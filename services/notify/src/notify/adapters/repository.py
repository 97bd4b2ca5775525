"""Persistence of notify. Tenant tables run inside tenant-scoped transactions (RLS) and every query
filters by tenant as well; the deliveries table has no RLS (the dispatcher scans it across
tenants) so its queries always name the tenant or a delivery id they were given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fixflow_shared.db import rows_changed
from notify.adapters.orm import (
    contacts,
    deliveries,
    delivery_attempts,
    feed_items,
    preferences,
    recipients,
    templates,
    webhook_endpoints,
)
from notify.domain.model import Channel, Delivery, DeliveryStatus, Preference, QuietHours
from notify.domain.templates import TemplateSource


@dataclass(frozen=True)
class Attempt:
    attempt: int
    provider: str
    outcome: str  # ok | retry | failover | failed
    error: str | None = None


@dataclass(frozen=True)
class StoredTemplate:
    name: str
    channel: str
    locale: str
    version: int
    source: TemplateSource
    created_by: str
    created_at: datetime


def _row_to_delivery(r: Any) -> Delivery:
    return Delivery(
        id=r["id"],
        tenant_id=r["tenant_id"],
        ticket_id=r["ticket_id"],
        trigger_event_id=r["trigger_event_id"],
        trigger_event_type=r["trigger_event_type"],
        audience=r["audience"],
        channel=Channel(r["channel"]),
        recipient=r["recipient"],
        recipient_ref=r["recipient_ref"],
        template=r["template"],
        template_version=r["template_version"],
        locale=r["locale"],
        subject=r["subject"],
        body=r["body"],
        mandatory=r["mandatory"],
        status=DeliveryStatus(r["status"]),
        attempts=r["attempts"],
        not_before=r["not_before"],
        last_error=r["last_error"],
        provider=r["provider"],
        created_at=r["created_at"],
        sent_at=r["sent_at"],
        trace_headers=r["trace_headers"],
    )


# Statements built once, executed with parameters (not .values(...) per call, which builds a
# statement and coerces every value of every row into a bound literal each time).
_ADD_DELIVERIES = (
    pg_insert(deliveries).on_conflict_do_nothing(constraint="uq_deliveries_once").returning(deliveries.c.id)
)
_CONTACT_ROW = pg_insert(contacts)
_UPSERT_CONTACT = _CONTACT_ROW.on_conflict_do_update(
    index_elements=["tenant_id", "ticket_id"],
    set_=dict(
        customer_id=func.coalesce(_CONTACT_ROW.excluded.customer_id, contacts.c.customer_id),
        email=func.coalesce(_CONTACT_ROW.excluded.email, contacts.c.email),
        phone=func.coalesce(_CONTACT_ROW.excluded.phone, contacts.c.phone),
        locale=_CONTACT_ROW.excluded.locale,
        updated_at=func.now(),
    ),
)
_CONTACT = select(contacts).where(
    contacts.c.tenant_id == bindparam("b_tenant"), contacts.c.ticket_id == bindparam("b_ticket")
)
_PREFERENCES = select(preferences).where(
    preferences.c.tenant_id == bindparam("b_tenant"), preferences.c.recipient.in_(bindparam("b_refs", expanding=True))
)
_ACTIVE_WEBHOOKS = (
    select(webhook_endpoints)
    .where(webhook_endpoints.c.tenant_id == bindparam("b_tenant"), webhook_endpoints.c.active.is_(True))
    .order_by(webhook_endpoints.c.created_at)
)


class NotifyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._webhooks: dict[str, Sequence[Any]] = {}

    # --- deliveries --------------------------------------------------------------------------------
    async def add_deliveries(self, items: Sequence[Delivery], *, lease_s: float) -> set[str]:
        """Insert; rows that already exist for (event, channel, recipient) are left alone.
        Returns the ids actually inserted (the others were planned by an earlier copy)."""
        if not items:
            return set()
        rows = [
            dict(
                id=d.id,
                tenant_id=d.tenant_id,
                ticket_id=d.ticket_id,
                trigger_event_id=d.trigger_event_id,
                trigger_event_type=d.trigger_event_type,
                audience=d.audience,
                channel=d.channel.value,
                recipient=d.recipient,
                recipient_ref=d.recipient_ref,
                template=d.template,
                template_version=d.template_version,
                locale=d.locale,
                subject=d.subject,
                body=d.body,
                mandatory=d.mandatory,
                status=d.status.value,
                attempts=d.attempts,
                not_before=d.not_before,
                last_error=d.last_error,
                created_at=d.created_at,
                updated_at=d.created_at,
                trace_headers=d.trace_headers,
                # The planning process owns a fresh pending row for a while after planning it; after
                # that the sweeper takes it over (crash between commit and send).
                lease_until=d.created_at + timedelta(seconds=lease_s) if d.status == DeliveryStatus.PENDING else None,
            )
            for d in items
        ]
        # one multi-row INSERT all the same (insertmanyvalues), from a statement built once
        return {r[0] for r in (await self.session.execute(_ADD_DELIVERIES, rows)).all()}

    async def get_delivery(self, delivery_id: str) -> Delivery | None:
        row = (await self.session.execute(select(deliveries).where(deliveries.c.id == delivery_id))).mappings().first()
        return None if row is None else _row_to_delivery(row)

    async def list_for_ticket(self, tenant_id: str, ticket_id: str) -> list[Delivery]:
        rows = (
            (
                await self.session.execute(
                    select(deliveries)
                    .where(deliveries.c.tenant_id == tenant_id, deliveries.c.ticket_id == ticket_id)
                    .order_by(deliveries.c.created_at, deliveries.c.id)
                )
            )
            .mappings()
            .all()
        )
        return [_row_to_delivery(r) for r in rows]

    async def attempts_of(self, tenant_id: str, delivery_ids: Sequence[str]) -> dict[str, list[Attempt]]:
        if not delivery_ids:
            return {}
        rows = (
            (
                await self.session.execute(
                    select(delivery_attempts)
                    .where(
                        delivery_attempts.c.tenant_id == tenant_id, delivery_attempts.c.delivery_id.in_(delivery_ids)
                    )
                    .order_by(delivery_attempts.c.id)
                )
            )
            .mappings()
            .all()
        )
        out: dict[str, list[Attempt]] = {}
        for r in rows:
            out.setdefault(r["delivery_id"], []).append(Attempt(r["attempt"], r["provider"], r["outcome"], r["error"]))
        return out

    async def claim_due(self, *, limit: int, lease_s: float, ids: Sequence[str] | None = None) -> list[Delivery]:
        """Lease unfinished deliveries whose time has come and whose lease expired (deferred ones,
        and pending ones a crashed process left behind), across tenants; deferred become pending."""
        due = (
            select(deliveries.c.id)
            .where(
                deliveries.c.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.DEFERRED.value]),
                or_(deliveries.c.not_before.is_(None), deliveries.c.not_before <= func.now()),
                or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < func.now()),
            )
            .order_by(deliveries.c.not_before.nulls_first())
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if ids is not None:
            due = due.where(deliveries.c.id.in_(ids))
        rows = (
            (
                await self.session.execute(
                    update(deliveries)
                    .where(deliveries.c.id.in_(due.scalar_subquery()))
                    .values(
                        status=DeliveryStatus.PENDING.value,
                        lease_until=func.now() + text(f"interval '{float(lease_s)} seconds'"),
                        updated_at=func.now(),
                    )
                    .returning(*deliveries.c)
                )
            )
            .mappings()
            .all()
        )
        return [_row_to_delivery(r) for r in rows]

    async def renew_leases(self, ids: Sequence[str], *, lease_s: float) -> int:
        res = await self.session.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(ids), deliveries.c.status == DeliveryStatus.PENDING.value)
            .values(lease_until=func.now() + text(f"interval '{float(lease_s)} seconds'"))
        )
        return rows_changed(res)

    async def pending_due_times(self) -> list[tuple[str, datetime]]:
        rows = (
            await self.session.execute(
                select(deliveries.c.id, deliveries.c.not_before).where(
                    deliveries.c.status == DeliveryStatus.DEFERRED.value, deliveries.c.not_before.is_not(None)
                )
            )
        ).all()
        return [(r[0], r[1]) for r in rows]

    async def finish(
        self,
        d: Delivery,
        *,
        status: DeliveryStatus,
        attempts: Sequence[Attempt],
        provider: str | None,
        error: str | None,
        sent_at: datetime | None = None,
        not_before: datetime | None = None,
    ) -> bool:
        """Record the outcome of a send; False if another worker already finished this delivery."""
        values: dict[str, Any] = dict(
            status=status.value,
            attempts=deliveries.c.attempts + len([a for a in attempts if a.outcome != "deferred"]),
            provider=provider,
            last_error=error,
            updated_at=func.now(),
            lease_until=None,
        )
        if sent_at is not None:
            values["sent_at"] = sent_at
        if not_before is not None:
            values["not_before"] = not_before
        res = await self.session.execute(
            update(deliveries)
            .where(deliveries.c.id == d.id, deliveries.c.status == DeliveryStatus.PENDING.value)
            .values(**values)
            .returning(deliveries.c.attempts)
        )
        row = res.first()
        if row is None:
            return False
        d.attempts = row[0]
        if attempts:
            await self.session.execute(
                insert(delivery_attempts),
                [
                    dict(
                        delivery_id=d.id,
                        tenant_id=d.tenant_id,
                        attempt=a.attempt,
                        provider=a.provider,
                        outcome=a.outcome,
                        error=a.error,
                    )
                    for a in attempts
                ],
            )
        return True

    async def finish_many(self, outcomes: Sequence[Any]) -> dict[str, int]:
        """Record many send outcomes (sent / failed) in one statement; returns {id: attempts} of
        the rows that were still pending (the others were finished elsewhere)."""
        if not outcomes:
            return {}
        rows = (
            await self.session.execute(
                text(
                    "UPDATE deliveries AS d SET status = v.status, attempts = d.attempts + v.n, provider = v.provider, "
                    "last_error = v.error, sent_at = v.sent_at, lease_until = NULL, updated_at = now() "
                    "FROM unnest(CAST(:ids AS text[]), CAST(:statuses AS text[]), CAST(:ns AS int[]), "
                    "CAST(:providers AS text[]), CAST(:errors AS text[]), CAST(:sent AS timestamptz[])) "
                    "AS v(id, status, n, provider, error, sent_at) "
                    "WHERE d.id = v.id AND d.status = 'pending' RETURNING d.id, d.attempts"
                ),
                {
                    "ids": [o.delivery.id for o in outcomes],
                    "statuses": [o.status.value for o in outcomes],
                    "ns": [len(o.attempts) for o in outcomes],
                    "providers": [o.provider for o in outcomes],
                    "errors": [o.error for o in outcomes],
                    "sent": [o.sent_at for o in outcomes],
                },
            )
        ).all()
        updated = {r[0]: r[1] for r in rows}
        # The attempt log keeps what is worth reading: retries, failovers, failures.
        log_rows = [
            dict(
                delivery_id=o.delivery.id,
                tenant_id=o.delivery.tenant_id,
                attempt=a.attempt,
                provider=a.provider,
                outcome=a.outcome,
                error=a.error,
            )
            for o in outcomes
            if o.delivery.id in updated and (len(o.attempts) > 1 or o.status != DeliveryStatus.SENT)
            for a in o.attempts
        ]
        if log_rows:
            await self.session.execute(insert(delivery_attempts), log_rows)
        return updated

    # --- contacts, recipients, preferences ---------------------------------------------------------------
    async def upsert_contact(
        self,
        *,
        tenant_id: str,
        ticket_id: str,
        customer_id: str | None,
        email: str | None,
        phone: str | None,
        locale: str,
    ) -> None:
        await self.session.execute(
            _UPSERT_CONTACT,
            dict(
                tenant_id=tenant_id,
                ticket_id=ticket_id,
                customer_id=customer_id,
                email=email,
                phone=phone,
                locale=locale,
            ),
        )

    async def contact(self, tenant_id: str, ticket_id: str) -> dict[str, Any] | None:
        row = (await self.session.execute(_CONTACT, {"b_tenant": tenant_id, "b_ticket": ticket_id})).mappings().first()
        return dict(row) if row else None

    async def recipients_with_role(self, tenant_id: str, role: str) -> list[dict[str, Any]]:
        rows = (
            (
                await self.session.execute(
                    select(recipients)
                    .where(recipients.c.tenant_id == tenant_id, recipients.c.role == role)
                    .order_by(recipients.c.id)
                )
            )
            .mappings()
            .all()
        )
        return [dict(r) for r in rows]

    async def put_recipient(
        self, *, tenant_id: str, id: str, role: str, name: str, email: str | None, phone: str | None, locale: str
    ) -> None:
        stmt = pg_insert(recipients).values(
            id=id, tenant_id=tenant_id, role=role, name=name, email=email, phone=phone, locale=locale
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id", "id"],  # ids are a tenant's own (another tenant may use the same)
                set_=dict(role=role, name=name, email=email, phone=phone, locale=locale),
            )
        )

    async def preference(self, tenant_id: str, refs: Sequence[str]) -> tuple[str, Preference] | None:
        """The first stored preference among `refs` (e.g. customer id, then email, then phone)."""
        refs = [r for r in refs if r]
        if not refs:
            return None
        rows = (await self.session.execute(_PREFERENCES, {"b_tenant": tenant_id, "b_refs": refs})).mappings().all()
        by_ref = {r["recipient"]: r for r in rows}
        for ref in refs:
            if ref in by_ref:
                return ref, preference_of(by_ref[ref])
        return None

    async def put_preference(self, *, tenant_id: str, recipient: str, pref: Preference) -> None:
        qh = pref.quiet_hours
        values = dict(
            channels=sorted(c.value for c in pref.channels) if pref.channels is not None else None,
            opted_out=pref.opted_out,
            quiet_start=qh.start if qh else None,
            quiet_end=qh.end if qh else None,
            quiet_tz=qh.tz if qh else None,
        )
        stmt = pg_insert(preferences).values(tenant_id=tenant_id, recipient=recipient, **values)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id", "recipient"], set_={**values, "updated_at": func.now()}
            )
        )

    # --- templates -----------------------------------------------------------------------------------
    async def latest_templates(self, tenant_id: str, name: str) -> dict[tuple[str, str], StoredTemplate]:
        """(channel, locale) -> newest version of the tenant's template `name`."""
        t = templates
        rows = (
            (
                await self.session.execute(
                    select(t)
                    .distinct(t.c.channel, t.c.locale)
                    .where(t.c.tenant_id == tenant_id, t.c.name == name)
                    .order_by(t.c.channel, t.c.locale, t.c.version.desc())
                )
            )
            .mappings()
            .all()
        )
        return {(r["channel"], r["locale"]): _stored(r) for r in rows}

    async def template_versions(self, tenant_id: str, name: str, channel: str, locale: str) -> list[StoredTemplate]:
        t = templates
        rows = (
            (
                await self.session.execute(
                    select(t)
                    .where(t.c.tenant_id == tenant_id, t.c.name == name, t.c.channel == channel, t.c.locale == locale)
                    .order_by(t.c.version)
                )
            )
            .mappings()
            .all()
        )
        return [_stored(r) for r in rows]

    async def add_template_version(
        self, *, tenant_id: str, name: str, channel: str, locale: str, source: TemplateSource, created_by: str
    ) -> int:
        t = templates
        current = await self.session.scalar(
            select(func.max(t.c.version)).where(
                t.c.tenant_id == tenant_id, t.c.name == name, t.c.channel == channel, t.c.locale == locale
            )
        )
        version = (current or 0) + 1
        await self.session.execute(
            insert(t).values(
                tenant_id=tenant_id,
                name=name,
                channel=channel,
                locale=locale,
                version=version,
                subject=source.subject,
                body=source.body,
                created_by=created_by,
            )
        )
        return version

    # --- webhooks, feed ------------------------------------------------------------------------------
    async def webhooks_for(self, tenant_id: str, event_type: str) -> list[dict[str, Any]]:
        # Read once per tenant and transaction (a batch plans many events of the same tenants).
        rows = self._webhooks.get(tenant_id)
        if rows is None:
            rows = (await self.session.execute(_ACTIVE_WEBHOOKS, {"b_tenant": tenant_id})).mappings().all()
            self._webhooks[tenant_id] = rows
        return [dict(r) for r in rows if not r["event_types"] or event_type in r["event_types"]]

    async def add_webhook(
        self,
        *,
        tenant_id: str,
        id: str,
        url: str,
        secret: str,
        event_types: list[str],
        include_contact: bool = False,
        owner_subject: str | None = None,
        owner_roles: list[str] | None = None,
    ) -> None:
        await self.session.execute(
            insert(webhook_endpoints).values(
                id=id,
                tenant_id=tenant_id,
                url=url,
                secret=secret,
                event_types=event_types,
                include_contact=include_contact,
                owner_subject=owner_subject,
                owner_roles=owner_roles or [],
            )
        )

    async def webhook_secret(self, tenant_id: str, endpoint_id: str) -> str | None:
        w = webhook_endpoints
        return await self.session.scalar(
            select(w.c.secret).where(and_(w.c.tenant_id == tenant_id, w.c.id == endpoint_id))
        )

    async def add_feed_item(self, d: Delivery) -> None:
        await self.session.execute(
            pg_insert(feed_items)
            .values(
                tenant_id=d.tenant_id,
                recipient=d.recipient,
                delivery_id=d.id,
                ticket_id=d.ticket_id,
                title=d.subject,
                body=d.body,
            )
            .on_conflict_do_nothing()
        )

    async def feed(self, tenant_id: str, recipient: str, *, limit: int) -> list[dict[str, Any]]:
        f = feed_items
        rows = (
            (
                await self.session.execute(
                    select(f)
                    .where(f.c.tenant_id == tenant_id, f.c.recipient == recipient)
                    .order_by(f.c.id.desc())
                    .limit(limit)
                )
            )
            .mappings()
            .all()
        )
        return [dict(r) for r in rows]


def preference_of(r: Any) -> Preference:
    qh = None
    if r["quiet_start"] is not None and r["quiet_end"] is not None:
        qh = QuietHours(start=r["quiet_start"], end=r["quiet_end"], tz=r["quiet_tz"] or "Asia/Shanghai")
    chans = frozenset(Channel(c) for c in r["channels"]) if r["channels"] is not None else None
    return Preference(channels=chans, opted_out=r["opted_out"], quiet_hours=qh)


def _stored(r: Any) -> StoredTemplate:
    return StoredTemplate(
        name=r["name"],
        channel=r["channel"],
        locale=r["locale"],
        version=r["version"],
        source=TemplateSource(r["subject"], r["body"]),
        created_by=r["created_by"],
        created_at=r["created_at"],
    )
