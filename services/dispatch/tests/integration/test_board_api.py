"""The dispatcher board's API: appointments of a period with what the board draws, the rule check
of a drag and drop before it is committed, and a move to a named technician (refused with reasons)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dispatch_test_helpers import ALL_WEEK, h, publish, technician, tenant, ticket_opened, ticket_triaged

from fixflow_shared import topics
from fixflow_shared.testing import eventually

pytestmark = pytest.mark.integration


async def placed_job(client, kafka, t: str) -> tuple[dict, dict]:
    """A ticket triaged without a location, then the dispatcher completes it (needing washer level 2):
    placed at once."""
    from fixflow_shared.events import new_envelope
    from fixflow_shared.events.contracts.intake import TicketOpened

    env = ticket_opened(t)
    env = new_envelope(
        TicketOpened.model_validate({**env.data, "site": None}), source="/fixflow/intake", subject=env.subject, tenant=t
    )
    await publish(kafka.bootstrap, topics.INTAKE_TICKETS, env, ticket_triaged(env))

    async def get():
        r = await client.get(f"/v1/jobs/by-ticket/{env.subject}", headers=h(t))
        return r.json() if r.status_code == 200 else None

    job = await eventually(get, lambda j: j is not None and j["status"] == "incomplete", what="the job of the ticket")
    r = await client.patch(
        f"/v1/jobs/{job['id']}", json={"lat": 31.24, "lon": 121.47, "required_skills": {"washer": 2}}, headers=h(t)
    )
    assert r.status_code == 200 and r.json()["status"] == "assigned", r.text
    job = (await client.get(f"/v1/jobs/{job['id']}", headers=h(t))).json()
    return job, job["appointments"][0]


async def test_board_lists_appointments_checks_a_drop_and_moves_or_refuses(client, kafka):
    t = tenant()
    first = await technician(client, t, name="Li Qiang")
    job, appt = await placed_job(client, kafka, t)
    assert appt["technician_id"] == first["id"]
    unskilled = await technician(client, t, name="Wang Lei", skills={"gas": 2})
    # a lunch hour at exactly 12:00: a visit cannot start between 12:00 and 13:00
    lunch = {**ALL_WEEK, "daily_break": {"earliest": "12:00", "latest": "12:00", "minutes": 60}}
    skilled = await technician(client, t, name="Zhao Min", skills={"washer": 3}, hours=lunch)

    now = datetime.now(UTC)
    period = {"start": (now - timedelta(hours=1)).isoformat(), "end": (now + timedelta(days=8)).isoformat()}
    rows = (await client.get("/v1/appointments", params=period, headers=h(t))).json()
    row = next(r for r in rows if r["id"] == appt["id"])
    assert row["technician_id"] == first["id"] and row["priority"] == "P2" and row["kind"] == "repair"
    assert row["work_order_status"] == "assigned" and row["lat"] is not None
    assert (await client.get("/v1/appointments", params=period, headers=h(tenant()))).json() == []
    too_long = {"start": period["start"], "end": (now + timedelta(days=40)).isoformat()}
    assert (await client.get("/v1/appointments", params=too_long, headers=h(t))).status_code == 422

    # the day after tomorrow, first thing
    day = (now + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    window = {"start": day.isoformat(), "end": (day + timedelta(minutes=90)).isoformat()}
    fit = (
        await client.get(
            f"/v1/jobs/{job['id']}/fit",
            params={**window, "technician_id": unskilled["id"], "appointment_id": appt["id"]},
            headers=h(t),
        )
    ).json()
    assert fit["ok"] is False and fit["technician_name"] == "Wang Lei"
    skills = next(c for c in fit["checks"] if c["rule"] == "skills")
    assert not skills["ok"] and "lacks washer level" in skills["detail"]
    assert fit["refusal"].startswith("Wang Lei cannot take this visit: skills: lacks washer")

    refused = await client.post(
        f"/v1/appointments/{appt['id']}/reschedule",
        json={**window, "reason": "moved on the board", "technician_id": unskilled["id"]},
        headers=h(t),
    )
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert "lacks washer level" in refused.json()["detail"]
    assert (await client.get(f"/v1/appointments/{appt['id']}", headers=h(t))).json()["technician_id"] == first["id"]

    ok = (
        await client.get(
            f"/v1/jobs/{job['id']}/fit",
            params={**window, "technician_id": skilled["id"], "appointment_id": appt["id"]},
            headers=h(t),
        )
    ).json()
    assert ok["ok"] is True and ok["refusal"] is None, [c for c in ok["checks"] if not c["ok"]]
    assert [c["rule"] for c in ok["checks"]][-1] == "slot"
    # every rule passes at 12:00-12:10, but the route has no room: the lunch hour is there
    late = {"start": (day + timedelta(hours=12)).isoformat(), "end": (day + timedelta(minutes=730)).isoformat()}
    no_slot = (
        await client.get(
            f"/v1/jobs/{job['id']}/fit",
            params={**late, "technician_id": skilled["id"], "appointment_id": appt["id"]},
            headers=h(t),
        )
    ).json()
    assert [c["rule"] for c in no_slot["checks"] if not c["ok"]] == ["slot"], no_slot["checks"]
    assert "no room on the route" in no_slot["refusal"] and "no other visit that day" in no_slot["refusal"]
    moved = await client.post(
        f"/v1/appointments/{appt['id']}/reschedule",
        json={**window, "reason": "moved on the board", "technician_id": skilled["id"]},
        headers=h(t),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["technician_id"] == skilled["id"]
    detail = (await client.get(f"/v1/jobs/{job['id']}", headers=h(t))).json()
    live = [w for w in detail["work_orders"] if w["status"] == "assigned"]
    assert [w["technician_id"] for w in live] == [skilled["id"]]

    # a booked job cannot be booked again from the queue: the check says why
    again = (
        await client.get(f"/v1/jobs/{job['id']}/fit", params={**window, "technician_id": first["id"]}, headers=h(t))
    ).json()
    assert (
        not again["ok"] and next(c for c in again["checks"] if c["rule"] == "status")["detail"] == "the job is assigned"
    )
    assert (
        await client.get(f"/v1/jobs/{job['id']}/fit", params={**window, "technician_id": "nobody"}, headers=h(t))
    ).status_code == 404


async def test_every_member_of_a_crew_reaches_the_crew_visit_and_no_one_else(client, kafka):
    """A crew visit is booked with its lead; each member has a work order naming the appointment:
    every member reads the appointment and finds it on its board, another technician does not."""
    from fixflow_shared.events import new_envelope
    from fixflow_shared.events.contracts.intake import TicketOpened

    t = tenant()
    await technician(client, t, name="Lead")
    await technician(client, t, name="Member", dlat=0.01)
    env = ticket_opened(t)
    env = new_envelope(
        TicketOpened.model_validate({**env.data, "site": None}), source="/fixflow/intake", subject=env.subject, tenant=t
    )
    await publish(kafka.bootstrap, topics.INTAKE_TICKETS, env, ticket_triaged(env))

    async def get():
        r = await client.get(f"/v1/jobs/by-ticket/{env.subject}", headers=h(t))
        return r.json() if r.status_code == 200 else None

    job = await eventually(get, lambda j: j is not None and j["status"] == "incomplete", what="the job of the ticket")
    r = await client.patch(f"/v1/jobs/{job['id']}", json={"lat": 31.24, "lon": 121.47, "crew_size": 2}, headers=h(t))
    assert r.status_code == 200 and r.json()["status"] == "assigned", r.text
    job = (await client.get(f"/v1/jobs/{job['id']}", headers=h(t))).json()
    appt = job["appointments"][0]
    crew = {w["technician_id"] for w in job["work_orders"] if w["status"] == "assigned"}
    assert len(crew) == 2 and appt["technician_id"] in crew, job
    outsider = await technician(client, t, name="Outsider", dlat=0.02)

    now = datetime.now(UTC)
    period = {"start": (now - timedelta(hours=1)).isoformat(), "end": (now + timedelta(days=8)).isoformat()}
    for member in crew:
        as_member = h(t, "technician", technician_id=member)
        r = await client.get(f"/v1/appointments/{appt['id']}", headers=as_member)
        assert r.status_code == 200, (member, r.text)
        board = (await client.get("/v1/appointments", params=period, headers=as_member)).json()
        assert [b["id"] for b in board] == [appt["id"]]
    as_outsider = h(t, "technician", technician_id=outsider["id"])
    assert (await client.get(f"/v1/appointments/{appt['id']}", headers=as_outsider)).status_code == 404
    assert (await client.get("/v1/appointments", params=period, headers=as_outsider)).json() == []
