"""Persistence of plans, surveys, responses, revisits and due timers.

Tenant tables are read and written inside a tenant-scoped transaction (RLS) and every query also
filters by tenant. `due_timers` holds ids and times only and is scanned across tenants by the timer
loop (no RLS; every other access filters by timer id).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from fixflow_shared.db import rows_changed
from survey.adapters.orm import due_timers, revisit_customers, revisits, survey_plans, survey_responses, surveys
from survey.domain import reports
from survey.domain.model import (
    Answers,
    CalendarSpec,
    DissatisfactionRule,
    Revisit,
    Survey,
    SurveyPlan,
    SurveyStatus,
    Verdict,
)

# Statements built once and executed with parameters (not .values(**row) per call, which builds a
# statement and coerces every value into a bound literal each time).
_TENANT: BindParameter[str] = bindparam("b_tenant")
_PLAN_CONFIG = select(survey_plans.c.config).where(survey_plans.c.tenant_id == _TENANT)
_SURVEY = select(surveys).where(surveys.c.tenant_id == _TENANT, surveys.c.id == bindparam("b_id"))
_SURVEY_LOCK = _SURVEY.with_for_update()
_SAVE_SURVEY = update(surveys).where(
    surveys.c.tenant_id == _TENANT, surveys.c.id == bindparam("b_id"), surveys.c.version == bindparam("b_version")
)
_REVISIT_CUSTOMER = select(revisit_customers).where(
    revisit_customers.c.tenant_id == _TENANT, revisit_customers.c.customer_id == bindparam("b_customer")
)
_REVISIT_CUSTOMER_LOCK = _REVISIT_CUSTOMER.with_for_update()
_REVISIT_CUSTOMER_ROW = pg_insert(revisit_customers)
_UPSERT_REVISIT_CUSTOMER = _REVISIT_CUSTOMER_ROW.on_conflict_do_update(
    index_elements=["tenant_id", "customer_id"],
    set_={c: _REVISIT_CUSTOMER_ROW.excluded[c] for c in ("grade", "next_revisit_on", "updated_at")},
)
_UPSERT_REVISIT_CUSTOMER_TICKET = _REVISIT_CUSTOMER_ROW.on_conflict_do_update(
    index_elements=["tenant_id", "customer_id"],
    set_={c: _REVISIT_CUSTOMER_ROW.excluded[c] for c in ("grade", "next_revisit_on", "updated_at", "last_ticket_id")},
)
_PUT_TIMER_ROW = pg_insert(due_timers)
_PUT_TIMER = _PUT_TIMER_ROW.on_conflict_do_update(
    index_elements=["timer_id"], set_={"due_at": _PUT_TIMER_ROW.excluded.due_at, "fired_at": None}
)
_TIMER_DONE = update(due_timers).where(due_timers.c.timer_id == bindparam("b_id")).values(fired_at=bindparam("b_at"))
_TIMERS_DONE_FOR = (
    update(due_timers)
    .where(due_timers.c.ref_id == bindparam("b_ref"), due_timers.c.fired_at.is_(None))
    .values(fired_at=bindparam("b_at"))
    .returning(due_timers.c.timer_id)
)
_DUE_TIMER = due_timers.alias("due")
_FIRE_TIMER = (
    update(due_timers)
    .where(
        due_timers.c.timer_id
        == (
            select(_DUE_TIMER.c.timer_id)
            .where(
                _DUE_TIMER.c.timer_id == bindparam("b_id"),
                _DUE_TIMER.c.fired_at.is_(None),
                _DUE_TIMER.c.due_at <= bindparam("b_not_after"),
            )
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
    .values(fired_at=bindparam("b_at"))
    .returning(*due_timers.c)
)
_CLAIM_TIMER = (
    select(due_timers)
    .where(due_timers.c.timer_id == bindparam("b_id"), due_timers.c.fired_at.is_(None))
    .with_for_update(skip_locked=True)
)


# --- plans ----------------------------------------------------------------------------------------
def plan_to_config(p: SurveyPlan) -> dict[str, Any]:
    d = asdict(p)
    d.pop("tenant_id")
    d["send_time"] = p.send_time.isoformat()
    d["calendar"]["extra_holidays"] = [x.isoformat() for x in p.calendar.extra_holidays]
    d["calendar"]["extra_workdays"] = [x.isoformat() for x in p.calendar.extra_workdays]
    d["revisit_months_by_grade"] = dict(p.revisit_months_by_grade)
    return d


def plan_from_config(tenant_id: str, c: dict[str, Any]) -> SurveyPlan:
    c = dict(c)
    rule = _rule(c.pop("rule", None))
    cal = c.pop("calendar", None) or {}
    c = {k: v for k, v in c.items() if v is not None}
    return SurveyPlan(
        tenant_id=tenant_id,
        rule=rule,
        calendar=CalendarSpec(
            country=cal.get("country", "CN"),
            tz=cal.get("tz", "Asia/Shanghai"),
            extra_holidays=tuple(date.fromisoformat(x) for x in cal.get("extra_holidays", ())),
            extra_workdays=tuple(date.fromisoformat(x) for x in cal.get("extra_workdays", ())),
        ),
        **_plan_settings(c),
    )


def _plan_settings(c: dict[str, Any]) -> dict[str, Any]:
    """The plan's remaining settings as the model holds them (times parsed, lists as tuples)."""
    return {
        k: (
            time.fromisoformat(v)
            if k == "send_time"
            else tuple(sorted(v.items()))
            if k == "revisit_months_by_grade" and isinstance(v, dict)
            else tuple(v)
            if isinstance(v, list)
            else v
        )
        for k, v in c.items()
    }


