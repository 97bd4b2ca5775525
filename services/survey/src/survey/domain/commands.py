"""Commands: what a caller asks survey to do (imperative names)."""

from __future__ import annotations

from dataclasses import dataclass

from survey.domain.model import Answers


@dataclass(frozen=True)
class AnswerSurvey:
    """The customer's answers through the public link (token) or an agent's phone call."""

    answers: Answers
    token: str | None = None
    tenant_id: str | None = None
    survey_id: str | None = None
    via: str = "link"


@dataclass(frozen=True)
class RecordRevisitOutcome:
    tenant_id: str
    revisit_id: str
    outcome: str
    satisfied: bool | None
    notes: str | None
    by: str


@dataclass(frozen=True)
class SetCustomerGrade:
    tenant_id: str
    customer_id: str
    grade: str
