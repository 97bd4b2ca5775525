"""What the planner answers: per technician, routes from the depot (or home) through the visits and
back, with travel, break and SLA risk; the jobs it could not place and why (UTC datetimes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dispatch.domain.instance import at
from dispatch.domain.routes import RouteSet
from dispatch.domain.timeline import EPS

SLA_RISK_MINUTES = 60.0  # a visit ending within an hour of its SLA deadline is at risk


@dataclass(frozen=True)
class PlannedVisit:
    job_id: str
    technician_id: str
    start: datetime  # service starts
    end: datetime
    travel_min: float  # from the previous stop (or the start of the day)
    travel_km: float
    pinned: bool = False
    sla_slack_min: float | None = None  # minutes between the end of the visit and its SLA deadline
    earliest: datetime | None = None  # the earliest this technician could start it (window, parts)
    existing: bool = False  # planned before this run (kept on its technician)
    late_min: float = 0.0  # a pinned visit a reported delay made late: minutes after its planned start

    @property
    def sla_at_risk(self) -> bool:
        return self.sla_slack_min is not None and self.sla_slack_min < SLA_RISK_MINUTES

    @property
    def sla_breach(self) -> bool:
        return self.sla_slack_min is not None and self.sla_slack_min < -EPS


@dataclass(frozen=True)
class PlannedRoute:
    technician_id: str
    period_start: datetime
    period_end: datetime
    visits: tuple[PlannedVisit, ...]
    back_at: datetime  # back at the depot or home
    travel_min: float  # including the way back
    travel_km: float
    break_start: datetime | None = None
    break_minutes: float = 0.0
    from_job_id: str | None = None  # the period starts at this visit's site (the technician is there now)

    @property
    def sla_risk(self) -> int:
        return sum(1 for v in self.visits if v.sla_at_risk)


@dataclass
class RoutePlan:
    routes: list[PlannedRoute]
    unplanned: dict[str, str]  # job id -> reason
    method: str = "routes"
    elapsed_s: float = 0.0
    gap_estimate: float | None = None  # how much the search still improved in its second half
    moved: int = 0  # visits already planned that changed technician or window
    stats: dict[str, float] = field(default_factory=dict)
    explanations: dict[str, str] = field(default_factory=dict)  # job id -> why it went where it did

    @property
    def visits(self) -> list[PlannedVisit]:
        return [v for r in self.routes for v in r.visits]

    @property
    def travel_min(self) -> float:
        return float(sum(r.travel_min for r in self.routes))

    @property
    def travel_km(self) -> float:
        return float(sum(r.travel_km for r in self.routes))

    @property
    def sla_breaches(self) -> int:
        return len({v.job_id for v in self.visits if v.sla_breach})

    @property
    def sla_risk(self) -> int:
        return sum(r.sla_risk for r in self.routes)

    def by_job(self) -> dict[str, list[PlannedVisit]]:
        out: dict[str, list[PlannedVisit]] = {}
        for v in self.visits:
            out.setdefault(v.job_id, []).append(v)
        return out


def to_plan(rs: RouteSet, *, unplanned: dict[int, str] | None = None, method: str = "routes") -> RoutePlan:
    """The route set as a plan: every non-empty working period becomes a route."""
    inst = rs.inst
    routes = []
    for s, (stops, line) in enumerate(zip(rs.stops, rs.lines, strict=True)):
        if not stops:
            continue
        sh = inst.shifts[s]
        tech = inst.techs[sh.tech]
        prev = sh.loc
        visits = []
        km_total = 0.0
        for stop, start, leg in zip(stops, line.starts, line.legs, strict=False):
            km = float(inst.km.item(prev, stop.loc)) if prev != stop.loc else 0.0
            km_total += km
            due = float(inst.due[stop.job])
            visits.append(
                PlannedVisit(
                    job_id=inst.jobs[stop.job].id,
                    technician_id=tech.id,
                    start=at(start),
                    end=at(start + stop.duration),
                    travel_min=leg,
                    travel_km=km,
                    pinned=stop.fixed is not None and stop.job in inst.placed,
                    sla_slack_min=None if due == float("inf") else due - (start + stop.duration),
                    earliest=at(stop.lo),
                    existing=stop.job in inst.placed,
                    late_min=rs.late.get(stop.job, 0.0),
                )
            )
            prev = stop.loc
        km_total += float(inst.km.item(prev, sh.home)) if prev != sh.home else 0.0
        routes.append(
            PlannedRoute(
                technician_id=tech.id,
                period_start=at(sh.start),
                period_end=at(sh.end),
                visits=tuple(visits),
                back_at=at(line.back),
                travel_min=line.travel,
                travel_km=km_total,
                break_start=at(line.brk_start) if line.brk_start is not None else None,
                break_minutes=sh.brk.minutes if sh.brk is not None and line.brk_start is not None else 0.0,
                from_job_id=inst.jobs[inst.current[sh.tech]].id if sh.end_loc >= 0 else None,
            )
        )
    names = {j: inst.jobs[j].id for j in (unplanned or {})}
    return RoutePlan(routes=routes, unplanned={names[j]: r for j, r in (unplanned or {}).items()}, method=method)
