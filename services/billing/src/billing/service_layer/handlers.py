"""Use cases: load, ask the domain, save with the events in one unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from billing.adapters.credits import CreditRepository
from billing.adapters.entitlements import EntitlementRepository, TicketFactsRepository
from billing.adapters.invoices import CounterRepository, InvoiceRepository
from billing.adapters.price_books import PriceBookRepository
from billing.adapters.quotes import QuoteRepository
from billing.adapters.serialisation import envelope_from_json, work_from_json
from billing.adapters.settlements import PendingSettlementRepository
from billing.adapters.waivers import WaiverRepository
from billing.domain import commands as c
from billing.domain.entitlements import Entitlements, Waiver, WarrantyStatus
from billing.domain.exceptions import DomainError, NotFound
from billing.domain.model import Invoice, Quote, WaiverRequest, WaiverStatus, format_invoice_number, new_id
from billing.domain.price_book import PriceBook
from billing.domain.pricing import Charge, Line, compute_charge
from fixflow_shared.events.contracts import billing as ev
from fixflow_shared.events.envelope import Envelope
from fixflow_shared.uow import UnitOfWork


def _now() -> datetime:
    return datetime.now(UTC)


def line_summary(ln: Line) -> ev.LineSummary:
    return ev.LineSummary(
        code=ln.code,
        description=ln.description,
        quantity=ln.quantity,
        unit_price_minor=ln.unit_price_minor,
        amount_minor=ln.amount_minor,
        charged=ln.charged,
        reason=ln.reason,
        rule=ln.rule,
    )


# --- price books ------------------------------------------------------------------------------


async def set_price_book(*, uow: UnitOfWork, book: PriceBook, created_by: str) -> PriceBook:
    async with uow:
        await uow.scope_to_tenant(book.tenant_id)
        repo = PriceBookRepository(uow.session)
        # Versions are numbered per tenant; the row lock on the tenant's newest version is not
        # needed because (tenant_id, version) is the primary key: a concurrent writer fails cleanly.
        version = await repo.next_version(book.tenant_id)
        from dataclasses import replace

        book = replace(book, version=version)
        await repo.add(book, created_by=created_by, now=_now())
        await uow.commit()
    return book


# --- entitlements -----------------------------------------------------------------------------


async def record_ticket_facts(*, uow: UnitOfWork, envelope: Envelope, event: Any) -> bool:
    """intake's ticket.opened: keep the warranty facts billing prices with. Extra warranty fields
    intake adds later (purchase date, card id, ...) are kept as they come in `facts`."""
    tenant = event.tenant_id
    async with uow:
        await uow.scope_to_tenant(tenant)
        if not await uow.claim("billing.ticket_facts", envelope):
            return False
        await _lock_ticket(uow, tenant, event.ticket_id)
        await TicketFactsRepository(uow.session).upsert(
            tenant_id=tenant,
            ticket_id=event.ticket_id,
            customer_id=event.customer_id,
            asset_id=event.asset_id,
            kind=event.kind,
            warranty_status=_warranty_status(event).value,
            facts=dict(envelope.data),
            opened_at=event.opened_at,
        )
        # completions that arrived first (other topic, other partition) are settled now, atomically
        await _settle_parked(uow, tenant, event.ticket_id, _now())
        await uow.commit()
    return True


def _warranty_status(event: Any) -> WarrantyStatus:
    """intake's warranty decision (v1 additive field) wins over the older flat warranty_status."""
    decision = getattr(event, "warranty", None)
    if decision is not None and getattr(decision, "status", None):
        return WarrantyStatus.parse(str(decision.status))
    return WarrantyStatus.parse(event.warranty_status)


def _status_on(facts: dict[str, Any], on: Any) -> WarrantyStatus:
    """The warranty is judged on the day the work is done: a warranty that ended before the
    completion date no longer makes the repair free."""
    status = WarrantyStatus.parse(facts.get("warranty_status"))
    decision = (facts.get("facts") or {}).get("warranty") or {}
    ends = decision.get("warranty_ends_on")
    if status == WarrantyStatus.IN_WARRANTY and ends:
        from datetime import date

        if on > date.fromisoformat(ends):
            return WarrantyStatus.OUT_OF_WARRANTY
    return status


