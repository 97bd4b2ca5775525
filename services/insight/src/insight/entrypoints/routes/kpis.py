"""HTTP: KPIs and SLA attainment per tenant, period, team, technician, region and product model."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from fixflow_shared.access import Access, Authorize
from fixflow_shared.errors import Unprocessable
from insight import views
from insight.entrypoints.routes.deps import Period, ServicesDep

router = APIRouter(tags=["kpis"])
Kpis = Annotated[Access, Depends(Authorize("insight.kpis"))]

GroupBy = Literal["team", "technician", "region", "product_model", "channel", "kind", "month", "week", "day"]


@router.get("/kpis")
async def kpis(
    principal: Kpis,
    svc: ServicesDep,
    when: Period,
    group_by: GroupBy | None = None,
    team: Annotated[str | None, Query(max_length=120)] = None,
    technician: Annotated[str | None, Query(max_length=120)] = None,
    region: Annotated[str | None, Query(max_length=120)] = None,
    product_model: Annotated[str | None, Query(max_length=120)] = None,
) -> dict[str, Any]:
    """Every KPI of docs/kpis.md for the period, for the whole tenant or one team, technician,
    region or product model; `group_by` gives them per value of a dimension or per month/week/day."""
    filters = {
        k: v
        for k, v in {"team": team, "technician": technician, "region": region, "product_model": product_model}.items()
        if v
    }
    if len(filters) > 1:
        raise Unprocessable("filter by one dimension at a time")
    dim, value = next(iter(filters.items()), ("all", ""))
    return await views.kpi_figures(
        uow=svc.runtime.uow(),
        tenant=principal.tenant,
        start=when[0],
        end=when[1],
        group_by=group_by,
        dim=dim,
        value=value,
    )


@router.get("/sla")
async def sla(principal: Kpis, svc: ServicesDep, when: Period) -> dict[str, Any]:
    """SLA attainment per clock, recomputed from intake's clock verdicts (clocks started in the period)."""
    return await views.sla_attainment(uow=svc.runtime.uow(), tenant=principal.tenant, start=when[0], end=when[1])
