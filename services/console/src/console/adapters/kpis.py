"""Where the manager dashboard reads KPIs: the insight service (issue 19), which recomputes them
from every service's events (docs/kpis.md), read with the manager's own token.

Insight counts whole UTC days: the period [start, end) the page chose becomes the days from
start's to end's UTC date. The open backlog is not an event KPI but a state intake owns now: it
comes from intake's /v1/kpis (`backlog_by_status`), asked for the last second of the period so
intake computes nothing else of weight."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from fixflow_shared.web.services import ServiceClient, ServiceProblem


@dataclass(frozen=True)
class KpiFigures:
    start: datetime
    end: datetime
    overall: dict[str, Any]  # insight's KPIs for the whole tenant (GET /v1/kpis)
    by_kind: dict[str, dict[str, Any]] = field(default_factory=dict)  # the same per ticket kind
    by_technician: dict[str, dict[str, Any]] = field(default_factory=dict)  # per technician id
    by_day: dict[str, dict[str, Any]] = field(default_factory=dict)  # per UTC day (ISO date)
    backlog: dict[str, int] = field(default_factory=dict)  # intake: open tickets by status now
    unavailable: list[str] = field(default_factory=list)  # sources that did not answer (the page says so)


class KpiSource(Protocol):
    async def figures(self, *, token: str, start: datetime, end: datetime) -> KpiFigures: ...


def utc_days(start: datetime, end: datetime) -> dict[str, str]:
    """Insight's `from` / `to` (UTC days, `to` exclusive) covering [start, end)."""
    first = start.astimezone(UTC).date()
    last = (end - timedelta(microseconds=1)).astimezone(UTC).date()
    return {"from": first.isoformat(), "to": (last + timedelta(days=1)).isoformat()}


class InsightKpiSource:
    def __init__(self, insight: ServiceClient, intake: ServiceClient) -> None:
        self.insight, self.intake = insight, intake

    async def figures(self, *, token: str, start: datetime, end: datetime) -> KpiFigures:
        days = utc_days(start, end)
        now = {"start": (end - timedelta(seconds=1)).isoformat(), "end": end.isoformat()}
        calls = {
            "insight": self.insight.get("/v1/kpis", token=token, params=days),
            "insight_kind": self.insight.get("/v1/kpis", token=token, params={**days, "group_by": "kind"}),
            "insight_tech": self.insight.get("/v1/kpis", token=token, params={**days, "group_by": "technician"}),
            "insight_day": self.insight.get("/v1/kpis", token=token, params={**days, "group_by": "day"}),
            "intake": self.intake.get("/v1/kpis", token=token, params=now),
        }
        answers = await asyncio.gather(*calls.values(), return_exceptions=True)
        got: dict[str, Any] = {}
        missing = set()
        for name, a in zip(calls, answers, strict=True):
            if isinstance(a, ServiceProblem):
                missing.add(name.split("_")[0])
                got[name] = {}
            elif isinstance(a, BaseException):
                raise a
            else:
                got[name] = a or {}
        return KpiFigures(
            start=start,
            end=end,
            overall=got["insight"],
            by_kind=got["insight_kind"].get("groups") or {},
            by_technician=got["insight_tech"].get("groups") or {},
            by_day=got["insight_day"].get("groups") or {},
            backlog={k: int(v) for k, v in (got["intake"].get("backlog_by_status") or {}).items()},
            unavailable=sorted(missing),
        )
