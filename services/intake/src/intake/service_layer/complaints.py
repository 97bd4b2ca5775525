"""Use cases of a complaint: escalation (by hand or on a breached deadline) and compensation."""

from __future__ import annotations

from datetime import datetime

from fixflow_shared.events import Envelope
from fixflow_shared.events.contracts import intake as ev
from fixflow_shared.uow import UnitOfWork
from intake.adapters.clocks import Clocks
from intake.adapters.repository import TicketRepository
from intake.domain.exceptions import IllegalTransition, RuleViolation
from intake.domain.model import Ticket, TicketStatus
from intake.service_layer.deps import Deps, schedule_timers
from intake.service_layer.tickets import load_ticket

S = TicketStatus


async def escalate_complaint(
    *,
    uow: UnitOfWork,
    deps: Deps,
    tenant_id: str,
    ticket_id: str,
    level: int | None,
    reason: str,
    causation: Envelope | None = None,
) -> Ticket:
    now = uow.clock.now()
    async with uow:
        t, clocks = await load_ticket(uow, deps, tenant_id, ticket_id)
        await escalate(uow, t, clocks, now, level, reason, causation)
        await TicketRepository(uow.session).save(t)
        await uow.commit()
    await schedule_timers(deps, clocks.scheduled)
    return t


async def escalate(
    uow: UnitOfWork,
    t: Ticket,
    clocks: Clocks,
    now: datetime,
    level: int | None,
    reason: str,
    causation: Envelope | None,
) -> None:
    if t.kind != "complaint":
        raise RuleViolation("only complaints escalate")
    if t.status in (S.CLOSED, S.CANCELLED):
        raise IllegalTransition(t.status, "escalated")
    current = t.complaint_level or 1
    new = level if level is not None else min(4, current + 1)
    if new <= current and level is not None:
        raise RuleViolation(f"complaint is already at level {current}")
    t.complaint_level = new
    t.updated_at = now
    uow.emit(
        ev.ComplaintEscalated(
            ticket_id=t.id,
            tenant_id=t.tenant_id,
            from_level=current,
            level=new,
            to_role="manager",
            reason=reason,
            respond_by=clocks.cal.add_working_days(now, 2),
            compensation_needs_approval=t.compensation_requested and t.compensation_approved is None,
            escalated_at=now,
        ),
        subject=t.id,
        tenant=t.tenant_id,
        causation=causation,
    )


async def decide_compensation(
    *, uow: UnitOfWork, deps: Deps, tenant_id: str, ticket_id: str, approved: bool, author: str
) -> Ticket:
    now = uow.clock.now()
    async with uow:
        t, clocks = await load_ticket(uow, deps, tenant_id, ticket_id)
        if not t.compensation_requested:
            raise RuleViolation("no compensation was requested")
        if t.compensation_approved is not None:
            raise IllegalTransition("compensation decided", "decided again")
        t.compensation_approved = approved
        t.updated_at = now
        await TicketRepository(uow.session).add_note(
            tenant_id=tenant_id,
            ticket_id=t.id,
            author=author,
            kind="compensation",
            body="approved" if approved else "rejected",
            at=now,
        )
        await TicketRepository(uow.session).save(t)
        await uow.commit()
    await schedule_timers(deps, clocks.scheduled)
    return t
