"""Technicians, skills, certifications, absences and bookings over HTTP: bad input is problem+json
4xx and writes nothing."""

from __future__ import annotations

import pytest
from dispatch_test_helpers import ALL_WEEK, future, h, technician, tenant

pytestmark = pytest.mark.integration


def is_problem(r, status: int) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["type"].startswith("urn:fixflow:problem:")


async def test_technician_round_trip(client):
    t = tenant()
    tech = await technician(client, t, name="Li Wei", skills={"washer": 3, "fridge": 1}, van_stock={"PUMP-1": 2})
    got = await client.get(f"/v1/technicians/{tech['id']}", headers=h(t))
    assert got.status_code == 200 and got.json()["skills"] == {"washer": 3, "fridge": 1}
    cn = await client.patch(
        f"/v1/technicians/{tech['id']}", json={"hours": {"tz": "Asia/Shanghai", "country": "CN"}}, headers=h(t)
    )
    assert cn.status_code == 200 and cn.json()["hours"]["country"] == "CN"
    cert = await client.post(
        f"/v1/technicians/{tech['id']}/certifications",
        json={"name": "gas", "valid_until": future(24 * 90).isoformat()},
        headers=h(t),
    )
    assert cert.status_code == 201, cert.text
    absence = await client.post(
        f"/v1/technicians/{tech['id']}/absences",
        json={"start": future(48).isoformat(), "end": future(56).isoformat(), "reason": "training"},
        headers=h(t),
    )
    assert absence.status_code == 201 and absence.json()["unassigned_work_orders"] == []
    again = (await client.get(f"/v1/technicians/{tech['id']}", headers=h(t))).json()
    assert [c["name"] for c in again["certifications"]] == ["gas"] and len(again["absences"]) == 1
    patched = await client.patch(f"/v1/technicians/{tech['id']}", json={"max_jobs_per_day": 3}, headers=h(t))
    assert patched.status_code == 200 and patched.json()["max_jobs_per_day"] == 3
    assert patched.json()["team_id"] is None
    moved = await client.patch(f"/v1/technicians/{tech['id']}", json={"team_id": "STATION-2"}, headers=h(t))
    assert moved.status_code == 200 and moved.json()["team_id"] == "STATION-2"
    assert (await client.get(f"/v1/technicians/{tech['id']}", headers=h(t))).json()["team_id"] == "STATION-2"
    # one phone rule: stored in E.164, read in the tenant's region
    assert again["phone"] == "+8613800000000"
    renumbered = await client.patch(f"/v1/technicians/{tech['id']}", json={"phone": "139 0013 9000"}, headers=h(t))
    assert renumbered.status_code == 200 and renumbered.json()["phone"] == "+8613900139000", renumbered.text
    is_problem(await client.patch(f"/v1/technicians/{tech['id']}", json={"phone": "139 0013"}, headers=h(t)), 422)


async def test_unknown_skill_is_422_and_nothing_written(client):
    t = tenant()
    body = {"name": "Wang", "home_lat": 31.2, "home_lon": 121.4, "skills": {"teleportation": 2}, "hours": ALL_WEEK}
    r = await client.post("/v1/technicians", json=body, headers=h(t))
    is_problem(r, 422)
    assert "teleportation" in r.json()["detail"]
    assert (await client.get("/v1/technicians", headers=h(t))).json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"name": "X", "home_lat": 91, "home_lon": 121.4},  # latitude out of range
        {"name": "X", "home_lat": 31.2, "home_lon": 121.4, "skills": {"washer": 9}},  # level out of range
        {"name": "X", "home_lat": 31.2, "home_lon": 121.4, "hours": {"tz": "Mars/Olympus", "days": {}}},
        {"name": "X", "home_lat": 31.2, "home_lon": 121.4, "hours": {"tz": "UTC", "days": {"0": ["18:00", "08:00"]}}},
        {"name": "X", "home_lat": 31.2, "home_lon": 121.4, "salary": 1},  # unknown field
        {"name": "X", "home_lat": 31.2, "home_lon": 121.4, "hours": {"tz": "UTC", "country": "XX"}},  # no such calendar
    ],
)
async def test_bad_technician_input_is_422(client, body):
    t = tenant()
    is_problem(await client.post("/v1/technicians", json=body, headers=h(t)), 422)
    assert (await client.get("/v1/technicians", headers=h(t))).json() == []


async def test_malformed_json_is_400(client):
    r = await client.post(
        "/v1/technicians", content=b'{"name": ', headers={**h(tenant()), "content-type": "application/json"}
    )
    is_problem(r, 400)


async def test_other_tenant_gets_404_and_cannot_write(client):
    t1, t2 = tenant(), tenant()
    tech = await technician(client, t1, name="Zhao")
    is_problem(await client.get(f"/v1/technicians/{tech['id']}", headers=h(t2)), 404)
    r = await client.post(
        f"/v1/technicians/{tech['id']}/absences",
        json={"start": future(1).isoformat(), "end": future(2).isoformat(), "reason": "sick"},
        headers=h(t2),
    )
    is_problem(r, 404)
    is_problem(await client.patch(f"/v1/technicians/{tech['id']}", json={"active": False}, headers=h(t2)), 404)
    mine = (await client.get(f"/v1/technicians/{tech['id']}", headers=h(t1))).json()
    assert mine["absences"] == [] and mine["active"] is True


async def test_absence_in_the_past_and_expired_certificate_are_rejected(client):
    t = tenant()
    tech = await technician(client, t, name="Sun")
    r = await client.post(
        f"/v1/technicians/{tech['id']}/absences",
        json={"start": future(-10).isoformat(), "end": future(-5).isoformat(), "reason": "sick"},
        headers=h(t),
    )
    is_problem(r, 422)
    r = await client.post(
        f"/v1/technicians/{tech['id']}/certifications",
        json={"name": "gas", "valid_until": future(-1).isoformat()},
        headers=h(t),
    )
    is_problem(r, 422)
    naive = await client.post(
        f"/v1/technicians/{tech['id']}/absences",
        json={"start": "2030-01-01T08:00:00", "end": "2030-01-01T09:00:00", "reason": "x"},
        headers=h(t),
    )
    is_problem(naive, 422)  # times must carry a time zone
    again = (await client.get(f"/v1/technicians/{tech['id']}", headers=h(t))).json()
    assert again["absences"] == [] and again["certifications"] == []


async def test_roles_are_enforced(client):
    t = tenant()
    r = await client.post("/v1/skills", json={"code": "washer", "name": "Washer"}, headers=h(t, "customer"))
    is_problem(r, 403)
    is_problem(await client.get("/v1/technicians"), 401)
