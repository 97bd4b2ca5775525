"""Reading and writing insight's projections (facts, daily aggregates, quality faults)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import delete, func, select, text, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from insight.adapters.orm import PROJECTION_TABLES, inbox, kpi_daily, kpi_monthly, quality_faults, tenants
from insight.domain.contributions import SUM, Cell, Key

_LOAD_FACTS = text(
    "SELECT f.key, f.data FROM facts f JOIN unnest(CAST(:keys AS text[])) AS k(key) ON f.key = k.key "
    "WHERE f.tenant_id = :tenant"
)
_MERGE_FACTS = text(
    "INSERT INTO facts SELECT * FROM insight_facts_in ORDER BY tenant_id, key "
    "ON CONFLICT (tenant_id, key) DO UPDATE SET data = excluded.data"
)
# Deltas add up; histograms add bucket by bucket (insight_hist_add, a function of the migration).
# Rows go in key order, so two writers would lock them in the same order.
_MERGE_KPIS = {
    table: text(
        f"INSERT INTO {table} SELECT * FROM insight_kpi_in ORDER BY tenant_id, dim, dim_value, day, metric "
        f"ON CONFLICT ON CONSTRAINT pk_{table} DO UPDATE SET n = {table}.n + excluded.n, "
        f"total = {table}.total + excluded.total, hist = CASE WHEN excluded.hist IS NULL THEN {table}.hist "
        f"ELSE insight_hist_add({table}.hist, excluded.hist) END"
    )
    for table in ("kpi_daily", "kpi_monthly")
}
_MERGE_FAULTS = text(
    "INSERT INTO quality_faults SELECT * FROM insight_faults_in ORDER BY tenant_id, dimension, key, ticket_id, visit "
    "ON CONFLICT DO NOTHING"
)


def month_of(day: date) -> date:
    return day.replace(day=1)


def _split(start: date, end: date) -> tuple[date, date]:
    """[start, end) = days [start, m1) + whole months [m1, m2) + days [m2, end)."""
    m1 = start if start.day == 1 else month_of(start + timedelta(days=31 - start.day + 1))
    m2 = month_of(end)
    return (m1, m2) if m1 < m2 else (end, end)


def _source(tenant: str, start: date, end: date, dim: str, value: str | None, months: bool = True) -> Any:
    """The aggregate rows covering [start, end): monthly rows for the whole months, daily rows for
    the days at either end; a year is about a dozen rows per metric, not 365."""
    m1, m2 = _split(start, end) if months else (end, end)
    parts = []
    for table, lo, hi in ((kpi_daily, start, m1), (kpi_monthly, m1, m2), (kpi_daily, m2, end)):
        if lo >= hi:
            continue
        k = table.c
        where = [k.tenant_id == tenant, k.dim == dim, k.day >= lo, k.day < hi]
        if value is not None:
            where.append(k.dim_value == value)
        parts.append(select(k.day, k.dim_value, k.metric, k.n, k.total, k.hist).where(*where))
    return union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()


def _hist(h: dict[int, int] | None) -> dict[str, int] | None:
    if not h:
        return None
    kept = {str(b): c for b, c in h.items() if c}
    return kept or None


Sums = dict[tuple[str, int], list[float]]


def _merge_hists(out: Sums, rows: Iterable[tuple[str, dict[str, int]]]) -> None:
    for metric, hist in rows:
        for b, c in hist.items():
            cell = out.setdefault((metric, int(b)), [0.0, 0.0])
            cell[0] += c


def _by_month(records: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Daily delta records summed into monthly ones (day = the first of the month)."""
    cells: dict[tuple[Any, ...], list[Any]] = {}
    for tenant, dim, value, day, metric, n, total, hist in records:
        key = (tenant, dim, value, month_of(day), metric)
        cell = cells.setdefault(key, [0, 0.0, {}])
        cell[0] += n
        cell[1] += total
        for b, c in (orjson.loads(hist) if hist else {}).items():
            cell[2][b] = cell[2].get(b, 0) + c
    out = []
    for key, (n, total, hist) in sorted(cells.items()):
        kept = {b: c for b, c in hist.items() if c}
        if n or abs(total) > 1e-9 or kept:
            out.append((*key, n, total, orjson.dumps(kept).decode() if kept else None))
    return out


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

    async def _copy(self, staging: str, like: str, columns: list[str], records: list[tuple[Any, ...]]) -> None:
        """COPY rows into a per-connection staging table: thousands of rows in one round trip,
        merged into the projection by one set-based statement. The table is emptied first: one
        transaction stages several tenants (and daily, then monthly rows) in turn."""
        raw = (await (await self.session.connection()).get_raw_connection()).driver_connection
        assert raw is not None
        await raw.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {like}) ON COMMIT DELETE ROWS; TRUNCATE {staging}"
        )
        await raw.copy_records_to_table(staging, records=records, columns=columns)

    async def save(self, tenant: str, rows: dict[str, dict[str, Any]]) -> None:
        if not rows:
            return
        records = [(tenant, k, orjson.dumps(v).decode()) for k, v in sorted(rows.items())]
        await self._copy("insight_facts_in", "facts", ["tenant_id", "key", "data"], records)
        await self.session.execute(_MERGE_FACTS)

    async def add_aggregates(self, tenant: str, delta: dict[Key, Cell]) -> int:
        """Add the deltas to the daily aggregates, in key order (rows are locked in one order)."""
        records = []
        for (day, dim, value, metric), (n, total, hist) in sorted(delta.items(), key=lambda kv: kv[0]):
            h = _hist(hist)
            if n or abs(total) > 1e-9 or h:
                records.append(
                    (
                        tenant,
                        dim,
                        value[:120],
                        day,
                        metric,
                        int(n),
                        float(total),
                        orjson.dumps(h).decode() if h else None,
                    )
                )
        if records:
            columns = ["tenant_id", "dim", "dim_value", "day", "metric", "n", "total", "hist"]
            await self._copy("insight_kpi_in", "kpi_daily", columns, records)
            await self.session.execute(_MERGE_KPIS["kpi_daily"])
            await self._copy("insight_kpi_in", "kpi_daily", columns, _by_month(records))
            await self.session.execute(_MERGE_KPIS["kpi_monthly"])
        return len(records)

    async def replace_faults(self, tenant: str, ticket_ids: Iterable[str], faults: Iterable[tuple[Any, ...]]) -> None:
        ids = sorted(set(ticket_ids))
        if ids:
            await self.session.execute(
                delete(quality_faults).where(quality_faults.c.tenant_id == tenant, quality_faults.c.ticket_id.in_(ids))
            )
        records = sorted({(tenant, d, k[:250], t, v, day) for d, k, day, t, v in faults})
        if records:
            columns = ["tenant_id", "dimension", "key", "ticket_id", "visit", "day"]
            await self._copy("insight_faults_in", "quality_faults", columns, records)
            await self.session.execute(_MERGE_FAULTS)

    async def seen_tenants(self, first: dict[str, datetime]) -> list[str]:
        """Record tenants seen for the first time; returns them (their report schedule starts)."""
        if not first:
            return []
        result = await self.session.execute(
            pg_insert(tenants).on_conflict_do_nothing().returning(tenants.c.tenant_id),
            [{"tenant_id": t, "first_event_at": at} for t, at in sorted(first.items())],
        )
        return [r[0] for r in result]

    async def analyze(self) -> None:
        """Fresh planner statistics for the tables a rebuild fills from empty: autovacuum lags
        behind, and a plan made for an empty table (a nested loop over thousands of rows) turns a
        millisecond query into seconds."""
        await self.session.execute(text("ANALYZE " + ", ".join((*PROJECTION_TABLES, "quality_evidence", "inbox"))))

    async def truncate(self, consumer: str) -> None:
        await self.session.execute(text("TRUNCATE " + ", ".join(PROJECTION_TABLES)))
        await self.session.execute(delete(inbox).where(inbox.c.consumer == consumer))

    async def sums(self, tenant: str, start: date, end: date, dim: str = "all", value: str = "") -> Sums:
        """(metric, SUM) -> [n, total] and (metric, bucket) -> [count, 0] over [start, end) for one dimension value."""
        src = _source(tenant, start, end, dim, value)
        rows = await self.session.execute(
            select(src.c.metric, func.sum(src.c.n), func.sum(src.c.total)).group_by(src.c.metric)
        )
        out: Sums = {(m, SUM): [float(n), float(t)] for m, n, t in rows.all()}
        hists = await self.session.execute(select(src.c.metric, src.c.hist).where(src.c.hist.is_not(None)))
        _merge_hists(out, ((m, h) for m, h in hists.all()))
        return out

    async def sums_by(self, tenant: str, start: date, end: date, dim: str) -> dict[str, Sums]:
        """`sums` for every value of a dimension at once."""
        src = _source(tenant, start, end, dim, None)
        rows = await self.session.execute(
            select(src.c.dim_value, src.c.metric, func.sum(src.c.n), func.sum(src.c.total)).group_by(
                src.c.dim_value, src.c.metric
            )
        )
        out: dict[str, Sums] = {}
        for v, m, n, t in rows.all():
            out.setdefault(v, {})[(m, SUM)] = [float(n), float(t)]
        hists = await self.session.execute(
            select(src.c.dim_value, src.c.metric, src.c.hist).where(src.c.hist.is_not(None))
        )
        for v, m, h in hists.all():
            _merge_hists(out.setdefault(v, {}), [(m, h)])
        return out

    async def sums_by_day_bucket(
        self, tenant: str, start: date, end: date, trunc: str, dim: str = "all", value: str = ""
    ) -> dict[str, Sums]:
        """`sums` per calendar month, week or day (date_trunc) for one dimension value."""
        src = _source(tenant, start, end, dim, value, months=trunc == "month")
        period = func.date_trunc(trunc, src.c.day).label("period")
        rows = await self.session.execute(
            select(period, src.c.metric, func.sum(src.c.n), func.sum(src.c.total)).group_by(period, src.c.metric)
        )
        out: dict[str, Sums] = {}
        for p, m, n, t in rows.all():
            out.setdefault(p.date().isoformat(), {})[(m, SUM)] = [float(n), float(t)]
        hists = await self.session.execute(select(period, src.c.metric, src.c.hist).where(src.c.hist.is_not(None)))
        for p, m, h in hists.all():
            _merge_hists(out.setdefault(p.date().isoformat(), {}), [(m, h)])
        return dict(sorted(out.items()))
