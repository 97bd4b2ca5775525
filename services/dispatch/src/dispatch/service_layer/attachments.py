"""Attachments of a work order: the customer's signature, the technician's photos, the service report.

They are kept behind the AttachmentStore port; today's adapter keeps them in dispatch's database
(adapters/attachment_rows.py), an object store can replace it without touching the use cases. The
same bytes sent twice for the same work order and kind are one attachment (a retried upload after a
lost answer, a device replaying its queue), so nothing is stored twice."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from dispatch.adapters.attachment_rows import PostgresAttachments
from dispatch.adapters.repository import Repository
from dispatch.domain import attachments as att
from dispatch.domain.attachments import Attachment
from dispatch.domain.exceptions import IllegalTransition, NotFound
from dispatch.domain.model import WorkOrderStatus, new_id
from fixflow_shared.uow import UnitOfWork

OPEN = (WorkOrderStatus.ASSIGNED, WorkOrderStatus.EN_ROUTE, WorkOrderStatus.ON_SITE)


class AttachmentStore(Protocol):
    """Where attachments are kept: metadata and bytes, inside the unit of work's transaction."""

    async def put(self, a: Attachment, data: bytes) -> None: ...
    async def find(self, work_order_id: str, kind: str, sha256: str) -> Attachment | None: ...
    async def get(self, attachment_id: str) -> Attachment | None: ...
    async def data(self, attachment_id: str) -> bytes | None: ...
    # the bytes of these attachments in one read, by id (an id not kept is left out)
    async def data_of(self, attachment_ids: Sequence[str]) -> dict[str, bytes]: ...
    async def of_work_order(self, work_order_id: str) -> list[Attachment]: ...
    async def of_ticket(self, ticket_id: str, kind: str | None = None) -> list[Attachment]: ...


StoreFactory = Callable[[UnitOfWork, str], AttachmentStore]


def database_store(uow: UnitOfWork, tenant_id: str) -> AttachmentStore:
    return PostgresAttachments(uow.session, tenant_id, uow.clock)


async def keep(
    store: AttachmentStore,
    *,
    tenant_id: str,
    work_order_id: str,
    ticket_id: str,
    kind: str,
    data: bytes,
    media_type: str,
    caption: str | None,
    now: object,
) -> tuple[Attachment, bool]:
    """Store the bytes once (same work order, kind and content: the attachment kept before)."""
    digest = att.sha256(data)
    found = await store.find(work_order_id, kind, digest)
    if found is not None:
        return found, False
    a = Attachment(
        id=new_id("AT"),
        tenant_id=tenant_id,
        work_order_id=work_order_id,
        ticket_id=ticket_id,
        kind=kind,
        media_type=media_type,
        size=len(data),
        sha256=digest,
        caption=caption,
        created_at=now,  # type: ignore[arg-type]
    )
    await store.put(a, data)
    return a, True


async def add(
    *,
    uow: UnitOfWork,
    tenant_id: str,
    work_order_id: str,
    kind: str,
    data: bytes,
    declared_type: str | None,
    caption: str | None = None,
    store_of: StoreFactory = database_store,
) -> tuple[Attachment, bool]:
    """The technician's photo or the customer's signature for an open work order (the report is
    made by dispatch itself). Bad bytes are a 422 before anything is stored."""
    if kind not in ("photo", "signature"):
        raise att.BadAttachment("a technician attaches photos and the customer's signature", field="kind")
    media_type = att.check(kind, data, declared_type)
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        wo = await repo.work_order(work_order_id, lock=True)
        if wo is None:
            raise NotFound("work order", work_order_id)
        store = store_of(uow, tenant_id)
        existing = await store.find(work_order_id, kind, att.sha256(data))
        if existing is not None:
            return existing, False
        if wo.status not in OPEN:
            raise IllegalTransition("work order", wo.status, "attachment added", allowed=list(OPEN))
        a, created = await keep(
            store,
            tenant_id=tenant_id,
            work_order_id=wo.id,
            ticket_id=wo.ticket_id,
            kind=kind,
            data=data,
            media_type=media_type,
            caption=caption,
            now=uow.clock.now(),
        )
        if kind == "photo":
            photo = {"attachment_id": a.id, "sha256": a.sha256, "content_type": a.media_type}
            if caption:
                photo["caption"] = caption
            wo.photos = [*wo.photos, photo]
            await repo.save_work_order(wo)
        await uow.commit()
    return a, created


async def read(
    *, uow: UnitOfWork, tenant_id: str, attachment_id: str, store_of: StoreFactory = database_store
) -> tuple[Attachment, bytes]:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        store = store_of(uow, tenant_id)
        a = await store.get(attachment_id)
        data = await store.data(attachment_id) if a else None
    if a is None or data is None:
        raise NotFound("attachment", attachment_id)
    return a, data


async def listing(
    *,
    uow: UnitOfWork,
    tenant_id: str,
    work_order_id: str | None = None,
    ticket_id: str | None = None,
    kind: str | None = None,
    store_of: StoreFactory = database_store,
) -> list[Attachment]:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        store = store_of(uow, tenant_id)
        if work_order_id is not None:
            found = await store.of_work_order(work_order_id)
            return [a for a in found if kind is None or a.kind == kind]
        assert ticket_id is not None
        return await store.of_ticket(ticket_id, kind)
