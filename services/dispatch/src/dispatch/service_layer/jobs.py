"""Jobs from intake's tickets: create, refine or drop a ticket's job (on-site path), return pickups,
quote decisions, cancellations, and a dispatcher's edits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dispatch.adapters.repository import Repository
from dispatch.domain.exceptions import IllegalTransition, NotFound
from dispatch.domain.model import (
    AppointmentStatus,
    Job,
    JobStatus,
    PartsRequest,
    WorkOrder,
    WorkOrderStatus,
    new_id,
)
from dispatch.service_layer.placement import _place
from dispatch.service_layer.planning import Planning, _claim, _unassign, _window
from dispatch.service_layer.technicians import _check_skills
from fixflow_shared.events import Envelope
from fixflow_shared.events.contracts import dispatch as ev
from fixflow_shared.events.contracts import intake as iev
from fixflow_shared.events.contracts.intake import TicketTriaged
from fixflow_shared.uow import UnitOfWork

ON_SITE_KINDS = ("installation", "maintenance")  # on site by nature, even before triage
PRIORITY_SLA_HOURS = {"P1": 8, "P2": 24, "P3": 48, "P4": 72}


TicketFacts = iev.TicketOpened | iev.TicketTriaged  # what a job is made (and refined) from


def _job_fields(payload: TicketFacts, opened_at: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if payload.customer_id:  # whose ticket: a customer reaches its own jobs only
        out["customer_id"] = payload.customer_id
    site = payload.site
    if site is not None and site.lat is not None and site.lon is not None:
        out["lat"], out["lon"] = site.lat, site.lon
    if site is not None and site.region:
        out["region"] = site.region  # only technicians covering it go
    if payload.priority:
        out["priority"] = payload.priority
    sla = payload.sla
    due = (sla.on_site_arrival_due or sla.resolution_due) if sla else None
    if due is not None:
        out["sla_deadline"] = due
    elif "priority" in out:
        out["sla_deadline"] = opened_at + timedelta(hours=PRIORITY_SLA_HOURS[out["priority"]])
    if isinstance(payload, iev.TicketTriaged):  # triage decides skills and duration
        if payload.required_skills:
            out["required_skills"] = {s: 1 for s in payload.required_skills}
        if payload.estimated_minutes:
            out["duration_min"] = max(15, min(int(payload.estimated_minutes), 480))
    rw = payload.requested_window
    if rw is not None:
        out["requested_start"], out["requested_end"] = rw.start, rw.end
        out["earliest"] = rw.start
    return out


async def _job_from_ticket(
    uow: UnitOfWork, repo: Repository, *, envelope: Envelope, payload: TicketFacts, planning: Planning
) -> Job | None:
    """ticket.opened / ticket.triaged: create (or refine) the ticket's job when the path is on site.
    A return within its window gets a pickup request to logistics instead (see _request_pickup).

    Only triage places a job: ticket.opened carries neither the skills nor the duration, so the job
    it creates waits (`awaiting_triage`) for the ticket.triaged that intake sends once the facts are
    complete. One placement per triage, with triage's skills, duration and path in force."""
    path = payload.path
    kind = payload.kind
    if kind == "return":
        await _request_pickup(uow, repo, envelope=envelope, payload=payload)
    if path is not None and path != "on_site":
        # triaged (again) as remote or send-in: a visit planned earlier is no longer needed
        existing = await repo.job_for_ticket(payload.ticket_id)
        if existing is not None and existing.status in LIVE_BEFORE_VISIT:
            await _cancel_job_for_ticket(
                uow, repo, envelope=envelope, ticket_id=payload.ticket_id, detail=f"triaged {path}"
            )
        return None
    if path is None and kind not in ON_SITE_KINDS:
        return None  # a repair waits for triage to decide between remote and on-site
    triaged = isinstance(payload, TicketTriaged)
    now = uow.clock.now()
    opened_at = payload.opened_at if isinstance(payload, iev.TicketOpened) else payload.triaged_at
    fields = _job_fields(payload, opened_at)
    await repo.lock_planning()  # always before row locks: one lock order, no deadlocks
    job = await repo.job_for_ticket(payload.ticket_id, lock=True)
    created, previous = False, None
    if job is None:
        job = Job(
            id=new_id("JOB"),
            tenant_id=envelope.tenantid,
            ticket_id=payload.ticket_id,
            kind=kind,
            status=JobStatus.AWAITING_TRIAGE,
            created_at=now,
        )
        for k, v in fields.items():
            setattr(job, k, v)
        if job.sla_deadline is None:
            job.sla_deadline = opened_at + timedelta(hours=PRIORITY_SLA_HOURS[job.priority])
        if triaged:
            job.status = JobStatus.AWAITING_CONSENT if needs_consent(payload) else _ready(job)
        created = await repo.add_job(job)
        uow.joins_ticket_trace(job.id)  # no event names a job before its booking
        if not created:  # a concurrent event created it first
            job = await repo.job_for_ticket(payload.ticket_id, lock=True)
            assert job is not None
    elif isinstance(payload, TicketTriaged):
        previous = await _refine_by_triage(uow, repo, job, payload=payload, fields=fields, now=now)
    if job.plannable:
        await _place(uow, repo, job, planning=planning, now=now, causation=envelope, new_job=created, previous=previous)
    return job


