"""Technicians, jobs, appointments and work orders (plain Python, no I/O).

Work orders are a state machine; an illegal move raises IllegalTransition. Calendars turn weekly
working hours (in the technician's time zone) minus absences into UTC availability intervals for
the optimiser.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.domain.exceptions import IllegalTransition, RuleViolation
from dispatch.domain.intervals import Interval, subtract
from dispatch.domain.specs import BreakWindow, JobSpec, TechnicianSpec
from fixflow_shared.calendars import BusinessCalendar

__all__ = ["Interval", "subtract"]  # re-exported: callers read intervals from the model


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


# --- technicians ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certification:
    id: str
    name: str
    valid_until: datetime
    number: str | None = None

    def valid_at(self, t: datetime) -> bool:
        return t <= self.valid_until


@dataclass(frozen=True)
class Absence:
    id: str
    start: datetime
    end: datetime
    reason: str

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)


@dataclass(frozen=True)
class WeeklyHours:
    """Working hours per weekday (0 = Monday) in a time zone, e.g. {0: ("08:00", "18:00")}.

    With a `country`, its public holidays are off and its make-up workdays (调休, a weekend day
    worked instead) are worked with the hours of the first configured weekday.
    """

    tz: str = "Asia/Shanghai"
    days: dict[int, tuple[str, str]] = field(default_factory=lambda: {d: ("08:00", "18:00") for d in range(5)})
    country: str | None = None
    daily_break: DailyBreak | None = None

    def hours_on(self, day: date) -> tuple[str, str] | None:
        hours = self.days.get(day.weekday())
        if self.country:
            cal = country_calendar(self.country, day.year)
            if day in cal.extra_workdays:
                return hours or (self.days[min(self.days)] if self.days else None)
            if day in cal.holidays:
                return None
        return hours

    def intervals(self, start: datetime, end: datetime) -> list[Interval]:
        zone = ZoneInfo(self.tz)
        out: list[Interval] = []
        day = start.astimezone(zone).date() - timedelta(days=1)
        last = end.astimezone(zone).date()
        while day <= last:
            hours = self.hours_on(day)
            if hours:
                a, b = _working_day(self.tz, day, hours[0], hours[1])
                a, b = max(a, start), min(b, end)
                if b > a:
                    out.append(Interval(a, b))
            day += timedelta(days=1)
        return out

    def breaks(self, start: datetime, end: datetime) -> tuple[BreakWindow, ...]:
        """The daily break of every working day in [start, end), in UTC."""
        b = self.daily_break
        if b is None:
            return ()
        zone = ZoneInfo(self.tz)
        out = []
        for iv in self.intervals(start - timedelta(days=1), end + timedelta(days=1)):
            day = iv.start.astimezone(zone).date()
            e, latest = _working_day(self.tz, day, b.earliest, b.latest)
            if iv.start <= latest and e < iv.end and e < end and latest > start:
                out.append(BreakWindow(e, latest, b.minutes))
        return tuple(out)


@dataclass(frozen=True)
class DailyBreak:
    """A break of `minutes` starting between `earliest` and `latest` (local "HH:MM") each working day."""

    earliest: str
    latest: str
    minutes: int


@lru_cache(maxsize=64)
def country_calendar(country: str, year: int) -> BusinessCalendar:
    """Public holidays and make-up workdays of a country (the shared calendar, `holidays` library)."""
    # only its days off and make-up workdays are read here, so any zone will do (not every country has a default)
    return BusinessCalendar.for_country(country, years=[year - 1, year, year + 1], tz="UTC")


@lru_cache(maxsize=65536)
def _working_day(tz: str, day: date, start: str, end: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    a = datetime.combine(day, time.fromisoformat(start), zone).astimezone(UTC)
    b = datetime.combine(day, time.fromisoformat(end), zone).astimezone(UTC)
    return a, b


@dataclass
class Technician:
    id: str
    tenant_id: str
    name: str
    phone: str | None
    home_lat: float
    home_lon: float
    skills: dict[str, int] = field(default_factory=dict)
    regions: list[str] = field(default_factory=list)
    hours: WeeklyHours = field(default_factory=WeeklyHours)
    max_jobs_per_day: int = 6
    van_stock: dict[str, int] = field(default_factory=dict)
    certifications: list[Certification] = field(default_factory=list)
    absences: list[Absence] = field(default_factory=list)
    active: bool = True
    team_id: str | None = None  # the team (service station) the technician reports under
    depot_lat: float | None = None  # the day starts and ends here when set, else at home
    depot_lon: float | None = None

    def availability(self, start: datetime, end: datetime) -> list[Interval]:
        if not self.active:
            return []
        return subtract(self.hours.intervals(start, end), [a.interval for a in self.absences])

    def is_absent(self, iv: Interval) -> bool:
        return any(a.interval.overlaps(iv) for a in self.absences)

    def take_from_van(self, part_code: str, quantity: int) -> None:
        have = self.van_stock.get(part_code, 0)
        if have < quantity:
            raise RuleViolation(f"van stock has {have} of {part_code}, {quantity} used")
        self.van_stock[part_code] = have - quantity

    def spec(self, *, start: datetime, end: datetime, load_by_day: dict[date, int] | None = None) -> TechnicianSpec:
        """This technician as the route planner sees it for the horizon [start, end)."""
        certs: dict[str, datetime] = {}
        for c in self.certifications:  # a renewed certificate counts until its latest expiry
            certs[c.name] = max(certs.get(c.name, c.valid_until), c.valid_until)
        depot = self.depot_lat is not None and self.depot_lon is not None
        return TechnicianSpec(
            id=self.id,
            name=self.name,
            lat=self.depot_lat if depot else self.home_lat,  # type: ignore[arg-type]
            lon=self.depot_lon if depot else self.home_lon,  # type: ignore[arg-type]
            available=tuple(self.availability(start, end)),
            skills=dict(self.skills),
            certifications=certs,
            regions=frozenset(self.regions),
            max_jobs_per_day=self.max_jobs_per_day,
            load_by_day=load_by_day or {},
            van_stock=dict(self.van_stock),
            breaks=self.hours.breaks(start, end),
        )


# --- jobs -------------------------------------------------------------------------------------------


class JobStatus(StrEnum):
    AWAITING_TRIAGE = "awaiting_triage"  # opened: triage decides skills, duration and path before any visit
    INCOMPLETE = "incomplete"  # no coordinates yet: cannot be planned
    OPEN = "open"  # waiting for a technician
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_PARTS = "waiting_parts"
    AWAITING_CONSENT = "awaiting_consent"  # out-of-warranty repair: no visit before the customer accepts the quote
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass
class Job:
    id: str
    tenant_id: str
    ticket_id: str
    kind: str
    status: JobStatus
    priority: str = "P3"
    required_skills: dict[str, int] = field(default_factory=dict)
    required_certifications: list[str] = field(default_factory=list)
    lat: float | None = None
    lon: float | None = None
    duration_min: int = 60
    sla_deadline: datetime | None = None
    requested_start: datetime | None = None
    requested_end: datetime | None = None
    earliest: datetime | None = None
    visits: int = 0
    created_at: datetime | None = None
    region: str | None = None  # the site's territory, e.g. CN-31: only technicians covering it go
    crew_size: int = 1
    parts: dict[str, int] = field(default_factory=dict)  # parts the next visit needs
    parts_holder: str | None = None  # the technician who holds (or receives) them
    parts_eta: datetime | None = None  # when they reach their holder
    customer_id: str | None = None  # whose ticket: a customer reaches its own jobs and appointments only

    @property
    def plannable(self) -> bool:
        return self.lat is not None and self.lon is not None and self.status == JobStatus.OPEN

    @property
    def requested(self) -> Interval | None:
        if self.requested_start and self.requested_end and self.requested_end > self.requested_start:
            return Interval(self.requested_start, self.requested_end)
        return None

    def spec(self, *, window: Interval | None = None) -> JobSpec:
        """This job as the route planner sees it; `window` is its booked window, if any."""
        if self.lat is None or self.lon is None:
            raise RuleViolation(f"job {self.id} has no location yet")
        return JobSpec(
            id=self.id,
            lat=self.lat,
            lon=self.lon,
            duration_min=self.duration_min,
            priority=self.priority,  # type: ignore[arg-type]
            required_skills=dict(self.required_skills),
            required_certifications=tuple(self.required_certifications),
            region=self.region,
            sla_deadline=self.sla_deadline,
            window=window or self.requested,
            requested=self.requested,
            earliest=self.earliest,
            crew_size=self.crew_size,
            parts=dict(self.parts),
            parts_holder=self.parts_holder,
            parts_eta=self.parts_eta,
        )


# --- appointments -------------------------------------------------------------------------------------


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    DONE = "done"


@dataclass
class Appointment:
    id: str
    tenant_id: str
    job_id: str
    ticket_id: str
    technician_id: str
    window_start: datetime
    window_end: datetime
    visit_number: int
    status: AppointmentStatus = AppointmentStatus.BOOKED
    reason: str | None = None

    @property
    def window(self) -> Interval:
        return Interval(self.window_start, self.window_end)

    def confirm(self) -> None:
        if self.status != AppointmentStatus.BOOKED:
            raise IllegalTransition("appointment", self.status, AppointmentStatus.CONFIRMED)
        self.status = AppointmentStatus.CONFIRMED

    def reschedule(self, window: Interval, *, now: datetime, reason: str) -> Interval:
        if self.status not in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
            raise IllegalTransition("appointment", self.status, "rescheduled")
        check_future_window(window, now)
        previous = self.window
        self.window_start, self.window_end = window.start, window.end
        self.status = AppointmentStatus.BOOKED  # the customer confirms the new time again
        self.reason = reason
        return previous

    def cancel(self, reason: str) -> None:
        if self.status not in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
            raise IllegalTransition("appointment", self.status, AppointmentStatus.CANCELLED)
        self.status = AppointmentStatus.CANCELLED
        self.reason = reason


def check_future_window(window: Interval, now: datetime) -> None:
    if window.start < now:
        raise RuleViolation("the window starts in the past")
    if window.end - window.start > timedelta(hours=8):
        raise RuleViolation("a window is at most 8 hours long")


# --- work orders ---------------------------------------------------------------------------------------


class WorkOrderStatus(StrEnum):
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    COMPLETED = "completed"
    NEEDS_PARTS = "needs_parts"
    CUSTOMER_ABSENT = "customer_absent"
    ESCALATED = "escalated"
    UNASSIGNED = "unassigned"  # declined, absent, delayed: the job goes back to planning


WO_ALLOWED: dict[WorkOrderStatus, frozenset[WorkOrderStatus]] = {
    WorkOrderStatus.ASSIGNED: frozenset(
        {WorkOrderStatus.EN_ROUTE, WorkOrderStatus.ON_SITE, WorkOrderStatus.UNASSIGNED}
    ),
    WorkOrderStatus.EN_ROUTE: frozenset({WorkOrderStatus.ON_SITE, WorkOrderStatus.UNASSIGNED}),
    WorkOrderStatus.ON_SITE: frozenset(
        {
            WorkOrderStatus.COMPLETED,
            WorkOrderStatus.NEEDS_PARTS,
            WorkOrderStatus.CUSTOMER_ABSENT,
            WorkOrderStatus.ESCALATED,
        }
    ),
    WorkOrderStatus.COMPLETED: frozenset(),
    WorkOrderStatus.NEEDS_PARTS: frozenset(),
    WorkOrderStatus.CUSTOMER_ABSENT: frozenset(),
    WorkOrderStatus.ESCALATED: frozenset(),
    WorkOrderStatus.UNASSIGNED: frozenset(),
}
FINISHED = frozenset(
    {
        WorkOrderStatus.COMPLETED,
        WorkOrderStatus.NEEDS_PARTS,
        WorkOrderStatus.CUSTOMER_ABSENT,
        WorkOrderStatus.ESCALATED,
        WorkOrderStatus.UNASSIGNED,
    }
)


@dataclass(frozen=True)
class PartUse:
    part_code: str
    quantity: int
    source: str = "van_stock"


WORK_TYPES = ("inspection", "adjustment", "part_replacement", "reinstall", "repair", "internal")
FAULT_ORIGINS = ("quality", "customer", "unknown")


@dataclass(frozen=True)
class CompletionFacts:
    """What the technician records at completion: what failed (`fault_cause`, free text such as
    compressor or pcb, for quality reports) and, for the fee schedule (billing prices by it), what
    was done, whose fault it was (`fault_origin`: quality, customer, unknown), how many
    adjustments, whether the unit goes back to the factory (freight), whether it was internal work.
    An unknown work type / origin stays None: billing then classifies the resolution code with
    the tenant's price book."""

    work_type: str | None = None
    fault_origin: str | None = None
    fault_cause: str | None = None
    adjustments: int = 1
    freight: bool = False
    internal: bool = False

    def __post_init__(self) -> None:
        if self.work_type is not None and self.work_type not in WORK_TYPES:
            raise RuleViolation(f"unknown work type {self.work_type!r}")
        if self.fault_origin is not None and self.fault_origin not in FAULT_ORIGINS:
            raise RuleViolation(f"unknown fault origin {self.fault_origin!r}")
        if self.adjustments < 1:
            raise RuleViolation("at least one adjustment is counted")


