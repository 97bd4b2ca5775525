"""Where the manager dashboard reads KPIs: one port, so the insight service (issue 19) can replace
today's sources without touching the pages. Today: intake's and dispatch's /v1/kpis and survey's
satisfaction reports, read with the manager's own token."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from console.adapters.http import ServiceProblem, Services


@dataclass(frozen=True)
class KpiFigures:
    start: datetime
    end: datetime
    tickets: dict[str, Any]  # intake: volumes, response and resolution times, SLA attainment, backlog
    field: dict[str, Any]  # dispatch: first-time fix, on-time arrival, utilisation, jobs per technician
    satisfaction: dict[str, Any]  # survey: CSAT, NPS, response rate (overall)
    by_technician: list[dict[str, Any]]  # survey rows per technician
    by_day: list[dict[str, Any]]  # survey rows per day
    unavailable: list[str]  # sources that did not answer (the page says so)


class KpiSource(Protocol):
    async def figures(self, *, token: str, start: datetime, end: datetime) -> KpiFigures: ...


class ServicesKpiSource:
    def __init__(self, services: Services) -> None:
        self.s = services

    async def figures(self, *, token: str, start: datetime, end: datetime) -> KpiFigures:
        period = {"start": start.isoformat(), "end": end.isoformat()}
        span = {"from": start.isoformat(), "to": end.isoformat()}
        calls = {
            "intake": self.s.intake.get("/v1/kpis", token=token, params=period),
            "dispatch": self.s.dispatch.get("/v1/kpis", token=token, params=span),
            "survey": self.s.survey.get("/v1/reports/satisfaction", token=token, params={**span, "group_by": "all"}),
            "survey_tech": self.s.survey.get(
                "/v1/reports/satisfaction", token=token, params={**span, "group_by": "technician"}
            ),
            "survey_day": self.s.survey.get(
                "/v1/reports/satisfaction", token=token, params={**span, "group_by": "day"}
            ),
        }
        answers = await asyncio.gather(*calls.values(), return_exceptions=True)
        got: dict[str, Any] = {}
        missing = []
        for name, a in zip(calls, answers, strict=True):
            if isinstance(a, ServiceProblem):
                missing.append(name.split("_")[0])
                got[name] = {}
            elif isinstance(a, BaseException):
                raise a
            else:
                got[name] = a
        overall = (got["survey"].get("rows") or [{}])[0] if got["survey"] else {}
        return KpiFigures(
            start=start,
            end=end,
            tickets=got["intake"],
            field=got["dispatch"],
            satisfaction=overall,
            by_technician=got["survey_tech"].get("rows", []) if got["survey_tech"] else [],
            by_day=got["survey_day"].get("rows", []) if got["survey_day"] else [],
            unavailable=sorted(set(missing)),
        )
