"""Settlement over real infrastructure: gapless numbers under 200 parallel issuances (PostgreSQL),
exactly one invoice when dispatch's work-order.completed arrives 3 times (Kafka), charge.waived for
an in-warranty quality repair."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import select

from billing.adapters.orm import invoices, waived_charges
from billing.domain.commands import SettleWorkOrder
from billing.domain.pricing import WorkDone
from billing.service_layer import settlement
from fixflow_shared import topics
from fixflow_shared.events import Envelope, new_envelope
from fixflow_shared.events.contracts.dispatch import CustomerSignOff, PartLine, WorkOrderCompleted
from fixflow_shared.events.contracts.intake import TicketOpened
from fixflow_shared.testing import eventually
from fixflow_shared.testing.kafka import consumed, publish

pytestmark = pytest.mark.integration


async def test_200_parallel_issuances_get_gapless_numbers(billing_app):
    runtime, _ = billing_app
    tenant = f"conc{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)

    async def one(i: int):
        return await settlement.settle_work_order(
            uow=runtime.uow(),
            cmd=SettleWorkOrder(
                tenant_id=tenant,
                ticket_id=f"tkt_{i}",
                work_order_id=f"wo_{i}",
                work=WorkDone(resolution_code="adjusted"),
                completed_at=now,
            ),
            require_facts=False,
        )

    results = await asyncio.gather(*(one(i) for i in range(200)))
    assert all(r is not None and r.invoice is not None for r in results)
    uow = runtime.uow()
    async with uow:
        await uow.scope_to_tenant(tenant)
        rows = (
            await uow.session.execute(select(invoices.c.seq, invoices.c.number).where(invoices.c.tenant_id == tenant))
        ).all()
    seqs = sorted(r.seq for r in rows)
    assert seqs == list(range(1, 201))
    assert len({r.number for r in rows}) == 200
    # the same work order settled again is a no-op, and the series continues without a gap
    again = await one(0)
    assert again is None
    extra = await settlement.settle_work_order(
        uow=runtime.uow(),
        cmd=SettleWorkOrder(
            tenant_id=tenant,
            ticket_id="tkt_x",
            work_order_id="wo_x",
            work=WorkDone(resolution_code="adjusted"),
            completed_at=now,
        ),
        require_facts=False,
    )
    assert extra.invoice.number.endswith("-000201")


def _opened(tenant: str, ticket: str, warranty: str) -> Envelope:
    return new_envelope(
        TicketOpened(
            ticket_id=ticket,
            tenant_id=tenant,
            customer_id="cust-1",
            kind="repair",
            channel="phone",
            symptom="drawer sticks",
            warranty_status=warranty,
            opened_at=datetime.now(UTC),
        ),
        source="/fixflow/intake",
        subject=ticket,
        tenant=tenant,
    )


def _completed(tenant: str, ticket: str, *, resolution: str = "adjusted", parts=(), visit: int = 1) -> Envelope:
    now = datetime.now(UTC)
    return new_envelope(
        WorkOrderCompleted(
            ticket_id=ticket,
            tenant_id=tenant,
            work_order_id=f"wo_{ticket}",
            job_id=f"job_{ticket}",
            technician_id="tech-1",
            visit_number=visit,
            parts_used=list(parts),
            labour_minutes=30,
            resolution_code=resolution,
            sign_off=CustomerSignOff(signed_by="Li", signed_at=now, signature_sha256="0" * 64),
            first_time_fix=True,
            completed_at=now,
        ),
        source="/fixflow/dispatch",
        subject=ticket,
        tenant=tenant,
    )


async def _publish(kafka, *envs_topics) -> list:
    """Publish (envelope, topic) pairs; returns where each landed (for `_consumed`)."""
    sent = []
    for env, topic in envs_topics:
        sent += await publish(kafka.bootstrap, env, topic=topic)
    return sent


async def _consumed(runtime, kafka, *records) -> None:
    """Billing's consumer finished these records (its group committed past them)."""
    await consumed(kafka.bootstrap, runtime.consumers[0].group_id, *records)


