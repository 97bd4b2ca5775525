"""Events published by the survey service on fixflow.survey.surveys (key = ticket id).

Flow: survey.scheduled -> survey.sent (notify delivers it) -> survey.completed | survey.expired;
a completed survey that breaks the tenant's dissatisfaction rule also yields
dissatisfaction.reported (intake reopens the ticket or opens a complaint). revisit.due asks an
agent to call a customer (periodic 回访 by customer grade); its subject/key is the revisit id,
since a revisit belongs to a customer, not to a ticket.

Contact fields are only in survey.sent, because notify has to deliver the link; other events
carry ids only. They are passed on as intake sent them (E.164 phone, normalised e-mail).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from fixflow_shared import topics
from fixflow_shared.events.registry import Event, TicketEvent, event

# sms / email: notify delivers the answer link; phone: a call task for an agent (no delivery).
SurveyChannel = Literal["sms", "email", "phone"]
SurveyRound = Literal["initial", "follow_up"]
Question = Literal["timeliness", "professionalism", "attitude", "effectiveness", "overall"]


@event("fixflow.survey.survey.scheduled.v1", topic=topics.SURVEY_SURVEYS)
class SurveyScheduled(TicketEvent):
    survey_id: str
    ticket_id: str
    tenant_id: str
    round: SurveyRound = "initial"
    channel: SurveyChannel
    due_at: datetime = Field(description="when the survey goes out (N working days after resolution)")
    expires_at: datetime
    scheduled_at: datetime


@event("fixflow.survey.survey.sent.v1", topic=topics.SURVEY_SURVEYS)
class SurveySent(TicketEvent):
    survey_id: str
    ticket_id: str
    tenant_id: str
    channel: SurveyChannel
    answer_url: str = Field(description="public link with the signed single-use token; no login")
    token_expires_at: datetime
    customer_id: str | None = None
    # What notify needs to reach the customer (absent for the phone channel if unknown).
    contact_email: str | None = None
    contact_phone: str | None = None
    locale: str = "zh-CN"
    reminder: int = Field(0, description="0 = first sending, 1.. = reminders")
    sent_at: datetime


@event("fixflow.survey.survey.completed.v1", topic=topics.SURVEY_SURVEYS)
class SurveyCompleted(TicketEvent):
    survey_id: str
    ticket_id: str
    tenant_id: str
    customer_id: str | None = None
    technician_id: str | None = None
    team_id: str | None = None
    scores: dict[Question, int] = Field(description="1..5 per answered question")
    nps: int | None = Field(None, ge=0, le=10)
    has_comment: bool = False
    satisfied: bool
    praise: bool = False
    completed_at: datetime


@event("fixflow.survey.survey.expired.v1", topic=topics.SURVEY_SURVEYS)
class SurveyExpired(TicketEvent):
    survey_id: str
    ticket_id: str
    tenant_id: str
    expired_at: datetime


@event("fixflow.survey.dissatisfaction.reported.v1", topic=topics.SURVEY_SURVEYS)
class DissatisfactionReported(TicketEvent):
    survey_id: str
    ticket_id: str
    tenant_id: str
    customer_id: str | None = None
    technician_id: str | None = None
    reasons: list[str] = Field(description="e.g. score:attitude<=2, nps<=6, complaint_word")
    lowest_score: int | None = None
    nps: int | None = None
    comment: str | None = Field(None, max_length=2000, description="the customer's own words (for the complaint)")
    suggested_action: Literal["reopen", "complaint"] = "reopen"
    reported_at: datetime


@event("fixflow.survey.revisit.due.v1", topic=topics.SURVEY_SURVEYS)
class RevisitDue(Event):
    revisit_id: str
    tenant_id: str
    customer_id: str
    grade: str = Field(description="customer grade, e.g. A (key) / B / C")
    due_on: date
    last_ticket_id: str | None = None


@event("fixflow.survey.revisit.completed.v1", topic=topics.SURVEY_SURVEYS)
class RevisitCompleted(Event):
    """An agent recorded the outcome of a periodic revisit (subject/key = revisit id)."""

    revisit_id: str
    tenant_id: str
    customer_id: str
    due_on: date
    outcome: str = Field(description="reached | unreachable | declined | ...")
    satisfied: bool | None = None
    completed_at: datetime
