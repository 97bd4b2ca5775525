"""Read side: queries that answer the API directly."""

from __future__ import annotations

from typing import Any

from fixflow_shared.uow import UnitOfWork
from notify.adapters.repository import NotifyRepository, StoredTemplate
from notify.domain.model import Preference


async def ticket_customer(*, uow: UnitOfWork, tenant_id: str, ticket_id: str) -> str | None:
    """The customer of a ticket, as notify learned it with the ticket's contacts."""
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        contact = await NotifyRepository(uow.session).contact(tenant_id, ticket_id)
    return contact["customer_id"] if contact else None


async def deliveries_for_ticket(*, uow: UnitOfWork, tenant_id: str, ticket_id: str) -> list[dict[str, Any]]:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = NotifyRepository(uow.session)
        items = await repo.list_for_ticket(tenant_id, ticket_id)
        attempts = await repo.attempts_of(tenant_id, [d.id for d in items])
    return [
        {
            "id": d.id,
            "ticket_id": d.ticket_id,
            "channel": d.channel.value,
            "status": d.status.value,
            "recipient": d.masked_recipient,
            "audience": d.audience,
            "template": d.template,
            "template_version": d.template_version,
            "locale": d.locale,
            "trigger_event_type": d.trigger_event_type,
            "trigger_event_id": d.trigger_event_id,
            "attempts": d.attempts,
            "attempt_log": [
                {"attempt": a.attempt, "provider": a.provider, "outcome": a.outcome, "error": a.error}
                for a in attempts.get(d.id, [])
            ],
            "provider": d.provider,
            "last_error": d.last_error,
            "not_before": d.not_before,
            "created_at": d.created_at,
            "sent_at": d.sent_at,
        }
        for d in items
    ]


async def feed(*, uow: UnitOfWork, tenant_id: str, recipient: str, limit: int) -> list[dict[str, Any]]:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        rows = await NotifyRepository(uow.session).feed(tenant_id, recipient, limit=limit)
    return [
        {
            "id": r["id"],
            "ticket_id": r["ticket_id"],
            "title": r["title"],
            "body": r["body"],
            "created_at": r["created_at"],
            "read_at": r["read_at"],
        }
        for r in rows
    ]


async def preference(*, uow: UnitOfWork, tenant_id: str, recipient: str) -> Preference | None:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        found = await NotifyRepository(uow.session).preference(tenant_id, [recipient])
    return None if found is None else found[1]


async def template_versions(
    *, uow: UnitOfWork, tenant_id: str, name: str, channel: str, locale: str
) -> list[StoredTemplate]:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await NotifyRepository(uow.session).template_versions(tenant_id, name, channel, locale)


async def webhook_secret(*, uow: UnitOfWork, tenant_id: str, delivery_id: str) -> str | None:
    """The signing secret of the endpoint a webhook delivery goes to (None once it was removed)."""
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = NotifyRepository(uow.session)
        d = await repo.get_delivery(delivery_id)
        if d is None or d.recipient_ref is None:
            return None
        return await repo.webhook_secret(tenant_id, d.recipient_ref)
