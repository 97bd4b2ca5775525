"""Commands: what a caller asks dispatch to do (imperative names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dispatch.domain.model import CompletionFacts, PartUse, WeeklyHours


@dataclass(frozen=True)
class RegisterTechnician:
    tenant_id: str
    name: str
    phone: str | None
    home_lat: float
    home_lon: float
    skills: dict[str, int]
    regions: list[str] = field(default_factory=list)
    hours: WeeklyHours = field(default_factory=WeeklyHours)
    max_jobs_per_day: int = 6
    van_stock: dict[str, int] = field(default_factory=dict)
    team_id: str | None = None
    depot_lat: float | None = None
    depot_lon: float | None = None


@dataclass(frozen=True)
class AddAbsence:
    tenant_id: str
    technician_id: str
    start: datetime
    end: datetime
    reason: str


@dataclass(frozen=True)
class BookAppointment:
    tenant_id: str
    job_id: str
    start: datetime
    end: datetime
    technician_id: str | None = None


@dataclass(frozen=True)
class RecordWork:
    tenant_id: str
    work_order_id: str
    diagnosis: str | None
    parts: list[PartUse]
    labour_minutes: int
    photos: list[dict[str, str]]


@dataclass(frozen=True)
class CompleteWorkOrder:
    tenant_id: str
    work_order_id: str
    resolution_code: str
    signed_by: str
    signed_at: datetime
    signature_sha256: str
    rating: int | None
    facts: CompletionFacts = field(default_factory=CompletionFacts)
    checklist: dict[str, Any] | None = None  # answers given with the sign-off (merged into those kept)


@dataclass(frozen=True)
class FailWorkOrder:
    tenant_id: str
    work_order_id: str
    outcome: str  # needs_parts | customer_absent | escalated
    note: str | None
    parts_needed: list[PartUse] = field(default_factory=list)
