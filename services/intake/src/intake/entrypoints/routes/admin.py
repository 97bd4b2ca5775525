"""HTTP: /v1/settings (tenant rules) and /v1/kpis."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from fixflow_shared.access import Access, Authorize
from fixflow_shared.errors import NotFound, Unprocessable
from fixflow_shared.fields import When
from fixflow_shared.problems import problem_responses
from intake import views
from intake.entrypoints.routes.common import DepsDep, RuntimeDep
from intake.entrypoints.routes.settings_models import SettingsBody
from intake.service_layer import directory

router = APIRouter(tags=["admin"])
SettingsWrite = Annotated[Access, Depends(Authorize("intake.settings.write"))]
SettingsRead = Annotated[Access, Depends(Authorize("intake.settings.read"))]
Kpis = Annotated[Access, Depends(Authorize("intake.kpis"))]
KnowledgeBase = Annotated[Access, Depends(Authorize("knowledge_base.read"))]
SlaClocks = Annotated[Access, Depends(Authorize("tickets.sla_clocks"))]


@router.put("/settings")
async def put_settings(body: SettingsBody, principal: SettingsWrite, rt: RuntimeDep, deps: DepsDep) -> dict[str, Any]:
    cfg = body.config()
    await directory.put_settings(uow=rt.uow(), deps=deps, tenant_id=principal.tenant, config=cfg)
    return cfg


@router.get("/settings")
async def get_settings(principal: SettingsRead, rt: RuntimeDep) -> dict[str, Any]:
    return await views.get_settings(uow=rt.uow(), tenant_id=principal.tenant)


@router.get("/kpis")
async def kpis(principal: Kpis, rt: RuntimeDep, start: When | None = None, end: When | None = None) -> dict[str, Any]:
    end = end or rt.clock.now() + timedelta(seconds=1)
    start = start or end - timedelta(days=30)
    if start >= end or end - start > timedelta(days=400):
        raise Unprocessable("period must be positive and at most 400 days")
    return await views.kpis(uow=rt.uow(), tenant_id=principal.tenant, start=start, end=end)


@router.get("/knowledge-base/{article_id}", responses=problem_responses(404))
async def knowledge_article(article_id: str, principal: KnowledgeBase, rt: RuntimeDep, deps: DepsDep) -> dict[str, Any]:
    """A knowledge-base article (a ticket's `suggested_fix`): its fix steps, for the agent to read out."""
    article = await directory.knowledge_article(
        uow=rt.uow(), deps=deps, tenant_id=principal.tenant, article_id=article_id
    )
    if article is None:
        raise NotFound("knowledge-base article", article_id)
    return article


@router.get("/sla-clocks")
async def sla_clocks(
    principal: SlaClocks,
    rt: RuntimeDep,
    ticket_id: Annotated[list[Annotated[str, Query(min_length=1, max_length=40)]], Query(min_length=1, max_length=100)],
) -> dict[str, Any]:
    """The SLA clocks of up to 100 tickets (a page of a ticket list): due time, at risk, breached,
    paused, stopped and met, per clock and round. A customer gets its own tickets' clocks only."""
    rows = await views.sla_clocks_of(
        uow=rt.uow(),
        tenant_id=principal.tenant,
        ticket_ids=list(dict.fromkeys(ticket_id)),
        customer_id=principal.customer_scope,
    )
    return {
        "items": [
            {
                "ticket_id": r["ticket_id"],
                "name": r["name"],
                "round": r["round"],
                "started_at": r["started_at"],
                "due_at": r["due_at"],
                "paused": r["paused_since"] is not None,
                "stopped_at": r["stopped_at"],
                "at_risk": r["at_risk_raised"],
                "breached": r["breached_raised"],
                "met": r["met"],
            }
            for r in rows
        ]
    }
