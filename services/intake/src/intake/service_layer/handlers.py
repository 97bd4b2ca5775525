"""Use cases: load, ask the domain, save with the events in one unit of work.

Timers: after a commit, clocks whose next check changed are (re)scheduled in Redis; the rows in
sla_clocks stay the durable copy (the loop re-seeds from them), so a lost schedule only delays.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fixflow_shared.consumer import each_traced
from fixflow_shared.events import Envelope
from fixflow_shared.events.contracts import intake as ev
from fixflow_shared.logs import get_logger
from fixflow_shared.timers import DueTimerWheel
from fixflow_shared.tracing import continue_trace, current_trace_headers
from fixflow_shared.uow import UnitOfWork
from intake.adapters.repository import (
    ClockRepository,
    DirectoryRepository,
    SettingsRepository,
    TicketRepository,
    TimelineRepository,
)
from intake.domain import triage as triage_rules
from intake.domain import warranty
from intake.domain.commands import OpenTicket
from intake.domain.duplicates import find_duplicate
from intake.domain.exceptions import IllegalTransition, NotFound, RuleViolation, UnknownReference
from intake.domain.model import CLOCK_RUNNING_STATES, Ticket, TicketStatus, external_moves, new_id, new_ticket_id
from intake.domain.policy import TenantPolicy, missing_facts
from intake.domain.sla import SlaClock

S = TicketStatus
log = get_logger(__name__)


class PolicyStore:
    """Tenant policies, cached briefly in process (they change rarely)."""

    def __init__(self, ttl_s: float = 30.0) -> None:
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, TenantPolicy]] = {}

    async def get(self, session: AsyncSession, tenant_id: str) -> TenantPolicy:
        hit = self._cache.get(tenant_id)
        if hit and _time.monotonic() - hit[0] < self.ttl_s:
            return hit[1]
        cfg = await SettingsRepository(session).get(tenant_id)
        policy = TenantPolicy.from_config(cfg)
        self._cache[tenant_id] = (_time.monotonic(), policy)
        return policy

    def invalidate(self, tenant_id: str) -> None:
        self._cache.pop(tenant_id, None)


@dataclass
class Deps:
    policies: PolicyStore
    timers: DueTimerWheel | None = None


async def _schedule(deps: Deps, items: Iterable[tuple[str, datetime]]) -> None:
    items = list(items)
    if deps.timers is not None and items:
        try:
            await deps.timers.schedule_many(items)
        except Exception as exc:  # the re-seed from the database catches up
            log.warning("could not schedule SLA timers", error=repr(exc))


# --- SLA clocks -----------------------------------------------------------------------------------


class Clocks:
    """The clocks of one ticket inside a unit of work.

    Clock rows are read once (locked) and changed in memory; new and changed rows are written in one
    batch each just before the unit of work commits, instead of a SELECT and an UPDATE per step
    (opening a ticket that waits for the customer starts and pauses three clocks: one INSERT now).
    """

    def __init__(self, uow: UnitOfWork, policy: TenantPolicy, ticket: Ticket, *, new_ticket: bool = False) -> None:
        self.repo = ClockRepository(uow.session)
        self.policy = policy
        self.cal = policy.calendar
        self.ticket = ticket
        self.scheduled: list[tuple[str, datetime]] = []
        self.deadlines: dict[str, datetime] = {}
        # a ticket opened in this unit of work has no clock rows yet: nothing to read
        self._rows: list[dict[str, Any]] | None = [] if new_ticket else None
        self._new: dict[str, dict[str, Any]] = {}
        self._changed: dict[str, dict[str, Any]] = {}
        uow.before_commit(self.flush)

    def _cid(self, name: str) -> str:
        return f"{self.ticket.id}:{name}:{self.ticket.round}"

    async def _current(self) -> list[dict[str, Any]]:
        if self._rows is None:
            self._rows = await self.repo.for_ticket(self.ticket.tenant_id, self.ticket.id, for_update=True)
        return self._rows

    async def start(self, names: Iterable[str], now: datetime, *, paused: bool = False) -> None:
        rows = await self._current()
        known = {r["id"] for r in rows}
        in_province = (self.ticket.site or {}).get("in_province")
        for name in names:
            clock = SlaClock(
                name,
                self.policy.sla.target(name, priority=self.ticket.priority, in_province=in_province),
                now,
                at_risk_share=self.policy.sla.at_risk_share,
            )
            due = clock.due_at(self.cal)
            self.deadlines[name] = due
            if paused:
                clock.pause(now)
            nxt = clock.next_check(self.cal)
            cid = self._cid(name)
            if cid in known:  # started already in this round: the stored clock stands
                continue
            row = ClockRepository.new_row(
                clock_id=cid,
                tenant_id=self.ticket.tenant_id,
                ticket_id=self.ticket.id,
                round_=self.ticket.round,
                kind=self.ticket.kind,
                priority=self.ticket.priority,
                clock=clock,
                due_at=due,
                next_check=nxt,
                trace_headers=self.ticket.trace_headers,
            )
            rows.append(row)
            self._new[cid] = row
            if nxt:
                self.scheduled.append((cid, nxt))

    def _set(self, row: dict[str, Any], state: dict[str, Any]) -> None:
        row.update(state)
        if row["id"] not in self._new:
            self._changed[row["id"]] = row

    async def change(
        self,
        now: datetime,
        *,
        pause: bool = False,
        resume: bool = False,
        stop: Iterable[str] = (),
        stop_all: bool = False,
        void: bool = False,
    ) -> dict[str, bool | None]:
        """Pause/resume/stop; returns {clock name: met} for clocks stopped now."""
        stop = set(stop)
        result: dict[str, bool | None] = {}
        for row in await self._current():
            if row["stopped_at"] is not None:
                continue
            clock = ClockRepository.to_domain(row)
            if stop_all or row["name"] in stop:
                clock.stop(self.cal, now)
                met = None if void else clock.met(self.cal)
                result[row["name"]] = met
                self._set(row, ClockRepository.state(clock, row["due_at"], None, met))
                continue
            if pause:
                clock.pause(now)
            if resume:
                clock.resume(self.cal, now)
            nxt = clock.next_check(self.cal)
            due = clock.due_at(self.cal)
            self.deadlines[row["name"]] = due
            self._set(row, ClockRepository.state(clock, due, nxt, None))
            if nxt:
                self.scheduled.append((row["id"], nxt))
        return result

    async def flush(self) -> None:
        await self.repo.add_many(list(self._new.values()))
        await self.repo.update_many(list(self._changed.values()))
        self._new.clear()
        self._changed.clear()

    def sla(self) -> ev.SlaDeadlines:
        d = self.deadlines
        return ev.SlaDeadlines(
            first_response_due=d.get("first_response") or d.get("complaint_contact"),
            on_site_arrival_due=d.get("on_site_arrival"),
            resolution_due=d.get("resolution") or d.get("complaint_fix"),
        )


# --- transitions ----------------------------------------------------------------------------------


def _window(t: Ticket) -> ev.TimeWindow | None:
    return ev.TimeWindow(**t.requested_window) if t.requested_window else None


def _site(t: Ticket) -> ev.Site | None:
    return ev.Site(**t.site) if t.site else None


def _triaged_event(t: Ticket, clocks: Clocks, now: datetime, by: str) -> ev.TicketTriaged:
    tri = triage_rules.triage(
        kind=t.kind,
        symptom=t.symptom,
        grade=t.customer_grade,
        severity=t.severity,
        urgency=t.urgency,
        rules=clocks.policy.triage,
        kb=clocks.policy.knowledge_base,
    )
    skills = list(tri.required_skills) if t.path == "on_site" else []
    if t.path == "on_site" and not skills:
        skills = list(triage_rules.CATEGORY_SKILLS.get(t.category or "", ("general_repair",)))
    return ev.TicketTriaged(
        ticket_id=t.id,
        tenant_id=t.tenant_id,
        kind=t.kind,
        customer_id=t.customer_id,  # type: ignore[arg-type]
        customer_grade=t.customer_grade,
        asset_id=t.asset_id,
        product_model=t.product_model,
        category=t.category or tri.category,
        priority=t.priority or tri.priority,
        path=t.path or tri.path,  # type: ignore[arg-type]
        required_skills=skills,
        estimated_minutes=tri.estimated_minutes,
        suggested_fix=t.suggested_fix,
        warranty_status=(t.warranty or {}).get("status"),
        requested_window=_window(t),
        site=_site(t),
        sla=clocks.sla(),
        round=t.round,
        triaged_by=by,
        triaged_at=now,  # type: ignore[arg-type]
    )


async def transition(
    uow: UnitOfWork,
    t: Ticket,
    target: S,
    *,
    now: datetime,
    clocks: Clocks,
    causation: Envelope | None = None,
    reason: str = "",
    cause: str = "agent",
    resolution: str = "agent",
    triaged_by: str = "rules",
) -> None:
    """Move the ticket, keep its SLA clocks in step, and emit intake's event for the new state."""
    before = t.status
    t.move_to(target, at=now)
    emit: list[Any] = []
    if target is S.WAITING_CUSTOMER:
        await clocks.change(now, pause=True)
        emit.append(
            ev.TicketWaitingCustomer(
                ticket_id=t.id,
                tenant_id=t.tenant_id,
                missing_facts=t.missing_facts,
                contact_email=t.contact_email,
                contact_phone=t.contact_phone,
                locale=t.locale,
                since=now,
            )
        )
    elif before is S.WAITING_CUSTOMER and target in CLOCK_RUNNING_STATES:
        await clocks.change(now, resume=True)
    if target is S.TRIAGED:
        emit.append(_triaged_event(t, clocks, now, triaged_by))
    elif target is S.SCHEDULED:
        await clocks.change(now, stop=("first_response",))
        t.first_response_at = t.first_response_at or now
    elif target is S.IN_PROGRESS:
        await clocks.change(now, stop=("first_response", "on_site_arrival"))
    elif target is S.RESOLVED:
        met = await clocks.change(now, stop_all=True)
        t.first_response_at = t.first_response_at or now
        emit.append(
            ev.TicketResolved(
                ticket_id=t.id,
                tenant_id=t.tenant_id,
                kind=t.kind,
                customer_id=t.customer_id,  # type: ignore[arg-type]
                customer_grade=t.customer_grade,
                asset_id=t.asset_id,
                priority=t.priority,
                path=t.path,  # type: ignore[arg-type]
                resolution=resolution,
                technician_id=t.technician_id,
                major=t.priority in ("P1", "P2") or t.kind == "complaint",
                resolution_on_time=met.get("resolution", met.get("complaint_fix")),
                contact_email=t.contact_email,
                contact_phone=t.contact_phone,
                locale=t.locale,
                resolved_at=now,
            )
        )
    elif target is S.CLOSED:
        emit.append(ev.TicketClosed(ticket_id=t.id, tenant_id=t.tenant_id, reason=reason or "agent", closed_at=now))
    elif target is S.CANCELLED:
        await clocks.change(now, stop_all=True, void=True)
        emit.append(
            ev.TicketCancelled(ticket_id=t.id, tenant_id=t.tenant_id, reason=reason or "cancelled", cancelled_at=now)
        )
    elif target is S.REOPENED:
        emit.append(
            ev.TicketReopened(
                ticket_id=t.id,
                tenant_id=t.tenant_id,
                reason=reason or "reopened",
                cause=cause,
                round=t.round,
                reopened_at=now,
            )
        )  # type: ignore[arg-type]
        await clocks.start(("resolution",) if t.kind != "complaint" else ("complaint_fix",), now)
    for e in emit:
        uow.emit(e, subject=t.id, tenant=t.tenant_id, causation=causation)
    if target is S.REOPENED:
        # a reopened ticket is triaged again at once, so dispatch can plan the next visit
        await transition(uow, t, S.TRIAGED, now=now, clocks=clocks, causation=causation)


