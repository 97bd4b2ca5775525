"""What the entrypoints share: the runtime, answer links and the Redis timer wheel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fixflow_shared.logs import get_logger
from fixflow_shared.runtime import ServiceRuntime
from fixflow_shared.timers import DueTimerWheel, run_timer_loop
from survey.service_layer import handlers
from survey.service_layer.handlers import Links

log = get_logger(__name__)


@dataclass
class Services:
    runtime: ServiceRuntime
    links: Links
    wheel: DueTimerWheel
    poll_s: float = 1.0
    reseed_s: float = 60.0

    async def scheduled(self, timers: list[tuple[str, datetime]]) -> None:
        """After a commit: wake the loop at the new times. Losing this only delays (re-seed)."""
        if not timers:
            return
        try:
            await self.wheel.schedule_many(timers)
        except Exception as exc:
            log.warning("timer wheel unreachable; the re-seed will pick the timers up", error=repr(exc))

    async def fire(self, timer_id: str) -> None:
        await self.scheduled(await handlers.fire_timer(uow=self.runtime.uow(), timer_id=timer_id, links=self.links))

    async def reseed(self) -> list[tuple[str, datetime]]:
        return await handlers.pending_timers(uow=self.runtime.uow())

    async def run_timers(self) -> None:
        await run_timer_loop(
            self.wheel, self.fire, self.reseed, self.poll_s, reseed_every_s=self.reseed_s, clock=self.runtime.clock
        )
