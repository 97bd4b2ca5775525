"""Events from every service: recorded on the ticket's timeline; dispatch's and survey's move it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from fixflow_shared.consumer import each_traced
from fixflow_shared.events import Envelope, Event, TicketEvent
from fixflow_shared.events.contracts import billing as bev
from fixflow_shared.events.contracts import dispatch as dev
from fixflow_shared.events.contracts import notify as nev
from fixflow_shared.events.contracts import survey as sev
from fixflow_shared.logs import get_logger
from fixflow_shared.uow import UnitOfWork
from intake.adapters.clocks import Clocks
from intake.adapters.repository import TicketRepository, TimelineRepository
from intake.domain.commands import OpenTicket
from intake.domain.exceptions import IllegalTransition
from intake.domain.model import Ticket, TicketStatus, external_moves
from intake.service_layer.deps import Deps, schedule_timers
from intake.service_layer.opening import open_in_uow
from intake.service_layer.transitions import transition

S = TicketStatus
log = get_logger(__name__)


async def apply_event(*, uow: UnitOfWork, deps: Deps, envelope: Envelope, payload: Event) -> None:
    """Record every event about a ticket on its timeline and move the ticket where it applies
    (one event, already inside its consumer span)."""
    await _apply(uow=uow, deps=deps, batch=[(envelope, payload)], each=iter)


async def apply_events(*, uow: UnitOfWork, deps: Deps, batch: list[tuple[Envelope, Event]]) -> None:
    """`apply_event` for a batch in one transaction, each event in its own consumer span."""
    await _apply(uow=uow, deps=deps, batch=batch, each=each_traced)


# notify's deliveries name a ticket when their trigger had one
_MAYBE_ABOUT_A_TICKET = (nev.DeliverySent, nev.DeliveryFailed, nev.DeliveryDeferred)
# dispatch's events that say which technician works the ticket now (an unassignment does not)
_NAMES_THE_TECHNICIAN = (
    dev.TechnicianAssigned,
    dev.TechnicianDelayed,
    dev.TechnicianEnRoute,
    dev.AppointmentBooked,
    dev.AppointmentRescheduled,
    dev.VisitStarted,
    dev.WorkOrderCompleted,
    dev.WorkOrderFailed,
)
_NAMES_THE_TEAM = (dev.TechnicianAssigned, dev.WorkOrderCompleted)
_CLOSE_REASONS = {
    sev.SurveyCompleted.type: "survey_satisfied",
    sev.SurveyExpired.type: "survey_expired",
    bev.PaymentReceived.type: "invoice_paid",
    bev.RefundIssued.type: "refunded",
    sev.DissatisfactionReported.type: "customer dissatisfied",
}


def _ticket_of(envelope: Envelope, payload: Event) -> str | None:
    if isinstance(payload, TicketEvent) and payload.ticket_id:
        return payload.ticket_id
    if isinstance(payload, _MAYBE_ABOUT_A_TICKET) and payload.ticket_id:
        return payload.ticket_id
    return envelope.correlationid


async def _apply(
    *,
    uow: UnitOfWork,
    deps: Deps,
    batch: list[tuple[Envelope, Event]],
    each: Callable[[list[tuple[Envelope, Event]]], Iterable[tuple[Envelope, Event]]],
) -> None:
    """One inbox statement, one timeline insert per tenant, then the moves of each ticket in the
    order the events came."""
    items = [(e, p, ticket_id) for e, p in batch if (ticket_id := _ticket_of(e, p))]
    if not items:
        return
    now = uow.clock.now()
    scheduled: list[tuple[str, datetime]] = []
    async with uow:
        fresh = await uow.claim_many("intake.apply", [e for e, _, _ in items])
        by_tenant: dict[str, list[tuple[Envelope, Event, str]]] = {}
        for item in items:
            if item[0].id in fresh:
                by_tenant.setdefault(item[0].tenantid, []).append(item)
        for tenant, group in by_tenant.items():
            await uow.scope_to_tenant(tenant)
            await TimelineRepository(uow.session).record_many(
                [
                    dict(
                        event_id=e.id,
                        tenant_id=tenant,
                        ticket_id=ticket_id,
                        type=e.type,
                        source=e.source,
                        time=e.time,
                        data=e.data,
                    )
                    for e, _, ticket_id in group
                ]
            )
            ticket_of = {e.id: ticket_id for e, _, ticket_id in group}
            moving = [(e, p) for e, p, _ in group if e.source != "/fixflow/intake"]
            for envelope, payload in each(moving):
                t = await TicketRepository(uow.session).get(tenant, ticket_of[envelope.id], for_update=True)
                if t is not None:
                    scheduled += await _apply_to_ticket(uow, deps, t, envelope, payload, now)
        await uow.commit()
    await schedule_timers(deps, scheduled)


def _repair_did_not_hold(reasons: Iterable[str]) -> bool:
    """A dissatisfaction with the effectiveness of the work (not only attitude or timeliness)."""
    return any(r.startswith("score:effectiveness") for r in reasons)


async def _apply_to_ticket(
    uow: UnitOfWork, deps: Deps, t: Ticket, envelope: Envelope, payload: Event, now: datetime
) -> list[tuple[str, datetime]]:
    policy = await deps.policies.get(uow.session, t.tenant_id)
    clocks = Clocks(uow, policy, t)
    et = envelope.type
    if isinstance(payload, _NAMES_THE_TECHNICIAN) and payload.technician_id:
        t.technician_id = payload.technician_id
    if isinstance(payload, _NAMES_THE_TEAM):
        t.team_id = payload.team_id
    if isinstance(payload, sev.DissatisfactionReported) and payload.suggested_action == "complaint":
        cmd = OpenTicket(
            tenant_id=t.tenant_id,
            kind="complaint",
            channel=t.channel,
            symptom=(payload.comment or "; ".join(payload.reasons))[:4000],
            customer_id=t.customer_id,
            contact_email=t.contact_email,
            contact_phone=t.contact_phone,
            locale=t.locale,
            complaint_level=2,
            original_ticket_id=t.id,
            source="dissatisfaction",
            check_duplicates=False,
        )
        opened, sched = await open_in_uow(uow, cmd, deps, now, envelope)
        if not _repair_did_not_hold(payload.reasons):
            return sched
        # the fix itself failed the customer: besides the complaint, the work is redone on this ticket
        clocks.scheduled.extend(sched)
    moves = external_moves(
        t.status,
        et,
        satisfied=payload.satisfied if isinstance(payload, sev.SurveyCompleted) else None,
        follow_up_needed=payload.follow_up_needed if isinstance(payload, dev.WorkOrderFailed) else True,
        appointment_reason=payload.reason if isinstance(payload, dev.AppointmentCancelled) else None,
        balance_due_minor=payload.balance_due_minor if isinstance(payload, bev.PaymentReceived) else None,
        ticket_kind=t.kind,
    )
    for target in moves:
        try:
            await transition(
                uow,
                t,
                target,
                now=now,
                clocks=clocks,
                causation=envelope,
                reason=_CLOSE_REASONS.get(et, ""),
                cause="dissatisfaction",
                resolution="return_received" if isinstance(payload, dev.ReturnReceived) else "work_order_completed",
            )
        except IllegalTransition:  # pragma: no cover - the table guarantees legality
            log.warning("event does not fit the ticket", ticket_id=t.id, status=t.status.value, event_type=et)
            break
    if moves or t.technician_id:
        await TicketRepository(uow.session).save(t)
    await clocks.flush()  # a later event of the same batch reads this ticket's clocks again
    return clocks.scheduled
