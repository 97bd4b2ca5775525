"""HTTP: attachments of a work order (the customer's signature image, photos, the service report)
and the checklists per job kind with a work order's answers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from dispatch.domain.attachments import MAX_BYTES, Attachment, BadAttachment
from dispatch.domain.checklists import Checklist
from dispatch.entrypoints.routes.deps import Code, RuntimeDep
from dispatch.entrypoints.routes.owners import attachment_owner, ticket_job_owner, work_order_owner
from dispatch.service_layer import attachments, checklists
from fixflow_shared.access import Access, Authorize
from fixflow_shared.problems import problem_responses

router = APIRouter(tags=["attachments and checklists"])
Attach = Annotated[Access, Depends(Authorize("work_orders.attach", owner=work_order_owner, what="work order"))]
WorkOrdersRead = Annotated[Access, Depends(Authorize("work_orders.read", owner=work_order_owner, what="work order"))]
Answer = Annotated[Access, Depends(Authorize("work_orders.checklist", owner=work_order_owner, what="work order"))]
AttachmentRead = Annotated[Access, Depends(Authorize("attachments.read", owner=attachment_owner, what="attachment"))]
TicketAttachments = Annotated[
    Access, Depends(Authorize("attachments.list", owner=ticket_job_owner, what="attachments for ticket"))
]
ChecklistsRead = Annotated[Access, Depends(Authorize("checklists.read"))]
ChecklistsWrite = Annotated[Access, Depends(Authorize("checklists.write"))]
JobKind = Literal["repair", "installation", "maintenance", "return", "complaint", "consultation"]
Kind = Literal["signature", "photo", "report"]


class AttachmentOut(BaseModel):
    id: str
    work_order_id: str
    ticket_id: str
    kind: str
    media_type: str
    size: int
    sha256: str
    caption: str | None
    created_at: str

    @classmethod
    def of(cls, a: Attachment) -> AttachmentOut:
        return cls.model_validate(a.as_dict())


class FieldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")
    label: str = Field(min_length=1, max_length=200)
    type: Literal["text", "number", "yes_no", "photo"]
    required: bool = False


class ChecklistIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Code
    title: str = Field(min_length=1, max_length=200)
    fields: list[FieldIn] = Field(min_length=1, max_length=40)


class AnswersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: dict[str, str | float | bool | None] = Field(
        max_length=40, description="field key -> answer: text, a number, true/false, a photo's attachment id"
    )


def _checklist_view(c: Checklist, answers: dict[str, Any] | None = None) -> dict[str, Any]:
    out = c.as_dict()
    if answers is not None:
        out["answers"] = answers
        out["missing"] = [f.key for f in c.missing(answers)]
    return out


@router.post(
    "/work-orders/{work_order_id}/attachments",
    status_code=201,
    response_model=AttachmentOut,
    responses={
        **problem_responses(404, 409, 422),
        200: {"model": AttachmentOut, "description": "the same bytes were kept before: that attachment"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": f"the bytes of the image (at most {MAX_BYTES} bytes), their type in Content-Type",
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}} for t in ("image/png", "image/jpeg", "image/webp")
            },
        }
    },
)
async def add_attachment(
    work_order_id: str,
    request: Request,
    principal: Attach,
    rt: RuntimeDep,
    kind: Annotated[Literal["photo", "signature"], Query()],
    caption: Annotated[str | None, Query(max_length=200)] = None,
) -> JSONResponse:
    """A photo or the customer's signature (PNG), checked by its first bytes. The same bytes sent
    again for the same work order and kind answer the attachment kept before (200)."""
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BYTES:
            raise BadAttachment(f"an attachment may have at most {MAX_BYTES} bytes", limit=MAX_BYTES)
    a, created = await attachments.add(
        uow=rt.uow(),
        tenant_id=principal.tenant,
        work_order_id=work_order_id,
        kind=kind,
        data=data,
        declared_type=request.headers.get("content-type"),
        caption=caption,
    )
    return JSONResponse(AttachmentOut.of(a).model_dump(), status_code=201 if created else 200)


@router.get(
    "/work-orders/{work_order_id}/attachments",
    response_model=list[AttachmentOut],
    responses=problem_responses(404),
)
async def work_order_attachments(work_order_id: str, principal: WorkOrdersRead, rt: RuntimeDep) -> list[AttachmentOut]:
    found = await attachments.listing(uow=rt.uow(), tenant_id=principal.tenant, work_order_id=work_order_id)
    return [AttachmentOut.of(a) for a in found]


@router.get(
    "/tickets/{ticket_id}/attachments",
    response_model=list[AttachmentOut],
    responses=problem_responses(404),
)
async def ticket_attachments(
    ticket_id: str, principal: TicketAttachments, rt: RuntimeDep, kind: Annotated[Kind | None, Query()] = None
) -> list[AttachmentOut]:
    """The ticket's attachments (the service report: kind=report), for its customer and the office."""
    found = await attachments.listing(uow=rt.uow(), tenant_id=principal.tenant, ticket_id=ticket_id, kind=kind)
    return [AttachmentOut.of(a) for a in found]


