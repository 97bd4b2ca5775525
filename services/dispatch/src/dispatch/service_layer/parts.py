"""Parts and returns on their way: logistics' shipment updates book the follow-up visit once the
parts ship, and record a return reaching the warehouse."""

from __future__ import annotations

from dispatch.adapters.repository import Repository
from dispatch.domain.model import (
    JobStatus,
)
from dispatch.service_layer.jobs import PICKUP_PREFIX
from dispatch.service_layer.placement import _place
from dispatch.service_layer.planning import Planning, _claim
from fixflow_shared.events import Envelope
from fixflow_shared.events.contracts import dispatch as ev
from fixflow_shared.uow import UnitOfWork


async def _shipment_updated(
    uow: UnitOfWork, repo: Repository, *, envelope: Envelope, payload: ev.ShipmentUpdated, planning: Planning
) -> None:
    """Logistics answered a parts request: record the ETA; once shipped, book the follow-up visit."""
    await repo.lock_planning()
    pr = await repo.parts_request(payload.parts_request_id, lock=True)
    if pr is None:
        return  # not ours (or another tenant's): nothing to do
    if pr.id.startswith(PICKUP_PREFIX):  # a return on its way to the warehouse
        first_delivery = payload.status == "delivered" and pr.status != "delivered"
        pr.status, pr.shipment_id, pr.eta = payload.status, payload.shipment_id, payload.eta
        await repo.save_parts_request(pr)
        if first_delivery:
            uow.emit(
                ev.ReturnReceived(
                    ticket_id=pr.ticket_id,
                    tenant_id=pr.tenant_id,
                    pickup_request_id=pr.id,
                    shipment_id=payload.shipment_id,
                    carrier=payload.carrier,
                    received_at=payload.updated_at,
                ),
                subject=pr.ticket_id,
                tenant=pr.tenant_id,
                causation=envelope,
            )
        return
    pr.status, pr.shipment_id, pr.eta = payload.status, payload.shipment_id, payload.eta
    await repo.save_parts_request(pr)
    job = await repo.job(pr.job_id, lock=True) if pr.job_id else None
    if job is None or job.status != JobStatus.WAITING_PARTS:
        return
    now = uow.clock.now()
    # the parts reach their holder (the technician who asked for them) at the ETA: offers and the
    # follow-up visit wait for it; someone with them in the van could go sooner
    if payload.status == "delivered":
        job.parts_eta = min(now, payload.eta or now)
    elif payload.eta is not None:
        job.parts_eta = payload.eta
    if payload.status not in ("shipped", "delivered"):
        await repo.save_job(job)
        return
    job.status = JobStatus.OPEN
    await repo.save_job(job)
    await _place(uow, repo, job, planning=planning, now=now, causation=envelope)


async def shipment_updated(
    *, uow: UnitOfWork, consumer: str, envelope: Envelope, payload: ev.ShipmentUpdated, planning: Planning
) -> None:
    """logistics' shipment.updated: the ETA of requested parts or of a return (see _shipment_updated)."""
    async with uow:
        if (repo := await _claim(uow, consumer, envelope)) is None:
            return
        await _shipment_updated(uow, repo, envelope=envelope, payload=payload, planning=planning)
        await uow.commit()
