"""Scenario 7, dissatisfied customer: the survey comes back with a 1 for effectiveness (the leak is
back) → dissatisfaction reported → the original ticket is reopened (round 2) and a linked complaint
recorded → dispatch books a second visit → the repair holds → a new survey 5/5 → closed; the
complaint is answered and closed by the agent. One trace throughout."""

from __future__ import annotations

import time
import uuid

import pytest
from helpers import one_trace_of_ticket
from lifecycle_kit import Fixflow, answer_url_in, email_bodies, email_subjects, sms_texts

from fixflow_shared.testing import eventually_blocking

pytestmark = pytest.mark.e2e

SCORES = ("timeliness", "professionalism", "attitude", "effectiveness", "overall")


def survey_links(smtp_server: object, email: str, ticket_id: str) -> list[str]:
    return [
        answer_url_in(body)
        for subject, body in email_bodies(smtp_server.inbox.to(email))  # type: ignore[attr-defined]
        if "[Survey]" in subject and ticket_id in subject
    ]


def test_score_1_reopens_the_ticket_for_a_second_visit_then_closes(fixflow, smtp_server, sms_gateway, otlp_receiver):
    started = time.monotonic()
    ff = Fixflow(fixflow, f"sc7-{uuid.uuid4().hex[:6]}")
    email, phone = f"liu.yang.{ff.tenant}@example.com", "+8613912370007"
    ff.survey_sends_at_once(channel="email")
    tech = ff.technician("Sun Hao", phone="+8613700000707")
    c = ff.customer_with_asset(email=email, phone=phone, name="Liu Yang")
    t = ff.open_ticket(
        {
            "kind": "repair",
            "channel": "phone",
            "symptom": "washing machine leaks from the door seal",
            "customer_id": c["customer_id"],
            "asset_id": c["asset_id"],
            "locale": "en",
        }
    )
    tid = t["id"]
    assert t["status"] == "triaged" and t["path"] == "on_site" and t["round"] == 1, t

    # first visit: the seal is replaced, the customer signs, the ticket is resolved
    job = ff.wait_job(tid, lambda j: j["status"] == "assigned" and j["work_orders"], "first visit assigned")
    first = job["work_orders"][0]
    ff.visit(first["id"])
    ff.sign_off(first["id"], resolution_code="replaced_defective_seal", signed_by="Liu Yang", rating=4)
    ff.wait_ticket(tid, "resolved")

    # the survey: effectiveness 1 ("still leaking")
    link = eventually_blocking(lambda: survey_links(smtp_server, email, tid), timeout=30, what="first survey email")[0]
    ff.answer_survey_link(
        link,
        {"timeliness": 4, "professionalism": 4, "attitude": 5, "effectiveness": 1, "overall": 1},
        nps=2,
        comment="It is still leaking two days later",
    )

    # dissatisfaction -> the ticket is reopened (round 2, triaged again) and a complaint is linked to it
    reopened = eventually_blocking(
        lambda: (lambda x: x if x["round"] == 2 else None)(ff.ticket(tid)), timeout=30, what="ticket reopened"
    )
    assert reopened["status"] in ("triaged", "scheduled"), reopened["status"]
    complaints = eventually_blocking(
        lambda: [
            x
            for x in ff.get("intake", "/tickets", params={"kind": "complaint", "limit": 100})["items"]
            if x["original_ticket_id"] == tid
        ],
        timeout=20,
        what="linked complaint",
    )
    complaint = complaints[0]
    assert complaint["complaint_level"] == 2 and complaint["status"] != "closed"

    # dispatch books the second visit; it holds this time
    job = ff.wait_job(tid, lambda j: len(j["work_orders"]) == 2 and j["status"] == "assigned", "second visit booked")
    second = job["work_orders"][-1]
    assert second["visit_number"] == 2 and second["technician_id"] == tech["id"]
    ff.wait_ticket(tid, "scheduled")
    ff.visit(second["id"])
    ff.wait_ticket(tid, "in_progress")
    ff.work(second["id"], diagnosis="door hinge bent; the new seal did not sit", labour_minutes=50)
    ff.sign_off(second["id"], resolution_code="adjusted_defective_hinge", signed_by="Liu Yang", rating=5)
    ff.wait_ticket(tid, "resolved")

    # a new survey for round 2, answered 5/5 -> closed
    links = eventually_blocking(
        lambda: (lambda ls: ls if len(ls) >= 2 else None)(survey_links(smtp_server, email, tid)),
        timeout=30,
        what="second survey email",
    )
    assert links[-1] != link
    ff.answer_survey_link(links[-1], {q: 5 for q in SCORES}, nps=9)
    closed = ff.wait_ticket(tid, "closed")

    # the agent calls the customer about the complaint, tells the outcome, and closes it
    ff.traceparent = complaint["traceparent"]
    ff.post(
        "intake",
        f"/tickets/{complaint['id']}/notes",
        {"kind": "contact", "body": "Called: the second visit fixed it"},
        expect=201,
    )
    ff.post(
        "intake",
        f"/tickets/{complaint['id']}/resolve",
        {"reason": "rework done on the original ticket; customer satisfied"},
    )
    ff.post("intake", f"/tickets/{complaint['id']}/close", {"reason": "customer informed of the outcome"})
    ff.traceparent = closed["traceparent"]

    # --- final state in every service --------------------------------------------------------------
    assert closed["round"] == 2 and closed["technician_id"] == tech["id"]
    complaint_now = ff.ticket(complaint["id"])
    assert complaint_now["status"] == "closed" and complaint_now["first_response_at"]
    types = ff.wait_timeline(tid, "fixflow.intake.ticket.closed.v1")
    for expected in ("fixflow.survey.dissatisfaction.reported.v1", "fixflow.intake.ticket.reopened.v1"):
        assert expected in types, (expected, types)
    assert (
        types.count("fixflow.intake.ticket.resolved.v1") == 2 and types.count("fixflow.survey.survey.completed.v1") == 2
    )
    assert types.count("fixflow.dispatch.work-order.completed.v1") == 2
    eventually_blocking(
        lambda: ff.timeline_types(tid).count("fixflow.billing.charge.waived.v1") == 2,
        timeout=20,
        what="both visits waived",
    )

    job = ff.job(tid)
    assert job["status"] == "done" and job["visits"] == 2
    assert [(w["visit_number"], w["status"]) for w in job["work_orders"]] == [(1, "completed"), (2, "completed")]
    assert ff.get("billing", "/invoices", params={"ticket_id": tid}) == []  # in warranty: both visits free
    waived = ff.get("billing", "/settlements/waived", params={"ticket_id": tid})
    assert sorted(w["work_order_id"] for w in waived) == sorted([first["id"], second["id"]]), waived
    surveys = ff.get("survey", "/surveys", params={"ticket_id": tid})
    assert [s["status"] for s in surveys] == ["completed", "completed"], surveys
    first_answer = ff.get("survey", f"/surveys/{surveys[0]['id']}")["response"]
    assert first_answer["scores"]["effectiveness"] == 1
    assert ff.get("survey", f"/surveys/{surveys[1]['id']}")["response"]["scores"]["overall"] == 5

    # --- what the customer received -----------------------------------------------------------------
    subjects = email_subjects(smtp_server, email)
    assert sum("[Appointment]" in s and tid in s for s in subjects) == 2, subjects  # one booking per visit
    assert sum("[Done]" in s and tid in s for s in subjects) == 2, subjects
    assert sum("[Survey]" in s and tid in s for s in subjects) == 2, subjects
    assert any(complaint["id"] in s and "We received your request" in s for s in subjects), (
        subjects
    )  # complaint acknowledged
    sms = sms_texts(sms_gateway, phone)
    assert sum("Your visit is booked" in m and "Sun Hao" in m for m in sms) == 2, sms  # both bookings by SMS too

    trace_id, spans = one_trace_of_ticket(otlp_receiver, tid, {"intake", "dispatch", "billing", "survey", "notify"})
    assert any(complaint["id"] in str(s.attributes.values()) for s in spans)  # the complaint belongs to the same trace
    ff.close()
    print(f"scenario 7: {time.monotonic() - started:.1f}s, trace {trace_id} with {len(spans)} spans")