def _rule(r: dict[str, Any] | None) -> DissatisfactionRule:
    if not r:
        return DissatisfactionRule()
    r = {k: v for k, v in r.items() if v is not None}
    if "complaint_words" in r:
        r["complaint_words"] = tuple(r["complaint_words"])
    return DissatisfactionRule(**r)


class PlanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: str) -> SurveyPlan:
        cfg = await self.session.scalar(_PLAN_CONFIG, {"b_tenant": tenant_id})
        return SurveyPlan(tenant_id=tenant_id) if cfg is None else plan_from_config(tenant_id, cfg)

    async def put(self, plan: SurveyPlan, *, by: str, at: datetime) -> None:
        cfg = plan_to_config(plan)
        stmt = pg_insert(survey_plans).values(tenant_id=plan.tenant_id, config=cfg, updated_at=at, updated_by=by)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id"], set_={"config": cfg, "updated_at": at, "updated_by": by}
            )
        )


# --- surveys --------------------------------------------------------------------------------------
_SURVEY_COLS = (
    "id",
    "tenant_id",
    "ticket_id",
    "round",
    "channel",
    "due_at",
    "expires_at",
    "created_at",
    "sent_at",
    "completed_at",
    "reminders_sent",
    "customer_id",
    "technician_id",
    "team_id",
    "contact_email",
    "contact_phone",
    "locale",
    "major",
    "resolved_at",
    "token_nonce",
    "version",
    "trace_headers",
)


def _survey_row(s: Survey) -> dict[str, Any]:
    return {**{c: getattr(s, c) for c in _SURVEY_COLS}, "status": s.status.value}


def _survey(row: Any) -> Survey:
    return Survey(**{c: row[c] for c in _SURVEY_COLS}, status=SurveyStatus(row["status"]))


class SurveyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, s: Survey) -> None:
        await self.session.execute(insert(surveys), _survey_row(s))

    async def get(self, tenant_id: str, survey_id: str, *, for_update: bool = False) -> Survey | None:
        q = _SURVEY_LOCK if for_update else _SURVEY
        row = (await self.session.execute(q, {"b_tenant": tenant_id, "b_id": survey_id})).mappings().first()
        return None if row is None else _survey(row)

    async def for_ticket(self, tenant_id: str, ticket_id: str, *, for_update: bool = False) -> list[Survey]:
        q = (
            select(surveys)
            .where(surveys.c.tenant_id == tenant_id, surveys.c.ticket_id == ticket_id)
            .order_by(surveys.c.created_at, surveys.c.id)
        )
        if for_update:
            q = q.with_for_update()
        return [_survey(r) for r in (await self.session.execute(q)).mappings()]

    async def work_list(
        self,
        tenant_id: str,
        *,
        statuses: list[str],
        due_before: datetime | None,
        limit: int,
        customer_id: str | None = None,
    ) -> list[Survey]:
        """Surveys in these states, due first (an agent's follow-up calls); one customer's only if given."""
        q = select(surveys).where(surveys.c.tenant_id == tenant_id, surveys.c.status.in_(statuses))
        if customer_id is not None:
            q = q.where(surveys.c.customer_id == customer_id)
        if due_before is not None:
            q = q.where(surveys.c.due_at < due_before)
        q = q.order_by(surveys.c.due_at, surveys.c.id).limit(limit)
        return [_survey(r) for r in (await self.session.execute(q)).mappings()]

    async def save(self, s: Survey) -> None:
        """Optimistic: the row must still have the version we read."""
        values = _survey_row(s)
        values["version"] = s.version + 1
        res = await self.session.execute(
            _SAVE_SURVEY, {"b_tenant": s.tenant_id, "b_id": s.id, "b_version": s.version, **values}
        )
        if rows_changed(res) != 1:
            raise RuntimeError(f"survey {s.id} changed concurrently")
        s.version += 1

    async def add_response(self, s: Survey, answers: Answers, verdict: Verdict, *, via: str, at: datetime) -> None:
        await self.session.execute(
            insert(survey_responses),
            dict(
                survey_id=s.id,
                tenant_id=s.tenant_id,
                ticket_id=s.ticket_id,
                technician_id=s.technician_id,
                team_id=s.team_id,
                scores=answers.scores,
                nps=answers.nps,
                comment=answers.comment,
                dissatisfied=verdict.dissatisfied,
                reasons=list(verdict.reasons),
                praise=verdict.praise,
                via=via,
                answered_at=at,
            ),
        )

    async def response(self, tenant_id: str, survey_id: str) -> dict[str, Any] | None:
        row = (
            (
                await self.session.execute(
                    select(survey_responses).where(
                        survey_responses.c.tenant_id == tenant_id, survey_responses.c.survey_id == survey_id
                    )
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else dict(row)

    async def facts(
        self, tenant_id: str, *, since: datetime | None, until: datetime | None
    ) -> list[reports.SurveyFact]:
        r = survey_responses
        cond = [surveys.c.tenant_id == tenant_id, surveys.c.sent_at.is_not(None)]
        if since:
            cond.append(surveys.c.sent_at >= since)
        if until:
            cond.append(surveys.c.sent_at < until)
        q = (
            select(
                surveys.c.id,
                surveys.c.sent_at,
                surveys.c.technician_id,
                surveys.c.team_id,
                r.c.survey_id.label("answered"),
                r.c.scores,
                r.c.nps,
                r.c.dissatisfied,
                r.c.praise,
            )
            .select_from(
                surveys.outerjoin(r, and_(r.c.survey_id == surveys.c.id, r.c.tenant_id == surveys.c.tenant_id))
            )
            .where(*cond)
        )
        return [
            reports.SurveyFact(
                survey_id=row.id,
                sent_at=row.sent_at,
                technician_id=row.technician_id,
                team_id=row.team_id,
                answered=row.answered is not None,
                scores=row.scores or {},
                nps=row.nps,
                dissatisfied=bool(row.dissatisfied),
                praise=bool(row.praise),
            )
            for row in await self.session.execute(q)
        ]

    async def praise_log(self, tenant_id: str, *, technician_id: str | None, limit: int) -> list[dict[str, Any]]:
        r = survey_responses
        q = (
            select(
                r.c.survey_id,
                r.c.ticket_id,
                r.c.technician_id,
                r.c.team_id,
                r.c.scores,
                r.c.nps,
                r.c.comment,
                r.c.answered_at,
            )
            .where(r.c.tenant_id == tenant_id, r.c.praise.is_(True))
            .order_by(r.c.answered_at.desc())
            .limit(limit)
        )
        if technician_id:
            q = q.where(r.c.technician_id == technician_id)
        return [dict(m) for m in (await self.session.execute(q)).mappings()]


# --- revisits -------------------------------------------------------------------------------------
_REVISIT_COLS = (
    "id",
    "tenant_id",
    "customer_id",
    "grade",
    "due_on",
    "status",
    "last_ticket_id",
    "outcome",
    "satisfied",
    "notes",
    "created_at",
    "completed_at",
    "completed_by",
)


class RevisitRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def customer(self, tenant_id: str, customer_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
        q = _REVISIT_CUSTOMER_LOCK if for_update else _REVISIT_CUSTOMER
        row = (await self.session.execute(q, {"b_tenant": tenant_id, "b_customer": customer_id})).mappings().first()
        return None if row is None else dict(row)

    async def upsert_customer(
        self,
        tenant_id: str,
        customer_id: str,
        *,
        grade: str,
        next_revisit_on: date,
        last_ticket_id: str | None,
        at: datetime,
    ) -> None:
        # an existing row keeps its last ticket unless a new one is given
        await self.session.execute(
            _UPSERT_REVISIT_CUSTOMER_TICKET if last_ticket_id else _UPSERT_REVISIT_CUSTOMER,
            dict(
                tenant_id=tenant_id,
                customer_id=customer_id,
                last_ticket_id=last_ticket_id,
                grade=grade,
                next_revisit_on=next_revisit_on,
                updated_at=at,
            ),
        )

    async def add(self, r: Revisit) -> None:
        await self.session.execute(insert(revisits), {c: getattr(r, c) for c in _REVISIT_COLS})

    async def get(self, tenant_id: str, revisit_id: str, *, for_update: bool = False) -> Revisit | None:
        q = select(revisits).where(revisits.c.tenant_id == tenant_id, revisits.c.id == revisit_id)
        if for_update:
            q = q.with_for_update()
        row = (await self.session.execute(q)).mappings().first()
        return None if row is None else Revisit(**{c: row[c] for c in _REVISIT_COLS})

    async def save(self, r: Revisit) -> None:
        await self.session.execute(
            update(revisits)
            .where(revisits.c.tenant_id == r.tenant_id, revisits.c.id == r.id)
            .values(**{c: getattr(r, c) for c in _REVISIT_COLS if c not in ("id", "tenant_id")})
        )

    async def open_for(self, tenant_id: str, customer_id: str) -> Revisit | None:
        row = (
            (
                await self.session.execute(
                    select(revisits)
                    .where(
                        revisits.c.tenant_id == tenant_id,
                        revisits.c.customer_id == customer_id,
                        revisits.c.status == "open",
                    )
                    .limit(1)
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else Revisit(**{c: row[c] for c in _REVISIT_COLS})

    async def list(self, tenant_id: str, *, status: str | None, limit: int) -> list[Revisit]:
        q = select(revisits).where(revisits.c.tenant_id == tenant_id)
        if status:
            q = q.where(revisits.c.status == status)
        q = q.order_by(revisits.c.due_on, revisits.c.id).limit(limit)
        return [Revisit(**{c: row[c] for c in _REVISIT_COLS}) for row in (await self.session.execute(q)).mappings()]


# --- due timers (durable copy) --------------------------------------------------------------------
class TimerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(
        self, timer_id: str, *, tenant_id: str, kind: str, ref_id: str, due_at: datetime
    ) -> tuple[str, datetime]:
        await self.session.execute(
            _PUT_TIMER,
            dict(timer_id=timer_id, tenant_id=tenant_id, kind=kind, ref_id=ref_id, due_at=due_at, fired_at=None),
        )
        return timer_id, due_at

    async def put_many(self, timers: list[dict[str, Any]]) -> list[tuple[str, datetime]]:
        """`put` for several timers (distinct ids; keys as put's arguments) in one round trip."""
        if not timers:
            return []
        await self.session.execute(_PUT_TIMER, [{**t, "fired_at": None} for t in timers])
        return [(t["timer_id"], t["due_at"]) for t in timers]

    async def claim(self, timer_id: str) -> dict[str, Any] | None:
        """Lock a pending timer row (None if fired, cancelled, or held by another replica)."""
        row = (await self.session.execute(_CLAIM_TIMER, {"b_id": timer_id})).mappings().first()
        return None if row is None else dict(row)

    async def fire(self, timer_id: str, at: datetime, *, not_after: datetime) -> dict[str, Any] | None:
        """`claim` + `done` in one statement for a pending timer due by `not_after` (the common case);
        None if it is fired, cancelled, held by another replica, or due later (ask `claim` which)."""
        row = (
            (await self.session.execute(_FIRE_TIMER, {"b_id": timer_id, "b_at": at, "b_not_after": not_after}))
            .mappings()
            .first()
        )
        return None if row is None else dict(row)

    async def done(self, timer_id: str, at: datetime) -> None:
        await self.session.execute(_TIMER_DONE, {"b_id": timer_id, "b_at": at})

    async def done_for(self, ref_id: str, at: datetime) -> list[str]:
        res = await self.session.execute(_TIMERS_DONE_FOR, {"b_ref": ref_id, "b_at": at})
        return [r[0] for r in res]

    async def pending(self, *, until: datetime | None = None, limit: int = 100_000) -> list[tuple[str, datetime]]:
        """Pending timers, earliest first; `until` bounds the re-seed to a near horizon."""
        q = select(due_timers.c.timer_id, due_timers.c.due_at).where(due_timers.c.fired_at.is_(None))
        if until is not None:
            q = q.where(due_timers.c.due_at <= until)
        rows = await self.session.execute(q.order_by(due_timers.c.due_at).limit(limit))
        return [(r.timer_id, r.due_at) for r in rows]