# --- directory ------------------------------------------------------------------------------------


async def create_customer(*, uow: UnitOfWork, tenant_id: str, data: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC)
    addresses = [
        {"id": a.get("id") or new_id("ADR"), **{k: v for k, v in a.items() if k != "id"}}
        for a in data.pop("addresses", [])
    ]
    values = {"id": new_id("C"), "tenant_id": tenant_id, "addresses": addresses, "created_at": now, **data}
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        await DirectoryRepository(uow.session).add_customer(values)
        await uow.commit()
    return values


async def create_product(*, uow: UnitOfWork, tenant_id: str, data: dict[str, Any]) -> dict[str, Any]:
    values = {"id": new_id("P"), "tenant_id": tenant_id, "created_at": datetime.now(UTC), **data}
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = DirectoryRepository(uow.session)
        if await repo.product_by_model(tenant_id, data["model"]):
            raise RuleViolation(f"product model {data['model']} already exists")
        await repo.add_product(values)
        await uow.commit()
    return values


async def create_asset(*, uow: UnitOfWork, tenant_id: str, data: dict[str, Any]) -> dict[str, Any]:
    values = {"id": new_id("A"), "tenant_id": tenant_id, "created_at": datetime.now(UTC), **data}
    async with uow:
        await uow.scope_to_tenant(tenant_id)
        repo = DirectoryRepository(uow.session)
        if not await repo.customer(tenant_id, data["customer_id"]):
            raise UnknownReference("customer", data["customer_id"])
        if not await repo.product(tenant_id, data["product_id"]):
            raise UnknownReference("product", data["product_id"])
        if data.get("purchase_date") and data["purchase_date"] > date.today() + timedelta(days=1):
            raise RuleViolation("purchase_date lies in the future")
        await repo.add_asset(values)
        await uow.commit()
    return values


