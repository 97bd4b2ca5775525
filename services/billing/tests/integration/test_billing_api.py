"""Billing over HTTP against real PostgreSQL, Redis and Kafka: quotes, invoices, payments, refunds,
waivers, statements, and problem+json with nothing written for bad input."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, text

from billing.adapters.orm import credit_notes, payments, quotes, refunds
from fixflow_shared.testing import auth_headers

from .learned import learn_customer, learn_ticket, runtime_of

pytestmark = pytest.mark.integration

AGENT = auth_headers("t1", "agent")
MANAGER = auth_headers("t1", "manager", subject="boss")


async def _count(runtime, table, tenant="t1") -> int:
    uow = runtime.uow()
    async with uow:
        await uow.scope_to_tenant(tenant)
        return (await uow.session.execute(select(func.count()).select_from(table))).scalar_one()


async def _invoice(client, *, ticket: str | None = None, work: dict | None = None) -> dict:
    ticket = ticket or f"tkt_{uuid.uuid4().hex[:10]}"
    await learn_ticket(runtime_of(client), "t1", ticket, "cust-ent-1")
    q = await client.post(
        "/v1/quotes",
        json={
            "ticket_id": ticket,
            "customer_id": "cust-ent-1",
            "work": work or {"resolution_code": "adjusted", "adjustments": 1},
        },
        headers=AGENT,
    )
    assert q.status_code == 201, q.text
    acc = await client.post(
        f"/v1/quotes/{q.json()['id']}/accept", json={"channel": "phone", "signed_name": "Li"}, headers=AGENT
    )
    assert acc.status_code == 200, acc.text
    inv = await client.post(f"/v1/quotes/{q.json()['id']}/invoice", headers=AGENT)
    assert inv.status_code == 201, inv.text
    return inv.json()


async def test_quote_consent_invoice_pay_with_overpayment_credit(client, billing_app):
    runtime, _ = billing_app
    await learn_ticket(runtime, "t1", "tkt_q1")
    q = await client.post(
        "/v1/quotes", json={"ticket_id": "tkt_q1", "work": {"resolution_code": "reinstalled"}}, headers=AGENT
    )
    assert q.status_code == 201, q.text
    quote = q.json()
    assert quote["total_minor"] == 5000 and quote["status"] == "issued"
    assert {ln["rule"] for ln in quote["lines"]} == {"schedule.reinstall"}
    # rejecting after accepting is a state conflict; consent is recorded with who and how
    acc = await client.post(
        f"/v1/quotes/{quote['id']}/accept", json={"channel": "on_site_signature", "signed_name": "Wang"}, headers=AGENT
    )
    assert acc.status_code == 200 and acc.json()["consent"]["signed_name"] == "Wang"
    assert acc.json()["consent"]["client_address"] is None, "only an online consent has a client address"
    rej = await client.post(f"/v1/quotes/{quote['id']}/reject", json={"channel": "phone"}, headers=AGENT)
    assert rej.status_code == 409 and rej.headers["content-type"] == "application/problem+json"

    inv = (await client.post(f"/v1/quotes/{quote['id']}/invoice", headers=AGENT)).json()
    assert inv["number"].startswith("INV-") and inv["total_minor"] == 5000
    assert sum(ln["amount_minor"] for ln in inv["lines"]) == inv["total_minor"]

    p1 = await client.post(
        f"/v1/invoices/{inv['id']}/payments",
        json={"amount_minor": 2000, "currency": "CNY", "method": "cash"},
        headers=AGENT,
    )
    assert p1.status_code == 201, p1.text
    assert p1.json()["invoice_status"] == "partially_paid" and p1.json()["balance_due_minor"] == 3000
    p2 = await client.post(
        f"/v1/invoices/{inv['id']}/payments",
        json={"amount_minor": 4000, "currency": "CNY", "method": "online"},
        headers=AGENT,
    )
    body = p2.json()
    assert body["applied_minor"] == 3000 and body["credit_minor"] == 1000 and body["invoice_status"] == "paid"
    assert body["receipt_number"] == f"R-{inv['number']}-02"

    pdf = await client.get(f"/v1/invoices/{inv['id']}/pdf", headers=AGENT)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_refund_within_window_minus_customer_share_creates_credit_note(client, billing_app):
    inv = await _invoice(client)
    await client.post(
        f"/v1/invoices/{inv['id']}/payments",
        json={"amount_minor": inv["total_minor"], "currency": "CNY", "method": "card"},
        headers=AGENT,
    )
    r = await client.post(
        f"/v1/invoices/{inv['id']}/refunds",
        json={"return_freight_minor": 800, "card_fee_minor": 100, "reason": "returned"},
        headers=MANAGER,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["gross_minor"] == inv["total_minor"] and body["amount_minor"] == inv["total_minor"] - 900
    assert body["credit_note_number"].startswith("CN-") and body["invoice_status"] == "refunded"


@pytest.mark.parametrize(
    ("payload", "status", "title"),
    [
        ({"amount_minor": -100, "currency": "CNY", "method": "cash"}, 422, "Validation failed"),
        ({"amount_minor": 0, "currency": "CNY", "method": "cash"}, 422, "Validation failed"),
        ({"amount_minor": 10.5, "currency": "CNY", "method": "cash"}, 422, "Validation failed"),
        ({"amount_minor": 100, "currency": "XYZ", "method": "cash"}, 422, "Unknown currency"),
        ({"amount_minor": 100, "currency": "USD", "method": "cash"}, 422, "Currency mismatch"),
        ({"amount_minor": 100, "currency": "CNY", "method": "barter"}, 422, "Validation failed"),
        ({"amount_minor": 100, "currency": "CNY", "method": "cash", "extra": 1}, 422, "Validation failed"),
    ],
)
async def test_bad_payment_is_problem_json_and_writes_nothing(client, billing_app, payload, status, title):
    runtime, _ = billing_app
    inv = await _invoice(client)
    before = await _count(runtime, payments)
    r = await client.post(f"/v1/invoices/{inv['id']}/payments", json=payload, headers=AGENT)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json" and r.json()["title"] == title
    assert await _count(runtime, payments) == before
    assert (await client.get(f"/v1/invoices/{inv['id']}", headers=AGENT)).json()["paid_minor"] == 0


async def test_paying_another_tenants_invoice_is_404_and_writes_nothing(client, billing_app):
    runtime, _ = billing_app
    inv = await _invoice(client)
    before = await _count(runtime, payments)
    r = await client.post(
        f"/v1/invoices/{inv['id']}/payments",
        json={"amount_minor": 100, "currency": "CNY", "method": "cash"},
        headers=auth_headers("t2", "agent"),
    )
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert (await client.get(f"/v1/invoices/{inv['id']}", headers=auth_headers("t2", "agent"))).status_code == 404
    assert await _count(runtime, payments) == before


async def test_refund_after_the_window_is_refused_and_writes_nothing(client, billing_app):
    runtime, _ = billing_app
    inv = await _invoice(client)
    await client.post(
        f"/v1/invoices/{inv['id']}/payments",
        json={"amount_minor": inv["total_minor"], "currency": "CNY", "method": "cash"},
        headers=AGENT,
    )
    uow = runtime.uow()
    async with uow:
        await uow.scope_to_tenant("t1")
        await uow.session.execute(
            text("UPDATE invoices SET issued_at = issued_at - interval '31 days' WHERE id = :i"), {"i": inv["id"]}
        )
        await uow.commit()
    counts = [await _count(runtime, t) for t in (refunds, credit_notes)]
    r = await client.post(f"/v1/invoices/{inv['id']}/refunds", json={"reason": "changed mind"}, headers=MANAGER)
    assert r.status_code == 422 and r.json()["title"] == "Return window closed"
    assert [await _count(runtime, t) for t in (refunds, credit_notes)] == counts
    assert (await client.get(f"/v1/invoices/{inv['id']}", headers=AGENT)).json()["refunded_minor"] == 0


async def test_refund_more_than_paid_is_422(client):
    inv = await _invoice(client)
    r = await client.post(f"/v1/invoices/{inv['id']}/refunds", json={"amount_minor": 1, "reason": "x"}, headers=MANAGER)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


async def test_unknown_currency_in_price_book_and_waiver_is_422(client, billing_app):
    r = await client.post(
        "/v1/waivers", json={"ticket_id": "t", "amount_minor": 100, "currency": "ABC", "reason": "x"}, headers=AGENT
    )
    assert r.status_code == 422 and r.json()["title"] == "Unknown currency"
    r = await client.post(
        "/v1/waivers", json={"ticket_id": "t", "amount_minor": -100, "currency": "CNY", "reason": "x"}, headers=AGENT
    )
    assert r.status_code == 422


async def test_waiver_over_threshold_needs_manager(client):
    await learn_ticket(runtime_of(client), "t1", "tkt_w")
    small = await client.post(
        "/v1/waivers", json={"ticket_id": "tkt_w", "amount_minor": 1000, "reason": "goodwill"}, headers=AGENT
    )
    assert small.json()["status"] == "approved"
    big = await client.post(
        "/v1/waivers", json={"ticket_id": "tkt_w", "amount_minor": 50_000, "reason": "complaint"}, headers=AGENT
    )
    assert big.json()["status"] == "pending_approval"
    denied = await client.post(f"/v1/waivers/{big.json()['id']}/approve", headers=AGENT)
    assert denied.status_code == 403
    ok = await client.post(f"/v1/waivers/{big.json()['id']}/approve", headers=MANAGER)
    assert ok.status_code == 200 and ok.json()["approved_by"] == "boss"
    again = await client.post(f"/v1/waivers/{big.json()['id']}/approve", headers=MANAGER)
    assert again.status_code == 409


async def test_price_book_versions_and_statement(client):
    tenant = f"pb{uuid.uuid4().hex[:6]}"
    mgr = auth_headers(tenant, "manager")
    bad = await client.post(
        "/v1/price-books",
        json={
            "effective_from": "2020-01-01",
            "currency": "QQQ",
            "visit_fee_minor": 1,
            "adjustment_fee_minor": 1,
            "fitting_labour_minor": 1,
        },
        headers=mgr,
    )
    assert bad.status_code == 422 and bad.json()["title"] == "Unknown currency"
    neg = await client.post(
        "/v1/price-books",
        json={
            "effective_from": "2020-01-01",
            "visit_fee_minor": -1,
            "adjustment_fee_minor": 1,
            "fitting_labour_minor": 1,
        },
        headers=mgr,
    )
    assert neg.status_code == 422
    r = await client.post(
        "/v1/price-books",
        json={
            "effective_from": "2020-01-01",
            "visit_fee_minor": 3000,
            "adjustment_fee_minor": 1500,
            "fitting_labour_minor": 4000,
        },
        headers=mgr,
    )
    assert r.status_code == 201 and r.json()["version"] == 1
    eff = await client.get("/v1/price-books/effective", headers=mgr)
    assert eff.json()["config"]["visit_fee_minor"] == 3000

    agent = auth_headers(tenant, "agent")
    await learn_ticket(runtime_of(client), tenant, "tkt_s", "ent-9")
    q = await client.post(
        "/v1/quotes",
        json={"ticket_id": "tkt_s", "customer_id": "ent-9", "work": {"resolution_code": "adjusted"}},
        headers=agent,
    )
    assert q.json()["total_minor"] == 4500
    web = await client.post(
        f"/v1/quotes/{q.json()['id']}/accept", json={"channel": "web", "client_address": "203.0.113.7"}, headers=agent
    )
    assert web.json()["consent"]["client_address"] == "203.0.113.7"  # the portal records where the customer said yes
    again = await client.get(f"/v1/quotes/{q.json()['id']}", headers=agent)
    assert again.json()["consent"]["client_address"] == "203.0.113.7", "kept with the consent"
    inv = (await client.post(f"/v1/quotes/{q.json()['id']}/invoice", headers=agent)).json()
    assert inv["number"].endswith("-000001")  # per tenant series
    await client.post(
        f"/v1/invoices/{inv['id']}/payments",
        json={"amount_minor": 1000, "currency": "CNY", "method": "transfer"},
        headers=agent,
    )
    month = inv["issued_at"][:7]
    st = await client.get(f"/v1/statements/ent-9/{month}", headers=agent)
    assert st.json()["totals"]["CNY"] == {"debit_minor": 4500, "credit_minor": 1000, "balance_minor": 3500}
    csv_ = await client.get(f"/v1/statements/ent-9/{month}?format=csv", headers=agent)
    assert csv_.status_code == 200 and inv["number"] in csv_.text
    pdf = await client.get(f"/v1/statements/ent-9/{month}?format=pdf", headers=agent)
    assert pdf.content.startswith(b"%PDF")
    assert (await client.get("/v1/statements/ent-9/2025-13", headers=agent)).status_code == 422


async def test_a_tickets_quotes_are_listed_oldest_first_and_only_in_its_tenant(client, billing_app):
    ticket = f"tkt_{uuid.uuid4().hex[:10]}"
    await learn_ticket(runtime_of(client), "t1", ticket)
    ids = []
    for code in ("adjusted", "reinstalled"):
        r = await client.post(
            "/v1/quotes", json={"ticket_id": ticket, "work": {"resolution_code": code}}, headers=AGENT
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    await client.post(f"/v1/quotes/{ids[0]}/reject", json={"channel": "phone", "reason": "too dear"}, headers=AGENT)
    listed = (await client.get("/v1/quotes", params={"ticket_id": ticket}, headers=AGENT)).json()
    assert [q["id"] for q in listed] == ids and [q["status"] for q in listed] == ["rejected", "issued"]
    assert (
        await client.get("/v1/quotes", params={"ticket_id": ticket}, headers=auth_headers("t2", "agent"))
    ).json() == []
    assert (await client.get("/v1/quotes", headers=AGENT)).status_code == 422


async def test_quotes_waivers_sales_and_entitlements_name_only_what_billing_learned(client, billing_app):
    """A ticket or customer billing has not learned from intake's events is 422 Unknown reference,
    and nothing is written; once learned (ticket.opened, customer.registered) the same request works."""
    runtime, _ = billing_app
    tenant = f"ref{uuid.uuid4().hex[:6]}"
    staff = auth_headers(tenant, "agent,manager")
    ticket, customer = f"tkt_{uuid.uuid4().hex[:8]}", f"cust-{uuid.uuid4().hex[:6]}"
    requests = [
        ("/v1/quotes", {"ticket_id": ticket, "work": {"resolution_code": "adjusted"}}),
        ("/v1/waivers", {"ticket_id": ticket, "amount_minor": 100, "reason": "goodwill"}),
        (
            "/v1/sales",
            {
                "customer_id": customer,
                "asset_id": "A-1",
                "items": [{"code": "X", "description": "x", "unit_price_minor": 1}],
            },
        ),
        ("/v1/entitlements", {"kind": "package", "customer_id": customer, "visits_remaining": 2}),
    ]
    for path, body in requests:
        r = await client.post(path, json=body, headers=staff)
        assert r.status_code == 422 and r.json()["title"] == "Unknown reference", (path, r.text)
    assert await _count(runtime, quotes, tenant) == 0
    await learn_ticket(runtime, tenant, ticket, "cust-owner")
    await learn_customer(runtime, tenant, customer)
    for path, body in requests:
        assert (await client.post(path, json=body, headers=staff)).status_code == 201, path
    # a quote naming another customer than the ticket's is refused too
    other = await client.post(
        "/v1/quotes",
        json={"ticket_id": ticket, "customer_id": customer, "work": {"resolution_code": "adjusted"}},
        headers=staff,
    )
    assert other.status_code == 422 and other.json()["title"] == "Unknown reference"


async def test_a_receipt_per_payment_as_pdf_for_the_invoices_customer_only(client, billing_app):
    inv = await _invoice(client)
    for amount in (1000, inv["total_minor"] - 1000):
        r = await client.post(
            f"/v1/invoices/{inv['id']}/payments",
            json={"amount_minor": amount, "currency": "CNY", "method": "cash"},
            headers=AGENT,
        )
        assert r.status_code == 201, r.text
    mine = auth_headers("t1", "customer", customer_id="cust-ent-1")
    listed = (await client.get("/v1/invoices", params={"ticket_id": inv["ticket_id"]}, headers=mine)).json()
    receipts = [p["receipt_number"] for p in listed[0]["payments"]]
    assert receipts == [f"R-{inv['number']}-01", f"R-{inv['number']}-02"]
    assert [p["amount_minor"] for p in listed[0]["payments"]] == [1000, inv["total_minor"] - 1000]
    pdf = await client.get(f"/v1/invoices/{inv['id']}/receipts/{receipts[1]}/pdf", headers=mine)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"] == f'inline; filename="{receipts[1]}.pdf"'
    other = auth_headers("t1", "customer", customer_id="cust-someone-else")
    theirs = await client.get(f"/v1/invoices/{inv['id']}/receipts/{receipts[1]}/pdf", headers=other)
    assert theirs.status_code == 404 and theirs.headers["content-type"] == "application/problem+json"
    assert b"%PDF" not in theirs.content
    unknown = await client.get(f"/v1/invoices/{inv['id']}/receipts/R-{inv['number']}-09/pdf", headers=mine)
    assert unknown.status_code == 404


async def test_invoice_receipt_and_statement_pdfs_print_chinese_and_are_drawn_off_the_event_loop(
    client, billing_app, monkeypatch
):
    """What a Chinese service centre prints: the sale's Chinese description in the CJK font, each
    PDF drawn in a worker thread (reportlab is CPU work: on the event loop it stalls every request)."""
    import threading

    from billing.adapters import rendering
    from fixflow_shared.testing.pdf import CJK_FONT, drawn, text_in

    runtime, _ = billing_app
    tenant = f"zh{uuid.uuid4().hex[:6]}"
    staff = auth_headers(tenant, "agent,manager")
    customer = f"cust-{uuid.uuid4().hex[:6]}"
    await learn_customer(runtime, tenant, customer)
    sale = await client.post(
        "/v1/sales",
        json={
            "customer_id": customer,
            "asset_id": f"asset-{uuid.uuid4().hex[:6]}",
            "items": [{"code": "AC-9", "description": "变频空调 9000 & 安装支架", "unit_price_minor": 359900}],
        },
        headers=staff,
    )
    assert sale.status_code == 201, sale.text
    inv = sale.json()
    paid = await client.post(
        f"/v1/invoices/{inv['id']}/payments",
        json={"amount_minor": 100000, "currency": "CNY", "method": "cash"},
        headers=staff,
    )
    assert paid.status_code == 201, paid.text

    loop_thread, threads = threading.get_ident(), {}
    for name in ("invoice_pdf", "receipt_pdf", "statement_pdf"):
        real = getattr(rendering, name)

        def in_thread(*args, _real=real, _name=name):
            threads[_name] = threading.get_ident()
            return _real(*args)

        monkeypatch.setattr(rendering, name, in_thread)
    invoice = await client.get(f"/v1/invoices/{inv['id']}/pdf", headers=staff)
    receipt = await client.get(f"/v1/invoices/{inv['id']}/receipts/{paid.json()['receipt_number']}/pdf", headers=staff)
    statement = await client.get(f"/v1/statements/{customer}/{inv['issued_at'][:7]}?format=pdf", headers=staff)
    for r in (invoice, receipt, statement):
        assert r.status_code == 200 and r.content.startswith(b"%PDF"), r.text
        assert {f for _, f in drawn(r.content)} == {CJK_FONT}
    assert "变频空调 9000 & 安装支架" in text_in(invoice.content, CJK_FONT)
    assert inv["number"] in text_in(statement.content, CJK_FONT)
    assert set(threads) == {"invoice_pdf", "receipt_pdf", "statement_pdf"}
    assert loop_thread not in threads.values(), "a PDF was drawn on the event loop"
