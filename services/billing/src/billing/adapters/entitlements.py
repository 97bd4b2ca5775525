"""Ticket facts (intake's warranty decision) and entitlements (contracts, packages, cards). Every query
runs inside a tenant-scoped transaction (RLS) and filters by tenant as well, so a missing policy can
never leak another tenant's rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from billing.adapters.orm import contract_visit_usage, entitlements, known_customers, ticket_facts
from billing.domain.entitlements import Package, ServiceContract, WarrantyCard

# --- statements built once, executed with parameters --------------------------------------------
# (not .values(**row) / literal where-clauses per call: that builds a statement and coerces every
# value into a bound literal each time, which cost more Python than the query itself)
_TENANT: BindParameter[str] = bindparam("b_tenant")
_FACTS_ROW = pg_insert(ticket_facts)
_UPSERT_FACTS = _FACTS_ROW.on_conflict_do_update(
    index_elements=["tenant_id", "ticket_id"],
    set_={c: _FACTS_ROW.excluded[c] for c in ("customer_id", "asset_id", "kind", "warranty_status", "facts")},
)
_FACTS = select(ticket_facts).where(
    ticket_facts.c.tenant_id == _TENANT, ticket_facts.c.ticket_id == bindparam("b_ticket")
)
_KNOW_CUSTOMER = pg_insert(known_customers).on_conflict_do_nothing()
_KNOWN_CUSTOMER = select(known_customers.c.customer_id).where(
    known_customers.c.tenant_id == _TENANT, known_customers.c.customer_id == bindparam("b_customer")
)
_ENTITLEMENTS = (
    select(entitlements)
    .where(entitlements.c.tenant_id == _TENANT, entitlements.c.customer_id == bindparam("b_customer"))
    .order_by(entitlements.c.created_at.desc(), entitlements.c.id)
)
_ENTITLEMENTS_LOCK = _ENTITLEMENTS.with_for_update()


class TicketFactsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(
        self,
        *,
        tenant_id: str,
        ticket_id: str,
        customer_id: str | None,
        asset_id: str | None,
        kind: str | None,
        warranty_status: str,
        facts: dict[str, Any],
        opened_at: datetime,
    ) -> None:
        await self.session.execute(
            _UPSERT_FACTS,
            dict(
                tenant_id=tenant_id,
                ticket_id=ticket_id,
                customer_id=customer_id,
                asset_id=asset_id,
                kind=kind,
                warranty_status=warranty_status,
                facts=facts,
                opened_at=opened_at,
            ),
        )

    async def get(self, tenant_id: str, ticket_id: str) -> dict[str, Any] | None:
        row = (await self.session.execute(_FACTS, {"b_tenant": tenant_id, "b_ticket": ticket_id})).mappings().first()
        return dict(row) if row else None

    async def know_customer(self, tenant_id: str, customer_id: str, at: datetime) -> None:
        await self.session.execute(_KNOW_CUSTOMER, dict(tenant_id=tenant_id, customer_id=customer_id, first_seen=at))

    async def customer_known(self, tenant_id: str, customer_id: str) -> bool:
        found = await self.session.scalar(_KNOWN_CUSTOMER, {"b_tenant": tenant_id, "b_customer": customer_id})
        return found is not None


class EntitlementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        id: str,
        tenant_id: str,
        customer_id: str,
        asset_id: str | None,
        kind: str,
        terms: dict[str, Any],
        valid_from: date | None,
        valid_to: date | None,
        now: datetime,
    ) -> None:
        await self.session.execute(
            insert(entitlements).values(
                id=id,
                tenant_id=tenant_id,
                customer_id=customer_id,
                asset_id=asset_id,
                kind=kind,
                terms=terms,
                valid_from=valid_from,
                valid_to=valid_to,
                created_at=now,
            )
        )

    async def for_customer(
        self, tenant_id: str, customer_id: str, asset_id: str | None, on: date, *, lock: bool = False
    ) -> tuple[ServiceContract | None, Package | None, WarrantyCard | None]:
        """The customer's entitlements on `on`; a contract carries the visits used in the contract
        year containing `on`. `lock` (settlement) locks the customer's entitlement rows first, so two
        settlements of the same customer cannot both spend the last visit of a quota."""
        stmt = _ENTITLEMENTS_LOCK if lock else _ENTITLEMENTS
        rows = (await self.session.execute(stmt, {"b_tenant": tenant_id, "b_customer": customer_id})).mappings().all()
        contract = package = card = None
        for r in rows:
            if r["asset_id"] and asset_id and r["asset_id"] != asset_id:
                continue
            t = dict(r["terms"])
            if r["kind"] == "contract" and contract is None and r["valid_from"] <= on <= r["valid_to"]:
                t.pop("visits_used", None)  # legacy lifetime counter: usage is per contract year now
                contract = ServiceContract(id=r["id"], valid_from=r["valid_from"], valid_to=r["valid_to"], **t)
                used = (
                    await self.session.execute(
                        select(contract_visit_usage.c.visits_used).where(
                            contract_visit_usage.c.tenant_id == tenant_id,
                            contract_visit_usage.c.contract_id == r["id"],
                            contract_visit_usage.c.year_start == contract.year_start(on),
                        )
                    )
                ).scalar_one_or_none()
                contract = replace(contract, visits_used=int(used or 0))
            elif r["kind"] == "package" and package is None:
                package = Package(id=r["id"], **t)
            elif r["kind"] == "warranty_card" and card is None:
                card = WarrantyCard(id=r["id"], prices_minor=t.get("prices_minor", {}))
        return contract, package, card

    async def use_contract_visit(self, tenant_id: str, contract_id: str, year_start: date) -> None:
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(contract_visit_usage).values(
            tenant_id=tenant_id, contract_id=contract_id, year_start=year_start, visits_used=1
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id", "contract_id", "year_start"],
                set_={"visits_used": contract_visit_usage.c.visits_used + 1},
            )
        )

    async def visits_used(self, tenant_id: str, contract_id: str) -> dict[date, int]:
        rows = (
            (
                await self.session.execute(
                    select(contract_visit_usage).where(
                        contract_visit_usage.c.tenant_id == tenant_id, contract_visit_usage.c.contract_id == contract_id
                    )
                )
            )
            .mappings()
            .all()
        )
        return {r["year_start"]: r["visits_used"] for r in rows}

    async def use_package_visit(self, tenant_id: str, package_id: str) -> None:
        await self.session.execute(
            update(entitlements)
            .where(entitlements.c.tenant_id == tenant_id, entitlements.c.id == package_id)
            .values(
                terms=entitlements.c.terms.op("||")(
                    func.jsonb_build_object(
                        "visits_remaining",
                        func.greatest(entitlements.c.terms["visits_remaining"].astext.cast(type_=Integer) - 1, 0),
                    )
                )
            )
        )
