"""Read side: queries that answer the API directly."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import and_, exists, func, or_, select

from fixflow_shared.errors import BadRequest
from fixflow_shared.uow import UnitOfWork
from intake.adapters.orm import assets, customers, products, sla_clocks, ticket_notes, tickets, timeline
from intake.adapters.repository import SettingsRepository, TicketRepository, row_to_ticket
from intake.domain.model import OPEN_STATES, Ticket
from intake.domain.warranty import AssetTerms, ProductTerms, determine


class BadCursor(BadRequest):
    """A cursor this API did not hand out (400)."""


def encode_cursor(opened_at: datetime, ticket_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([opened_at.isoformat(), ticket_id])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, tid = orjson.loads(raw)
        return datetime.fromisoformat(at), str(tid)
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise BadCursor("invalid cursor") from exc


async def get_settings(*, uow: UnitOfWork, tenant_id: str) -> dict[str, Any]:
    """The tenant's configuration as stored ({} for the defaults)."""
    async with uow:
        return await SettingsRepository(uow.session).get(tenant_id) or {}


async def get_ticket(*, uow: UnitOfWork, tenant_id: str, ticket_id: str) -> Ticket | None:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        return await TicketRepository(uow.session).get(tenant_id, ticket_id)


async def list_tickets(
    *, uow: UnitOfWork, tenant_id: str, filters: dict[str, Any], limit: int, cursor: str | None
) -> tuple[list[Ticket], str | None]:
    c = tickets.c
    conds = [c.tenant_id == tenant_id]
    for key in ("status", "kind", "priority", "customer_id", "assignee_id", "asset_id"):
        if filters.get(key):
            conds.append(getattr(c, key) == filters[key])
    if filters.get("opened_from"):
        conds.append(c.opened_at >= filters["opened_from"])
    if filters.get("opened_to"):
        conds.append(c.opened_at < filters["opened_to"])
    risk = filters.get("sla_risk")
    if risk:
        flag = sla_clocks.c.breached_raised if risk == "breached" else sla_clocks.c.at_risk_raised
        conds.append(
            exists().where(
                sla_clocks.c.tenant_id == tenant_id,
                sla_clocks.c.ticket_id == c.id,
                flag.is_(True),
                sla_clocks.c.stopped_at.is_(None),
            )
        )
    if cursor:
        at, tid = decode_cursor(cursor)
        conds.append(or_(c.opened_at < at, and_(c.opened_at == at, c.id < tid)))
    q = select(tickets).where(*conds).order_by(c.opened_at.desc(), c.id.desc()).limit(limit + 1)
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        rows = (await uow.session.execute(q)).mappings().all()
    items = [row_to_ticket(r) for r in rows[:limit]]
    nxt = encode_cursor(items[-1].opened_at, items[-1].id) if len(rows) > limit else None
    return items, nxt


async def ticket_details(*, uow: UnitOfWork, tenant_id: str, ticket_id: str) -> dict[str, Any] | None:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        t = await TicketRepository(uow.session).get(tenant_id, ticket_id)
        if t is None:
            return None
        notes = (
            (
                await uow.session.execute(
                    select(ticket_notes)
                    .where(ticket_notes.c.tenant_id == tenant_id, ticket_notes.c.ticket_id == ticket_id)
                    .order_by(ticket_notes.c.id)
                )
            )
            .mappings()
            .all()
        )
        clocks = (
            (
                await uow.session.execute(
                    select(sla_clocks)
                    .where(sla_clocks.c.tenant_id == tenant_id, sla_clocks.c.ticket_id == ticket_id)
                    .order_by(sla_clocks.c.round, sla_clocks.c.name)
                )
            )
            .mappings()
            .all()
        )
    return {"ticket": t, "notes": [dict(n) for n in notes], "clocks": [dict(k) for k in clocks]}


