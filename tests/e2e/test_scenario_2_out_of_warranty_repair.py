"""Scenario 2: out-of-warranty repair.

A washer bought 400 days ago leaks (warranty one year): intake decides out of warranty and triages
on site; dispatch holds the job until the customer consents to billing's quote (no visit before);
the customer accepts on the phone; dispatch books the visit; the technician replaces the pump and
the customer signs; billing invoices exactly what was quoted; the customer pays part, then the rest;
intake closes the ticket once the invoice is paid in full. All over the real services, one trace.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from helpers import one_trace_of_ticket
from lifecycle_kit import Fixflow, email_subjects, processed_by, sms_texts

from fixflow_shared import topics
from fixflow_shared.testing import eventually_blocking

pytestmark = pytest.mark.e2e


def test_out_of_warranty_repair_quote_consent_repair_invoice_partial_and_full_payment_closed(
    fixflow, kafka, smtp_server, sms_gateway, otlp_receiver
):
    started = time.monotonic()
    ff = Fixflow(fixflow, f"sc2-{uuid.uuid4().hex[:6]}")
    email, phone = f"wang.fang.{ff.tenant}@example.com", "+8613912320002"
    c = ff.customer_with_asset(email=email, phone=phone, name="Wang Fang", bought_days_ago=400)
    tech = ff.technician("Zhang Wei", phone="+8613700000202", skills={"plumbing": 3}, van_stock={"PUMP-W1": 2})

    t = ff.open_ticket(
        {
            "kind": "repair",
            "channel": "phone",
            "symptom": "washer leaks water on the floor",
            "asset_id": c["asset_id"],
            "contact_email": email,
            "contact_phone": phone,
            "locale": "en",
        }
    )
    tid = t["id"]
    assert t["warranty"]["status"] == "out_of_warranty", t["warranty"]
    assert t["status"] == "triaged" and t["path"] == "on_site"
    assert ff.traceparent, "intake exposes the ticket's trace context"

    # dispatch knows the job but books nothing before the customer consents
    ff.wait_job(tid, "awaiting_consent")
    assert ff.job(tid)["appointments"] == []

    work = {"resolution_code": "pump_replaced", "labour_minutes": 40, "parts": [{"code": "PUMP-W1", "quantity": 1}]}
    quote = ff.post("billing", "/quotes", {"ticket_id": tid, "work": work})
    assert quote["status"] == "issued" and quote["service_kind"] == "A" and quote["total_minor"] > 0
    eventually_blocking(
        lambda: any("[Quote]" in x for x in email_subjects(smtp_server, email, about=tid)),
        timeout=20,
        what="quote email",
    )
    processed_by("dispatch", kafka.bootstrap, topics.BILLING_INVOICES)  # dispatch has seen the quote
    assert ff.job(tid)["status"] == "awaiting_consent", "an issued quote alone books nothing"

    accepted = ff.post(
        "billing",
        f"/quotes/{quote['id']}/accept",
        {"channel": "phone", "signed_name": "Wang Fang"},
        roles="customer",
        customer_id=c["customer_id"],
    )
    assert accepted["status"] == "accepted" and accepted["consent"]["channel"] == "phone"

    ff.wait_job(tid, "assigned")
    detail = ff.job(tid)
    assert len(detail["work_orders"]) == 1 and len(detail["appointments"]) == 1
    wo = detail["work_orders"][0]
    assert wo["technician_id"] == tech["id"]
    ff.wait_ticket(tid, "scheduled")

    ff.visit(wo["id"])
    ff.work(
        wo["id"],
        diagnosis="drain pump seal cracked",
        labour_minutes=40,
        parts=[{"part_code": "PUMP-W1", "quantity": 1, "source": "van_stock"}],
    )
    ff.wait_ticket(tid, "in_progress")
    ff.sign_off(
        wo["id"],
        resolution_code="pump_replaced",
        signed_by="Wang Fang",
        signed_at=datetime.now(UTC) - timedelta(seconds=5),
    )

    inv = eventually_blocking(
        lambda: ff.get("billing", "/invoices", params={"ticket_id": tid}), timeout=30, what="invoice"
    )[0]
    assert inv["work_order_id"] == wo["id"] and inv["service_kind"] == "A"
    assert inv["total_minor"] == quote["total_minor"], "the invoice says what the customer consented to"
    assert [(ln["code"], ln["amount_minor"]) for ln in inv["lines"]] == [
        (ln["code"], ln["amount_minor"]) for ln in quote["lines"]
    ]
    assert inv["status"] == "issued" and inv["balance_due_minor"] == inv["total_minor"]
    ff.wait_ticket(tid, "resolved")

    total = inv["total_minor"]
    first = total // 2
    p1 = ff.post(
        "billing",
        f"/invoices/{inv['id']}/payments",
        {"amount_minor": first, "currency": inv["currency"], "method": "cash"},
    )
    assert p1["balance_due_minor"] == total - first and p1["invoice_status"] == "partially_paid"
    ff.wait_timeline(tid, "fixflow.billing.payment.received.v1")  # intake applied the payment
    assert ff.ticket(tid)["status"] == "resolved", "a partial payment does not close the ticket"
    p2 = ff.post(
        "billing",
        f"/invoices/{inv['id']}/payments",
        {"amount_minor": total - first, "currency": inv["currency"], "method": "card"},
    )
    assert p2["balance_due_minor"] == 0 and p2["invoice_status"] == "paid"

    # --- final state in every service -------------------------------------------------------------
    closed = ff.wait_ticket(tid, "closed")
    assert closed["closed_at"] and closed["technician_id"] == tech["id"]
    types = ff.wait_timeline(tid, "fixflow.intake.ticket.closed.v1", timeout=20)
    for et in (
        "fixflow.intake.ticket.opened.v1",
        "fixflow.billing.quote.issued.v1",
        "fixflow.billing.quote.accepted.v1",
        "fixflow.dispatch.appointment.booked.v1",
        "fixflow.dispatch.visit.started.v1",
        "fixflow.dispatch.work-order.completed.v1",
        "fixflow.billing.invoice.issued.v1",
        "fixflow.billing.payment.received.v1",
        "fixflow.intake.ticket.resolved.v1",
    ):
        assert et in types, et
    assert types.index("fixflow.billing.quote.accepted.v1") < types.index("fixflow.dispatch.appointment.booked.v1")
    assert types.count("fixflow.billing.payment.received.v1") == 2

    job = ff.job(tid)
    assert job["status"] == "done"
    wo_now = ff.get("dispatch", f"/work-orders/{wo['id']}")
    assert wo_now["status"] == "completed" and wo_now["sign_off"]["signed_by"] == "Wang Fang"

    inv_now = ff.get("billing", f"/invoices/{inv['id']}")
    assert inv_now["status"] == "paid" and inv_now["paid_minor"] == total and inv_now["balance_due_minor"] == 0
    assert ff.get("billing", f"/quotes/{quote['id']}")["status"] == "accepted"

    surveys = eventually_blocking(
        lambda: ff.get("survey", "/surveys", params={"ticket_id": tid}), timeout=20, what="survey scheduled"
    )
    assert len(surveys) == 1 and surveys[0]["status"] == "scheduled"

    # --- what the customer received ---------------------------------------------------------------
    expected = ["[Service]", "[Quote]", "[Appointment]", "[Done]", "[Invoice]", "[Receipt]"]
    mails = eventually_blocking(
        lambda: (
            (m := email_subjects(smtp_server, email, about=tid))
            and sum(x.startswith("[Receipt]") for x in m) == 2
            and m
        ),
        timeout=20,
        what="receipts by email",
    )
    for prefix in expected:
        assert any(x.startswith(prefix) for x in mails), (prefix, mails)
    assert sum(x.startswith("[Invoice]") for x in mails) == 1 and sum(x.startswith("[Quote]") for x in mails) == 1
    sms = eventually_blocking(
        lambda: (m := sms_texts(sms_gateway, phone)) and len(m) >= 2 and m, timeout=20, what="sms"
    )
    assert any(tid in x for x in sms) and any("Zhang Wei" in x for x in sms), sms  # ack + booking
    sent = [d for d in ff.deliveries(tid) if d["status"] == "sent"]
    assert email not in str(sent), "addresses are masked in notify's API"

    # --- one trace for the whole ticket -----------------------------------------------------------
    one_trace_of_ticket(otlp_receiver, tid, {"intake", "dispatch", "billing", "notify", "survey"})
    ff.close()
    print(f"scenario 2 took {time.monotonic() - started:.1f}s")
