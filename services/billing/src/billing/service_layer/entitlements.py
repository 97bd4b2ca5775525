"""Use cases of entitlements, and the entitlements a ticket is priced with. Each opens its unit of work and commits it."""

from __future__ import annotations

from typing import Any

from billing.adapters.entitlements import EntitlementRepository, TicketFactsRepository
from billing.adapters.waivers import WaiverRepository
from billing.domain.entitlements import Entitlements, Waiver, WarrantyStatus
from billing.domain.exceptions import UnknownReference
from billing.domain.model import WaiverRequest, new_id
from fixflow_shared.events.contracts.intake import TicketOpened
from fixflow_shared.uow import UnitOfWork


def warranty_status_of(event: TicketOpened) -> WarrantyStatus:
    """intake's warranty decision (v1 additive field) wins over the older flat warranty_status."""
    if event.warranty is not None:
        return WarrantyStatus.parse(event.warranty.status)
    return WarrantyStatus.parse(event.warranty_status)


def status_on(facts: dict[str, Any], on: Any) -> WarrantyStatus:
    """The warranty is judged on the day the work is done: a warranty that ended before the
    completion date no longer makes the repair free. `facts["facts"]` is the ticket.opened payload
    as it came, read back through its contract."""
    status = WarrantyStatus.parse(facts.get("warranty_status"))
    opened = TicketOpened.model_validate(facts["facts"]) if facts.get("facts") else None
    ends = opened.warranty.warranty_ends_on if opened is not None and opened.warranty is not None else None
    if status == WarrantyStatus.IN_WARRANTY and ends is not None and on > ends:
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
        if not await TicketFactsRepository(uow.session).customer_known(tenant_id, customer_id):
            raise UnknownReference("customer", customer_id)
        await EntitlementRepository(uow.session).add(
            id=ent_id,
            tenant_id=tenant_id,
            customer_id=customer_id,
            asset_id=asset_id,
            kind=kind,
            terms=terms,
            valid_from=valid_from,
            valid_to=valid_to,
            now=uow.clock.now(),
        )
        await uow.commit()
    return ent_id


async def entitlements_for(
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
    status = status_on(facts, on) if facts else WarrantyStatus.UNKNOWN
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
