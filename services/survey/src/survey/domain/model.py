"""Survey plans, surveys and their lifecycle, answers, the dissatisfaction rule, revisits.

Pure Python: no I/O. Times are timezone-aware UTC.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from survey.domain.exceptions import (
    AlreadyAnswered,
    IllegalTransition,
    InvalidAnswers,
    SurveyExpired,
    SurveyNotOpen,
)

QUESTIONS: tuple[str, ...] = ("timeliness", "professionalism", "attitude", "effectiveness", "overall")
CHANNELS: tuple[str, ...] = ("sms", "email", "phone")
MAX_COMMENT_CHARS = 2000

# Defaults (docs/domain.md, "Follow-up survey and revisits"); every tenant sets its own plan.
DEFAULT_COMPLAINT_WORDS: tuple[str, ...] = (
    "投诉",
    "不满意",
    "很差",
    "太差",
    "差劲",
    "态度差",
    "敷衍",
    "没修好",
    "还是坏",
    "欺骗",
    "乱收费",
    "complaint",
    "complain",
    "terrible",
    "awful",
    "rude",
    "unacceptable",
    "not fixed",
    "still broken",
    "scam",
)
DEFAULT_PRAISE_WORDS: tuple[str, ...] = (
    "表扬",
    "满意",
    "非常好",
    "很好",
    "专业",
    "耐心",
    "感谢",
    "谢谢",
    "点赞",
    "great",
    "excellent",
    "thank",
    "professional",
    "helpful",
    "friendly",
)


def _norm(text: str) -> str:
    """Case-fold and NFKC-normalise (full-width letters, compatibility forms) for word matching."""
    return unicodedata.normalize("NFKC", text).casefold()


# ------------------------------------------------------------------------------------------------
# Dissatisfaction rule
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DissatisfactionRule:
    """Any question scored <= max_bad_score, an NPS <= max_bad_nps, or a complaint word."""

    max_bad_score: int = 2
    max_bad_nps: int = 6
    complaint_words: tuple[str, ...] = DEFAULT_COMPLAINT_WORDS
    # A complaint word or a score of 1 asks intake for a complaint; otherwise a reopen.
    complaint_score: int = 1

    def reasons(self, answers: Answers) -> list[str]:
        out = [
            f"score:{q}<={self.max_bad_score}"
            for q in QUESTIONS
            if (s := answers.scores.get(q)) is not None and s <= self.max_bad_score
        ]
        if answers.nps is not None and answers.nps <= self.max_bad_nps:
            out.append(f"nps<={self.max_bad_nps}")
        if answers.comment and self.matched_words(answers.comment):
            out.append("complaint_word")
        return out

    def matched_words(self, comment: str) -> list[str]:
        text = _norm(comment)
        return [w for w in self.complaint_words if w and _norm(w) in text]

    def suggested_action(self, answers: Answers) -> str:
        worst = min(answers.scores.values(), default=None)
        if (answers.comment and self.matched_words(answers.comment)) or (
            worst is not None and worst <= self.complaint_score
        ):
            return "complaint"
        return "reopen"


# ------------------------------------------------------------------------------------------------
# Survey plan (per tenant)
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CalendarSpec:
    """Which business calendar the tenant's working days follow (built by the service layer)."""

    country: str = "CN"
    tz: str = "Asia/Shanghai"
    extra_holidays: tuple[date, ...] = ()
    extra_workdays: tuple[date, ...] = ()


