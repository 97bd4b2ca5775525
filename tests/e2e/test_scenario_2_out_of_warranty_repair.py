"""Scenario 2: out-of-warranty repair.

A washer bought 400 days ago leaks (warranty one year): intake decides out of warranty and triages
on site; dispatch holds the job until the customer consents to billing's quote (no visit before);
the customer accepts on the phone; dispatch books the visit; the technician replaces the pump and
the customer signs; billing invoices exactly what was quoted; the customer pays part, then the rest;
intake closes the ticket once the invoice is paid in full. All over the real services, one trace.
"""

from __future__ import annotations

import time

import pytest
from helpers import poll
from lifecycle_steps import Scenario, assert_ticket_in_one_trace

pytestmark = pytest.mark.e2e


def test_out_of_warranty_repair_quote_consent_repair_invoice_partial_and_full_payment_closed(
    fixflow, smtp_server, sms_gateway, otlp_receiver
):
    started = time.monotonic()
    s = Scenario(fixflow, "sc2")
    d = s.setup_customer_asset(bought_days_ago=400)
    tech = s.technician(name="Zhang Wei", skills={"plumbing": 3}, van_stock={"PUMP-W1": 2})

    t = s.open_ticket({"kind": "repair", "symptom": "washer leaks water on the floor", "asset_id": d["asset"]["id"]})
    assert t["warranty"]["status"] == "out_of_warranty", t["warranty"]
    assert t["status"] == "triaged" and t["path"] == "on_site"
    assert s.traceparent, "intake exposes the ticket's trace context"

    # dispatch knows the job but books nothing before the customer consents
    s.wait_job("awaiting_consent")
    assert s.job_detail()["appointments"] == []

    work = {"resolution_code": "pump_replaced", "labour_minutes": 40, "parts": [{"code": "PUMP-W1", "quantity": 1}]}
    quote = s.post("billing", "/v1/quotes", {"ticket_id": s.ticket_id, "work": work})
    assert quote["status"] == "issued" and quote["service_kind"] == "A" and quote["total_minor"] > 0
    poll(lambda: any("[Quote]" in x for x in s.emails(smtp_server)), 20, what="quote email")
    time.sleep(0.5)
    assert s.job()["status"] == "awaiting_consent", "an issued quote alone books nothing"

    accepted = s.post("billing", f"/v1/quotes/{quote['id']}/accept", {"channel": "phone", "signed_name": "Wang Fang"},
                      roles="customer")
    assert accepted["status"] == "accepted" and accepted["consent"]["channel"] == "phone"

    job = s.wait_job("assigned")
    detail = s.job_detail()
    assert len(detail["work_orders"]) == 1 and len(detail["appointments"]) == 1
    wo = detail["work_orders"][0]
    assert wo["technician_id"] == tech["id"]
    s.wait_ticket("scheduled")

    s.visit(wo["id"], parts=[{"part_code": "PUMP-W1", "quantity": 1, "source": "van_stock"}], labour_minutes=40,
            diagnosis="drain pump seal cracked")
    s.wait_ticket("in_progress")
    s.sign_off(wo["id"], "pump_replaced")

    inv = poll(lambda: s.invoices(), 30, what="invoice")[0]
    assert inv["work_order_id"] == wo["id"] and inv["service_kind"] == "A"
    assert inv["total_minor"] == quote["total_minor"], "the invoice says what the customer consented to"
    assert [(ln["code"], ln["amount_minor"]) for ln in inv["lines"]] == [(ln["code"], ln["amount_minor"]) for ln in quote["lines"]]
    assert inv["status"] == "issued" and inv["balance_due_minor"] == inv["total_minor"]
    s.wait_ticket("resolved")

    total = inv["total_minor"]
    first = total // 2
    p1 = s.post("billing", f"/v1/invoices/{inv['id']}/payments",
                {"amount_minor": first, "currency": inv["currency"], "method": "cash"})
    assert p1["balance_due_minor"] == total - first and p1["invoice_status"] == "partially_paid"
    time.sleep(1.0)
    assert s.ticket()["status"] == "resolved", "a partial payment does not close the ticket"
    p2 = s.post("billing", f"/v1/invoices/{inv['id']}/payments",
                {"amount_minor": total - first, "currency": inv["currency"], "method": "card"})
    assert p2["balance_due_minor"] == 0 and p2["invoice_status"] == "paid"

    # --- final state in every service -------------------------------------------------------------
    closed = s.wait_ticket("closed")
    assert closed["closed_at"] and closed["technician_id"] == tech["id"]
    types = poll(lambda: (ts := s.timeline_types()) and "fixflow.intake.ticket.closed.v1" in ts and ts, 20, what="timeline")
    for et in ("fixflow.intake.ticket.opened.v1", "fixflow.billing.quote.issued.v1", "fixflow.billing.quote.accepted.v1",
               "fixflow.dispatch.appointment.booked.v1", "fixflow.dispatch.visit.started.v1",
               "fixflow.dispatch.work-order.completed.v1", "fixflow.billing.invoice.issued.v1",
               "fixflow.billing.payment.received.v1", "fixflow.intake.ticket.resolved.v1"):
        assert et in types, et
    assert types.index("fixflow.billing.quote.accepted.v1") < types.index("fixflow.dispatch.appointment.booked.v1")
    assert types.count("fixflow.billing.payment.received.v1") == 2

    job = s.job()
    assert job["status"] == "done"
    wo_now = s.get("dispatch", f"/v1/work-orders/{wo['id']}")
    assert wo_now["status"] == "completed" and wo_now["sign_off"]["signed_by"] == "Wang Fang"

    inv_now = s.get("billing", f"/v1/invoices/{inv['id']}")
    assert inv_now["status"] == "paid" and inv_now["paid_minor"] == total and inv_now["balance_due_minor"] == 0
    assert s.get("billing", f"/v1/quotes/{quote['id']}")["status"] == "accepted"

    surveys = poll(lambda: s.get("survey", "/v1/surveys", params={"ticket_id": s.ticket_id}), 20, what="survey scheduled")
    assert len(surveys) == 1 and surveys[0]["status"] == "scheduled"

    # --- what the customer received ---------------------------------------------------------------
    expected = ["[Service]", "[Quote]", "[Appointment]", "[Done]", "[Invoice]", "[Receipt]"]
    mails = poll(lambda: (m := s.emails(smtp_server)) and sum(x.startswith("[Receipt]") for x in m) == 2 and m, 20,
                 what="receipts by email")
    for prefix in expected:
        assert any(x.startswith(prefix) for x in mails), (prefix, mails)
    assert sum(x.startswith("[Invoice]") for x in mails) == 1 and sum(x.startswith("[Quote]") for x in mails) == 1
    sms = poll(lambda: (m := s.sms(sms_gateway)) and len(m) >= 2 and m, 20, what="sms")
    assert any(s.ticket_id in x for x in sms) and any("Zhang Wei" in x for x in sms), sms  # ack + booking
    sent = [d for d in s.deliveries() if d["status"] == "sent"]
    assert s.email not in str(sent), "addresses are masked in notify's API"

    # --- one trace for the whole ticket -----------------------------------------------------------
    assert_ticket_in_one_trace(otlp_receiver, s.ticket_id, {"intake", "dispatch", "billing", "notify", "survey"})
    print(f"scenario 2 took {time.monotonic() - started:.1f}s")