async def add_entitlement(
    *,
    uow: UnitOfWork,
    tenant_id: str,
    customer_id: str,
    asset_id: str | None,
    kind: str,
    terms: dict[str, Any],
    valid_from: Any,
    valid_to: Any,
) -> str:
    ent_id = new_id({"contract": "ctr", "package": "pkg", "warranty_card": "wcd"}[kind])
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        await EntitlementRepository(uow.session).add(
            id=ent_id,
            tenant_id=tenant_id,
            customer_id=customer_id,
            asset_id=asset_id,
            kind=kind,
            terms=terms,
            valid_from=valid_from,
            valid_to=valid_to,
            now=_now(),
        )
        await uow.commit()
    return ent_id


async def _entitlements(
    uow: UnitOfWork,
    tenant_id: str,
    facts: dict[str, Any] | None,
    ticket_id: str,
    on: Any,
    *,
    lock: bool = False,
    approved: list[WaiverRequest] | None = None,
) -> Entitlements:
    """`approved`: the ticket's approved waivers when the caller already read them (same transaction)."""
    status = _status_on(facts, on) if facts else WarrantyStatus.UNKNOWN
    contract = package = card = None
    if facts and facts.get("customer_id"):
        contract, package, card = await EntitlementRepository(uow.session).for_customer(
            tenant_id, facts["customer_id"], facts.get("asset_id"), on, lock=lock
        )
    if approved is None:
        approved = await WaiverRepository(uow.session).approved_for_ticket(tenant_id, ticket_id)
    return Entitlements(
        warranty_status=status,
        contract=contract,
        package=package,
        warranty_card=card,
        waivers=tuple(Waiver(w.id, w.amount_minor, w.reason, w.approved_by) for w in approved),
    )


# --- quotes -----------------------------------------------------------------------------------


async def issue_quote(*, uow: UnitOfWork, cmd: c.IssueQuote) -> Quote:
    now = _now()
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        facts = await TicketFactsRepository(uow.session).get(cmd.tenant_id, cmd.ticket_id)
        if facts is None and cmd.customer_id:
            facts = {"warranty_status": "unknown", "customer_id": cmd.customer_id, "asset_id": None}
        book = await PriceBookRepository(uow.session).effective(cmd.tenant_id, now.date())
        ent = await _entitlements(uow, cmd.tenant_id, facts, cmd.ticket_id, now.date())
        charge = compute_charge(book=book, work=cmd.work, entitlements=ent, on=now.date())
        quote = Quote(
            id=new_id("quo"),
            tenant_id=cmd.tenant_id,
            ticket_id=cmd.ticket_id,
            customer_id=(facts or {}).get("customer_id") or cmd.customer_id,
            charge=charge,
            issued_at=now,
            valid_until=now + timedelta(hours=cmd.valid_hours),
        )
        await QuoteRepository(uow.session).add(quote)
        uow.emit(
            ev.QuoteIssued(
                quote_id=quote.id,
                ticket_id=quote.ticket_id,
                tenant_id=quote.tenant_id,
                customer_id=quote.customer_id,
                currency=charge.currency,
                subtotal_minor=charge.subtotal_minor,
                tax_minor=charge.tax_minor,
                total_minor=charge.total_minor,
                valid_until=quote.valid_until,
                lines=[line_summary(ln) for ln in charge.lines],
                issued_at=now,
            ),
            subject=quote.ticket_id,
            tenant=quote.tenant_id,
        )
        await uow.commit()
    return quote


async def decide_quote(*, uow: UnitOfWork, cmd: c.DecideQuote) -> Quote:
    now = _now()
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = QuoteRepository(uow.session)
        quote = await repo.get(cmd.tenant_id, cmd.quote_id, for_update=True)
        if quote is None:
            raise NotFound("quote", cmd.quote_id)
        quote.decide(
            accept=cmd.accept,
            by=cmd.recorded_by,
            channel=cmd.channel,
            signed_name=cmd.signed_name,
            at=now,
            reason=cmd.reason,
        )
        await repo.save_decision(quote)
        if cmd.accept:
            uow.emit(
                ev.QuoteAccepted(
                    quote_id=quote.id,
                    ticket_id=quote.ticket_id,
                    tenant_id=quote.tenant_id,
                    total_minor=quote.charge.total_minor,
                    currency=quote.charge.currency,
                    consent_by=cmd.recorded_by,
                    consent_channel=cmd.channel,
                    accepted_at=now,
                ),
                subject=quote.ticket_id,
                tenant=quote.tenant_id,
            )
        else:
            uow.emit(
                ev.QuoteRejected(
                    quote_id=quote.id,
                    ticket_id=quote.ticket_id,
                    tenant_id=quote.tenant_id,
                    consent_by=cmd.recorded_by,
                    consent_channel=cmd.channel,
                    reason=cmd.reason,
                    rejected_at=now,
                ),
                subject=quote.ticket_id,
                tenant=quote.tenant_id,
            )
        await uow.commit()
    return quote


