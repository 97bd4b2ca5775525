"""Request and response models of the HTTP API (strict: bad input is a 4xx, never a 500)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from fixflow_shared.fields import Day, LocalTime
from survey.domain.model import MAX_COMMENT_CHARS, Answers, Revisit, Survey, SurveyPlan

QuestionName = Literal["timeliness", "professionalism", "attitude", "effectiveness", "overall"]
Score = Annotated[int, Field(strict=True, ge=1, le=5)]
Nps = Annotated[int, Field(strict=True, ge=0, le=10)]


class AnswerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scores: dict[QuestionName, Score] = Field(min_length=1, description="1..5 per question; overall is required")
    nps: Nps | None = None
    comment: str | None = Field(None, max_length=MAX_COMMENT_CHARS)

    def to_domain(self) -> Answers:
        return Answers(scores={str(q): s for q, s in self.scores.items()}, nps=self.nps, comment=self.comment or None)


class AnswerAccepted(BaseModel):
    survey_id: str
    status: str
    thank_you: str


class PublicSurveyRead(BaseModel):
    survey_id: str
    questions: list[str]
    ask_nps: bool
    allow_comment: bool
    max_comment_chars: int = MAX_COMMENT_CHARS
    expires_at: datetime
    locale: str


class SurveyRead(BaseModel):
    id: str
    ticket_id: str
    round: str
    channel: str
    status: str
    due_at: datetime
    expires_at: datetime
    sent_at: datetime | None
    completed_at: datetime | None
    reminders_sent: int
    technician_id: str | None
    team_id: str | None
    customer_id: str | None = None
    major: bool = False
    response: dict[str, Any] | None = None

    @classmethod
    def of(cls, s: Survey, response: dict[str, Any] | None = None) -> SurveyRead:
        return cls(
            id=s.id,
            ticket_id=s.ticket_id,
            round=s.round,
            channel=s.channel,
            status=s.status.value,
            due_at=s.due_at,
            expires_at=s.expires_at,
            sent_at=s.sent_at,
            completed_at=s.completed_at,
            reminders_sent=s.reminders_sent,
            technician_id=s.technician_id,
            team_id=s.team_id,
            customer_id=s.customer_id,
            major=s.major,
            response=response,
        )


class RuleModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_bad_score: int = Field(2, ge=1, le=5)
    max_bad_nps: int = Field(6, ge=-1, le=10)
    complaint_words: list[Annotated[str, Field(min_length=1, max_length=50)]] | None = Field(None, max_length=500)
    complaint_score: int = Field(1, ge=0, le=5)


class CalendarModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    country: str = Field("CN", pattern=r"^[A-Z]{2}$")
    tz: str = Field("Asia/Shanghai", max_length=64)
    extra_holidays: list[Day] = Field(default_factory=list, max_length=400)
    extra_workdays: list[Day] = Field(default_factory=list, max_length=400)


class PlanModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delay_working_days: int = Field(3, ge=0, le=60)
    send_time: LocalTime = time(10, 0)
    follow_up_major: bool = True
    follow_up_working_days: int = Field(20, ge=1, le=60)
    channel: Literal["sms", "email", "phone"] = "sms"
    questions: list[QuestionName] = Field(default_factory=lambda: list(get_args(QuestionName)), min_length=1)
    ask_nps: bool = True
    allow_comment: bool = True
    reminder_after_days: list[Annotated[int, Field(ge=1, le=60)]] = Field(default_factory=lambda: [2], max_length=5)
    expires_after_days: int = Field(7, ge=1, le=90)
    rule: RuleModel = Field(default_factory=RuleModel)
    praise_words: list[Annotated[str, Field(min_length=1, max_length=50)]] | None = Field(None, max_length=500)
    calendar: CalendarModel = Field(default_factory=CalendarModel)
    revisit_months_by_grade: dict[
        Annotated[str, Field(pattern=r"^[A-Z]{1,4}$")], Annotated[int, Field(ge=1, le=60)]
    ] = Field(default_factory=lambda: {"A": 6, "VIP": 6, "B": 12, "C": 12}, max_length=10)
    revisit_default_months: int = Field(12, ge=1, le=60)

    @classmethod
    def of(cls, p: SurveyPlan) -> PlanModel:
        from survey.adapters.repository import plan_to_config

        return cls.model_validate(plan_to_config(p))


class RevisitRead(BaseModel):
    id: str
    customer_id: str
    grade: str
    due_on: date
    status: str
    last_ticket_id: str | None
    outcome: str | None
    satisfied: bool | None
    notes: str | None
    completed_at: datetime | None

    @classmethod
    def of(cls, r: Revisit) -> RevisitRead:
        return cls(
            id=r.id,
            customer_id=r.customer_id,
            grade=r.grade,
            due_on=r.due_on,
            status=r.status,
            last_ticket_id=r.last_ticket_id,
            outcome=r.outcome,
            satisfied=r.satisfied,
            notes=r.notes,
            completed_at=r.completed_at,
        )


class RevisitOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["reached", "unreachable", "declined"]
    satisfied: bool | None = None
    notes: str | None = Field(None, max_length=MAX_COMMENT_CHARS)


class GradeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grade: str = Field(pattern=r"^[A-Za-z]{1,4}$")
