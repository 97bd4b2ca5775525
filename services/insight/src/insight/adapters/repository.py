"""Reading and writing insight's projections (facts, daily aggregates, quality faults)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from insight.adapters.orm import PROJECTION_TABLES, facts, inbox, kpi_daily, quality_faults, tenants
from insight.domain.contributions import Key

_LOAD_FACTS = text(
    "SELECT f.key, f.data FROM facts f JOIN unnest(CAST(:keys AS text[])) AS k(key) ON f.key = k.key "
    "WHERE f.tenant_id = :tenant"
)
_upsert_facts = pg_insert(facts)
_upsert_facts = _upsert_facts.on_conflict_do_update(
    index_elements=["tenant_id", "key"], set_={"data": _upsert_facts.excluded.data}
)
_add_kpis = pg_insert(kpi_daily)
_add_kpis = _add_kpis.on_conflict_do_update(
    constraint="pk_kpi_daily",
    set_={"n": kpi_daily.c.n + _add_kpis.excluded.n, "total": kpi_daily.c.total + _add_kpis.excluded.total},
)


def tenant_lock_key(tenant: str) -> int:
    return zlib.crc32(f"insight:{tenant}".encode()) - 2**31


class ProjectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_tenants(self, tenant_ids: Iterable[str]) -> None:
        """One projector writes a tenant's projections at a time (replicas, members, a rebuild):
        transaction-scoped advisory locks taken in one order, so two writers never deadlock."""
        for t in sorted(set(tenant_ids)):
            await self.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": tenant_lock_key(t)})

    async def load(self, tenant: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        keys = sorted(set(keys))
        if not keys:
            return {}
        rows = await self.session.execute(_LOAD_FACTS, {"keys": keys, "tenant": tenant})
        return {k: d for k, d in rows.all()}

    async def save(self, tenant: str, rows: dict[str, dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(
                _upsert_facts, [{"tenant_id": tenant, "key": k, "data": v} for k, v in sorted(rows.items())]
            )

    async def add_aggregates(self, tenant: str, delta: dict[Key, list[float]]) -> int:
        """Add the deltas to the daily aggregates, in key order (rows are locked in one order)."""
        values = [
            {
                "tenant_id": tenant,
                "day": day,
                "dim": dim,
                "dim_value": value[:120],
                "metric": metric,
                "bucket": bucket,
                "n": int(n),
                "total": float(total),
            }
            for (day, dim, value, metric, bucket), (n, total) in sorted(delta.items())
            if n or abs(total) > 1e-9
        ]
        if values:
            await self.session.execute(_add_kpis, values)
        return len(values)

    async def replace_faults(self, tenant: str, ticket_ids: Iterable[str], rows: list[dict[str, Any]]) -> None:
        ids = sorted(set(ticket_ids))
        if ids:
            await self.session.execute(
                delete(quality_faults).where(quality_faults.c.tenant_id == tenant, quality_faults.c.ticket_id.in_(ids))
            )
        if rows:
            await self.session.execute(pg_insert(quality_faults).on_conflict_do_nothing(), rows)

    async def seen_tenants(self, first: dict[str, datetime]) -> list[str]:
        """Record tenants seen for the first time; returns them (their report schedule starts)."""
        if not first:
            return []
        result = await self.session.execute(
            pg_insert(tenants).on_conflict_do_nothing().returning(tenants.c.tenant_id),
            [{"tenant_id": t, "first_event_at": at} for t, at in sorted(first.items())],
        )
        return [r[0] for r in result]

    async def all_tenants(self) -> list[str]:
        return list((await self.session.scalars(select(tenants.c.tenant_id).order_by(tenants.c.tenant_id))).all())

    async def truncate(self, consumer: str) -> None:
        await self.session.execute(text("TRUNCATE " + ", ".join(PROJECTION_TABLES)))
        await self.session.execute(delete(inbox).where(inbox.c.consumer == consumer))

    async def sums(
        self, tenant: str, start: date, end: date, dim: str = "all", value: str = ""
    ) -> dict[tuple[str, int], list[float]]:
        """(metric, bucket) -> [n, total] over [start, end) for one dimension value."""
        k = kpi_daily.c
        rows = await self.session.execute(
            select(k.metric, k.bucket, func.sum(k.n), func.sum(k.total))
            .where(k.tenant_id == tenant, k.dim == dim, k.dim_value == value, k.day >= start, k.day < end)
            .group_by(k.metric, k.bucket)
        )
        return {(m, b): [float(n), float(t)] for m, b, n, t in rows.all()}

    async def sums_by(
        self, tenant: str, start: date, end: date, dim: str
    ) -> dict[str, dict[tuple[str, int], list[float]]]:
        """`sums` for every value of a dimension at once."""
        k = kpi_daily.c
        rows = await self.session.execute(
            select(k.dim_value, k.metric, k.bucket, func.sum(k.n), func.sum(k.total))
            .where(k.tenant_id == tenant, k.dim == dim, k.day >= start, k.day < end)
            .group_by(k.dim_value, k.metric, k.bucket)
        )
        out: dict[str, dict[tuple[str, int], list[float]]] = {}
        for v, m, b, n, t in rows.all():
            out.setdefault(v, {})[(m, b)] = [float(n), float(t)]
        return out

    async def sums_by_day_bucket(
        self, tenant: str, start: date, end: date, trunc: str, dim: str = "all", value: str = ""
    ) -> dict[str, dict[tuple[str, int], list[float]]]:
        """`sums` per calendar month or week (date_trunc) for one dimension value."""
        k = kpi_daily.c
        period = func.date_trunc(trunc, k.day).label("period")
        rows = await self.session.execute(
            select(period, k.metric, k.bucket, func.sum(k.n), func.sum(k.total))
            .where(k.tenant_id == tenant, k.dim == dim, k.dim_value == value, k.day >= start, k.day < end)
            .group_by(period, k.metric, k.bucket)
        )
        out: dict[str, dict[tuple[str, int], list[float]]] = {}
        for p, m, b, n, t in rows.all():
            out.setdefault(p.date().isoformat(), {})[(m, b)] = [float(n), float(t)]
        return dict(sorted(out.items()))
