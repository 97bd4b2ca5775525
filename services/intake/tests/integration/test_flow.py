"""Intake end to end against real PostgreSQL, Redis and Kafka: directory, warranty, waiting on
the customer, triage, transitions, duplicates, consumers of other services' events, timeline,
SLA timers, pagination, KPIs and bad input."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from fixflow_shared.events import new_envelope
from fixflow_shared.events.contracts import dispatch as dsp
from fixflow_shared.events.contracts import survey as srv
from fixflow_shared.testing import auth_headers, eventually

pytestmark = pytest.mark.integration
H = auth_headers("t-flow", "agent,manager")


def phone() -> str:
    return "+86138" + str(uuid.uuid4().int)[:8]


async def setup_asset(
    client: Any, *, headers: dict[str, str] = H, purchase: date | None = None, flags: list[str] | None = None
) -> dict[str, Any]:
    c = await client.post(
        "/v1/customers",
        json={
            "name": "Li Lei",
            "phone": phone(),
            "grade": "A",
            "addresses": [
                {"line": "1 Nanjing Rd", "region": "CN-31", "in_province": True, "lat": 31.23, "lon": 121.47}
            ],
        },
        headers=headers,
    )
    assert c.status_code == 201, c.text
    model = "WM-" + uuid.uuid4().hex[:6]
    p = await client.post(
        "/v1/products",
        json={
            "model": model,
            "name": "Washer",
            "warranty_months": 12,
            "return_window_days": 30,
            "non_returnable": flags or [],
        },
        headers=headers,
    )
    assert p.status_code == 201, p.text
    a = await client.post(
        "/v1/assets",
        json={
            "customer_id": c.json()["id"],
            "product_id": p.json()["id"],
            "serial": "SN" + uuid.uuid4().hex[:8],
            "purchase_date": (purchase or date.today() - timedelta(days=100)).isoformat(),
        },
        headers=headers,
    )
    assert a.status_code == 201, a.text
    return {"customer": c.json(), "product": p.json(), "asset": a.json()}


async def publish(kafka: Any, payload: Any, *, tenant: str = "t-flow") -> None:
    env = new_envelope(payload, source="/fixflow/test", subject=payload.ticket_id, tenant=tenant)
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(payload.topic, env.body(), key=env.key, headers=env.headers())
    finally:
        await producer.stop()


async def wait_for(
    client: Any, ticket_id: str, cond: Any, timeout: float = 20.0, headers: dict[str, str] = H
) -> dict[str, Any]:
    async def ticket() -> dict[str, Any]:
        return (await client.get(f"/v1/tickets/{ticket_id}", headers=headers)).json()

    return await eventually(ticket, cond, timeout=timeout, what=f"ticket {ticket_id}")


async def test_asset_ticket_is_triaged_with_warranty_and_moves_with_dispatch_events(client, kafka):
    d = await setup_asset(client)
    r = await client.post(
        "/v1/tickets",
        json={
            "kind": "repair",
            "channel": "phone",
            "symptom": "washer leaks water on the floor",
            "asset_id": d["asset"]["id"],
        },
        headers=H,
    )
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["status"] == "triaged" and t["path"] == "on_site" and t["priority"] in ("P2", "P3")
    assert t["warranty"]["status"] == "in_warranty" and t["warranty"]["rule"] == "warranty.product_months"
    assert t["customer_grade"] == "A" and t["site"]["region"] == "CN-31"
    assert "*" in t["contact_phone"]  # masked

    now = datetime.now(UTC)
    common = {"ticket_id": t["id"], "tenant_id": "t-flow", "technician_id": "tech-1"}
    await publish(
        kafka,
        dsp.TechnicianAssigned(
            **common, job_id="J1", work_order_id="W1", technician_name="Wang", assigned_at=now, team_id="north-3"
        ),
    )
    await publish(kafka, dsp.VisitStarted(**common, work_order_id="W1", visit_number=1, arrived_at=now))
    await wait_for(client, t["id"], lambda x: x["status"] == "in_progress")
    completed = dsp.WorkOrderCompleted(
        **common,
        work_order_id="W1",
        job_id="J1",
        visit_number=1,
        labour_minutes=30,
        resolution_code="SEAL",
        sign_off=dsp.CustomerSignOff(signed_by="Li", signed_at=now, signature_sha256="0" * 64),
        first_time_fix=True,
        completed_at=now,
        team_id="north-3",
    )
    await publish(kafka, completed)
    await publish(kafka, completed)  # a second copy of the same fact changes nothing more
    done = await wait_for(client, t["id"], lambda x: x["status"] == "resolved")
    assert done["technician_id"] == "tech-1" and done["team_id"] == "north-3"

    details = (await client.get(f"/v1/tickets/{t['id']}/details", headers=H)).json()
    clocks = {c["name"]: c for c in details["sla_clocks"]}
    assert set(clocks) == {"first_response", "on_site_arrival", "resolution"}
    assert all(c["stopped_at"] for c in clocks.values())

    async def timeline_types() -> list[str]:
        tl = (await client.get(f"/v1/tickets/{t['id']}/timeline", headers=H)).json()
        return [e["type"] for e in tl["events"]]

    types = await eventually(
        timeline_types,
        lambda ts: "fixflow.intake.ticket.resolved.v1" in ts and "fixflow.dispatch.work-order.completed.v1" in ts,
        what="resolution on the timeline",
    )
    assert types[0] == "fixflow.intake.ticket.opened.v1"
    tl = (await client.get(f"/v1/tickets/{t['id']}/timeline", headers=H)).json()["events"]
    resolved = [e for e in tl if e["type"] == "fixflow.intake.ticket.resolved.v1"]
    assert resolved and resolved[0]["data"]["team_id"] == "north-3", "ticket.resolved v1.1 tells survey the team"
    assert {
        "fixflow.intake.ticket.triaged.v1",
        "fixflow.dispatch.technician.assigned.v1",
        "fixflow.dispatch.visit.started.v1",
        "fixflow.intake.ticket.resolved.v1",
    } <= set(types)

    # survey: dissatisfied -> reopened (and triaged again, round 2)
    await publish(
        kafka,
        srv.DissatisfactionReported(
            survey_id="S1", ticket_id=t["id"], tenant_id="t-flow", reasons=["score:attitude<=2"], reported_at=now
        ),
    )
    again = await wait_for(client, t["id"], lambda x: x["round"] == 2)
    assert again["status"] == "triaged"


async def test_waiting_customer_until_facts_are_supplied(client):
    d = await setup_asset(client)
    r = await client.post(
        "/v1/tickets",
        json={"kind": "repair", "channel": "web", "symptom": "strange smell", "customer_id": d["customer"]["id"]},
        headers=H,
    )
    t = r.json()
    assert t["status"] == "waiting_customer" and t["missing_facts"] == ["product_model", "purchase_date"]
    details = (await client.get(f"/v1/tickets/{t['id']}/details", headers=H)).json()
    assert all(c["paused_since"] for c in details["sla_clocks"])
    bad = await client.post(f"/v1/tickets/{t['id']}/facts", json={"asset_id": "A-nope"}, headers=H)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    ok = await client.post(f"/v1/tickets/{t['id']}/facts", json={"asset_id": d["asset"]["id"]}, headers=H)
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "triaged" and ok.json()["missing_facts"] == []
    details = (await client.get(f"/v1/tickets/{t['id']}/details", headers=H)).json()
    assert not any(c["paused_since"] for c in details["sla_clocks"])


async def test_return_window_and_not_returnable(client):
    d = await setup_asset(client, purchase=date.today() - timedelta(days=5), flags=["clearance"])
    r = await client.post(
        "/v1/tickets",
        json={"kind": "return", "channel": "web", "symptom": "wrong colour", "asset_id": d["asset"]["id"]},
        headers=H,
    )
    assert r.json()["warranty"]["status"] == "not_returnable" and r.json()["path"] == "send_in"
    d = await setup_asset(client, purchase=date.today() - timedelta(days=5))
    r = await client.post(
        "/v1/tickets",
        json={"kind": "return", "channel": "web", "symptom": "wrong colour", "asset_id": d["asset"]["id"]},
        headers=H,
    )
    assert r.json()["warranty"]["status"] == "return_window_open"


async def test_illegal_transitions_answer_409_and_legal_ones_work(client):
    d = await setup_asset(client)
    t = (
        await client.post(
            "/v1/tickets",
            json={"kind": "repair", "channel": "web", "symptom": "no power at all", "asset_id": d["asset"]["id"]},
            headers=H,
        )
    ).json()
    assert t["path"] == "remote" and t["suggested_fix"] == "KB-001"
    r = await client.post(f"/v1/tickets/{t['id']}/close", json={}, headers=H)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["current_status"] == "triaged" and problem["kind"] == "ticket" and problem["target"] == "closed"
    assert problem["allowed_transitions"] == ["cancelled", "resolved", "scheduled", "waiting_customer"]
    assert (await client.post(f"/v1/tickets/{t['id']}/resolve", json={"reason": "reset fixed it"}, headers=H)).json()[
        "status"
    ] == "resolved"
    assert (await client.post(f"/v1/tickets/{t['id']}/close", json={}, headers=H)).json()["status"] == "closed"
    re = await client.post(f"/v1/tickets/{t['id']}/reopen", json={"reason": "broke again"}, headers=H)
    assert re.json()["status"] == "triaged" and re.json()["round"] == 2
    assert (
        await client.post(f"/v1/tickets/{t['id']}/cancel", json={"reason": "customer bought new"}, headers=H)
    ).json()["status"] == "cancelled"
    again = await client.post(f"/v1/tickets/{t['id']}/reopen", json={}, headers=H)
    assert again.status_code == 409


async def test_duplicate_is_linked_not_created(client):
    d = await setup_asset(client)
    body = {"kind": "repair", "channel": "phone", "symptom": "washer leaks water", "asset_id": d["asset"]["id"]}
    first = await client.post("/v1/tickets", json=body, headers=H)
    second = await client.post(
        "/v1/tickets", json={**body, "channel": "wechat", "symptom": "the washer leaks water again"}, headers=H
    )
    assert second.status_code == 200 and second.json()["duplicate"] is True
    assert second.json()["id"] == first.json()["id"] and second.json()["duplicate_count"] == 1
    other = await client.post("/v1/tickets", json={**body, "symptom": "display shows nothing"}, headers=H)
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


async def test_complaint_with_compensation_escalates_and_needs_manager(client):
    d = await setup_asset(client)
    orig = (
        await client.post(
            "/v1/tickets",
            json={"kind": "repair", "channel": "phone", "symptom": "washer leaks", "asset_id": d["asset"]["id"]},
            headers=H,
        )
    ).json()
    c = await client.post(
        "/v1/tickets",
        json={
            "kind": "complaint",
            "channel": "phone",
            "symptom": "technician was rude",
            "customer_id": d["customer"]["id"],
            "original_ticket_id": orig["id"],
            "complaint_level": 2,
            "compensation_requested": True,
            "compensation_amount_minor": 20000,
        },
        headers=H,
    )
    assert c.status_code == 201, c.text
    comp = c.json()
    assert comp["kind"] == "complaint" and comp["status"] == "triaged" and comp["path"] == "remote"
    agent_only = auth_headers("t-flow", "agent")
    assert (
        await client.post(f"/v1/tickets/{comp['id']}/compensation", json={"approved": True}, headers=agent_only)
    ).status_code == 403
    ok = await client.post(f"/v1/tickets/{comp['id']}/compensation", json={"approved": True}, headers=H)
    assert ok.json()["compensation_approved"] is True
    esc = await client.post(f"/v1/tickets/{comp['id']}/escalate", json={"reason": "customer called again"}, headers=H)
    assert esc.json()["complaint_level"] == 3
    notcomp = await client.post(f"/v1/tickets/{orig['id']}/escalate", json={"reason": "x"}, headers=H)
    assert notcomp.status_code == 422


async def test_sla_breach_is_raised_by_the_timer(client, intake_app):
    tenant = "t-sla-" + uuid.uuid4().hex[:6]
    h = auth_headers(tenant, "agent,manager")
    s = await client.put(
        "/v1/settings",
        json={
            "calendar": {"tz": "UTC", "working_hours": None, "weekdays": [0, 1, 2, 3, 4, 5, 6]},
            "sla": {"targets": {"first_response": {"P1": 0.0005, "P2": 0.0005, "P3": 0.0005, "P4": 0.0005}}},
        },
        headers=h,
    )
    assert s.status_code == 200, s.text
    t = (
        await client.post(
            "/v1/tickets",
            json={"kind": "consultation", "channel": "web", "symptom": "how to descale", "contact_phone": phone()},
            headers=h,
        )
    ).json()
    assert t["status"] == "triaged"

    async def first_response() -> dict[str, Any]:
        details = (await client.get(f"/v1/tickets/{t['id']}/details", headers=h)).json()
        return {c["name"]: c for c in details["sla_clocks"]}["first_response"]

    fr = await eventually(first_response, lambda c: c["breached_raised"], what="first response breached")
    assert fr["at_risk_raised"] and fr["breached_raised"] and fr["next_check_at"] is None
    page = (await client.get("/v1/tickets?sla_risk=breached", headers=h)).json()
    assert [x["id"] for x in page["items"]] == [t["id"]]
    kpi = (await client.get("/v1/kpis", headers=h)).json()
    assert kpi["opened"] == 1 and kpi["sla"]["first_response"]["breached"] == 1


async def test_list_filters_and_cursor_pagination(client):
    tenant = "t-page-" + uuid.uuid4().hex[:6]
    h = auth_headers(tenant, "agent,manager")
    ids = []
    for i in range(7):
        r = await client.post(
            "/v1/tickets",
            json={
                "kind": "consultation",
                "channel": "web",
                "symptom": f"question {i} about {uuid.uuid4().hex}",
                "contact_email": "a@example.com",
            },
            headers=h,
        )
        ids.append(r.json()["id"])
    seen, cursor = [], None
    while True:
        url = "/v1/tickets?limit=3&kind=consultation" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(url, headers=h)).json()
        seen += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    assert (await client.get("/v1/tickets?kind=repair", headers=h)).json()["items"] == []
    assert (await client.get("/v1/tickets?cursor=%%%garbage", headers=h)).status_code == 400
    assert (await client.get("/v1/tickets?limit=1000", headers=h)).status_code == 422


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/customers", {"name": "X", "phone": "12345"}, 422),  # bad phone
        ("/v1/customers", {"name": "X" * 201}, 422),  # oversized
        ("/v1/tickets", {"kind": "repair", "channel": "web", "symptom": "x", "contact_phone": "not a phone"}, 422),
        ("/v1/tickets", {"kind": "repair", "channel": "web", "symptom": "x" * 4001}, 422),
        ("/v1/tickets", {"kind": "repair", "channel": "web", "symptom": "x", "asset_id": "A-unknown"}, 422),
        ("/v1/tickets", {"kind": "repair", "channel": "web", "symptom": "x", "customer_id": "C-unknown"}, 422),
        ("/v1/tickets", {"kind": "repair", "channel": "web", "symptom": "x", "severity": 9}, 422),
        ("/v1/assets", {"customer_id": "C-x", "product_id": "P-x", "serial": "S1"}, 422),
        ("/v1/products", {"model": "M", "name": "N", "warranty_months": -1}, 422),
    ],
)
async def test_bad_input_is_problem_json_and_writes_nothing(client, path, body, status):
    tenant = "t-bad-" + uuid.uuid4().hex[:6]
    h = auth_headers(tenant, "agent,manager")
    r = await client.post(path, json=body, headers=h)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert (await client.get("/v1/tickets", headers=h)).json()["items"] == []
    assert (await client.get("/v1/customers", headers=h)).json()["items"] == []


async def test_other_tenants_ids_are_404_or_unknown(client):
    d = await setup_asset(client)
    t = (
        await client.post(
            "/v1/tickets",
            json={"kind": "repair", "channel": "web", "symptom": "leak", "asset_id": d["asset"]["id"]},
            headers=H,
        )
    ).json()
    other = auth_headers("t-other", "agent,manager")
    for url in (
        f"/v1/tickets/{t['id']}",
        f"/v1/tickets/{t['id']}/timeline",
        f"/v1/customers/{d['customer']['id']}",
        f"/v1/assets/{d['asset']['id']}",
        f"/v1/products/{d['product']['id']}",
    ):
        r = await client.get(url, headers=other)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json", url
    for action in ("cancel", "close", "reopen", "resolve"):
        assert (await client.post(f"/v1/tickets/{t['id']}/{action}", json={}, headers=other)).status_code == 404
    r = await client.post(
        "/v1/tickets",
        json={"kind": "repair", "channel": "web", "symptom": "x", "asset_id": d["asset"]["id"]},
        headers=other,
    )
    assert r.status_code == 422
    assert (await client.get(f"/v1/tickets/{t['id']}", headers=H)).json()["status"] == "triaged"


async def test_complaint_level_dissatisfaction_reopens_only_when_the_repair_did_not_hold(client, kafka):
    """Score 1 asks for a complaint. About attitude alone the original ticket stays resolved; about the
    effectiveness of the work it is also reopened (round 2), so the repair is redone."""
    d = await setup_asset(client)
    r = await client.post(
        "/v1/tickets",
        json={
            "kind": "repair",
            "channel": "phone",
            "symptom": "washer leaks under the door",
            "asset_id": d["asset"]["id"],
        },
        headers=H,
    )
    t = r.json()
    now = datetime.now(UTC)
    common = {"ticket_id": t["id"], "tenant_id": "t-flow", "technician_id": "tech-9"}
    await publish(
        kafka,
        dsp.WorkOrderCompleted(
            **common,
            work_order_id="W9",
            job_id="J9",
            visit_number=1,
            labour_minutes=30,
            resolution_code="SEAL",
            sign_off=dsp.CustomerSignOff(signed_by="Li", signed_at=now, signature_sha256="0" * 64),
            first_time_fix=True,
            completed_at=now,
        ),
    )
    await wait_for(client, t["id"], lambda x: x["status"] == "resolved")

    async def complaints() -> list[dict[str, Any]]:
        page = (await client.get("/v1/tickets", params={"kind": "complaint", "limit": 100}, headers=H)).json()
        return [c for c in page["items"] if c["original_ticket_id"] == t["id"]]

    await publish(
        kafka,
        srv.DissatisfactionReported(
            survey_id="S-att",
            ticket_id=t["id"],
            tenant_id="t-flow",
            reasons=["score:attitude<=2"],
            lowest_score=1,
            suggested_action="complaint",
            reported_at=now,
        ),
    )
    await eventually(complaints, what="a complaint")
    assert len(await complaints()) == 1
    assert (await client.get(f"/v1/tickets/{t['id']}", headers=H)).json()["status"] == "resolved"

    await publish(
        kafka,
        srv.DissatisfactionReported(
            survey_id="S-eff",
            ticket_id=t["id"],
            tenant_id="t-flow",
            reasons=["score:effectiveness<=2", "score:overall<=2"],
            lowest_score=1,
            suggested_action="complaint",
            reported_at=now,
        ),
    )
    again = await wait_for(client, t["id"], lambda x: x["round"] == 2)
    assert again["status"] == "triaged"
    assert len(await complaints()) == 2


async def test_a_customers_assets_show_their_product_and_todays_warranty(client):
    """The agent desk's customer card: each appliance with the decision a ticket would get today."""
    fresh = await setup_asset(client)
    old = await setup_asset(client, purchase=date.today() - timedelta(days=500))
    for d, status in ((fresh, "in_warranty"), (old, "out_of_warranty")):
        got = await client.get("/v1/assets", params={"customer_id": d["customer"]["id"]}, headers=H)
        assert got.status_code == 200, got.text
        (asset,) = got.json()["items"]
        assert asset["product_model"] == d["product"]["model"] and asset["product_name"] == "Washer"
        assert asset["warranty"]["status"] == status and asset["warranty"]["warranty_ends_on"]
    r = await client.post(
        "/v1/tickets",
        json={"kind": "repair", "channel": "phone", "symptom": "washer leaks", "asset_id": old["asset"]["id"]},
        headers=H,
    )
    assert r.json()["warranty"]["warranty_ends_on"] == asset["warranty"]["warranty_ends_on"], "the same rule"
