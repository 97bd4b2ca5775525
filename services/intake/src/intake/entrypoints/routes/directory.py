"""HTTP: /v1/customers, /v1/products, /v1/assets."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field

from fixflow_shared.access import Access, Authorize
from fixflow_shared.contacts import Email, mask_contact
from fixflow_shared.errors import NotFound
from fixflow_shared.fields import Day
from fixflow_shared.problems import problem_responses
from intake import views
from intake.entrypoints.routes.common import (
    DepsDep,
    Phone,
    RuntimeDep,
    asset_owner,
    customer_self,
)
from intake.service_layer import directory

router = APIRouter(tags=["directory"])
CustomersCreate = Annotated[Access, Depends(Authorize("customers.create"))]
CustomersSearch = Annotated[Access, Depends(Authorize("customers.search"))]
CustomersRead = Annotated[Access, Depends(Authorize("customers.read", owner=customer_self, what="customer"))]
ProductsCreate = Annotated[Access, Depends(Authorize("products.create"))]
ProductsRead = Annotated[Access, Depends(Authorize("products.read"))]
AssetsCreate = Annotated[Access, Depends(Authorize("assets.create"))]
AssetsSearch = Annotated[Access, Depends(Authorize("assets.search"))]
AssetsRead = Annotated[Access, Depends(Authorize("assets.read", owner=asset_owner, what="asset"))]
Strict = ConfigDict(extra="forbid")


class AddressIn(BaseModel):
    model_config = Strict
    id: str | None = Field(None, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    line: str = Field(min_length=1, max_length=500)
    city: str | None = Field(None, max_length=100)
    region: str | None = Field(None, max_length=20)
    in_province: bool | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class CustomerCreate(BaseModel):
    model_config = Strict
    type: Literal["person", "company"] = "person"
    name: str = Field(min_length=1, max_length=200)
    contact_person: str | None = Field(None, max_length=200)
    phone: Phone | None = None
    email: Email | None = None
    grade: Literal["A", "B", "C", "VIP"] = "C"
    addresses: list[AddressIn] = Field(default_factory=list, max_length=20)


class ProductCreate(BaseModel):
    model_config = Strict
    model: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    warranty_months: int = Field(12, ge=0, le=240)
    return_window_days: int = Field(30, ge=0, le=365)
    non_returnable: list[Literal["custom_made", "special_offer", "clearance"]] = Field(
        default_factory=list, max_length=3
    )


class AssetCreate(BaseModel):
    model_config = Strict
    customer_id: str = Field(min_length=1, max_length=40)
    product_id: str = Field(min_length=1, max_length=40)
    serial: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._/-]+$")
    purchase_date: Day | None = None
    purchase_channel: str | None = Field(None, max_length=100)
    card_warranty_months: int | None = Field(None, ge=0, le=240)
    card_warranty_ends_on: Day | None = None


def customer_out(c: dict[str, Any], *, reveal: bool = False) -> dict[str, Any]:
    out = {k: v for k, v in c.items() if k != "tenant_id"}
    if not reveal:
        out["phone"], out["email"] = mask_contact(c.get("phone")), mask_contact(c.get("email"))
        out["addresses"] = [{k: v for k, v in a.items() if k != "line"} for a in c.get("addresses") or []]
    return out


def _out(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "tenant_id"}


@router.post("/customers", status_code=status.HTTP_201_CREATED)
async def create_customer(body: CustomerCreate, principal: CustomersCreate, rt: RuntimeDep) -> dict[str, Any]:
    data = {**body.model_dump(mode="json"), "phone": rt.phones.e164(body.phone, principal.tenant, at=("body", "phone"))}
    c = await directory.create_customer(uow=rt.uow(), tenant_id=principal.tenant, data=data)
    return customer_out(c, reveal=True)


@router.get("/customers")
async def search_customers(
    principal: CustomersSearch,
    rt: RuntimeDep,
    phone: Annotated[Phone | None, Query()] = None,
    name: Annotated[str | None, Query(max_length=200)] = None,
    email: Annotated[str | None, Query(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """By phone (any way of writing it: stored in E.164), e-mail (whole address, any case) and/or part of the name."""
    phone = rt.phones.e164(phone, principal.tenant, at=("query", "phone"))
    rows = await views.search_customers(
        uow=rt.uow(), tenant_id=principal.tenant, phone=phone, name=name, email=email, limit=limit
    )
    return {"items": [customer_out(r) for r in rows]}


@router.get("/customers/{customer_id}", responses=problem_responses(404))
async def read_customer(customer_id: str, principal: CustomersRead, rt: RuntimeDep) -> dict[str, Any]:
    row = await views.get_row(uow=rt.uow(), tenant_id=principal.tenant, table="customers", ident=customer_id)
    if row is None:
        raise NotFound("customer", customer_id)
    return customer_out(row, reveal=True)


@router.post("/products", status_code=status.HTTP_201_CREATED)
async def create_product(body: ProductCreate, principal: ProductsCreate, rt: RuntimeDep) -> dict[str, Any]:
    return _out(
        await directory.create_product(uow=rt.uow(), tenant_id=principal.tenant, data=body.model_dump(mode="json"))
    )


@router.get("/products/{product_id}", responses=problem_responses(404))
async def read_product(product_id: str, principal: ProductsRead, rt: RuntimeDep) -> dict[str, Any]:
    row = await views.get_row(uow=rt.uow(), tenant_id=principal.tenant, table="products", ident=product_id)
    if row is None:
        raise NotFound("product", product_id)
    return _out(row)


@router.post("/assets", status_code=status.HTTP_201_CREATED)
async def create_asset(body: AssetCreate, principal: AssetsCreate, rt: RuntimeDep) -> dict[str, Any]:
    return _out(await directory.create_asset(uow=rt.uow(), tenant_id=principal.tenant, data=body.model_dump()))


@router.get("/assets")
async def search_assets(
    principal: AssetsSearch,
    rt: RuntimeDep,
    deps: DepsDep,
    serial: Annotated[str | None, Query(max_length=100)] = None,
    customer_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """Assets by serial or customer, each with its product and today's warranty decision."""
    today = await directory.local_today(uow=rt.uow(), deps=deps, tenant_id=principal.tenant)
    rows = await views.search_assets(
        uow=rt.uow(),
        tenant_id=principal.tenant,
        serial=serial,
        customer_id=principal.customer_scope or customer_id,  # a customer finds its own assets only
        limit=limit,
        today=today,
    )
    return {"items": [_out(r) for r in rows]}


@router.get("/assets/{asset_id}", responses=problem_responses(404))
async def read_asset(asset_id: str, principal: AssetsRead, rt: RuntimeDep) -> dict[str, Any]:
    row = await views.get_row(uow=rt.uow(), tenant_id=principal.tenant, table="assets", ident=asset_id)
    if row is None:
        raise NotFound("asset", asset_id)
    return _out(row)
