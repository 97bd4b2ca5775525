"""The service report of a completed work order: made in the completion's own transaction, so a
completed work order has exactly one report (a replayed completion is refused as a transition
before anything is made again), kept as the work order's attachment of kind "report".

Rendering is CPU work (reportlab; a fraction of a second for a report with a few large photos):
it runs in a worker thread, so the event loop keeps serving every other request meanwhile, as
the planner's searches do."""

from __future__ import annotations

import asyncio
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


async def make(
    repo: Repository,
    store: AttachmentStore,
    wo: WorkOrder,
    *,
    checklist: Checklist,
    job_kind: str,
    technician_name: str,
    signature_id: str | None,
    now: datetime,
) -> Attachment:
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
    facts = service_report.ReportFacts(
        ticket_id=wo.ticket_id,
        work_order_id=wo.id,
        job_kind=job_kind,
        technician_name=technician_name,
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
    pdf = await asyncio.to_thread(service_report.render, facts)
    report, _ = await keep(
        store,
        tenant_id=wo.tenant_id,
        work_order_id=wo.id,
        ticket_id=wo.ticket_id,
        kind="report",
        data=pdf,
        media_type="application/pdf",
        caption=f"Service report {wo.ticket_id} visit {wo.visit_number}",
        now=now,
    )
    return report
