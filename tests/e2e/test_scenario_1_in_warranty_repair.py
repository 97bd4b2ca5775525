"""Scenario 1, in-warranty repair: request → triage → booked → assigned → on site → signed off →
charge waived → survey 5/5 → closed. All five services as processes over the real broker; the
customer's emails and SMS are read from the local SMTP server and SMS gateway; the whole ticket is
one trace."""

from __future__ import annotations

import time
import uuid

import pytest
from helpers import one_trace_of_ticket
from lifecycle_kit import Fixflow, answer_url_in, email_bodies, email_subjects, sms_texts

from fixflow_shared.testing import eventually_blocking

pytestmark = pytest.mark.e2e

TICKET = "fixflow.intake.ticket"


def test_in_warranty_repair_is_free_surveyed_and_closed(fixflow, smtp_server, sms_gateway, otlp_receiver):
    started = time.monotonic()
    ff = Fixflow(fixflow, f"sc1-{uuid.uuid4().hex[:6]}")
    email, phone = f"chen.jing.{ff.tenant}@example.com", "+8613912340001"
    ff.survey_sends_at_once(channel="email")
    tech = ff.technician("Li Wei", phone="+8613700000101", team_id="pudong-1")
    c = ff.customer_with_asset(email=email, phone=phone, warranty_months=12, bought_days_ago=100)

    # request: the customer calls; intake checks the warranty and triages at once
    t = ff.open_ticket(
        {
            "kind": "repair",
            "channel": "phone",
            "symptom": "washer leaks water under the drum during the spin cycle",
            "customer_id": c["customer_id"],
            "asset_id": c["asset_id"],
            "address_id": c["address_id"],
            "locale": "en",
        }
    )
    tid = t["id"]
    assert t["status"] == "triaged" and t["path"] == "on_site", t
    assert t["warranty"]["status"] == "in_warranty", t["warranty"]

    # booked and assigned by dispatch (placed at once), which moves the ticket to scheduled
    job = ff.wait_job(tid, lambda j: j["status"] == "assigned" and j["work_orders"], "job assigned")
    wo = job["work_orders"][0]
    assert wo["technician_id"] == tech["id"] and job["appointments"][0]["status"] in ("booked", "confirmed")
    ff.wait_ticket(tid, "scheduled")

    # on site: the technician's app
    ff.visit(wo["id"])
    ff.wait_ticket(tid, "in_progress")
    ff.work(wo["id"], diagnosis="motor brushes defective from the factory", labour_minutes=35)
    done = ff.sign_off(
        wo["id"],
        resolution_code="replaced_defective_brushes",
        signed_by="Chen Jing",
        rating=5,
        work_type="repair",  # recorded by the technician; billing prices by it (work-order.completed v1.1)
        fault_cause="quality",
    )
    assert done["status"] == "completed", done

    # signed off -> resolved; billing waives the charge (in warranty, quality fault)
    ff.wait_ticket(tid, "resolved")
    ff.wait_timeline(tid, "fixflow.billing.charge.waived.v1")

    # survey goes out by email; the customer answers 5/5 through the link
    survey = eventually_blocking(
        lambda: [s for s in ff.get("survey", "/surveys", params={"ticket_id": tid}) if s["status"] == "sent"],
        timeout=30,
        what="survey sent",
    )[0]
    mails = eventually_blocking(
        lambda: [b for b in email_bodies(smtp_server.inbox.to(email)) if "[Survey]" in b[0]],
        timeout=30,
        what="survey email",
    )
    url = answer_url_in(mails[0][1])
    ff.answer_survey_link(
        url,
        {q: 5 for q in ("timeliness", "professionalism", "attitude", "effectiveness", "overall")},
        nps=10,
        comment="Quick and friendly, thank you",
    )

    # closed once the satisfied survey is in
    closed = ff.wait_ticket(tid, "closed")

    # --- final state in every service --------------------------------------------------------------
    assert closed["resolved_at"] and closed["closed_at"] and closed["technician_id"] == tech["id"]
    types = ff.wait_timeline(tid, "fixflow.survey.survey.completed.v1", f"{TICKET}.closed.v1")
    for expected in (
        f"{TICKET}.opened.v1",
        f"{TICKET}.triaged.v1",
        "fixflow.dispatch.appointment.booked.v1",
        "fixflow.dispatch.technician.assigned.v1",
        "fixflow.dispatch.visit.started.v1",
        "fixflow.dispatch.work-order.completed.v1",
        f"{TICKET}.resolved.v1",
        "fixflow.billing.charge.waived.v1",
        "fixflow.survey.survey.scheduled.v1",
        "fixflow.survey.survey.sent.v1",
        "fixflow.survey.survey.completed.v1",
        f"{TICKET}.closed.v1",
    ):
        assert expected in types, (expected, types)
    assert "fixflow.billing.invoice.issued.v1" not in types
    assert "fixflow.survey.dissatisfaction.reported.v1" not in types

    job = ff.job(tid)
    assert job["status"] == "done", job["status"]
    assert [w["status"] for w in job["work_orders"]] == ["completed"]
    wo_read = ff.get("dispatch", f"/work-orders/{wo['id']}")
    assert (
        wo_read["sign_off"]["signed_by"] == "Chen Jing" and wo_read["resolution_code"] == "replaced_defective_brushes"
    )
    assert wo_read["completion"]["work_type"] == "repair" and wo_read["completion"]["fault_cause"] == "quality"

    assert ff.get("billing", "/invoices", params={"ticket_id": tid}) == []  # nothing to pay
    waived = ff.get("billing", "/settlements/waived", params={"ticket_id": tid})
    assert [(w["work_order_id"], w["rule"]) for w in waived] == [(wo["id"], "warranty.quality_repair_free")], waived
    assert waived[0]["waived_minor"] > 0 and all(ln["amount_minor"] == 0 for ln in waived[0]["lines"]), waived

    surveys = ff.get("survey", "/surveys", params={"ticket_id": tid})
    assert [s["status"] for s in surveys] == ["completed"]
    # the technician's team: dispatch -> intake (ticket.resolved v1.1) -> survey
    assert surveys[0]["team_id"] == "pudong-1", surveys
    answered = ff.get("survey", f"/surveys/{survey['id']}")
    assert answered["response"]["scores"]["overall"] == 5 and answered["response"]["nps"] == 10

    # --- what the customer received -----------------------------------------------------------------
    subjects = email_subjects(smtp_server, email)
    assert any(tid in s and "We received your request" in s for s in subjects), subjects
    assert any("[Appointment]" in s for s in subjects), subjects
    assert any("[Done]" in s for s in subjects), subjects
    assert any("[Survey]" in s for s in subjects), subjects
    assert not any("[Invoice]" in s for s in subjects), subjects
    sms = sms_texts(sms_gateway, phone)
    assert any(tid in m for m in sms), sms  # acknowledgement and the booking by SMS too
    assert any("Li Wei" in m for m in sms), sms
    tech_sms = sms_texts(sms_gateway, "+8613700000101")
    assert any(tid in m for m in tech_sms), tech_sms

    deliveries = eventually_blocking(
        lambda: (lambda ds: ds if ds and all(d["status"] == "sent" for d in ds) else None)(ff.deliveries(tid)),
        timeout=20,
        what="every delivery sent",
    )
    by_trigger = {
        (d["trigger_event_type"].split(".")[2] + "." + d["trigger_event_type"].split(".")[3], d["channel"])
        for d in deliveries
        if d["audience"] == "customer"
    }
    assert {
        ("ticket.opened", "email"),
        ("ticket.opened", "sms"),
        ("appointment.booked", "email"),
        ("appointment.booked", "sms"),
        ("work-order.completed", "email"),
        ("survey.sent", "email"),
    } <= by_trigger, by_trigger
    assert all(email not in d["recipient"] for d in deliveries)  # masked

    # --- one trace --------------------------------------------------------------------------------
    trace_id, spans = one_trace_of_ticket(otlp_receiver, tid, {"intake", "dispatch", "billing", "survey", "notify"})
    assert len(spans) > 20, len(spans)
    ff.close()
    print(f"scenario 1: {time.monotonic() - started:.1f}s, trace {trace_id} with {len(spans)} spans")
