"""A waiver still waiting for a manager when the work order completes: the settlement waits for the
decision and is settled by it (approve -> the waiver applies; reject -> charged in full)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from billing.adapters.orm import invoices, outbox, pending_settlements, ticket_facts, waived_charges
from billing.domain.commands import SettleWorkOrder
from billing.domain.pricing import PartUsed, WorkDone
from billing.service_layer import settlement
from fixflow_shared.testing import auth_headers

from .learned import learn_ticket, runtime_of
from .test_settlement import _completed, _opened

pytestmark = pytest.mark.integration

AGENT = auth_headers("t1", "agent")
MANAGER = auth_headers("t1", "manager", subject="boss")


async def _rows(runtime, table, ticket: str) -> list[dict]:
    uow = runtime.uow()
    async with uow:
        await uow.scope_to_tenant("t1")
        return [
            dict(r)
            for r in (await uow.session.execute(select(table).where(table.c.ticket_id == ticket))).mappings().all()
        ]


async def _event_types(runtime, ticket: str) -> list[str]:
    uow = runtime.uow()
    async with uow:
        rows = (
            await uow.session.execute(select(outbox.c.event_type).where(outbox.c.key == ticket).order_by(outbox.c.id))
        ).all()
    return [r.event_type for r in rows]


async def _facts_and_completion(runtime, ticket: str):
    opened = _opened("t1", ticket, "out_of_warranty")
    await settlement.record_ticket_facts(uow=runtime.uow(), envelope=opened, event=opened.payload())
    done = _completed("t1", ticket, resolution="reinstalled")  # 30 labour + 20 visit = 50 CNY
    return await settlement.settle_work_order(
        uow=runtime.uow(),
        cmd=SettleWorkOrder(
            tenant_id="t1",
            ticket_id=ticket,
            work_order_id=f"wo_{ticket}",
            work=WorkDone(resolution_code="reinstalled"),
            completed_at=datetime.now(UTC),
        ),
        causation=done,
        consumer="billing.work_order_completed",
    )


async def _pending_waiver(client, ticket: str, amount: int | None) -> dict:
    body = {"ticket_id": ticket, "reason": "complaint goodwill"} | ({"amount_minor": amount} if amount else {})
    if (await _rows(runtime_of(client), ticket_facts, ticket)) == []:
        await learn_ticket(runtime_of(client), "t1", ticket, "cust-1", warranty="out_of_warranty")
    w = await client.post("/v1/waivers", json=body, headers=AGENT)
    assert w.status_code == 201 and w.json()["status"] == "pending_approval", w.text
    return w.json()


async def test_completion_waits_for_approval_then_waiver_applies(client, billing_app):
    runtime, _ = billing_app
    ticket = f"tkt_{uuid.uuid4().hex[:10]}"
    w = await _pending_waiver(client, ticket, None)  # waive everything: over the threshold
    s = await _facts_and_completion(runtime, ticket)
    assert s.parked == "waiver_decision" and s.invoice is None
    [p] = await _rows(runtime, pending_settlements, ticket)
    assert p["waiting_for"] == "waiver_decision"
    assert await _rows(runtime, invoices, ticket) == [] and await _rows(runtime, waived_charges, ticket) == []

    ok = await client.post(f"/v1/waivers/{w['id']}/approve", headers=MANAGER)
    assert ok.status_code == 200
    [wv] = await _rows(runtime, waived_charges, ticket)
    assert wv["rule"] == "waiver.approved" and wv["approved_by"] == "boss" and wv["waived_minor"] == 5000
    assert await _rows(runtime, pending_settlements, ticket) == []
    assert await _event_types(runtime, ticket) == ["fixflow.billing.charge.waived.v1"]


async def test_completion_waits_for_rejection_then_charged_in_full(client, billing_app):
    runtime, _ = billing_app
    ticket = f"tkt_{uuid.uuid4().hex[:10]}"
    w = await _pending_waiver(client, ticket, 6000)
    s = await _facts_and_completion(runtime, ticket)
    assert s.parked == "waiver_decision"
    no = await client.post(f"/v1/waivers/{w['id']}/reject", headers=MANAGER)
    assert no.status_code == 200 and no.json()["status"] == "rejected"
    [inv] = await _rows(runtime, invoices, ticket)
    assert inv["total_minor"] == 5000 and not any(ln["code"] == "waiver" for ln in inv["lines"])
    assert await _event_types(runtime, ticket) == ["fixflow.billing.invoice.issued.v1"]


async def test_a_waiver_needs_the_ticket_a_completion_may_wait_for_it(client, billing_app):
    """A completion may arrive before its ticket (parked until billing learns it); a waiver may not:
    billing waives only a ticket it learned from intake (422, nothing written), then the waiver
    requested once the ticket is known applies to the next completion."""
    runtime, _ = billing_app
    ticket = f"tkt_{uuid.uuid4().hex[:10]}"
    early = await client.post(
        "/v1/waivers", json={"ticket_id": ticket, "amount_minor": 6000, "reason": "goodwill"}, headers=AGENT
    )
    assert early.status_code == 422 and early.json()["title"] == "Unknown reference"
    assert await _rows(runtime, waived_charges, ticket) == []
    pump = WorkDone(visit_number=2, resolution_code="part_replaced", parts=(PartUsed("PUMP-W1", 1),))  # 90 + 30
    s = await settlement.settle_work_order(
        uow=runtime.uow(),
        cmd=SettleWorkOrder(
            tenant_id="t1", ticket_id=ticket, work_order_id=f"wo_{ticket}", work=pump, completed_at=datetime.now(UTC)
        ),
    )
    assert s.parked == "ticket_facts"
    opened = _opened("t1", ticket, "out_of_warranty")
    await settlement.record_ticket_facts(uow=runtime.uow(), envelope=opened, event=opened.payload())
    [inv] = await _rows(runtime, invoices, ticket)  # settled in full as soon as billing learned the ticket
    assert inv["total_minor"] == 12_000
    w = await _pending_waiver(client, ticket, 6000)
    assert w["status"] == "pending_approval"
