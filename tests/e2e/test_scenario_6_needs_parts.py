"""Scenario 6: needs parts.

An in-warranty washer leaks; the first visit finds a cracked drain pump the technician does not
carry: the work order fails with `needs_parts`, dispatch sends a parts request to the warehouse on
fixflow.integration.parts-requests (read here as the warehouse would); logistics answers on
fixflow.integration.shipments (published here as the logistics system would, echoing the request's
trace headers); dispatch books the second visit, which fixes it; billing waives the charge (warranty),
intake resolves the ticket and survey schedules the follow-up.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from helpers import one_trace_of_ticket
from lifecycle_kit import Fixflow, email_subjects, processed_by, publish, read_topic, sms_texts

from fixflow_shared import topics
from fixflow_shared.events.contracts import dispatch as dev
from fixflow_shared.testing import eventually_blocking

pytestmark = pytest.mark.e2e


def test_needs_parts_request_to_warehouse_shipment_second_visit_done(
    fixflow, kafka, smtp_server, sms_gateway, otlp_receiver
):
    started = time.monotonic()
    ff = Fixflow(fixflow, f"sc6-{uuid.uuid4().hex[:6]}")
    email, phone = f"wang.fang.{ff.tenant}@example.com", "+8613912360006"
    c = ff.customer_with_asset(email=email, phone=phone, name="Wang Fang", bought_days_ago=100)
    tech = ff.technician("Liu Yang", phone="+8613700000606", skills={"plumbing": 3})

    t = ff.open_ticket(
        {
            "kind": "repair",
            "channel": "phone",
            "symptom": "washer leaks water under the drum",
            "asset_id": c["asset_id"],
            "contact_email": email,
            "contact_phone": phone,
            "locale": "en",
        }
    )
    tid = t["id"]
    assert t["warranty"]["status"] == "in_warranty" and t["path"] == "on_site"

    # --- first visit: the part is missing ------------------------------------------------------------
    ff.wait_job(tid, "assigned")
    wo1 = ff.job(tid)["work_orders"][0]
    assert wo1["technician_id"] == tech["id"] and wo1["visit_number"] == 1
    ff.visit(wo1["id"])
    ff.work(wo1["id"], diagnosis="drain pump cracked; not in the van", labour_minutes=20, parts=[])
    ff.wait_ticket(tid, "in_progress")
    failed = ff.post(
        "dispatch",
        f"/work-orders/{wo1['id']}/failure",
        {
            "outcome": "needs_parts",
            "note": "pump to be ordered",
            "parts_needed": [{"part_code": "PUMP-W1", "quantity": 1, "source": "warehouse"}],
        },
        roles="technician",
        technician_id=wo1["technician_id"],
    )
    pr_id = failed["parts_request_id"]
    assert pr_id and failed["work_order"]["status"] == "needs_parts"
    ff.wait_job(tid, "waiting_parts")
    ff.wait_ticket(tid, "scheduled")  # the ticket waits for the follow-up visit

    # --- the warehouse reads the request ------------------------------------------------------------
    requests = read_topic(
        kafka.bootstrap,
        topics.INTEGRATION_PARTS_REQUESTS,
        subject=tid,
        type_="fixflow.dispatch.parts-request.submitted.v1",
    )
    assert len(requests) == 1
    req = requests[0]
    body = req.payload()
    assert isinstance(body, dev.PartsRequestSubmitted)
    assert body.parts_request_id == pr_id and body.tenant_id == ff.tenant and body.technician_id == tech["id"]
    assert [(p.part_code, p.quantity, p.source) for p in body.parts] == [("PUMP-W1", 1, "warehouse")]
    assert req.key == tid.encode() and "traceparent" in req.trace_headers

    # --- logistics: picked, then shipped with an ETA --------------------------------------------------
    now = datetime.now(UTC)
    common = {"parts_request_id": pr_id, "ticket_id": tid, "shipment_id": "SF-" + pr_id[-8:], "carrier": "SF Express"}
    publish(
        kafka.bootstrap,
        dev.ShipmentUpdated(**common, status="picked", updated_at=now),
        tenant=ff.tenant,
        subject=tid,
        source="/logistics/sf-express",
        answering=req,
    )
    processed_by("dispatch", kafka.bootstrap, topics.INTEGRATION_SHIPMENTS)
    assert ff.job(tid)["status"] == "waiting_parts", "picked in the warehouse is not on its way yet"
    publish(
        kafka.bootstrap,
        dev.ShipmentUpdated(**common, status="shipped", eta=now + timedelta(minutes=1), updated_at=datetime.now(UTC)),
        tenant=ff.tenant,
        subject=tid,
        source="/logistics/sf-express",
        answering=req,
    )

    # --- second visit -----------------------------------------------------------------------------------
    ff.wait_job(tid, "assigned")
    detail = ff.job(tid)
    assert len(detail["work_orders"]) == 2 and len(detail["appointments"]) == 2
    wo2 = next(w for w in detail["work_orders"] if w["visit_number"] == 2)
    appt2 = next(a for a in detail["appointments"] if a["visit_number"] == 2)
    assert datetime.fromisoformat(appt2["window_start"]) >= now, "not booked before the parts arrive"
    ff.visit(wo2["id"])
    ff.work(
        wo2["id"],
        diagnosis="drain pump replaced",
        labour_minutes=35,
        parts=[{"part_code": "PUMP-W1", "quantity": 1, "source": "warehouse"}],
    )
    ff.sign_off(
        wo2["id"],
        resolution_code="pump_replaced_quality_fault",
        signed_by="Wang Fang",
        signed_at=datetime.now(UTC) - timedelta(seconds=5),
    )

    # --- final state in every service -------------------------------------------------------------------
    resolved = ff.wait_ticket(tid, "resolved")
    assert resolved["technician_id"] == tech["id"]
    assert ff.job(tid)["status"] == "done"
    assert ff.get("dispatch", f"/work-orders/{wo1['id']}")["status"] == "needs_parts"
    assert ff.get("dispatch", f"/work-orders/{wo2['id']}")["status"] == "completed"
    # the timeline records intake's own events as it consumes them, in no set order with the other topics
    types = ff.wait_timeline(
        tid,
        "fixflow.billing.charge.waived.v1",
        "fixflow.dispatch.work-order.failed.v1",
        "fixflow.dispatch.parts.requested.v1",
        "fixflow.dispatch.work-order.completed.v1",
        "fixflow.intake.ticket.resolved.v1",
        timeout=20,
    )
    assert types.count("fixflow.dispatch.appointment.booked.v1") == 2
    assert ff.get("billing", "/invoices", params={"ticket_id": tid}) == [], "in warranty: nothing to invoice"
    surveys = eventually_blocking(
        lambda: ff.get("survey", "/surveys", params={"ticket_id": tid}), timeout=20, what="survey"
    )
    assert (
        len(surveys) == 1 and surveys[0]["status"] == "scheduled" and surveys[0]["technician_id"] in (None, tech["id"])
    )

    # --- what the customer received ---------------------------------------------------------------------
    mails = eventually_blocking(
        lambda: (
            (m := email_subjects(smtp_server, email, about=tid))
            and sum(x.startswith("[Appointment]") for x in m) == 2
            and any(x.startswith("[Done]") for x in m)
            and m
        ),
        timeout=20,
        what="two booking emails and the done email",
    )
    assert any(x.startswith("[Service]") for x in mails)
    assert not any(x.startswith("[Invoice]") for x in mails), mails
    sms = eventually_blocking(
        lambda: (
            (m := sms_texts(sms_gateway, phone))
            and sum("visit is booked" in x for x in m) >= 2
            and sum("Liu Yang is on the way" in x for x in m) >= 2
            and m
        ),
        timeout=20,
        what="booking and on-the-way sms",
    )
    assert len([x for x in sms if "visit is booked" in x and "Liu Yang" in x]) == 2, sms  # one confirmation per visit
    assert len([x for x in sms if "Liu Yang is on the way" in x]) == 2, sms  # one per departure

    one_trace_of_ticket(otlp_receiver, tid, {"intake", "dispatch", "billing", "notify", "survey"})
    ff.close()
    print(f"scenario 6 took {time.monotonic() - started:.1f}s")
