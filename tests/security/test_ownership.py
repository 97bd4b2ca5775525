"""What the matrix cannot see from paths alone: a customer opening tickets names only its own
customer, assets and tickets; filters cannot widen a customer's lists; an Idempotency-Key replay is
authorised again; staff writes land in the audit log (admins read it, with the partner's key id as
subject, never characters of the key); notify's recipient ids are per tenant."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from authz_world import PARTNER_KEYS, PARTNER_TENANT, World

from fixflow_shared.testing import auth_headers
from notify.adapters.repository import NotifyRepository


def customer(world: World, side: str = "a") -> dict[str, str]:
    return auth_headers(world.tenant, "customer", customer_id=getattr(world, side).customer_id)


async def test_a_customer_opens_tickets_for_itself_only(clients, world):
    intake, a, b = clients["intake"], world.a, world.b
    base = {"kind": "repair", "channel": "web", "symptom": f"strange noise {uuid.uuid4().hex[:6]}"}
    for body in (
        {**base, "customer_id": b.customer_id},
        {**base, "asset_id": b.asset_id},
        {**base, "kind": "complaint", "original_ticket_id": b.ticket_id, "complaint_level": 1},
    ):
        r = await intake.post("/v1/tickets", json=body, headers=customer(world))
        assert r.status_code == 404, (body, r.status_code, r.text)
    own = await intake.post("/v1/tickets", json={**base, "asset_id": a.asset_id}, headers=customer(world))
    assert own.status_code == 201, own.text
    assert own.json()["customer_id"] == a.customer_id
    # typing another customer's phone links nothing of theirs
    r = await intake.post(
        "/v1/tickets",
        json={**base, "symptom": "install the new washer", "contact_phone": "+8613912340002"},
        headers=customer(world),
    )
    assert r.status_code == 201 and r.json()["customer_id"] == a.customer_id and b.ticket_id not in r.text


async def test_filters_do_not_widen_a_customers_lists(clients, world):
    a, b = world.a, world.b
    for svc, path, params in (
        ("intake", "/v1/tickets", {"customer_id": b.customer_id}),
        ("intake", "/v1/assets", {"customer_id": b.customer_id}),
        ("billing", "/v1/invoices", {"customer_id": b.customer_id}),
        ("billing", "/v1/invoices", {"ticket_id": b.ticket_id}),
        ("survey", "/v1/surveys", {"ticket_id": b.ticket_id}),
        ("survey", "/v1/surveys", {"status": ["scheduled", "sent", "completed"]}),  # the work list
        ("billing", "/v1/quotes", {"ticket_id": b.ticket_id}),
        ("intake", "/v1/sla-clocks", {"ticket_id": [a.ticket_id, b.ticket_id]}),
    ):
        r = await clients[svc].get(path, params=params, headers=customer(world))
        assert r.status_code == 200, r.text
        assert not [i for i in b.ids if i in r.text], (svc, path, params)
    mine = await clients["intake"].get("/v1/tickets", headers=customer(world))
    assert a.ticket_id in mine.text
    clocks = await clients["intake"].get("/v1/sla-clocks", params={"ticket_id": a.ticket_id}, headers=customer(world))
    assert a.ticket_id in clocks.text, "its own ticket's clocks are there"


async def test_a_technician_sees_its_own_visits_on_the_board(clients, world):
    now = datetime.now(UTC)
    period = {"start": (now - timedelta(days=1)).isoformat(), "end": (now + timedelta(days=29)).isoformat()}
    tech = auth_headers(world.tenant, "technician", technician_id=world.a.technician_id)
    board = await clients["dispatch"].get("/v1/appointments", params=period, headers=tech)
    assert board.status_code == 200, board.text
    assert {v["technician_id"] for v in board.json()} == {world.a.technician_id}
    office = await clients["dispatch"].get(
        "/v1/appointments", params=period, headers=auth_headers(world.tenant, "dispatcher")
    )
    assert {world.a.technician_id, world.b.technician_id} <= {v["technician_id"] for v in office.json()}


async def test_an_idempotency_key_replay_is_authorised_again(clients, world):
    intake = clients["intake"]
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"body": "called the customer", "kind": "note"}
    agent = auth_headers(world.tenant, "agent", subject="same-person")
    first = await intake.post(f"/v1/tickets/{world.a.ticket_id}/notes", json=body, headers={**agent, **key})
    assert first.status_code == 201, first.text
    again = await intake.post(f"/v1/tickets/{world.a.ticket_id}/notes", json=body, headers={**agent, **key})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    # the same subject, now with a token that no longer holds the role: refused, not replayed
    demoted = auth_headers(world.tenant, "dispatcher", subject="same-person")
    r = await intake.post(f"/v1/tickets/{world.a.ticket_id}/notes", json=body, headers={**demoted, **key})
    assert r.status_code == 403 and "idempotent-replayed" not in r.headers
    # ... and an ownership that no longer holds is 404, not the stored answer
    cust = auth_headers(world.tenant, "customer", subject="cust-x", customer_id=world.a.customer_id)
    k2 = {"Idempotency-Key": uuid.uuid4().hex}
    reason = {"reason": "changed my mind"}
    t = await intake.post(
        "/v1/tickets", json={"kind": "consultation", "channel": "web", "symptom": "how to descale"}, headers=cust
    )
    ok = await intake.post(f"/v1/tickets/{t.json()['id']}/cancel", json=reason, headers={**cust, **k2})
    assert ok.status_code == 200, ok.text
    moved = auth_headers(world.tenant, "customer", subject="cust-x", customer_id=world.b.customer_id)
    r = await intake.post(f"/v1/tickets/{t.json()['id']}/cancel", json=reason, headers={**moved, **k2})
    assert r.status_code == 404 and "idempotent-replayed" not in r.headers


async def test_staff_writes_are_audited_and_admins_read_them(clients, world):
    intake = clients["intake"]
    agent = auth_headers(world.tenant, "agent", subject="auditee")
    r = await intake.post(
        f"/v1/tickets/{world.a.ticket_id}/notes",
        json={"body": "audited", "kind": "note"},
        headers={**agent, "X-Request-ID": "req-123", "traceparent": "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"},
    )
    assert r.status_code == 201 and r.headers["x-request-id"] == "req-123"
    admin = auth_headers(world.tenant, "admin")
    rows = (await intake.get("/v1/audit", params={"subject": "auditee"}, headers=admin)).json()
    entry = next(e for e in rows if e["request_id"] == "req-123")
    assert entry["action"] == "tickets.note" and entry["roles"] == ["agent"] and entry["status"] == 201
    assert entry["object_id"] == world.a.ticket_id and entry["trace_id"] == "ab" * 16
    by_object = (await intake.get("/v1/audit", params={"object": world.a.ticket_id}, headers=admin)).json()
    assert any(e["request_id"] == "req-123" for e in by_object)
    later = (await intake.get("/v1/audit", params={"from": "2200-01-01T00:00:00Z"}, headers=admin)).json()
    assert later == []
    for role in ("agent", "manager", "dispatcher"):  # admins only
        assert (await intake.get("/v1/audit", headers=auth_headers(world.tenant, role))).status_code == 403
    other_tenant = await intake.get("/v1/audit", headers=auth_headers("someone-else", "admin"))
    assert other_tenant.status_code == 200 and other_tenant.json() == []
    # reads and failed writes are not audited; a customer's own writes are not staff writes
    assert all(e["method"] != "GET" and e["status"] < 400 for e in rows)


async def test_a_partner_is_recorded_by_its_key_id_never_by_its_key(clients, world):
    assert world.tenant == PARTNER_TENANT
    key = PARTNER_KEYS["partner-all"]
    r = await clients["intake"].post(
        "/v1/tickets",
        json={"kind": "repair", "channel": "partner", "symptom": f"dealer reports a dent {uuid.uuid4().hex[:6]}"},
        headers={"X-API-Key": key},
    )
    assert r.status_code == 201, r.text
    rows = (
        await clients["intake"].get(
            "/v1/audit", params={"object": r.json()["id"]}, headers=auth_headers(world.tenant, "admin")
        )
    ).json()
    assert [e["subject"] for e in rows] == [f"partner:partner-all-{PARTNER_TENANT}"]
    assert not any(key[i : i + 6] in str(rows) for i in range(len(key) - 6))
    # scopes: the same partner without tickets:read sees no tickets
    minimal = await clients["intake"].get("/v1/tickets", headers={"X-API-Key": PARTNER_KEYS["partner-min"]})
    assert minimal.status_code == 403


async def test_recipient_ids_are_per_tenant(apps, clients):
    notify = clients["notify"]
    body = {"role": "manager", "name": "Service Manager", "email": "mgr.one@example.com"}
    one = auth_headers("tenant-one", "manager")
    two = auth_headers("tenant-two", "manager")
    assert (await notify.put("/v1/recipients/mgr-service", json=body, headers=one)).status_code == 200
    # another tenant takes the same id for its own manager: both keep theirs
    other = {**body, "email": "mgr.two@example.com"}
    assert (await notify.put("/v1/recipients/mgr-service", json=other, headers=two)).status_code == 200
    rt = apps["notify"].state.runtime

    for tenant, email in (("tenant-one", "mgr.one@example.com"), ("tenant-two", "mgr.two@example.com")):
        async with rt.uow() as uow:
            await uow.scope_to_tenant(tenant)
            found = await NotifyRepository(uow.session).recipients_with_role(tenant, "manager")
        assert [(r["id"], r["email"]) for r in found] == [("mgr-service", email)]
