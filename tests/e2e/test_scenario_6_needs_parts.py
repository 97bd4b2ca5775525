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
from datetime import UTC, datetime, timedelta

import pytest
from helpers import poll
from lifecycle_steps import Scenario, assert_ticket_in_one_trace, publish, read_topic

from fixflow_shared import topics
from fixflow_shared.events.contracts import dispatch as dev

pytestmark = pytest.mark.e2e


def test_needs_parts_request_to_warehouse_shipment_second_visit_done(
    fixflow, kafka, smtp_server, sms_gateway, otlp_receiver
):
    started = time.monotonic()
    s = Scenario(fixflow, "sc6")
    d = s.setup_customer_asset(bought_days_ago=100)
    tech = s.technician(name="Liu Yang", skills={"plumbing": 3})

    t = s.open_ticket({"kind": "repair", "symptom": "washer leaks water under the drum", "asset_id": d["asset"]["id"]})
    assert t["warranty"]["status"] == "in_warranty" and t["path"] == "on_site"

    # --- first visit: the part is missing ------------------------------------------------------------
    s.wait_job("assigned")
    wo1 = s.job_detail()["work_orders"][0]
    assert wo1["technician_id"] == tech["id"] and wo1["visit_number"] == 1
    s.visit(wo1["id"], parts=[], labour_minutes=20, diagnosis="drain pump cracked; not in the van")
    s.wait_ticket("in_progress")
    failed = s.post("dispatch", f"/v1/work-orders/{wo1['id']}/failure", {
        "outcome": "needs_parts", "note": "pump to be ordered",
        "parts_needed": [{"part_code": "PUMP-W1", "quantity": 1, "source": "warehouse"}]}, roles="technician")
    pr_id = failed["parts_request_id"]
    assert pr_id and failed["work_order"]["status"] == "needs_parts"
    s.wait_job("waiting_parts")
    s.wait_ticket("scheduled")  # the ticket waits for the follow-up visit

    # --- the warehouse reads the request ------------------------------------------------------------
    requests = read_topic(kafka.bootstrap, topics.INTEGRATION_PARTS_REQUESTS, subject=s.ticket_id,
                          type_="fixflow.dispatch.parts-request.submitted.v1")
    assert len(requests) == 1
    req = requests[0]
    body = req.payload()
    assert isinstance(body, dev.PartsRequestSubmitted)
    assert body.parts_request_id == pr_id and body.tenant_id == s.tenant and body.technician_id == tech["id"]
    assert [(p.part_code, p.quantity, p.source) for p in body.parts] == [("PUMP-W1", 1, "warehouse")]
    assert req.key == s.ticket_id.encode() and "traceparent" in req.trace_headers

    # --- logistics: picked, then shipped with an ETA --------------------------------------------------
    now = datetime.now(UTC)
    common = {"parts_request_id": pr_id, "ticket_id": s.ticket_id, "shipment_id": "SF-" + pr_id[-8:], "carrier": "SF Express"}
    publish(kafka.bootstrap, dev.ShipmentUpdated(**common, status="picked", updated_at=now),
            tenant=s.tenant, subject=s.ticket_id, source="/logistics/sf-express", answering=req)
    time.sleep(1.0)
    assert s.job()["status"] == "waiting_parts", "picked in the warehouse is not on its way yet"
    publish(kafka.bootstrap, dev.ShipmentUpdated(**common, status="shipped", eta=now + timedelta(minutes=1),
                                                 updated_at=datetime.now(UTC)),
            tenant=s.tenant, subject=s.ticket_id, source="/logistics/sf-express", answering=req)

    # --- second visit -----------------------------------------------------------------------------------
    s.wait_job("assigned")
    detail = s.job_detail()
    assert len(detail["work_orders"]) == 2 and len(detail["appointments"]) == 2
    wo2 = next(w for w in detail["work_orders"] if w["visit_number"] == 2)
    appt2 = next(a for a in detail["appointments"] if a["visit_number"] == 2)
    assert datetime.fromisoformat(appt2["window_start"]) >= now, "not booked before the parts arrive"
    s.visit(wo2["id"], parts=[{"part_code": "PUMP-W1", "quantity": 1, "source": "warehouse"}], labour_minutes=35,
            diagnosis="drain pump replaced")
    s.sign_off(wo2["id"], "pump_replaced_quality_fault")

    # --- final state in every service -------------------------------------------------------------------
    resolved = s.wait_ticket("resolved")
    assert resolved["technician_id"] == tech["id"]
    assert s.job()["status"] == "done"
    assert s.get("dispatch", f"/v1/work-orders/{wo1['id']}")["status"] == "needs_parts"
    assert s.get("dispatch", f"/v1/work-orders/{wo2['id']}")["status"] == "completed"
    types = poll(lambda: (ts := s.timeline_types()) and "fixflow.billing.charge.waived.v1" in ts and ts, 20,
                 what="charge waived on the timeline")
    for et in ("fixflow.dispatch.work-order.failed.v1", "fixflow.dispatch.parts.requested.v1",
               "fixflow.dispatch.work-order.completed.v1", "fixflow.intake.ticket.resolved.v1"):
        assert et in types, et
    assert types.count("fixflow.dispatch.appointment.booked.v1") == 2
    assert s.invoices() == [], "in warranty: nothing to invoice"
    surveys = poll(lambda: s.get("survey", "/v1/surveys", params={"ticket_id": s.ticket_id}), 20, what="survey")
    assert len(surveys) == 1 and surveys[0]["status"] == "scheduled" and surveys[0]["technician_id"] in (None, tech["id"])

    # --- what the customer received ---------------------------------------------------------------------
    mails = poll(lambda: (m := s.emails(smtp_server)) and sum(x.startswith("[Appointment]") for x in m) == 2
                 and any(x.startswith("[Done]") for x in m) and m, 20, what="two booking emails and the done email")
    assert any(x.startswith("[Service]") for x in mails)
    assert not any(x.startswith("[Invoice]") for x in mails), mails
    sms = poll(lambda: (m := s.sms(sms_gateway)) and sum("Liu Yang" in x for x in m) >= 2 and m, 20, what="booking sms")
    assert len([x for x in sms if "Liu Yang" in x]) == 2, sms  # one confirmation per visit

    assert_ticket_in_one_trace(otlp_receiver, s.ticket_id, {"intake", "dispatch", "billing", "notify", "survey"})
    print(f"scenario 6 took {time.monotonic() - started:.1f}s")
