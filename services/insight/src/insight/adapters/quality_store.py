"""Quality records: unreported faults per rule and key, alerts with their evidence, rectification
steps, and the tenant's rules."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from insight.adapters.orm import quality_alerts, quality_evidence, quality_rules, rectification_steps
from insight.domain.quality import Breach, Rule

# The faults of these keys in [since, until] that no alert of the rule reported yet: one query for
# every key a batch touched (a key's unreported faults stay below its threshold between alerts).
_UNREPORTED = text(
    "SELECT f.key, f.ticket_id, f.day FROM quality_faults f "
    "WHERE f.tenant_id = :tenant AND f.dimension = :dimension AND f.key = ANY(CAST(:keys AS text[])) "
    "AND f.day BETWEEN :since AND :until AND NOT EXISTS (SELECT 1 FROM quality_evidence e "
    "WHERE e.tenant_id = f.tenant_id AND e.rule_id = :rule AND e.key = f.key AND e.ticket_id = f.ticket_id)"
)


async def unreported_faults(
    session: AsyncSession, tenant: str, rule: Rule, keys: list[str], *, since: date, until: date
) -> dict[str, list[tuple[str, date]]]:
    """(ticket id, day) of each key's unreported faults."""
    params = {"tenant": tenant, "dimension": rule.dimension, "keys": keys, "rule": rule.id}
    rows = await session.execute(_UNREPORTED, {**params, "since": since, "until": until})
    out: dict[str, list[tuple[str, date]]] = {}
    for key, ticket, day in rows.all():
        out.setdefault(key, []).append((ticket, day))
    return out


async def add_alerts(session: AsyncSession, tenant: str, raised: list[tuple[str, Breach]], at: datetime) -> None:
    """The alerts and their evidence, each table in one round trip."""
    if not raised:
        return
    await session.execute(
        quality_alerts.insert(),
        [
            {
                "id": alert_id,
                "tenant_id": tenant,
                "rule_id": b.rule.id,
                "dimension": b.rule.dimension,
                "key": b.key,
                "window_days": b.rule.window_days,
                "threshold": b.rule.threshold,
                "count": len(b.ticket_ids),
                "window_start": b.window_start,
                "window_end": b.window_end,
                "ticket_ids": list(b.ticket_ids),
                "status": "open",
                "raised_at": at,
            }
            for alert_id, b in raised
        ],
    )
    await session.execute(
        pg_insert(quality_evidence).on_conflict_do_nothing(),
        [
            {"tenant_id": tenant, "rule_id": b.rule.id, "key": b.key, "ticket_id": t, "alert_id": alert_id}
            for alert_id, b in raised
            for t in b.ticket_ids
        ],
    )


async def alerts(
    session: AsyncSession, tenant: str, *, status: str | None = None, alert_id: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    a = quality_alerts.c
    query = select(quality_alerts).where(a.tenant_id == tenant)
    if status:
        query = query.where(a.status == status)
    if alert_id:
        query = query.where(a.id == alert_id)
    found = [dict(r) for r in (await session.execute(query.order_by(a.raised_at.desc()).limit(limit))).mappings()]
    if found:
        s = rectification_steps.c
        steps = (
            await session.execute(
                select(rectification_steps)
                .where(s.tenant_id == tenant, s.alert_id.in_([x["id"] for x in found]))
                .order_by(s.at, s.id)
            )
        ).mappings()
        by_alert: dict[str, list[dict[str, Any]]] = {}
        for st in steps:
            by_alert.setdefault(st["alert_id"], []).append(dict(st))
        for x in found:
            x["steps"] = by_alert.get(x["id"], [])
    return found


async def add_step(
    session: AsyncSession,
    tenant: str,
    alert_id: str,
    *,
    step: str,
    status: str,
    note: str | None,
    owner: str | None,
    due_on: date | None,
    customers_informed: int | None,
    by: str,
    at: datetime,
) -> None:
    await session.execute(
        rectification_steps.insert().values(
            id="RS-" + uuid.uuid4().hex[:16],
            tenant_id=tenant,
            alert_id=alert_id,
            step=step,
            note=note,
            owner=owner,
            due_on=due_on,
            customers_informed=customers_informed,
            by=by,
            at=at,
        )
    )
    await session.execute(
        update(quality_alerts)
        .where(quality_alerts.c.tenant_id == tenant, quality_alerts.c.id == alert_id)
        .values(status=status)
    )


async def get_rules(session: AsyncSession, tenant: str) -> list[dict[str, Any]] | None:
    return await session.scalar(select(quality_rules.c.rules).where(quality_rules.c.tenant_id == tenant))


async def put_rules(session: AsyncSession, tenant: str, rules: list[dict[str, Any]], by: str, at: datetime) -> None:
    stmt = pg_insert(quality_rules).values(tenant_id=tenant, rules=rules, updated_at=at, updated_by=by)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant_id"], set_={"rules": rules, "updated_at": at, "updated_by": by}
        )
    )
