"""Settlement: a completed work order (or an accepted quote) becomes an invoice or a waived charge,
exactly once; a completion that cannot be priced yet is parked until intake's facts arrive. Each opens its unit of work and commits it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from billing.adapters.entitlements import EntitlementRepository, TicketFactsRepository
from billing.adapters.invoices import CounterRepository, InvoiceRepository
from billing.adapters.price_books import PriceBookRepository
from billing.adapters.quotes import QuoteRepository
from billing.adapters.serialisation import envelope_from_json, work_from_json
from billing.adapters.settlements import PendingSettlementRepository
from billing.adapters.waivers import WaiverRepository
from billing.domain import commands as c
from billing.domain.entitlements import Entitlements
from billing.domain.exceptions import DomainError, NotFound
from billing.domain.model import Invoice, WaiverRequest, WaiverStatus, format_invoice_number, new_id
from billing.domain.price_book import PriceBook
from billing.domain.pricing import Charge, compute_charge
from billing.service_layer.common import line_summary
from billing.service_layer.entitlements import entitlements_for, warranty_status_of
from fixflow_shared.events.contracts import billing as ev
from fixflow_shared.events.contracts.intake import TicketOpened
from fixflow_shared.events.envelope import Envelope
from fixflow_shared.uow import UnitOfWork


async def record_ticket_facts(*, uow: UnitOfWork, envelope: Envelope, event: TicketOpened) -> bool:
    """intake's ticket.opened: keep the warranty facts billing prices with. Extra warranty fields
    intake adds later (purchase date, card id, ...) are kept as they come in `facts`."""
    tenant = event.tenant_id
    async with uow:
        await uow.scope_to_tenant(tenant)
        if not await uow.claim("billing.ticket_facts", envelope):
            return False
        await lock_ticket(uow, tenant, event.ticket_id)
        await TicketFactsRepository(uow.session).upsert(
            tenant_id=tenant,
            ticket_id=event.ticket_id,
            customer_id=event.customer_id,
            asset_id=event.asset_id,
            kind=event.kind,
            warranty_status=warranty_status_of(event).value,
            facts=event.model_dump(mode="json"),
            opened_at=event.opened_at,
        )
        if event.customer_id:
            await TicketFactsRepository(uow.session).know_customer(tenant, event.customer_id, event.opened_at)
        # completions that arrived first (other topic, other partition) are settled now, atomically
        await settle_parked(uow, tenant, event.ticket_id, uow.clock.now())
        await uow.commit()
    return True


async def record_customer(*, uow: UnitOfWork, envelope: Envelope, customer_id: str, at: Any) -> bool:
    """intake's customer.registered: a customer sales and entitlements may name from now on."""
    async with uow:
        await uow.scope_to_tenant(envelope.tenantid)
        if not await uow.claim("billing.customer", envelope):
            return False
        await TicketFactsRepository(uow.session).know_customer(envelope.tenantid, customer_id, at)
        await uow.commit()
    return True


@dataclass(frozen=True)
class Settlement:
    invoice: Invoice | None
    charge: Charge | None
    already: bool = False
    parked: str | None = None  # why the completion waits (ticket_facts | waiver_decision)


_LOCK_TICKET = text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))")


async def lock_ticket(uow: UnitOfWork, tenant_id: str, ticket_id: str) -> None:
    """Serialise everything that decides whether a ticket's completion can be priced (facts arriving,
    completion arriving, waivers requested/decided): whoever comes second sees the first's commit, so a
    completion can never be parked just after the facts that would settle it were committed."""
    await uow.session.execute(_LOCK_TICKET, {"k": f"billing-ticket:{tenant_id}:{ticket_id}"})


async def _waiting_reason(
    uow: UnitOfWork,
    tenant_id: str,
    ticket_id: str,
    facts: dict[str, Any] | None,
    require_facts: bool,
    open_waivers: list[WaiverRequest] | None = None,
) -> str | None:
    """`open_waivers`: the ticket's pending and approved waivers when the caller already read them."""
    if facts is None and require_facts:
        return "ticket_facts"
    pending = (
        any(w.status == WaiverStatus.PENDING for w in open_waivers)
        if open_waivers is not None
        else await WaiverRepository(uow.session).has_pending(tenant_id, ticket_id)
    )
    if pending:
        return "waiver_decision"  # a manager has yet to approve or reject: do not price without it
    return None


