"""What a plan is made from is right before a job is placed: triage's skills and duration, visits
of any length, regions, certificates by their expiry, parts (van stock, the shipment's ETA and the
technician who holds them). Each of these failed before dispatch planned routes (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dispatch_test_helpers import (
    events,
    h,
    of_type,
    publish,
    technician,
    tenant,
    ticket_opened,
    ticket_triaged,
)

from fixflow_shared import topics
from fixflow_shared.testing import eventually

pytestmark = pytest.mark.integration


async def job_detail(client, t: str, ticket_id: str):
    r = await client.get(f"/v1/jobs/by-ticket/{ticket_id}", headers=h(t))
    if r.status_code != 200:
        return None
    return (await client.get(f"/v1/jobs/{r.json()['id']}", headers=h(t))).json()


def minutes(wo: dict) -> float:
    start, end = (datetime.fromisoformat(wo[k]) for k in ("planned_start", "planned_end"))
    return (end - start).total_seconds() / 60


async def test_triage_skills_and_duration_are_in_force_before_the_job_is_placed(client, kafka):
    t = tenant()
    await technician(client, t, name="Near, no gas", dlat=0.0, skills={"washer": 3})
    gas = await technician(client, t, name="Gas fitter", dlat=0.05, skills={"gas_safety": 2})
    opened = ticket_opened(t, kind="installation", priority="P3")
    triaged = ticket_triaged(opened, category="boiler", required_skills=["gas_safety"], estimated_minutes=75)
    await publish(kafka.bootstrap, topics.INTAKE_TICKETS, opened, triaged)

    job = await eventually(
        lambda: job_detail(client, t, opened.subject), lambda j: j is not None and j["status"] == "assigned"
    )
    assert job["required_skills"] == {"gas_safety": 1} and job["duration_min"] == 75
    assert [w["technician_id"] for w in job["work_orders"]] == [gas["id"]]  # planned once, by the triage
    wo = (await client.get(f"/v1/work-orders/{job['work_orders'][0]['id']}", headers=h(t))).json()
    assert minutes(wo) == 75
    found = await events(
        kafka.bootstrap, topics.DISPATCH_WORK_ORDERS, opened.subject, lambda es: bool(of_type(es, "appointment.booked"))
    )
    assert len(of_type(found, "technician.assigned")) == 1 and not of_type(found, "technician.unassigned")


async def test_visits_of_two_and_four_hours_are_planned(client, kafka):
    t = tenant()
    tech = await technician(client, t, name="Long days")
    tickets = []
    for minutes_, dlat in ((120, 0.01), (240, 0.02)):
        opened = ticket_opened(t, kind="installation", dlat=dlat)
        await publish(
            kafka.bootstrap, topics.INTAKE_TICKETS, opened, ticket_triaged(opened, estimated_minutes=minutes_)
        )
        tickets.append((opened.subject, minutes_))
    for subject, minutes_ in tickets:
        job = await eventually(
            lambda s=subject: job_detail(client, t, s), lambda j: j is not None and j["status"] == "assigned"
        )
        assert job["work_orders"][0]["technician_id"] == tech["id"]
        wo = (await client.get(f"/v1/work-orders/{job['work_orders'][0]['id']}", headers=h(t))).json()
        assert minutes(wo) == minutes_


async def test_a_technician_only_gets_jobs_inside_their_regions(client, kafka):
    t = tenant()
    await technician(client, t, name="Guangdong only", dlat=0.0, regions=["CN-44"])
    shanghai = await technician(client, t, name="Shanghai", dlat=0.08, regions=["CN-31"])
    opened = ticket_opened(t)
    site = {**opened.data["site"], "region": "CN-31"}
    await publish(kafka.bootstrap, topics.INTAKE_TICKETS, opened, ticket_triaged(opened, site=site))
    job = await eventually(
        lambda: job_detail(client, t, opened.subject), lambda j: j is not None and j["status"] == "assigned"
    )
    assert [w["technician_id"] for w in job["work_orders"]] == [shanghai["id"]]
    assert job["region"] == "CN-31"


async def test_certificates_count_until_their_latest_expiry(client, kafka):
    t = tenant()
    gas = await technician(client, t, name="Renewed badge")
    now = datetime.now(UTC)
    # the renewal was entered first, the lapsing old badge after it
    for days in (400, 1):
        r = await client.post(
            f"/v1/technicians/{gas['id']}/certifications",
            json={"name": "gas_safe", "valid_until": (now + timedelta(days=days)).isoformat()},
            headers=h(t),
        )
        assert r.status_code == 201, r.text
    away = {"start": now.isoformat(), "end": (now + timedelta(days=2)).isoformat(), "reason": "training"}
    assert (await client.post(f"/v1/technicians/{gas['id']}/absences", json=away, headers=h(t))).status_code == 201
    from fixflow_shared.events import new_envelope
    from fixflow_shared.events.contracts.intake import TicketOpened

    raw = ticket_opened(t)  # no site yet: a dispatcher completes the job
    opened = new_envelope(
        TicketOpened.model_validate({**raw.data, "site": None}), source="/fixflow/intake", subject=raw.subject, tenant=t
    )
    await publish(kafka.bootstrap, topics.INTAKE_TICKETS, opened, ticket_triaged(opened))
    job = await eventually(
        lambda: job_detail(client, t, opened.subject), lambda j: j is not None and j["status"] == "incomplete"
    )
    r = await client.patch(
        f"/v1/jobs/{job['id']}",
        json={"lat": 31.24, "lon": 121.47, "required_certifications": ["gas_safe"]},
        headers=h(t),
    )
    assert r.status_code == 200 and r.json()["status"] == "assigned", r.text
    job = await job_detail(client, t, opened.subject)
    start = datetime.fromisoformat(job["work_orders"][0]["planned_start"])
    assert job["work_orders"][0]["technician_id"] == gas["id"] and start >= now + timedelta(days=2)


async def test_offers_wait_for_the_parts_and_the_holder_does_the_follow_up(client, kafka):
    from dispatch_test_helpers import envelope_of

    from fixflow_shared.events.contracts import dispatch as dev

    t = tenant()
    holder = await technician(client, t, name="Holder", dlat=0.02)
    opened = ticket_opened(t, priority="P3")
    await publish(kafka.bootstrap, topics.INTAKE_TICKETS, opened, ticket_triaged(opened))
    job = await eventually(
        lambda: job_detail(client, t, opened.subject), lambda j: j is not None and j["status"] == "assigned"
    )
    wo = job["work_orders"][0]["id"]
    hdr = h(t, "technician", technician_id=job["work_orders"][0]["technician_id"])  # the holder, the only one
    assert (await client.post(f"/v1/work-orders/{wo}/arrival", json={}, headers=hdr)).status_code == 200
    r = await client.post(
        f"/v1/work-orders/{wo}/failure",
        json={
            "outcome": "needs_parts",
            "parts_needed": [{"part_code": "PUMP-1", "quantity": 1, "source": "warehouse"}],
        },
        headers=hdr,
    )
    assert r.status_code == 200, r.text
    pr_id = r.json()["parts_request_id"]
    van = await technician(client, t, name="Pump in the van", dlat=0.09, van_stock={"PUMP-1": 2})
    eta = datetime.now(UTC) + timedelta(days=2)
    common = {"parts_request_id": pr_id, "ticket_id": opened.subject, "shipment_id": "SF-9", "carrier": "SF"}
    picked = dev.ShipmentUpdated(**common, status="picked", eta=eta, updated_at=datetime.now(UTC))
    await publish(kafka.bootstrap, topics.INTEGRATION_SHIPMENTS, envelope_of(picked, t, opened.subject))
    await eventually(lambda: job_detail(client, t, opened.subject), lambda j: j["parts_eta"] is not None)

    offers = (await client.get(f"/v1/jobs/{job['id']}/offers", headers=h(t, "customer"))).json()
    assert offers, offers
    by = {o["technician_id"] for o in offers}
    assert all(datetime.fromisoformat(o["start"]) >= eta for o in offers if o["technician_id"] == holder["id"])
    early = [o for o in offers if datetime.fromisoformat(o["start"]) < eta]
    assert early and {o["technician_id"] for o in early} == {van["id"]}, (offers, by)

    near = await technician(client, t, name="Nearer, no pump", dlat=0.0)
    shipped = dev.ShipmentUpdated(
        **common, status="shipped", eta=datetime.now(UTC) + timedelta(hours=1), updated_at=datetime.now(UTC)
    )
    await publish(kafka.bootstrap, topics.INTEGRATION_SHIPMENTS, envelope_of(shipped, t, opened.subject))
    job = await eventually(lambda: job_detail(client, t, opened.subject), lambda j: j["status"] == "assigned")
    follow_up = [w for w in job["work_orders"] if w["visit_number"] == 2]
    assert [w["technician_id"] for w in follow_up] == [holder["id"]], (near["id"], van["id"])
