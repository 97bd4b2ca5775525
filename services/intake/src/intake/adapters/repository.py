"""Persistence. Every query on tenant tables runs inside a tenant-scoped transaction (RLS) and
filters by tenant as well, so a missing policy can never leak another tenant's rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import any_, bindparam, insert, or_, select, update
from sqlalchemy.dialects.postgresql import array as pg_array
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters.orm import (
    assets,
    customers,
    products,
    sla_clocks,
    tenant_settings,
    ticket_notes,
    tickets,
    timeline,
)
from intake.domain.duplicates import Candidate
from intake.domain.model import OPEN_STATES, Ticket, TicketStatus
from intake.domain.sla import SlaClock

_TICKET_FIELDS = (
    "id",
    "tenant_id",
    "kind",
    "channel",
    "symptom",
    "customer_name",
    "contact_email",
    "contact_phone",
    "locale",
    "opened_at",
    "updated_at",
    "version",
    "customer_id",
    "asset_id",
    "product_id",
    "product_model",
    "serial",
    "purchase_date",
    "customer_grade",
    "priority",
    "category",
    "path",
    "severity",
    "urgency",
    "suggested_fix",
    "warranty",
    "missing_facts",
    "requested_window",
    "site",
    "attachments",
    "assignee_id",
    "technician_id",
    "team_id",
    "complaint_level",
    "original_ticket_id",
    "compensation_requested",
    "compensation_amount_minor",
    "compensation_approved",
    "round",
    "duplicate_count",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "trace_headers",
)


def ticket_values(t: Ticket) -> dict[str, Any]:
    v = {f: getattr(t, f) for f in _TICKET_FIELDS}
    v["status"] = t.status.value
    v["resume_to"] = t.resume_to.value if t.resume_to else None
    v["updated_at"] = t.updated_at or t.opened_at
    return v


def row_to_ticket(row: Any) -> Ticket:
    kw = {f: row[f] for f in _TICKET_FIELDS}
    return Ticket(
        status=TicketStatus(row["status"]), resume_to=TicketStatus(row["resume_to"]) if row["resume_to"] else None, **kw
    )


class TicketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, t: Ticket) -> None:
        # Statement + parameters (not .values(**row)): the compiled statement is cached once, instead
        # of building and cache-keying ~35 literal binds per insert.
        await self.session.execute(insert(tickets), ticket_values(t))

    # Hot statements are built once with bind parameters: building a select per call (coercing each
    # literal, cache-keying the new object) cost more CPU than running it.
    _get = select(tickets).where(tickets.c.tenant_id == bindparam("b_tenant"), tickets.c.id == bindparam("b_id"))
    _get_locked = _get.with_for_update()

    async def get(self, tenant_id: str, ticket_id: str, *, for_update: bool = False) -> Ticket | None:
        q = self._get_locked if for_update else self._get
        row = (await self.session.execute(q, {"b_tenant": tenant_id, "b_id": ticket_id})).mappings().first()
        return None if row is None else row_to_ticket(row)

    _save = update(tickets).where(tickets.c.tenant_id == bindparam("b_tenant_id"), tickets.c.id == bindparam("b_id"))

    async def save(self, t: Ticket) -> None:
        values = ticket_values(t)
        values["version"] = t.version + 1
        # SET is taken from the parameter names: one cached statement, no literal per column
        await self.session.execute(self._save, {**values, "b_tenant_id": t.tenant_id, "b_id": t.id})
        t.version += 1

    async def duplicate_candidates(
        self, tenant_id: str, *, asset_id: str | None, contact_phone: str | None, since: datetime
    ) -> list[Candidate]:
        if not (asset_id or contact_phone):
            return []
        q = _DUPLICATES[(bool(asset_id), bool(contact_phone))]
        params = {"b_tenant": tenant_id, "b_since": since, "b_asset": asset_id, "b_phone": contact_phone}
        rows = (await self.session.execute(q, params)).all()
        return [Candidate(r.id, r.symptom, r.opened_at, r.asset_id, r.contact_phone) for r in rows]

    async def add_note(self, *, tenant_id: str, ticket_id: str, author: str, kind: str, body: str, at: datetime) -> int:
        res = await self.session.execute(
            insert(ticket_notes)
            .values(tenant_id=tenant_id, ticket_id=ticket_id, author=author, kind=kind, body=body, created_at=at)
            .returning(ticket_notes.c.id)
        )
        return int(res.scalar_one())


def _duplicates_query(by_asset: bool, by_phone: bool) -> Any:
    same = [
        c
        for c, on in (
            (tickets.c.asset_id == bindparam("b_asset"), by_asset),
            (tickets.c.contact_phone == bindparam("b_phone"), by_phone),
        )
        if on
    ]
    return (
        select(tickets.c.id, tickets.c.symptom, tickets.c.opened_at, tickets.c.asset_id, tickets.c.contact_phone)
        .where(
            tickets.c.tenant_id == bindparam("b_tenant"),
            tickets.c.opened_at >= bindparam("b_since"),
            or_(*same),
            # ARRAY[...] of fixed values: compiled once (an IN list is re-expanded on every execution)
            tickets.c.status == any_(pg_array([s.value for s in OPEN_STATES])),
            tickets.c.kind != "complaint",
        )
        .order_by(tickets.c.opened_at.desc())
        .limit(50)
    )


_DUPLICATES = {(a, p): _duplicates_query(a, p) for a in (True, False) for p in (True, False) if a or p}


class DirectoryRepository:
    """Customers, products, assets."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_customer(self, values: dict[str, Any]) -> None:
        await self.session.execute(insert(customers), values)

    async def add_product(self, values: dict[str, Any]) -> None:
        await self.session.execute(insert(products), values)

    async def add_asset(self, values: dict[str, Any]) -> None:
        await self.session.execute(insert(assets), values)

    async def _one(self, table: Any, tenant_id: str, ident: str) -> dict[str, Any] | None:
        row = (
            (await self.session.execute(select(table).where(table.c.tenant_id == tenant_id, table.c.id == ident)))
            .mappings()
            .first()
        )
        return dict(row) if row else None

    async def customer(self, tenant_id: str, ident: str) -> dict[str, Any] | None:
        return await self._one(customers, tenant_id, ident)

    async def product(self, tenant_id: str, ident: str) -> dict[str, Any] | None:
        return await self._one(products, tenant_id, ident)

    async def product_by_model(self, tenant_id: str, model: str) -> dict[str, Any] | None:
        row = (
            (
                await self.session.execute(
                    select(products).where(products.c.tenant_id == tenant_id, products.c.model == model)
                )
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    async def asset(self, tenant_id: str, ident: str) -> dict[str, Any] | None:
        return await self._one(assets, tenant_id, ident)


class ClockRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def to_domain(row: Any) -> SlaClock:
        return SlaClock(
            name=row["name"],
            target=timedelta(seconds=row["target_s"]),
            started_at=row["started_at"],
            at_risk_share=row["at_risk_share"],
            paused_business=timedelta(seconds=row["paused_business_s"]),
            paused_since=row["paused_since"],
            stopped_at=row["stopped_at"],
            at_risk_raised=row["at_risk_raised"],
            breached_raised=row["breached_raised"],
        )

    @staticmethod
    def state(
        clock: SlaClock, due_at: datetime | None, next_check: datetime | None, met: bool | None
    ) -> dict[str, Any]:
        return {
            "target_s": clock.target.total_seconds(),
            "at_risk_share": clock.at_risk_share,
            "started_at": clock.started_at,
            "paused_business_s": clock.paused_business.total_seconds(),
            "paused_since": clock.paused_since,
            "stopped_at": clock.stopped_at,
            "at_risk_raised": clock.at_risk_raised,
            "breached_raised": clock.breached_raised,
            "due_at": due_at,
            "next_check_at": next_check,
            "met": met,
        }

    @classmethod
    def new_row(
        cls,
        *,
        clock_id: str,
        tenant_id: str,
        ticket_id: str,
        round_: int,
        kind: str,
        priority: str | None,
        clock: SlaClock,
        due_at: datetime | None,
        next_check: datetime | None,
        trace_headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        return dict(
            id=clock_id,
            tenant_id=tenant_id,
            ticket_id=ticket_id,
            name=clock.name,
            round=round_,
            kind=kind,
            priority=priority,
            trace_headers=trace_headers,
            **cls.state(clock, due_at, next_check, None),
        )

    async def add_many(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(pg_insert(sla_clocks).on_conflict_do_nothing(), rows)

    _STATE = (
        "target_s",
        "at_risk_share",
        "started_at",
        "paused_business_s",
        "paused_since",
        "stopped_at",
        "at_risk_raised",
        "breached_raised",
        "due_at",
        "next_check_at",
        "met",
    )
    _update_state = update(sla_clocks).where(sla_clocks.c.id == bindparam("b_id"))

    async def update_many(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(
                self._update_state, [{**{k: r[k] for k in self._STATE}, "b_id": r["id"]} for r in rows]
            )

    _of_ticket = (
        select(sla_clocks)
        .where(sla_clocks.c.tenant_id == bindparam("b_tenant"), sla_clocks.c.ticket_id == bindparam("b_ticket"))
        .order_by(sla_clocks.c.round, sla_clocks.c.started_at, sla_clocks.c.name)
    )
    _of_ticket_locked = _of_ticket.with_for_update()

    async def for_ticket(self, tenant_id: str, ticket_id: str, *, for_update: bool = False) -> list[dict[str, Any]]:
        q = self._of_ticket_locked if for_update else self._of_ticket
        rows = (await self.session.execute(q, {"b_tenant": tenant_id, "b_ticket": ticket_id})).mappings().all()
        return [dict(r) for r in rows]

    async def lock(self, clock_id: str) -> dict[str, Any] | None:
        row = (
            (
                await self.session.execute(
                    select(sla_clocks).where(sla_clocks.c.id == clock_id).with_for_update(skip_locked=True)
                )
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    async def update(self, clock_id: str, values: dict[str, Any]) -> None:
        await self.update_many([{**values, "id": clock_id}])

    async def pending(self, limit: int = 10000) -> list[tuple[str, datetime]]:
        rows = (
            await self.session.execute(
                select(sla_clocks.c.id, sla_clocks.c.next_check_at)
                .where(sla_clocks.c.next_check_at.is_not(None))
                .order_by(sla_clocks.c.next_check_at)
                .limit(limit)
            )
        ).all()
        return [(r.id, r.next_check_at) for r in rows]


class TimelineRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record_many(self, rows: list[dict[str, Any]]) -> None:
        """Timeline rows (event_id, tenant_id, ticket_id, type, source, time, data), one statement for all."""
        if rows:
            await self.session.execute(pg_insert(timeline).on_conflict_do_nothing(), rows)


class SettingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: str) -> dict[str, Any] | None:
        row = (
            await self.session.execute(select(tenant_settings.c.config).where(tenant_settings.c.tenant_id == tenant_id))
        ).first()
        return dict(row.config) if row else None

    async def put(self, tenant_id: str, config: dict[str, Any], *, now: datetime) -> None:
        await self.session.execute(
            pg_insert(tenant_settings)
            .values(tenant_id=tenant_id, config=config, updated_at=now)
            .on_conflict_do_update(index_elements=["tenant_id"], set_={"config": config, "updated_at": now})
        )
