"""The board's rule check: each hard rule says why a technician does not fit (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch.domain.fit import Booking, fit_checks, refusal
from dispatch.domain.intervals import Interval
from dispatch.domain.model import Absence, Certification, Job, JobStatus, Technician, WeeklyHours

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Shanghai
WINDOW = Interval(NOW + timedelta(hours=2), NOW + timedelta(hours=4))


def job(**kw) -> Job:
    base = {"required_skills": {"plumbing": 3}, "required_certifications": ["service_badge"], "duration_min": 45}
    return Job(
        id="J1",
        tenant_id="t",
        ticket_id="T1",
        kind="repair",
        status=JobStatus.OPEN,
        lat=31.2,
        lon=121.4,
        **{**base, **kw},
    )


def tech(**kw) -> Technician:
    base = {
        "skills": {"plumbing": 3},
        "hours": WeeklyHours(tz="Asia/Shanghai", days={d: ("08:00", "20:00") for d in range(7)}),
        "certifications": [Certification("C1", "service_badge", NOW + timedelta(days=30))],
    }
    return Technician(
        id="TEC1", tenant_id="t", name="Zhang Wei", phone=None, home_lat=31.2, home_lon=121.4, **{**base, **kw}
    )


def run(j: Job, t: Technician, window: Interval = WINDOW, **kw):
    args = {"now": NOW, "bookings": [], "load_by_day": {}, "travel_min": 20.0, "travel_km": 9.5}
    return {c.rule: c for c in fit_checks(j, t, window, **{**args, **kw})}


def test_a_qualified_free_technician_passes_every_rule():
    checks = run(job(), tech())
    assert all(c.ok for c in checks.values()), checks
    assert set(checks) == {
        "window",
        "skills",
        "region",
        "certifications",
        "absence",
        "hours",
        "overlap",
        "load",
        "travel",
    }
    assert refusal("Zhang Wei", list(checks.values())) is None


def test_each_broken_rule_is_named_with_its_reason():
    t = tech(
        skills={"plumbing": 1},
        certifications=[Certification("C1", "service_badge", NOW)],
        absences=[Absence("A1", NOW + timedelta(hours=3), NOW + timedelta(hours=9), "sick leave")],
        max_jobs_per_day=2,
        regions=["CN-44"],
    )
    day = WINDOW.start.astimezone(UTC).date()
    checks = run(
        job(region="CN-31"),
        t,
        bookings=[Booking(Interval(NOW + timedelta(hours=1), NOW + timedelta(hours=3)), "T-OTHER")],
        load_by_day={day: 2},
        travel_min=60.0,
    )
    assert "lacks plumbing level 3 (has 1)" in checks["skills"].detail and not checks["skills"].ok
    assert "service_badge expired" in checks["certifications"].detail
    assert "sick leave" in checks["absence"].detail and not checks["absence"].ok
    assert "T-OTHER" in checks["overlap"].detail and not checks["overlap"].ok
    assert not checks["load"].ok and checks["load"].detail == "2 of 2 visits that day"
    assert not checks["region"].ok and checks["region"].detail == "covers CN-44, not CN-31"
    assert checks["travel"].ok and checks["travel"].detail == "9.5 km, 60 min from base + 45 min visit"
    sentence = refusal("Zhang Wei", list(checks.values()))
    assert sentence and sentence.startswith("Zhang Wei cannot take this visit: skills: lacks plumbing")


def test_outside_working_hours_and_in_the_past():
    night = Interval(NOW + timedelta(hours=14), NOW + timedelta(hours=15))  # 23:00 in Shanghai
    checks = run(job(required_certifications=[]), tech(), night)
    assert not checks["hours"].ok and "08:00–20:00" in checks["hours"].detail
    past = Interval(NOW - timedelta(hours=2), NOW - timedelta(hours=1))
    assert not run(job(), tech(), past)["window"].ok


def test_missing_certification_and_inactive_technician():
    checks = run(job(required_certifications=["gas_appliance_permit"]), tech(active=False))
    assert checks["certifications"].detail == "no gas_appliance_permit"
    assert not checks["hours"].ok and checks["hours"].detail == "inactive"