# --- settlement: invoice or waiver --------------------------------------------------------------


@dataclass(frozen=True)
class Settlement:
    invoice: Invoice | None
    charge: Charge | None
    already: bool = False
    parked: str | None = None  # why the completion waits (ticket_facts | waiver_decision)


_LOCK_TICKET = text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))")


async def _lock_ticket(uow: UnitOfWork, tenant_id: str, ticket_id: str) -> None:
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
    now = _now()
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        if causation is not None and consumer and not await uow.claim(consumer, causation):
            return None
        await _lock_ticket(uow, cmd.tenant_id, cmd.ticket_id)
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
    ent = await _entitlements(uow, cmd.tenant_id, facts, cmd.ticket_id, on, lock=True, approved=approved)
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
        invoice = await _issue_invoice(
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


async def _settle_parked(uow: UnitOfWork, tenant_id: str, ticket_id: str, now: datetime) -> list[Settlement]:
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


async def _issue_invoice(
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
    now = _now()
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
        inv = await _issue_invoice(
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


# --- waivers ----------------------------------------------------------------------------------


async def request_waiver(*, uow: UnitOfWork, cmd: c.RequestWaiver) -> WaiverRequest:
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        await _lock_ticket(uow, cmd.tenant_id, cmd.ticket_id)  # ordered against a completion being priced
        book = await PriceBookRepository(uow.session).effective(cmd.tenant_id, _now().date())
        if cmd.currency != book.currency:
            from billing.domain.exceptions import CurrencyMismatch

            raise CurrencyMismatch(book.currency, cmd.currency)
        w = WaiverRequest.request(
            tenant_id=cmd.tenant_id,
            ticket_id=cmd.ticket_id,
            amount_minor=cmd.amount_minor,
            currency=cmd.currency,
            reason=cmd.reason,
            requested_by=cmd.requested_by,
            threshold_minor=book.waiver_approval_threshold_minor,
            requester_is_manager=cmd.requester_is_manager,
        )
        await WaiverRepository(uow.session).add(w, _now())
        await uow.commit()
    return w


async def decide_waiver(
    *, uow: UnitOfWork, tenant_id: str, waiver_id: str, approve: bool, by: str, is_manager: bool
) -> WaiverRequest:
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = WaiverRepository(uow.session)
        w = await repo.get(tenant_id, waiver_id)
        if w is None:
            raise NotFound("waiver", waiver_id)
        await _lock_ticket(uow, tenant_id, w.ticket_id)  # same lock order as every settlement path
        w = await repo.get(tenant_id, waiver_id, for_update=True)
        assert w is not None
        (w.approve if approve else w.reject)(by=by, is_manager=is_manager)
        await repo.save(w)
        # a completion parked for this decision is settled now, with the decision, atomically
        await _settle_parked(uow, tenant_id, w.ticket_id, _now())
        await uow.commit()
    return w


# --- payments and refunds -----------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentResult:
    payment_id: str
    receipt_number: str
    invoice: Invoice
    applied_minor: int
    credit_minor: int
    received_at: datetime


async def record_payment(*, uow: UnitOfWork, cmd: c.RecordPayment) -> PaymentResult:
    now = _now()
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = InvoiceRepository(uow.session)
        inv = await repo.get(cmd.tenant_id, cmd.invoice_id, for_update=True)
        if inv is None:
            raise NotFound("invoice", cmd.invoice_id)
        outcome = inv.pay(cmd.amount_minor, cmd.currency)
        n = await repo.payment_count(cmd.tenant_id, inv.id) + 1
        receipt = f"R-{inv.number}-{n:02d}"
        pid = new_id("pay")
        await repo.add_payment(
            id=pid,
            tenant_id=cmd.tenant_id,
            invoice_id=inv.id,
            customer_id=inv.customer_id,
            method=cmd.method,
            currency=cmd.currency,
            amount_minor=cmd.amount_minor,
            applied_minor=outcome.applied_minor,
            credit_minor=outcome.credit_minor,
            receipt_number=receipt,
            reference=cmd.reference,
            received_at=now,
        )
        if outcome.credit_minor > 0 and inv.customer_id:
            # the overpayment becomes the customer's credit, in the invoice's currency
            credits = CreditRepository(uow.session)
            credit = await credits.get_for_update(cmd.tenant_id, inv.customer_id, inv.currency, now)
            credit.add(outcome.credit_minor)
            await credits.save(
                credit,
                delta_minor=outcome.credit_minor,
                kind="overpayment",
                payment_id=pid,
                invoice_id=inv.id,
                entry_id=new_id("cre"),
                now=now,
            )
        await repo.save_amounts(inv)
        uow.emit(
            ev.PaymentReceived(
                payment_id=pid,
                invoice_id=inv.id,
                invoice_number=inv.number,
                ticket_id=inv.ticket_id,
                tenant_id=cmd.tenant_id,
                method=cmd.method,
                currency=cmd.currency,  # type: ignore[arg-type]
                amount_minor=cmd.amount_minor,
                applied_minor=outcome.applied_minor,
                credit_minor=outcome.credit_minor,
                balance_due_minor=outcome.balance_due_minor,
                receipt_number=receipt,
                received_at=now,
            ),
            subject=inv.ticket_id,
            tenant=cmd.tenant_id,
        )
        await uow.commit()
    return PaymentResult(pid, receipt, inv, outcome.applied_minor, outcome.credit_minor, now)


async def apply_credit(*, uow: UnitOfWork, cmd: c.ApplyCredit) -> PaymentResult:
    """Pay an invoice from the customer's credit: a payment of method "credit" (receipt, event),
    never more than due, never more than the balance; the balance row is locked, so concurrent
    applications queue and the balance can never go negative (also a CHECK in the table)."""
    from billing.domain.exceptions import InsufficientCredit, MoreThanDue
    from billing.domain.money import check_currency

    now = _now()
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = InvoiceRepository(uow.session)
        inv = await repo.get(cmd.tenant_id, cmd.invoice_id, for_update=True)
        if inv is None:
            raise NotFound("invoice", cmd.invoice_id)
        currency = check_currency(cmd.currency) if cmd.currency is not None else inv.currency
        if inv.customer_id is None:
            raise DomainError("the invoice has no customer whose credit could pay it")
        if currency != inv.currency:
            from billing.domain.exceptions import CurrencyMismatch

            raise CurrencyMismatch(inv.currency, currency)
        credits = CreditRepository(uow.session)
        credit = await credits.get_for_update(cmd.tenant_id, inv.customer_id, currency, now)
        amount = cmd.amount_minor
        if amount is None:
            amount = min(credit.balance_minor, inv.balance_due_minor)
            if inv.balance_due_minor == 0:
                raise MoreThanDue(f"nothing is due on invoice {inv.number}")
            if amount == 0:
                raise InsufficientCredit(f"the customer has no {currency} credit")
        outcome = inv.apply_credit(amount, currency, available_minor=credit.balance_minor)
        credit.use(amount)
        n = await repo.payment_count(cmd.tenant_id, inv.id) + 1
        receipt = f"R-{inv.number}-{n:02d}"
        pid = new_id("pay")
        await repo.add_payment(
            id=pid,
            tenant_id=cmd.tenant_id,
            invoice_id=inv.id,
            customer_id=inv.customer_id,
            method="credit",
            currency=currency,
            amount_minor=amount,
            applied_minor=amount,
            credit_minor=0,
            receipt_number=receipt,
            reference=f"credit applied by {cmd.recorded_by}"[:200],
            received_at=now,
        )
        await credits.save(
            credit,
            delta_minor=-amount,
            kind="applied",
            payment_id=pid,
            invoice_id=inv.id,
            entry_id=new_id("cre"),
            now=now,
        )
        await repo.save_amounts(inv)
        uow.emit(
            ev.PaymentReceived(
                payment_id=pid,
                invoice_id=inv.id,
                invoice_number=inv.number,
                ticket_id=inv.ticket_id,
                tenant_id=cmd.tenant_id,
                method="credit",
                currency=currency,
                amount_minor=amount,
                applied_minor=amount,
                credit_minor=0,
                balance_due_minor=outcome.balance_due_minor,
                receipt_number=receipt,
                received_at=now,
            ),
            subject=inv.ticket_id,
            tenant=cmd.tenant_id,
        )
        await uow.commit()
    return PaymentResult(pid, receipt, inv, amount, 0, now)


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    credit_note_id: str
    credit_note_number: str
    gross_minor: int
    customer_share_minor: int
    amount_minor: int
    invoice: Invoice


async def issue_refund(*, uow: UnitOfWork, cmd: c.IssueRefund, now: datetime | None = None) -> RefundResult:
    now = now or _now()
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        repo = InvoiceRepository(uow.session)
        inv = await repo.get(cmd.tenant_id, cmd.invoice_id, for_update=True)
        if inv is None:
            raise NotFound("invoice", cmd.invoice_id)
        book = await PriceBookRepository(uow.session).effective(cmd.tenant_id, inv.issued_at.date())
        out = inv.refund(
            gross_minor=cmd.amount_minor,
            return_freight_minor=cmd.return_freight_minor,
            card_fee_minor=cmd.card_fee_minor,
            now=now,
            window_days=book.return_window_days,
        )
        seq = await CounterRepository().next(uow.session, tenant_id=cmd.tenant_id, series="CN", year=now.year)
        cn_number = format_invoice_number(now.year, seq, series="CN")
        cn_id, rf_id = new_id("crn"), new_id("rfd")
        await repo.add_credit_note(
            id=cn_id,
            tenant_id=cmd.tenant_id,
            number=cn_number,
            invoice_id=inv.id,
            currency=inv.currency,
            amount_minor=out.gross_minor,
            reason=cmd.reason,
            issued_at=now,
        )
        await repo.add_refund(
            id=rf_id,
            tenant_id=cmd.tenant_id,
            invoice_id=inv.id,
            gross_minor=out.gross_minor,
            customer_share_minor=out.customer_share_minor,
            amount_minor=out.amount_minor,
            credit_note_id=cn_id,
            issued_at=now,
        )
        await repo.save_amounts(inv)
        await _emit_refund(uow, cmd, inv, out, cn_id=cn_id, cn_number=cn_number, rf_id=rf_id, now=now, causation=None)
        await uow.commit()
    return RefundResult(rf_id, cn_id, cn_number, out.gross_minor, out.customer_share_minor, out.amount_minor, inv)


async def _emit_refund(
    uow: UnitOfWork,
    cmd: c.IssueRefund,
    inv: Invoice,
    out: Any,
    *,
    cn_id: str,
    cn_number: str,
    rf_id: str,
    now: datetime,
    causation: Envelope | None,
) -> None:
    """Credit note + refund events, about the return ticket when there is one (else the invoice's)."""
    ticket = cmd.ticket_id or inv.ticket_id
    uow.emit(
        ev.CreditNoteIssued(
            credit_note_id=cn_id,
            credit_note_number=cn_number,
            invoice_id=inv.id,
            invoice_number=inv.number,
            ticket_id=ticket,
            tenant_id=cmd.tenant_id,
            currency=inv.currency,
            amount_minor=out.gross_minor,
            reason=cmd.reason,
            issued_at=now,
        ),
        subject=ticket,
        tenant=cmd.tenant_id,
        causation=causation,
    )
    uow.emit(
        ev.RefundIssued(
            refund_id=rf_id,
            invoice_id=inv.id,
            ticket_id=ticket,
            tenant_id=cmd.tenant_id,
            currency=inv.currency,
            gross_minor=out.gross_minor,
            customer_share_minor=out.customer_share_minor,
            amount_minor=out.amount_minor,
            credit_note_id=cn_id,
            issued_at=now,
        ),
        subject=ticket,
        tenant=cmd.tenant_id,
        causation=causation,
    )


# --- sales and returns (退换货) ----------------------------------------------------------------------


def sale_reference(asset_id: str) -> str:
    """A sale is keyed by the asset sold (one sale per serial): invoices.work_order_id holds it,
    so the unique (tenant, work_order_id) makes recording the same sale twice impossible."""
    return f"sale:{asset_id}"


async def record_sale(
    *, uow: UnitOfWork, tenant_id: str, customer_id: str, asset_id: str, sale_id: str, items: tuple[Any, ...]
) -> Invoice:
    """A counter sale of goods (the asset): an invoice the customer pays like any other, and the
    one a return of that asset refunds. The invoice's ticket id is the sale's own reference."""
    from billing.domain.sales import sale_charge

    now = _now()
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        if await InvoiceRepository(uow.session).id_for_work_order(tenant_id, sale_reference(asset_id)):
            from billing.domain.exceptions import AlreadySold

            raise AlreadySold(f"asset {asset_id} was sold already")
        book = await PriceBookRepository(uow.session).effective(tenant_id, now.date())
        charge = sale_charge(book=book, items=items)
        inv = await _issue_invoice(
            uow,
            tenant_id=tenant_id,
            ticket_id=sale_id,
            customer_id=customer_id,
            work_order_id=sale_reference(asset_id),
            charge=charge,
            book=book,
            now=now,
            causation=None,
        )
        await uow.commit()
    return inv


async def refund_return(
    *, uow: UnitOfWork, envelope: Envelope, ticket_id: str, shipment_id: str
) -> RefundResult | None:
    """dispatch's return.received: the returned goods reached the warehouse. Refund what was paid
    for them, minus the customer's share (the tenant's return freight and the card fee on what was
    paid by card), with a credit note, within the price book's return window; the events are about
    the return ticket. Nothing to refund (no sale of that asset recorded here, nothing paid) is
    left to an agent; an expired window is a permanent refusal (ReturnWindowClosed)."""
    from billing.domain.sales import card_fee_minor

    tenant = envelope.tenantid
    now = _now()
    async with uow:
        await uow.scope_to_tenant(tenant)
        if not await uow.claim("billing.return_received", envelope):
            return None
        facts = await TicketFactsRepository(uow.session).get(tenant, ticket_id)
        repo = InvoiceRepository(uow.session)
        invoice_id = (
            await repo.id_for_work_order(tenant, sale_reference(facts["asset_id"]))
            if facts and facts.get("asset_id")
            else None
        )
        inv = await repo.get(tenant, invoice_id, for_update=True) if invoice_id else None
        if inv is None or inv.paid_minor - inv.refunded_minor <= 0:
            await uow.commit()  # keep the inbox row: there is nothing billing can refund
            return None
        book = await PriceBookRepository(uow.session).effective(tenant, inv.issued_at.date())
        gross = inv.paid_minor - inv.refunded_minor
        freight = min(book.freight_minor, gross)
        card = min(
            card_fee_minor(book=book, card_paid_minor=await repo.paid_by_method(tenant, inv.id, "card")),
            gross - freight,
        )
        cmd = c.IssueRefund(
            tenant_id=tenant,
            invoice_id=inv.id,
            amount_minor=gross,
            return_freight_minor=freight,
            card_fee_minor=card,
            recorded_by="system:return",
            reason=f"return received at the warehouse (shipment {shipment_id})",
            ticket_id=ticket_id,
        )
        out = inv.refund(
            gross_minor=gross,
            return_freight_minor=freight,
            card_fee_minor=card,
            now=now,
            window_days=book.return_window_days,
        )
        seq = await CounterRepository().next(uow.session, tenant_id=tenant, series="CN", year=now.year)
        cn_number = format_invoice_number(now.year, seq, series="CN")
        cn_id, rf_id = new_id("crn"), new_id("rfd")
        await repo.add_credit_note(
            id=cn_id,
            tenant_id=tenant,
            number=cn_number,
            invoice_id=inv.id,
            currency=inv.currency,
            amount_minor=out.gross_minor,
            reason=cmd.reason,
            issued_at=now,
        )
        await repo.add_refund(
            id=rf_id,
            tenant_id=tenant,
            invoice_id=inv.id,
            gross_minor=out.gross_minor,
            customer_share_minor=out.customer_share_minor,
            amount_minor=out.amount_minor,
            credit_note_id=cn_id,
            issued_at=now,
        )
        await repo.save_amounts(inv)
        await _emit_refund(
            uow, cmd, inv, out, cn_id=cn_id, cn_number=cn_number, rf_id=rf_id, now=now, causation=envelope
        )
        await uow.commit()
    return RefundResult(rf_id, cn_id, cn_number, out.gross_minor, out.customer_share_minor, out.amount_minor, inv)
