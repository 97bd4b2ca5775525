"""Ticket transitions: move the ticket, keep its SLA clocks in step, emit intake's event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fixflow_shared.events import Envelope
from fixflow_shared.events.contracts import intake as ev
from fixflow_shared.uow import UnitOfWork
from intake.adapters.clocks import Clocks
from intake.domain import triage as triage_rules
from intake.domain.model import CLOCK_RUNNING_STATES, Ticket, TicketStatus

S = TicketStatus


def event_window(t: Ticket) -> ev.TimeWindow | None:
    return ev.TimeWindow(**t.requested_window) if t.requested_window else None


def event_site(t: Ticket) -> ev.Site | None:
    return ev.Site(**t.site) if t.site else None


def sla_deadlines(clocks: Clocks) -> ev.SlaDeadlines:
    """The deadlines events carry, from the clocks' current due times."""
    d = clocks.deadlines
    return ev.SlaDeadlines(
        first_response_due=d.get("first_response") or d.get("complaint_contact"),
        on_site_arrival_due=d.get("on_site_arrival"),
        resolution_due=d.get("resolution") or d.get("complaint_fix"),
    )


def triaged_event(t: Ticket, clocks: Clocks, now: datetime, by: str) -> ev.TicketTriaged:
    tri = triage_rules.triage(
        kind=t.kind,
        symptom=t.symptom,
        grade=t.customer_grade,
        severity=t.severity,
        urgency=t.urgency,
        rules=clocks.policy.triage,
        kb=clocks.policy.knowledge_base,
    )
    skills = list(tri.required_skills) if t.path == "on_site" else []
    if t.path == "on_site" and not skills:
        skills = list(triage_rules.CATEGORY_SKILLS.get(t.category or "", ("general_repair",)))
    return ev.TicketTriaged(
        ticket_id=t.id,
        tenant_id=t.tenant_id,
        kind=t.kind,
        customer_id=t.customer_id,  # type: ignore[arg-type]
        customer_grade=t.customer_grade,
        asset_id=t.asset_id,
        product_model=t.product_model,
        category=t.category or tri.category,
        priority=t.priority or tri.priority,
        path=t.path or tri.path,  # type: ignore[arg-type]
        required_skills=skills,
        estimated_minutes=tri.estimated_minutes,
        suggested_fix=t.suggested_fix,
        warranty_status=(t.warranty or {}).get("status"),
        requested_window=event_window(t),
        site=event_site(t),
        sla=sla_deadlines(clocks),
        round=t.round,
        triaged_by=by,
        triaged_at=now,  # type: ignore[arg-type]
    )


async def transition(
    uow: UnitOfWork,
    t: Ticket,
    target: S,
    *,
    now: datetime,
    clocks: Clocks,
    causation: Envelope | None = None,
    reason: str = "",
    cause: str = "agent",
    resolution: str = "agent",
    triaged_by: str = "rules",
) -> None:
    """Move the ticket, keep its SLA clocks in step, and emit intake's event for the new state."""
    before = t.status
    t.move_to(target, at=now)
    emit: list[Any] = []
    if target is S.WAITING_CUSTOMER:
        await clocks.change(now, pause=True)
        emit.append(
            ev.TicketWaitingCustomer(
                ticket_id=t.id,
                tenant_id=t.tenant_id,
                missing_facts=t.missing_facts,
                contact_email=t.contact_email,
                contact_phone=t.contact_phone,
                locale=t.locale,
                since=now,
            )
        )
    elif before is S.WAITING_CUSTOMER and target in CLOCK_RUNNING_STATES:
        await clocks.change(now, resume=True)
    if target is S.TRIAGED:
        emit.append(triaged_event(t, clocks, now, triaged_by))
    elif target is S.SCHEDULED:
        await clocks.change(now, stop=("first_response",))
        t.first_response_at = t.first_response_at or now
    elif target is S.IN_PROGRESS:
        await clocks.change(now, stop=("first_response", "on_site_arrival"))
    elif target is S.RESOLVED:
        met = await clocks.change(now, stop_all=True)
        t.first_response_at = t.first_response_at or now
        emit.append(
            ev.TicketResolved(
                ticket_id=t.id,
                tenant_id=t.tenant_id,
                kind=t.kind,
                customer_id=t.customer_id,  # type: ignore[arg-type]
                customer_grade=t.customer_grade,
                asset_id=t.asset_id,
                priority=t.priority,
                path=t.path,  # type: ignore[arg-type]
                resolution=resolution,
                technician_id=t.technician_id,
                team_id=t.team_id,
                major=t.priority in ("P1", "P2") or t.kind == "complaint",
                resolution_on_time=met.get("resolution", met.get("complaint_fix")),
                contact_email=t.contact_email,
                contact_phone=t.contact_phone,
                locale=t.locale,
                resolved_at=now,
            )
        )
    elif target is S.CLOSED:
        emit.append(ev.TicketClosed(ticket_id=t.id, tenant_id=t.tenant_id, reason=reason or "agent", closed_at=now))
    elif target is S.CANCELLED:
        await clocks.change(now, stop_all=True, void=True)
        emit.append(
            ev.TicketCancelled(ticket_id=t.id, tenant_id=t.tenant_id, reason=reason or "cancelled", cancelled_at=now)
        )
    elif target is S.REOPENED:
        emit.append(
            ev.TicketReopened(
                ticket_id=t.id,
                tenant_id=t.tenant_id,
                reason=reason or "reopened",
                cause=cause,
                round=t.round,
                reopened_at=now,
            )
        )  # type: ignore[arg-type]
        await clocks.start(("resolution",) if t.kind != "complaint" else ("complaint_fix",), now)
    for e in emit:
        uow.emit(e, subject=t.id, tenant=t.tenant_id, causation=causation)
    if target is S.REOPENED:
        # a reopened ticket is triaged again at once, so dispatch can plan the next visit
        await transition(uow, t, S.TRIAGED, now=now, clocks=clocks, causation=causation)
