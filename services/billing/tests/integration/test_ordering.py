"""Robust ordering: work-order.completed (dispatch's topic) may arrive before the ticket's
ticket.opened (intake's topic). The completion is parked durably and settled when the facts arrive,
over the real broker and database."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from billing.adapters.orm import invoices, pending_settlements, waived_charges
from billing.domain.commands import SettleWorkOrder
from billing.domain.pricing import PartUsed, WorkDone
from billing.service_layer import settlement
from fixflow_shared import topics
from fixflow_shared.events import new_envelope
from fixflow_shared.events.contracts.dispatch import PartLine, WorkOrderCompleted
from fixflow_shared.testing import auth_headers, eventually

from .test_settlement import _completed, _consumed, _opened, _publish, _read_billing_events, _rows, _wait_rows

pytestmark = pytest.mark.integration


async def _pending(runtime, tenant: str, ticket: str) -> list[dict]:
    uow = runtime.uow()
    async with uow:
        await uow.scope_to_tenant(tenant)
        rows = (
            (await uow.session.execute(select(pending_settlements).where(pending_settlements.c.ticket_id == ticket)))
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


async def _wait_pending(runtime, tenant: str, ticket: str) -> list[dict]:
    return await eventually(lambda: _pending(runtime, tenant, ticket), what=f"a parked completion of {ticket}")


async def test_completion_before_ticket_opened_is_parked_then_invoiced_once(billing_app, kafka, client):
    runtime, _ = billing_app
    tenant, ticket = "t1", f"tkt_{uuid.uuid4().hex[:10]}"
    done = _completed(
        tenant, ticket, resolution="part_replaced", parts=[PartLine(part_code="HINGE-35", quantity=1)], visit=2
    )
    # the completion, twice (a redelivery) and once more with a new event id (a re-emission)
    again = new_envelope(
        WorkOrderCompleted.model_validate(done.data), source="/fixflow/dispatch", subject=ticket, tenant=tenant
    )
    copies = await _publish(
        kafka,
        (done, topics.DISPATCH_WORK_ORDERS),
        (done, topics.DISPATCH_WORK_ORDERS),
        (again, topics.DISPATCH_WORK_ORDERS),
    )
    parked = await _wait_pending(runtime, tenant, ticket)
    assert len(parked) == 1 and parked[0]["waiting_for"] == "ticket_facts" and parked[0]["status"] == "waiting"
    listed = await client.get("/v1/settlements/pending", headers=auth_headers(tenant, "manager"))
    assert ticket in {r["ticket_id"] for r in listed.json()}
    await _consumed(runtime, kafka, *copies)  # the re-emission is processed too; nothing is invoiced without facts
    assert await _rows(runtime, invoices, tenant, ticket) == []
    assert len(await _pending(runtime, tenant, ticket)) == 1

    opened = _opened(tenant, ticket, "out_of_warranty")
    facts = await _publish(kafka, (opened, topics.INTAKE_TICKETS))
    rows = await _wait_rows(runtime, invoices, tenant, ticket)
    assert len(rows) == 1 and rows[0]["total_minor"] == 1500 + 3000
    await _consumed(runtime, kafka, *facts)  # settling the parked completion is part of applying the facts
    assert len(await _rows(runtime, invoices, tenant, ticket)) == 1
    assert await _pending(runtime, tenant, ticket) == []
    events = await _read_billing_events(kafka, ticket, 1)
    assert [e.type for e in events] == ["fixflow.billing.invoice.issued.v1"]
    # the invoice is caused by the completion, correlated with the ticket
    assert events[0].causationid in {done.id, again.id} and events[0].correlationid == ticket


async def test_parked_in_warranty_completion_is_waived_when_facts_arrive(billing_app, kafka):
    runtime, _ = billing_app
    tenant, ticket = "t1", f"tkt_{uuid.uuid4().hex[:10]}"
    await _publish(kafka, (_completed(tenant, ticket, resolution="quality_defect_fixed"), topics.DISPATCH_WORK_ORDERS))
    assert len(await _wait_pending(runtime, tenant, ticket)) == 1
    await _publish(kafka, (_opened(tenant, ticket, "in_warranty"), topics.INTAKE_TICKETS))
    rows = await _wait_rows(runtime, waived_charges, tenant, ticket)
    assert len(rows) == 1 and rows[0]["rule"] == "warranty.quality_repair_free"
    events = await _read_billing_events(kafka, ticket, 1)
    assert events[0].type == "fixflow.billing.charge.waived.v1"


async def test_parked_completion_that_cannot_be_priced_fails_without_losing_the_ticket_facts(billing_app):
    runtime, _ = billing_app
    tenant, ticket = "t1", f"tkt_{uuid.uuid4().hex[:10]}"
    cmd = SettleWorkOrder(
        tenant_id=tenant,
        ticket_id=ticket,
        work_order_id=f"wo_{ticket}",
        work=WorkDone(visit_number=2, resolution_code="part_replaced", parts=(PartUsed("NO-SUCH-PART", 1),)),
        completed_at=datetime.now(UTC),
    )
    s = await settlement.settle_work_order(uow=runtime.uow(), cmd=cmd)
    assert s is not None and s.parked == "ticket_facts" and s.invoice is None
    opened = _opened(tenant, ticket, "out_of_warranty")
    assert await settlement.record_ticket_facts(uow=runtime.uow(), envelope=opened, event=opened.payload())
    [row] = await _pending(runtime, tenant, ticket)
    assert row["status"] == "failed" and "NO-SUCH-PART" in row["error"]
    assert await _rows(runtime, invoices, tenant, ticket) == []


async def test_facts_and_completion_racing_never_strand_a_completion(billing_app):
    """Facts and completions for 30 tickets applied concurrently in random order: every work order
    ends settled exactly once and nothing stays parked (the per-ticket lock closes the race)."""
    runtime, _ = billing_app
    tenant = f"race{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    calls = []
    for i in range(30):
        ticket = f"tkt_r{i}"
        opened = _opened(tenant, ticket, "out_of_warranty")
        calls.append(settlement.record_ticket_facts(uow=runtime.uow(), envelope=opened, event=opened.payload()))
        calls.append(
            settlement.settle_work_order(
                uow=runtime.uow(),
                cmd=SettleWorkOrder(
                    tenant_id=tenant,
                    ticket_id=ticket,
                    work_order_id=f"wo_r{i}",
                    work=WorkDone(resolution_code="adjusted"),
                    completed_at=now,
                ),
            )
        )
    import random

    random.shuffle(calls)
    await asyncio.gather(*calls)
    uow = runtime.uow()
    async with uow:
        await uow.scope_to_tenant(tenant)
        n_inv = len((await uow.session.execute(select(invoices.c.id).where(invoices.c.tenant_id == tenant))).all())
        n_pending = len(
            (
                await uow.session.execute(
                    select(pending_settlements.c.work_order_id).where(pending_settlements.c.tenant_id == tenant)
                )
            ).all()
        )
    assert n_inv == 30 and n_pending == 0