async def put_settings(*, uow: UnitOfWork, deps: Deps, tenant_id: str, config: dict[str, Any]) -> None:
    try:
        TenantPolicy.from_config(config)
    except (ValueError, KeyError, TypeError) as exc:
        raise RuleViolation(f"invalid settings: {exc}") from exc
    async with uow:
        await SettingsRepository(uow.session).put(tenant_id, config)
        await uow.commit()
    deps.policies.invalidate(tenant_id)


# --- tickets --------------------------------------------------------------------------------------


@dataclass
class Opened:
    ticket: Ticket
    duplicate: bool = False


def _product_terms(product: dict[str, Any] | None) -> warranty.ProductTerms | None:
    if not product:
        return None
    return warranty.ProductTerms(
        warranty_months=product["warranty_months"],
        return_window_days=product["return_window_days"],
        non_returnable=frozenset(product["non_returnable"] or ()),
    )


def _asset_terms(asset: dict[str, Any] | None) -> warranty.AssetTerms | None:
    if not asset:
        return None
    return warranty.AssetTerms(
        purchase_date=asset["purchase_date"],
        card_warranty_months=asset["card_warranty_months"],
        card_warranty_ends_on=asset["card_warranty_ends_on"],
    )


def _pick_site(customer: dict[str, Any] | None, address_id: str | None) -> dict[str, Any] | None:
    addresses = (customer or {}).get("addresses") or []
    if address_id:
        for a in addresses:
            if a["id"] == address_id:
                break
        else:
            raise UnknownReference("address", address_id)
    elif addresses:
        a = addresses[0]
    else:
        return None
    return {
        "address_id": a["id"],
        "region": a.get("region"),
        "in_province": a.get("in_province"),
        "lat": a.get("lat"),
        "lon": a.get("lon"),
    }


