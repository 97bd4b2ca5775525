"""HTTP: skills catalogue, technicians, certifications (service badges), calendars, absences."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from dispatch import views
from dispatch.domain import commands
from dispatch.domain.model import DailyBreak, Technician, WeeklyHours
from dispatch.entrypoints.routes.deps import Code, Lat, Lon, PartCode, Phone, PlanningDep, RuntimeDep, When
from dispatch.entrypoints.routes.owners import technician_self
from dispatch.service_layer import technicians
from fixflow_shared.access import Access, Authorize
from fixflow_shared.errors import NotFound
from fixflow_shared.problems import problem_responses

router = APIRouter(tags=["technicians"])
SkillsCreate = Annotated[Access, Depends(Authorize("skills.create"))]
SkillsList = Annotated[Access, Depends(Authorize("skills.list"))]
TechniciansCreate = Annotated[Access, Depends(Authorize("technicians.create"))]
TechniciansList = Annotated[Access, Depends(Authorize("technicians.list"))]
TechniciansRead = Annotated[Access, Depends(Authorize("technicians.read", owner=technician_self, what="technician"))]
TechniciansUpdate = Annotated[Access, Depends(Authorize("technicians.update"))]
Certify = Annotated[Access, Depends(Authorize("technicians.certify"))]
Absence = Annotated[Access, Depends(Authorize("technicians.absence"))]

HHMM = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class SkillCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Code
    name: str = Field(min_length=1, max_length=200)


class Break(BaseModel):
    model_config = ConfigDict(extra="forbid")
    earliest: HHMM = Field(description="the break starts no earlier (local time)")
    latest: HHMM = Field(description="and no later")
    minutes: int = Field(ge=5, le=180)

    @model_validator(mode="after")
    def _ordered(self) -> Break:
        if time.fromisoformat(self.latest) < time.fromisoformat(self.earliest):
            raise ValueError("the break's latest start comes before its earliest")
        return self


class Hours(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tz: str = "Asia/Shanghai"
    days: dict[Annotated[int, Field(ge=0, le=6)], tuple[HHMM, HHMM]] = Field(
        default_factory=lambda: {d: ("08:00", "18:00") for d in range(5)}, description="0 = Monday"
    )
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = Field(
        None, description="ISO country whose public holidays are off and make-up workdays (调休) worked"
    )
    daily_break: Break | None = Field(None, description="a break each working day, taken wherever the technician is")

    @field_validator("country")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        if v is not None:
            import holidays

            if v not in holidays.list_supported_countries():
                raise ValueError(f"no holiday calendar for country {v!r}")
        return v

    @field_validator("tz")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v

    @model_validator(mode="after")
    def _ordered(self) -> Hours:
        for d, (a, b) in self.days.items():
            if time.fromisoformat(a) >= time.fromisoformat(b):
                raise ValueError(f"day {d}: working hours must end after they start")
        return self

    def domain(self) -> WeeklyHours:
        b = self.daily_break
        return WeeklyHours(
            tz=self.tz,
            days=dict(self.days),
            country=self.country,
            daily_break=DailyBreak(b.earliest, b.latest, b.minutes) if b else None,
        )


TeamId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]


class TechnicianCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    phone: Phone | None = None
    home_lat: Lat
    home_lon: Lon
    skills: dict[Code, Annotated[int, Field(ge=1, le=5)]] = Field(
        default_factory=dict, description="skill code -> level 1..5"
    )
    regions: list[Annotated[str, StringConstraints(min_length=1, max_length=32)]] = Field(
        default_factory=list, max_length=50
    )
    hours: Hours = Field(default_factory=Hours)
    max_jobs_per_day: int = Field(6, ge=1, le=20)
    van_stock: dict[PartCode, Annotated[int, Field(ge=0, le=10_000)]] = Field(default_factory=dict)
    team_id: TeamId | None = Field(None, description="the team (service station) reports group the technician under")
    depot_lat: Lat | None = Field(None, description="days start and end at the depot when set, else at home")
    depot_lon: Lon | None = None

    @model_validator(mode="after")
    def _depot(self) -> TechnicianCreate:
        if (self.depot_lat is None) != (self.depot_lon is None):
            raise ValueError("a depot needs both depot_lat and depot_lon")
        return self


class TechnicianUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: Phone | None = None
    home_lat: Lat | None = None
    home_lon: Lon | None = None
    skills: dict[Code, Annotated[int, Field(ge=1, le=5)]] | None = None
    hours: Hours | None = None
    max_jobs_per_day: int | None = Field(None, ge=1, le=20)
    van_stock: dict[PartCode, Annotated[int, Field(ge=0, le=10_000)]] | None = None
    active: bool | None = None
    team_id: TeamId | None = None
    regions: list[Annotated[str, StringConstraints(min_length=1, max_length=32)]] | None = Field(None, max_length=50)
    depot_lat: Lat | None = None
    depot_lon: Lon | None = None


class CertificationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Code
    valid_until: When
    number: str | None = Field(None, max_length=64)


class AbsenceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: When
    end: When
    reason: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _ordered(self) -> AbsenceCreate:
        if self.end <= self.start:
            raise ValueError("an absence must end after it starts")
        return self


class TechnicianRead(BaseModel):
    id: str
    name: str
    phone: str | None
    home_lat: float
    home_lon: float
    skills: dict[str, int]
    regions: list[str]
    hours: dict[str, Any]
    max_jobs_per_day: int
    van_stock: dict[str, int]
    active: bool
    team_id: str | None = None
    certifications: list[dict[str, Any]]
    absences: list[dict[str, Any]]
    depot_lat: float | None = None
    depot_lon: float | None = None

    @classmethod
    def of(cls, t: Technician) -> TechnicianRead:
        return cls(
            id=t.id,
            name=t.name,
            phone=t.phone,
            home_lat=t.home_lat,
            home_lon=t.home_lon,
            skills=t.skills,
            regions=t.regions,
            hours={
                "tz": t.hours.tz,
                "days": {str(k): list(v) for k, v in t.hours.days.items()},
                "country": t.hours.country,
                "daily_break": (
                    {
                        "earliest": t.hours.daily_break.earliest,
                        "latest": t.hours.daily_break.latest,
                        "minutes": t.hours.daily_break.minutes,
                    }
                    if t.hours.daily_break
                    else None
                ),
            },
            max_jobs_per_day=t.max_jobs_per_day,
            van_stock=t.van_stock,
            active=t.active,
            team_id=t.team_id,
            certifications=[
                {"id": c.id, "name": c.name, "number": c.number, "valid_until": c.valid_until} for c in t.certifications
            ],
            absences=[{"id": a.id, "start": a.start, "end": a.end, "reason": a.reason} for a in t.absences],
            depot_lat=t.depot_lat,
            depot_lon=t.depot_lon,
        )


@router.post("/skills", status_code=status.HTTP_201_CREATED)
async def create_skill(body: SkillCreate, principal: SkillsCreate, rt: RuntimeDep) -> dict[str, Any]:
    created = await technicians.add_skill(uow=rt.uow(), tenant_id=principal.tenant, code=body.code, name=body.name)
    return {"code": body.code, "name": body.name, "created": created}


@router.get("/skills")
async def list_skills(principal: SkillsList, rt: RuntimeDep) -> list[dict[str, Any]]:
    return await views.skills(uow=rt.uow(), tenant_id=principal.tenant)


@router.post("/technicians", status_code=status.HTTP_201_CREATED, response_model=TechnicianRead)
async def create_technician(body: TechnicianCreate, principal: TechniciansCreate, rt: RuntimeDep) -> TechnicianRead:
    cmd = commands.RegisterTechnician(
        tenant_id=principal.tenant,
        name=body.name,
        phone=rt.phones.e164(body.phone, principal.tenant, at=("body", "phone")),
        home_lat=body.home_lat,
        home_lon=body.home_lon,
        skills=body.skills,
        regions=body.regions,
        hours=body.hours.domain(),
        max_jobs_per_day=body.max_jobs_per_day,
        van_stock=body.van_stock,
        team_id=body.team_id,
        depot_lat=body.depot_lat,
        depot_lon=body.depot_lon,
    )
    return TechnicianRead.of(await technicians.register_technician(uow=rt.uow(), cmd=cmd))


@router.get("/technicians", response_model=list[TechnicianRead])
async def list_technicians(principal: TechniciansList, rt: RuntimeDep) -> list[TechnicianRead]:
    return [TechnicianRead.of(t) for t in await views.technicians(uow=rt.uow(), tenant_id=principal.tenant)]


@router.get("/technicians/{technician_id}", response_model=TechnicianRead, responses=problem_responses(404))
async def read_technician(technician_id: str, principal: TechniciansRead, rt: RuntimeDep) -> TechnicianRead:
    t = await views.technician(uow=rt.uow(), tenant_id=principal.tenant, technician_id=technician_id)
    if t is None:
        raise NotFound("technician", technician_id)
    return TechnicianRead.of(t)


@router.patch("/technicians/{technician_id}", response_model=TechnicianRead, responses=problem_responses(404))
async def patch_technician(
    technician_id: str, body: TechnicianUpdate, principal: TechniciansUpdate, rt: RuntimeDep
) -> TechnicianRead:
    changes = body.model_dump(exclude_unset=True)
    if "hours" in changes:
        changes["hours"] = body.hours.domain() if body.hours else WeeklyHours()
    if "phone" in changes:
        changes["phone"] = rt.phones.e164(body.phone, principal.tenant, at=("body", "phone"))
    t = await technicians.update_technician(
        uow=rt.uow(), tenant_id=principal.tenant, technician_id=technician_id, changes=changes
    )
    return TechnicianRead.of(t)


@router.post(
    "/technicians/{technician_id}/certifications", status_code=status.HTTP_201_CREATED, responses=problem_responses(404)
)
async def add_certification(
    technician_id: str, body: CertificationCreate, principal: Certify, rt: RuntimeDep
) -> dict[str, Any]:
    c = await technicians.add_certification(
        uow=rt.uow(),
        tenant_id=principal.tenant,
        technician_id=technician_id,
        name=body.name,
        valid_until=body.valid_until,
        number=body.number,
    )
    return {"id": c.id, "name": c.name, "number": c.number, "valid_until": c.valid_until}


@router.post(
    "/technicians/{technician_id}/absences", status_code=status.HTTP_201_CREATED, responses=problem_responses(404)
)
async def add_absence(
    technician_id: str, body: AbsenceCreate, principal: Absence, rt: RuntimeDep, planning: PlanningDep
) -> dict[str, Any]:
    """Record an absence: the visits it touches go to other technicians at once, moving as few
    visits as possible (`replanned.moved`)."""
    a, affected, replanned = await technicians.add_absence(
        uow=rt.uow(),
        cmd=commands.AddAbsence(
            tenant_id=principal.tenant, technician_id=technician_id, start=body.start, end=body.end, reason=body.reason
        ),
        planning=planning,
    )
    return {
        "id": a.id,
        "start": a.start,
        "end": a.end,
        "reason": a.reason,
        "unassigned_work_orders": affected,
        "replanned": replanned.as_dict() if replanned else {"moved": 0, "unplaced": {}, "retimed": 0},
    }