async def settle_work_order(
    *,
    uow: UnitOfWork,
    cmd: c.SettleWorkOrder,
    causation: Envelope | None = None,
    consumer: str | None = None,
    require_facts: bool = True,
) -> Settlement | None:
    """Price a completed work order and issue an invoice (gapless number) or a charge.waived.

    Exactly once per work order: the inbox claims the event, and (tenant, work_order_id) is unique
    on invoices and waived charges, so even a different event for the same work order is a no-op.
    When the completion cannot be priced yet (intake's ticket.opened not seen), it is parked in
    `pending_settlements` in the same transaction as the inbox claim and settled when the facts arrive.
    """
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        if causation is not None and consumer and not await uow.claim(consumer, causation):
            return None
        await lock_ticket(uow, cmd.tenant_id, cmd.ticket_id)
        if await InvoiceRepository(uow.session).settled_work_order(cmd.tenant_id, cmd.work_order_id):
            await uow.commit()  # keep the inbox row: this event is done
            return None
        facts = await TicketFactsRepository(uow.session).get(cmd.tenant_id, cmd.ticket_id)
        # the ticket lock serialises waiver changes: read once for both the wait and the price
        open_waivers = (
            None
            if facts is None and require_facts
            else await WaiverRepository(uow.session).open_for_ticket(cmd.tenant_id, cmd.ticket_id)
        )
        waiting = await _waiting_reason(uow, cmd.tenant_id, cmd.ticket_id, facts, require_facts, open_waivers)
        if waiting is not None:
            await PendingSettlementRepository(uow.session).park(
                tenant_id=cmd.tenant_id,
                ticket_id=cmd.ticket_id,
                work_order_id=cmd.work_order_id,
                work=cmd.work,
                completed_at=cmd.completed_at,
                causation=causation,
                waiting_for=waiting,
                now=now,
            )
            await uow.commit()
            return Settlement(invoice=None, charge=None, parked=waiting)
        approved = [w for w in open_waivers or () if w.status == WaiverStatus.APPROVED]
        priced = await _price(uow, cmd, facts, approved=approved)
        settlement = await _record_settlement(uow, cmd, facts, priced, causation=causation, now=now)
        await uow.commit()
    return settlement


@dataclass(frozen=True)
class _Priced:
    book: PriceBook
    ent: Entitlements
    charge: Charge


async def _price(
    uow: UnitOfWork, cmd: c.SettleWorkOrder, facts: dict[str, Any] | None, approved: list[WaiverRequest] | None = None
) -> _Priced:
    """Read-only: may raise DomainError (e.g. a part without a price) before anything is written."""
    on = cmd.completed_at.date()
    book = await PriceBookRepository(uow.session).effective(cmd.tenant_id, on)
    ent = await entitlements_for(uow, cmd.tenant_id, facts, cmd.ticket_id, on, lock=True, approved=approved)
    return _Priced(book, ent, compute_charge(book=book, work=cmd.work, entitlements=ent, on=on))


async def _record_settlement(
    uow: UnitOfWork,
    cmd: c.SettleWorkOrder,
    facts: dict[str, Any] | None,
    priced: _Priced,
    *,
    causation: Envelope | None,
    now: datetime,
) -> Settlement:
    charge, ent, book = priced.charge, priced.ent, priced.book
    customer_id = (facts or {}).get("customer_id")
    inv_repo = InvoiceRepository(uow.session)
    ent_repo = EntitlementRepository(uow.session)
    for ln in charge.lines:
        if ln.rule == "contract.covers_visits" and ent.contract:
            await ent_repo.use_contract_visit(
                cmd.tenant_id, ent.contract.id, ent.contract.year_start(cmd.completed_at.date())
            )
        if ln.rule == "package.prepaid_visit" and ent.package:
            await ent_repo.use_package_visit(cmd.tenant_id, ent.package.id)
    if any(ln.code == "waiver" for ln in charge.lines):
        await WaiverRepository(uow.session).mark_applied(cmd.tenant_id, cmd.ticket_id)
    invoice: Invoice | None = None
    if charge.total_minor == 0:
        await inv_repo.add_waived(
            id=new_id("wvd"),
            tenant_id=cmd.tenant_id,
            ticket_id=cmd.ticket_id,
            work_order_id=cmd.work_order_id,
            charge=charge,
            reason=charge.waived_reason or "",
            rule=charge.waived_rule or "",
            approved_by=charge.waiver_approved_by,
            now=now,
        )
        uow.emit(
            ev.ChargeWaived(
                ticket_id=cmd.ticket_id,
                tenant_id=cmd.tenant_id,
                customer_id=customer_id,
                work_order_id=cmd.work_order_id,
                service_kind=charge.service_kind.value,
                currency=charge.currency,
                waived_minor=charge.list_total_minor,
                reason=charge.waived_reason or "",
                rule=charge.waived_rule or "",
                approved_by=charge.waiver_approved_by,
                waived_at=now,
            ),
            subject=cmd.ticket_id,
            tenant=cmd.tenant_id,
            causation=causation,
        )
    else:
        invoice = await issue_invoice(
            uow,
            tenant_id=cmd.tenant_id,
            ticket_id=cmd.ticket_id,
            customer_id=customer_id,
            work_order_id=cmd.work_order_id,
            charge=charge,
            book=book,
            now=now,
            causation=causation,
        )
    return Settlement(invoice=invoice, charge=charge)


