"""The attachment store in dispatch's own database (the `attachments` table, bytes in a bytea
column): the adapter behind the AttachmentStore port (service_layer/attachments.py). An
S3-compatible object store can replace it by keeping the same metadata rows and the bytes in a
bucket under the id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select

from dispatch.adapters.orm import attachments
from dispatch.adapters.rows import Rows
from dispatch.domain.attachments import Attachment

_META = [c for c in attachments.c if c.name != "data"]


def _attachment(r: Any) -> Attachment:
    m = r._mapping
    return Attachment(
        id=m["id"],
        tenant_id=m["tenant_id"],
        work_order_id=m["work_order_id"],
        ticket_id=m["ticket_id"],
        kind=m["kind"],
        media_type=m["media_type"],
        size=m["size"],
        sha256=m["sha256"],
        caption=m["caption"],
        created_at=m["created_at"],
    )


class PostgresAttachments(Rows):
    """Attachments of one tenant, inside the unit of work's transaction."""

    def _meta(self) -> Any:
        return select(*_META).where(attachments.c.tenant_id == self.tenant)

    async def put(self, a: Attachment, data: bytes) -> None:
        await self.session.execute(
            insert(attachments),
            dict(
                id=a.id,
                tenant_id=self.tenant,
                work_order_id=a.work_order_id,
                ticket_id=a.ticket_id,
                kind=a.kind,
                media_type=a.media_type,
                size=a.size,
                sha256=a.sha256,
                data=data,
                caption=a.caption,
                created_at=a.created_at,
            ),
        )

    async def find(self, work_order_id: str, kind: str, sha256: str) -> Attachment | None:
        stmt = self._meta().where(
            attachments.c.work_order_id == work_order_id, attachments.c.kind == kind, attachments.c.sha256 == sha256
        )
        row = (await self.session.execute(stmt)).first()
        return _attachment(row) if row else None

    async def get(self, attachment_id: str) -> Attachment | None:
        row = (await self.session.execute(self._meta().where(attachments.c.id == attachment_id))).first()
        return _attachment(row) if row else None

    async def data(self, attachment_id: str) -> bytes | None:
        stmt = select(attachments.c.data).where(
            attachments.c.tenant_id == self.tenant, attachments.c.id == attachment_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def data_of(self, attachment_ids: Sequence[str]) -> dict[str, bytes]:
        if not attachment_ids:
            return {}
        stmt = select(attachments.c.id, attachments.c.data).where(
            attachments.c.tenant_id == self.tenant, attachments.c.id.in_(list(attachment_ids))
        )
        return {r.id: r.data for r in await self.session.execute(stmt)}

    async def of_work_order(self, work_order_id: str) -> list[Attachment]:
        stmt = self._meta().where(attachments.c.work_order_id == work_order_id).order_by(attachments.c.created_at)
        return [_attachment(r) for r in await self.session.execute(stmt)]

    async def of_ticket(self, ticket_id: str, kind: str | None = None) -> list[Attachment]:
        stmt = self._meta().where(attachments.c.ticket_id == ticket_id)
        if kind:
            stmt = stmt.where(attachments.c.kind == kind)
        return [_attachment(r) for r in await self.session.execute(stmt.order_by(attachments.c.created_at))]
