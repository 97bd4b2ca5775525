"""Use cases of who gets what: a recipient's preferences, named recipients (managers, technicians)
and partners' webhook endpoints. Each opens its unit of work and commits it."""

from __future__ import annotations

from fixflow_shared.uow import UnitOfWork
from notify.adapters.repository import NotifyRepository
from notify.domain.model import Preference


async def put_preference(*, uow: UnitOfWork, tenant_id: str, recipient: str, pref: Preference) -> None:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        await NotifyRepository(uow.session).put_preference(tenant_id=tenant_id, recipient=recipient, pref=pref)
        await uow.commit()


async def put_recipient(
    *,
    uow: UnitOfWork,
    tenant_id: str,
    recipient_id: str,
    role: str,
    name: str,
    email: str | None,
    phone: str | None,
    locale: str,
) -> None:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        await NotifyRepository(uow.session).put_recipient(
            tenant_id=tenant_id, id=recipient_id, role=role, name=name, email=email, phone=phone, locale=locale
        )
        await uow.commit()


async def add_webhook(
    *,
    uow: UnitOfWork,
    tenant_id: str,
    endpoint_id: str,
    url: str,
    secret: str,
    event_types: list[str],
    include_contact: bool = False,
    owner_subject: str | None = None,
    owner_roles: list[str] | None = None,
) -> None:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        await NotifyRepository(uow.session).add_webhook(
            tenant_id=tenant_id,
            id=endpoint_id,
            url=url,
            secret=secret,
            event_types=event_types,
            include_contact=include_contact,
            owner_subject=owner_subject,
            owner_roles=owner_roles,
        )
        await uow.commit()
