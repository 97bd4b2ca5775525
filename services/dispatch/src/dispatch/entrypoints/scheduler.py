"""Periodic batch optimisation: every interval, plan the open jobs of every tenant (on-demand runs
go through POST /v1/optimisations). Each tenant is planned in its own transaction under the
tenant's planning lock, so it never races the immediate placements."""

from __future__ import annotations

import asyncio

from dispatch import views
from dispatch.service_layer import placement
from dispatch.service_layer.planning import Planning
from fixflow_shared.logs import get_logger
from fixflow_shared.runtime import ServiceRuntime

log = get_logger(__name__)


async def optimise_all(runtime: ServiceRuntime, planning: Planning) -> int:
    tenants = await views.tenants_to_plan(uow=runtime.uow())
    planned = 0
    for tenant in tenants:
        try:
            plan = await placement.optimise(uow=runtime.uow(), tenant_id=tenant, planning=planning)
            planned += sum(1 for v in plan.visits if not v.existing)
        except Exception as exc:  # one tenant's failure must not stop the others
            log.warning("periodic optimisation failed", tenant=tenant, error=repr(exc))
    return planned


async def optimise_periodically(runtime: ServiceRuntime, planning: Planning, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            n = await optimise_all(runtime, planning)
            if n:
                log.info("periodic optimisation planned jobs", planned=n)
        except Exception as exc:
            log.warning("periodic optimisation round failed", error=repr(exc))
