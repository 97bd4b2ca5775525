"""Billing persistence. Every query runs inside a tenant-scoped transaction (RLS) and filters by
tenant as well, so a missing policy can never leak another tenant's rows."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from billing.adapters.orm import (
    contract_visit_usage,
    credit_entries,
    credit_notes,
    customer_credits,
    entitlements,
    invoices,
    payments,
    pending_settlements,
    price_books,
    quotes,
    refunds,
    ticket_facts,
    waived_charges,
    waivers,
)
from billing.domain.entitlements import Package, ServiceContract, WarrantyCard
from billing.domain.model import Consent, CustomerCredit, Invoice, Quote, QuoteStatus, WaiverRequest, WaiverStatus
from billing.domain.price_book import PartPrice, PriceBook, demo_price_book
from billing.domain.pricing import Charge, Line, PartUsed, ServiceKind, WorkDone
from fixflow_shared.events.envelope import Envelope

# --- (de)serialisation --------------------------------------------------------------------------


def line_to_json(ln: Line) -> dict[str, Any]:
    return asdict(ln)


def line_from_json(d: dict[str, Any]) -> Line:
    return Line(**d)


def charge_to_json(c: Charge) -> dict[str, Any]:
    d = asdict(c)
    d["service_kind"] = c.service_kind.value
    d["lines"] = [line_to_json(ln) for ln in c.lines]
    return d


def charge_from_json(d: dict[str, Any]) -> Charge:
    return Charge(
        **{**d, "service_kind": ServiceKind(d["service_kind"]), "lines": tuple(line_from_json(x) for x in d["lines"])}
    )


def book_to_config(b: PriceBook) -> dict[str, Any]:
    d = asdict(b)
    for k in ("tenant_id", "version", "effective_from", "currency"):
        d.pop(k)
    d["parts"] = {k: asdict(v) for k, v in b.parts.items()}
    d["resolution_codes"] = {k: list(v) for k, v in b.resolution_codes.items()}
    return d


def book_from_row(r: Any) -> PriceBook:
    cfg = dict(r["config"])
    cfg["parts"] = {k: PartPrice(**v) for k, v in cfg.get("parts", {}).items()}
    cfg["resolution_codes"] = {k: tuple(v) for k, v in cfg.get("resolution_codes", {}).items()}
    return PriceBook(
        tenant_id=r["tenant_id"],
        version=r["version"],
        effective_from=r["effective_from"],
        currency=r["currency"],
        **cfg,
    )


def work_to_json(w: WorkDone) -> dict[str, Any]:
    d = asdict(w)
    d["parts"] = [asdict(p) for p in w.parts]
    return d


def work_from_json(d: dict[str, Any]) -> WorkDone:
    return WorkDone(**{**d, "parts": tuple(PartUsed(**p) for p in d.get("parts", ()))})


def envelope_to_json(env: Envelope) -> dict[str, Any]:
    return {"headers": {k: v.decode() for k, v in env.headers()}, "data": env.data}


def envelope_from_json(d: dict[str, Any]) -> Envelope:
    import orjson

    return Envelope.from_kafka(d["headers"], orjson.dumps(d["data"]))


# --- statements built once, executed with parameters --------------------------------------------
# (not .values(**row) / literal where-clauses per call: that builds a statement and coerces every
# value into a bound literal each time, which cost more Python than the query itself)
_TENANT = bindparam("b_tenant")
_EFFECTIVE_BOOK = (
    select(price_books)
    .where(price_books.c.tenant_id == _TENANT, price_books.c.effective_from <= bindparam("b_on"))
    .order_by(price_books.c.effective_from.desc(), price_books.c.version.desc())
    .limit(1)
)
_FACTS_ROW = pg_insert(ticket_facts)
_UPSERT_FACTS = _FACTS_ROW.on_conflict_do_update(
    index_elements=["tenant_id", "ticket_id"],
    set_={c: _FACTS_ROW.excluded[c] for c in ("customer_id", "asset_id", "kind", "warranty_status", "facts")},
)
_FACTS = select(ticket_facts).where(
    ticket_facts.c.tenant_id == _TENANT, ticket_facts.c.ticket_id == bindparam("b_ticket")
)
_ENTITLEMENTS = (
    select(entitlements)
    .where(entitlements.c.tenant_id == _TENANT, entitlements.c.customer_id == bindparam("b_customer"))
    .order_by(entitlements.c.created_at.desc(), entitlements.c.id)
)
_ENTITLEMENTS_LOCK = _ENTITLEMENTS.with_for_update()
_SETTLED = (
    select(invoices.c.id)
    .where(invoices.c.tenant_id == _TENANT, invoices.c.work_order_id == bindparam("b_wo"))
    .union_all(
        select(waived_charges.c.id).where(
            waived_charges.c.tenant_id == _TENANT, waived_charges.c.work_order_id == bindparam("b_wo")
        )
    )
    .limit(1)
)
_OPEN_WAIVERS = (
    select(waivers)
    .where(
        waivers.c.tenant_id == _TENANT,
        waivers.c.ticket_id == bindparam("b_ticket"),
        waivers.c.status.in_([WaiverStatus.PENDING.value, WaiverStatus.APPROVED.value]),
    )
    .order_by(waivers.c.created_at)
)
_WAITING_FOR_TICKET = (
    select(pending_settlements)
    .where(
        pending_settlements.c.tenant_id == _TENANT,
        pending_settlements.c.ticket_id == bindparam("b_ticket"),
        pending_settlements.c.status == "waiting",
    )
    .order_by(pending_settlements.c.completed_at, pending_settlements.c.work_order_id)
    .with_for_update()
)
_NEXT_NUMBER = text(
    "INSERT INTO document_counters AS c (tenant_id, series, year, last_value) VALUES (:t, :s, :y, 1) "
    "ON CONFLICT (tenant_id, series, year) DO UPDATE SET last_value = c.last_value + 1 "
    "RETURNING last_value"
)


# --- repositories -------------------------------------------------------------------------------


class PriceBookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_version(self, tenant_id: str) -> int:
        v = (
            await self.session.execute(
                select(func.coalesce(func.max(price_books.c.version), 0)).where(price_books.c.tenant_id == tenant_id)
            )
        ).scalar_one()
        return int(v) + 1

    async def add(self, book: PriceBook, *, created_by: str, now: datetime) -> None:
        await self.session.execute(
            insert(price_books).values(
                tenant_id=book.tenant_id,
                version=book.version,
                effective_from=book.effective_from,
                currency=book.currency,
                config=book_to_config(book),
                created_by=created_by,
                created_at=now,
            )
        )

    async def effective(self, tenant_id: str, on: date) -> PriceBook:
        """The newest version in effect on `on`; the retailer's demo schedule if none is configured."""
        row = (await self.session.execute(_EFFECTIVE_BOOK, {"b_tenant": tenant_id, "b_on": on})).mappings().first()
        return book_from_row(row) if row else demo_price_book(tenant_id)

    async def list(self, tenant_id: str) -> list[PriceBook]:
        rows = (
            (
                await self.session.execute(
                    select(price_books).where(price_books.c.tenant_id == tenant_id).order_by(price_books.c.version)
                )
            )
            .mappings()
            .all()
        )
        return [book_from_row(r) for r in rows]


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


