"""SLA clocks over business calendars, paused while the ticket waits on the customer.

A clock measures *effective* business time: business time since it started minus the business
time it spent paused. It is due when that reaches its target and at risk at a share of it
(default 80%). Each clock raises at most one at-risk and one breached signal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fixflow_shared.calendars import BusinessCalendar

H = timedelta(hours=1)

DEFAULT_TARGETS: dict[str, dict[str, float]] = {
    # hours of business time, by priority (or by province for on-site arrival)
    "first_response": {"P1": 1, "P2": 2, "P3": 4, "P4": 4},
    "on_site_arrival": {"in_province": 24, "out_of_province": 48, "P1": 12},
    "resolution": {"P1": 24, "P2": 48, "P3": 72, "P4": 120},
    "complaint_record": {"any": 3},
    "complaint_contact": {"any": 24},
    "complaint_fix": {"any": 48},
}


@dataclass(frozen=True)
class SlaPolicy:
    targets: Mapping[str, Mapping[str, float]]
    at_risk_share: float = 0.8

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> SlaPolicy:
        cfg = cfg or {}
        targets = {k: dict(v) for k, v in DEFAULT_TARGETS.items()}
        for k, v in (cfg.get("targets") or {}).items():
            targets.setdefault(k, {}).update(v)
        share = float(cfg.get("at_risk_share", 0.8))
        if not 0 < share < 1:
            raise ValueError("at_risk_share must be between 0 and 1")
        return cls(targets=targets, at_risk_share=share)

    def target(self, clock: str, *, priority: str | None, in_province: bool | None = None) -> timedelta:
        t = self.targets[clock]
        if clock == "on_site_arrival":
            if priority == "P1" and "P1" in t:
                return t["P1"] * H
            return (t["out_of_province"] if in_province is False else t["in_province"]) * H
        if "any" in t:
            return t["any"] * H
        return t.get(priority or "P3", t.get("P3", 4)) * H

    def clocks_for(self, *, kind: str, path: str | None) -> tuple[str, ...]:
        if kind == "complaint":
            return ("complaint_record", "complaint_contact", "complaint_fix")
        clocks = ["first_response", "resolution"]
        if path == "on_site":
            clocks.insert(1, "on_site_arrival")
        return tuple(clocks)


@dataclass
class SlaClock:
    name: str
    target: timedelta
    started_at: datetime
    at_risk_share: float = 0.8
    paused_business: timedelta = timedelta(0)
    paused_since: datetime | None = None
    stopped_at: datetime | None = None
    at_risk_raised: bool = False
    breached_raised: bool = False

    # --- measurement ---------------------------------------------------------------------------
    def elapsed(self, cal: BusinessCalendar, now: datetime) -> timedelta:
        end = min(x for x in (now, self.stopped_at, self.paused_since) if x is not None)
        end = max(end, self.started_at)
        return cal.business_time_between(self.started_at, end) - self.paused_business

    def due_at(self, cal: BusinessCalendar) -> datetime:
        """Deadline if the clock keeps running from now on (pauses so far push it back)."""
        return cal.add_business_time(self.started_at, self.target + self.paused_business)

    def at_risk_at(self, cal: BusinessCalendar) -> datetime:
        return cal.add_business_time(self.started_at, self.target * self.at_risk_share + self.paused_business)

    @property
    def running(self) -> bool:
        return self.stopped_at is None and self.paused_since is None

    def met(self, cal: BusinessCalendar) -> bool | None:
        """None while running; True when stopped within target."""
        if self.stopped_at is None:
            return None
        return self.elapsed(cal, self.stopped_at) <= self.target

    def next_check(self, cal: BusinessCalendar) -> datetime | None:
        if not self.running:
            return None
        if not self.at_risk_raised:
            return self.at_risk_at(cal)
        if not self.breached_raised:
            return self.due_at(cal)
        return None

    # --- changes -------------------------------------------------------------------------------
    def pause(self, at: datetime) -> None:
        if self.running:
            self.paused_since = max(at, self.started_at)

    def resume(self, cal: BusinessCalendar, at: datetime) -> None:
        if self.paused_since is not None and self.stopped_at is None:
            at = max(at, self.paused_since)
            self.paused_business += cal.business_time_between(self.paused_since, at)
            self.paused_since = None

    def stop(self, cal: BusinessCalendar, at: datetime) -> None:
        if self.stopped_at is None:
            if self.paused_since is not None:
                self.resume(cal, at)
            self.stopped_at = max(at, self.started_at)

    def evaluate(self, cal: BusinessCalendar, now: datetime) -> list[str]:
        """Signals due at `now` ("at_risk", "breached"); each is raised once, never while paused."""
        if not self.running:
            return []
        out: list[str] = []
        elapsed = self.elapsed(cal, now)
        if elapsed >= self.target * self.at_risk_share and not self.at_risk_raised:
            # a clock that jumps straight past its deadline still reports at-risk first
            self.at_risk_raised = True
            out.append("at_risk")
        if elapsed >= self.target and not self.breached_raised:
            self.breached_raised = True
            out.append("breached")
        return out
