"""Customer credit over HTTP and the real database: overpayment fills the balance, apply-credit pays
an invoice with a payment of method "credit"; bad input is problem+json with nothing written;
concurrent applications never take the balance below zero."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from billing.adapters.orm import credit_entries, customer_credits, outbox, payments
from fixflow_shared.testing import auth_headers

from .learned import learn_ticket, runtime_of

pytestmark = pytest.mark.integration

AGENT = auth_headers("t1", "agent")


async def _invoice(client, customer: str | None, *, code: str = "reinstalled") -> dict:
    """An accepted quote invoiced: reinstall = 50 CNY; adjusted = 40 CNY."""
    body = {"ticket_id": f"tkt_{uuid.uuid4().hex[:10]}", "work": {"resolution_code": code}}
    await learn_ticket(runtime_of(client), "t1", body["ticket_id"], customer)
    if customer:
        body["customer_id"] = customer
    q = (await client.post("/v1/quotes", json=body, headers=AGENT)).json()
    await client.post(f"/v1/quotes/{q['id']}/accept", json={"channel": "phone"}, headers=AGENT)
    r = await client.post(f"/v1/quotes/{q['id']}/invoice", headers=AGENT)
    assert r.status_code == 201, r.text
    return r.json()


async def _counts(runtime) -> tuple[int, int, int, int]:
    uow = runtime.uow()
    async with uow:
        await uow.scope_to_tenant("t1")
        s = uow.session
        return tuple(
            [
                (await s.execute(select(func.count()).select_from(t))).scalar_one()  # type: ignore[return-value]
                for t in (payments, credit_entries, customer_credits)
            ]
            + [(await s.execute(select(func.coalesce(func.sum(customer_credits.c.balance_minor), 0)))).scalar_one()]
        )


async def _credit(client, customer: str, headers=AGENT) -> dict:
    r = await client.get(f"/v1/customers/{customer}/credit", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def _overpay(client, customer: str, credit: int) -> dict:
    inv = await _invoice(client, customer)
    p = await client.post(
        f"/v1/invoices/{inv['id']}/payments",
        json={"amount_minor": inv["total_minor"] + credit, "currency": "CNY", "method": "cash"},
        headers=AGENT,
    )
    assert p.status_code == 201 and p.json()["credit_minor"] == credit
    return inv


async def test_overpayment_becomes_credit_and_pays_a_later_invoice(client, billing_app):
    runtime, _ = billing_app
    cust = f"cust_{uuid.uuid4().hex[:8]}"
    assert (await _credit(client, cust))["balances"] == []
    await _overpay(client, cust, 1000)
    c = await _credit(client, cust)
    assert c["balances"] == [{"currency": "CNY", "balance_minor": 1000}]
    assert [(e["kind"], e["amount_minor"]) for e in c["entries"]] == [("overpayment", 1000)]

    later = await _invoice(client, cust, code="adjusted")  # 4000
    r = await client.post(f"/v1/invoices/{later['id']}/apply-credit", json={"amount_minor": 300}, headers=AGENT)
    assert r.status_code == 201, r.text
    assert r.json()["applied_minor"] == 300 and r.json()["balance_due_minor"] == 3700
    assert r.json()["invoice_status"] == "partially_paid"
    # the default applies as much as possible: the remaining 700
    r = await client.post(f"/v1/invoices/{later['id']}/apply-credit", json={}, headers=AGENT)
    assert r.status_code == 201 and r.json()["applied_minor"] == 700 and r.json()["balance_due_minor"] == 3000
    c = await _credit(client, cust)
    assert c["balances"] == [{"currency": "CNY", "balance_minor": 0}]
    assert sorted(e["amount_minor"] for e in c["entries"]) == [-700, -300, 1000]
    uow = runtime.uow()
    async with uow:
        await uow.scope_to_tenant("t1")
        methods = (
            (await uow.session.execute(select(payments.c.method).where(payments.c.invoice_id == later["id"])))
            .scalars()
            .all()
        )
        types = (
            await uow.session.execute(
                select(outbox.c.event_type, outbox.c.payload).where(outbox.c.key == later["ticket_id"])
            )
        ).all()
    assert methods == ["credit", "credit"]
    assert (
        sum(t.event_type == "fixflow.billing.payment.received.v1" and b'"method":"credit"' in t.payload for t in types)
        == 2
    )
    # the statement shows the credit applied without counting the money twice
    st = (await client.get(f"/v1/statements/{cust}/{later['issued_at'][:7]}", headers=AGENT)).json()
    assert st["totals"]["CNY"]["balance_minor"] == 5000 + 4000 - 6000
    # nothing left: 422, nothing written
    before = await _counts(runtime)
    r = await client.post(f"/v1/invoices/{later['id']}/apply-credit", json={}, headers=AGENT)
    assert r.status_code == 422 and r.json()["title"] == "Insufficient credit"
    assert await _counts(runtime) == before


@pytest.mark.parametrize(
    ("payload", "status", "title"),
    [
        ({"amount_minor": -100}, 422, "Validation failed"),
        ({"amount_minor": 0}, 422, "Validation failed"),
        ({"amount_minor": 10.5}, 422, "Validation failed"),
        ({"amount_minor": "100"}, 422, "Validation failed"),
        ({"amount_minor": 100, "currency": "XYZ"}, 422, "Unknown currency"),
        ({"amount_minor": 100, "currency": "USD"}, 422, "Currency mismatch"),
        ({"amount_minor": 100, "extra": 1}, 422, "Validation failed"),
        ({"amount_minor": 2500}, 422, "Insufficient credit"),  # 2000 held
        ({"amount_minor": 1999}, 201, None),  # within both
    ],
)
async def test_bad_apply_credit_is_problem_json_and_writes_nothing(client, billing_app, payload, status, title):
    runtime, _ = billing_app
    cust = f"cust_{uuid.uuid4().hex[:8]}"
    await _overpay(client, cust, 2000)
    target = await _invoice(client, cust)  # 5000 due
    before = await _counts(runtime)
    r = await client.post(f"/v1/invoices/{target['id']}/apply-credit", json=payload, headers=AGENT)
    assert r.status_code == status, r.text
    if title:
        assert r.headers["content-type"] == "application/problem+json" and r.json()["title"] == title
        assert await _counts(runtime) == before
        assert (await client.get(f"/v1/invoices/{target['id']}", headers=AGENT)).json()["paid_minor"] == 0


async def test_credit_never_pays_more_than_due_nor_another_tenants_invoice(client, billing_app):
    runtime, _ = billing_app
    cust = f"cust_{uuid.uuid4().hex[:8]}"
    await _overpay(client, cust, 9000)
    target = await _invoice(client, cust, code="adjusted")  # 4000 due
    before = await _counts(runtime)
    r = await client.post(f"/v1/invoices/{target['id']}/apply-credit", json={"amount_minor": 4001}, headers=AGENT)
    assert r.status_code == 422 and r.json()["title"] == "More than due"
    other = await client.post(
        f"/v1/invoices/{target['id']}/apply-credit", json={"amount_minor": 100}, headers=auth_headers("t2", "agent")
    )
    assert other.status_code == 404 and other.headers["content-type"] == "application/problem+json"
    # another tenant sees no credit for the same customer id; a customer sees only their own
    assert (await _credit(client, cust, auth_headers("t2", "agent")))["balances"] == []
    assert (
        await client.get(
            f"/v1/customers/{cust}/credit", headers=auth_headers("t1", "customer", customer_id="someone-else")
        )
    ).status_code == 404
    own = await _credit(client, cust, auth_headers("t1", "customer", customer_id=cust))
    assert own["balances"][0]["balance_minor"] == 9000
    assert await _counts(runtime) == before
    # no customer on the invoice: no credit can pay it
    anon = await _invoice(client, None)
    r = await client.post(f"/v1/invoices/{anon['id']}/apply-credit", json={"amount_minor": 100}, headers=AGENT)
    assert r.status_code == 422 and await _counts(runtime) == before
    # default amount = the balance due, and the invoice is paid; then nothing is due
    r = await client.post(f"/v1/invoices/{target['id']}/apply-credit", json={}, headers=AGENT)
    assert r.json()["applied_minor"] == 4000 and r.json()["invoice_status"] == "paid"
    r = await client.post(f"/v1/invoices/{target['id']}/apply-credit", json={}, headers=AGENT)
    assert r.status_code == 422 and r.json()["title"] == "More than due"


async def test_concurrent_credit_applications_never_overdraw(client, billing_app):
    cust = f"cust_{uuid.uuid4().hex[:8]}"
    await _overpay(client, cust, 1000)
    targets = [await _invoice(client, cust) for _ in range(4)]
    rs = await asyncio.gather(
        *(
            client.post(f"/v1/invoices/{t['id']}/apply-credit", json={"amount_minor": 300}, headers=AGENT)
            for t in targets
            for _ in range(2)
        )
    )
    assert sorted(r.status_code for r in rs) == [201] * 3 + [422] * 5
    assert (await _credit(client, cust))["balances"][0]["balance_minor"] == 100
