"""Use cases of the technician roster: skills catalogue, technicians, certifications, absences."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dispatch.adapters.repository import Repository
from dispatch.domain import commands
from dispatch.domain.exceptions import NotFound, RuleViolation
from dispatch.domain.intervals import Interval
from dispatch.domain.model import (
    Absence,
    Certification,
    Technician,
    WorkOrder,
    new_id,
)
from dispatch.service_layer.planning import Planning, _unassign
from dispatch.service_layer.replanning import Replanned, _replan
from fixflow_shared.uow import UnitOfWork


async def add_skill(*, uow: UnitOfWork, tenant_id: str, code: str, name: str) -> bool:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        created = await Repository(uow.session, tenant_id, uow.clock).add_skill(code, name)
        await uow.commit()
    return created


async def _check_skills(repo: Repository, skills: dict[str, int]) -> None:
    unknown = sorted(set(skills) - await repo.skill_codes())
    if unknown:
        raise RuleViolation(f"unknown skill(s): {', '.join(unknown)}; register them under /v1/skills first")


async def register_technician(*, uow: UnitOfWork, cmd: commands.RegisterTechnician) -> Technician:
    t = Technician(
        id=new_id("TECH"),
        tenant_id=cmd.tenant_id,
        name=cmd.name,
        phone=cmd.phone,
        home_lat=cmd.home_lat,
        home_lon=cmd.home_lon,
        skills=dict(cmd.skills),
        regions=list(cmd.regions),
        hours=cmd.hours,
        max_jobs_per_day=cmd.max_jobs_per_day,
        van_stock=dict(cmd.van_stock),
        team_id=cmd.team_id,
        depot_lat=cmd.depot_lat,
        depot_lon=cmd.depot_lon,
    )
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = Repository(uow.session, cmd.tenant_id, uow.clock)
        await _check_skills(repo, t.skills)
        await repo.add_technician(t)
        await uow.commit()
    return t


async def update_technician(
    *, uow: UnitOfWork, tenant_id: str, technician_id: str, changes: dict[str, Any]
) -> Technician:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        t = await repo.technician(technician_id, lock=True)
        if t is None:
            raise NotFound("technician", technician_id)
        if "skills" in changes:
            await _check_skills(repo, changes["skills"])
        for k, v in changes.items():
            setattr(t, k, v)
        await repo.save_technician(t)
        await uow.commit()
    return t


async def add_certification(
    *, uow: UnitOfWork, tenant_id: str, technician_id: str, name: str, valid_until: datetime, number: str | None
) -> Certification:
    if valid_until <= uow.clock.now():
        raise RuleViolation("the certification has already expired")
    c = Certification(id=new_id("CERT"), name=name, valid_until=valid_until, number=number)
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = Repository(uow.session, tenant_id, uow.clock)
        if await repo.technician(technician_id) is None:
            raise NotFound("technician", technician_id)
        await repo.add_certification(technician_id, c)
        await uow.commit()
    return c


async def add_absence(
    *, uow: UnitOfWork, cmd: commands.AddAbsence, planning: Planning | None = None
) -> tuple[Absence, list[str], Replanned | None]:
    """Record an absence. Work orders it touches are unassigned and, with `planning`, their jobs are
    placed again at once (in-day replanning: as few visits moved as possible); without it the
    reassignment consumer places them one by one."""
    now = uow.clock.now()
    if cmd.end <= cmd.start:
        raise RuleViolation("an absence must end after it starts")
    if cmd.end <= now:
        raise RuleViolation("the absence is entirely in the past")
    a = Absence(id=new_id("ABS"), start=cmd.start, end=cmd.end, reason=cmd.reason)
    affected: list[WorkOrder] = []
    replanned = None
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = Repository(uow.session, cmd.tenant_id, uow.clock)
        await repo.lock_planning()
        tech = await repo.technician(cmd.technician_id, lock=True)
        if tech is None:
            raise NotFound("technician", cmd.technician_id)
        await repo.add_absence(tech.id, a)
        for wo in await repo.assigned_work_orders_of(tech.id, lock=True):
            planned = Interval(
                wo.planned_start or now, wo.planned_end or (wo.planned_start or now) + timedelta(minutes=1)
            )
            if planned.overlaps(a.interval):
                await _unassign(uow, repo, wo, reason="absent", detail=cmd.reason, now=now)
                affected.append(wo)
        if planning is not None and affected:
            jobs = [j for wo in affected if (j := await repo.job(wo.job_id, lock=True)) is not None]
            replanned = await _replan(
                uow,
                repo,
                jobs,
                previous={wo.job_id: wo for wo in affected},
                now=now,
                planning=planning,
                reason=f"{tech.name} absent",
                exclude={tech.id},
            )
        await uow.commit()
    return a, [wo.id for wo in affected], replanned
