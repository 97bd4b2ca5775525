"""Dispatch end to end over the real broker: jobs from intake (exactly once), placement, 转派 on
absence, the technician app through completion, parts requests and shipments."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

import pytest
from dispatch_test_helpers import (
    envelope_of,
    events,
    fill_checklist,
    future,
    h,
    of_type,
    open_ticket,
    publish,
    technician,
    tenant,
    ticket_opened,
    ticket_triaged,
)

from fixflow_shared import topics
from fixflow_shared.events.contracts import dispatch as dev
from fixflow_shared.testing import eventually

pytestmark = pytest.mark.integration


async def job_of(client, t: str, ticket_id: str):
    r = await client.get(f"/v1/jobs/by-ticket/{ticket_id}", headers=h(t))
    return r.json() if r.status_code == 200 else None


async def test_replaying_ticket_opened_twice_creates_one_job_and_one_assignment(client, kafka):
    t = tenant()
    tech = await technician(client, t, name="Li Wei", team_id="STATION-7")
    env = ticket_opened(t)
    triaged = ticket_triaged(env)
    await publish(kafka.bootstrap, topics.INTAKE_TICKETS, env, env, triaged, triaged)  # each event twice
    job = await eventually(
        lambda: job_of(client, t, env.subject), lambda j: j is not None and j["status"] == "assigned"
    )
    found = await events(
        kafka.bootstrap,
        topics.DISPATCH_WORK_ORDERS,
        env.subject,
        lambda es: len(of_type(es, "technician.assigned")) >= 1,
    )
    # a second event would have shown by now if the replay had been applied again
    detail = (await client.get(f"/v1/jobs/{job['id']}", headers=h(t))).json()
    assert len(detail["work_orders"]) == 1 and len(detail["appointments"]) == 1
    jobs = (await client.get("/v1/jobs", headers=h(t))).json()
    assert [j["ticket_id"] for j in jobs] == [env.subject]
    assigned = of_type(found, "technician.assigned")
    assert len(assigned) == 1
    p = assigned[0].payload()
    assert isinstance(p, dev.TechnicianAssigned)
    assert p.ticket_id == env.subject and p.technician_id == tech["id"] and p.technician_name == "Li Wei"
    assert p.technician_phone and p.window is not None and "Li Wei" in p.explanation
    assert p.team_id == "STATION-7"  # reports group the technician's work under the team
    assert assigned[0].causationid == triaged.id and assigned[0].key == env.subject.encode()  # placed on triage
    booked = of_type(found, "appointment.booked")
    assert booked and booked[0].payload().window == p.window


async def test_absence_triggers_reassignment_end_to_end(client, kafka):
    t = tenant()
    near = await technician(client, t, name="Near", dlat=0.0)
    far = await technician(client, t, name="Far", dlat=0.05)
    env = await open_ticket(kafka.bootstrap, t, dlat=0.005)
    job = await eventually(
        lambda: job_of(client, t, env.subject), lambda j: j is not None and j["status"] == "assigned"
    )
    detail = (await client.get(f"/v1/jobs/{job['id']}", headers=h(t))).json()
    assert detail["work_orders"][0]["technician_id"] == near["id"]

    r = await client.post(
        f"/v1/technicians/{near['id']}/absences",
        json={"start": datetime.now(UTC).isoformat(), "end": future(24 * 8).isoformat(), "reason": "sick"},
        headers=h(t),
    )
    assert r.status_code == 201 and r.json()["unassigned_work_orders"] == [detail["work_orders"][0]["id"]]
    assert r.json()["replanned"]["moved"] == 1 and r.json()["replanned"]["unplaced"] == {}  # in-day replanning

    def reassigned(es):
        return any(e.type == dev.TechnicianAssigned.type and e.data["reassignment"] for e in es)

    found = await events(kafka.bootstrap, topics.DISPATCH_WORK_ORDERS, env.subject, reassigned)
    unassigned = of_type(found, "technician.unassigned")
    assert unassigned and unassigned[0].data["reason"] == "absent" and unassigned[0].data["technician_id"] == near["id"]
    again = [e for e in of_type(found, "technician.assigned") if e.data["reassignment"]][0]
    assert again.data["technician_id"] == far["id"] and again.data["previous_technician_id"] == near["id"]
    # placed again in the transaction that recorded the absence: the consumer of technician.unassigned
    # finds the job assigned and leaves it
    after = (await client.get(f"/v1/jobs/{job['id']}", headers=h(t))).json()
    assert [w["status"] for w in after["work_orders"]] == ["unassigned", "assigned"]
    assert len(after["appointments"]) == 1 and after["appointments"][0]["technician_id"] == far["id"]


async def test_technician_app_to_completion_carries_what_billing_needs(client, kafka):
    t = tenant()
    tech = await technician(client, t, name="Zhang", van_stock={"PUMP-1": 2}, team_id="pudong-2")
    env = await open_ticket(kafka.bootstrap, t)
    job = await eventually(
        lambda: job_of(client, t, env.subject), lambda j: j is not None and j["status"] == "assigned"
    )
    wo = (await client.get(f"/v1/jobs/{job['id']}", headers=h(t))).json()["work_orders"][0]["id"]
    hdr = h(t, "technician", technician_id=tech["id"])
    assert (await client.post(f"/v1/work-orders/{wo}/en-route", headers=hdr)).status_code == 200
    assert (
        await client.post(f"/v1/work-orders/{wo}/arrival", json={"lat": 31.24, "lon": 121.47}, headers=hdr)
    ).status_code == 200
    r = await client.post(
        f"/v1/work-orders/{wo}/work",
        json={
            "diagnosis": "worn pump",
            "parts": [{"part_code": "PUMP-1", "quantity": 1}],
            "labour_minutes": 40,
            "photos": [{"sha256": "a" * 64, "content_type": "image/jpeg"}],
        },
        headers=hdr,
    )
    assert r.status_code == 200, r.text
    too_many = await client.post(
        f"/v1/work-orders/{wo}/work", json={"parts": [{"part_code": "PUMP-1", "quantity": 5}]}, headers=hdr
    )
    assert too_many.status_code == 422  # the van holds only one more pump
    sig = hashlib.sha256(b"signature").hexdigest()
    await fill_checklist(client, wo, hdr)
    r = await client.post(
        f"/v1/work-orders/{wo}/completion",
        json={
            "resolution_code": "replaced_part",
            "signed_by": "Ms Chen",
            "signed_at": datetime.now(UTC).isoformat(),
            "signature_sha256": sig,
            "rating": 5,
            # what the fee schedule needs, recorded by the technician (work-order.completed v1.1)
            "work_type": "adjustment",
            "fault_origin": "customer",
            "fault_cause": "pump seal",
            "adjustments": 3,
            "freight": True,
        },
        headers=hdr,
    )
    assert r.status_code == 200, r.text
    assert r.json()["completion"] == {
        "work_type": "adjustment",
        "fault_origin": "customer",
        "fault_cause": "pump seal",
        "adjustments": 3,
        "freight": True,
        "internal": False,
    }
    again = await client.post(f"/v1/work-orders/{wo}/en-route", headers=hdr)
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    found = await events(
        kafka.bootstrap, topics.DISPATCH_WORK_ORDERS, env.subject, lambda es: bool(of_type(es, "work-order.completed"))
    )
    assert of_type(found, "visit.started")
    done = of_type(found, "work-order.completed")[0].payload()
    assert isinstance(done, dev.WorkOrderCompleted)
    assert [(p.part_code, p.quantity, p.source) for p in done.parts_used] == [("PUMP-1", 1, "van_stock")]
    assert done.labour_minutes == 40 and done.visit_number == 1 and done.first_time_fix
    assert (
        done.resolution_code == "replaced_part"
        and done.sign_off.signed_by == "Ms Chen"
        and done.sign_off.signature_sha256 == sig
    )
    assert (done.work_type, done.fault_origin, done.fault_cause, done.adjustments, done.freight, done.internal) == (
        "adjustment",
        "customer",
        "pump seal",
        3,
        True,
        False,
    )
    assert done.team_id == "pudong-2" and of_type(found, "technician.assigned")[0].payload().team_id == "pudong-2"
    stock = (await client.get(f"/v1/technicians/{tech['id']}", headers=h(t))).json()["van_stock"]
    assert stock == {"PUMP-1": 1}
    kpis = await client.get(
        "/v1/kpis", params={"from": future(-1).isoformat(), "to": future(1).isoformat()}, headers=h(t)
    )
    assert kpis.status_code == 200, kpis.text
    k = kpis.json()
    assert k["completed"] == 1 and k["first_time_fix_rate"] == 1.0 and k["jobs_per_technician"] == {tech["id"]: 1}
    assert k["available_minutes"] > 0 and 0 < k["utilisation"] < 1 and k["on_time_arrival_rate"] is not None
    bad = await client.get(
        "/v1/kpis", params={"from": future(1).isoformat(), "to": future(-1).isoformat()}, headers=h(t)
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


async def test_needs_parts_requests_them_and_a_shipment_books_the_follow_up(client, kafka):
    t = tenant()
    tech = await technician(client, t, name="Wu")
    env = await open_ticket(kafka.bootstrap, t)
    job = await eventually(
        lambda: job_of(client, t, env.subject), lambda j: j is not None and j["status"] == "assigned"
    )
    wo = (await client.get(f"/v1/jobs/{job['id']}", headers=h(t))).json()["work_orders"][0]["id"]
    hdr = h(t, "technician", technician_id=tech["id"])
    await client.post(f"/v1/work-orders/{wo}/arrival", json={}, headers=hdr)
    bad = await client.post(f"/v1/work-orders/{wo}/failure", json={"outcome": "needs_parts"}, headers=hdr)
    assert bad.status_code == 422
    r = await client.post(
        f"/v1/work-orders/{wo}/failure",
        json={
            "outcome": "needs_parts",
            "note": "motor burnt",
            "parts_needed": [{"part_code": "MOTOR-7", "quantity": 1, "source": "warehouse"}],
        },
        headers=hdr,
    )
    assert r.status_code == 200, r.text
    request_id = r.json()["parts_request_id"]
    found = await events(kafka.bootstrap, topics.INTEGRATION_PARTS_REQUESTS, env.subject, lambda es: bool(es))
    submitted = found[0].payload()
    assert isinstance(submitted, dev.PartsRequestSubmitted) and submitted.parts_request_id == request_id
    assert (await job_of(client, t, env.subject))["status"] == "waiting_parts"

    eta = future(20)
    shipment = dev.ShipmentUpdated(
        parts_request_id=request_id,
        ticket_id=env.subject,
        shipment_id=f"S-{uuid.uuid4().hex[:6]}",
        status="shipped",
        eta=eta,
        updated_at=datetime.now(UTC),
    )
    await publish(kafka.bootstrap, topics.INTEGRATION_SHIPMENTS, envelope_of(shipment, t, env.subject))
    job = await eventually(lambda: job_of(client, t, env.subject), lambda j: j["status"] == "assigned")
    assert job["visits"] == 2
    detail = (await client.get(f"/v1/jobs/{job['id']}", headers=h(t))).json()
    follow_up = detail["appointments"][-1]
    # the customer's window opens once the parts can be there, not merely the work
    opens = datetime.fromisoformat(follow_up["window_start"])
    assert follow_up["visit_number"] == 2 and (opens if opens.tzinfo else opens.replace(tzinfo=UTC)) >= eta
    found = await events(
        kafka.bootstrap,
        topics.DISPATCH_WORK_ORDERS,
        env.subject,
        lambda es: len(of_type(es, "appointment.booked")) >= 2,
    )
    assert of_type(found, "work-order.failed")[0].data["outcome"] == "needs_parts"
    assert of_type(found, "parts.requested")


async def test_customer_absent_books_a_second_visit_and_escalation_reopens(client, kafka):
    t = tenant()
    tech = await technician(client, t, name="Ma")
    env = await open_ticket(kafka.bootstrap, t)
    job = await eventually(
        lambda: job_of(client, t, env.subject), lambda j: j is not None and j["status"] == "assigned"
    )
    wo = (await client.get(f"/v1/jobs/{job['id']}", headers=h(t))).json()["work_orders"][0]["id"]
    hdr = h(t, "technician", technician_id=tech["id"])
    early = await client.post(f"/v1/work-orders/{wo}/failure", json={"outcome": "customer_absent"}, headers=hdr)
    assert early.status_code == 409  # not on site yet
    await client.post(f"/v1/work-orders/{wo}/arrival", json={}, headers=hdr)
    r = await client.post(
        f"/v1/work-orders/{wo}/failure", json={"outcome": "customer_absent", "note": "note left at door"}, headers=hdr
    )
    assert r.status_code == 200, r.text
    detail = (await client.get(f"/v1/jobs/{job['id']}", headers=h(t))).json()
    assert detail["status"] == "assigned" and detail["visits"] == 2
    second = detail["work_orders"][-1]
    assert second["visit_number"] == 2 and second["planned_start"] >= future(1.9).isoformat()[:16]
    await client.post(f"/v1/work-orders/{second['id']}/arrival", json={}, headers=hdr)
    r = await client.post(
        f"/v1/work-orders/{second['id']}/failure",
        json={"outcome": "escalated", "note": "asks for compensation"},
        headers=hdr,
    )
    assert r.status_code == 200
    assert (await job_of(client, t, env.subject))["status"] == "open"  # the team lead decides next
    found = await events(
        kafka.bootstrap, topics.DISPATCH_WORK_ORDERS, env.subject, lambda es: len(of_type(es, "work-order.failed")) >= 2
    )
    outcomes = [e.data["outcome"] for e in of_type(found, "work-order.failed")]
    assert outcomes == ["customer_absent", "escalated"]
    assert [e.data["follow_up_needed"] for e in of_type(found, "work-order.failed")] == [True, False]


async def test_out_of_warranty_repair_waits_for_quote_acceptance_and_rejection_cancels(client, kafka):
    from fixflow_shared.events.contracts import billing as bev

    t = tenant()
    await technician(client, t, name="Zhao")
    now = datetime.now(UTC)
    envs = []
    for _ in range(2):
        env = ticket_opened(t)
        env = envelope_of(
            type(env.payload())(**{**env.payload().model_dump(), "warranty_status": "out_of_warranty"}),
            t,
            env.subject,
            "/fixflow/intake",
        )
        envs.append(env)
    await publish(kafka.bootstrap, topics.INTAKE_TICKETS, *(e for env in envs for e in (env, ticket_triaged(env))))
    for env in envs:
        await eventually(
            lambda env=env: job_of(client, t, env.subject),
            lambda j: j is not None and j["status"] == "awaiting_consent",
        )
    # no visit is booked while the customer has not consented
    detail = (await client.get(f"/v1/jobs/{(await job_of(client, t, envs[0].subject))['id']}", headers=h(t))).json()
    assert detail["work_orders"] == [] and detail["appointments"] == []

    common = {"quote_id": "quo-1", "tenant_id": t, "consent_by": "agent-1", "consent_channel": "phone"}
    accepted = bev.QuoteAccepted(**common, ticket_id=envs[0].subject, total_minor=5000, currency="CNY", accepted_at=now)
    rejected = bev.QuoteRejected(**common, ticket_id=envs[1].subject, rejected_at=now)
    acc_env = envelope_of(accepted, t, envs[0].subject, "/fixflow/billing")
    await publish(
        kafka.bootstrap, topics.BILLING_INVOICES, acc_env, envelope_of(rejected, t, envs[1].subject, "/fixflow/billing")
    )
    await eventually(lambda: job_of(client, t, envs[0].subject), lambda j: j is not None and j["status"] == "assigned")
    await eventually(lambda: job_of(client, t, envs[1].subject), lambda j: j is not None and j["status"] == "cancelled")
    found = await events(
        kafka.bootstrap,
        topics.DISPATCH_WORK_ORDERS,
        envs[0].subject,
        lambda es: len(of_type(es, "appointment.booked")) >= 1,
    )
    assert of_type(found, "appointment.booked")[0].causationid == acc_env.id


async def test_return_in_window_asks_logistics_for_a_pickup_and_reports_the_receipt_once(client, kafka):
    t = tenant()
    env = ticket_opened(t, kind="return")
    opened = type(env.payload())(
        **{**env.payload().model_dump(), "warranty_status": "return_window_open", "path": "send_in"}
    )
    env = envelope_of(opened, t, env.subject, "/fixflow/intake")
    not_returnable = ticket_opened(t, kind="return")
    nr = type(not_returnable.payload())(
        **{**not_returnable.payload().model_dump(), "warranty_status": "not_returnable", "path": "send_in"}
    )
    not_returnable = envelope_of(nr, t, not_returnable.subject, "/fixflow/intake")
    await publish(kafka.bootstrap, topics.INTAKE_TICKETS, env, env, not_returnable)  # a replay too
    found = await events(
        kafka.bootstrap,
        topics.INTEGRATION_PARTS_REQUESTS,
        env.subject,
        lambda es: len(of_type(es, "pickup-request.submitted")) >= 1,
    )
    pickups = of_type(found, "pickup-request.submitted")
    assert len(pickups) == 1 and pickups[0].payload().pickup_request_id == f"PU-{env.subject}"
    assert await job_of(client, t, env.subject) is None  # nobody goes on site for a return
    r = await client.get(f"/v1/parts-requests/PU-{not_returnable.subject}", headers=h(t))
    assert r.status_code == 404  # not returnable: nothing is collected

    now = datetime.now(UTC)
    common = {"parts_request_id": f"PU-{env.subject}", "ticket_id": env.subject, "shipment_id": "SF-1", "carrier": "SF"}
    picked = envelope_of(dev.ShipmentUpdated(**common, status="picked", updated_at=now), t, env.subject)
    delivered = envelope_of(dev.ShipmentUpdated(**common, status="delivered", updated_at=now), t, env.subject)
    await publish(kafka.bootstrap, topics.INTEGRATION_SHIPMENTS, picked, delivered, delivered)
    found = await events(
        kafka.bootstrap, topics.DISPATCH_WORK_ORDERS, env.subject, lambda es: len(of_type(es, "return.received")) >= 1
    )
    received = of_type(found, "return.received")
    assert len(received) == 1 and received[0].payload().shipment_id == "SF-1"
    pr = (await client.get(f"/v1/parts-requests/PU-{env.subject}", headers=h(t))).json()
    assert pr["kind"] == "pickup" and pr["status"] == "delivered" and pr["shipment_id"] == "SF-1"
