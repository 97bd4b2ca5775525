"""HTTP: /v1/customers/{id}/credit — what billing owes a customer (overpayments), per currency."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel

from billing import views
from billing.entrypoints.routes.common import RuntimeDep, customer_self
from fixflow_shared.access import Access, Authorize
from fixflow_shared.problems import problem_responses

router = APIRouter(prefix="/customers", tags=["customers"])
CreditRead = Annotated[Access, Depends(Authorize("credit.read", owner=customer_self, what="customer"))]


class CreditBalanceOut(BaseModel):
    currency: str
    balance_minor: int


class CreditEntryOut(BaseModel):
    kind: str  # overpayment | applied
    currency: str
    amount_minor: int  # + added, - used
    payment_id: str
    invoice_id: str
    at: datetime


class CustomerCreditOut(BaseModel):
    customer_id: str
    balances: list[CreditBalanceOut]
    entries: list[CreditEntryOut]


@router.get("/{customer_id}/credit", response_model=CustomerCreditOut, responses=problem_responses(404))
async def customer_credit(
    customer_id: Annotated[str, Path(min_length=1, max_length=64)], principal: CreditRead, rt: RuntimeDep
) -> CustomerCreditOut:
    """A customer sees only its own credit; staff and partners (billing:read) the tenant's customers."""
    balances, entries = await views.customer_credit(uow=rt.uow(), tenant_id=principal.tenant, customer_id=customer_id)
    return CustomerCreditOut(
        customer_id=customer_id,
        balances=[CreditBalanceOut(currency=b["currency"], balance_minor=b["balance_minor"]) for b in balances],
        entries=[CreditEntryOut(**{k: e[k] for k in CreditEntryOut.model_fields}) for e in entries],
    )
