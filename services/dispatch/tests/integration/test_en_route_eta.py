"""Setting off gives the work order an ETA (from the position the app sent, else home) and tells
everyone through technician.en-route; the customer reads it on the job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dispatch_test_helpers import BASE, CUSTOMER, events, h, of_type, open_ticket, technician, tenant

from fixflow_shared import topics
from fixflow_shared.events.contracts import dispatch as dev
from fixflow_shared.testing import eventually

pytestmark = pytest.mark.integration


async def _assigned(client, kafka, t: str) -> tuple[str, str, str]:
    env = await open_ticket(kafka.bootstrap, t)  # the site is ~1 km north of BASE

    async def job():
        r = await client.get(f"/v1/jobs/by-ticket/{env.subject}", headers=h(t))
        return r.json() if r.status_code == 200 else None

    found = await eventually(job, lambda j: j is not None and j["status"] == "assigned")
    wo = (await client.get(f"/v1/jobs/{found['id']}", headers=h(t))).json()["work_orders"][0]["id"]
    return env.subject, found["id"], wo


async def test_setting_off_from_a_reported_position_gives_an_eta_the_customer_reads(client, kafka):
    t = tenant()
    tech = await technician(client, t, name="Wang")
    ticket, job, wo = await _assigned(client, kafka, t)
    before = datetime.now(UTC)
    far = {"lat": BASE[0] + 0.2, "lon": BASE[1]}  # ~21 km away: ~45-55 minutes at 35 km/h
    r = await client.post(
        f"/v1/work-orders/{wo}/en-route", json=far, headers=h(t, "technician", technician_id=tech["id"])
    )
    assert r.status_code == 200, r.text
    eta = datetime.fromisoformat(r.json()["eta"])
    assert r.json()["eta_from"] == "position"
    assert before + timedelta(minutes=40) <= eta <= datetime.now(UTC) + timedelta(minutes=56)
    mine = h(t, "customer", customer_id=CUSTOMER)
    seen = (await client.get(f"/v1/jobs/{job}", headers=mine)).json()["work_orders"][0]
    assert seen["status"] == "en_route" and datetime.fromisoformat(seen["eta"]) == eta
    found = await events(
        kafka.bootstrap, topics.DISPATCH_WORK_ORDERS, ticket, lambda es: bool(of_type(es, "technician.en-route"))
    )
    told = of_type(found, "technician.en-route")[0].payload()
    assert isinstance(told, dev.TechnicianEnRoute)
    assert (told.eta, told.eta_from, told.technician_name) == (eta, "position", "Wang")
    assert told.window is not None and 40 <= (told.travel_minutes or 0) <= 56


async def test_without_a_position_the_eta_is_measured_from_home(client, kafka):
    t = tenant()
    tech = await technician(client, t, name="Zhao")  # lives at BASE, ~1 km from the site
    _ticket, _job, wo = await _assigned(client, kafka, t)
    r = await client.post(f"/v1/work-orders/{wo}/en-route", headers=h(t, "technician", technician_id=tech["id"]))
    assert r.status_code == 200, r.text
    assert r.json()["eta_from"] == "home"
    minutes = (datetime.fromisoformat(r.json()["eta"]) - datetime.now(UTC)).total_seconds() / 60
    assert 0 < minutes <= 5


async def test_once_the_technician_set_off_the_customer_can_neither_move_nor_cancel_the_visit(client, kafka):
    t = tenant()
    tech = await technician(client, t, name="Sun")
    _ticket, job, wo = await _assigned(client, kafka, t)
    appt = (await client.get(f"/v1/jobs/{job}", headers=h(t))).json()["appointments"][0]
    r = await client.post(f"/v1/work-orders/{wo}/en-route", headers=h(t, "technician", technician_id=tech["id"]))
    assert r.status_code == 200, r.text
    mine = h(t, "customer", customer_id=CUSTOMER)
    later = datetime.now(UTC) + timedelta(days=2)
    moved = await client.post(
        f"/v1/appointments/{appt['id']}/reschedule",
        json={
            "start": later.isoformat(),
            "end": (later + timedelta(hours=2)).isoformat(),
            "reason": "customer_request",
        },
        headers=mine,
    )
    assert moved.status_code == 409 and "en_route" in moved.text, moved.text
    gone = await client.post(f"/v1/appointments/{appt['id']}/cancel", json={"reason": "customer_request"}, headers=mine)
    assert gone.status_code == 409 and gone.headers["content-type"] == "application/problem+json"
    seen = (await client.get(f"/v1/jobs/{job}", headers=h(t))).json()
    assert (
        seen["appointments"][0]["status"] in ("booked", "confirmed") and seen["work_orders"][0]["status"] == "en_route"
    )


async def test_without_a_position_the_eta_is_measured_from_the_days_previous_stop(client, kafka):
    t = tenant()
    tech = await technician(client, t, name="Qian")  # lives at BASE, ~1 km from both sites
    mine = h(t, "technician", technician_id=tech["id"])
    _first, _job1, wo1 = await _assigned(client, kafka, t)
    _second, _job2, wo2 = await _assigned(client, kafka, t)
    assert (await client.post(f"/v1/work-orders/{wo1}/en-route", headers=mine)).status_code == 200
    # the first visit's arrival is reported ~33 km north: the next journey starts there, not at home
    far = {"lat": BASE[0] + 0.3, "lon": BASE[1]}
    assert (await client.post(f"/v1/work-orders/{wo1}/arrival", json=far, headers=mine)).status_code == 200
    r = await client.post(f"/v1/work-orders/{wo2}/en-route", headers=mine)
    assert r.status_code == 200, r.text
    assert r.json()["eta_from"] == "previous_stop"
    minutes = (datetime.fromisoformat(r.json()["eta"]) - datetime.now(UTC)).total_seconds() / 60
    assert minutes > 60, minutes  # from home it would be a few minutes
