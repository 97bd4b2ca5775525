"""HTTP: /v1/quotes — price out-of-warranty work before it starts; record the customer's consent."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field

from billing import views
from billing.domain.commands import DecideQuote, IssueQuote
from billing.domain.model import Quote
from billing.entrypoints.routes.common import (
    LineOut,
    RuntimeDep,
    WorkIn,
    lines_out,
    quote_owner,
)
from billing.entrypoints.routes.invoices import InvoiceOut
from billing.service_layer import quotes, settlement
from fixflow_shared.access import Access, Authorize
from fixflow_shared.errors import NotFound
from fixflow_shared.problems import problem_responses

router = APIRouter(prefix="/quotes", tags=["quotes"])
QuotesCreate = Annotated[Access, Depends(Authorize("quotes.create"))]
QuotesList = Annotated[Access, Depends(Authorize("quotes.list"))]
QuotesRead = Annotated[Access, Depends(Authorize("quotes.read", owner=quote_owner, what="quote"))]
QuotesDecide = Annotated[Access, Depends(Authorize("quotes.decide", owner=quote_owner, what="quote"))]
QuotesInvoice = Annotated[Access, Depends(Authorize("quotes.invoice"))]


class QuoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket_id: str = Field(min_length=1, max_length=40)
    customer_id: str | None = Field(None, max_length=64)
    work: WorkIn
    valid_hours: int = Field(72, ge=1, le=24 * 90)


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str = Field(pattern=r"^(phone|on_site_signature|web|wechat|email|walk_in)$")
    signed_name: str | None = Field(None, max_length=200)
    reason: str | None = Field(None, max_length=2000)
    client_address: str | None = Field(
        None, max_length=64, pattern=r"^[0-9A-Fa-f:.]+$", description="the customer's IP address (online consent)"
    )


class QuoteOut(BaseModel):
    id: str
    ticket_id: str
    status: str
    currency: str
    service_kind: str
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    lines: list[LineOut]
    issued_at: datetime
    valid_until: datetime
    consent: dict[str, object] | None = None

    @classmethod
    def of(cls, q: Quote) -> QuoteOut:
        ch = q.charge
        consent = None
        if q.consent:
            consent = {
                "decision": q.consent.decision,
                "recorded_by": q.consent.recorded_by,
                "channel": q.consent.channel,
                "signed_name": q.consent.signed_name,
                "at": q.consent.at.isoformat(),
                "reason": q.consent.reason,
                "client_address": q.consent.client_address,
            }
        return cls(
            id=q.id,
            ticket_id=q.ticket_id,
            status=q.status.value,
            currency=ch.currency,
            service_kind=ch.service_kind.value,
            subtotal_minor=ch.subtotal_minor,
            tax_minor=ch.tax_minor,
            total_minor=ch.total_minor,
            lines=lines_out(ch.lines),
            issued_at=q.issued_at,
            valid_until=q.valid_until,
            consent=consent,
        )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=QuoteOut)
async def create_quote(body: QuoteCreate, principal: QuotesCreate, rt: RuntimeDep) -> QuoteOut:
    q = await quotes.issue_quote(
        uow=rt.uow(),
        cmd=IssueQuote(
            tenant_id=principal.tenant,
            ticket_id=body.ticket_id,
            work=body.work.to_domain(),
            issued_by=principal.subject,
            customer_id=body.customer_id,
            valid_hours=body.valid_hours,
        ),
    )
    return QuoteOut.of(q)


@router.get("", response_model=list[QuoteOut])
async def list_quotes(
    principal: QuotesList, rt: RuntimeDep, ticket_id: Annotated[str, Query(min_length=1, max_length=40)]
) -> list[QuoteOut]:
    """The quotes of a ticket, oldest first (a customer sees its own only)."""
    own = principal.customer_scope
    found = await views.quotes_of_ticket(uow=rt.uow(), tenant_id=principal.tenant, ticket_id=ticket_id)
    return [QuoteOut.of(q) for q in found if own is None or q.customer_id == own]


@router.get("/{quote_id}", response_model=QuoteOut, responses=problem_responses(404))
async def read_quote(quote_id: str, principal: QuotesRead, rt: RuntimeDep) -> QuoteOut:
    q = await views.get_quote(uow=rt.uow(), tenant_id=principal.tenant, quote_id=quote_id)
    if q is None:
        raise NotFound("quote", quote_id)
    return QuoteOut.of(q)


async def _decide(quote_id: str, body: ConsentIn, principal, rt, accept: bool) -> QuoteOut:  # type: ignore[no-untyped-def]
    q = await quotes.decide_quote(
        uow=rt.uow(),
        cmd=DecideQuote(
            tenant_id=principal.tenant,
            quote_id=quote_id,
            accept=accept,
            recorded_by=principal.subject,
            channel=body.channel,
            signed_name=body.signed_name,
            reason=body.reason,
            client_address=body.client_address,
        ),
    )
    return QuoteOut.of(q)


@router.post("/{quote_id}/accept", response_model=QuoteOut, responses=problem_responses(404, 409))
async def accept_quote(quote_id: str, body: ConsentIn, principal: QuotesDecide, rt: RuntimeDep) -> QuoteOut:
    return await _decide(quote_id, body, principal, rt, True)


@router.post("/{quote_id}/reject", response_model=QuoteOut, responses=problem_responses(404, 409))
async def reject_quote(quote_id: str, body: ConsentIn, principal: QuotesDecide, rt: RuntimeDep) -> QuoteOut:
    return await _decide(quote_id, body, principal, rt, False)


@router.post(
    "/{quote_id}/invoice",
    status_code=status.HTTP_201_CREATED,
    response_model=InvoiceOut,
    responses=problem_responses(404, 409),
)
async def invoice_quote(quote_id: str, principal: QuotesInvoice, rt: RuntimeDep) -> InvoiceOut:
    inv = await settlement.invoice_from_quote(uow=rt.uow(), tenant_id=principal.tenant, quote_id=quote_id)
    return InvoiceOut.of(inv)