async def open_ticket(
    *, uow: UnitOfWork, cmd: OpenTicket, deps: Deps | None = None, causation: Envelope | None = None
) -> Opened:
    deps = deps or Deps(PolicyStore())
    now = datetime.now(UTC)
    async with uow:
        await uow.scope_to_tenant(cmd.tenant_id)
        result = await _open_in_uow(uow, cmd, deps, now, causation)
        await uow.commit()
    await _schedule(deps, result[1])
    return result[0]


async def _open_in_uow(
    uow: UnitOfWork, cmd: OpenTicket, deps: Deps, now: datetime, causation: Envelope | None
) -> tuple[Opened, list[tuple[str, datetime]]]:
    session, tenant = uow.session, cmd.tenant_id
    policy = await deps.policies.get(session, tenant)
    d, tickets = DirectoryRepository(session), TicketRepository(session)
    customer = asset = product = None
    if cmd.customer_id:
        customer = await d.customer(tenant, cmd.customer_id)
        if customer is None:
            raise UnknownReference("customer", cmd.customer_id)
    if cmd.asset_id:
        asset = await d.asset(tenant, cmd.asset_id)
        if asset is None:
            raise UnknownReference("asset", cmd.asset_id)
        if customer and asset["customer_id"] != customer["id"]:
            raise RuleViolation(f"asset {cmd.asset_id} does not belong to customer {cmd.customer_id}")
        customer = customer or await d.customer(tenant, asset["customer_id"])
        product = await d.product(tenant, asset["product_id"])
    if cmd.product_id and product is None:
        product = await d.product(tenant, cmd.product_id)
        if product is None:
            raise UnknownReference("product", cmd.product_id)
    if product is None and cmd.product_model:
        product = await d.product_by_model(tenant, cmd.product_model)
    if cmd.original_ticket_id and await tickets.get(tenant, cmd.original_ticket_id) is None:
        raise UnknownReference("ticket", cmd.original_ticket_id)
    if cmd.purchase_date and cmd.purchase_date > policy.calendar.local_date(now):
        raise RuleViolation("purchase_date lies in the future")
    if cmd.requested_window and cmd.requested_window[1] <= cmd.requested_window[0]:
        raise RuleViolation("requested window ends before it starts")

    contact_phone = cmd.contact_phone or (customer or {}).get("phone")
    contact_email = cmd.contact_email or (customer or {}).get("email")
    asset_id = asset["id"] if asset else None

    if cmd.check_duplicates and cmd.kind not in ("complaint", "consultation") and (asset_id or contact_phone):
        cands = await tickets.duplicate_candidates(
            tenant, asset_id=asset_id, contact_phone=contact_phone, since=now - policy.duplicate_window
        )
        dup = find_duplicate(
            cands,
            symptom=cmd.symptom,
            asset_id=asset_id,
            contact_phone=contact_phone,
            now=now,
            window=policy.duplicate_window,
            threshold=policy.duplicate_threshold,
        )
        if dup:
            existing = await tickets.get(tenant, dup, for_update=True)
            if existing is not None:
                existing.duplicate_count += 1
                existing.updated_at = now
                await tickets.save(existing)
                await tickets.add_note(
                    tenant_id=tenant,
                    ticket_id=existing.id,
                    author=f"channel:{cmd.channel}",
                    kind="duplicate",
                    body=f"Same request received again: {cmd.symptom[:1000]}",
                    at=now,
                )
                return Opened(existing, duplicate=True), []

    today = policy.calendar.local_date(now)
    decision = warranty.determine(
        kind=cmd.kind,
        today=today,
        product=_product_terms(product),
        asset=_asset_terms(asset),
        purchase_date=cmd.purchase_date,
    )
    site = _pick_site(customer, cmd.address_id)
    grade = (customer or {}).get("grade")
    tri = triage_rules.triage(
        kind=cmd.kind,
        symptom=cmd.symptom,
        grade=grade,
        severity=cmd.severity,
        urgency=cmd.urgency,
        rules=policy.triage,
        kb=policy.knowledge_base,
    )
    product_model = (product or {}).get("model") or cmd.product_model
    missing = missing_facts(
        kind=cmd.kind,
        has_model=bool(product_model),
        has_purchase_date=decision.purchase_date is not None,
        has_site=site is not None,
        has_contact=bool(contact_phone or contact_email or customer),
        path=tri.path,
    )
    window = (
        {"start": cmd.requested_window[0].isoformat(), "end": cmd.requested_window[1].isoformat()}
        if cmd.requested_window
        else None
    )
    t = Ticket(
        id=new_ticket_id(),
        tenant_id=tenant,
        kind=cmd.kind,
        channel=cmd.channel,
        symptom=cmd.symptom,
        opened_at=now,
        updated_at=now,
        customer_name=cmd.customer_name or (customer or {}).get("name"),
        contact_email=contact_email,
        contact_phone=contact_phone,
        locale=cmd.locale,
        customer_id=(customer or {}).get("id"),
        asset_id=asset_id,
        product_id=(product or {}).get("id"),
        product_model=product_model,
        serial=(asset or {}).get("serial") or cmd.serial,
        purchase_date=decision.purchase_date,
        customer_grade=grade,
        priority=tri.priority,
        category=tri.category,
        path=tri.path,
        severity=tri.severity,
        urgency=tri.urgency,
        suggested_fix=tri.suggested_fix,
        warranty=decision.as_dict(),
        missing_facts=missing,
        requested_window=window,
        site=site,
        attachments=list(cmd.attachments),
        complaint_level=cmd.complaint_level,
        original_ticket_id=cmd.original_ticket_id,
        compensation_requested=cmd.compensation_requested,
        compensation_amount_minor=cmd.compensation_amount_minor,
        trace_headers=current_trace_headers() or None,
    )
    clocks = Clocks(uow, policy, t, new_ticket=True)
    await clocks.start(policy.sla.clocks_for(kind=t.kind, path=t.path), now)
    if t.kind == "complaint":
        await clocks.change(now, stop=("complaint_record",))  # recorded now, by this request
    uow.emit(
        ev.TicketOpened(
            ticket_id=t.id,
            tenant_id=tenant,
            customer_id=t.customer_id,
            asset_id=t.asset_id,
            kind=t.kind,  # type: ignore[arg-type]
            channel=t.channel,
            symptom=t.symptom,
            priority=t.priority,
            warranty_status=decision.status,  # type: ignore[arg-type]
            opened_at=now,
            contact_email=t.contact_email,
            contact_phone=t.contact_phone,
            locale=t.locale,
            warranty=ev.WarrantyDecision(**decision.as_dict()),
            customer_grade=grade,
            product_id=t.product_id,  # type: ignore[arg-type]
            product_model=t.product_model,
            serial=t.serial,
            category=t.category,
            path=t.path,  # type: ignore[arg-type]
            requested_window=_window(t),
            site=_site(t),
            missing_facts=missing,
            complaint_level=t.complaint_level,
            original_ticket_id=t.original_ticket_id,
            sla=clocks.sla(),
        ),
        subject=t.id,
        tenant=tenant,
        causation=causation,
    )
    if t.kind == "complaint":
        level = t.complaint_level or 1
        serious = level >= 3 or t.compensation_requested
        uow.emit(
            ev.ComplaintOpened(
                ticket_id=t.id,
                tenant_id=tenant,
                original_ticket_id=t.original_ticket_id,
                customer_id=t.customer_id,
                level=level,
                compensation_requested=t.compensation_requested,
                compensation_amount_minor=t.compensation_amount_minor,
                escalated_to="manager" if serious else None,
                record_due=now,
                contact_due=clocks.deadlines.get("complaint_contact"),
                fix_due=clocks.deadlines.get("complaint_fix"),
                source=cmd.source,
                opened_at=now,  # type: ignore[arg-type]
            ),
            subject=t.id,
            tenant=tenant,
            causation=causation,
        )
        if serious:
            uow.emit(
                ev.ComplaintEscalated(
                    ticket_id=t.id,
                    tenant_id=tenant,
                    from_level=level,
                    level=level,
                    to_role="manager",
                    reason="compensation requested" if t.compensation_requested else f"level {level} complaint",
                    respond_by=policy.calendar.add_working_days(now, 2),
                    compensation_needs_approval=t.compensation_requested,
                    escalated_at=now,
                ),
                subject=t.id,
                tenant=tenant,
                causation=causation,
            )
    if missing:
        await transition(uow, t, S.WAITING_CUSTOMER, now=now, clocks=clocks, causation=causation)
    else:
        await transition(uow, t, S.TRIAGED, now=now, clocks=clocks, causation=causation)
    await tickets.add(t)  # in its final state: the clocks (written at commit) refer to it
    return Opened(t), clocks.scheduled


