"""What every intake use case is handed: tenant policies (cached) and the SLA timer wheel.

Timers: after a commit, clocks whose next check changed are (re)scheduled in Redis; the rows in
sla_clocks stay the durable copy (the loop re-seeds from them), so a lost schedule only delays.
"""

from __future__ import annotations

import time as _time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fixflow_shared.logs import get_logger
from fixflow_shared.timers import DueTimerWheel
from intake.adapters.repository import SettingsRepository
from intake.domain.policy import TenantPolicy

log = get_logger(__name__)


class PolicyStore:
    """Tenant policies, cached briefly in process (they change rarely)."""

    def __init__(self, ttl_s: float = 30.0) -> None:
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, TenantPolicy]] = {}

    async def get(self, session: AsyncSession, tenant_id: str) -> TenantPolicy:
        hit = self._cache.get(tenant_id)
        if hit and _time.monotonic() - hit[0] < self.ttl_s:
            return hit[1]
        cfg = await SettingsRepository(session).get(tenant_id)
        policy = TenantPolicy.from_config(cfg)
        self._cache[tenant_id] = (_time.monotonic(), policy)
        return policy

    def invalidate(self, tenant_id: str) -> None:
        self._cache.pop(tenant_id, None)


@dataclass
class Deps:
    policies: PolicyStore
    timers: DueTimerWheel | None = None


async def schedule_timers(deps: Deps, items: Iterable[tuple[str, datetime]]) -> None:
    items = list(items)
    if deps.timers is not None and items:
        try:
            await deps.timers.schedule_many(items)
        except Exception as exc:  # the re-seed from the database catches up
            log.warning("could not schedule SLA timers", error=repr(exc))