async def settle_parked(uow: UnitOfWork, tenant_id: str, ticket_id: str, now: datetime) -> list[Settlement]:
    """Inside the caller's transaction (ticket lock held): settle the ticket's parked completions
    if nothing they wait for is missing any more. A parked completion that can never be priced
    (e.g. an unknown part) is marked failed and kept for a person to look at, instead of failing
    the event that unblocked it."""
    repo = PendingSettlementRepository(uow.session)
    rows = await repo.waiting_for_ticket(tenant_id, ticket_id)
    if not rows:
        return []
    facts = await TicketFactsRepository(uow.session).get(tenant_id, ticket_id)
    waiting = await _waiting_reason(uow, tenant_id, ticket_id, facts, True)
    if waiting is not None:
        await repo.set_waiting_for(tenant_id, ticket_id, waiting, now)
        return []
    done: list[Settlement] = []
    inv_repo = InvoiceRepository(uow.session)
    for r in rows:
        cmd = c.SettleWorkOrder(
            tenant_id=tenant_id,
            ticket_id=ticket_id,
            work_order_id=r["work_order_id"],
            work=work_from_json(r["work"]),
            completed_at=r["completed_at"],
        )
        if await inv_repo.settled_work_order(tenant_id, cmd.work_order_id):
            await repo.remove(tenant_id, cmd.work_order_id)
            continue
        try:
            priced = await _price(uow, cmd, facts)
        except DomainError as exc:
            await repo.mark_failed(tenant_id, cmd.work_order_id, f"{type(exc).__name__}: {exc}", now)
            continue
        causation = envelope_from_json(r["causation"]) if r["causation"] else None
        done.append(await _record_settlement(uow, cmd, facts, priced, causation=causation, now=now))
        await repo.remove(tenant_id, cmd.work_order_id)
    return done


async def issue_invoice(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    ticket_id: str,
    customer_id: str | None,
    work_order_id: str | None,
    charge: Charge,
    book: PriceBook,
    now: datetime,
    causation: Envelope | None,
) -> Invoice:
    year = now.year
    seq = await CounterRepository().next(uow.session, tenant_id=tenant_id, series="INV", year=year)
    invoice = Invoice(
        id=new_id("inv"),
        number=format_invoice_number(year, seq),
        tenant_id=tenant_id,
        ticket_id=ticket_id,
        customer_id=customer_id,
        work_order_id=work_order_id,
        service_kind=charge.service_kind,
        currency=charge.currency,
        lines=charge.lines,
        subtotal_minor=charge.subtotal_minor,
        tax_minor=charge.tax_minor,
        total_minor=charge.total_minor,
        issued_at=now,
        price_book_version=book.version,
    )
    await InvoiceRepository(uow.session).add(invoice, year=year, seq=seq)
    uow.emit(
        ev.InvoiceIssued(
            invoice_id=invoice.id,
            invoice_number=invoice.number,
            ticket_id=ticket_id,
            tenant_id=tenant_id,
            customer_id=customer_id,
            work_order_id=work_order_id,
            service_kind=charge.service_kind.value,
            currency=charge.currency,
            subtotal_minor=charge.subtotal_minor,
            tax_minor=charge.tax_minor,
            total_minor=charge.total_minor,
            lines=[line_summary(ln) for ln in charge.lines],
            issued_at=now,
            due_at=now + timedelta(days=30),
        ),
        subject=ticket_id,
        tenant=tenant_id,
        causation=causation,
    )
    return invoice


async def invoice_from_quote(*, uow: UnitOfWork, tenant_id: str, quote_id: str) -> Invoice:
    """Invoice an accepted quote (e.g. send-in repair settled at the counter, no work order)."""
    now = uow.clock.now()
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        quote = await QuoteRepository(uow.session).get(tenant_id, quote_id, for_update=True)
        if quote is None:
            raise NotFound("quote", quote_id)
        if quote.status.value != "accepted":
            from billing.domain.exceptions import IllegalTransition

            raise IllegalTransition("quote", quote.status.value, "invoiced")
        if quote.charge.total_minor == 0:
            raise DomainError("the quote has nothing to charge")
        book = await PriceBookRepository(uow.session).effective(tenant_id, now.date())
        inv = await issue_invoice(
            uow,
            tenant_id=tenant_id,
            ticket_id=quote.ticket_id,
            customer_id=quote.customer_id,
            work_order_id=f"quote:{quote.id}",
            charge=quote.charge,
            book=book,
            now=now,
            causation=None,
        )
        await uow.commit()
    return inv
