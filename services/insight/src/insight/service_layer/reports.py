"""The monthly management report: generated on demand, and for last month by a due timer whose
durable copy is a row of report_schedule (one per tenant and month, due when the month is over)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from fixflow_shared.db import rows_changed
from fixflow_shared.uow import UnitOfWork
from insight import views
from insight.adapters import pdf
from insight.adapters.orm import report_schedule, reports
from insight.domain import report as R

Timers = list[tuple[str, datetime]]


def due_at(month: date, hour_utc: int) -> datetime:
    """A month's report is due on the 1st of the next month at `hour_utc`."""
    _, end = R.month_bounds(month)
    return datetime.combine(end, time(hour_utc), UTC)


def timer_id(tenant: str, month: date) -> str:
    return f"{tenant}|{month.isoformat()}"


async def figures_for(uow: UnitOfWork, tenant: str, month: date) -> dict[str, Any]:
    start, end = R.month_bounds(month)
    overall = await views.kpi_figures(uow=uow, tenant=tenant, start=start, end=end)
    by = {
        g: (await views.kpi_figures(uow=uow, tenant=tenant, start=start, end=end, group_by=g))["groups"]
        for g in ("channel", "kind", "team")
    }
    causes = await views.fault_counts(uow=uow, tenant=tenant, start=start, end=end, group_by="fault_cause", limit=10)
    alerts = [
        a
        for a in await views.alerts(uow=uow, tenant=tenant, limit=500)
        if start <= a["raised_at"].astimezone(UTC).date() < end
    ]
    return R.assemble(
        tenant=tenant,
        month=start,
        overall=overall,
        by_channel=by["channel"],
        by_kind=by["kind"],
        by_team=by["team"],
        top_causes=causes,
        alerts=alerts,
    )


async def generate(
    *, uow: UnitOfWork, tenant: str, month: date, trigger: str, by: str | None, font: str | None = None
) -> str:
    """Build, render and store the report of `month`; returns its id."""
    content = await figures_for(uow, tenant, month)
    csv_text = R.csv_text(content)
    pdf_bytes = await asyncio.to_thread(pdf.render, content, font=font)  # font parsing is CPU work
    report_id = "RPT-" + uuid.uuid4().hex[:16]
    async with uow:
        await uow.scope_to_tenant(tenant)
        await uow.session.execute(
            reports.insert().values(
                id=report_id,
                tenant_id=tenant,
                month=month.replace(day=1),
                trigger=trigger,
                figures=_jsonable(content),
                csv=csv_text,
                pdf=pdf_bytes,
                generated_at=uow.clock.now(),
                requested_by=by,
            )
        )
        await uow.commit()
    return report_id


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


async def schedule_tenants(*, uow: UnitOfWork, tenants: list[str], now: datetime, hour_utc: int) -> Timers:
    """Tenants seen for the first time: their report of the current month is due when it ends."""
    if not tenants:
        return []
    month = now.astimezone(UTC).date().replace(day=1)
    due = due_at(month, hour_utc)
    async with uow:
        await uow.session.execute(
            pg_insert(report_schedule).on_conflict_do_nothing(),
            [{"tenant_id": t, "month": month, "due_at": due} for t in tenants],
        )
        await uow.commit()
    return [(timer_id(t, month), due) for t in tenants]


async def pending(*, uow: UnitOfWork) -> Timers:
    s = report_schedule.c
    async with uow:
        rows = await uow.session.execute(select(s.tenant_id, s.month, s.due_at).where(s.report_id.is_(None)))
        return [(timer_id(t, m), d) for t, m, d in rows.all()]


async def fire(*, uow: UnitOfWork, timer: str, hour_utc: int, font: str | None) -> Timers:
    """Generate a due month's report (once: the schedule row records it) and schedule the next month;
    due by the service's clock (`uow.clock`)."""
    tenant, month_text = timer.split("|", 1)
    month = date.fromisoformat(month_text)
    now = uow.clock.now()
    s = report_schedule.c
    async with uow:
        row = (
            await uow.session.execute(select(s.report_id, s.due_at).where(s.tenant_id == tenant, s.month == month))
        ).first()
    if row is None or row.report_id is not None:
        return []
    if row.due_at > now:
        return [(timer, row.due_at)]  # moved or early wake-up
    report_id = await generate(uow=uow, tenant=tenant, month=month, trigger="scheduled", by=None, font=font)
    _, next_month = R.month_bounds(month)
    next_due = due_at(next_month, hour_utc)
    async with uow:
        done = await uow.session.execute(
            update(report_schedule)
            .where(s.tenant_id == tenant, s.month == month, s.report_id.is_(None))
            .values(report_id=report_id)
        )
        await uow.session.execute(
            pg_insert(report_schedule)
            .values(tenant_id=tenant, month=next_month, due_at=next_due)
            .on_conflict_do_nothing()
        )
        await uow.commit()
    # another replica that fired the same timer at once loses the UPDATE: its copy is extra, not wrong
    return [(timer_id(tenant, next_month), next_due)] if rows_changed(done) else []


def last_month(now: datetime) -> date:
    return R.previous_month(now.astimezone(UTC).date())
