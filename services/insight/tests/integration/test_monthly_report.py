"""The monthly report's due timer: a tenant seen for the first time gets a schedule row (the
durable copy), the report of a month is generated once when the month is over, and the next
month is scheduled."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from insight_test_streams import stream
from sqlalchemy import select

from fixflow_shared.clock import SettableClock
from insight import views
from insight.adapters.orm import report_schedule
from insight.service_layer import reports
from insight.service_layer.projector import apply_batch

pytestmark = pytest.mark.integration


async def test_last_months_report_is_generated_once_when_due(projector_runtime):
    tenant = "acme-" + uuid.uuid4().hex[:8]
    applied = await apply_batch(projector_runtime.uow(), [(e, e.payload()) for e in stream(tenant)])
    assert applied.new_tenants == [tenant]
    again = await apply_batch(projector_runtime.uow(), [(e, e.payload()) for e in stream(tenant)])
    assert again.new_tenants == [] and again.events == 0  # the inbox skipped the copies

    timers = await reports.schedule_tenants(
        uow=projector_runtime.uow(), tenants=[tenant], now=datetime(2025, 3, 15, tzinfo=UTC), hour_utc=1
    )
    timer = f"{tenant}|2025-03-01"
    assert timers == [(timer, datetime(2025, 4, 1, 1, tzinfo=UTC))]
    assert (timer, datetime(2025, 4, 1, 1, tzinfo=UTC)) in await reports.pending(uow=projector_runtime.uow())

    clock = SettableClock(datetime(2025, 4, 1, tzinfo=UTC))  # the service's clock decides what is due
    early = await reports.fire(uow=projector_runtime.uow(clock=clock), timer=timer, hour_utc=1, font=None)
    assert early == [(timer, datetime(2025, 4, 1, 1, tzinfo=UTC))]
    assert await views.report_list(uow=projector_runtime.uow(), tenant=tenant) == []

    due = clock.advance(hours=2)
    nxt = await reports.fire(uow=projector_runtime.uow(clock=clock), timer=timer, hour_utc=1, font=None)
    assert nxt == [(f"{tenant}|2025-04-01", datetime(2025, 5, 1, 1, tzinfo=UTC))]
    assert await reports.fire(uow=projector_runtime.uow(clock=clock), timer=timer, hour_utc=1, font=None) == []

    [listed] = await views.report_list(uow=projector_runtime.uow(), tenant=tenant)
    assert (listed["month"], listed["trigger"], listed["generated_at"]) == (date(2025, 3, 1), "scheduled", due)
    report = await views.report(uow=projector_runtime.uow(), tenant=tenant, report_id=listed["id"])
    assert report is not None and bytes(report["pdf"]).startswith(b"%PDF")
    assert report["figures"]["overall"]["first_time_fix"]["rate"] == 0.5
    assert f'{tenant},2025-03,SLA 达成 SLA attainment,first_response,"66.7% (2/3, breached 1)"' in report["csv"]
    async with projector_runtime.uow() as uow:
        done = (
            await uow.session.execute(
                select(report_schedule.c.month, report_schedule.c.report_id).where(
                    report_schedule.c.tenant_id == tenant
                )
            )
        ).all()
    assert sorted(done) == [(date(2025, 3, 1), listed["id"]), (date(2025, 4, 1), None)]
