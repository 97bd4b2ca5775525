"""Does this technician fit this job in this window? The hard rules one by one, each with a reason a
dispatcher can read (pure domain code, no I/O).

The route planner decides the same question at once for thousands of pairs and only says yes or
no; the board asks it for one pair before a drag and drop is committed and must say *why not*. The
rules mirror the planner's hard constraints (see eligibility.py and route_check.py); the booking
itself still inserts the visit into the technician's route, so a pair these checks pass but whose
route has no room (the drives between the day's visits) is refused with its own reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dispatch.domain.intervals import Interval
from dispatch.domain.model import Job, Technician

MAX_WINDOW = timedelta(hours=8)
RULES = ("window", "skills", "region", "certifications", "absence", "hours", "overlap", "load", "travel")


@dataclass(frozen=True)
class Check:
    rule: str  # one of RULES (or "slot" for the route planner's final word)
    ok: bool
    detail: str


@dataclass(frozen=True)
class Booking:
    """Another live booking of the technician (its window and ticket)."""

    window: Interval
    ticket_id: str


def _hm(t: datetime, tz: str) -> str:
    return t.astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M")


def fit_checks(
    job: Job,
    tech: Technician,
    window: Interval,
    *,
    now: datetime,
    bookings: list[Booking],
    load_by_day: dict[date, int],
    travel_min: float,
    travel_km: float,
) -> list[Check]:
    """Every rule for placing `job` with `tech` so that the visit starts inside `window`."""
    tz = tech.hours.tz
    checks: list[Check] = []
    if window.start < now:
        checks.append(Check("window", False, f"the window starts in the past ({_hm(window.start, tz)})"))
    elif window.end - window.start > MAX_WINDOW:
        checks.append(Check("window", False, "a window is at most 8 hours long"))
    else:
        checks.append(Check("window", True, f"{_hm(window.start, tz)}–{window.end.astimezone(ZoneInfo(tz)):%H:%M}"))

    missing = {
        s: (need, tech.skills.get(s, 0)) for s, need in job.required_skills.items() if tech.skills.get(s, 0) < need
    }
    if missing:
        checks.append(
            Check(
                "skills",
                False,
                "lacks " + ", ".join(f"{s} level {need} (has {have})" for s, (need, have) in sorted(missing.items())),
            )
        )
    else:
        shown = ", ".join(f"{s} {tech.skills.get(s, 0)}≥{n}" for s, n in sorted(job.required_skills.items()))
        checks.append(Check("skills", True, shown or "no skill required"))

    if job.region is not None and tech.regions and job.region not in tech.regions:
        checks.append(Check("region", False, f"covers {', '.join(sorted(tech.regions))}, not {job.region}"))
    else:
        checks.append(Check("region", True, job.region or "no region"))

    certs = {c.name: c for c in tech.certifications}
    bad_certs = []
    for name in job.required_certifications:
        c = certs.get(name)
        if c is None:
            bad_certs.append(f"no {name}")
        elif not c.valid_at(window.end):
            bad_certs.append(f"{name} expired {c.valid_until.date()}")
    checks.append(
        Check("certifications", False, "; ".join(bad_certs))
        if bad_certs
        else Check("certifications", True, ", ".join(job.required_certifications) or "none required")
    )

    absent = [a for a in tech.absences if a.interval.overlaps(window)]
    checks.append(
        Check(
            "absence",
            False,
            "; ".join(f"absent {_hm(a.start, tz)}–{_hm(a.end, tz)} ({a.reason})" for a in absent),
        )
        if absent
        else Check("absence", True, "not absent")
    )

    need = timedelta(minutes=travel_min + job.duration_min)
    working = tech.availability(window.start - need, window.end + need) if tech.active else []
    # the visit starts inside the window and, travel included, must lie within one working stretch
    fits_hours = any(
        max(iv.start + timedelta(minutes=travel_min), window.start) + timedelta(minutes=job.duration_min) <= iv.end
        and iv.start + timedelta(minutes=travel_min) <= window.end
        for iv in working
    )
    if not tech.active:
        checks.append(Check("hours", False, "inactive"))
    elif not fits_hours:
        days = {window.start.astimezone(ZoneInfo(tz)).date()}
        hours = "; ".join(
            f"{d:%a} {h[0]}–{h[1]}" if (h := tech.hours.hours_on(d)) else f"{d:%a} off" for d in sorted(days)
        )
        if any(iv.overlaps(window) for iv in working):
            detail = f"no time for the {travel_min:.0f}-min drive and the visit inside working hours ({hours}, {tz})"
        else:
            detail = f"outside working hours ({hours}, {tz})"
        checks.append(Check("hours", False, detail))
    else:
        checks.append(Check("hours", True, "within working hours"))

    clash = [b for b in bookings if b.window.overlaps(window)]
    checks.append(
        Check(
            "overlap",
            False,
            "; ".join(f"booked {_hm(b.window.start, tz)}–{_hm(b.window.end, tz)} ({b.ticket_id})" for b in clash),
        )
        if clash
        else Check("overlap", True, "no other booking in the window")
    )

    load = load_by_day.get(window.start.astimezone(UTC).date(), 0)
    checks.append(Check("load", load < tech.max_jobs_per_day, f"{load} of {tech.max_jobs_per_day} visits that day"))

    # the drive, for the dispatcher to see: it binds through "hours" (from base) and the route's own
    # check ("slot": from the previous visit of the day, to the next)
    checks.append(
        Check("travel", True, f"{travel_km:.1f} km, {travel_min:.0f} min from base + {job.duration_min} min visit")
    )
    return checks


def refusal(tech_name: str, checks: list[Check]) -> str | None:
    """One sentence naming every failed rule, or None when all pass."""
    failed = [c for c in checks if not c.ok]
    if not failed:
        return None
    return f"{tech_name} cannot take this visit: " + "; ".join(f"{c.rule}: {c.detail}" for c in failed)
