"""Use cases: load, ask the domain, save with the events in one unit of work.

Handlers that create or move due timers write the durable timer rows in the same transaction and
return `(timer_id, due_at)` pairs; the caller adds them to the Redis wheel after the commit (if
that is lost, the timer loop's re-seed from the rows catches up).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fixflow_shared.consumer import PermanentError
from fixflow_shared.events import Envelope
from fixflow_shared.events.contracts.intake import TicketResolved
from fixflow_shared.events.contracts.survey import (
    DissatisfactionReported,
    RevisitCompleted,
    RevisitDue,
    SurveyCompleted,
    SurveyScheduled,
    SurveySent,
)
from fixflow_shared.events.contracts.survey import SurveyExpired as SurveyExpiredEvent
from fixflow_shared.tracing import continue_trace, current_trace_headers, within_trace
from fixflow_shared.uow import UnitOfWork
from survey.adapters.repository import PlanRepository, RevisitRepository, SurveyRepository, TimerRepository
from survey.domain import scheduling
from survey.domain.commands import AnswerSurvey, RecordRevisitOutcome, SetCustomerGrade
from survey.domain.exceptions import InvalidToken, NotFound, SurveyExpired
from survey.domain.model import (
    Revisit,
    Survey,
    SurveyPlan,
    SurveyStatus,
    Verdict,
    choose_channel,
    judge,
    new_revisit_id,
    new_survey_id,
    next_revisit_on,
)
from survey.domain.tokens import TokenClaims, TokenSigner

Timers = list[tuple[str, datetime]]
DEFAULT_GRADE = "C"


@dataclass(frozen=True)
class Links:
    """How answer links are made: the signer and the public base URL the token is appended to."""

    signer: TokenSigner
    answer_url_base: str

    def token(self, s: Survey) -> str:
        return self.signer.sign(
            TokenClaims(survey_id=s.id, tenant_id=s.tenant_id, nonce=s.token_nonce, expires_at=s.expires_at)
        )

    def url(self, token: str) -> str:
        return self.answer_url_base + token


# --- ticket.resolved -> surveys scheduled (+ the customer's revisit cadence) ----------------------
async def schedule_for_resolution(*, uow: UnitOfWork, envelope: Envelope, event: TicketResolved) -> Timers:
    if event.tenant_id != envelope.tenantid:
        raise PermanentError("payload tenant differs from the envelope's tenant")
    tenant = envelope.tenantid
    now = uow.clock.now()
    timers: Timers = []
    async with uow:
        await uow.scope_to_tenant(tenant)
        if not await uow.claim("survey.ticket_resolved", envelope):
            return []
        plan = await PlanRepository(uow.session).get(tenant)
        rounds = [("initial", scheduling.due_at(event.resolved_at, plan))]
        if event.major and plan.follow_up_major:
            rounds.append(("follow_up", scheduling.follow_up_due_at(event.resolved_at, plan)))
        repo, trepo = SurveyRepository(uow.session), TimerRepository(uow.session)
        channel = choose_channel(plan.channel, email=event.contact_email, phone=event.contact_phone)
        new_timers: list[dict[str, Any]] = []  # written together at the end (one round trip)
        for round_, due in rounds:
            s = Survey(
                id=new_survey_id(),
                tenant_id=tenant,
                ticket_id=event.ticket_id,
                round=round_,
                channel=channel,
                due_at=due,
                expires_at=due + scheduling.expiry_after_sending(plan),
                created_at=now,
                customer_id=event.customer_id,
                technician_id=event.technician_id,
                team_id=event.team_id,
                contact_email=event.contact_email,
                contact_phone=event.contact_phone,
                locale=event.locale,
                major=event.major,
                resolved_at=event.resolved_at,
                trace_headers=current_trace_headers() or envelope.trace_headers or None,
            )
            await repo.add(s)
            new_timers.append(dict(timer_id=f"send:{s.id}", tenant_id=tenant, kind="send", ref_id=s.id, due_at=due))
            uow.emit(
                SurveyScheduled(
                    survey_id=s.id,
                    ticket_id=s.ticket_id,
                    tenant_id=tenant,
                    round=round_,  # type: ignore[arg-type]
                    channel=channel,
                    due_at=due,
                    expires_at=s.expires_at,
                    scheduled_at=now,
                ),  # type: ignore[arg-type]
                subject=s.ticket_id,
                tenant=tenant,
                causation=envelope,
            )
        if event.customer_id:
            new_timers.append(
                await _track_customer_timer(
                    uow,
                    plan,
                    customer_id=event.customer_id,
                    grade=event.customer_grade,
                    ticket_id=event.ticket_id,
                    at=now,
                )
            )
        timers += await trepo.put_many(new_timers)
        await uow.commit()
    return timers


async def _track_customer(
    uow: UnitOfWork, plan: SurveyPlan, *, customer_id: str, grade: str | None, ticket_id: str | None, at: datetime
) -> Timers:
    """Keep the customer's grade and next revisit date; a better grade brings the revisit forward."""
    timer = await _track_customer_timer(uow, plan, customer_id=customer_id, grade=grade, ticket_id=ticket_id, at=at)
    return await TimerRepository(uow.session).put_many([timer])


