"""Read side: queries that answer the API directly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fixflow_shared.uow import UnitOfWork
from survey.adapters.repository import PlanRepository, RevisitRepository, SurveyRepository
from survey.domain import reports
from survey.domain.model import Revisit, Survey, SurveyPlan


async def get_plan(*, uow: UnitOfWork, tenant_id: str) -> SurveyPlan:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await PlanRepository(uow.session).get(tenant_id)


async def get_survey(*, uow: UnitOfWork, tenant_id: str, survey_id: str) -> tuple[Survey, dict[str, Any] | None] | None:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = SurveyRepository(uow.session)
        s = await repo.get(tenant_id, survey_id)
        return None if s is None else (s, await repo.response(tenant_id, survey_id))


async def surveys_for_ticket(*, uow: UnitOfWork, tenant_id: str, ticket_id: str) -> list[Survey]:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await SurveyRepository(uow.session).for_ticket(tenant_id, ticket_id)


async def survey_work_list(
    *,
    uow: UnitOfWork,
    tenant_id: str,
    statuses: list[str],
    due_before: datetime | None,
    limit: int,
    customer_id: str | None = None,
) -> list[Survey]:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await SurveyRepository(uow.session).work_list(
            tenant_id, statuses=statuses, due_before=due_before, limit=limit, customer_id=customer_id
        )


async def satisfaction(
    *, uow: UnitOfWork, tenant_id: str, group_by: str, since: datetime | None, until: datetime | None
) -> list[dict[str, object]]:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        plan = await PlanRepository(uow.session).get(tenant_id)
        facts = await SurveyRepository(uow.session).facts(tenant_id, since=since, until=until)
    return reports.figures(facts, group_by=group_by, tz=plan.calendar.tz)


async def praise_log(*, uow: UnitOfWork, tenant_id: str, technician_id: str | None, limit: int) -> list[dict[str, Any]]:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await SurveyRepository(uow.session).praise_log(tenant_id, technician_id=technician_id, limit=limit)


async def revisits(*, uow: UnitOfWork, tenant_id: str, status: str | None, limit: int) -> list[Revisit]:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await RevisitRepository(uow.session).list(tenant_id, status=status, limit=limit)