async def _load(uow: UnitOfWork, deps: Deps, tenant_id: str, ticket_id: str) -> tuple[Ticket, Clocks]:
    await uow.scope_to_tenant(tenant_id)
    t = await TicketRepository(uow.session).get(tenant_id, ticket_id, for_update=True)
    if t is None:
        raise NotFound("ticket", ticket_id)
    policy = await deps.policies.get(uow.session, tenant_id)
    return t, Clocks(uow, policy, t)


async def _finish(uow: UnitOfWork, deps: Deps, t: Ticket, clocks: Clocks) -> Ticket:
    await TicketRepository(uow.session).save(t)
    await uow.commit()
    await _schedule(deps, clocks.scheduled)
    return t


async def move(
    *, uow: UnitOfWork, deps: Deps, tenant_id: str, ticket_id: str, target: S, reason: str = "", author: str = "agent"
) -> Ticket:
    """cancel / close / reopen / resolve from the API (409 when illegal)."""
    now = datetime.now(UTC)
    async with uow:
        t, clocks = await _load(uow, deps, tenant_id, ticket_id)
        if target is S.RESOLVED and t.status is S.REOPENED:
            await transition(uow, t, S.TRIAGED, now=now, clocks=clocks)
        if not t.can_move_to(target):
            raise IllegalTransition(t.status, target, allowed=t.allowed_moves)
        await transition(
            uow,
            t,
            target,
            now=now,
            clocks=clocks,
            reason=reason,
            cause="agent",
            resolution="remote_fix" if t.path == "remote" else "agent",
        )
        if reason:
            await TicketRepository(uow.session).add_note(
                tenant_id=tenant_id, ticket_id=t.id, author=author, kind=target.value, body=reason, at=now
            )
        return await _finish(uow, deps, t, clocks)