async def _track_customer_timer(
    uow: UnitOfWork, plan: SurveyPlan, *, customer_id: str, grade: str | None, ticket_id: str | None, at: datetime
) -> dict[str, Any]:
    """`_track_customer` without writing the revisit timer: the caller puts it (with others)."""
    rrepo = RevisitRepository(uow.session)
    cur = await rrepo.customer(plan.tenant_id, customer_id, for_update=True)
    new_grade = (grade or (cur["grade"] if cur else DEFAULT_GRADE)).upper()
    cal = scheduling.calendar_for(plan.calendar, at)
    today = cal.local_date(at)
    nxt = next_revisit_on(today, new_grade, plan)
    if cur is not None:
        nxt = min(cur["next_revisit_on"], nxt)
    await rrepo.upsert_customer(
        plan.tenant_id, customer_id, grade=new_grade, next_revisit_on=nxt, last_ticket_id=ticket_id, at=at
    )
    due = scheduling.send_time_on(nxt, plan, cal)
    tid = f"revisit:{plan.tenant_id}:{customer_id}"
    return dict(timer_id=tid, tenant_id=plan.tenant_id, kind="revisit", ref_id=customer_id, due_at=due)


async def set_customer_grade(*, uow: UnitOfWork, cmd: SetCustomerGrade) -> Timers:
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        plan = await PlanRepository(uow.session).get(cmd.tenant_id)
        timers = await _track_customer(
            uow, plan, customer_id=cmd.customer_id, grade=cmd.grade, ticket_id=None, at=uow.clock.now()
        )
        await uow.commit()
    return timers


async def cancel_for_ticket(*, uow: UnitOfWork, envelope: Envelope, ticket_id: str, consumer: str) -> list[str]:
    """Reopened or cancelled ticket: surveys not yet sent are cancelled (a new resolution schedules anew)."""
    tenant = envelope.tenantid
    cancelled: list[str] = []
    async with uow:
        await uow.scope_to_tenant(tenant)
        if not await uow.claim(consumer, envelope):
            return []
        repo, trepo = SurveyRepository(uow.session), TimerRepository(uow.session)
        for s in await repo.for_ticket(tenant, ticket_id, for_update=True):
            if s.status is SurveyStatus.SCHEDULED and s.cancel():
                await repo.save(s)
                cancelled += await trepo.done_for(s.id, uow.clock.now())
        await uow.commit()
    return cancelled


# --- due timers -----------------------------------------------------------------------------------
async def fire_timer(*, uow: UnitOfWork, timer_id: str, links: Links) -> Timers:
    """Idempotent: re-checks the durable row; a fired, cancelled or moved timer does nothing."""
    now = uow.clock.now()
    async with uow:
        trepo = TimerRepository(uow.session)
        # marked fired first: a periodic timer may put its row back for the next period
        row = await trepo.fire(timer_id, now, not_after=now + timedelta(seconds=1))
        if row is None:  # not due (moved later), fired, cancelled, or held by another replica
            row = await trepo.claim(timer_id)
            if row is None:
                return []
            if row["due_at"] > now + timedelta(seconds=1):
                return [(timer_id, row["due_at"])]  # moved later: back on the wheel at its new time
            await trepo.done(timer_id, now)
        tenant = row["tenant_id"]
        await uow.scope_to_tenant(tenant)
        kind = row["kind"]
        if kind == "revisit":
            timers = await _revisit_due(uow, tenant, row["ref_id"], now)
        else:
            timers = await _survey_timer(uow, kind, tenant, row["ref_id"], links, now)
        await uow.commit()
    return timers


async def _survey_timer(uow: UnitOfWork, kind: str, tenant: str, survey_id: str, links: Links, now: datetime) -> Timers:
    repo = SurveyRepository(uow.session)
    s = await repo.get(tenant, survey_id, for_update=True)
    if s is None:
        return []
    with continue_trace(s.trace_headers, f"survey.{kind}", **{"fixflow.ticket_id": s.ticket_id}):
        return await _survey_step(uow, kind, tenant, s, links, now)


