"""Crews through the HTTP API: a job that needs two technicians is planned by the batch optimisation
only when two qualified technicians are free at one time, and then both get a work order starting
at the same time, under one appointment (the lead's); a technician who lacks the skill is never
part of the crew."""

from __future__ import annotations

import pytest
from dispatch_test_helpers import h, publish, technician, tenant, ticket_opened, ticket_triaged

from fixflow_shared import topics
from fixflow_shared.testing import eventually

pytestmark = pytest.mark.integration


async def test_a_crew_is_booked_together_through_the_optimisation_api(client, kafka):
    t = tenant()
    env = ticket_opened(t, kind="installation", priority="P3")
    # nobody to send yet: the job waits, open
    await publish(kafka.bootstrap, topics.INTAKE_TICKETS, env, ticket_triaged(env, estimated_minutes=120))

    async def get():
        r = await client.get(f"/v1/jobs/by-ticket/{env.subject}", headers=h(t))
        return r.json() if r.status_code == 200 else None

    # the triage applied (its duration in force) and nobody to send: open. Waiting for "open" alone
    # could see the job before the triage, which would then place it behind the test's back
    job = await eventually(
        get, lambda j: j is not None and j["status"] == "open" and j["duration_min"] == 120, what="the triaged job"
    )
    first = await technician(client, t, name="Qualified A", skills={"washer": 2})
    novice = await technician(client, t, name="Novice", dlat=0.005, skills={"washer": 1})
    # one qualified technician is not a crew: the change places nothing, nor does the optimisation,
    # whose answer says why
    r = await client.patch(
        f"/v1/jobs/{job['id']}", json={"crew_size": 2, "required_skills": {"washer": 2}}, headers=h(t)
    )
    assert r.status_code == 200 and r.json()["crew_size"] == 2 and r.json()["status"] == "open", r.text
    r = await client.post("/v1/optimisations", json={}, headers=h(t))
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["assignments"] == [] and "crew" in plan["unplanned"][job["id"]], plan
    assert (await client.get(f"/v1/jobs/{job['id']}", headers=h(t))).json()["status"] == "open"

    second = await technician(client, t, name="Qualified B", dlat=0.02, skills={"washer": 2})
    r = await client.post("/v1/optimisations", json={}, headers=h(t))
    assert r.status_code == 200, r.text
    plan = r.json()
    crew = [a for a in plan["assignments"] if a["job_id"] == job["id"]]
    assert {a["technician_id"] for a in crew} == {first["id"], second["id"]}, plan
    assert len({(a["start"], a["end"]) for a in crew}) == 1  # together, at one time
    on_routes = [
        (r["technician_id"], v["start"]) for r in plan["routes"] for v in r["visits"] if v["job_id"] == job["id"]
    ]
    assert {tid for tid, _ in on_routes} == {first["id"], second["id"]} and len({s for _, s in on_routes}) == 1
    assert plan["unplanned"] == {}

    detail = (await client.get(f"/v1/jobs/{job['id']}", headers=h(t))).json()
    assert detail["status"] == "assigned"
    orders = [w for w in detail["work_orders"] if w["status"] == "assigned"]
    assert {w["technician_id"] for w in orders} == {first["id"], second["id"]}
    assert novice["id"] not in {w["technician_id"] for w in detail["work_orders"]}
    assert len(detail["appointments"]) == 1
    appt = detail["appointments"][0]
    assert appt["technician_id"] in {first["id"], second["id"]}
    starts = set()
    for w in orders:
        wo = (await client.get(f"/v1/work-orders/{w['id']}", headers=h(t))).json()
        assert wo["appointment_id"] == appt["id"]  # one booking for the crew
        starts.add((wo["planned_start"], wo["planned_end"]))
    assert len(starts) == 1  # both work orders start and end together
    # nothing left to plan: the crew is not booked twice
    again = await client.post("/v1/optimisations", json={}, headers=h(t))
    assert [a for a in again.json()["assignments"] if a["job_id"] == job["id"]] == []