async def retriage(
    *,
    uow: UnitOfWork,
    deps: Deps,
    tenant_id: str,
    ticket_id: str,
    priority: str | None,
    path: str | None,
    category: str | None,
) -> Ticket:
    now = datetime.now(UTC)
    async with uow:
        t, clocks = await _load(uow, deps, tenant_id, ticket_id)
        if t.status not in (S.RECEIVED, S.TRIAGED, S.REOPENED):
            raise IllegalTransition(t.status, S.TRIAGED)
        if priority:
            t.priority = priority
        if path:
            t.path = path
        if category:
            t.category = category
        await clocks.change(now, stop=("first_response",))
        t.first_response_at = t.first_response_at or now
        if t.status is S.TRIAGED:
            t.updated_at = now
            uow.emit(_triaged_event(t, clocks, now, "agent"), subject=t.id, tenant=t.tenant_id)
        else:
            await transition(uow, t, S.TRIAGED, now=now, clocks=clocks, triaged_by="agent")
        return await _finish(uow, deps, t, clocks)


async def supply_facts(*, uow: UnitOfWork, deps: Deps, tenant_id: str, ticket_id: str, facts: dict[str, Any]) -> Ticket:
    now = datetime.now(UTC)
    async with uow:
        t, clocks = await _load(uow, deps, tenant_id, ticket_id)
        if t.status is not S.WAITING_CUSTOMER:
            raise IllegalTransition(t.status, "facts supplied")
        d = DirectoryRepository(uow.session)
        customer = await d.customer(tenant_id, t.customer_id) if t.customer_id else None
        product = await d.product(tenant_id, t.product_id) if t.product_id else None
        asset = None
        if facts.get("asset_id"):
            asset = await d.asset(tenant_id, facts["asset_id"])
            if asset is None:
                raise UnknownReference("asset", facts["asset_id"])
            t.asset_id, t.serial = asset["id"], asset["serial"]
            product = await d.product(tenant_id, asset["product_id"])
            customer = customer or await d.customer(tenant_id, asset["customer_id"])
            t.customer_id = t.customer_id or asset["customer_id"]
        if facts.get("product_model"):
            t.product_model = facts["product_model"]
            product = product or await d.product_by_model(tenant_id, facts["product_model"])
        if product:
            t.product_id, t.product_model = product["id"], product["model"]
        if facts.get("purchase_date"):
            if facts["purchase_date"] > clocks.cal.local_date(now):
                raise RuleViolation("purchase_date lies in the future")
            t.purchase_date = facts["purchase_date"]
        for k in ("contact_phone", "contact_email"):
            if facts.get(k):
                setattr(t, k, facts[k])
        if facts.get("address_id"):
            t.site = _pick_site(customer, facts["address_id"])
        elif t.site is None and customer:
            t.site = _pick_site(customer, None)
        decision = warranty.determine(
            kind=t.kind,
            today=clocks.cal.local_date(now),
            product=_product_terms(product),
            asset=_asset_terms(asset),
            purchase_date=t.purchase_date,
        )  # type: ignore[arg-type]
        t.warranty = decision.as_dict()
        t.missing_facts = missing_facts(
            kind=t.kind,
            has_model=bool(t.product_model),
            has_purchase_date=decision.purchase_date is not None,
            has_site=t.site is not None,
            has_contact=bool(t.contact_phone or t.contact_email or t.customer_id),
            path=t.path,
        )
        if t.missing_facts:
            t.updated_at = now  # still waiting: tell the customer what is left
            uow.emit(
                ev.TicketWaitingCustomer(
                    ticket_id=t.id,
                    tenant_id=t.tenant_id,
                    missing_facts=t.missing_facts,
                    contact_email=t.contact_email,
                    contact_phone=t.contact_phone,
                    locale=t.locale,
                    since=now,
                ),
                subject=t.id,
                tenant=t.tenant_id,
            )
        else:
            target = t.resume_target()
            await transition(uow, t, target, now=now, clocks=clocks)
            if target is S.RECEIVED:
                await transition(uow, t, S.TRIAGED, now=now, clocks=clocks)
        return await _finish(uow, deps, t, clocks)


async def add_note(
    *, uow: UnitOfWork, deps: Deps, tenant_id: str, ticket_id: str, author: str, kind: str, body: str
) -> int:
    now = datetime.now(UTC)
    async with uow:
        t, clocks = await _load(uow, deps, tenant_id, ticket_id)
        note_id = await TicketRepository(uow.session).add_note(
            tenant_id=tenant_id, ticket_id=t.id, author=author, kind=kind, body=body, at=now
        )
        if kind == "contact":  # the customer was reached: response clocks stop
            await clocks.change(now, stop=("first_response", "complaint_contact"))
            t.first_response_at = t.first_response_at or now
        t.updated_at = now
        await _finish(uow, deps, t, clocks)
    return note_id


