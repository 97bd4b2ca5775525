"""Scenario 3: return within 30 days -> pickup by logistics -> refund minus the customer's share.

The shop sold a washer today (billing invoices the sale, paid by card). The customer returns it:
intake's return-window decision says `return_window_open` (send-in path, nobody visits); dispatch
asks logistics for a pickup on fixflow.integration.parts-requests (read here as logistics would);
logistics reports `picked` then `delivered` (to the warehouse) on fixflow.integration.shipments;
dispatch reports return.received; intake resolves; billing refunds what was paid minus the return
freight and the card fee, with a credit note; intake closes. Design: docs/adr/lifecycle-returns.md.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime

import pytest
from helpers import one_trace_of_ticket
from lifecycle_kit import Fixflow, email_bodies, email_subjects, publish, read_topic, sms_texts

from fixflow_shared import topics
from fixflow_shared.events.contracts import dispatch as dev
from fixflow_shared.testing import eventually_blocking

pytestmark = pytest.mark.e2e

PRICE = 259_900  # 2,599.00 CNY
FREIGHT = 1_500  # the tenant's return freight
CARD_FEE_BP = 60  # 0.6 % of the card payment


def test_return_within_30_days_pickup_by_logistics_refund_minus_customer_share(
    fixflow, kafka, smtp_server, sms_gateway, otlp_receiver
):
    started = time.monotonic()
    ff = Fixflow(fixflow, f"sc3-{uuid.uuid4().hex[:6]}")
    email, phone = f"wang.fang.{ff.tenant}@example.com", "+8613912330003"
    c = ff.customer_with_asset(email=email, phone=phone, name="Wang Fang", bought_days_ago=0, return_window_days=30)
    ff.post(
        "billing",
        "/price-books",
        {
            "effective_from": date(2020, 1, 1).isoformat(),
            "visit_fee_minor": 2000,
            "adjustment_fee_minor": 2000,
            "fitting_labour_minor": 3000,
            "freight_minor": FREIGHT,
            "card_fee_bp": CARD_FEE_BP,
        },
    )
    body = {
        "customer_id": c["customer_id"],
        "asset_id": c["asset_id"],
        "items": [{"code": c["model"], "description": "washing machine", "unit_price_minor": PRICE}],
    }

    def sell() -> dict | None:  # billing sells to customers it learned from intake (customer.registered)
        r = ff.call("POST", "billing", "/sales", json=body, expect=(201, 422))
        return r.json() if r.status_code == 201 else None

    sale = eventually_blocking(sell, timeout=20, what="billing to learn the customer and sell")
    assert sale["total_minor"] == PRICE
    paid = ff.post(
        "billing",
        f"/invoices/{sale['id']}/payments",
        {"amount_minor": PRICE, "currency": "CNY", "method": "card"},
        roles="agent",
    )
    assert paid["invoice_status"] == "paid"

    t = ff.open_ticket(
        {
            "kind": "return",
            "channel": "phone",
            "symptom": "changed my mind, unused, in the original box",
            "asset_id": c["asset_id"],
            "contact_email": email,
            "contact_phone": phone,
            "locale": "en",
        }
    )
    tid = t["id"]
    assert t["warranty"]["status"] == "return_window_open" and t["warranty"]["returnable"] is True
    assert t["path"] == "send_in" and t["status"] == "triaged"

    # --- logistics reads the pickup request ------------------------------------------------------------
    req = read_topic(
        kafka.bootstrap,
        topics.INTEGRATION_PARTS_REQUESTS,
        subject=tid,
        type_="fixflow.dispatch.pickup-request.submitted.v1",
    )
    assert len(req) == 1
    pickup = req[0].payload()
    assert isinstance(pickup, dev.PickupRequestSubmitted)
    assert pickup.asset_id == c["asset_id"] and pickup.deliver_to == "warehouse"
    assert pickup.site and pickup.site["lat"] and "Century" not in str(pickup.model_dump()), "no street address (PII)"
    assert pickup.return_window_ends_on == t["warranty"]["return_window_ends_on"]
    assert ff.call("GET", "dispatch", f"/jobs/by-ticket/{tid}").status_code == 404, (
        "nobody is sent on site for a return"
    )

    common = {
        "parts_request_id": pickup.pickup_request_id,
        "ticket_id": tid,
        "shipment_id": "SF-RET-1",
        "carrier": "SF Express",
    }
    publish(
        kafka.bootstrap,
        dev.ShipmentUpdated(**common, status="picked", updated_at=datetime.now(UTC)),
        tenant=ff.tenant,
        subject=tid,
        source="/logistics/sf-express",
        answering=req[0],
    )
    eventually_blocking(
        lambda: ff.get("dispatch", f"/parts-requests/{pickup.pickup_request_id}")["status"] == "picked",
        timeout=20,
        what="pickup picked",
    )
    assert ff.ticket(tid)["status"] == "triaged", "collected is not yet received"
    assert ff.get("billing", f"/invoices/{sale['id']}")["refunded_minor"] == 0
    publish(
        kafka.bootstrap,
        dev.ShipmentUpdated(**common, status="delivered", updated_at=datetime.now(UTC)),
        tenant=ff.tenant,
        subject=tid,
        source="/logistics/sf-express",
        answering=req[0],
    )

    # --- final state in every service ------------------------------------------------------------------
    closed = ff.wait_ticket(tid, "closed")
    assert closed["resolved_at"] and closed["closed_at"]
    pr = ff.get("dispatch", f"/parts-requests/{pickup.pickup_request_id}")
    assert pr["kind"] == "pickup" and pr["status"] == "delivered" and pr["shipment_id"] == "SF-RET-1"

    inv = ff.get("billing", f"/invoices/{sale['id']}")
    assert inv["status"] == "refunded" and inv["refunded_minor"] == PRICE
    card_fee = (PRICE * CARD_FEE_BP + 5_000) // 10_000  # half up
    types = ff.wait_timeline(tid, "fixflow.intake.ticket.closed.v1", timeout=20)
    for et in (
        "fixflow.intake.ticket.opened.v1",
        "fixflow.dispatch.return.received.v1",
        "fixflow.intake.ticket.resolved.v1",
        "fixflow.billing.credit-note.issued.v1",
        "fixflow.billing.refund.issued.v1",
    ):
        assert et in types, et
    refund = next(
        e["data"]
        for e in ff.get("intake", f"/tickets/{tid}/timeline")["events"]
        if e["type"] == "fixflow.billing.refund.issued.v1"
    )
    assert refund["gross_minor"] == PRICE and refund["customer_share_minor"] == FREIGHT + card_fee
    assert refund["amount_minor"] == PRICE - FREIGHT - card_fee and refund["invoice_id"] == sale["id"]
    surveys = eventually_blocking(
        lambda: ff.get("survey", "/surveys", params={"ticket_id": tid}), timeout=20, what="survey"
    )
    assert len(surveys) == 1  # the follow-up asks about the return too

    # --- what the customer received ---------------------------------------------------------------------
    mails = eventually_blocking(
        lambda: (m := email_subjects(smtp_server, email, about=tid)) and any(x.startswith("[Refund]") for x in m) and m,
        timeout=20,
        what="refund email",
    )
    assert any(x.startswith("[Service]") for x in mails), mails
    body = next(b for subject, b in email_bodies(smtp_server.inbox.to(email)) if subject.startswith("[Refund]"))
    assert f"{(PRICE - FREIGHT - card_fee) / 100:.2f}" in body, body
    sms = eventually_blocking(lambda: sms_texts(sms_gateway, phone), timeout=20, what="acknowledgement sms")
    assert any(tid in x for x in sms), sms

    one_trace_of_ticket(otlp_receiver, tid, {"intake", "dispatch", "billing", "notify", "survey"})
    ff.close()
    print(f"scenario 3 took {time.monotonic() - started:.1f}s")
