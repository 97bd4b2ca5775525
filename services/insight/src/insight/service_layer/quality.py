"""Use cases of the quality loop: the tenant's thresholds and the rectification steps of an alert."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from fixflow_shared.errors import NotFound
from fixflow_shared.uow import UnitOfWork
from insight.adapters import quality_store
from insight.domain import quality as Q


async def rules(*, uow: UnitOfWork, tenant: str) -> tuple[list[dict[str, Any]], bool]:
    """The tenant's rules and whether they are the defaults."""
    async with uow:
        await uow.scope_to_tenant(tenant)
        config = await quality_store.get_rules(uow.session, tenant)
    return [asdict(r) for r in Q.rules_from(config)], config is None


async def put_rules(*, uow: UnitOfWork, tenant: str, rules: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    parsed = [asdict(Q.Rule(**r)) for r in rules]  # BadRule (422) on a bad rule
    if len({r["id"] for r in parsed}) != len(parsed):
        raise Q.BadRule("rule ids must be unique")
    async with uow:
        await uow.scope_to_tenant(tenant)
        await quality_store.put_rules(uow.session, tenant, parsed, by, uow.clock.now())
        await uow.commit()
    return parsed


async def record_step(
    *,
    uow: UnitOfWork,
    tenant: str,
    alert_id: str,
    step: str,
    note: str | None,
    owner: str | None,
    due_on: date | None,
    customers_informed: int | None,
    by: str,
) -> dict[str, Any]:
    async with uow:
        await uow.scope_to_tenant(tenant)
        found = await quality_store.alerts(uow.session, tenant, alert_id=alert_id, limit=1)
        if not found:
            raise NotFound("alert", alert_id)
        status = Q.check_step([s["step"] for s in found[0]["steps"]], step, note=note, owner=owner, due_on=due_on)
        await quality_store.add_step(
            uow.session,
            tenant,
            alert_id,
            step=step,
            status=status,
            note=note,
            owner=owner,
            due_on=due_on,
            customers_informed=customers_informed,
            by=by,
            at=uow.clock.now(),
        )
        await uow.commit()
        # read back inside a fresh transaction: the caller shows the alert with its steps
    async with uow:
        await uow.scope_to_tenant(tenant)
        return (await quality_store.alerts(uow.session, tenant, alert_id=alert_id, limit=1))[0]