LIVE_BEFORE_VISIT = (
    JobStatus.AWAITING_TRIAGE,
    JobStatus.INCOMPLETE,
    JobStatus.OPEN,
    JobStatus.ASSIGNED,
    JobStatus.AWAITING_CONSENT,
)


async def _refine_by_triage(
    uow: UnitOfWork,
    repo: Repository,
    job: Job,
    *,
    payload: TicketTriaged,
    fields: dict[str, Any],
    now: datetime,
) -> WorkOrder | None:
    """A triage of a ticket that already has a job: the first one releases it for planning, a later
    one (an agent's retriage, a reopened ticket) refines it. A visit already planned is kept unless
    the triage changed what it needs (skills, duration): then it is planned again, and the work
    order it replaces is returned."""
    reopened = payload.round > 1 and job.status in (JobStatus.DONE, JobStatus.CANCELLED)
    if reopened:
        job.status = JobStatus.OPEN  # the ticket was reopened and triaged again: a new visit
        job.earliest = None
    if job.status == JobStatus.ASSIGNED:
        changed = any(k in fields and getattr(job, k) != fields[k] for k in ("required_skills", "duration_min"))
        for k, v in fields.items():
            setattr(job, k, v)
        await repo.save_job(job)
        wo = await repo.active_work_order_of_job(job.id, lock=True)
        if changed and wo is not None and wo.status == WorkOrderStatus.ASSIGNED:
            await _unassign(uow, repo, wo, reason="rebalanced", detail="triage changed the visit", now=now)
            job.status = JobStatus.OPEN
            return wo
        return None
    if job.status not in (JobStatus.AWAITING_TRIAGE, JobStatus.INCOMPLETE, JobStatus.OPEN, JobStatus.AWAITING_CONSENT):
        return None
    for k, v in fields.items():
        setattr(job, k, v)
    if reopened and "sla_deadline" not in fields:
        job.sla_deadline = now + timedelta(hours=PRIORITY_SLA_HOURS[job.priority])
    if job.status == JobStatus.AWAITING_TRIAGE and needs_consent(payload):
        job.status = JobStatus.AWAITING_CONSENT
    elif job.status != JobStatus.AWAITING_CONSENT:
        job.status = _ready(job)
    await repo.save_job(job)
    return None


PICKUP_PREFIX = "PU-"


def pickup_request_id(ticket_id: str) -> str:
    """One pickup per return ticket: the id follows from the ticket (replays and the opened/triaged
    pair find the same row)."""
    return PICKUP_PREFIX + ticket_id


async def _request_pickup(
    uow: UnitOfWork, repo: Repository, *, envelope: Envelope, payload: TicketFacts
) -> PartsRequest | None:
    """A return (退换货) accepted by intake's return-window decision: ask logistics to collect the
    item and bring it to the warehouse. Kept as a parts request without job or work order (status
    requested -> picked -> delivered), so logistics answers on the same shipments topic."""
    warranty = payload.warranty if isinstance(payload, iev.TicketOpened) else None
    status = payload.warranty_status or (warranty.status if warranty else None)
    if status != "return_window_open":
        return None  # not returnable / unknown: an agent decides, nothing is collected
    pr_id = pickup_request_id(payload.ticket_id)
    if await repo.parts_request(pr_id) is not None:
        return None
    pr = PartsRequest(
        id=pr_id, tenant_id=envelope.tenantid, ticket_id=payload.ticket_id, job_id=None, work_order_id=None, parts=[]
    )
    await repo.add_parts_request(pr)
    site = payload.site
    uow.emit(
        ev.PickupRequestSubmitted(
            ticket_id=payload.ticket_id,
            tenant_id=envelope.tenantid,
            pickup_request_id=pr_id,
            customer_id=payload.customer_id,
            asset_id=payload.asset_id,
            product_model=payload.product_model,
            serial=payload.serial if isinstance(payload, iev.TicketOpened) else None,
            site=site.model_dump(mode="json") if site is not None else None,
            return_window_ends_on=(
                warranty.return_window_ends_on.isoformat()
                if warranty is not None and warranty.return_window_ends_on
                else None
            ),
            requested_at=uow.clock.now(),
        ),
        subject=payload.ticket_id,
        tenant=envelope.tenantid,
        causation=envelope,
    )
    return pr


def _ready(job: Job) -> JobStatus:
    return JobStatus.OPEN if job.lat is not None else JobStatus.INCOMPLETE


def _round(payload: TicketFacts) -> int:
    """1 on opening, 2.. after each reopen (triage counts the rounds)."""
    return payload.round if isinstance(payload, iev.TicketTriaged) else 1


