"""What the entrypoints share: the runtime, the settings and the report timer wheel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fixflow_shared.logs import get_logger
from fixflow_shared.runtime import ServiceRuntime
from fixflow_shared.timers import DueTimerWheel, run_timer_loop
from insight.config import InsightSettings
from insight.service_layer import reports
from insight.service_layer.projector import Applied

log = get_logger(__name__)


@dataclass
class Services:
    runtime: ServiceRuntime
    settings: InsightSettings
    wheel: DueTimerWheel

    async def applied(self, result: Applied) -> None:
        """After a projection commit: tenants seen for the first time get their monthly schedule."""
        if not result.new_tenants:
            return
        timers = await reports.schedule_tenants(
            uow=self.runtime.uow(),
            tenants=result.new_tenants,
            now=self.runtime.clock.now(),
            hour_utc=self.settings.report_hour_utc,
        )
        await self.scheduled(timers)

    async def scheduled(self, timers: list[tuple[str, datetime]]) -> None:
        if not timers:
            return
        try:
            await self.wheel.schedule_many(timers)
        except Exception as exc:  # the re-seed picks them up from report_schedule
            log.warning("timer wheel unreachable; the re-seed will pick the timers up", error=repr(exc))

    async def fire(self, timer: str) -> None:
        await self.scheduled(
            await reports.fire(
                uow=self.runtime.uow(), timer=timer, hour_utc=self.settings.report_hour_utc, font=self.settings.pdf_font
            )
        )

    async def reseed(self) -> list[tuple[str, datetime]]:
        return await reports.pending(uow=self.runtime.uow())

    async def run_timers(self) -> None:
        await run_timer_loop(
            self.wheel, self.fire, self.reseed, self.settings.timer_poll_s, reseed_every_s=self.settings.timer_reseed_s
        )
