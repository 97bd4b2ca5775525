"""The technician's work orders: decline, en route, delay, arrival, work recorded, completion, failure."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from dispatch.adapters.repository import Repository
from dispatch.domain import commands, eta
from dispatch.domain.attachments import Attachment
from dispatch.domain.checklists import Checklist
from dispatch.domain.exceptions import IllegalTransition, NotFound, RuleViolation
from dispatch.domain.intervals import Interval
from dispatch.domain.model import (
    WO_ALLOWED,
    AppointmentStatus,
    JobStatus,
    PartsRequest,
    WorkOrder,
    WorkOrderStatus,
    new_id,
)
from dispatch.service_layer import checklists, service_reports
from dispatch.service_layer.attachments import AttachmentStore, database_store
from dispatch.service_layer.placement import _place
from dispatch.service_layer.planning import Planning, _unassign, _window
from dispatch.service_layer.replanning import Replanned, _replan
from fixflow_shared.events.contracts import dispatch as ev
from fixflow_shared.uow import UnitOfWork


async def _wo_for(repo: Repository, work_order_id: str) -> WorkOrder:
    wo = await repo.work_order(work_order_id, lock=True)
    if wo is None:
        raise NotFound("work order", work_order_id)
    return wo


async def decline(*, uow: UnitOfWork, tenant_id: str, work_order_id: str, reason: str | None) -> WorkOrder:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        await repo.lock_planning()
        wo = await _wo_for(repo, work_order_id)
        if wo.status != WorkOrderStatus.ASSIGNED:
            raise IllegalTransition("work order", wo.status, "declined")
        await _unassign(uow, repo, wo, reason="declined", detail=reason, now=uow.clock.now())
        await uow.commit()
    return wo


async def en_route(
    *,
    uow: UnitOfWork,
    tenant_id: str,
    work_order_id: str,
    planning: Planning,
    position: tuple[float, float] | None = None,
) -> WorkOrder:
    """The technician sets off: the work order gets its ETA (from the position the app sent, else
    the previous stop of the day, else home or the depot) and the customer is told
    (technician.en-route)."""
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        seen = await repo.work_order(work_order_id)
        if seen is None:
            raise NotFound("work order", work_order_id)
        seen.en_route(now)  # a work order that may not set off is refused (409) before anything is measured
        job = await repo.job(seen.job_id)
        tech = await repo.technician(seen.technician_id)
        assert job is not None and tech is not None
        appt = await repo.appointment(seen.appointment_id) if seen.appointment_id else None
        start_of_day = now - timedelta(hours=14)
        previous = None if position else await repo.last_stop_of(tech.id, since=start_of_day, other_than=seen.id)
        depot = tech.depot_lat is not None and tech.depot_lon is not None
        home = (tech.depot_lat, tech.depot_lon) if depot else (tech.home_lat, tech.home_lon)
        site = (job.lat, job.lon) if job.lat is not None and job.lon is not None else None
        # the travel time may come from a routing server (adapters/routing.py, a blocking HTTP call of
        # up to its timeout): asked in a worker thread, before the work order's row is locked, so
        # neither the event loop nor the work order's other writers wait for it (a work order keeps
        # its job and technician: the locked row below is the same visit)
        found = await asyncio.to_thread(
            eta.estimate,
            planning.distances,
            now=now,
            site=site,
            position=position,
            previous_stop=previous,
            home=home,  # type: ignore[arg-type]
        )
        wo = await _wo_for(repo, work_order_id)
        wo.en_route(now)
        wo.eta, wo.eta_from = (found.at, found.source) if found else (None, None)
        await repo.save_work_order(wo)
        uow.emit(
            ev.TechnicianEnRoute(
                ticket_id=wo.ticket_id,
                tenant_id=tenant_id,
                job_id=job.id,
                work_order_id=wo.id,
                technician_id=tech.id,
                technician_name=tech.name,
                technician_phone=tech.phone,
                window=_window(appt.window_start, appt.window_end) if appt else None,
                departed_at=now,
                eta=found.at if found else None,
                eta_from=found.source if found else None,  # type: ignore[arg-type]
                travel_minutes=found.minutes if found else None,
            ),
            subject=wo.ticket_id,
            tenant=tenant_id,
        )
        await uow.commit()
    return wo


async def report_delay(
    *, uow: UnitOfWork, tenant_id: str, work_order_id: str, minutes: int, planning: Planning
) -> tuple[WorkOrder, bool, Replanned]:
    """Late on the road: tell the customer; if the SLA (or the booked window) is lost and the visit is
    not pinned (en route, or its appointment confirmed), it goes to someone else at once; a pinned
    one stays, late. Either way the technician's later visits the delay pushes out of their windows
    are placed again (in-day replanning: as few moved as possible; pinned ones stay, late, and their
    customers are told the new time)."""
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        await repo.lock_planning()
        wo = await _wo_for(repo, work_order_id)
        if wo.status not in (WorkOrderStatus.ASSIGNED, WorkOrderStatus.EN_ROUTE):
            raise IllegalTransition("work order", wo.status, "delayed")
        job = await repo.job(wo.job_id, lock=True)
        tech = await repo.technician(wo.technician_id)
        assert job is not None and tech is not None
        appt = await repo.appointment(wo.appointment_id) if wo.appointment_id else None
        base = max(now, wo.planned_start or now)
        eta = base + timedelta(minutes=minutes)
        finish = eta + timedelta(minutes=job.duration_min)
        at_risk = bool(job.sla_deadline and finish > job.sla_deadline) or bool(appt and eta > appt.window_end)
        uow.emit(
            ev.TechnicianDelayed(
                ticket_id=wo.ticket_id,
                tenant_id=tenant_id,
                job_id=job.id,
                work_order_id=wo.id,
                technician_id=tech.id,
                technician_name=tech.name,
                technician_phone=tech.phone,
                window=_window(appt.window_start, appt.window_end) if appt else None,
                new_eta=eta,
                delay_minutes=minutes,
                sla_at_risk=at_risk,
                reported_at=now,
            ),
            subject=wo.ticket_id,
            tenant=tenant_id,
        )
        reason = f"{tech.name} {minutes} min late"
        # a pinned visit (en route, or its appointment confirmed) stays with its technician, late
        pinned = wo.status == WorkOrderStatus.EN_ROUTE or bool(appt and appt.status == AppointmentStatus.CONFIRMED)
        if at_risk and not pinned:
            await _unassign(uow, repo, wo, reason="delayed", detail=f"{minutes} min late", now=now)
            job.status = JobStatus.OPEN
            first = await _replan(
                uow, repo, [job], previous={job.id: wo}, now=now, planning=planning, reason=reason, exclude={tech.id}
            )
        else:
            wo.planned_start = eta
            wo.planned_end = finish
            await repo.save_work_order(wo)
            first = Replanned()
        later = await _replan(
            uow,
            repo,
            [],
            previous={},
            now=now,
            planning=planning,
            reason=reason,
            blocked={tech.id: Interval(now, eta)},
            pinned={wo.id} if wo.status != WorkOrderStatus.UNASSIGNED else frozenset(),
        )
        await uow.commit()
    replanned = Replanned(
        moved=first.moved + later.moved,
        unplaced=first.unplaced | later.unplaced,
        retimed=first.retimed + later.retimed,
        late=first.late | later.late,
        elapsed_ms=first.elapsed_ms + later.elapsed_ms,
    )
    return wo, at_risk, replanned


async def arrive(
    *, uow: UnitOfWork, tenant_id: str, work_order_id: str, lat: float | None, lon: float | None
) -> WorkOrder:
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        await repo.lock_planning()
        wo = await _wo_for(repo, work_order_id)
        appt = await repo.appointment(wo.appointment_id) if wo.appointment_id else None
        if appt is not None:
            wo.planned_start, wo.planned_end = appt.window_start, appt.window_end
        on_time = wo.arrive(now, lat, lon)
        await repo.save_work_order(wo)
        found = await repo.set_job_status(wo.job_id, JobStatus.IN_PROGRESS)
        assert found
        uow.emit(
            ev.VisitStarted(
                ticket_id=wo.ticket_id,
                tenant_id=tenant_id,
                work_order_id=wo.id,
                technician_id=wo.technician_id,
                visit_number=wo.visit_number,
                arrived_at=now,
                on_time=on_time,
            ),
            subject=wo.ticket_id,
            tenant=tenant_id,
        )
        await uow.commit()
    return wo


async def record_work(*, uow: UnitOfWork, cmd: commands.RecordWork) -> WorkOrder:
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = Repository(uow.session, cmd.tenant_id, uow.clock)
        await repo.lock_planning()
        wo = await _wo_for(repo, cmd.work_order_id)
        wo.record(diagnosis=cmd.diagnosis, parts=cmd.parts, labour_minutes=cmd.labour_minutes, photos=cmd.photos)
        van = [p for p in cmd.parts if p.source == "van_stock"]
        if van:
            tech = await repo.technician(wo.technician_id, lock=True)
            assert tech is not None
            for p in van:
                tech.take_from_van(p.part_code, p.quantity)
            await repo.save_technician(tech)
        await repo.save_work_order(wo)
        await uow.commit()
    return wo


def _part_lines(parts: list[Any]) -> list[ev.PartLine]:
    return [ev.PartLine(part_code=p.part_code, quantity=p.quantity, source=p.source) for p in parts]


async def _signed_off(
    repo: Repository, store: AttachmentStore, cmd: commands.CompleteWorkOrder, *, now: datetime, lock: bool
) -> tuple[WorkOrder, Checklist, Attachment | None]:
    """The work order as the completion leaves it (not saved yet): the checklist answers merged and
    complete, the sign-off linked to the signature image the customer drew (uploaded before)."""
    wo = await _wo_for(repo, cmd.work_order_id) if lock else await repo.work_order(cmd.work_order_id)
    if wo is None:
        raise NotFound("work order", cmd.work_order_id)
    if WorkOrderStatus.COMPLETED not in WO_ALLOWED[wo.status]:
        raise IllegalTransition("work order", wo.status, WorkOrderStatus.COMPLETED, allowed=WO_ALLOWED[wo.status])
    checklist = await checklists.for_work_order(repo, wo)
    if cmd.checklist:
        await checklists.merge(store, wo, checklist, cmd.checklist)
    checklist.require_complete(wo.checklist_answers)  # 422 naming the required fields left empty
    sign_off: dict[str, object] = {
        "signed_by": cmd.signed_by,
        "signed_at": cmd.signed_at.isoformat(),
        "signature_sha256": cmd.signature_sha256,
    }
    signature = await store.find(wo.id, "signature", cmd.signature_sha256)
    if signature is not None:
        sign_off["signature_attachment_id"] = signature.id
    wo.complete(resolution_code=cmd.resolution_code, sign_off=sign_off, rating=cmd.rating, at=now, facts=cmd.facts)
    return wo, checklist, signature


async def complete(*, uow: UnitOfWork, cmd: commands.CompleteWorkOrder) -> WorkOrder:
    now = uow.clock.now()
    if cmd.signed_at > now + timedelta(minutes=5):
        raise RuleViolation("the sign-off time is in the future")
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = Repository(uow.session, cmd.tenant_id, uow.clock)
        store = database_store(uow, cmd.tenant_id)
        # the service report is drawn first, from the work order as it is now, before the tenant's
        # planning lock is taken (service_reports.py): a refused completion (409, 422) is answered
        # without waiting for the lock, and under it the report is drawn again only if it changed
        seen, checklist, signature = await _signed_off(repo, store, cmd, now=now, lock=False)
        signature_id = signature.id if signature else None
        draft = await service_reports.draw(repo, store, seen, checklist=checklist, signature_id=signature_id, now=now)
        await repo.lock_planning()
        wo, checklist, signature = await _signed_off(repo, store, cmd, now=now, lock=True)
        signature_id = signature.id if signature else None
        drawn = await service_reports.draw(
            repo, store, wo, checklist=checklist, signature_id=signature_id, now=now, before=draft
        )
        report = await service_reports.keep_report(store, wo, drawn, now=now)
        assert wo.sign_off is not None
        wo.sign_off["service_report_id"] = report.id
        tech = await repo.technician(wo.technician_id)
        await repo.save_work_order(wo)
        found = await repo.set_job_status(wo.job_id, JobStatus.DONE)
        assert found
        if wo.appointment_id:
            await repo.finish_appointment(wo.appointment_id)  # if booked or confirmed
        uow.emit(
            ev.WorkOrderCompleted(
                ticket_id=wo.ticket_id,
                tenant_id=cmd.tenant_id,
                work_order_id=wo.id,
                job_id=wo.job_id,
                technician_id=wo.technician_id,
                visit_number=wo.visit_number,
                parts_used=_part_lines(wo.parts_used),
                labour_minutes=wo.labour_minutes,
                resolution_code=cmd.resolution_code,
                diagnosis=wo.diagnosis,
                sign_off=ev.CustomerSignOff(
                    signed_by=cmd.signed_by,
                    signed_at=cmd.signed_at,
                    signature_sha256=cmd.signature_sha256,
                    rating=cmd.rating,
                ),
                first_time_fix=wo.visit_number == 1,
                completed_at=now,
                work_type=cmd.facts.work_type,  # type: ignore[arg-type]  # checked by CompletionFacts
                fault_origin=cmd.facts.fault_origin,  # type: ignore[arg-type]
                fault_cause=cmd.facts.fault_cause,
                adjustments=cmd.facts.adjustments,
                freight=cmd.facts.freight,
                internal=cmd.facts.internal,
                team_id=tech.team_id if tech is not None else None,
                service_report_id=report.id,
            ),
            subject=wo.ticket_id,
            tenant=cmd.tenant_id,
        )
        await uow.commit()
    return wo


async def fail(
    *, uow: UnitOfWork, cmd: commands.FailWorkOrder, planning: Planning
) -> tuple[WorkOrder, PartsRequest | None]:
    """Needs parts (request them, wait for the shipment), customer absent (re-book), escalated (team lead)."""
    now = uow.clock.now()
    outcome = WorkOrderStatus(cmd.outcome)
    if outcome == WorkOrderStatus.NEEDS_PARTS and not cmd.parts_needed:
        raise RuleViolation("name the parts needed")
    request: PartsRequest | None = None
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = Repository(uow.session, cmd.tenant_id, uow.clock)
        await repo.lock_planning()
        wo = await _wo_for(repo, cmd.work_order_id)
        wo.fail(outcome, note=cmd.note, at=now)
        await repo.save_work_order(wo)
        job = await repo.job(wo.job_id, lock=True)
        assert job is not None
        if wo.appointment_id:
            appt = await repo.appointment(wo.appointment_id, lock=True)
            if appt is not None and appt.status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
                appt.status = AppointmentStatus.DONE
                await repo.save_appointment(appt)
        uow.emit(
            ev.WorkOrderFailed(
                ticket_id=wo.ticket_id,
                tenant_id=cmd.tenant_id,
                work_order_id=wo.id,
                job_id=job.id,
                technician_id=wo.technician_id,
                visit_number=wo.visit_number,
                outcome=cmd.outcome,
                reason=cmd.note,
                labour_minutes=wo.labour_minutes,  # type: ignore[arg-type]
                parts_used=_part_lines(wo.parts_used),
                follow_up_needed=outcome != WorkOrderStatus.ESCALATED,
                failed_at=now,
            ),
            subject=wo.ticket_id,
            tenant=cmd.tenant_id,
        )
        if outcome == WorkOrderStatus.NEEDS_PARTS:
            request = PartsRequest(
                id=new_id("PR"),
                tenant_id=cmd.tenant_id,
                ticket_id=wo.ticket_id,
                job_id=job.id,
                work_order_id=wo.id,
                parts=list(cmd.parts_needed),
            )
            await repo.add_parts_request(request)
            job.status = JobStatus.WAITING_PARTS
            # the follow-up needs these parts; the warehouse ships them to this technician
            job.parts = {p.part_code: p.quantity for p in cmd.parts_needed}
            job.parts_holder, job.parts_eta = wo.technician_id, None
            lines = [
                ev.PartLine(part_code=p.part_code, quantity=p.quantity, source="warehouse") for p in cmd.parts_needed
            ]
            uow.emit(
                ev.PartsRequested(
                    ticket_id=wo.ticket_id,
                    tenant_id=cmd.tenant_id,
                    parts_request_id=request.id,
                    work_order_id=wo.id,
                    parts=lines,
                    requested_at=now,
                ),
                subject=wo.ticket_id,
                tenant=cmd.tenant_id,
            )
            uow.emit(
                ev.PartsRequestSubmitted(
                    ticket_id=wo.ticket_id,
                    tenant_id=cmd.tenant_id,
                    parts_request_id=request.id,
                    parts=lines,
                    technician_id=wo.technician_id,
                    needed_by=job.sla_deadline,
                    requested_at=now,
                ),
                subject=wo.ticket_id,
                tenant=cmd.tenant_id,
            )
            await repo.save_job(job)
        elif outcome == WorkOrderStatus.CUSTOMER_ABSENT:
            # note left; the next visit is booked at once, from two hours on
            job.status = JobStatus.OPEN
            job.earliest = now + timedelta(hours=2)
            await repo.save_job(job)
            await _place(uow, repo, job, planning=planning, now=now)
        else:
            job.status = JobStatus.OPEN  # escalated: the team lead decides; the batch optimiser may re-plan
            await repo.save_job(job)
        await uow.commit()
    return wo, request
