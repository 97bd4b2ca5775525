"""Use cases of the directory (customers, products, assets) and the tenant's settings."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fixflow_shared.events.contracts.intake import CustomerRegistered
from fixflow_shared.uow import UnitOfWork
from intake.adapters.repository import DirectoryRepository, SettingsRepository
from intake.domain.exceptions import RuleViolation, UnknownReference
from intake.domain.model import new_id
from intake.domain.policy import TenantPolicy
from intake.service_layer.deps import Deps


async def create_customer(*, uow: UnitOfWork, tenant_id: str, data: dict[str, Any]) -> dict[str, Any]:
    now = uow.clock.now()
    addresses = [
        {"id": a.get("id") or new_id("ADR"), **{k: v for k, v in a.items() if k != "id"}}
        for a in data.pop("addresses", [])
    ]
    values = {"id": new_id("C"), "tenant_id": tenant_id, "addresses": addresses, "created_at": now, **data}
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        await DirectoryRepository(uow.session).add_customer(values)
        uow.emit(
            CustomerRegistered(customer_id=values["id"], tenant_id=tenant_id, registered_at=now),
            subject=values["id"],
            tenant=tenant_id,
        )
        await uow.commit()
    return values


async def create_product(*, uow: UnitOfWork, tenant_id: str, data: dict[str, Any]) -> dict[str, Any]:
    values = {"id": new_id("P"), "tenant_id": tenant_id, "created_at": uow.clock.now(), **data}
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = DirectoryRepository(uow.session)
        if await repo.product_by_model(tenant_id, data["model"]):
            raise RuleViolation(f"product model {data['model']} already exists")
        await repo.add_product(values)
        await uow.commit()
    return values


async def create_asset(*, uow: UnitOfWork, tenant_id: str, data: dict[str, Any]) -> dict[str, Any]:
    values = {"id": new_id("A"), "tenant_id": tenant_id, "created_at": uow.clock.now(), **data}
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = DirectoryRepository(uow.session)
        if not await repo.customer(tenant_id, data["customer_id"]):
            raise UnknownReference("customer", data["customer_id"])
        if not await repo.product(tenant_id, data["product_id"]):
            raise UnknownReference("product", data["product_id"])
        if data.get("purchase_date") and data["purchase_date"] > uow.clock.now().date() + timedelta(days=1):
            raise RuleViolation("purchase_date lies in the future")
        await repo.add_asset(values)
        await uow.commit()
    return values


async def put_settings(*, uow: UnitOfWork, deps: Deps, tenant_id: str, config: dict[str, Any]) -> None:
    try:
        TenantPolicy.from_config(config).exercise(uow.clock.now())
    except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
        raise RuleViolation(f"invalid settings: {exc}") from exc
    async with uow:
        await SettingsRepository(uow.session).put(tenant_id, config, now=uow.clock.now())
        await uow.commit()
    deps.policies.invalidate(tenant_id)


async def knowledge_article(*, uow: UnitOfWork, deps: Deps, tenant_id: str, article_id: str) -> dict[str, Any] | None:
    """A knowledge-base article of the tenant's policy (defaults and the tenant's own), by id."""
    async with uow:
        policy = await deps.policies.get(uow.session, tenant_id)
    article = next((a for a in reversed(policy.knowledge_base) if a.id == article_id), None)
    if article is None:
        return None
    return {
        "id": article.id,
        "title": article.title,
        "category": article.category,
        "steps": list(article.steps),
        "remote": article.remote,
    }


async def local_today(*, uow: UnitOfWork, deps: Deps, tenant_id: str) -> date:
    """Today on the tenant's calendar (the date a warranty decision is made on)."""
    async with uow:
        policy = await deps.policies.get(uow.session, tenant_id)
    return policy.calendar.local_date(uow.clock.now())