async def _survey_step(uow: UnitOfWork, kind: str, tenant: str, s: Survey, links: Links, now: datetime) -> Timers:
    repo, trepo = SurveyRepository(uow.session), TimerRepository(uow.session)
    plan = await PlanRepository(uow.session).get(tenant)
    timers: Timers = []
    if kind == "send" and s.status is SurveyStatus.SCHEDULED:
        s.send(at=now, expires_after=scheduling.expiry_after_sending(plan))
        new_timers = [
            dict(timer_id=f"remind:{s.id}:{i}", tenant_id=tenant, kind="remind", ref_id=s.id, due_at=at)
            for i, at in enumerate(scheduling.reminder_times(now, plan), start=1)
        ]
        new_timers.append(
            dict(timer_id=f"expire:{s.id}", tenant_id=tenant, kind="expire", ref_id=s.id, due_at=s.expires_at)
        )
        timers += await trepo.put_many(new_timers)
        _emit_sent(uow, s, links, now)
    elif kind == "remind" and s.remind(at=now):
        _emit_sent(uow, s, links, now)
    elif kind == "expire" and s.expire(at=now):
        uow.emit(
            SurveyExpiredEvent(survey_id=s.id, ticket_id=s.ticket_id, tenant_id=tenant, expired_at=now),
            subject=s.ticket_id,
            tenant=tenant,
        )
    else:
        return []
    await repo.save(s)
    return timers


def _emit_sent(uow: UnitOfWork, s: Survey, links: Links, now: datetime) -> None:
    token = links.token(s)
    uow.emit(
        SurveySent(
            survey_id=s.id,
            ticket_id=s.ticket_id,
            tenant_id=s.tenant_id,
            channel=s.channel,  # type: ignore[arg-type]
            answer_url=links.url(token),
            token_expires_at=s.expires_at,
            customer_id=s.customer_id,
            contact_email=s.contact_email,
            contact_phone=s.contact_phone,
            locale=s.locale,
            reminder=s.reminders_sent,
            sent_at=now,
        ),
        subject=s.ticket_id,
        tenant=s.tenant_id,
    )


async def _revisit_due(uow: UnitOfWork, tenant: str, customer_id: str, now: datetime) -> Timers:
    rrepo = RevisitRepository(uow.session)
    cust = await rrepo.customer(tenant, customer_id, for_update=True)
    if cust is None:
        return []
    plan = await PlanRepository(uow.session).get(tenant)
    if await rrepo.open_for(tenant, customer_id) is None:  # one open task per customer at a time
        r = Revisit(
            id=new_revisit_id(),
            tenant_id=tenant,
            customer_id=customer_id,
            grade=cust["grade"],
            due_on=cust["next_revisit_on"],
            created_at=now,
            last_ticket_id=cust["last_ticket_id"],
        )
        await rrepo.add(r)
        uow.emit(
            RevisitDue(
                revisit_id=r.id,
                tenant_id=tenant,
                customer_id=customer_id,
                grade=r.grade,
                due_on=r.due_on,
                last_ticket_id=r.last_ticket_id,
            ),
            subject=r.id,
            tenant=tenant,
        )
    nxt = next_revisit_on(cust["next_revisit_on"], cust["grade"], plan)
    await rrepo.upsert_customer(
        tenant, customer_id, grade=cust["grade"], next_revisit_on=nxt, last_ticket_id=None, at=now
    )
    cal = scheduling.calendar_for(plan.calendar, now)
    return [
        await TimerRepository(uow.session).put(
            f"revisit:{tenant}:{customer_id}",
            tenant_id=tenant,
            kind="revisit",
            ref_id=customer_id,
            due_at=scheduling.send_time_on(nxt, plan, cal),
        )
    ]


async def pending_timers(*, uow: UnitOfWork, horizon: timedelta = timedelta(days=2)) -> Timers:
    """Timers due within `horizon` (the loop re-seeds often, so later ones join Redis in time)."""
    async with uow:
        return await TimerRepository(uow.session).pending(until=uow.clock.now() + horizon)


