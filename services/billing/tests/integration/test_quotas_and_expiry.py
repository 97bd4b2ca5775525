"""Contract visit quotas reset per contract year (real database); quotes expire (lazily, on read)
and then cannot be accepted or rejected; expiry emits nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from billing import views
from billing.adapters.entitlements import EntitlementRepository
from billing.adapters.orm import outbox, quotes
from billing.domain.commands import DecideQuote, IssueQuote, SettleWorkOrder
from billing.domain.exceptions import IllegalTransition
from billing.domain.model import QuoteStatus
from billing.domain.pricing import WorkDone
from billing.service_layer import quotes as quotes_cases
from billing.service_layer import settlement
from fixflow_shared.clock import SettableClock
from fixflow_shared.testing import auth_headers

from .learned import learn_customer, learn_ticket
from .test_settlement import _opened

pytestmark = pytest.mark.integration


async def test_contract_visit_quota_resets_each_contract_year(client, billing_app):
    runtime, _ = billing_app
    tenant = f"quota{uuid.uuid4().hex[:6]}"
    today = datetime.now(UTC).date()
    valid_from = today - timedelta(days=400)  # the second contract year began 35 days ago
    await learn_customer(runtime, tenant, "cust-1")
    r = await client.post(
        "/v1/entitlements",
        json={
            "kind": "contract",
            "customer_id": "cust-1",
            "valid_from": valid_from.isoformat(),
            "valid_to": (today + timedelta(days=400)).isoformat(),
            "covers_labour": False,
            "visits_per_year": 1,
        },
        headers=auth_headers(tenant, "manager"),
    )
    assert r.status_code == 201, r.text
    contract_id = r.json()["id"]

    async def settle(i: int, on: date) -> int:
        ticket = f"tkt_q{i}"
        opened = _opened(tenant, ticket, "out_of_warranty")  # customer cust-1
        await settlement.record_ticket_facts(uow=runtime.uow(), envelope=opened, event=opened.payload())
        s = await settlement.settle_work_order(
            uow=runtime.uow(),
            cmd=SettleWorkOrder(
                tenant_id=tenant,
                ticket_id=ticket,
                work_order_id=f"wo_q{i}",
                work=WorkDone(resolution_code="adjusted"),
                completed_at=datetime(on.year, on.month, on.day, 10, tzinfo=UTC),
            ),
        )
        return s.charge.total_minor

    last_year = today - timedelta(days=100)
    assert await settle(1, last_year) == 2000  # visit covered (1 a year), adjustment charged
    assert await settle(2, last_year) == 4000  # quota used up in that contract year
    assert await settle(3, today) == 2000  # new contract year: the quota is back
    uow = runtime.uow()
    async with uow:
        await uow.scope_to_tenant(tenant)
        usage = await EntitlementRepository(uow.session).visits_used(tenant, contract_id)
    assert usage == {valid_from: 1, date(valid_from.year + 1, valid_from.month, valid_from.day): 1}


async def test_concurrent_settlements_do_not_overspend_a_quota(client, billing_app):
    runtime, _ = billing_app
    tenant = f"quota{uuid.uuid4().hex[:6]}"
    today = datetime.now(UTC).date()
    await learn_customer(runtime, tenant, "cust-1")
    await client.post(
        "/v1/entitlements",
        json={
            "kind": "contract",
            "customer_id": "cust-1",
            "valid_from": (today - timedelta(days=10)).isoformat(),
            "valid_to": (today + timedelta(days=300)).isoformat(),
            "covers_labour": False,
            "visits_per_year": 3,
        },
        headers=auth_headers(tenant, "manager"),
    )
    for i in range(10):
        opened = _opened(tenant, f"tkt_c{i}", "out_of_warranty")
        await settlement.record_ticket_facts(uow=runtime.uow(), envelope=opened, event=opened.payload())
    now = datetime.now(UTC)
    results = await asyncio.gather(
        *(
            settlement.settle_work_order(
                uow=runtime.uow(),
                cmd=SettleWorkOrder(
                    tenant_id=tenant,
                    ticket_id=f"tkt_c{i}",
                    work_order_id=f"wo_c{i}",
                    work=WorkDone(resolution_code="adjusted"),
                    completed_at=now,
                ),
            )
            for i in range(10)
        )
    )
    assert sorted(r.charge.total_minor for r in results) == [2000] * 3 + [4000] * 7


async def test_expired_quote_reads_expired_and_cannot_be_decided(client, billing_app):
    runtime, _ = billing_app
    agent = auth_headers("t1", "agent")
    ticket = f"tkt_{uuid.uuid4().hex[:10]}"
    await learn_ticket(runtime, "t1", ticket)
    q = (
        await client.post(
            "/v1/quotes",
            json={"ticket_id": ticket, "work": {"resolution_code": "reinstalled"}, "valid_hours": 1},
            headers=agent,
        )
    ).json()
    assert q["status"] == "issued"
    uow = runtime.uow()
    async with uow:
        await uow.scope_to_tenant("t1")
        await uow.session.execute(
            text("UPDATE quotes SET valid_until = now() - interval '1 minute' WHERE id = :i"), {"i": q["id"]}
        )
        await uow.commit()

    async def n_events() -> int:
        u = runtime.uow()
        async with u:
            return (
                await u.session.execute(select(func.count()).select_from(outbox).where(outbox.c.key == ticket))
            ).scalar_one()

    before = await n_events()
    got = await client.get(f"/v1/quotes/{q['id']}", headers=agent)
    assert got.json()["status"] == "expired"
    for action in ("accept", "reject"):
        r = await client.post(f"/v1/quotes/{q['id']}/{action}", json={"channel": "phone"}, headers=agent)
        assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
        assert "expired" in r.json()["detail"]
    inv = await client.post(f"/v1/quotes/{q['id']}/invoice", headers=agent)
    assert inv.status_code == 409
    assert await n_events() == before == 1  # quote.issued only: expiry emits nothing
    uow = runtime.uow()
    async with uow:
        await uow.scope_to_tenant("t1")
        row = (await uow.session.execute(select(quotes.c.status, quotes.c.consent).where(quotes.c.id == q["id"]))).one()
    assert row.status == "issued" and row.consent is None  # nothing written


async def test_a_quote_lives_by_the_clock_of_its_use_cases(billing_app):
    """Issued, read and decided at pinned instants: validity follows the injected clock alone."""
    runtime, _ = billing_app
    ticket = f"tkt_{uuid.uuid4().hex[:10]}"
    issued_at = datetime(2031, 3, 7, 10, 0, tzinfo=UTC)
    clock = SettableClock(issued_at)
    await learn_ticket(runtime, "t1", ticket)
    q = await quotes_cases.issue_quote(
        uow=runtime.uow(clock=clock),
        cmd=IssueQuote(
            tenant_id="t1",
            ticket_id=ticket,
            work=WorkDone(resolution_code="reinstalled"),
            issued_by="a",
            valid_hours=24,
        ),
    )
    assert (q.issued_at, q.valid_until) == (issued_at, issued_at + timedelta(hours=24))

    clock.advance(hours=24)  # the last instant of its validity
    still = await views.get_quote(uow=runtime.uow(clock=clock), tenant_id="t1", quote_id=q.id)
    assert still is not None and still.status is QuoteStatus.ISSUED
    clock.advance(seconds=1)
    gone = await views.get_quote(uow=runtime.uow(clock=clock), tenant_id="t1", quote_id=q.id)
    assert gone is not None and gone.status is QuoteStatus.EXPIRED
    with pytest.raises(IllegalTransition):
        await quotes_cases.decide_quote(
            uow=runtime.uow(clock=clock),
            cmd=DecideQuote(tenant_id="t1", quote_id=q.id, accept=True, recorded_by="a", channel="phone"),
        )