class CounterRepository:
    async def next(self, session: AsyncSession, *, tenant_id: str, series: str, year: int) -> int:
        """Next number of a gapless series. One statement creates or increments the counter row and
        keeps it locked until this transaction ends, so concurrent issuers queue (for as short a time
        as possible: call it last before commit) and a rollback gives the number back."""
        return int((await session.execute(_NEXT_NUMBER, {"t": tenant_id, "s": series, "y": year})).scalar_one())


class QuoteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, q: Quote) -> None:
        await self.session.execute(
            insert(quotes).values(
                id=q.id,
                tenant_id=q.tenant_id,
                ticket_id=q.ticket_id,
                customer_id=q.customer_id,
                status=q.status.value,
                currency=q.charge.currency,
                total_minor=q.charge.total_minor,
                charge=charge_to_json(q.charge),
                issued_at=q.issued_at,
                valid_until=q.valid_until,
                consent=None,
            )
        )

    async def get(self, tenant_id: str, quote_id: str, *, for_update: bool = False) -> Quote | None:
        stmt = select(quotes).where(quotes.c.tenant_id == tenant_id, quotes.c.id == quote_id)
        if for_update:
            stmt = stmt.with_for_update()
        r = (await self.session.execute(stmt)).mappings().first()
        if r is None:
            return None
        consent = None
        if r["consent"]:
            c = dict(r["consent"])
            c["at"] = datetime.fromisoformat(c["at"])
            consent = Consent(**c)
        return Quote(
            id=r["id"],
            tenant_id=r["tenant_id"],
            ticket_id=r["ticket_id"],
            customer_id=r["customer_id"],
            charge=charge_from_json(r["charge"]),
            issued_at=r["issued_at"],
            valid_until=r["valid_until"],
            status=QuoteStatus(r["status"]),
            consent=consent,
        )

    async def save_decision(self, q: Quote) -> None:
        assert q.consent is not None
        c = asdict(q.consent)
        c["at"] = q.consent.at.isoformat()
        await self.session.execute(
            update(quotes)
            .where(quotes.c.tenant_id == q.tenant_id, quotes.c.id == q.id)
            .values(status=q.status.value, consent=c)
        )


class InvoiceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, inv: Invoice, *, year: int, seq: int) -> None:
        await self.session.execute(
            insert(invoices),
            dict(
                id=inv.id,
                tenant_id=inv.tenant_id,
                number=inv.number,
                year=year,
                seq=seq,
                ticket_id=inv.ticket_id,
                customer_id=inv.customer_id,
                work_order_id=inv.work_order_id,
                service_kind=inv.service_kind.value,
                currency=inv.currency,
                subtotal_minor=inv.subtotal_minor,
                tax_minor=inv.tax_minor,
                total_minor=inv.total_minor,
                paid_minor=inv.paid_minor,
                refunded_minor=inv.refunded_minor,
                lines=[line_to_json(ln) for ln in inv.lines],
                price_book_version=inv.price_book_version,
                issued_at=inv.issued_at,
            ),
        )

    @staticmethod
    def from_row(r: Any) -> Invoice:
        return Invoice(
            id=r["id"],
            number=r["number"],
            tenant_id=r["tenant_id"],
            ticket_id=r["ticket_id"],
            customer_id=r["customer_id"],
            work_order_id=r["work_order_id"],
            service_kind=ServiceKind(r["service_kind"]),
            currency=r["currency"],
            lines=tuple(line_from_json(x) for x in r["lines"]),
            subtotal_minor=r["subtotal_minor"],
            tax_minor=r["tax_minor"],
            total_minor=r["total_minor"],
            issued_at=r["issued_at"],
            paid_minor=r["paid_minor"],
            refunded_minor=r["refunded_minor"],
            price_book_version=r["price_book_version"],
        )

    async def get(self, tenant_id: str, invoice_id: str, *, for_update: bool = False) -> Invoice | None:
        stmt = select(invoices).where(invoices.c.tenant_id == tenant_id, invoices.c.id == invoice_id)
        if for_update:
            stmt = stmt.with_for_update()
        r = (await self.session.execute(stmt)).mappings().first()
        return self.from_row(r) if r else None

    async def save_amounts(self, inv: Invoice) -> None:
        await self.session.execute(
            update(invoices)
            .where(invoices.c.tenant_id == inv.tenant_id, invoices.c.id == inv.id)
            .values(paid_minor=inv.paid_minor, refunded_minor=inv.refunded_minor)
        )

    async def settled_work_order(self, tenant_id: str, work_order_id: str) -> bool:
        return (
            await self.session.execute(_SETTLED, {"b_tenant": tenant_id, "b_wo": work_order_id})
        ).first() is not None

    async def add_waived(
        self,
        *,
        id: str,
        tenant_id: str,
        ticket_id: str,
        work_order_id: str | None,
        charge: Charge,
        reason: str,
        rule: str,
        approved_by: str | None,
        now: datetime,
    ) -> None:
        await self.session.execute(
            insert(waived_charges),
            dict(
                id=id,
                tenant_id=tenant_id,
                ticket_id=ticket_id,
                work_order_id=work_order_id,
                service_kind=charge.service_kind.value,
                currency=charge.currency,
                waived_minor=charge.list_total_minor,
                reason=reason,
                rule=rule,
                approved_by=approved_by,
                lines=[line_to_json(ln) for ln in charge.lines],
                waived_at=now,
            ),
        )

    async def add_payment(self, **values: Any) -> None:
        await self.session.execute(insert(payments).values(**values))

    async def id_for_work_order(self, tenant_id: str, work_order_id: str) -> str | None:
        """The invoice issued for a work order (or a sale: `sale:<asset id>`), if any."""
        return (
            await self.session.execute(
                select(invoices.c.id).where(
                    invoices.c.tenant_id == tenant_id, invoices.c.work_order_id == work_order_id
                )
            )
        ).scalar_one_or_none()

    async def paid_by_method(self, tenant_id: str, invoice_id: str, method: str) -> int:
        return int(
            (
                await self.session.execute(
                    select(func.coalesce(func.sum(payments.c.applied_minor), 0)).where(
                        payments.c.tenant_id == tenant_id,
                        payments.c.invoice_id == invoice_id,
                        payments.c.method == method,
                    )
                )
            ).scalar_one()
        )

    async def payment_count(self, tenant_id: str, invoice_id: str) -> int:
        return int(
            (
                await self.session.execute(
                    select(func.count())
                    .select_from(payments)
                    .where(payments.c.tenant_id == tenant_id, payments.c.invoice_id == invoice_id)
                )
            ).scalar_one()
        )

    async def add_refund(self, **values: Any) -> None:
        await self.session.execute(insert(refunds).values(**values))

    async def add_credit_note(self, **values: Any) -> None:
        await self.session.execute(insert(credit_notes).values(**values))


class WaiverRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, w: WaiverRequest, now: datetime) -> None:
        await self.session.execute(
            insert(waivers).values(
                id=w.id,
                tenant_id=w.tenant_id,
                ticket_id=w.ticket_id,
                amount_minor=w.amount_minor,
                currency=w.currency,
                reason=w.reason,
                requested_by=w.requested_by,
                status=w.status.value,
                approved_by=w.approved_by,
                created_at=now,
            )
        )

    @staticmethod
    def _from(r: Any) -> WaiverRequest:
        return WaiverRequest(
            id=r["id"],
            tenant_id=r["tenant_id"],
            ticket_id=r["ticket_id"],
            amount_minor=r["amount_minor"],
            currency=r["currency"],
            reason=r["reason"],
            requested_by=r["requested_by"],
            status=WaiverStatus(r["status"]),
            approved_by=r["approved_by"],
        )

    async def get(self, tenant_id: str, waiver_id: str, *, for_update: bool = False) -> WaiverRequest | None:
        stmt = select(waivers).where(waivers.c.tenant_id == tenant_id, waivers.c.id == waiver_id)
        if for_update:
            stmt = stmt.with_for_update()
        r = (await self.session.execute(stmt)).mappings().first()
        return self._from(r) if r else None

    async def approved_for_ticket(self, tenant_id: str, ticket_id: str) -> list[WaiverRequest]:
        rows = (
            (
                await self.session.execute(
                    select(waivers)
                    .where(
                        waivers.c.tenant_id == tenant_id,
                        waivers.c.ticket_id == ticket_id,
                        waivers.c.status == WaiverStatus.APPROVED.value,
                    )
                    .order_by(waivers.c.created_at)
                )
            )
            .mappings()
            .all()
        )
        return [self._from(r) for r in rows]

    async def open_for_ticket(self, tenant_id: str, ticket_id: str) -> list[WaiverRequest]:
        """The ticket's pending and approved waivers (oldest first): `has_pending` and
        `approved_for_ticket` in one statement."""
        rows = (
            (await self.session.execute(_OPEN_WAIVERS, {"b_tenant": tenant_id, "b_ticket": ticket_id})).mappings().all()
        )
        return [self._from(r) for r in rows]

    async def mark_applied(self, tenant_id: str, ticket_id: str) -> None:
        await self.session.execute(
            update(waivers)
            .where(
                waivers.c.tenant_id == tenant_id,
                waivers.c.ticket_id == ticket_id,
                waivers.c.status == WaiverStatus.APPROVED.value,
            )
            .values(status=WaiverStatus.APPLIED.value)
        )

    async def has_pending(self, tenant_id: str, ticket_id: str) -> bool:
        return (
            await self.session.execute(
                select(waivers.c.id)
                .where(
                    waivers.c.tenant_id == tenant_id,
                    waivers.c.ticket_id == ticket_id,
                    waivers.c.status == WaiverStatus.PENDING.value,
                )
                .limit(1)
            )
        ).first() is not None

    async def save(self, w: WaiverRequest) -> None:
        await self.session.execute(
            update(waivers)
            .where(waivers.c.tenant_id == w.tenant_id, waivers.c.id == w.id)
            .values(status=w.status.value, approved_by=w.approved_by)
        )