# --- answers --------------------------------------------------------------------------------------
async def answer_survey(
    *,
    uow: UnitOfWork,
    cmd: AnswerSurvey,
    links: Links,
) -> tuple[Survey, Verdict]:
    """Single use: the survey row is locked, so of two concurrent answers one wins, the other is 409.

    Raises InvalidToken (401), NotFound (404), SurveyExpired (410), AlreadyAnswered / SurveyNotOpen
    (409), InvalidAnswers (422); nothing is written in any of these cases.
    """
    now = uow.clock.now()
    claims: TokenClaims | None = None
    if cmd.token is not None:
        claims = links.signer.verify(cmd.token, now=now)
        tenant, survey_id = claims.tenant_id, claims.survey_id
    else:
        assert cmd.tenant_id and cmd.survey_id
        tenant, survey_id = cmd.tenant_id, cmd.survey_id
    async with uow:
        await uow.scope_to_tenant(tenant)
        repo = SurveyRepository(uow.session)
        s = await repo.get(tenant, survey_id, for_update=True)
        if s is None:
            raise NotFound("survey", survey_id)
        if claims is not None:
            if claims.nonce != s.token_nonce:
                raise InvalidToken("token does not belong to this survey")
            if claims.expired(now):
                raise SurveyExpired(f"the answer link expired at {claims.expires_at.isoformat()}")
        s.check_answerable(at=now)
        plan = await PlanRepository(uow.session).get(tenant)
        cmd.answers.validate_for(plan)
        verdict = judge(cmd.answers, plan)
        s.complete(at=now)
        await repo.save(s)
        await repo.add_response(s, cmd.answers, verdict, via=cmd.via, at=now)
        await TimerRepository(uow.session).done_for(s.id, now)  # reminders and expiry are moot now
        # A customer's browser sends no traceparent: the answer's events still join the ticket's trace.
        with within_trace(s.trace_headers, "survey.answer", **{"fixflow.ticket_id": s.ticket_id}):
            _emit_answer(uow, s, cmd, verdict, tenant, now)
        await uow.commit()
    return s, verdict


def _emit_answer(uow: UnitOfWork, s: Survey, cmd: AnswerSurvey, verdict: Verdict, tenant: str, now: datetime) -> None:
    uow.emit(
        SurveyCompleted(
            survey_id=s.id,
            ticket_id=s.ticket_id,
            tenant_id=tenant,
            customer_id=s.customer_id,
            technician_id=s.technician_id,
            team_id=s.team_id,
            scores=cmd.answers.scores,  # type: ignore[arg-type]
            nps=cmd.answers.nps,
            has_comment=bool(cmd.answers.comment),
            satisfied=not verdict.dissatisfied,
            praise=verdict.praise,
            completed_at=now,
        ),
        subject=s.ticket_id,
        tenant=tenant,
    )
    if verdict.dissatisfied:
        uow.emit(
            DissatisfactionReported(
                survey_id=s.id,
                ticket_id=s.ticket_id,
                tenant_id=tenant,
                customer_id=s.customer_id,
                technician_id=s.technician_id,
                reasons=list(verdict.reasons),
                lowest_score=min(cmd.answers.scores.values()),
                nps=cmd.answers.nps,
                comment=cmd.answers.comment,
                suggested_action=verdict.suggested_action,  # type: ignore[arg-type]
                reported_at=now,
            ),
            subject=s.ticket_id,
            tenant=tenant,
        )


async def check_token(
    *,
    uow: UnitOfWork,
    token: str,
    links: Links,
) -> tuple[Survey, SurveyPlan]:
    """What the public page shows before answering; same errors as answer_survey, nothing written."""
    now = uow.clock.now()
    claims = links.signer.verify(token, now=now)
    async with uow:
        await uow.scope_to_tenant(claims.tenant_id)
        s = await SurveyRepository(uow.session).get(claims.tenant_id, claims.survey_id)
        if s is None:
            raise NotFound("survey", claims.survey_id)
        if claims.nonce != s.token_nonce:
            raise InvalidToken("token does not belong to this survey")
        if claims.expired(now):
            raise SurveyExpired(f"the answer link expired at {claims.expires_at.isoformat()}")
        s.check_answerable(at=now)
        return s, await PlanRepository(uow.session).get(claims.tenant_id)


# --- plans and revisits ---------------------------------------------------------------------------
async def put_plan(*, uow: UnitOfWork, plan: SurveyPlan, by: str) -> SurveyPlan:
    async with uow:
        await uow.scope_to_tenant(plan.tenant_id)
        await PlanRepository(uow.session).put(plan, by=by, at=uow.clock.now())
        await uow.commit()
    return plan


async def record_revisit_outcome(*, uow: UnitOfWork, cmd: RecordRevisitOutcome) -> Revisit:
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = RevisitRepository(uow.session)
        r = await repo.get(cmd.tenant_id, cmd.revisit_id, for_update=True)
        if r is None:
            raise NotFound("revisit", cmd.revisit_id)
        r.record(outcome=cmd.outcome, satisfied=cmd.satisfied, notes=cmd.notes, by=cmd.by, at=uow.clock.now())
        await repo.save(r)
        assert r.completed_at is not None
        uow.emit(
            RevisitCompleted(
                revisit_id=r.id,
                tenant_id=r.tenant_id,
                customer_id=r.customer_id,
                due_on=r.due_on,
                outcome=r.outcome or cmd.outcome,
                satisfied=r.satisfied,
                completed_at=r.completed_at,
            ),
            subject=r.id,
            tenant=r.tenant_id,
        )
        await uow.commit()
    return r
