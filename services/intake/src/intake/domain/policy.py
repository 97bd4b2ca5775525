"""A tenant's configuration of intake's rules (calendar, SLA, triage, duplicates, knowledge base)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from fixflow_shared.calendars import BusinessCalendar
from intake.domain.sla import SlaPolicy
from intake.domain.triage import DEFAULT_KB, Article, TriageRules, triage


@lru_cache(maxsize=4)
def default_calendar() -> BusinessCalendar:
    return BusinessCalendar.for_country("CN")


@dataclass(frozen=True)
class TenantPolicy:
    calendar: BusinessCalendar = field(default_factory=default_calendar)
    sla: SlaPolicy = field(default_factory=lambda: SlaPolicy.from_config(None))
    triage: TriageRules = field(default_factory=TriageRules)
    duplicate_window: timedelta = timedelta(hours=72)
    duplicate_threshold: float = 0.5
    knowledge_base: tuple[Article, ...] = DEFAULT_KB

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> TenantPolicy:
        if not cfg:
            return cls()
        cal_cfg = cfg.get("calendar")
        if cal_cfg is None:
            cal = default_calendar()
        elif cal_cfg.get("country"):
            c = dict(cal_cfg)
            base = BusinessCalendar.for_country(c["country"], tz=c.get("tz"))
            overrides = BusinessCalendar.from_config(
                {**base.to_config(), **{k: v for k, v in c.items() if k != "country"}}
            )
            cal = BusinessCalendar(
                tz=overrides.tz,
                working_hours=overrides.working_hours,
                weekdays=overrides.weekdays,
                holidays=base.holidays | overrides.holidays,
                extra_workdays=base.extra_workdays | overrides.extra_workdays,
            )
        else:
            cal = BusinessCalendar.from_config(cal_cfg)
        kb = DEFAULT_KB + tuple(
            Article(
                id=a["id"],
                title=a.get("title", a["id"]),
                keywords=tuple(a["keywords"]),
                category=a.get("category", "general"),
                steps=tuple(a.get("steps", ())),
                remote=bool(a.get("remote", True)),
            )
            for a in cfg.get("knowledge_base", ())
        )
        return cls(
            calendar=cal,
            sla=SlaPolicy.from_config(cfg.get("sla")),
            triage=TriageRules.from_config(cfg.get("triage")),
            duplicate_window=timedelta(hours=float(cfg.get("duplicate_window_hours", 72))),
            duplicate_threshold=float(cfg.get("duplicate_threshold", 0.5)),
            knowledge_base=kb,
        )

    def exercise(self, now: datetime) -> None:
        """Do once what ticket intake does with this policy (every SLA deadline, a triage of each
        kind): a policy that fails here raises now, at saving, not at every ticket of the tenant."""
        for clock, targets in self.sla.targets.items():
            for key, hours in targets.items():
                if not 0 < float(hours) <= 24 * 366:
                    raise ValueError(f"sla target {clock}.{key} must be between 0 and 8784 hours")
                self.calendar.add_business_time(now, timedelta(hours=float(hours)))
        self.calendar.business_time_between(now - timedelta(days=7), now)
        for kind in ("repair", "installation", "maintenance", "return", "complaint", "consultation"):
            for grade in (None, *self.triage.grade_bonus):
                triage(kind=kind, symptom="not working, noise", grade=grade, rules=self.triage, kb=self.knowledge_base)


def missing_facts(
    *, kind: str, has_model: bool, has_purchase_date: bool, has_site: bool, has_contact: bool, path: str | None
) -> list[str]:
    """What must be chased before work can start (the ticket waits, it is not rejected)."""
    missing: list[str] = []
    if kind in ("repair", "return", "installation", "maintenance") and not has_model:
        missing.append("product_model")
    if kind in ("repair", "return") and not has_purchase_date:
        missing.append("purchase_date")
    if (kind in ("installation", "maintenance") or path == "on_site") and not has_site:
        missing.append("address")
    if not has_contact:
        missing.append("contact")
    return missing
