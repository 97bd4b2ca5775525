"""What the route planner is asked to plan: technicians, jobs and the visits already on routes, as
plain values (UTC datetimes). The service builds them from its aggregates; benchmarks generate them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from dispatch.domain.intervals import Interval

Priority = Literal["P1", "P2", "P3", "P4"]

PRIORITY_WEIGHT: dict[str, float] = {"P1": 4.0, "P2": 2.0, "P3": 1.0, "P4": 0.5}
UNPLANNED_PENALTY: dict[str, float] = {"P1": 200_000.0, "P2": 100_000.0, "P3": 50_000.0, "P4": 25_000.0}


@dataclass(frozen=True)
class BreakWindow:
    """A break of `minutes` that starts between `earliest` and `latest`, wherever the technician is."""

    earliest: datetime
    latest: datetime
    minutes: int


@dataclass(frozen=True)
class TechnicianSpec:
    id: str
    lat: float  # where each working period starts and ends: the depot, else home
    lon: float
    available: tuple[Interval, ...]  # working hours minus absences
    skills: Mapping[str, int] = field(default_factory=dict)
    certifications: Mapping[str, datetime] = field(default_factory=dict)  # name -> latest expiry
    regions: frozenset[str] = frozenset()  # territories covered; empty = everywhere
    max_jobs_per_day: int = 6
    load_by_day: Mapping[date, int] = field(default_factory=dict)  # visits planned outside this problem
    van_stock: Mapping[str, int] = field(default_factory=dict)
    breaks: tuple[BreakWindow, ...] = ()
    name: str = ""


@dataclass(frozen=True)
class JobSpec:
    id: str
    lat: float
    lon: float
    duration_min: float
    priority: Priority = "P3"
    required_skills: Mapping[str, int] = field(default_factory=dict)
    required_certifications: tuple[str, ...] = ()
    region: str | None = None
    sla_deadline: datetime | None = None  # the visit should end by then (hard for P1)
    window: Interval | None = None  # service starts inside it (the booked window, else the requested one)
    requested: Interval | None = None  # what the customer asked for: kept when a booked window must change
    earliest: datetime | None = None  # not before (a second visit after an absent customer, parts)
    crew_size: int = 1  # technicians booked together at one time
    parts: Mapping[str, int] = field(default_factory=dict)  # parts the visit needs
    parts_holder: str | None = None  # the technician who holds (or receives) the ordered parts
    parts_eta: datetime | None = None  # when the ordered parts reach their holder


@dataclass(frozen=True)
class VisitSpec:
    """A visit already on a technician's route. Pinned visits (confirmed, en route, on site) keep
    their technician and their start; the others keep their technician and may move inside the job's
    window."""

    job: JobSpec
    technician_id: str
    start: datetime
    pinned: bool = False
    under_way: bool = False  # the technician is on the way or on site: their day goes on from there


@dataclass(frozen=True)
class Weights:
    """Costs in minutes of travel: what an hour of waiting, a minute late or a breach is worth."""

    lateness_per_min: float = 0.5
    sla_breach: float = 300.0
    waiting_per_hour: float = 0.25
    holder_bonus: float = 60.0  # the technician who holds the parts does the follow-up


@dataclass(frozen=True)
class PartsPolicy:
    """When parts not in a technician's van reach someone other than their holder."""

    handover_hours: float = 24.0  # from the holder to another technician
    order_hours: float = 48.0  # ordered from the warehouse when no shipment is under way


@dataclass(frozen=True)
class Problem:
    jobs: tuple[JobSpec, ...]  # to place
    technicians: tuple[TechnicianSpec, ...]
    now: datetime
    horizon_end: datetime
    visits: tuple[VisitSpec, ...] = ()  # already on routes
    weights: Weights = Weights()
    parts: PartsPolicy = PartsPolicy()