@dataclass
class WorkOrder:
    id: str
    tenant_id: str
    job_id: str
    ticket_id: str
    technician_id: str
    visit_number: int
    status: WorkOrderStatus = WorkOrderStatus.ASSIGNED
    appointment_id: str | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    travel_min: float = 0.0
    explanation: str = ""
    en_route_at: datetime | None = None
    eta: datetime | None = None  # expected arrival, set when the technician sets off
    eta_from: str | None = None  # position | previous_stop | home
    arrived_at: datetime | None = None
    arrived_lat: float | None = None
    arrived_lon: float | None = None
    diagnosis: str | None = None
    parts_used: list[PartUse] = field(default_factory=list)
    labour_minutes: int = 0
    photos: list[dict[str, str]] = field(default_factory=list)
    resolution_code: str | None = None
    sign_off: dict[str, object] | None = None
    rating: int | None = None
    note: str | None = None
    finished_at: datetime | None = None
    completion: CompletionFacts | None = None
    checklist_answers: dict[str, Any] = field(default_factory=dict)  # the job kind's checklist, key -> value

    def _move(self, target: WorkOrderStatus) -> None:
        if target not in WO_ALLOWED[self.status]:
            raise IllegalTransition("work order", self.status, target, allowed=WO_ALLOWED[self.status])
        self.status = target

    def en_route(self, at: datetime) -> None:
        self._move(WorkOrderStatus.EN_ROUTE)
        self.en_route_at = at

    def arrive(self, at: datetime, lat: float | None, lon: float | None) -> bool | None:
        """Returns whether the arrival is inside the booked window (None without a window)."""
        self._move(WorkOrderStatus.ON_SITE)
        self.arrived_at, self.arrived_lat, self.arrived_lon = at, lat, lon
        if self.planned_start is None or self.planned_end is None:
            return None
        return self.planned_start - timedelta(minutes=15) <= at <= self.planned_end

    def record(
        self, *, diagnosis: str | None, parts: list[PartUse], labour_minutes: int, photos: list[dict[str, str]]
    ) -> None:
        if self.status != WorkOrderStatus.ON_SITE:
            raise IllegalTransition("work order", self.status, "recording work")
        if diagnosis is not None:
            self.diagnosis = diagnosis
        self.parts_used.extend(parts)
        self.labour_minutes += labour_minutes
        self.photos.extend(photos)

    def complete(
        self,
        *,
        resolution_code: str,
        sign_off: dict[str, object],
        rating: int | None,
        at: datetime,
        facts: CompletionFacts | None = None,
    ) -> None:
        self._move(WorkOrderStatus.COMPLETED)
        self.resolution_code, self.sign_off, self.rating, self.finished_at = resolution_code, sign_off, rating, at
        self.completion = facts or CompletionFacts()

    def fail(self, outcome: WorkOrderStatus, *, note: str | None, at: datetime) -> None:
        if outcome not in (WorkOrderStatus.NEEDS_PARTS, WorkOrderStatus.CUSTOMER_ABSENT, WorkOrderStatus.ESCALATED):
            raise RuleViolation(f"{outcome} is not a failure outcome")
        self._move(outcome)
        self.note, self.finished_at = note, at

    def unassign(self, reason: str, at: datetime) -> None:
        self._move(WorkOrderStatus.UNASSIGNED)
        self.note, self.finished_at = reason, at


@dataclass
class PartsRequest:
    id: str
    tenant_id: str
    ticket_id: str
    job_id: str | None  # None for a return pickup: logistics collects, nobody visits
    work_order_id: str | None
    parts: list[PartUse]
    status: str = "requested"  # requested -> shipped -> delivered | cancelled
    shipment_id: str | None = None
    eta: datetime | None = None
