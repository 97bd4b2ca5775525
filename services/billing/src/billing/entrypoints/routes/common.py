"""Shared bits of billing's HTTP layer: runtime dependency, roles, request and response parts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from billing.adapters.orm import invoices, quotes
from billing.domain.price_book import FaultCause, WorkType
from billing.domain.pricing import PartUsed, WorkDone
from fixflow_shared.access import path_owner, row_owner
from fixflow_shared.runtime import ServiceRuntime


async def runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[ServiceRuntime, Depends(runtime)]


invoice_owner = row_owner(invoices, param="invoice_id")
quote_owner = row_owner(quotes, param="quote_id")
customer_self = path_owner("customer_id", customer=True)


Currency = Annotated[
    str,
    Field(
        min_length=3,
        max_length=3,
        pattern=r"^[A-Za-z]{3}$",
        description="ISO 4217 code; unknown codes answer 422 Unknown currency",
    ),
]
MinorAmount = Annotated[int, Field(gt=0, le=10**12, strict=True, description="integer minor units, > 0")]
NonNegMinor = Annotated[int, Field(ge=0, le=10**12, strict=True)]


class PartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64)
    quantity: int = Field(1, ge=1, le=1000)


class WorkIn(BaseModel):
    """The work to be priced (a quote) — the same facts dispatch reports on completion."""

    model_config = ConfigDict(extra="forbid")
    visit_number: int = Field(1, ge=1, le=100)
    resolution_code: str = Field("repair", min_length=1, max_length=64)
    work_type: WorkType | None = None
    fault_cause: FaultCause | None = None
    labour_minutes: int = Field(0, ge=0, le=100_000)
    parts: list[PartIn] = Field(default_factory=list, max_length=100)
    adjustments: int = Field(1, ge=1, le=100)
    freight: bool = False
    internal: bool = False

    def to_domain(self) -> WorkDone:
        return WorkDone(
            visit_number=self.visit_number,
            resolution_code=self.resolution_code,
            labour_minutes=self.labour_minutes,
            parts=tuple(PartUsed(p.code, p.quantity) for p in self.parts),
            work_type=self.work_type,
            fault_cause=self.fault_cause,
            adjustments=self.adjustments,
            freight=self.freight,
            internal=self.internal,
        )


class LineOut(BaseModel):
    code: str
    description: str
    quantity: int
    unit_price_minor: int
    amount_minor: int
    charged: bool
    reason: str
    rule: str


def lines_out(lines) -> list[LineOut]:  # type: ignore[no-untyped-def]
    return [
        LineOut(
            code=ln.code,
            description=ln.description,
            quantity=ln.quantity,
            unit_price_minor=ln.unit_price_minor,
            amount_minor=ln.amount_minor,
            charged=ln.charged,
            reason=ln.reason,
            rule=ln.rule,
        )
        for ln in lines
    ]
