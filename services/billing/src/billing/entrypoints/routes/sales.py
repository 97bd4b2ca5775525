"""HTTP: /v1/sales — a counter sale of goods (the asset a later return refunds)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from billing.domain.sales import SaleItem
from billing.entrypoints.routes.common import NonNegMinor, RuntimeDep
from billing.entrypoints.routes.invoices import InvoiceOut
from billing.service_layer import sales
from fixflow_shared.access import Access, Authorize
from fixflow_shared.problems import problem_responses

router = APIRouter(prefix="/sales", tags=["sales"])
SalesRecord = Annotated[Access, Depends(Authorize("sales.record"))]


class SaleItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64, description="product model or SKU")
    description: str = Field(min_length=1, max_length=200)
    quantity: int = Field(1, ge=1, le=1000)
    unit_price_minor: NonNegMinor


class SaleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: str = Field(min_length=1, max_length=64)
    asset_id: str = Field(min_length=1, max_length=64, description="the serial-numbered item sold (intake's asset)")
    sale_id: str | None = Field(
        None,
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9-]+$",
        description="the sale's own reference (the invoice's ticket id); default generated",
    )
    items: list[SaleItemIn] = Field(min_length=1, max_length=100)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=InvoiceOut, responses=problem_responses(409))
async def record_sale(body: SaleIn, principal: SalesRecord, rt: RuntimeDep) -> InvoiceOut:
    """Invoice a sale of goods; a return of `asset_id` within the return window is refunded from
    this invoice once logistics delivers the item back to the warehouse. 409 if the asset was sold already."""
    items = tuple(SaleItem(i.code, i.description, i.quantity, i.unit_price_minor) for i in body.items)
    inv = await sales.record_sale(
        uow=rt.uow(),
        tenant_id=principal.tenant,
        customer_id=body.customer_id,
        asset_id=body.asset_id,
        sale_id=body.sale_id or "S-" + uuid.uuid4().hex[:20],
        items=items,
    )
    return InvoiceOut.of(inv)
