"""Scenario 5, customer absent: the technician finds nobody at home and leaves a note; dispatch books
a second visit at once; the agent reaches the customer, who moves the visit to a time that suits;
the second visit does the work; the ticket is resolved, surveyed and closed. One trace throughout."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

import pytest
from helpers import one_trace_of_ticket
from lifecycle_kit import Fixflow, answer_url_in, email_bodies, email_subjects, sms_texts

from fixflow_shared.testing import eventually_blocking

pytestmark = pytest.mark.e2e

SCORES = ("timeliness", "professionalism", "attitude", "effectiveness", "overall")


def test_customer_absent_note_reschedule_second_visit_done(fixflow, smtp_server, sms_gateway, otlp_receiver):
    started = time.monotonic()
    ff = Fixflow(fixflow, f"sc5-{uuid.uuid4().hex[:6]}")
    email, phone = f"wang.lei.{ff.tenant}@example.com", "+8613912350005"
    ff.survey_sends_at_once(channel="email")
    tech = ff.technician("Zhao Min", phone="+8613700000505")
    c = ff.customer_with_asset(email=email, phone=phone, name="Wang Lei")
    t = ff.open_ticket(
        {
            "kind": "repair",
            "channel": "web",
            "symptom": "dishwasher leaks water onto the kitchen floor",
            "customer_id": c["customer_id"],
            "asset_id": c["asset_id"],
            "locale": "en",
        }
    )
    tid = t["id"]
    assert t["status"] == "triaged" and t["path"] == "on_site", t

    job = ff.wait_job(tid, lambda j: j["status"] == "assigned" and j["work_orders"], "first visit assigned")
    first = job["work_orders"][0]
    ff.wait_ticket(tid, "scheduled")

    # nobody at home: the technician records it and leaves a card at the door
    ff.visit(first["id"])
    ff.wait_ticket(tid, "in_progress")
    r = ff.post(
        "dispatch",
        f"/work-orders/{first['id']}/failure",
        {"outcome": "customer_absent", "note": "nobody home; left a card at the door"},
        roles="technician",
        technician_id=first["technician_id"],
    )
    assert r["work_order"]["status"] == "customer_absent" and r["parts_request_id"] is None, r

    # dispatch books a second visit at once; the ticket goes back to scheduled
    job = ff.wait_job(tid, lambda j: len(j["work_orders"]) == 2 and j["status"] == "assigned", "second visit booked")
    second = job["work_orders"][-1]
    assert second["visit_number"] == 2 and second["technician_id"] == tech["id"]
    ff.wait_ticket(tid, "scheduled")
    appt = [a for a in job["appointments"] if a["visit_number"] == 2][0]

    # the agent reaches the customer (a contact note on the ticket) ...
    ff.post(
        "intake",
        f"/tickets/{tid}/notes",
        {"kind": "contact", "body": "Customer was at work; agreed a visit tomorrow afternoon"},
        expect=201,
    )
    # ... and moves the visit, as agreed, to a later bookable window the customer could pick too (/offers); the
    # agent does it: the customer's own change online is refused within 2 hours of the visit, which this
    # automatically booked second visit may be
    offers = ff.get("dispatch", f"/jobs/{job['id']}/offers", roles="customer", customer_id=c["customer_id"])
    later = [o for o in offers if datetime.fromisoformat(o["start"]) >= datetime.fromisoformat(appt["window_end"])]
    assert later, (appt, offers)
    start, end = datetime.fromisoformat(later[-1]["start"]), datetime.fromisoformat(later[-1]["end"])
    moved = ff.post(
        "dispatch",
        f"/appointments/{appt['id']}/reschedule",
        {"start": start.isoformat(), "end": end.isoformat(), "reason": "customer at work then"},
    )
    assert moved["status"] in ("booked", "confirmed", "rescheduled") and moved["technician_id"] == tech["id"], moved
    assert datetime.fromisoformat(moved["window_start"]) == start
    rescheduled_mail = eventually_blocking(
        lambda: [s for s in email_subjects(smtp_server, email) if "[Rescheduled]" in s],
        timeout=20,
        what="reschedule email",
    )
    assert tid in rescheduled_mail[0]

    # the second visit does the work
    ff.visit(second["id"])
    ff.wait_ticket(tid, "in_progress")
    ff.sign_off(second["id"], resolution_code="replaced_defective_door_seal", signed_by="Wang Lei", rating=5)
    ff.wait_ticket(tid, "resolved")

    mails = eventually_blocking(
        lambda: [b for b in email_bodies(smtp_server.inbox.to(email)) if "[Survey]" in b[0]],
        timeout=30,
        what="survey email",
    )
    ff.answer_survey_link(answer_url_in(mails[0][1]), {q: 5 for q in SCORES}, nps=9)
    closed = ff.wait_ticket(tid, "closed")

    # --- final state in every service --------------------------------------------------------------
    assert closed["technician_id"] == tech["id"] and closed["closed_at"]
    details = ff.get("intake", f"/tickets/{tid}/details")
    assert any(n["kind"] == "contact" and "agreed a visit" in n["body"] for n in details["notes"]), details["notes"]
    types = ff.wait_timeline(tid, "fixflow.intake.ticket.closed.v1", "fixflow.billing.charge.waived.v1")
    assert types.count("fixflow.dispatch.visit.started.v1") == 2
    assert "fixflow.dispatch.work-order.failed.v1" in types and "fixflow.dispatch.appointment.rescheduled.v1" in types
    timeline = ff.get("intake", f"/tickets/{tid}/timeline")["events"]
    failed = [e for e in timeline if e["type"] == "fixflow.dispatch.work-order.failed.v1"][0]["data"]
    assert failed["outcome"] == "customer_absent" and failed["follow_up_needed"] is True

    job = ff.job(tid)
    assert job["status"] == "done" and job["visits"] == 2
    assert [(w["visit_number"], w["status"]) for w in job["work_orders"]] == [(1, "customer_absent"), (2, "completed")]
    first_read = ff.get("dispatch", f"/work-orders/{first['id']}")
    assert first_read["note"] == "nobody home; left a card at the door"
    visit2 = [a for a in job["appointments"] if a["visit_number"] == 2][0]
    assert datetime.fromisoformat(visit2["window_start"]) == start

    assert ff.get("billing", "/invoices", params={"ticket_id": tid}) == []  # in warranty: the charge was waived
    waived = ff.get("billing", "/settlements/waived", params={"ticket_id": tid})
    assert [w["work_order_id"] for w in waived] == [second["id"]], waived  # the visit nobody was home for costs nothing
    assert [s["status"] for s in ff.get("survey", "/surveys", params={"ticket_id": tid})] == ["completed"]

    # --- what the customer received -----------------------------------------------------------------
    subjects = email_subjects(smtp_server, email)
    assert any("We received your request" in s for s in subjects)
    assert sum("[Appointment]" in s for s in subjects) >= 2, subjects  # the first visit and the second
    assert sum("[Rescheduled]" in s for s in subjects) == 1, subjects
    assert any("[Done]" in s for s in subjects) and any("[Survey]" in s for s in subjects), subjects
    sms = sms_texts(sms_gateway, phone)
    assert any("moved to" in m and "Zhao Min" in m for m in sms), sms  # the new time by SMS as well
    tech_sms = sms_texts(sms_gateway, "+8613700000505")
    # the technician's messages are in their own (default zh-CN) locale: visit 2 assigned, then moved
    assert any(tid in m and "第 2 次上门" in m for m in tech_sms), tech_sms
    assert any(tid in m and "改约至" in m for m in tech_sms), tech_sms
    deliveries = eventually_blocking(
        lambda: (lambda ds: ds if ds and all(d["status"] == "sent" for d in ds) else None)(ff.deliveries(tid)),
        timeout=20,
        what="every delivery sent",
    )
    assert {d["trigger_event_type"] for d in deliveries} >= {
        "fixflow.dispatch.appointment.rescheduled.v1",
        "fixflow.survey.survey.sent.v1",
    }

    trace_id, spans = one_trace_of_ticket(otlp_receiver, tid, {"intake", "dispatch", "billing", "survey", "notify"})
    ff.close()
    print(f"scenario 5: {time.monotonic() - started:.1f}s, trace {trace_id} with {len(spans)} spans")