@dataclass(frozen=True)
class SurveyPlan:
    tenant_id: str
    delay_working_days: int = 3
    send_time: time = time(10, 0)  # local time of day the survey goes out
    follow_up_major: bool = True
    follow_up_working_days: int = 20  # major issues: surveyed again within a month
    channel: str = "sms"
    questions: tuple[str, ...] = QUESTIONS
    ask_nps: bool = True
    allow_comment: bool = True
    reminder_after_days: tuple[int, ...] = (2,)  # calendar days after sending
    expires_after_days: int = 7  # calendar days after sending
    rule: DissatisfactionRule = field(default_factory=DissatisfactionRule)
    praise_words: tuple[str, ...] = DEFAULT_PRAISE_WORDS
    calendar: CalendarSpec = field(default_factory=CalendarSpec)
    revisit_months_by_grade: tuple[tuple[str, int], ...] = (("A", 6), ("VIP", 6), ("B", 12), ("C", 12))
    revisit_default_months: int = 12

    def __post_init__(self) -> None:
        if not 0 <= self.delay_working_days <= 60:
            raise InvalidAnswers("delay_working_days must be 0..60")
        if self.channel not in CHANNELS:
            raise InvalidAnswers(f"channel must be one of {', '.join(CHANNELS)}")
        if not self.questions or any(q not in QUESTIONS for q in self.questions):
            raise InvalidAnswers(f"questions must be a non-empty subset of {', '.join(QUESTIONS)}")
        if "overall" not in self.questions:
            raise InvalidAnswers("the overall question cannot be left out (CSAT and praise use it)")
        if self.expires_after_days < 1 or any(not 0 < r < self.expires_after_days for r in self.reminder_after_days):
            raise InvalidAnswers("reminders must fall between sending and expiry")

    def revisit_interval_months(self, grade: str | None) -> int:
        return dict(self.revisit_months_by_grade).get((grade or "").upper(), self.revisit_default_months)

    def with_(self, **changes: Any) -> SurveyPlan:
        return replace(self, **changes)


# ------------------------------------------------------------------------------------------------
# Answers
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Answers:
    scores: dict[str, int]
    nps: int | None = None
    comment: str | None = None

    def validate_for(self, plan: SurveyPlan) -> None:
        unknown = set(self.scores) - set(plan.questions)
        if unknown:
            raise InvalidAnswers(f"questions not in this survey: {', '.join(sorted(unknown))}")
        if "overall" not in self.scores:
            raise InvalidAnswers("the overall score is required")
        for q, s in self.scores.items():
            if not isinstance(s, int) or isinstance(s, bool) or not 1 <= s <= 5:
                raise InvalidAnswers(f"{q} must be an integer 1..5")
        if self.nps is not None:
            if not plan.ask_nps:
                raise InvalidAnswers("this survey does not ask for NPS")
            if not isinstance(self.nps, int) or isinstance(self.nps, bool) or not 0 <= self.nps <= 10:
                raise InvalidAnswers("nps must be an integer 0..10")
        if self.comment is not None:
            if not plan.allow_comment:
                raise InvalidAnswers("this survey takes no comment")
            if len(self.comment) > MAX_COMMENT_CHARS:
                raise InvalidAnswers(f"comment is longer than {MAX_COMMENT_CHARS} characters")


@dataclass(frozen=True)
class Verdict:
    reasons: tuple[str, ...]
    suggested_action: str
    praise: bool

    @property
    def dissatisfied(self) -> bool:
        return bool(self.reasons)


def judge(answers: Answers, plan: SurveyPlan) -> Verdict:
    """Dissatisfied by the tenant's rule; praise = top marks (overall 5, nothing below 4) or praise words."""
    reasons = tuple(plan.rule.reasons(answers))
    praise = False
    if not reasons:
        top = answers.scores.get("overall") == 5 and min(answers.scores.values()) >= 4
        worded = bool(answers.comment) and any(_norm(w) in _norm(answers.comment or "") for w in plan.praise_words)
        praise = top or (worded and answers.scores.get("overall", 0) >= 4)
    return Verdict(
        reasons=reasons, suggested_action=plan.rule.suggested_action(answers) if reasons else "none", praise=praise
    )


# ------------------------------------------------------------------------------------------------
# Survey
# ------------------------------------------------------------------------------------------------
class SurveyStatus(StrEnum):
    SCHEDULED = "scheduled"
    SENT = "sent"
    COMPLETED = "completed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


ALLOWED: dict[SurveyStatus, frozenset[SurveyStatus]] = {
    SurveyStatus.SCHEDULED: frozenset({SurveyStatus.SENT, SurveyStatus.CANCELLED, SurveyStatus.EXPIRED}),
    SurveyStatus.SENT: frozenset({SurveyStatus.COMPLETED, SurveyStatus.EXPIRED, SurveyStatus.CANCELLED}),
    SurveyStatus.COMPLETED: frozenset(),
    SurveyStatus.EXPIRED: frozenset(),
    SurveyStatus.CANCELLED: frozenset(),
}


def new_survey_id() -> str:
    return "S-" + uuid.uuid4().hex[:20]


