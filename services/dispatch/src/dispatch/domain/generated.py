"""Generated field-service instances, deterministic by seed, for benchmarks and tests: a metropolitan
area (about 60 × 60 km) split into four territories, technicians living across it with skills,
gas certificates (some expiring), van stock, a lunch break and the odd half-day absence; jobs
clustered where people live, 30 minutes to 4 hours long, some with a customer's window, a crew of
two, or parts; priorities with SLA deadlines. Working days 08:00–18:00 local time (UTC+8)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from dispatch.domain.intervals import Interval, subtract
from dispatch.domain.specs import BreakWindow, JobSpec, Problem, TechnicianSpec

CENTRE = (31.23, 121.47)
KM_LAT = 1 / 111.0
KM_LON = 1 / (111.0 * 0.855)  # at 31° north
SKILLS = ("washer", "fridge", "aircon", "oven", "gas")
REGIONS = ("CN-31-NW", "CN-31-NE", "CN-31-SW", "CN-31-SE")
SLA_HOURS = {"P1": 8, "P2": 24, "P3": 48, "P4": 72}
LOCAL = timedelta(hours=8)


def _region(lat: float, lon: float) -> str:
    north, east = lat >= CENTRE[0], lon >= CENTRE[1]
    return REGIONS[(0 if north else 2) + (1 if east else 0)]


def _point(rng: random.Random, centres: list[tuple[float, float]] | None) -> tuple[float, float]:
    if centres and rng.random() < 0.7:
        c = rng.choice(centres)
        x, y = rng.gauss(0, 5), rng.gauss(0, 5)
        return c[0] + y * KM_LAT, c[1] + x * KM_LON
    return CENTRE[0] + rng.uniform(-30, 30) * KM_LAT, CENTRE[1] + rng.uniform(-30, 30) * KM_LON


def field_service(jobs: int, technicians: int, *, days: int = 2, seed: int = 1) -> Problem:
    rng = random.Random(seed)
    start_day = datetime(2026, 3, 3, tzinfo=UTC)  # a Tuesday
    now = start_day + timedelta(hours=7) - LOCAL  # 07:00 local
    horizon_end = start_day + timedelta(days=days - 1, hours=20) - LOCAL
    work = [
        Interval(start_day + timedelta(days=d, hours=8) - LOCAL, start_day + timedelta(days=d, hours=18) - LOCAL)
        for d in range(days)
    ]
    breaks = tuple(
        BreakWindow(iv.start + timedelta(hours=3, minutes=30), iv.start + timedelta(hours=5, minutes=30), 45)
        for iv in work
    )
    techs = [_technician(rng, i, work, breaks, horizon_end) for i in range(technicians)]
    centres = [_point(rng, None) for _ in range(6)]
    return Problem(
        jobs=tuple(_job(rng, i, now, centres, work) for i in range(jobs)),
        technicians=tuple(techs),
        now=now,
        horizon_end=horizon_end,
    )


def _technician(
    rng: random.Random, i: int, work: list[Interval], breaks: tuple[BreakWindow, ...], horizon_end: datetime
) -> TechnicianSpec:
    lat, lon = _point(rng, None)
    skills = {s: rng.randint(1, 3) for s in rng.sample(SKILLS, rng.randint(2, 4))}
    certs = {}
    if "gas" in skills:
        r = rng.random()
        certs["gas_safe"] = (
            horizon_end + timedelta(days=300)
            if r < 0.85
            else work[0].end
            if r < 0.95
            else work[0].start - timedelta(days=3)
        )
    home = _region(lat, lon)
    r = rng.random()
    if r < 0.7:
        regions = frozenset({home})
    elif r < 0.9:
        regions = frozenset({home, rng.choice(REGIONS)})
    else:
        regions = frozenset()
    available = list(work)
    if rng.random() < 0.05:
        d = rng.randrange(len(work))
        available = subtract(available, [Interval(work[d].start, work[d].start + timedelta(hours=5))])
    return TechnicianSpec(
        id=f"tech-{i:04d}",
        name=f"Technician {i}",
        lat=lat,
        lon=lon,
        available=tuple(available),
        skills=skills,
        certifications=certs,
        regions=regions,
        max_jobs_per_day=8,
        van_stock={"PUMP-W1": 1} if rng.random() < 0.2 else {},
        breaks=breaks,
    )


def _job(
    rng: random.Random, i: int, now: datetime, centres: list[tuple[float, float]], work: list[Interval]
) -> JobSpec:
    lat, lon = _point(rng, centres)
    priority = rng.choices(("P1", "P2", "P3", "P4"), weights=(5, 20, 50, 25))[0]
    created = now - timedelta(hours=rng.uniform(0, 12))
    skill = rng.choice(SKILLS)
    duration = rng.choices((30, 60, 90, 120, 180, 240), weights=(20, 40, 20, 12, 5, 3))[0]
    window = None
    if priority != "P1" and rng.random() < 0.3:
        day = rng.choice(work)
        a = day.start + timedelta(hours=rng.choice((0, 2, 4, 6)))
        window = Interval(a, a + timedelta(hours=rng.choice((2, 3, 4))))
    crew = 2 if rng.random() < 0.02 else 1
    parts = {"PUMP-W1": 1} if rng.random() < 0.03 else {}
    return JobSpec(
        id=f"job-{i:05d}",
        lat=lat,
        lon=lon,
        duration_min=duration,
        priority=priority,  # type: ignore[arg-type]
        required_skills={skill: rng.randint(1, 2)},
        required_certifications=("gas_safe",) if skill == "gas" else (),
        region=_region(lat, lon),
        sla_deadline=created + timedelta(hours=SLA_HOURS[priority]),
        window=window,
        crew_size=crew,
        parts=parts,
        parts_eta=now + timedelta(hours=rng.uniform(2, 20)) if parts and rng.random() < 0.5 else None,
    )
