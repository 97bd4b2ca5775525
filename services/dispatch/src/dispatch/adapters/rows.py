"""The base of dispatch's row stores: one tenant-scoped transaction (RLS) whose every query also
filters by tenant, so a missing policy can never leak another tenant's rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from dispatch.domain.model import (
    PartUse,
    WorkOrderStatus,
)
from fixflow_shared.clock import Clock

ACTIVE_WO = (WorkOrderStatus.ASSIGNED.value, WorkOrderStatus.EN_ROUTE.value, WorkOrderStatus.ON_SITE.value)

# Statements built once, executed with parameters: building a statement per call (and coercing every
# value into a bound literal, then cache-keying it) cost more Python than the query itself.
_TENANT: BindParameter[str] = bindparam("b_tenant")


def _parts_json(parts: list[PartUse]) -> list[dict[str, Any]]:
    return [{"part_code": p.part_code, "quantity": p.quantity, "source": p.source} for p in parts]


def _parts(rows: list[dict[str, Any]]) -> list[PartUse]:
    return [PartUse(r["part_code"], int(r["quantity"]), r.get("source", "van_stock")) for r in rows]


class Rows:
    """A store of rows inside one unit of work's session, for one tenant."""

    def __init__(self, session: AsyncSession, tenant_id: str, clock: Clock) -> None:
        self.session = session
        self.tenant = tenant_id
        self.clock = clock  # the unit of work's: timestamps of the rows it writes
