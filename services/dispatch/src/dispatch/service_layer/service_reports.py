"""The service report of a completed work order: made in the completion's own transaction, so a
completed work order has exactly one report (a replayed completion is refused as a transition
before anything is made again), kept as the work order's attachment of kind "report".

Rendering is CPU work (reportlab: 0.03 s without photos, 0.35-0.7 s with six large ones). It runs
in a worker thread, so the event loop keeps serving every other request meanwhile, and the
completion draws it before it takes the tenant's planning lock, so no placement of the tenant
waits for it: under the lock the report is drawn again only if what it says changed meanwhile."""

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
    kept = await store.of_work_order(wo.id)
    photos = []
    for a in kept:
        if a.kind == "photo":
            data = await store.data(a.id)
            if data:
                photos.append(service_report.ReportImage(data, a.caption or ""))
    signature = None
    if signature_id:
        data = await store.data(signature_id)
        signature = service_report.ReportImage(data) if data else None
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
