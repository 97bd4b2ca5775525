"""HTTP: the quality loop: fault counts, thresholds, alerts with their evidence, rectification."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from fixflow_shared.access import Access, Authorize
from fixflow_shared.errors import NotFound
from fixflow_shared.problems import problem_responses
from insight import views
from insight.entrypoints.routes.deps import Period, ServicesDep
from insight.service_layer import quality

router = APIRouter(tags=["quality"], prefix="/quality")
Faults = Annotated[Access, Depends(Authorize("quality.faults"))]
RulesRead = Annotated[Access, Depends(Authorize("quality.rules.read"))]
RulesWrite = Annotated[Access, Depends(Authorize("quality.rules.write"))]
AlertsRead = Annotated[Access, Depends(Authorize("quality.alerts.read"))]
AlertsStep = Annotated[Access, Depends(Authorize("quality.alerts.step"))]


class RuleIn(BaseModel):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    dimension: Literal["product_model", "fault_cause", "part", "production_batch", "product_model_fault_cause"]
    threshold: int = Field(ge=1, le=100000)
    window_days: int = Field(30, ge=1, le=366)


class RulesIn(BaseModel):
    rules: list[RuleIn] = Field(max_length=50)


class StepIn(BaseModel):
    step: Literal["root_cause", "plan", "done", "customers_informed", "archived"]
    note: str | None = Field(None, max_length=4000)
    owner: str | None = Field(None, max_length=200)
    due_on: date | None = None
    customers_informed: int | None = Field(None, ge=0, description="how many affected customers were told")


@router.get("/faults")
async def faults(
    principal: Faults,
    svc: ServicesDep,
    when: Period,
    group_by: Literal["product_model", "fault_cause", "part", "production_batch"] = "product_model",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """Faults (completed repair visits) per product model, fault cause, part or production batch."""
    return await views.fault_counts(
        uow=svc.runtime.uow(), tenant=principal.tenant, start=when[0], end=when[1], group_by=group_by, limit=limit
    )


@router.get("/rules")
async def get_rules(principal: RulesRead, svc: ServicesDep) -> dict[str, Any]:
    rules, default = await quality.rules(uow=svc.runtime.uow(), tenant=principal.tenant)
    return {"rules": rules, "default": default}


@router.put("/rules")
async def put_rules(body: RulesIn, principal: RulesWrite, svc: ServicesDep) -> dict[str, Any]:
    """The tenant's thresholds; they apply to faults projected from now on."""
    rules = await quality.put_rules(
        uow=svc.runtime.uow(), tenant=principal.tenant, rules=[r.model_dump() for r in body.rules], by=principal.subject
    )
    return {"rules": rules, "default": False}


@router.get("/alerts")
async def list_alerts(
    principal: AlertsRead,
    svc: ServicesDep,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Alerts, newest first, each with its evidence (ticket ids) and its rectification steps."""
    return await views.alerts(uow=svc.runtime.uow(), tenant=principal.tenant, status=status, limit=limit)


@router.get("/alerts/{alert_id}", responses=problem_responses(404))
async def get_alert(alert_id: str, principal: AlertsRead, svc: ServicesDep) -> dict[str, Any]:
    found = await views.alerts(uow=svc.runtime.uow(), tenant=principal.tenant, alert_id=alert_id, limit=1)
    if not found:
        raise NotFound("alert", alert_id)
    return found[0]


@router.post("/alerts/{alert_id}/steps", responses=problem_responses(404, 409))
async def record_step(alert_id: str, body: StepIn, principal: AlertsStep, svc: ServicesDep) -> dict[str, Any]:
    """The next rectification step: root_cause, plan (owner and due date), done,
    customers_informed, archived; each recorded with who and when."""
    return await quality.record_step(
        uow=svc.runtime.uow(),
        tenant=principal.tenant,
        alert_id=alert_id,
        step=body.step,
        note=body.note,
        owner=body.owner,
        due_on=body.due_on,
        customers_informed=body.customers_informed,
        by=principal.subject,
    )