async def escalate_complaint(
    *,
    uow: UnitOfWork,
    deps: Deps,
    tenant_id: str,
    ticket_id: str,
    level: int | None,
    reason: str,
    causation: Envelope | None = None,
) -> Ticket:
    now = datetime.now(UTC)
    async with uow:
        t, clocks = await _load(uow, deps, tenant_id, ticket_id)
        await _escalate(uow, t, clocks, now, level, reason, causation)
        return await _finish(uow, deps, t, clocks)


async def _escalate(
    uow: UnitOfWork,
    t: Ticket,
    clocks: Clocks,
    now: datetime,
    level: int | None,
    reason: str,
    causation: Envelope | None,
) -> None:
    if t.kind != "complaint":
        raise RuleViolation("only complaints escalate")
    if t.status in (S.CLOSED, S.CANCELLED):
        raise IllegalTransition(t.status, "escalated")
    current = t.complaint_level or 1
    new = level if level is not None else min(4, current + 1)
    if new <= current and level is not None:
        raise RuleViolation(f"complaint is already at level {current}")
    t.complaint_level = new
    t.updated_at = now
    uow.emit(
        ev.ComplaintEscalated(
            ticket_id=t.id,
            tenant_id=t.tenant_id,
            from_level=current,
            level=new,
            to_role="manager",
            reason=reason,
            respond_by=clocks.cal.add_working_days(now, 2),
            compensation_needs_approval=t.compensation_requested and t.compensation_approved is None,
            escalated_at=now,
        ),
        subject=t.id,
        tenant=t.tenant_id,
        causation=causation,
    )


async def decide_compensation(
    *, uow: UnitOfWork, deps: Deps, tenant_id: str, ticket_id: str, approved: bool, author: str
) -> Ticket:
    now = datetime.now(UTC)
    async with uow:
        t, clocks = await _load(uow, deps, tenant_id, ticket_id)
        if not t.compensation_requested:
            raise RuleViolation("no compensation was requested")
        if t.compensation_approved is not None:
            raise IllegalTransition("compensation decided", "decided again")
        t.compensation_approved = approved
        t.updated_at = now
        await TicketRepository(uow.session).add_note(
            tenant_id=tenant_id,
            ticket_id=t.id,
            author=author,
            kind="compensation",
            body="approved" if approved else "rejected",
            at=now,
        )
        return await _finish(uow, deps, t, clocks)


# --- events from other services -------------------------------------------------------------------


async def apply_event(*, uow: UnitOfWork, deps: Deps, envelope: Envelope, payload: Any) -> None:
    """Record every event about a ticket on its timeline and move the ticket where it applies
    (one event, already inside its consumer span)."""
    await _apply(uow, deps, [(envelope, payload)], each=iter)


async def apply_events(*, uow: UnitOfWork, deps: Deps, batch: list[tuple[Envelope, Any]]) -> None:
    """`apply_event` for a batch in one transaction, each event in its own consumer span."""
    await _apply(uow, deps, batch, each=each_traced)


def _ticket_of(envelope: Envelope, payload: Any) -> str | None:
    return getattr(payload, "ticket_id", None) or envelope.correlationid


async def _apply(
    uow: UnitOfWork,
    deps: Deps,
    batch: list[tuple[Envelope, Any]],
    each: Callable[[list[tuple[Envelope, Any]]], Iterable[tuple[Envelope, Any]]],
) -> None:
    """One inbox statement, one timeline insert per tenant, then the moves of each ticket in the
    order the events came."""
    items = [(e, p, ticket_id) for e, p in batch if (ticket_id := _ticket_of(e, p))]
    if not items:
        return
    now = datetime.now(UTC)
    scheduled: list[tuple[str, datetime]] = []
    async with uow:
        fresh = await uow.claim_many("intake.apply", [e for e, _, _ in items])
        by_tenant: dict[str, list[tuple[Envelope, Any, str]]] = {}
        for item in items:
            if item[0].id in fresh:
                by_tenant.setdefault(item[0].tenantid, []).append(item)
        for tenant, group in by_tenant.items():
            await uow.scope_to_tenant(tenant)
            await TimelineRepository(uow.session).record_many(
                [
                    dict(
                        event_id=e.id,
                        tenant_id=tenant,
                        ticket_id=ticket_id,
                        type=e.type,
                        source=e.source,
                        time=e.time,
                        data=e.data,
                    )
                    for e, _, ticket_id in group
                ]
            )
            ticket_of = {e.id: ticket_id for e, _, ticket_id in group}
            moving = [(e, p) for e, p, _ in group if e.source != "/fixflow/intake"]
            for envelope, payload in each(moving):
                t = await TicketRepository(uow.session).get(tenant, ticket_of[envelope.id], for_update=True)
                if t is not None:
                    scheduled += await _apply_to_ticket(uow, deps, t, envelope, payload, now)
        await uow.commit()
    await _schedule(deps, scheduled)


def _repair_did_not_hold(reasons: Iterable[str]) -> bool:
    """A dissatisfaction with the effectiveness of the work (not only attitude or timeliness)."""
    return any(r.startswith("score:effectiveness") for r in reasons)


