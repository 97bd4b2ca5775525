"""The typed shape of a tenant's intake settings (PUT /v1/settings): calendar, SLA targets, triage
rules, duplicates and knowledge base. What does not fit is a 422 before anything is stored, so a
saved setting can no longer break ticket intake of its tenant."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from fixflow_shared.calendars import DEFAULT_TZ_BY_COUNTRY
from fixflow_shared.fields import Day, LocalTime

Strict = ConfigDict(extra="forbid")
Hours = Annotated[float, Field(gt=0, le=24 * 366, allow_inf_nan=False, description="hours of business time")]
Word = Annotated[str, StringConstraints(min_length=1, max_length=60)]
Category = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]


def _known_zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class CalendarSettings(BaseModel):
    """Business hours and days off. With a country, its public holidays (and make-up workdays) apply."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"country": "CN", "tz": "Asia/Shanghai", "working_hours": ["09:00", "18:00"]}]},
    )
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$", description="ISO country with a holiday calendar")
    tz: str | None = Field(None, max_length=64, description="IANA zone; default: the country's")
    working_hours: tuple[LocalTime, LocalTime] | None = Field(
        (time(9), time(18)), description="[start, end] local times; null = around the clock"
    )
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4], min_length=1, max_length=7, description="0 = Monday"
    )
    holidays: list[Day] = Field(default_factory=list, max_length=1000)
    extra_workdays: list[Day] = Field(default_factory=list, max_length=1000)

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return _known_zone(value)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is not None:
            import holidays

            if value not in holidays.list_supported_countries():
                raise ValueError(f"no holiday calendar for country {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CalendarSettings:
        if self.country and not self.tz and self.country not in DEFAULT_TZ_BY_COUNTRY:
            raise ValueError(f"country {self.country} has no default time zone: give tz")
        if self.working_hours is not None and not self.working_hours[0] < self.working_hours[1]:
            raise ValueError("working_hours must end after they start (null for around the clock)")
        return self


class ByPriority(BaseModel):
    model_config = Strict
    P1: Hours | None = None
    P2: Hours | None = None
    P3: Hours | None = None
    P4: Hours | None = None


class OnSiteArrival(BaseModel):
    model_config = Strict
    in_province: Hours | None = None
    out_of_province: Hours | None = None
    P1: Hours | None = None


class Flat(BaseModel):
    model_config = Strict
    any: Hours


class SlaTargets(BaseModel):
    """Targets in hours of business time; omitted ones keep the defaults."""

    model_config = Strict
    first_response: ByPriority | None = None
    on_site_arrival: OnSiteArrival | None = None
    resolution: ByPriority | None = None
    complaint_record: Flat | None = None
    complaint_contact: Flat | None = None
    complaint_fix: Flat | None = None


class SlaSettings(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"at_risk_share": 0.8, "targets": {"first_response": {"P1": 1, "P2": 2}}}]},
    )
    targets: SlaTargets | None = None
    at_risk_share: float = Field(0.8, gt=0, lt=1, description="share of the target after which a clock is at risk")


class TriageSettings(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"grade_bonus": {"VIP": 2}, "thresholds": {"P1": 8, "P2": 6, "P3": 4}}]},
    )
    grade_bonus: dict[
        Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,4}$")], Annotated[int, Field(ge=-4, le=4)]
    ] = Field(default_factory=dict, max_length=20)
    thresholds: dict[Literal["P1", "P2", "P3"], Annotated[int, Field(ge=0, le=20)]] = Field(
        default_factory=dict, description="minimum score (severity + urgency + grade bonus) of each priority"
    )
    critical_is_p1: bool = True
    send_in_categories: list[Category] = Field(default_factory=list, max_length=50)
    remote_first: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> TriageSettings:
        t = {"P1": 8, "P2": 6, "P3": 4, **self.thresholds}
        if not t["P1"] >= t["P2"] >= t["P3"]:
            raise ValueError("thresholds must not increase from P1 to P3")
        return self


class ArticleSettings(BaseModel):
    model_config = Strict
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
    title: str | None = Field(None, min_length=1, max_length=200)
    keywords: list[Word] = Field(min_length=1, max_length=50)
    category: Category = "general"
    steps: list[Annotated[str, StringConstraints(min_length=1, max_length=1000)]] = Field(
        default_factory=list, max_length=30
    )
    remote: bool = True


class SettingsBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "calendar": {"country": "CN", "tz": "Asia/Shanghai", "working_hours": ["09:00", "18:00"]},
                    "sla": {"targets": {"resolution": {"P1": 24, "P2": 48}}},
                    "duplicate_window_hours": 72,
                    "knowledge_base": [{"id": "kb-descale", "keywords": ["descale", "除垢"], "steps": ["..."]}],
                }
            ]
        },
    )
    calendar: CalendarSettings | None = None
    sla: SlaSettings | None = None
    triage: TriageSettings | None = None
    duplicate_window_hours: float | None = Field(None, gt=0, le=24 * 90, allow_inf_nan=False)
    duplicate_threshold: float | None = Field(None, gt=0, le=1, allow_inf_nan=False)
    knowledge_base: list[ArticleSettings] | None = Field(None, max_length=500)

    def config(self) -> dict[str, Any]:
        """The stored form: only what the tenant set (omitted or null fields keep intake's defaults;
        null working hours mean around the clock)."""
        cfg = _pruned(self.model_dump(mode="json", exclude_unset=True))
        if self.calendar is not None and "working_hours" in self.calendar.model_fields_set:
            cfg["calendar"]["working_hours"] = cfg["calendar"].get("working_hours")
        return cfg


def _pruned(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _pruned(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value
