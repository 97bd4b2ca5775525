"""Shortcuts for integration tests: resolved tickets as envelopes, surveys sent through the handlers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fixflow_shared.events import Envelope, new_envelope
from fixflow_shared.events.contracts.intake import TicketResolved
from fixflow_shared.testing import eventually
from survey.adapters.repository import SurveyRepository
from survey.domain.model import Survey
from survey.service_layer import handlers


def resolved_envelope(
    tenant: str,
    *,
    ticket_id: str | None = None,
    resolved_at: datetime | None = None,
    technician_id: str | None = "tech-1",
    team_id: str | None = None,
    customer_id: str | None = None,
    major: bool = False,
    grade: str | None = None,
    phone: str | None = "+8613800000000",
    trace_headers: dict[str, str] | None = None,
) -> Envelope:
    ticket_id = ticket_id or "T-" + uuid.uuid4().hex[:12]
    ev = TicketResolved(
        ticket_id=ticket_id,
        tenant_id=tenant,
        kind="repair",
        resolution="work_order_completed",
        technician_id=technician_id,
        team_id=team_id,
        customer_id=customer_id,
        customer_grade=grade,
        major=major,
        contact_phone=phone,
        contact_email="li@example.com",
        resolved_at=resolved_at or datetime.now(UTC) - timedelta(days=40),
    )
    return new_envelope(ev, source="/fixflow/intake", subject=ticket_id, tenant=tenant, trace_headers=trace_headers)


async def get_survey(runtime: Any, tenant: str, survey_id: str) -> Survey:
    async with runtime.uow() as uow:
        await uow.scope_to_tenant(tenant)
        s = await SurveyRepository(uow.session).get(tenant, survey_id)
    assert s is not None
    return s


async def sent_survey(runtime: Any, services: Any, tenant: str, **kw: Any) -> tuple[Survey, str]:
    """A survey resolved 40 days ago and sent now (through the handlers, without the broker)."""
    env = resolved_envelope(tenant, **kw)
    await handlers.schedule_for_resolution(uow=runtime.uow(), envelope=env, event=env.payload())
    async with runtime.uow() as uow:
        await uow.scope_to_tenant(tenant)
        (s,) = [x for x in await SurveyRepository(uow.session).for_ticket(tenant, env.subject) if x.round == "initial"]
    # The background loop may fire it first (then this call finds the timer held and returns before
    # the loop commits); either way it ends up sent exactly once.
    await handlers.fire_timer(uow=runtime.uow(), timer_id=f"send:{s.id}", links=services.links)
    s = await eventually(lambda: get_survey(runtime, tenant, s.id), lambda x: x.status.value == "sent", what="sent")
    assert s.status.value == "sent", s.status
    return s, services.links.token(s)


async def count_rows(runtime: Any, table: str, tenant: str | None = None) -> int:
    from sqlalchemy import text

    async with runtime.uow() as uow:
        if tenant:
            await uow.scope_to_tenant(tenant)
        return int(await uow.session.scalar(text(f"SELECT count(*) FROM {table}")))
