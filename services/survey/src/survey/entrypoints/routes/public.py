"""HTTP: the public answer link (no login). The signed single-use token is the only credential.

Every refusal is problem+json and writes nothing: forged/altered token 401, unknown survey 404,
expired 410, already answered 409, out-of-range score / unknown question / oversized text 422, and
429 past the rate limit (per tenant and client address, and per client: guessing tokens is slow).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status

from fixflow_shared.problems import problem_responses
from fixflow_shared.ratelimit import RateLimiter
from survey.domain.commands import AnswerSurvey
from survey.domain.exceptions import InvalidToken
from survey.entrypoints.routes.deps import ServicesDep
from survey.entrypoints.routes.schemas import AnswerAccepted, AnswerCreate, PublicSurveyRead
from survey.service_layer import handlers


async def rate_limited(request: Request, token: str, svc: ServicesDep) -> None:
    settings = svc.runtime.settings
    try:
        tenant = svc.links.signer.verify(token).tenant_id
    except InvalidToken:
        tenant = "-"  # forged or altered: counted together, and per client below
    client = request.client.host if request.client else "-"
    await RateLimiter(svc.runtime.redis, "survey-public").check(
        [
            (f"{tenant}:{client}", settings.public_rate_per_minute),  # type: ignore[attr-defined]
            (f"*:{client}", settings.public_rate_per_client_per_minute),  # type: ignore[attr-defined]
        ]
    )


router = APIRouter(
    prefix="/public/surveys", tags=["public"], dependencies=[Depends(rate_limited)], responses=problem_responses(429)
)


@router.get("/{token}", response_model=PublicSurveyRead, responses=problem_responses(401, 404, 409, 410))
async def read_public_survey(token: str, svc: ServicesDep) -> PublicSurveyRead:
    s, plan = await handlers.check_token(uow=svc.runtime.uow(), token=token, links=svc.links)
    return PublicSurveyRead(
        survey_id=s.id,
        questions=list(plan.questions),
        ask_nps=plan.ask_nps,
        allow_comment=plan.allow_comment,
        expires_at=s.expires_at,
        locale=s.locale,
    )


@router.post(
    "/{token}/answers",
    status_code=status.HTTP_201_CREATED,
    response_model=AnswerAccepted,
    responses=problem_responses(401, 404, 409, 410),
)
async def answer_public_survey(token: str, body: AnswerCreate, svc: ServicesDep) -> AnswerAccepted:
    s, _ = await handlers.answer_survey(
        uow=svc.runtime.uow(), cmd=AnswerSurvey(answers=body.to_domain(), token=token, via="link"), links=svc.links
    )
    thanks = "感谢您的评价！" if s.locale.startswith("zh") else "Thank you for your feedback!"
    return AnswerAccepted(survey_id=s.id, status=s.status.value, thank_you=thanks)
