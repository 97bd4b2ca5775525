"""Scenario 4, complaint: recorded at once, escalated when the contact deadline passes, then the
customer is called, the complaint resolved, surveyed and closed.

Simulated clock: the tenant's SLA policy (intake PUT /v1/settings) gives the complaint contact
clock a target of 0.0015 business hours (5.4 s) on a 24x7 UTC calendar, so "24 h pass" in about
five seconds of wall time; intake's real SLA timer loop (Redis due-timer wheel, 1 s poll) fires it.
Nothing else is faked: the breach, the escalation and the manager's notifications are the ones
production would raise."""

from __future__ import annotations

import time
import uuid

import pytest
from helpers import one_trace_of_ticket
from lifecycle_kit import Fixflow, answer_url_in, email_bodies, email_subjects, sms_texts

from fixflow_shared.testing import eventually_blocking

pytestmark = pytest.mark.e2e

CONTACT_TARGET_H = 0.0015  # the simulated "24 h" of the complaint contact clock (5.4 s)
SCORES = ("timeliness", "professionalism", "attitude", "effectiveness", "overall")


def test_complaint_escalates_when_the_contact_deadline_passes_then_is_resolved(
    fixflow, smtp_server, sms_gateway, otlp_receiver
):
    started = time.monotonic()
    ff = Fixflow(fixflow, f"sc4-{uuid.uuid4().hex[:6]}")
    email, phone = f"zhou.mei.{ff.tenant}@example.com", "+8613912340004"
    manager_email, manager_phone = f"manager.{ff.tenant}@example.com", "+8613600000404"
    ff.put(
        "intake",
        "/settings",
        {
            "calendar": {"tz": "UTC", "working_hours": None, "weekdays": [0, 1, 2, 3, 4, 5, 6]},
            "sla": {"targets": {"complaint_contact": {"any": CONTACT_TARGET_H}}},
        },
        expect=200,
    )
    ff.put(
        "notify",
        "/recipients/mgr-service",
        {"role": "manager", "name": "Service Manager", "email": manager_email, "phone": manager_phone, "locale": "en"},
        roles="admin,manager",
        expect=200,
    )
    ff.survey_sends_at_once(channel="email")
    customer = ff.post(
        "intake", "/customers", {"name": "Zhou Mei", "phone": phone, "email": email, "grade": "A"}, expect=201
    )

    # recorded: the complaint is a ticket of kind complaint; its record clock stops at once
    t = ff.open_ticket(
        {
            "kind": "complaint",
            "channel": "phone",
            "customer_id": customer["id"],
            "locale": "en",
            "symptom": "The technician arrived three hours late and did not call ahead",
            "complaint_level": 1,
        }
    )
    tid = t["id"]
    assert t["kind"] == "complaint" and t["complaint_level"] == 1 and t["path"] == "remote", t
    clocks = {c["name"]: c for c in ff.get("intake", f"/tickets/{tid}/details")["sla_clocks"]}
    assert set(clocks) == {"complaint_record", "complaint_contact", "complaint_fix"}
    assert clocks["complaint_record"]["stopped_at"] and clocks["complaint_record"]["met"] is True
    assert clocks["complaint_contact"]["stopped_at"] is None

    # nobody calls the customer: the contact deadline passes and the complaint escalates one level
    escalated = eventually_blocking(
        lambda: (lambda x: x if x["complaint_level"] == 2 else None)(ff.ticket(tid)),
        timeout=30,
        what="complaint escalated by the contact deadline",
    )
    assert escalated["status"] not in ("resolved", "closed")
    types = ff.wait_timeline(tid, "fixflow.intake.sla.breached.v1", "fixflow.intake.complaint.escalated.v1")
    assert "fixflow.intake.sla.at-risk.v1" in types
    timeline = ff.get("intake", f"/tickets/{tid}/timeline")["events"]
    breach = [e["data"] for e in timeline if e["type"] == "fixflow.intake.sla.breached.v1"]
    assert [b["clock"] for b in breach] == ["complaint_contact"], breach
    esc = [e["data"] for e in timeline if e["type"] == "fixflow.intake.complaint.escalated.v1"]
    assert len(esc) == 1 and esc[0]["from_level"] == 1 and esc[0]["level"] == 2 and esc[0]["to_role"] == "manager"
    assert "complaint_contact" in esc[0]["reason"]
    breached = eventually_blocking(
        lambda: ff.get("intake", "/tickets", params={"sla_risk": "breached"})["items"], timeout=10, what="breached list"
    )
    assert [x["id"] for x in breached] == [tid]

    # the manager is told (email and SMS)
    mgr_subjects = eventually_blocking(
        lambda: (lambda ss: ss if any("[Complaint escalated]" in s for s in ss) else None)(
            email_subjects(smtp_server, manager_email)
        ),
        timeout=20,
        what="manager's escalation email",
    )
    assert any("[SLA breached]" in s and tid in s for s in mgr_subjects), mgr_subjects
    eventually_blocking(
        lambda: any(tid in m for m in sms_texts(sms_gateway, manager_phone)),
        timeout=20,
        what="manager's escalation SMS",
    )

    # the agent calls the customer, records the contact, and resolves the complaint
    ff.post(
        "intake",
        f"/tickets/{tid}/notes",
        {"kind": "contact", "body": "Apologised; late arrival caused by a missed route update; voucher offered"},
        expect=201,
    )
    resolved = ff.post("intake", f"/tickets/{tid}/resolve", {"reason": "apology and route fix; customer accepts"})
    assert resolved["status"] == "resolved"

    # the customer is surveyed on the handling and is satisfied: closed
    mails = eventually_blocking(
        lambda: [b for b in email_bodies(smtp_server.inbox.to(email)) if "[Survey]" in b[0] and tid in b[0]],
        timeout=30,
        what="survey email",
    )
    ff.answer_survey_link(answer_url_in(mails[0][1]), {q: 5 for q in SCORES}, nps=8)
    closed = ff.wait_ticket(tid, "closed")

    # --- final state in every service --------------------------------------------------------------
    assert closed["complaint_level"] == 2 and closed["first_response_at"] and closed["resolved_at"]
    details = ff.get("intake", f"/tickets/{tid}/details")
    clocks = {c["name"]: c for c in details["sla_clocks"]}
    assert clocks["complaint_contact"]["breached_raised"] and clocks["complaint_contact"]["met"] is False
    assert clocks["complaint_fix"]["stopped_at"] and clocks["complaint_fix"]["met"] is True
    assert any(n["kind"] == "contact" for n in details["notes"])
    assert ff.call("GET", "dispatch", f"/jobs/by-ticket/{tid}").status_code == 404  # handled by phone, no visit
    assert ff.get("billing", "/invoices", params={"ticket_id": tid}) == []
    assert [s["status"] for s in ff.get("survey", "/surveys", params={"ticket_id": tid})] == ["completed"]
    deliveries = eventually_blocking(
        lambda: ff.deliveries(tid),
        lambda ds: ds and all(d["status"] == "sent" for d in ds),
        timeout=20,
        what="every delivery sent",
    )
    audiences = {
        (d["audience"], d["trigger_event_type"].split(".")[2] + "." + d["trigger_event_type"].split(".")[3])
        for d in deliveries
    }
    assert {
        ("customer", "ticket.opened"),
        ("manager", "complaint.escalated"),
        ("manager", "sla.breached"),
        ("customer", "survey.sent"),
    } <= audiences, audiences

    # --- what the customer received -----------------------------------------------------------------
    subjects = email_subjects(smtp_server, email)
    assert any(tid in s and "We received your request" in s for s in subjects), subjects
    assert not any("escalated" in s.lower() or "SLA" in s for s in subjects), subjects  # internal matters stay internal
    eventually_blocking(lambda: any(tid in m for m in sms_texts(sms_gateway, phone)), timeout=20, what="customer's SMS")

    # dispatch and billing take part as consumers of ticket.opened (no visit, nothing to price)
    trace_id, spans = one_trace_of_ticket(otlp_receiver, tid, {"intake", "dispatch", "billing", "survey", "notify"})
    fired = [s for s in spans if s.name == "sla.fire"]
    assert fired and all(s.service == "intake" for s in fired)  # the timer resumed the ticket's trace
    ff.close()
    print(
        f"scenario 4: {time.monotonic() - started:.1f}s, trace {trace_id} with {len(spans)} spans "
        f"from {sorted({s.service for s in spans})}"
    )
