"""Read side: KPIs and SLA attainment from the daily aggregates (never from ticket rows), quality
faults, alerts and reports."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from fixflow_shared.errors import Unprocessable
from fixflow_shared.uow import UnitOfWork
from insight.adapters import quality_store
from insight.adapters.orm import quality_faults, reports
from insight.adapters.repository import ProjectionRepository
from insight.domain import kpis
from insight.domain.contributions import DIMENSIONS

PERIODS = ("month", "week", "day")


async def kpi_figures(
    *,
    uow: UnitOfWork,
    tenant: str,
    start: date,
    end: date,
    group_by: str | None = None,
    dim: str = "all",
    value: str = "",
) -> dict[str, Any]:
    """The KPIs of [start, end): for one dimension value (default: the whole tenant), or for each
    value of `group_by` (a dimension, or month / week / day)."""
    async with uow:
        repo = ProjectionRepository(uow.session)
        base: dict[str, Any] = {"tenant_id": tenant, "from": start, "to": end}
        if dim != "all":
            base[dim] = value
        if group_by is None:
            return {**base, **kpis.figures(await repo.sums(tenant, start, end, dim, value))}
        if group_by in DIMENSIONS:
            if dim != "all":
                raise Unprocessable("group by a dimension or filter by one, not both")
            groups = await repo.sums_by(tenant, start, end, group_by)
        else:
            groups = await repo.sums_by_day_bucket(tenant, start, end, group_by, dim, value)
    return {**base, "group_by": group_by, "groups": {k: kpis.figures(v) for k, v in groups.items()}}


async def sla_attainment(*, uow: UnitOfWork, tenant: str, start: date, end: date) -> dict[str, Any]:
    async with uow:
        sums = await ProjectionRepository(uow.session).sums(tenant, start, end)
    clocks = kpis.sla(sums)
    figures = kpis.figures(sums)["sla"]
    return {"tenant_id": tenant, "from": start, "to": end, "on_time_rate": figures["on_time_rate"], "sla": clocks}


FAULT_GROUPS = ("product_model", "fault_cause", "part", "production_batch")


async def fault_counts(
    *, uow: UnitOfWork, tenant: str, start: date, end: date, group_by: str, limit: int = 50
) -> list[dict[str, Any]]:
    """Faults (completed repair visits) per model, cause, part or batch, most first, with tickets."""
    q = quality_faults.c
    async with uow:
        rows = await uow.session.execute(
            select(q.key, func.count(), func.count(q.ticket_id.distinct()))
            .where(q.tenant_id == tenant, q.dimension == group_by, q.day >= start, q.day < end)
            .group_by(q.key)
            .order_by(func.count().desc(), q.key)
            .limit(limit)
        )
        return [{"key": k, "faults": n, "tickets": t} for k, n, t in rows.all()]


async def alerts(
    *, uow: UnitOfWork, tenant: str, status: str | None = None, alert_id: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    async with uow:
        await uow.scope_to_tenant(tenant)
        return await quality_store.alerts(uow.session, tenant, status=status, alert_id=alert_id, limit=limit)


async def report_list(*, uow: UnitOfWork, tenant: str, limit: int = 50) -> list[dict[str, Any]]:
    r = reports.c
    async with uow:
        await uow.scope_to_tenant(tenant)
        rows = await uow.session.execute(
            select(r.id, r.tenant_id, r.month, r.trigger, r.generated_at, r.requested_by)
            .where(r.tenant_id == tenant)
            .order_by(r.month.desc(), r.generated_at.desc())
            .limit(limit)
        )
        return [dict(x) for x in rows.mappings()]


async def report(*, uow: UnitOfWork, tenant: str, report_id: str) -> dict[str, Any] | None:
    async with uow:
        await uow.scope_to_tenant(tenant)
        row = (
            (await uow.session.execute(select(reports).where(reports.c.tenant_id == tenant, reports.c.id == report_id)))
            .mappings()
            .first()
        )
        return dict(row) if row else None
