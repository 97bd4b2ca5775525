"""HTTP: surveys for agents (read, phone answers) and the tenant's survey plan (managers)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status

from fixflow_shared.access import Access, Authorize
from fixflow_shared.errors import NotFound
from fixflow_shared.fields import When
from fixflow_shared.problems import problem_responses
from survey import views
from survey.adapters.repository import plan_from_config
from survey.domain.commands import AnswerSurvey
from survey.domain.scheduling import check_calendar
from survey.entrypoints.routes.deps import ServicesDep, survey_owner
from survey.entrypoints.routes.schemas import AnswerAccepted, AnswerCreate, PlanModel, SurveyRead
from survey.service_layer import handlers

router = APIRouter(tags=["surveys"])

SurveysList = Annotated[Access, Depends(Authorize("surveys.list"))]
SurveysRead = Annotated[Access, Depends(Authorize("surveys.read", owner=survey_owner, what="survey"))]
RecordAnswers = Annotated[Access, Depends(Authorize("surveys.record_answers"))]
PlanRead = Annotated[Access, Depends(Authorize("survey_plan.read"))]
PlanWrite = Annotated[Access, Depends(Authorize("survey_plan.write"))]
SurveyState = Literal["scheduled", "sent", "completed", "expired", "cancelled"]


@router.get("/surveys", response_model=list[SurveyRead])
async def list_surveys(
    principal: SurveysList,
    svc: ServicesDep,
    ticket_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    status_: Annotated[list[SurveyState] | None, Query(alias="status")] = None,
    due_before: When | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SurveyRead]:
    """A ticket's surveys (`ticket_id`), or the follow-up work list: surveys in `status` (default
    scheduled and sent) due before `due_before`, earliest first. A customer sees its own only."""
    own = principal.customer_scope
    if ticket_id is not None:
        found = await views.surveys_for_ticket(uow=svc.runtime.uow(), tenant_id=principal.tenant, ticket_id=ticket_id)
    else:
        found = await views.survey_work_list(
            uow=svc.runtime.uow(),
            tenant_id=principal.tenant,
            statuses=list(status_ or ["scheduled", "sent"]),
            due_before=due_before,
            limit=limit,
            customer_id=own,
        )
    return [SurveyRead.of(s) for s in found if own is None or s.customer_id == own]


@router.get("/surveys/{survey_id}", response_model=SurveyRead, responses=problem_responses(404))
async def read_survey(survey_id: str, principal: SurveysRead, svc: ServicesDep) -> SurveyRead:
    got = await views.get_survey(uow=svc.runtime.uow(), tenant_id=principal.tenant, survey_id=survey_id)
    if got is None:
        raise NotFound("survey", survey_id)
    return SurveyRead.of(*got)


@router.post(
    "/surveys/{survey_id}/answers",
    status_code=status.HTTP_201_CREATED,
    response_model=AnswerAccepted,
    responses=problem_responses(404, 409, 410),
)
async def record_phone_answers(
    survey_id: str, body: AnswerCreate, principal: RecordAnswers, svc: ServicesDep
) -> AnswerAccepted:
    """An agent records the answers given on a follow-up call (phone channel)."""
    s, _ = await handlers.answer_survey(
        uow=svc.runtime.uow(),
        cmd=AnswerSurvey(answers=body.to_domain(), tenant_id=principal.tenant, survey_id=survey_id, via="phone"),
        links=svc.links,
    )
    return AnswerAccepted(survey_id=s.id, status=s.status.value, thank_you="recorded")


@router.get("/survey-plan", response_model=PlanModel)
async def read_plan(principal: PlanRead, svc: ServicesDep) -> PlanModel:
    return PlanModel.of(await views.get_plan(uow=svc.runtime.uow(), tenant_id=principal.tenant))


@router.put("/survey-plan", response_model=PlanModel)
async def put_plan(body: PlanModel, principal: PlanWrite, svc: ServicesDep) -> PlanModel:
    plan = plan_from_config(principal.tenant, body.model_dump(mode="json"))
    check_calendar(plan.calendar, svc.runtime.clock.now())
    await handlers.put_plan(uow=svc.runtime.uow(), plan=plan, by=principal.subject)
    return PlanModel.of(plan)
