"""SLA timers: a clock's next check fires at-risk / breached signals (and escalates complaints)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fixflow_shared.events.contracts import intake as ev
from fixflow_shared.tracing import continue_trace
from fixflow_shared.uow import UnitOfWork
from intake.adapters.clocks import Clocks
from intake.adapters.repository import ClockRepository, TicketRepository
from intake.domain.model import TicketStatus
from intake.service_layer.complaints import escalate
from intake.service_layer.deps import Deps, schedule_timers

S = TicketStatus


async def fire_clock(*, uow: UnitOfWork, deps: Deps, clock_id: str) -> None:
    now = uow.clock.now()
    nxt = None
    async with uow:
        row = await ClockRepository(uow.session).lock(clock_id)
        if row is None or row["next_check_at"] is None or row["stopped_at"] is not None:
            return
        # the firing and what it emits belong to the ticket's trace
        with continue_trace(row.get("trace_headers"), "sla.fire", **{"fixflow.ticket_id": row["ticket_id"]}):
            nxt = await _fire_locked(uow, deps, row, clock_id, now)
            await uow.commit()
    if nxt is not None:
        await schedule_timers(deps, [(clock_id, nxt)])


async def _fire_locked(
    uow: UnitOfWork, deps: Deps, row: dict[str, Any], clock_id: str, now: datetime
) -> datetime | None:
    policy = await deps.policies.get(uow.session, row["tenant_id"])
    cal = policy.calendar
    clock = ClockRepository.to_domain(row)
    signals = clock.evaluate(cal, now)
    due = clock.due_at(cal)
    for s in signals:
        common = {
            "ticket_id": row["ticket_id"],
            "tenant_id": row["tenant_id"],
            "clock": row["name"],
            "priority": row["priority"],
            "kind": row["kind"],
            "due_at": due,
            "raised_at": now,
            "started_at": row["started_at"],
        }
        e = ev.SlaAtRisk(share_elapsed=clock.at_risk_share, **common) if s == "at_risk" else ev.SlaBreached(**common)
        uow.emit(e, subject=row["ticket_id"], tenant=row["tenant_id"])
    if "breached" in signals and row["name"] in ("complaint_contact", "complaint_fix"):
        await uow.scope_to_tenant(row["tenant_id"])
        t = await TicketRepository(uow.session).get(row["tenant_id"], row["ticket_id"], for_update=True)
        if t is not None and t.status not in (S.CLOSED, S.CANCELLED) and (t.complaint_level or 1) < 4:
            await escalate(uow, t, Clocks(uow, policy, t), now, None, f"{row['name']} deadline breached", None)
            await TicketRepository(uow.session).save(t)
    nxt = clock.next_check(cal)
    await ClockRepository(uow.session).update(clock_id, ClockRepository.state(clock, due, nxt, None))
    return nxt


async def pending_clocks(*, uow: UnitOfWork) -> list[tuple[str, datetime]]:
    async with uow:
        return await ClockRepository(uow.session).pending()
