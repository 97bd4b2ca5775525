"""Rows of parts requests (and return pickups, kept as parts requests without a job)."""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update

from dispatch.adapters.orm import (
    parts_requests,
)
from dispatch.adapters.rows import _TENANT, Rows, _parts, _parts_json
from dispatch.domain.model import (
    PartsRequest,
)

# Statements built once, executed with parameters: building a statement per call (and coercing every
# value into a bound literal, then cache-keying it) cost more Python than the query itself.
_SAVE_PARTS_REQUEST = update(parts_requests).where(
    parts_requests.c.tenant_id == _TENANT, parts_requests.c.id == bindparam("b_id")
)


class PartsRows(Rows):
    # --- parts ------------------------------------------------------------------------------------------------------
    async def add_parts_request(self, p: PartsRequest) -> None:
        now = self.clock.now()
        await self.session.execute(
            insert(parts_requests),
            dict(
                id=p.id,
                tenant_id=self.tenant,
                ticket_id=p.ticket_id,
                job_id=p.job_id,
                work_order_id=p.work_order_id,
                parts=_parts_json(p.parts),
                status=p.status,
                shipment_id=p.shipment_id,
                eta=p.eta,
                created_at=now,
                updated_at=now,
            ),
        )

    async def parts_request(self, request_id: str, *, lock: bool = False) -> PartsRequest | None:
        q = select(parts_requests).where(parts_requests.c.tenant_id == self.tenant, parts_requests.c.id == request_id)
        if lock:
            q = q.with_for_update()
        r = (await self.session.execute(q)).mappings().first()
        if r is None:
            return None
        return PartsRequest(
            id=r["id"],
            tenant_id=r["tenant_id"],
            ticket_id=r["ticket_id"],
            job_id=r["job_id"],
            work_order_id=r["work_order_id"],
            parts=_parts(r["parts"]),
            status=r["status"],
            shipment_id=r["shipment_id"],
            eta=r["eta"],
        )

    async def save_parts_request(self, p: PartsRequest) -> None:
        await self.session.execute(
            _SAVE_PARTS_REQUEST,
            dict(
                b_tenant=self.tenant,
                b_id=p.id,
                status=p.status,
                shipment_id=p.shipment_id,
                eta=p.eta,
                updated_at=self.clock.now(),
            ),
        )