async def _rows(runtime, table, tenant: str, ticket: str) -> list:
    uow = runtime.uow()
    async with uow:
        await uow.scope_to_tenant(tenant)
        return list((await uow.session.execute(select(table).where(table.c.ticket_id == ticket))).mappings().all())


async def _wait_rows(runtime, table, tenant: str, ticket: str, *, n: int = 1, timeout: float = 20.0) -> list:
    return await eventually(
        lambda: _rows(runtime, table, tenant, ticket), lambda rows: len(rows) >= n, timeout=timeout, what=f"{table}"
    )


async def _facts_stored(runtime, tenant: str, ticket: str) -> None:
    """Wait until billing stored the ticket's warranty facts (its ticket.opened was applied)."""
    from billing.adapters.entitlements import TicketFactsRepository

    async def facts():
        uow = runtime.uow()
        async with uow:
            await uow.scope_to_tenant(tenant)
            return await TicketFactsRepository(uow.session).get(tenant, ticket)

    await eventually(facts, what=f"ticket facts of {ticket}")


async def _read_billing_events(kafka, ticket: str, want: int, timeout: float = 20.0) -> list[Envelope]:
    consumer = AIOKafkaConsumer(
        topics.BILLING_INVOICES,
        bootstrap_servers=kafka.bootstrap,
        group_id=f"t-{uuid.uuid4()}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: list[Envelope] = []
    try:

        async def collect() -> None:
            async for rec in consumer:
                env = Envelope.from_kafka(rec.headers, rec.value)
                if env.subject == ticket:
                    assert rec.key == ticket.encode()
                    found.append(env)
                    if len(found) >= want:
                        return

        await asyncio.wait_for(collect(), timeout)
    finally:
        await consumer.stop()
    return found


async def test_work_order_completed_three_times_issues_exactly_one_invoice(billing_app, kafka):
    runtime, _ = billing_app
    tenant, ticket = "t1", f"tkt_{uuid.uuid4().hex[:10]}"
    await _publish(kafka, (_opened(tenant, ticket, "out_of_warranty"), topics.INTAKE_TICKETS))
    # wait until the warranty facts are stored, then deliver the same completion three times
    await _facts_stored(runtime, tenant, ticket)
    done = _completed(
        tenant, ticket, resolution="part_replaced", parts=[PartLine(part_code="HINGE-35", quantity=1)], visit=2
    )
    copies = await _publish(kafka, *[(done, topics.DISPATCH_WORK_ORDERS)] * 3)
    rows = await _wait_rows(runtime, invoices, tenant, ticket)
    assert len(rows) == 1
    await _consumed(runtime, kafka, *copies)  # the duplicates were processed too (and did nothing)
    rows = await _rows(runtime, invoices, tenant, ticket)
    assert len(rows) == 1
    assert rows[0]["total_minor"] == 1500 + 3000  # second visit: part cost + fitting labour
    events = await _read_billing_events(kafka, ticket, 1)
    assert [e.type for e in events] == ["fixflow.billing.invoice.issued.v1"]
    assert events[0].causationid == done.id and events[0].correlationid == ticket
    assert events[0].payload().invoice_number == rows[0]["number"]


async def test_in_warranty_quality_repair_is_waived_with_reason(billing_app, kafka, client):
    runtime, _ = billing_app
    tenant, ticket = "t1", f"tkt_{uuid.uuid4().hex[:10]}"
    await _publish(kafka, (_opened(tenant, ticket, "in_warranty"), topics.INTAKE_TICKETS))
    await _facts_stored(runtime, tenant, ticket)
    await _publish(kafka, (_completed(tenant, ticket, resolution="quality_defect_fixed"), topics.DISPATCH_WORK_ORDERS))
    rows = await _wait_rows(runtime, waived_charges, tenant, ticket)
    assert len(rows) == 1 and rows[0]["service_kind"] == "C" and rows[0]["rule"] == "warranty.quality_repair_free"
    assert await _rows(runtime, invoices, tenant, ticket) == []
    events = await _read_billing_events(kafka, ticket, 1)
    assert events[0].type == "fixflow.billing.charge.waived.v1"
    assert "warranty" in events[0].payload().reason
    # the same over HTTP: what was not charged, and by which rule
    from fixflow_shared.testing import auth_headers

    r = await client.get("/v1/settlements/waived", params={"ticket_id": ticket}, headers=auth_headers(tenant, "agent"))
    assert r.status_code == 200, r.text
    assert [(w["work_order_id"], w["rule"], w["service_kind"]) for w in r.json()] == [
        (f"wo_{ticket}", "warranty.quality_repair_free", "C")
    ]
    other = await client.get(
        "/v1/settlements/waived", params={"ticket_id": ticket}, headers=auth_headers("t-other", "agent")
    )
    assert other.json() == []


async def test_completion_charges_freight_repeat_adjustments_and_customer_damage_over_the_broker(
    billing_app, kafka, client
):
    """What the technician recorded (work-order.completed v1.1) is what billing charges: the
    resolution code alone says neither how many adjustments nor that the unit went to the factory."""
    runtime, _ = billing_app
    from fixflow_shared.testing import auth_headers

    tenant = f"frt{uuid.uuid4().hex[:6]}"
    r = await client.post(
        "/v1/price-books",
        json={
            "effective_from": "2020-01-01",
            "visit_fee_minor": 2000,
            "adjustment_fee_minor": 2000,
            "fitting_labour_minor": 3000,
            "freight_minor": 1500,
        },
        headers=auth_headers(tenant, "manager"),
    )
    assert r.status_code == 201, r.text
    paid, damaged = f"tkt_{uuid.uuid4().hex[:10]}", f"tkt_{uuid.uuid4().hex[:10]}"
    await _publish(
        kafka,
        (_opened(tenant, paid, "out_of_warranty"), topics.INTAKE_TICKETS),
        (_opened(tenant, damaged, "in_warranty"), topics.INTAKE_TICKETS),
    )
    now = datetime.now(UTC)

    def completed(ticket: str, **recorded) -> Envelope:
        return new_envelope(
            WorkOrderCompleted(
                ticket_id=ticket,
                tenant_id=tenant,
                work_order_id=f"wo_{ticket}",
                job_id=f"job_{ticket}",
                technician_id="tech-1",
                visit_number=1,
                labour_minutes=45,
                resolution_code="drawer_realigned",  # says nothing billing could classify
                sign_off=CustomerSignOff(signed_by="Li", signed_at=now, signature_sha256="0" * 64),
                first_time_fix=True,
                completed_at=now,
                **recorded,
            ),
            source="/fixflow/dispatch",
            subject=ticket,
            tenant=tenant,
        )

    await _publish(
        kafka,
        (completed(paid, work_type="adjustment", adjustments=3, freight=True), topics.DISPATCH_WORK_ORDERS),
        (completed(damaged, work_type="adjustment", fault_origin="customer"), topics.DISPATCH_WORK_ORDERS),
    )
    rows = await _wait_rows(runtime, invoices, tenant, paid)
    assert len(rows) == 1 and rows[0]["total_minor"] == 2000 + 3 * 2000 + 1500
    issued = (await _read_billing_events(kafka, paid, 1))[0].payload()
    lines = {ln.code: (ln.quantity, ln.amount_minor, ln.charged) for ln in issued.lines if ln.code != "tax"}
    assert lines == {"visit": (1, 2000, True), "adjustment": (3, 6000, True), "freight": (1, 1500, True)}
    # in warranty, but the damage was the customer's: charged, not waived
    rows = await _wait_rows(runtime, invoices, tenant, damaged)
    assert len(rows) == 1 and rows[0]["total_minor"] == 2000 + 2000
    assert await _rows(runtime, waived_charges, tenant, damaged) == []  # written with the invoice, if at all
