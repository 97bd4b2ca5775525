"""Dependencies shared by the routers, and the mapping of domain errors to problem+json."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from fixflow_shared.problems import Problem, conflict, not_found
from survey.domain import exceptions as ex
from survey.service_layer.wiring import Services


async def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(services)]


def to_problem(exc: ex.DomainError) -> Problem:
    if isinstance(exc, ex.NotFound):
        return not_found(exc.what, exc.ident)
    if isinstance(exc, ex.InvalidToken):
        return Problem(401, "Invalid answer link", str(exc), type_="urn:fixflow:problem:invalid-answer-link")
    if isinstance(exc, ex.SurveyExpired):
        return Problem(410, "Survey expired", str(exc), type_="urn:fixflow:problem:survey-expired")
    if isinstance(exc, ex.AlreadyAnswered):
        return conflict(str(exc), reason="already_answered")
    if isinstance(exc, ex.SurveyNotOpen | ex.IllegalTransition):
        return conflict(str(exc))
    if isinstance(exc, ex.InvalidAnswers):
        return Problem(422, "Rule violated", str(exc), type_="urn:fixflow:problem:rule-violated")
    return Problem(422, "Rule violated", str(exc), type_="urn:fixflow:problem:rule-violated")
