"""HTTP: /v1/tickets. Thin: validate, turn into a command, call the handler, shape the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from fixflow_shared.auth import Principal, require_roles
from fixflow_shared.problems import not_found
from fixflow_shared.runtime import ServiceRuntime
from intake import views
from intake.domain.commands import OpenTicket
from intake.domain.model import Ticket
from intake.service_layer import handlers

router = APIRouter(prefix="/tickets", tags=["tickets"])

Kind = Literal["repair", "installation", "maintenance", "return", "complaint", "consultation"]
Channel = Literal["phone", "email", "web", "wechat", "walk_in", "partner"]


class TicketCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind
    channel: Channel
    symptom: str = Field(min_length=1, max_length=4000)
    customer_name: str | None = Field(None, max_length=200)
    contact_email: EmailStr | None = None
    contact_phone: str | None = Field(None, pattern=r"^\+?[0-9][0-9 -]{5,19}$")
    locale: Literal["zh-CN", "en"] = "zh-CN"


class TicketRead(BaseModel):
    id: str
    kind: str
    channel: str
    status: str
    symptom: str
    opened_at: datetime

    @classmethod
    def of(cls, t: Ticket) -> TicketRead:
        return cls(id=t.id, kind=t.kind, channel=t.channel, status=t.status.value, symptom=t.symptom, opened_at=t.opened_at)


def runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[ServiceRuntime, Depends(runtime)]
Writer = Annotated[Principal, Depends(require_roles("agent", "partner", "customer", "manager"))]
Reader = Annotated[Principal, Depends(require_roles("agent", "dispatcher", "manager", "partner", "customer"))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TicketRead)
async def create_ticket(body: TicketCreate, principal: Writer, rt: RuntimeDep) -> TicketRead:
    cmd = OpenTicket(tenant_id=principal.tenant, **body.model_dump(mode="json"))
    ticket = await handlers.open_ticket(uow=rt.uow(), cmd=cmd)
    return TicketRead.of(ticket)


@router.get("/{ticket_id}", response_model=TicketRead)
async def read_ticket(ticket_id: str, principal: Reader, rt: RuntimeDep) -> TicketRead:
    ticket = await views.get_ticket(uow=rt.uow(), tenant_id=principal.tenant, ticket_id=ticket_id)
    if ticket is None:
        raise not_found("ticket", ticket_id)
    return TicketRead.of(ticket)
