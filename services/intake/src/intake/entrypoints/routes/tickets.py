"""HTTP: /v1/tickets. Thin: validate, turn into a command, call the handler, shape the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from fixflow_shared.access import Access, Authorize
from fixflow_shared.contacts import Email, mask_contact
from fixflow_shared.errors import NotFound, Unprocessable
from fixflow_shared.fields import Day, When
from fixflow_shared.problems import problem_responses
from intake import views
from intake.domain.commands import OpenTicket
from intake.domain.model import Ticket, TicketStatus
from intake.entrypoints.routes.common import (
    DepsDep,
    Phone,
    RuntimeDep,
    asset_owner,
    ticket_owner,
)
from intake.service_layer import complaints, opening, tickets

router = APIRouter(prefix="/tickets", tags=["tickets"])

Create = Annotated[Access, Depends(Authorize("tickets.create"))]
List = Annotated[Access, Depends(Authorize("tickets.list"))]
Read = Annotated[Access, Depends(Authorize("tickets.read", owner=ticket_owner, what="ticket"))]
Details = Annotated[Access, Depends(Authorize("tickets.details"))]
Timeline = Annotated[Access, Depends(Authorize("tickets.timeline", owner=ticket_owner, what="ticket"))]
Cancel = Annotated[Access, Depends(Authorize("tickets.cancel", owner=ticket_owner, what="ticket"))]
Reopen = Annotated[Access, Depends(Authorize("tickets.reopen", owner=ticket_owner, what="ticket"))]
Facts = Annotated[Access, Depends(Authorize("tickets.facts", owner=ticket_owner, what="ticket"))]
Close = Annotated[Access, Depends(Authorize("tickets.close"))]
Resolve = Annotated[Access, Depends(Authorize("tickets.resolve"))]
Triage = Annotated[Access, Depends(Authorize("tickets.triage"))]
Note = Annotated[Access, Depends(Authorize("tickets.note"))]
Escalate = Annotated[Access, Depends(Authorize("tickets.escalate"))]
Compensation = Annotated[Access, Depends(Authorize("tickets.compensation"))]

Kind = Literal["repair", "installation", "maintenance", "return", "complaint", "consultation"]
Channel = Literal["phone", "email", "web", "wechat", "walk_in", "partner"]
Priority = Literal["P1", "P2", "P3", "P4"]
Path = Literal["remote", "on_site", "send_in"]
Id = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
Strict = ConfigDict(extra="forbid")


class Window(BaseModel):
    model_config = Strict
    start: When
    end: When


class Attachment(BaseModel):
    model_config = Strict
    name: str = Field(min_length=1, max_length=200)
    content_type: str = Field(max_length=100)
    size_bytes: int = Field(ge=0, le=50_000_000)
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    url: str | None = Field(None, max_length=1000)


class TicketCreate(BaseModel):
    model_config = Strict

    kind: Kind
    channel: Channel
    symptom: str = Field(min_length=1, max_length=4000)
    customer_name: str | None = Field(None, max_length=200)
    contact_email: Email | None = None
    contact_phone: Phone | None = None
    locale: Literal["zh-CN", "en"] = "zh-CN"
    customer_id: Id | None = None
    asset_id: Id | None = None
    product_id: Id | None = None
    product_model: str | None = Field(None, min_length=1, max_length=100)
    serial: str | None = Field(None, max_length=100)
    purchase_date: Day | None = None
    address_id: Id | None = None
    severity: int | None = Field(None, ge=1, le=4)
    urgency: int | None = Field(None, ge=1, le=4)
    requested_window: Window | None = None
    attachments: list[Attachment] = Field(default_factory=list, max_length=20)
    complaint_level: int | None = Field(None, ge=1, le=4)
    original_ticket_id: Id | None = None
    compensation_requested: bool = False
    compensation_amount_minor: int | None = Field(None, ge=0, le=10**12)


class TicketRead(BaseModel):
    id: str
    kind: str
    channel: str
    status: str
    symptom: str
    opened_at: datetime
    updated_at: datetime | None = None
    customer_id: str | None = None
    customer_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    asset_id: str | None = None
    product_model: str | None = None
    serial: str | None = None
    customer_grade: str | None = None
    priority: str | None = None
    category: str | None = None
    path: str | None = None
    suggested_fix: str | None = None
    warranty: dict[str, Any] | None = None
    missing_facts: list[str] = []
    site: dict[str, Any] | None = None
    requested_window: dict[str, Any] | None = None
    attachments: list[dict[str, Any]] = []
    assignee_id: str | None = None
    technician_id: str | None = None
    team_id: str | None = None
    complaint_level: int | None = None
    original_ticket_id: str | None = None
    compensation_requested: bool = False
    compensation_approved: bool | None = None
    round: int = 1
    duplicate_count: int = 0
    duplicate: bool = False
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    traceparent: str | None = Field(
        None,
        description="W3C traceparent of the request that opened the ticket: send it as the `traceparent` header "
        "on later requests about the ticket (any service) so every step joins the ticket's one trace",
    )

    @classmethod
    def of(cls, t: Ticket, *, duplicate: bool = False) -> TicketRead:
        fields = {k: getattr(t, k) for k in cls.model_fields if hasattr(t, k) and k not in ("status", "duplicate")}
        fields["contact_phone"] = mask_contact(t.contact_phone)
        fields["contact_email"] = mask_contact(t.contact_email)
        fields["traceparent"] = (t.trace_headers or {}).get("traceparent")
        return cls(status=t.status.value, duplicate=duplicate, **fields)


class TicketPage(BaseModel):
    items: list[TicketRead]
    next_cursor: str | None


class Reason(BaseModel):
    model_config = Strict
    reason: str = Field("", max_length=2000)


class NoteCreate(BaseModel):
    model_config = Strict
    body: str = Field(min_length=1, max_length=4000)
    kind: Literal["note", "contact"] = "note"


class TriageUpdate(BaseModel):
    model_config = Strict
    priority: Priority | None = None
    path: Path | None = None
    category: str | None = Field(None, min_length=1, max_length=40)


class FactsIn(BaseModel):
    model_config = Strict
    product_model: str | None = Field(None, min_length=1, max_length=100)
    purchase_date: Day | None = None
    asset_id: Id | None = None
    address_id: Id | None = None
    contact_phone: Phone | None = None
    contact_email: Email | None = None


class Escalation(BaseModel):
    model_config = Strict
    level: int | None = Field(None, ge=1, le=4)
    reason: str = Field(min_length=1, max_length=2000)


class CompensationDecision(BaseModel):
    model_config = Strict
    approved: bool


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TicketRead)
async def create_ticket(
    body: TicketCreate, principal: Create, rt: RuntimeDep, deps: DepsDep, response: Response
) -> TicketRead:
    """A customer opens tickets for itself only: its customer id is implied, its own assets and
    tickets (a complaint's original) only; another customer's answer 404."""
    data = body.model_dump(mode="python")
    data["contact_phone"] = rt.phones.e164(body.contact_phone, principal.tenant, at=("body", "contact_phone"))
    window = data.pop("requested_window")
    own, own_tenant = principal.customer_scope, principal.tenant
    if own is not None:
        if data["customer_id"] not in (None, own):
            raise NotFound("customer", data["customer_id"])
        data["customer_id"] = own
        if data["asset_id"]:
            principal.require(await asset_owner.find(rt, own_tenant, data["asset_id"]), "asset", data["asset_id"])
        if data["original_ticket_id"]:
            original = data["original_ticket_id"]
            principal.require(await ticket_owner.find(rt, own_tenant, original), "ticket", original)
    cmd = OpenTicket(
        tenant_id=principal.tenant,
        **{k: v for k, v in data.items() if k != "attachments"},
        requested_window=(window["start"], window["end"]) if window else None,
        attachments=tuple(body.model_dump(mode="json")["attachments"]),
        source="customer" if own is not None else "agent",
        # a customer's ticket is linked as a duplicate through its own asset only, never through
        # a phone number it typed (that would show it another customer's ticket)
        check_duplicates=own is None or bool(data["asset_id"]),
    )
    opened = await opening.open_ticket(uow=rt.uow(), cmd=cmd, deps=deps)
    if opened.duplicate:
        response.status_code = status.HTTP_200_OK  # linked to the open ticket, nothing new created
    return TicketRead.of(opened.ticket, duplicate=opened.duplicate)


@router.get("", response_model=TicketPage, responses=problem_responses(400))
async def list_tickets(
    principal: List,
    rt: RuntimeDep,
    status_: Annotated[TicketStatus | None, Query(alias="status")] = None,
    kind: Kind | None = None,
    priority: Priority | None = None,
    sla_risk: Literal["at_risk", "breached"] | None = None,
    customer_id: Annotated[str | None, Query(max_length=40)] = None,
    assignee_id: Annotated[str | None, Query(max_length=100)] = None,
    asset_id: Annotated[str | None, Query(max_length=40)] = None,
    opened_from: When | None = None,
    opened_to: When | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> TicketPage:
    filters = {
        "status": status_.value if status_ else None,
        "kind": kind,
        "priority": priority,
        "sla_risk": sla_risk,
        "customer_id": principal.customer_scope or customer_id,  # a customer lists its own tickets only
        "assignee_id": assignee_id,
        "asset_id": asset_id,
        "opened_from": opened_from,
        "opened_to": opened_to,
    }
    items, nxt = await views.list_tickets(
        uow=rt.uow(), tenant_id=principal.tenant, filters=filters, limit=limit, cursor=cursor
    )
    return TicketPage(items=[TicketRead.of(t) for t in items], next_cursor=nxt)


@router.get("/{ticket_id}", response_model=TicketRead, responses=problem_responses(404))
async def read_ticket(ticket_id: str, principal: Read, rt: RuntimeDep) -> TicketRead:
    ticket = await views.get_ticket(uow=rt.uow(), tenant_id=principal.tenant, ticket_id=ticket_id)
    if ticket is None:
        raise NotFound("ticket", ticket_id)
    return TicketRead.of(ticket)


@router.get("/{ticket_id}/details", responses=problem_responses(404))
async def ticket_details(ticket_id: str, principal: Details, rt: RuntimeDep) -> dict[str, Any]:
    d = await views.ticket_details(uow=rt.uow(), tenant_id=principal.tenant, ticket_id=ticket_id)
    if d is None:
        raise NotFound("ticket", ticket_id)
    return {
        "ticket": TicketRead.of(d["ticket"]).model_dump(mode="json"),
        "notes": [{k: v for k, v in n.items() if k != "tenant_id"} for n in d["notes"]],
        "sla_clocks": [{k: v for k, v in c.items() if k != "tenant_id"} for c in d["clocks"]],
    }


@router.get("/{ticket_id}/timeline", responses=problem_responses(404))
async def ticket_timeline(ticket_id: str, principal: Timeline, rt: RuntimeDep) -> dict[str, Any]:
    rows = await views.ticket_timeline(uow=rt.uow(), tenant_id=principal.tenant, ticket_id=ticket_id)
    if rows is None:
        raise NotFound("ticket", ticket_id)
    return {
        "ticket_id": ticket_id,
        "events": [
            {"id": r["event_id"], "type": r["type"], "source": r["source"], "time": r["time"], "data": r["data"]}
            for r in rows
        ],
    }


async def _move(
    rt: Any, deps: Any, tenant: str, ticket_id: str, target: TicketStatus, reason: str, author: str
) -> TicketRead:
    t = await tickets.move(
        uow=rt.uow(), deps=deps, tenant_id=tenant, ticket_id=ticket_id, target=target, reason=reason, author=author
    )
    return TicketRead.of(t)


@router.post("/{ticket_id}/cancel", response_model=TicketRead, responses=problem_responses(404, 409))
async def cancel(ticket_id: str, body: Reason, principal: Cancel, rt: RuntimeDep, deps: DepsDep) -> TicketRead:
    return await _move(rt, deps, principal.tenant, ticket_id, TicketStatus.CANCELLED, body.reason, principal.subject)


@router.post("/{ticket_id}/reopen", response_model=TicketRead, responses=problem_responses(404, 409))
async def reopen(ticket_id: str, body: Reason, principal: Reopen, rt: RuntimeDep, deps: DepsDep) -> TicketRead:
    return await _move(rt, deps, principal.tenant, ticket_id, TicketStatus.REOPENED, body.reason, principal.subject)


@router.post("/{ticket_id}/close", response_model=TicketRead, responses=problem_responses(404, 409))
async def close(ticket_id: str, body: Reason, principal: Close, rt: RuntimeDep, deps: DepsDep) -> TicketRead:
    return await _move(rt, deps, principal.tenant, ticket_id, TicketStatus.CLOSED, body.reason, principal.subject)


@router.post("/{ticket_id}/resolve", response_model=TicketRead, responses=problem_responses(404, 409))
async def resolve(ticket_id: str, body: Reason, principal: Resolve, rt: RuntimeDep, deps: DepsDep) -> TicketRead:
    return await _move(rt, deps, principal.tenant, ticket_id, TicketStatus.RESOLVED, body.reason, principal.subject)


@router.post("/{ticket_id}/triage", response_model=TicketRead, responses=problem_responses(404, 409))
async def retriage(ticket_id: str, body: TriageUpdate, principal: Triage, rt: RuntimeDep, deps: DepsDep) -> TicketRead:
    t = await tickets.retriage(
        uow=rt.uow(), deps=deps, tenant_id=principal.tenant, ticket_id=ticket_id, **body.model_dump()
    )
    return TicketRead.of(t)


@router.post("/{ticket_id}/facts", response_model=TicketRead, responses=problem_responses(404, 409))
async def supply_facts(ticket_id: str, body: FactsIn, principal: Facts, rt: RuntimeDep, deps: DepsDep) -> TicketRead:
    facts = body.model_dump(exclude_none=True)
    if body.contact_phone is not None:
        facts["contact_phone"] = rt.phones.e164(body.contact_phone, principal.tenant, at=("body", "contact_phone"))
    if not facts:
        raise Unprocessable("supply at least one fact")
    if principal.customer_scope is not None and "asset_id" in facts:  # a customer names its own assets only
        owner = await asset_owner.find(rt, principal.tenant, facts["asset_id"])
        principal.require(owner, "asset", facts["asset_id"])
    t = await tickets.supply_facts(
        uow=rt.uow(), deps=deps, tenant_id=principal.tenant, ticket_id=ticket_id, facts=facts
    )
    return TicketRead.of(t)


@router.post("/{ticket_id}/notes", status_code=status.HTTP_201_CREATED, responses=problem_responses(404))
async def add_note(ticket_id: str, body: NoteCreate, principal: Note, rt: RuntimeDep, deps: DepsDep) -> dict[str, Any]:
    note_id = await tickets.add_note(
        uow=rt.uow(),
        deps=deps,
        tenant_id=principal.tenant,
        ticket_id=ticket_id,
        author=principal.subject,
        kind=body.kind,
        body=body.body,
    )
    return {"id": note_id, "ticket_id": ticket_id, "kind": body.kind}


@router.post("/{ticket_id}/escalate", response_model=TicketRead, responses=problem_responses(404, 409))
async def escalate(ticket_id: str, body: Escalation, principal: Escalate, rt: RuntimeDep, deps: DepsDep) -> TicketRead:
    t = await complaints.escalate_complaint(
        uow=rt.uow(),
        deps=deps,
        tenant_id=principal.tenant,
        ticket_id=ticket_id,
        level=body.level,
        reason=body.reason,
    )
    return TicketRead.of(t)


@router.post("/{ticket_id}/compensation", response_model=TicketRead, responses=problem_responses(404, 409))
async def decide_compensation(
    ticket_id: str, body: CompensationDecision, principal: Compensation, rt: RuntimeDep, deps: DepsDep
) -> TicketRead:
    t = await complaints.decide_compensation(
        uow=rt.uow(),
        deps=deps,
        tenant_id=principal.tenant,
        ticket_id=ticket_id,
        approved=body.approved,
        author=principal.subject,
    )
    return TicketRead.of(t)