@dataclass
class Survey:
    id: str
    tenant_id: str
    ticket_id: str
    round: str
    channel: str
    due_at: datetime
    expires_at: datetime
    created_at: datetime
    status: SurveyStatus = SurveyStatus.SCHEDULED
    customer_id: str | None = None
    technician_id: str | None = None
    team_id: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    locale: str = "zh-CN"
    major: bool = False
    resolved_at: datetime | None = None
    sent_at: datetime | None = None
    completed_at: datetime | None = None
    reminders_sent: int = 0
    token_nonce: str = field(default_factory=lambda: uuid.uuid4().hex)
    version: int = 1
    # W3C trace context of the ticket.resolved that scheduled the survey: its timers resume it.
    trace_headers: dict[str, str] | None = None

    def _move(self, target: SurveyStatus) -> None:
        if target not in ALLOWED[self.status]:
            raise IllegalTransition(self.status, target, allowed=ALLOWED[self.status])
        self.status = target

    def send(self, *, at: datetime, expires_after: timedelta) -> None:
        self._move(SurveyStatus.SENT)
        self.sent_at = at
        self.expires_at = at + expires_after

    def remind(self, *, at: datetime) -> bool:
        """True if a reminder should go out (still waiting for an answer and not expired)."""
        if self.status is not SurveyStatus.SENT or at >= self.expires_at:
            return False
        self.reminders_sent += 1
        return True

    def check_answerable(self, *, at: datetime) -> None:
        if self.status is SurveyStatus.COMPLETED:
            raise AlreadyAnswered(f"survey {self.id} was answered already")
        if self.status is SurveyStatus.EXPIRED or (self.status is SurveyStatus.SENT and at >= self.expires_at):
            raise SurveyExpired(f"survey {self.id} expired at {self.expires_at.isoformat()}")
        if self.status is not SurveyStatus.SENT:
            raise SurveyNotOpen(f"survey {self.id} is {self.status.value}, not open for answers")

    def complete(self, *, at: datetime) -> None:
        self.check_answerable(at=at)
        self._move(SurveyStatus.COMPLETED)
        self.completed_at = at

    def expire(self, *, at: datetime) -> bool:
        """Expire if still open and past its expiry; False if nothing to do (idempotent)."""
        if self.status not in (SurveyStatus.SCHEDULED, SurveyStatus.SENT) or at < self.expires_at:
            return False
        self._move(SurveyStatus.EXPIRED)
        return True

    def cancel(self) -> bool:
        if self.status not in (SurveyStatus.SCHEDULED, SurveyStatus.SENT):
            return False
        self._move(SurveyStatus.CANCELLED)
        return True


# ------------------------------------------------------------------------------------------------
# Revisits (回访)
# ------------------------------------------------------------------------------------------------
REVISIT_OUTCOMES: tuple[str, ...] = ("reached", "unreachable", "declined")


def add_months(d: date, months: int) -> date:
    """Same day `months` later, clamped to the month's end (31 Aug + 6 = 28/29 Feb)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = (nxt - timedelta(days=1)).day
    return date(year, month, min(d.day, last))


def next_revisit_on(last: date, grade: str | None, plan: SurveyPlan) -> date:
    return add_months(last, plan.revisit_interval_months(grade))


@dataclass
class Revisit:
    id: str
    tenant_id: str
    customer_id: str
    grade: str
    due_on: date
    created_at: datetime
    status: str = "open"  # open | done
    last_ticket_id: str | None = None
    outcome: str | None = None
    satisfied: bool | None = None
    notes: str | None = None
    completed_at: datetime | None = None
    completed_by: str | None = None

    def record(self, *, outcome: str, satisfied: bool | None, notes: str | None, by: str, at: datetime) -> None:
        if self.status != "open":
            raise IllegalTransition(self.status, "done", kind="revisit")
        if outcome not in REVISIT_OUTCOMES:
            raise InvalidAnswers(f"outcome must be one of {', '.join(REVISIT_OUTCOMES)}")
        self.status, self.outcome, self.satisfied, self.notes = "done", outcome, satisfied, notes
        self.completed_at, self.completed_by = at, by


def new_revisit_id() -> str:
    return "R-" + uuid.uuid4().hex[:20]


def choose_channel(preferred: str, *, email: str | None, phone: str | None) -> str:
    """The plan's channel if the customer can be reached on it, else the other link channel,
    else a phone-call task for an agent (who finds the number in intake)."""
    if preferred == "sms" and phone:
        return "sms"
    if preferred == "email" and email:
        return "email"
    if preferred == "phone":
        return "phone"
    if phone:
        return "sms"
    if email:
        return "email"
    return "phone"