async def _apply_to_ticket(
    uow: UnitOfWork, deps: Deps, t: Ticket, envelope: Envelope, payload: Any, now: datetime
) -> list[tuple[str, datetime]]:
    policy = await deps.policies.get(uow.session, t.tenant_id)
    clocks = Clocks(uow, policy, t)
    et = envelope.type
    if tech := getattr(payload, "technician_id", None):
        if et.startswith("fixflow.dispatch.") and et != "fixflow.dispatch.technician.unassigned.v1":
            t.technician_id = tech
    if et == "fixflow.survey.dissatisfaction.reported.v1" and payload.suggested_action == "complaint":
        cmd = OpenTicket(
            tenant_id=t.tenant_id,
            kind="complaint",
            channel=t.channel,
            symptom=(payload.comment or "; ".join(payload.reasons))[:4000],  # type: ignore[arg-type]
            customer_id=t.customer_id,
            contact_email=t.contact_email,
            contact_phone=t.contact_phone,
            locale=t.locale,
            complaint_level=2,
            original_ticket_id=t.id,
            source="dissatisfaction",
            check_duplicates=False,
        )
        opened, sched = await _open_in_uow(uow, cmd, deps, now, envelope)
        if not _repair_did_not_hold(payload.reasons):
            return sched
        # the fix itself failed the customer: besides the complaint, the work is redone on this ticket
        clocks.scheduled.extend(sched)
    moves = external_moves(
        t.status,
        et,
        satisfied=getattr(payload, "satisfied", None),
        follow_up_needed=getattr(payload, "follow_up_needed", True),
        appointment_reason=getattr(payload, "reason", None),
        balance_due_minor=getattr(payload, "balance_due_minor", None),
    )
    for target in moves:
        try:
            await transition(
                uow,
                t,
                target,
                now=now,
                clocks=clocks,
                causation=envelope,
                reason={
                    "fixflow.survey.survey.completed.v1": "survey_satisfied",
                    "fixflow.survey.survey.expired.v1": "survey_expired",
                    "fixflow.billing.payment.received.v1": "invoice_paid",
                    "fixflow.billing.refund.issued.v1": "refunded",
                    "fixflow.survey.dissatisfaction.reported.v1": "customer dissatisfied",
                }.get(et, ""),
                cause="dissatisfaction",
                resolution="return_received" if et == "fixflow.dispatch.return.received.v1" else "work_order_completed",
            )
        except IllegalTransition:  # pragma: no cover - the table guarantees legality
            log.warning("event does not fit the ticket", ticket_id=t.id, status=t.status.value, event_type=et)
            break
    if moves or t.technician_id:
        await TicketRepository(uow.session).save(t)
    await clocks.flush()  # a later event of the same batch reads this ticket's clocks again
    return clocks.scheduled


# --- SLA timers -----------------------------------------------------------------------------------


async def fire_clock(*, uow: UnitOfWork, deps: Deps, clock_id: str) -> None:
    now = datetime.now(UTC)
    nxt = None
    async with uow:
        row = await ClockRepository(uow.session).lock(clock_id)
        if row is None or row["next_check_at"] is None or row["stopped_at"] is not None:
            return
        # the firing and what it emits belong to the ticket's trace
        with continue_trace(row.get("trace_headers"), "sla.fire", **{"fixflow.ticket_id": row["ticket_id"]}):
            nxt = await _fire_locked(uow, deps, row, clock_id, now)
    if nxt is not None:
        await _schedule(deps, [(clock_id, nxt)])


async def _fire_locked(
    uow: UnitOfWork, deps: Deps, row: dict[str, Any], clock_id: str, now: datetime
) -> datetime | None:
    policy = await deps.policies.get(uow.session, row["tenant_id"])
    cal = policy.calendar
    clock = ClockRepository.to_domain(row)
    signals = clock.evaluate(cal, now)
    due = clock.due_at(cal)
    for s in signals:
        common = {
            "ticket_id": row["ticket_id"],
            "tenant_id": row["tenant_id"],
            "clock": row["name"],
            "priority": row["priority"],
            "kind": row["kind"],
            "due_at": due,
            "raised_at": now,
        }
        e = ev.SlaAtRisk(share_elapsed=clock.at_risk_share, **common) if s == "at_risk" else ev.SlaBreached(**common)
        uow.emit(e, subject=row["ticket_id"], tenant=row["tenant_id"])
    if "breached" in signals and row["name"] in ("complaint_contact", "complaint_fix"):
        await uow.scope_to_tenant(row["tenant_id"])
        t = await TicketRepository(uow.session).get(row["tenant_id"], row["ticket_id"], for_update=True)
        if t is not None and t.status not in (S.CLOSED, S.CANCELLED) and (t.complaint_level or 1) < 4:
            await _escalate(uow, t, Clocks(uow, policy, t), now, None, f"{row['name']} deadline breached", None)
            await TicketRepository(uow.session).save(t)
    nxt = clock.next_check(cal)
    await ClockRepository(uow.session).update(clock_id, ClockRepository.state(clock, due, nxt, None))
    await uow.commit()
    return nxt


async def pending_clocks(*, uow: UnitOfWork) -> list[tuple[str, datetime]]:
    async with uow:
        return await ClockRepository(uow.session).pending()