class PendingSettlementRepository:
    """Work-order completions billing cannot price yet (ticket facts missing, waiver undecided)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def park(
        self,
        *,
        tenant_id: str,
        ticket_id: str,
        work_order_id: str,
        work: WorkDone,
        completed_at: datetime,
        causation: Envelope | None,
        waiting_for: str,
        now: datetime,
    ) -> None:
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(pending_settlements).values(
            tenant_id=tenant_id,
            work_order_id=work_order_id,
            ticket_id=ticket_id,
            waiting_for=waiting_for,
            status="waiting",
            work=work_to_json(work),
            completed_at=completed_at,
            causation=envelope_to_json(causation) if causation is not None else None,
            error=None,
            parked_at=now,
            updated_at=now,
        )
        # A second completion of the same work order (new event id) while parked changes nothing.
        await self.session.execute(stmt.on_conflict_do_nothing(index_elements=["tenant_id", "work_order_id"]))

    async def waiting_for_ticket(self, tenant_id: str, ticket_id: str) -> list[dict[str, Any]]:
        rows = (
            (await self.session.execute(_WAITING_FOR_TICKET, {"b_tenant": tenant_id, "b_ticket": ticket_id}))
            .mappings()
            .all()
        )
        return [dict(r) for r in rows]

    async def set_waiting_for(self, tenant_id: str, ticket_id: str, waiting_for: str, now: datetime) -> None:
        await self.session.execute(
            update(pending_settlements)
            .where(
                pending_settlements.c.tenant_id == tenant_id,
                pending_settlements.c.ticket_id == ticket_id,
                pending_settlements.c.status == "waiting",
            )
            .values(waiting_for=waiting_for, updated_at=now)
        )

    async def remove(self, tenant_id: str, work_order_id: str) -> None:
        from sqlalchemy import delete

        await self.session.execute(
            delete(pending_settlements).where(
                pending_settlements.c.tenant_id == tenant_id, pending_settlements.c.work_order_id == work_order_id
            )
        )

    async def mark_failed(self, tenant_id: str, work_order_id: str, error: str, now: datetime) -> None:
        await self.session.execute(
            update(pending_settlements)
            .where(pending_settlements.c.tenant_id == tenant_id, pending_settlements.c.work_order_id == work_order_id)
            .values(status="failed", error=error[:2000], updated_at=now)
        )

    async def list(self, tenant_id: str, limit: int = 100) -> list[dict[str, Any]]:
        rows = (
            (
                await self.session.execute(
                    select(pending_settlements)
                    .where(pending_settlements.c.tenant_id == tenant_id)
                    .order_by(pending_settlements.c.parked_at)
                    .limit(limit)
                )
            )
            .mappings()
            .all()
        )
        return [dict(r) for r in rows]


class CreditRepository:
    """Customer credit balances (one row per customer and currency, locked when changed) and the
    ledger of every change (overpayment +, applied -)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_for_update(self, tenant_id: str, customer_id: str, currency: str, now: datetime) -> CustomerCredit:
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        await self.session.execute(
            pg_insert(customer_credits)
            .values(tenant_id=tenant_id, customer_id=customer_id, currency=currency, balance_minor=0, updated_at=now)
            .on_conflict_do_nothing()
        )
        bal = (
            await self.session.execute(
                select(customer_credits.c.balance_minor)
                .where(
                    customer_credits.c.tenant_id == tenant_id,
                    customer_credits.c.customer_id == customer_id,
                    customer_credits.c.currency == currency,
                )
                .with_for_update()
            )
        ).scalar_one()
        return CustomerCredit(tenant_id, customer_id, currency, int(bal))

    async def save(
        self,
        credit: CustomerCredit,
        *,
        delta_minor: int,
        kind: str,
        payment_id: str,
        invoice_id: str,
        entry_id: str,
        now: datetime,
    ) -> None:
        await self.session.execute(
            update(customer_credits)
            .where(
                customer_credits.c.tenant_id == credit.tenant_id,
                customer_credits.c.customer_id == credit.customer_id,
                customer_credits.c.currency == credit.currency,
            )
            .values(balance_minor=credit.balance_minor, updated_at=now)
        )
        await self.session.execute(
            insert(credit_entries).values(
                id=entry_id,
                tenant_id=credit.tenant_id,
                customer_id=credit.customer_id,
                currency=credit.currency,
                amount_minor=delta_minor,
                kind=kind,
                payment_id=payment_id,
                invoice_id=invoice_id,
                at=now,
            )
        )

    async def balances(self, tenant_id: str, customer_id: str) -> list[dict[str, Any]]:
        rows = (
            (
                await self.session.execute(
                    select(customer_credits)
                    .where(customer_credits.c.tenant_id == tenant_id, customer_credits.c.customer_id == customer_id)
                    .order_by(customer_credits.c.currency)
                )
            )
            .mappings()
            .all()
        )
        return [dict(r) for r in rows]

    async def entries(self, tenant_id: str, customer_id: str, limit: int = 50) -> list[dict[str, Any]]:
        rows = (
            (
                await self.session.execute(
                    select(credit_entries)
                    .where(credit_entries.c.tenant_id == tenant_id, credit_entries.c.customer_id == customer_id)
                    .order_by(credit_entries.c.at.desc(), credit_entries.c.id)
                    .limit(limit)
                )
            )
            .mappings()
            .all()
        )
        return [dict(r) for r in rows]
