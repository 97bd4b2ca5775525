"""The service report of a completed work order: made in the completion's own transaction, so a
completed work order has exactly one report (a replayed completion is refused as a transition
before anything is made again), kept as the work order's attachment of kind "report".

The photos' and the signature's bytes are read in one query. Rendering is CPU work (reportlab and
Pillow: 0.03 s without photos, under a second with six large ones, each scaled down to print size
first: bench/service_report.py). It runs in a worker thread, so the event loop keeps serving every
other request meanwhile, and the completion draws it before it takes the tenant's planning lock, so
no placement of the tenant waits for it: under the lock the report is drawn again only if what it
says changed meanwhile."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from dispatch.adapters import service_report
from dispatch.adapters.repository import Repository
from dispatch.domain.attachments import Attachment
from dispatch.domain.checklists import Checklist, ChecklistField
from dispatch.domain.model import WorkOrder
from dispatch.service_layer.attachments import AttachmentStore, keep


def answer_text(field: ChecklistField, value: object) -> str:
    """A checklist answer as the report prints it (a photo field's answer is the photo's id)."""
    if field.type == "photo":
        return "photo (below) 见照片"
    if value is True:
        return "yes 是"
    if value is False:
        return "no 否"
    return str(value)


@dataclass(frozen=True)
class Drawn:
    """A report rendered, and what it says."""

    facts: service_report.ReportFacts
    pdf: bytes


async def _facts(
    repo: Repository,
    store: AttachmentStore,
    wo: WorkOrder,
    *,
    checklist: Checklist,
    signature_id: str | None,
    now: datetime,
) -> service_report.ReportFacts:
    job = await repo.job(wo.job_id)
    tech = await repo.technician(wo.technician_id)
    photos_kept = [a for a in await store.of_work_order(wo.id) if a.kind == "photo"]
    # the photos' and the signature's bytes in one read, not one query per picture
    data = await store.data_of([a.id for a in photos_kept] + ([signature_id] if signature_id else []))
    photos = [service_report.ReportImage(data[a.id], a.caption or "") for a in photos_kept if data.get(a.id)]
    signature = service_report.ReportImage(data[signature_id]) if signature_id and data.get(signature_id) else None
    sign_off = wo.sign_off or {}
    return service_report.ReportFacts(
        ticket_id=wo.ticket_id,
        work_order_id=wo.id,
        job_kind=job.kind if job else "",
        technician_name=tech.name if tech else wo.technician_id,
        visit_number=wo.visit_number,
        arrived_at=wo.arrived_at,
        completed_at=now,
        resolution_code=wo.resolution_code or "",
        diagnosis=wo.diagnosis,
        parts=[(p.part_code, p.quantity, p.source) for p in wo.parts_used],
        labour_minutes=wo.labour_minutes,
        checklist_title=checklist.title,
        checklist=[
            (f.label, answer_text(f, wo.checklist_answers[f.key]))
            for f in checklist.fields
            if f.key in wo.checklist_answers
        ],
        signed_by=str(sign_off.get("signed_by") or ""),
        signed_at=datetime.fromisoformat(str(sign_off.get("signed_at") or now.isoformat())),
        signature=signature,
        photos=photos,
    )


async def draw(
    repo: Repository,
    store: AttachmentStore,
    wo: WorkOrder,
    *,
    checklist: Checklist,
    signature_id: str | None,
    now: datetime,
    before: Drawn | None = None,
) -> Drawn:
    """The report of the completed work order `wo`; `before` (drawn earlier) when it says the same."""
    facts = await _facts(repo, store, wo, checklist=checklist, signature_id=signature_id, now=now)
    if before is not None and before.facts == facts:
        return before
    return Drawn(facts, await asyncio.to_thread(service_report.render, facts))


async def keep_report(store: AttachmentStore, wo: WorkOrder, drawn: Drawn, *, now: datetime) -> Attachment:
    report, _ = await keep(
        store,
        tenant_id=wo.tenant_id,
        work_order_id=wo.id,
        ticket_id=wo.ticket_id,
        kind="report",
        data=drawn.pdf,
        media_type="application/pdf",
        caption=f"Service report {wo.ticket_id} visit {wo.visit_number}",
        now=now,
    )
    return report
