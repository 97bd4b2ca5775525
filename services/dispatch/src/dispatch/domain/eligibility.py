"""Who may do a job, and from when: skills at level, certificates valid for the visit, regions,
and the parts (van stock, the shipment's holder and ETA). Hard constraints, checked the same way by
the planner and (independently, in route_check) by the plan's checker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch.domain.specs import JobSpec, PartsPolicy, TechnicianSpec

FAR = datetime(9999, 1, 1, tzinfo=UTC)


def has_skills(job: JobSpec, tech: TechnicianSpec) -> bool:
    return all(lvl <= 0 or tech.skills.get(sk, 0) >= lvl for sk, lvl in job.required_skills.items())


def covers_region(job: JobSpec, tech: TechnicianSpec) -> bool:
    """A technician without territories goes anywhere; one with territories only inside them."""
    return job.region is None or not tech.regions or job.region in tech.regions


def qualified(job: JobSpec, tech: TechnicianSpec) -> bool:
    """Skills and territory (certificates depend on when the visit ends: see certified_until)."""
    return has_skills(job, tech) and covers_region(job, tech) and certified_until(job, tech) is not None


def certified_until(job: JobSpec, tech: TechnicianSpec) -> datetime | None:
    """Until when every certificate the job needs is valid (None: one is missing; FAR when none is
    needed). A visit must end by then."""
    until = FAR
    for name in job.required_certifications:
        expiry = tech.certifications.get(name)
        if expiry is None:
            return None
        until = min(until, expiry)
    return until


def van_has(job: JobSpec, tech: TechnicianSpec) -> bool:
    return bool(job.parts) and all(tech.van_stock.get(p, 0) >= q for p, q in job.parts.items())


def parts_ready(job: JobSpec, tech: TechnicianSpec, now: datetime, policy: PartsPolicy) -> datetime:
    """When this technician can have the job's parts: now from the van; the ETA for the holder of a
    shipment; the ETA plus a handover for anyone else; an order's lead time without a shipment."""
    if not job.parts or van_has(job, tech):
        return now
    if job.parts_eta is not None:
        if job.parts_holder is None or job.parts_holder == tech.id:
            return max(now, job.parts_eta)
        return max(now, job.parts_eta + timedelta(hours=policy.handover_hours))
    if job.parts_holder is not None and job.parts_holder != tech.id:
        return now + timedelta(hours=policy.order_hours + policy.handover_hours)
    return now + timedelta(hours=policy.order_hours)


def why_not(job: JobSpec, tech: TechnicianSpec) -> str | None:
    """The first hard constraint this technician fails for this job, if any."""
    if not has_skills(job, tech):
        return "lacks a required skill level"
    if not covers_region(job, tech):
        return f"does not cover region {job.region}"
    if certified_until(job, tech) is None:
        return "lacks a required certificate"
    return None


def p1_sla_is_hard(job: JobSpec, now: datetime) -> bool:
    """A P1 must end by its SLA deadline, unless even a visit starting as early as the job allows
    would end after it (the deadline is already lost: the visit is then as early as it can be)."""
    if job.priority != "P1" or job.sla_deadline is None:
        return False
    start = max(now, job.earliest or now, job.requested.start if job.requested else now)
    return start + timedelta(minutes=job.duration_min) <= job.sla_deadline