async def sla_clocks_of(
    *, uow: UnitOfWork, tenant_id: str, ticket_ids: list[str], customer_id: str | None = None
) -> list[dict[str, Any]]:
    """The SLA clocks of a page of tickets, in one query (the console's SLA badges); of one
    customer's tickets only if given."""
    k = sla_clocks.c
    if customer_id is not None:
        t = tickets.c
        owned = select(t.id).where(t.tenant_id == tenant_id, t.customer_id == customer_id, t.id.in_(ticket_ids))
        ticket_ids_q: Any = owned.scalar_subquery()
    else:
        ticket_ids_q = ticket_ids
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        rows = (
            (
                await uow.session.execute(
                    select(
                        k.ticket_id,
                        k.name,
                        k.round,
                        k.started_at,
                        k.due_at,
                        k.paused_since,
                        k.stopped_at,
                        k.at_risk_raised,
                        k.breached_raised,
                        k.met,
                    )
                    .where(k.tenant_id == tenant_id, k.ticket_id.in_(ticket_ids_q))
                    .order_by(k.ticket_id, k.round, k.name)
                )
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


async def ticket_timeline(*, uow: UnitOfWork, tenant_id: str, ticket_id: str) -> list[dict[str, Any]] | None:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        if await TicketRepository(uow.session).get(tenant_id, ticket_id) is None:
            return None
        rows = (
            (
                await uow.session.execute(
                    select(timeline)
                    .where(timeline.c.tenant_id == tenant_id, timeline.c.ticket_id == ticket_id)
                    .order_by(timeline.c.time, timeline.c.seq)
                )
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


async def get_row(*, uow: UnitOfWork, tenant_id: str, table: str, ident: str) -> dict[str, Any] | None:
    t = {"customers": customers, "products": products, "assets": assets}[table]
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        row = (
            (await uow.session.execute(select(t).where(t.c.tenant_id == tenant_id, t.c.id == ident))).mappings().first()
        )
    return dict(row) if row else None


async def search_customers(
    *, uow: UnitOfWork, tenant_id: str, phone: str | None, name: str | None, limit: int, email: str | None = None
) -> list[dict[str, Any]]:
    conds = [customers.c.tenant_id == tenant_id]
    if phone:
        conds.append(customers.c.phone == phone)
    if email:
        conds.append(func.lower(customers.c.email) == email.strip().lower())
    if name:
        conds.append(customers.c.name.ilike(f"%{name.replace('%', '').replace('_', '')}%"))
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        rows = (
            (await uow.session.execute(select(customers).where(*conds).order_by(customers.c.name).limit(limit)))
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


async def search_assets(
    *, uow: UnitOfWork, tenant_id: str, serial: str | None, customer_id: str | None, limit: int, today: date
) -> list[dict[str, Any]]:
    """Assets with their product and today's warranty decision (the same rule a ticket applies)."""
    conds = [assets.c.tenant_id == tenant_id]
    if serial:
        conds.append(assets.c.serial == serial)
    if customer_id:
        conds.append(assets.c.customer_id == customer_id)
    p = products.c
    q = (
        select(
            assets,
            p.model.label("product_model"),
            p.name.label("product_name"),
            p.warranty_months,
            p.return_window_days,
            p.non_returnable,
        )
        .outerjoin(products, and_(p.tenant_id == assets.c.tenant_id, p.id == assets.c.product_id))
        .where(*conds)
        .order_by(assets.c.created_at)
        .limit(limit)
    )
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        rows = (await uow.session.execute(q)).mappings().all()
    out = []
    for r in rows:
        row = {k: v for k, v in r.items() if k not in ("warranty_months", "return_window_days", "non_returnable")}
        terms = (
            ProductTerms(r["warranty_months"], r["return_window_days"], frozenset(r["non_returnable"] or ()))
            if r["warranty_months"] is not None
            else None
        )
        row["warranty"] = determine(
            kind="repair",
            today=today,
            product=terms,
            asset=AssetTerms(r["purchase_date"], r["card_warranty_months"], r["card_warranty_ends_on"]),
        ).as_dict()
        out.append(row)
    return out


async def kpis(*, uow: UnitOfWork, tenant_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    c = tickets.c
    in_period = [c.tenant_id == tenant_id, c.opened_at >= start, c.opened_at < end]
    resp = func.extract("epoch", c.first_response_at - c.opened_at)
    reso = func.extract("epoch", c.resolved_at - c.opened_at)

    def pct(expr: Any, p: float) -> Any:
        return func.percentile_cont(p).within_group(expr)

    async with uow:
        await uow.scope_to_tenant(tenant_id)
        s = uow.session
        opened = (await s.execute(select(func.count()).where(*in_period))).scalar_one()
        by_kind: dict[str, int] = dict(
            (await s.execute(select(c.kind, func.count()).where(*in_period).group_by(c.kind))).all()
        )
        r = (
            await s.execute(
                select(func.avg(resp), pct(resp, 0.5), pct(resp, 0.9)).where(
                    *in_period, c.first_response_at.is_not(None)
                )
            )
        ).one()
        z = (
            await s.execute(
                select(func.count(), pct(reso, 0.5), pct(reso, 0.9), pct(reso, 0.95)).where(
                    *in_period, c.resolved_at.is_not(None)
                )
            )
        ).one()
        backlog: dict[str, int] = dict(
            (
                await s.execute(
                    select(c.status, func.count())
                    .where(c.tenant_id == tenant_id, c.status.in_([st.value for st in OPEN_STATES]))
                    .group_by(c.status)
                )
            ).all()
        )
        k = sla_clocks.c
        clocks = (
            await s.execute(
                select(
                    k.name,
                    func.count().filter(k.met.is_(True)),
                    func.count().filter(k.met.is_not(None)),
                    func.count().filter(k.breached_raised.is_(True)),
                )
                .where(k.tenant_id == tenant_id, k.started_at >= start, k.started_at < end)
                .group_by(k.name)
            )
        ).all()
    on_time = {
        name: {
            "met": met,
            "measured": measured,
            "breached": breached,
            "on_time_rate": round(met / measured, 4) if measured else None,
        }
        for name, met, measured, breached in clocks
    }
    met_all = sum(v["met"] for v in on_time.values())
    measured_all = sum(v["measured"] for v in on_time.values())
    return {
        "tenant_id": tenant_id,
        "from": start,
        "to": end,
        "opened": opened,
        "opened_by_kind": by_kind,
        "response_time_s": {"avg": r[0], "p50": r[1], "p90": r[2]},
        "resolved": z[0],
        "resolution_time_s": {"p50": z[1], "p90": z[2], "p95": z[3]},
        "on_time_rate": round(met_all / measured_all, 4) if measured_all else None,
        "sla": on_time,
        "backlog_by_status": backlog,
    }
