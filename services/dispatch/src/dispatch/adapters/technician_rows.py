"""Rows of the technician roster: skills catalogue, technicians with certifications and absences."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from dispatch.adapters.orm import (
    absences,
    certifications,
    skills,
    technicians,
)
from dispatch.adapters.rows import _TENANT, Rows
from dispatch.domain.model import (
    Absence,
    Certification,
    DailyBreak,
    Technician,
    WeeklyHours,
)
from dispatch.domain.specs import TechnicianSpec
from fixflow_shared.db import rows_changed

# Statements built once, executed with parameters: building a statement per call (and coercing every
# value into a bound literal, then cache-keying it) cost more Python than the query itself.
_ADD_SKILL = pg_insert(skills).on_conflict_do_nothing()
_SAVE_TECHNICIAN = update(technicians).where(technicians.c.tenant_id == _TENANT, technicians.c.id == bindparam("b_id"))
_TECHNICIANS = select(technicians).where(technicians.c.tenant_id == _TENANT)
_CERTIFICATIONS = select(certifications).where(
    certifications.c.tenant_id == _TENANT, certifications.c.technician_id.in_(bindparam("b_ids", expanding=True))
)
_ABSENCES = select(absences).where(
    absences.c.tenant_id == _TENANT,
    absences.c.technician_id.in_(bindparam("b_ids", expanding=True)),
    absences.c.end_at > bindparam("b_after"),
)

_PROFILES = (
    select(
        technicians.c.id,
        technicians.c.home_lat,
        technicians.c.home_lon,
        technicians.c.depot_lat,
        technicians.c.depot_lon,
        technicians.c.skills,
        technicians.c.regions,
    )
    .where(technicians.c.tenant_id == _TENANT, technicians.c.active.is_(True))
    .order_by(technicians.c.id)
)
_PROFILE_CERTIFICATIONS = select(
    certifications.c.technician_id, certifications.c.name, certifications.c.valid_until
).where(certifications.c.tenant_id == _TENANT)


def _hours_json(h: WeeklyHours) -> dict[str, Any]:
    out: dict[str, Any] = {"tz": h.tz, "days": {str(k): list(v) for k, v in h.days.items()}, "country": h.country}
    if h.daily_break is not None:
        b = h.daily_break
        out["daily_break"] = {"earliest": b.earliest, "latest": b.latest, "minutes": b.minutes}
    return out


def _hours(d: dict[str, Any]) -> WeeklyHours:
    b = d.get("daily_break")
    return WeeklyHours(
        tz=d["tz"],
        days={int(k): (v[0], v[1]) for k, v in d["days"].items()},
        country=d.get("country"),
        daily_break=DailyBreak(b["earliest"], b["latest"], int(b["minutes"])) if b else None,
    )


class TechnicianRows(Rows):
    # --- skills -------------------------------------------------------------------------------------
    async def add_skill(self, code: str, name: str) -> bool:
        res = await self.session.execute(
            _ADD_SKILL, dict(tenant_id=self.tenant, code=code, name=name, created_at=self.clock.now())
        )
        return bool(rows_changed(res))

    async def skill_codes(self) -> set[str]:
        rows = await self.session.execute(select(skills.c.code).where(skills.c.tenant_id == self.tenant))
        return {r[0] for r in rows}

    async def list_skills(self) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(skills.c.code, skills.c.name).where(skills.c.tenant_id == self.tenant).order_by(skills.c.code)
        )
        return [dict(r._mapping) for r in rows]

    # --- technicians ----------------------------------------------------------------------------------
    async def add_technician(self, t: Technician) -> None:
        now = self.clock.now()
        await self.session.execute(
            insert(technicians),
            dict(
                id=t.id,
                tenant_id=self.tenant,
                name=t.name,
                phone=t.phone,
                home_lat=t.home_lat,
                home_lon=t.home_lon,
                skills=t.skills,
                regions=t.regions,
                hours=_hours_json(t.hours),
                max_jobs_per_day=t.max_jobs_per_day,
                van_stock=t.van_stock,
                active=t.active,
                depot_lat=t.depot_lat,
                depot_lon=t.depot_lon,
                team_id=t.team_id,
                created_at=now,
                updated_at=now,
            ),
        )

    async def save_technician(self, t: Technician) -> None:
        await self.session.execute(
            _SAVE_TECHNICIAN,
            dict(
                b_tenant=self.tenant,
                b_id=t.id,
                name=t.name,
                phone=t.phone,
                home_lat=t.home_lat,
                home_lon=t.home_lon,
                skills=t.skills,
                regions=t.regions,
                hours=_hours_json(t.hours),
                max_jobs_per_day=t.max_jobs_per_day,
                van_stock=t.van_stock,
                active=t.active,
                depot_lat=t.depot_lat,
                depot_lon=t.depot_lon,
                team_id=t.team_id,
                updated_at=self.clock.now(),
            ),
        )

    async def add_certification(self, technician_id: str, c: Certification) -> None:
        await self.session.execute(
            insert(certifications),
            dict(
                id=c.id,
                tenant_id=self.tenant,
                technician_id=technician_id,
                name=c.name,
                number=c.number,
                valid_until=c.valid_until,
            ),
        )

    async def add_absence(self, technician_id: str, a: Absence) -> None:
        await self.session.execute(
            insert(absences),
            dict(
                id=a.id,
                tenant_id=self.tenant,
                technician_id=technician_id,
                start_at=a.start,
                end_at=a.end,
                reason=a.reason,
                created_at=self.clock.now(),
            ),
        )

    async def technicians(
        self, ids: list[str] | None = None, *, lock: bool = False, absences_after: datetime | None = None
    ) -> list[Technician]:
        """Technicians with certifications and absences (only those ending after `absences_after`, if given)."""
        q = _TECHNICIANS
        params: dict[str, Any] = {"b_tenant": self.tenant}
        if ids is not None:
            q = q.where(technicians.c.id.in_(bindparam("b_ids", expanding=True)))
            params["b_ids"] = list(ids)
        if lock:
            q = q.with_for_update()
        rows = (await self.session.execute(q.order_by(technicians.c.id), params)).mappings().all()
        if not rows:
            return []
        tids = [r["id"] for r in rows]
        certs: dict[str, list[Certification]] = defaultdict(list)
        for c in (await self.session.execute(_CERTIFICATIONS, {"b_tenant": self.tenant, "b_ids": tids})).mappings():
            certs[c["technician_id"]].append(Certification(c["id"], c["name"], c["valid_until"], c["number"]))
        abs_: dict[str, list[Absence]] = defaultdict(list)
        for a in (
            await self.session.execute(
                _ABSENCES,
                {
                    "b_tenant": self.tenant,
                    "b_ids": tids,
                    "b_after": absences_after or datetime(1970, 1, 1, tzinfo=UTC),
                },
            )
        ).mappings():
            abs_[a["technician_id"]].append(Absence(a["id"], a["start_at"], a["end_at"], a["reason"]))
        return [
            Technician(
                id=r["id"],
                tenant_id=r["tenant_id"],
                name=r["name"],
                phone=r["phone"],
                home_lat=r["home_lat"],
                home_lon=r["home_lon"],
                skills=dict(r["skills"]),
                regions=list(r["regions"]),
                hours=_hours(r["hours"]),
                max_jobs_per_day=r["max_jobs_per_day"],
                van_stock=dict(r["van_stock"]),
                active=r["active"],
                depot_lat=r["depot_lat"],
                depot_lon=r["depot_lon"],
                team_id=r["team_id"],
                certifications=certs[r["id"]],
                absences=abs_[r["id"]],
            )
            for r in rows
        ]

    async def technician_profiles(self) -> list[TechnicianSpec]:
        """The active technicians as a job's candidate filter sees them (where their day starts,
        skills, territories, certificates held: their latest expiry), without hours or absences: two
        light queries instead of building every technician (domain/candidates.py). By id."""
        rows = (await self.session.execute(_PROFILES, {"b_tenant": self.tenant})).all()
        certs: dict[str, dict[str, datetime]] = defaultdict(dict)
        for tid, name, until in await self.session.execute(_PROFILE_CERTIFICATIONS, {"b_tenant": self.tenant}):
            held = certs[tid]
            held[name] = max(held.get(name, until), until)
        return [
            TechnicianSpec(
                id=tid,
                lat=dlat if dlat is not None and dlon is not None else hlat,
                lon=dlon if dlat is not None and dlon is not None else hlon,
                available=(),
                skills=dict(sk),
                certifications=certs.get(tid, {}),
                regions=frozenset(regions),
            )
            for tid, hlat, hlon, dlat, dlon, sk, regions in rows
        ]

    async def technician(self, technician_id: str, *, lock: bool = False) -> Technician | None:
        found = await self.technicians([technician_id], lock=lock)
        return found[0] if found else None
