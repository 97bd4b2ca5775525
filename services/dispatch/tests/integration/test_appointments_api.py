"""Appointments over HTTP: offers from real calendars, book, confirm, reschedule (改约), cancel;
decline and delay reassign (转派); batch optimisation; triaged tickets refine jobs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dispatch_test_helpers import (
    all_week_from_morning,
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
from fixflow_shared.events import new_envelope
from fixflow_shared.events.contracts.intake import Site, SlaDeadlines, TicketCancelled, TicketTriaged
from fixflow_shared.testing import eventually

pytestmark = pytest.mark.integration


def utc(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def incomplete_job(client, kafka, t: str, **kw):
    """A ticket whose job has no location yet: it waits until a dispatcher completes it."""
    from fixflow_shared.events.contracts.intake import TicketOpened

    env = ticket_opened(t, **kw)
    data = TicketOpened.model_validate({**env.data, "site": None})
    env = new_envelope(data, source="/fixflow/intake", subject=env.subject, tenant=t)
    await publish(kafka.bootstrap, topics.INTAKE_TICKETS, env, ticket_triaged(env))

    async def get():
        r = await client.get(f"/v1/jobs/by-ticket/{env.subject}", headers=h(t))
        return r.json() if r.status_code == 200 else None

    # triaged without a site: nowhere to go until a dispatcher completes it
    job = await eventually(get, lambda j: j is not None and j["status"] != "awaiting_triage")
    assert job["status"] == "incomplete"
    return env, job


async def test_offer_book_confirm_reschedule_cancel(client, kafka):
    t = tenant()
    await technician(client, t, name="Li")
    env, job = await incomplete_job(client, kafka, t)
    # a location is required before windows can be offered
    assert (await client.get(f"/v1/jobs/{job['id']}/offers", headers=h(t))).status_code == 422
    # the dispatcher sets it, but a fake patch with the job still "incomplete" would place it at once:
    # give it to the customer to book instead by patching and then cancelling the automatic booking
    r = await client.patch(f"/v1/jobs/{job['id']}", json={"lat": 31.24, "lon": 121.47}, headers=h(t))
    assert r.status_code == 200 and r.json()["status"] == "assigned"
    appt = (await client.get(f"/v1/jobs/{job['id']}", headers=h(t))).json()["appointments"][0]
    c = await client.post(
        f"/v1/appointments/{appt['id']}/cancel", json={"reason": "customer_request", "detail": "not then"}, headers=h(t)
    )
    assert c.status_code == 200 and c.json()["status"] == "cancelled"
    assert (
        await client.post(f"/v1/appointments/{appt['id']}/cancel", json={"reason": "other"}, headers=h(t))
    ).status_code == 409

    offers = (await client.get(f"/v1/jobs/{job['id']}/offers", headers=h(t, "customer"))).json()
    assert 1 <= len(offers) <= 5 and all(o["technician_name"] == "Li" for o in offers)

    # a window in the past is refused and writes nothing
    past = {"start": future(-3).isoformat(), "end": future(-1).isoformat()}
    r = await client.post(f"/v1/jobs/{job['id']}/appointments", json=past, headers=h(t, "customer"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    # another tenant cannot book this job
    # Windows come from the technician's calendar (the offers), never from the wall clock plus a
    # constant, which lands outside bookable time at some hours of the day.
    # (the earliest offer may open right now, which is in the past by the time it is booked)
    ahead = [o for o in offers if utc(o["start"]) > datetime.now(UTC) + timedelta(minutes=30)]
    assert len(ahead) >= 2, offers
    # the customer books the latest offer and moves it to the earliest: a customer moves a visit only
    # until 2 hours (the notice period) before it starts
    first, second = ({"start": o["start"], "end": o["end"]} for o in (ahead[-1], ahead[0]))
    assert utc(first["start"]) > datetime.now(UTC) + timedelta(hours=2, minutes=5), offers
    other = await client.post(f"/v1/jobs/{job['id']}/appointments", json=first, headers=h(tenant(), "customer"))
    assert other.status_code == 404
    assert len((await client.get(f"/v1/jobs/{job['id']}", headers=h(t))).json()["appointments"]) == 1

    r = await client.post(f"/v1/jobs/{job['id']}/appointments", json=first, headers=h(t, "customer"))
    assert r.status_code == 201, r.text
    booked = r.json()
    assert booked["visit_number"] == 1 and booked["status"] == "booked"
    r = await client.post(f"/v1/appointments/{booked['id']}/confirm", headers=h(t, "customer"))
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    assert (await client.post(f"/v1/appointments/{booked['id']}/confirm", headers=h(t, "customer"))).status_code == 409

    r = await client.post(
        f"/v1/appointments/{booked['id']}/reschedule",
        json={**second, "reason": "customer travels"},
        headers=h(t, "customer"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "booked" and utc(r.json()["window_start"]) == utc(second["start"])
    found = await events(
        kafka.bootstrap,
        topics.DISPATCH_WORK_ORDERS,
        env.subject,
        lambda es: bool(of_type(es, "appointment.rescheduled")),
    )
    res = of_type(found, "appointment.rescheduled")[0].data
    assert res["technician_name"] == "Li" and res["reason"] == "customer travels"
    assert of_type(found, "appointment.cancelled")[0].data["reason"] == "customer_request"
    assert of_type(found, "appointment.confirmed")


def tech_of(t: str, wo: dict) -> dict[str, str]:
    return h(t, "technician", technician_id=wo["technician_id"])


async def test_decline_and_delay_reassign(client, kafka):
    t = tenant()
    a = await technician(client, t, name="A", dlat=0.0)
    b = await technician(client, t, name="B", dlat=0.03)
    env = await open_ticket(kafka.bootstrap, t, dlat=0.002, priority="P1")

    async def wos():
        r = await client.get(f"/v1/jobs/by-ticket/{env.subject}", headers=h(t))
        if r.status_code != 200:
            return []
        return (await client.get(f"/v1/jobs/{r.json()['id']}", headers=h(t))).json()["work_orders"]

    first = (await eventually(wos, lambda w: len(w) == 1))[0]
    assert first["technician_id"] == a["id"]
    r = await client.post(
        f"/v1/work-orders/{first['id']}/decline",
        json={"reason": "van broken"},
        headers=h(t, "technician", technician_id=first["technician_id"]),
    )
    assert r.status_code == 200 and r.json()["status"] == "unassigned"
    second = (await eventually(wos, lambda w: len(w) == 2 and w[1]["status"] == "assigned"))[1]
    assert second["technician_id"] == b["id"]
    r = await client.post(
        f"/v1/work-orders/{second['id']}/delay",
        json={"minutes": 600},
        headers=h(t, "technician", technician_id=second["technician_id"]),
    )
    assert r.status_code == 200 and r.json()["sla_at_risk"] is True
    found = await events(
        kafka.bootstrap, topics.DISPATCH_WORK_ORDERS, env.subject, lambda es: bool(of_type(es, "technician.delayed"))
    )
    delayed = of_type(found, "technician.delayed")[0].data
    assert delayed["technician_name"] == "B" and delayed["delay_minutes"] == 600 and delayed["sla_at_risk"]
    # B is excluded, A declined earlier but may take it again now: someone other than B gets it
    third = (await eventually(wos, lambda w: len(w) == 3 and w[2]["status"] == "assigned"))[2]
    assert third["technician_id"] == a["id"]


async def test_a_delay_keeps_pinned_visits_with_their_technician_and_tells_the_customers(client, kafka):
    """B is on the way to the first visit and the second one's customer confirmed: B reports three
    hours' delay. Neither visit goes to A (both are pinned): the first keeps B at the new ETA, the
    second stays after it, late, and its customer is told the new expected time."""
    t = tenant()
    day = all_week_from_morning()  # B's three hours of delay and both visits fit in B's day at any hour
    b = await technician(client, t, name="B", dlat=0.0, hours=day)
    first_env = await open_ticket(kafka.bootstrap, t, dlat=0.002)

    async def wos(env):
        r = await client.get(f"/v1/jobs/by-ticket/{env.subject}", headers=h(t))
        if r.status_code != 200:
            return []
        return (await client.get(f"/v1/jobs/{r.json()['id']}", headers=h(t))).json()

    first = (await eventually(lambda: wos(first_env), lambda j: bool(j and j["work_orders"])))["work_orders"][0]
    second_env = await open_ticket(kafka.bootstrap, t, dlat=0.004)
    job2 = await eventually(lambda: wos(second_env), lambda j: bool(j and j["work_orders"] and j["appointments"]))
    second = job2["work_orders"][0]
    assert first["technician_id"] == second["technician_id"] == b["id"]
    assert utc(second["planned_start"]) < datetime.now(UTC) + timedelta(hours=3)  # inside the delay
    r = await client.post(f"/v1/appointments/{job2['appointments'][0]['id']}/confirm", headers=h(t, "customer"))
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    a = await technician(client, t, name="A", dlat=0.003, hours=day)  # free and near: would be on time
    r = await client.post(f"/v1/work-orders/{first['id']}/en-route", headers=tech_of(t, first))
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/work-orders/{first['id']}/delay", json={"minutes": 180}, headers=tech_of(t, first))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["reassigning"] is False and body["work_order"]["technician_id"] == b["id"]
    assert job2["id"] in body["replanned"]["late"] and body["replanned"]["moved"] == 0, body["replanned"]
    after = (await wos(second_env))["work_orders"]
    assert [(w["technician_id"], w["status"]) for w in after] == [(b["id"], "assigned")]
    eta = utc(body["work_order"]["planned_end"])
    assert utc(after[0]["planned_start"]) >= eta  # after the first visit, as it was planned
    found = await events(
        kafka.bootstrap,
        topics.DISPATCH_WORK_ORDERS,
        second_env.subject,
        lambda es: bool(of_type(es, "technician.delayed")),
    )
    told = of_type(found, "technician.delayed")[0].data
    assert told["work_order_id"] == second["id"] and told["technician_name"] == "B"
    assert utc(told["new_eta"]) == utc(after[0]["planned_start"]) and told["delay_minutes"] > 0
    assert not of_type(found, "technician.assigned")[1:] and a["id"] not in {w["technician_id"] for w in after}


async def test_triaged_ticket_refines_the_job_and_cancelled_ticket_cancels_it(client, kafka):
    t = tenant()
    await technician(client, t, name="Gas", skills={"boiler": 2})
    env, job = await incomplete_job(client, kafka, t)
    triaged = TicketTriaged(
        ticket_id=env.subject,
        tenant_id=t,
        kind="repair",
        category="boiler",
        priority="P1",
        path="on_site",
        required_skills=["boiler"],
        estimated_minutes=50,
        site=Site(lat=31.24, lon=121.47),
        sla=SlaDeadlines(on_site_arrival_due=datetime.now(UTC) + timedelta(hours=6)),
        triaged_at=datetime.now(UTC),
    )
    await publish(
        kafka.bootstrap,
        topics.INTAKE_TICKETS,
        new_envelope(triaged, source="/fixflow/intake", subject=env.subject, tenant=t),
    )

    async def get():
        return (await client.get(f"/v1/jobs/{job['id']}", headers=h(t))).json()

    detail = await eventually(get, lambda j: j["status"] == "assigned")
    assert detail["priority"] == "P1" and detail["required_skills"] == {"boiler": 1} and detail["duration_min"] == 50
    cancelled = TicketCancelled(
        ticket_id=env.subject, tenant_id=t, reason="customer withdrew", cancelled_at=datetime.now(UTC)
    )
    await publish(
        kafka.bootstrap,
        topics.INTAKE_TICKETS,
        new_envelope(cancelled, source="/fixflow/intake", subject=env.subject, tenant=t),
    )
    detail = await eventually(get, lambda j: j["status"] == "cancelled")
    assert detail["appointments"][0]["status"] == "cancelled" and detail["work_orders"][0]["status"] == "unassigned"


async def test_batch_optimisation_plans_open_jobs_with_explanations(client, kafka):
    t = tenant()
    envs = [ticket_opened(t, dlat=0.01 * i, priority="P2" if i else "P1") for i in range(5)]
    # nobody to send yet: the jobs stay open
    await publish(kafka.bootstrap, topics.INTAKE_TICKETS, *(e for env in envs for e in (env, ticket_triaged(env))))

    async def open_jobs():
        return (await client.get("/v1/jobs", params={"status": "open"}, headers=h(t))).json()

    await eventually(open_jobs, lambda js: len(js) == 5)
    techs = [await technician(client, t, name=f"T{i}", dlat=0.02 * i, max_jobs_per_day=2) for i in range(3)]
    r = await client.post("/v1/optimisations", json={"method": "fast"}, headers=h(t))
    assert r.status_code == 200, r.text
    plan = r.json()
    assert len(plan["assignments"]) == 5 and plan["unplanned"] == {}
    per_tech = {x["technician_id"] for x in plan["assignments"]}
    assert per_tech <= {x["id"] for x in techs} and len(per_tech) >= 2  # work is spread
    assert all(x["why"] and "km" in x["why"] for x in plan["assignments"])
    assert await open_jobs() == []
    again = await client.post("/v1/optimisations", json={"method": "exact"}, headers=h(t))
    assert again.json()["assignments"] == []  # nothing left to plan
    bad = await client.post("/v1/optimisations", json={"method": "quantum"}, headers=h(t))
    assert bad.status_code == 422


async def test_periodic_optimiser_round_plans_every_tenant(client, kafka, dispatch_app):
    from dispatch.entrypoints.scheduler import optimise_all

    runtime, app = dispatch_app
    t = tenant()
    env = await open_ticket(kafka.bootstrap, t)

    async def job():
        r = await client.get(f"/v1/jobs/by-ticket/{env.subject}", headers=h(t))
        return r.json() if r.status_code == 200 else None

    await eventually(job, lambda j: j is not None and j["status"] == "open")
    await technician(client, t, name="Late joiner")
    assert await optimise_all(runtime, app.state.planning) >= 1
    assert (await job())["status"] == "assigned"


async def test_reopened_ticket_gets_a_new_visit_and_remote_fix_cancels(client, kafka):
    from fixflow_shared.events.contracts.intake import TicketResolved

    t = tenant()
    qian = await technician(client, t, name="Qian")
    env = await open_ticket(kafka.bootstrap, t)

    async def job():
        r = await client.get(f"/v1/jobs/by-ticket/{env.subject}", headers=h(t))
        return r.json() if r.status_code == 200 else None

    j = await eventually(job, lambda x: x is not None and x["status"] == "assigned")
    wo = (await client.get(f"/v1/jobs/{j['id']}", headers=h(t))).json()["work_orders"][0]["id"]
    hdr = h(t, "technician", technician_id=qian["id"])
    await client.post(f"/v1/work-orders/{wo}/arrival", json={}, headers=hdr)
    await fill_checklist(client, wo, hdr)
    r = await client.post(
        f"/v1/work-orders/{wo}/completion",
        json={
            "resolution_code": "adjusted",
            "signed_by": "Mr Qian",
            "signed_at": datetime.now(UTC).isoformat(),
            "signature_sha256": "b" * 64,
        },
        headers=hdr,
    )
    assert r.status_code == 200
    assert (await job())["status"] == "done"
    triaged = TicketTriaged(
        ticket_id=env.subject,
        tenant_id=t,
        kind="repair",
        category="washer",
        priority="P2",
        path="on_site",
        required_skills=["washer"],
        round=2,
        triaged_at=datetime.now(UTC),
    )
    await publish(
        kafka.bootstrap,
        topics.INTAKE_TICKETS,
        new_envelope(triaged, source="/fixflow/intake", subject=env.subject, tenant=t),
    )
    j = await eventually(job, lambda x: x["status"] == "assigned")
    assert j["visits"] == 2
    resolved = TicketResolved(
        ticket_id=env.subject, tenant_id=t, kind="repair", resolution="remote_fix", resolved_at=datetime.now(UTC)
    )
    await publish(
        kafka.bootstrap,
        topics.INTAKE_TICKETS,
        new_envelope(resolved, source="/fixflow/intake", subject=env.subject, tenant=t),
    )
    j = await eventually(job, lambda x: x["status"] == "cancelled")
    detail = (await client.get(f"/v1/jobs/{j['id']}", headers=h(t))).json()
    assert [a["status"] for a in detail["appointments"]] == ["done", "cancelled"]


async def test_bad_input_on_appointments_and_work_orders_writes_nothing(client, kafka):
    t = tenant()
    await technician(client, t, name="Feng")
    env = await open_ticket(kafka.bootstrap, t)

    async def job():
        r = await client.get(f"/v1/jobs/by-ticket/{env.subject}", headers=h(t))
        return r.json() if r.status_code == 200 else None

    j = await eventually(job, lambda x: x is not None and x["status"] == "assigned")
    before = (await client.get(f"/v1/jobs/{j['id']}", headers=h(t))).json()
    appt, wo = before["appointments"][0], before["work_orders"][0]
    other = tenant()
    cases = [
        (
            "post",
            f"/v1/appointments/{appt['id']}/reschedule",
            {"start": future(-5).isoformat(), "end": future(-4).isoformat(), "reason": "x"},
            h(t),
            422,
        ),  # window in the past
        (
            "post",
            f"/v1/appointments/{appt['id']}/reschedule",
            {"start": future(30).isoformat(), "end": future(29).isoformat(), "reason": "x"},
            h(t),
            422,
        ),  # ends before it starts
        (
            "post",
            f"/v1/appointments/{appt['id']}/reschedule",
            {"start": future(30).isoformat(), "end": future(32).isoformat(), "reason": "x"},
            h(other),
            404,
        ),  # other tenant
        ("post", f"/v1/appointments/{appt['id']}/cancel", {"reason": "bored"}, h(t), 422),
        ("post", f"/v1/appointments/{appt['id']}/confirm", None, h(other), 404),
        ("post", f"/v1/work-orders/{wo['id']}/arrival", {"lat": 200}, tech_of(t, wo), 422),
        ("post", f"/v1/work-orders/{wo['id']}/arrival", {}, tech_of(other, wo), 404),
        (
            "post",
            f"/v1/work-orders/{wo['id']}/completion",
            {
                "resolution_code": "fixed",
                "signed_by": "A",
                "signed_at": datetime.now(UTC).isoformat(),
                "signature_sha256": "nothex",
            },
            tech_of(t, wo),
            422,
        ),
        (
            "post",
            f"/v1/work-orders/{wo['id']}/completion",
            {
                "resolution_code": "fixed",
                "signed_by": "A",
                "signed_at": datetime.now(UTC).isoformat(),
                "signature_sha256": "c" * 64,
                "work_type": "teleport",
                "adjustments": 0,
            },
            tech_of(t, wo),
            422,
        ),  # not a work type of the fee schedule, no adjustment counted
        (
            "post",
            f"/v1/work-orders/{wo['id']}/completion",
            {
                "resolution_code": "fixed",
                "signed_by": "A",
                "signed_at": datetime.now(UTC).isoformat(),
                "signature_sha256": "c" * 64,
            },
            tech_of(t, wo),
            409,
        ),  # not on site
        ("post", f"/v1/work-orders/{wo['id']}/work", {"labour_minutes": -5}, tech_of(t, wo), 422),
        ("post", f"/v1/work-orders/{wo['id']}/delay", {"minutes": 30}, h(t, "customer"), 403),
        (
            "patch",
            f"/v1/jobs/{j['id']}",
            {"required_skills": {"unknown-skill": 1}},
            h(t),
            409,
        ),  # assigned: not editable
        ("get", f"/v1/jobs/{j['id']}", None, h(other), 404),
        ("get", f"/v1/jobs/{j['id']}/offers", None, h(other, "customer"), 404),
    ]
    for method, url, body, headers, status in cases:
        kw = {"json": body} if body is not None else {}
        r = await getattr(client, method)(url, headers=headers, **kw)
        assert r.status_code == status, (url, body, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    after = (await client.get(f"/v1/jobs/{j['id']}", headers=h(t))).json()
    assert after == before


async def test_unknown_skill_on_a_job_is_422(client, kafka):
    t = tenant()
    env, job = await incomplete_job(client, kafka, t)
    r = await client.patch(
        f"/v1/jobs/{job['id']}", json={"required_skills": {"levitation": 1}, "lat": 31.2, "lon": 121.4}, headers=h(t)
    )
    assert r.status_code == 422 and "levitation" in r.json()["detail"]
    assert (await client.get(f"/v1/jobs/{job['id']}", headers=h(t))).json()["lat"] is None


async def test_untriaged_repair_waits_and_remote_triage_cancels_a_planned_visit(client, kafka):
    from fixflow_shared.events.contracts.intake import TicketOpened

    t = tenant()
    await technician(client, t, name="Lu")
    # a repair without a path yet: no job until triage
    raw = ticket_opened(t)
    untriaged = TicketOpened.model_validate({**raw.data, "path": None})
    env0 = new_envelope(untriaged, source="/fixflow/intake", subject=raw.subject, tenant=t)
    # an installation is on site by nature
    inst = ticket_opened(t, kind="installation")
    inst = new_envelope(
        TicketOpened.model_validate({**inst.data, "path": None}),
        source="/fixflow/intake",
        subject=inst.subject,
        tenant=t,
    )
    await publish(kafka.bootstrap, topics.INTAKE_TICKETS, env0, inst)

    async def job(subject):
        r = await client.get(f"/v1/jobs/by-ticket/{subject}", headers=h(t))
        return r.json() if r.status_code == 200 else None

    # opened only: the job waits for triage's skills and duration before it is placed
    await eventually(lambda: job(inst.subject), lambda j: j is not None and j["status"] == "awaiting_triage")
    await publish(kafka.bootstrap, topics.INTAKE_TICKETS, ticket_triaged(inst, kind="installation", path="on_site"))
    await eventually(lambda: job(inst.subject), lambda j: j["status"] == "assigned")
    assert await job(env0.subject) is None
    remote = TicketTriaged(
        ticket_id=inst.subject,
        tenant_id=t,
        kind="installation",
        category="washer",
        priority="P3",
        path="remote",
        triaged_at=datetime.now(UTC),
    )
    await publish(
        kafka.bootstrap,
        topics.INTAKE_TICKETS,
        new_envelope(remote, source="/fixflow/intake", subject=inst.subject, tenant=t),
    )
    j = await eventually(lambda: job(inst.subject), lambda j: j["status"] == "cancelled")
    detail = (await client.get(f"/v1/jobs/{j['id']}", headers=h(t))).json()
    assert detail["appointments"][0]["status"] == "cancelled" and detail["work_orders"][0]["status"] == "unassigned"


async def test_p1_takes_the_place_of_an_unconfirmed_p4_visit(client, kafka):
    t = tenant()
    # Dispatch counts a technician's daily load per UTC day. The P1's deadline must fall before the
    # next day's first visit, or it has no reason to take the P4's place: keep it inside today.
    now = datetime.now(UTC)
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    if midnight - now < timedelta(hours=2):
        pytest.skip("within 2 h of midnight UTC no visit fits before the day ends")
    only = await technician(client, t, name="Solo", max_jobs_per_day=1)
    low = await open_ticket(kafka.bootstrap, t, priority="P4")

    async def job(subject):
        r = await client.get(f"/v1/jobs/by-ticket/{subject}", headers=h(t))
        return (await client.get(f"/v1/jobs/{r.json()['id']}", headers=h(t))).json() if r.status_code == 200 else None

    first = await eventually(lambda: job(low.subject), lambda j: j is not None and j["status"] == "assigned")
    low_start = first["appointments"][0]["window_start"]
    urgent = TicketTriaged(
        ticket_id=f"T-{uuid.uuid4().hex[:12]}",
        tenant_id=t,
        kind="repair",
        category="washer",
        priority="P1",
        path="on_site",
        site=Site(lat=31.235, lon=121.47),
        sla=SlaDeadlines(
            on_site_arrival_due=min(datetime.now(UTC) + timedelta(hours=5), midnight - timedelta(minutes=1))
        ),
        triaged_at=datetime.now(UTC),
    )
    await publish(
        kafka.bootstrap,
        topics.INTAKE_TICKETS,
        new_envelope(urgent, source="/fixflow/intake", subject=urgent.ticket_id, tenant=t),
    )
    p1 = await eventually(lambda: job(urgent.ticket_id), lambda j: j is not None and j["status"] == "assigned")
    assert p1["work_orders"][0]["technician_id"] == only["id"]
    p1_start = datetime.fromisoformat(p1["appointments"][0]["window_start"])
    assert p1_start < datetime.now(UTC) + timedelta(hours=1)  # the P1 took today's only visit
    moved = await job(low.subject)
    assert [w["status"] for w in moved["work_orders"]] == ["unassigned", "assigned"]
    new_start = datetime.fromisoformat(moved["appointments"][0]["window_start"])
    assert new_start > datetime.fromisoformat(low_start) and new_start.date() > p1_start.date()  # a later day
    found = await events(
        kafka.bootstrap,
        topics.DISPATCH_WORK_ORDERS,
        low.subject,
        lambda es: bool(of_type(es, "appointment.rescheduled")),
    )
    assert of_type(found, "technician.unassigned")[0].data["reason"] == "rebalanced"