def needs_consent(payload: TicketFacts) -> bool:
    """An out-of-warranty repair is paid work: the customer accepts the quote before a visit is
    booked (plan and consent come before dispatch). A reopened ticket (round > 1) is rework and
    does not ask again."""
    return payload.kind == "repair" and payload.warranty_status == "out_of_warranty" and _round(payload) == 1


async def _quote_decided(
    uow: UnitOfWork, repo: Repository, *, envelope: Envelope, ticket_id: str, accepted: bool, planning: Planning
) -> Job | None:
    """billing's quote.accepted releases a job waiting for consent (and places it at once);
    quote.rejected cancels it. A job in any other state is left alone (a quote for extra work
    found on site, a replay)."""
    await repo.lock_planning()
    job = await repo.job_for_ticket(ticket_id, lock=True)
    if job is None or job.status != JobStatus.AWAITING_CONSENT:
        return job
    if not accepted:
        await _cancel_job_for_ticket(uow, repo, envelope=envelope, ticket_id=ticket_id, detail="quote rejected")
        return job
    job.status = _ready(job)
    await repo.save_job(job)
    if job.plannable:
        await _place(uow, repo, job, planning=planning, now=uow.clock.now(), causation=envelope)
    return job


async def _cancel_job_for_ticket(
    uow: UnitOfWork, repo: Repository, *, envelope: Envelope, ticket_id: str, detail: str = "ticket cancelled"
) -> None:
    """The ticket was cancelled, or resolved without us (remote fix): drop the job and its visit."""
    await repo.lock_planning()
    job = await repo.job_for_ticket(ticket_id, lock=True)
    if job is None or job.status in (JobStatus.DONE, JobStatus.CANCELLED):
        return
    now = uow.clock.now()
    wo = await repo.active_work_order_of_job(job.id, lock=True)
    if wo is not None and wo.status != WorkOrderStatus.ON_SITE:
        await _unassign(uow, repo, wo, reason="cancelled", detail=detail, now=now, causation=envelope)
    for a in await repo.appointments_of_job(job.id):
        if a.status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
            a.cancel("ticket_cancelled")
            await repo.save_appointment(a)
            uow.emit(
                ev.AppointmentCancelled(
                    ticket_id=job.ticket_id,
                    tenant_id=job.tenant_id,
                    appointment_id=a.id,
                    job_id=job.id,
                    window=_window(a.window_start, a.window_end),
                    reason="ticket_cancelled",
                    detail=detail,
                    cancelled_at=now,
                ),
                subject=job.ticket_id,
                tenant=job.tenant_id,
                causation=envelope,
            )
    job.status = JobStatus.CANCELLED
    await repo.save_job(job)


async def update_job(
    *, uow: UnitOfWork, tenant_id: str, job_id: str, changes: dict[str, Any], planning: Planning
) -> Job:
    """A dispatcher completes or corrects a job (location, skills, duration); an open job is then placed."""
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        await repo.lock_planning()
        job = await repo.job(job_id, lock=True)
        if job is None:
            raise NotFound("job", job_id)
        if job.status not in (JobStatus.AWAITING_TRIAGE, JobStatus.INCOMPLETE, JobStatus.OPEN):
            raise IllegalTransition("job", job.status, "edited")
        if "required_skills" in changes:
            await _check_skills(repo, changes["required_skills"])
        for k, v in changes.items():
            setattr(job, k, v)
        if job.status != JobStatus.AWAITING_TRIAGE:  # triage places it once it comes
            job.status = _ready(job)
        await repo.save_job(job)
        if job.plannable:
            await _place(uow, repo, job, planning=planning, now=uow.clock.now())
        await uow.commit()
    return job


async def job_from_ticket(
    *, uow: UnitOfWork, consumer: str, envelope: Envelope, payload: TicketFacts, planning: Planning
) -> Job | None:
    """ticket.opened / ticket.triaged: create, refine or drop the ticket's job (see _job_from_ticket)."""
    async with uow:
        if (repo := await _claim(uow, consumer, envelope)) is None:
            return None
        job = await _job_from_ticket(uow, repo, envelope=envelope, payload=payload, planning=planning)
        await uow.commit()
    return job


async def quote_decided(
    *, uow: UnitOfWork, consumer: str, envelope: Envelope, ticket_id: str, accepted: bool, planning: Planning
) -> Job | None:
    """billing's quote.accepted / quote.rejected (see _quote_decided)."""
    async with uow:
        if (repo := await _claim(uow, consumer, envelope)) is None:
            return None
        job = await _quote_decided(
            uow, repo, envelope=envelope, ticket_id=ticket_id, accepted=accepted, planning=planning
        )
        await uow.commit()
    return job


async def cancel_job_for_ticket(
    *, uow: UnitOfWork, consumer: str, envelope: Envelope, ticket_id: str, detail: str = "ticket cancelled"
) -> None:
    """ticket.cancelled, or ticket.resolved without a visit (see _cancel_job_for_ticket)."""
    async with uow:
        if (repo := await _claim(uow, consumer, envelope)) is None:
            return
        await _cancel_job_for_ticket(uow, repo, envelope=envelope, ticket_id=ticket_id, detail=detail)
        await uow.commit()
