"""HTTP: /v1/price-books and /v1/entitlements (a tenant's fee schedule and customers' coverage)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from billing import views
from billing.adapters.serialisation import book_to_config
from billing.domain.money import check_currency
from billing.domain.price_book import PartPrice, PriceBook
from billing.entrypoints.routes.common import (
    Currency,
    NonNegMinor,
    RuntimeDep,
)
from billing.service_layer import entitlements, price_books
from fixflow_shared.access import Access, Authorize
from fixflow_shared.fields import Day

router = APIRouter(tags=["setup"])
PriceBooksCreate = Annotated[Access, Depends(Authorize("price_books.create"))]
PriceBooksRead = Annotated[Access, Depends(Authorize("price_books.read"))]
EntitlementsCreate = Annotated[Access, Depends(Authorize("entitlements.create"))]


class PartPriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cost_minor: NonNegMinor
    list_minor: NonNegMinor
    description: str = Field("", max_length=200)


class PriceBookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    effective_from: Day
    currency: Currency = "CNY"
    visit_fee_minor: NonNegMinor
    adjustment_fee_minor: NonNegMinor
    fitting_labour_minor: NonNegMinor
    labour_per_hour_minor: NonNegMinor | None = None
    parts_basis: Literal["cost", "list"] = "cost"
    freight_minor: NonNegMinor = 0
    second_visit_charges_visit_fee: bool = False
    tax_rate_bp: int = Field(600, ge=0, le=10_000)
    tax_inclusive: bool = True
    parts: dict[str, PartPriceIn] = Field(default_factory=dict, max_length=10_000)
    resolution_codes: dict[
        str,
        tuple[
            Literal["inspection", "adjustment", "part_replacement", "reinstall", "repair", "internal"],
            Literal["quality", "customer", "unknown"],
        ],
    ] = Field(default_factory=dict)
    waiver_approval_threshold_minor: NonNegMinor = 5000
    return_window_days: int = Field(30, ge=0, le=3650)
    card_fee_bp: int = Field(
        0, ge=0, le=10_000, description="card fee kept from a return's refund, basis points of the card payments"
    )


class PriceBookOut(BaseModel):
    version: int
    effective_from: date
    currency: str
    config: dict[str, Any]

    @classmethod
    def of(cls, b: PriceBook) -> PriceBookOut:
        return cls(version=b.version, effective_from=b.effective_from, currency=b.currency, config=book_to_config(b))


@router.post("/price-books", status_code=status.HTTP_201_CREATED, response_model=PriceBookOut)
async def create_price_book(body: PriceBookIn, principal: PriceBooksCreate, rt: RuntimeDep) -> PriceBookOut:
    check_currency(body.currency)
    data = body.model_dump()
    data["parts"] = {k: PartPrice(**v) for k, v in data["parts"].items()}
    book = PriceBook(tenant_id=principal.tenant, version=0, **data)
    book = await price_books.set_price_book(uow=rt.uow(), book=book, created_by=principal.subject)
    return PriceBookOut.of(book)


@router.get("/price-books/effective", response_model=PriceBookOut)
async def effective_price_book(principal: PriceBooksRead, rt: RuntimeDep, on: Day | None = None) -> PriceBookOut:
    book = await views.effective_price_book(uow=rt.uow(), tenant_id=principal.tenant, on=on)
    return PriceBookOut.of(book)


class EntitlementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["contract", "package", "warranty_card"]
    customer_id: str = Field(min_length=1, max_length=64)
    asset_id: str | None = Field(None, max_length=64)
    valid_from: Day | None = None
    valid_to: Day | None = None
    # contract terms
    covers_labour: bool = True
    covers_parts: bool = False
    covers_visits: bool = True
    visits_per_year: int | None = Field(None, ge=0, le=1000)
    # package terms
    visits_remaining: int = Field(0, ge=0, le=10_000)
    discount_bp: int = Field(0, ge=0, le=10_000)
    # warranty card terms: price per line code (visit, adjustment, labour, freight) or part code
    prices_minor: dict[str, NonNegMinor] = Field(default_factory=dict, max_length=1000)

    @model_validator(mode="after")
    def _dates(self) -> EntitlementIn:
        if self.kind == "contract" and (self.valid_from is None or self.valid_to is None):
            raise ValueError("a contract needs valid_from and valid_to")
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self

    def terms(self) -> dict[str, Any]:
        if self.kind == "contract":
            return {
                "covers_labour": self.covers_labour,
                "covers_parts": self.covers_parts,
                "covers_visits": self.covers_visits,
                "visits_per_year": self.visits_per_year,
                "discount_bp": self.discount_bp,
            }
        if self.kind == "package":
            return {"visits_remaining": self.visits_remaining, "discount_bp": self.discount_bp}
        return {"prices_minor": self.prices_minor}


class EntitlementOut(BaseModel):
    id: str
    kind: str
    customer_id: str


@router.post("/entitlements", status_code=status.HTTP_201_CREATED, response_model=EntitlementOut)
async def create_entitlement(body: EntitlementIn, principal: EntitlementsCreate, rt: RuntimeDep) -> EntitlementOut:
    ent_id = await entitlements.add_entitlement(
        uow=rt.uow(),
        tenant_id=principal.tenant,
        customer_id=body.customer_id,
        asset_id=body.asset_id,
        kind=body.kind,
        terms=body.terms(),
        valid_from=body.valid_from,
        valid_to=body.valid_to,
    )
    return EntitlementOut(id=ent_id, kind=body.kind, customer_id=body.customer_id)