@router.get(
    "/attachments/{attachment_id}",
    responses={
        **problem_responses(404),
        200: {"content": {t: {} for t in ("image/png", "image/jpeg", "image/webp", "application/pdf")}},
    },
)
async def read_attachment(attachment_id: str, principal: AttachmentRead, rt: RuntimeDep) -> Response:
    """The bytes, for the work order's technician, the ticket's customer and the office."""
    a, data = await attachments.read(uow=rt.uow(), tenant_id=principal.tenant, attachment_id=attachment_id)
    return Response(
        data,
        media_type=a.media_type,
        headers={
            "Cache-Control": "private, max-age=3600",
            "ETag": f'"{a.sha256}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/checklists/{job_kind}", responses=problem_responses(404))
async def read_checklist(job_kind: JobKind, principal: ChecklistsRead, rt: RuntimeDep) -> dict[str, Any]:
    """The tenant's checklist for the job kind (`default: true`: none configured, Fixflow's default)."""
    c = await checklists.read_config(uow=rt.uow(), tenant_id=principal.tenant, job_kind=job_kind)
    return _checklist_view(c)


@router.put("/checklists/{job_kind}", responses=problem_responses(404, 422))
async def put_checklist(
    job_kind: JobKind, body: ChecklistIn, principal: ChecklistsWrite, rt: RuntimeDep
) -> dict[str, Any]:
    c = await checklists.configure(
        uow=rt.uow(),
        tenant_id=principal.tenant,
        job_kind=job_kind,
        code=body.code,
        title=body.title,
        fields=[f.model_dump() for f in body.fields],
    )
    return _checklist_view(c)


@router.delete("/checklists/{job_kind}", responses=problem_responses(404))
async def reset_checklist(job_kind: JobKind, principal: ChecklistsWrite, rt: RuntimeDep) -> dict[str, Any]:
    """Back to Fixflow's default checklist for the kind."""
    return _checklist_view(await checklists.reset(uow=rt.uow(), tenant_id=principal.tenant, job_kind=job_kind))


@router.get("/work-orders/{work_order_id}/checklist", responses=problem_responses(404))
async def work_order_checklist(work_order_id: str, principal: WorkOrdersRead, rt: RuntimeDep) -> dict[str, Any]:
    """The job kind's checklist with this work order's answers and the required fields still empty."""
    c, answers = await checklists.of_work_order(uow=rt.uow(), tenant_id=principal.tenant, work_order_id=work_order_id)
    return _checklist_view(c, answers)


@router.post("/work-orders/{work_order_id}/checklist", responses=problem_responses(404, 409, 422))
async def answer_checklist(work_order_id: str, body: AnswersIn, principal: Answer, rt: RuntimeDep) -> dict[str, Any]:
    """Answers merged into those kept (null clears one); sending them again changes nothing."""
    c, answers = await checklists.answer(
        uow=rt.uow(), tenant_id=principal.tenant, work_order_id=work_order_id, answers=dict(body.answers)
    )
    return _checklist_view(c, answers)
