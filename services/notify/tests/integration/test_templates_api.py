"""Templates over HTTP: versioned saves, preview, save-time rejection (problem+json), and the
tenant's newest version used for real messages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from notify_helpers import envelope_of, settled, subject_of

from fixflow_shared.events.contracts.intake import TicketOpened
from fixflow_shared.testing import auth_headers, eventually

pytestmark = pytest.mark.integration
MANAGER = auth_headers("t-tpl", "manager")


async def test_save_versions_and_use_newest(client, publish, smtp_server, ticket_id):
    url = "/v1/templates/ticket.opened/email/en"
    v1 = await client.put(url, json={"subject": "v1 {{ ticket_id }}", "body": "Hi {{ symptom }}"}, headers=MANAGER)
    assert v1.status_code == 201, v1.text and v1.json()["version"] == 1
    v2 = await client.put(
        url, json={"subject": "Got it: {{ ticket_id }}", "body": "We fix: {{ symptom | upper }}"}, headers=MANAGER
    )
    assert v2.status_code == 201 and v2.json()["version"] == 2
    versions = await client.get(url, headers=MANAGER)
    assert [v["version"] for v in versions.json()] == [1, 2]
    # another tenant sees none of them
    assert (await client.get(url, headers=auth_headers("t-other", "manager"))).status_code == 404

    await publish(
        envelope_of(
            TicketOpened(
                ticket_id=ticket_id,
                tenant_id="t-tpl",
                kind="repair",
                channel="web",
                symptom="noisy fan",
                opened_at=datetime.now(UTC),
                contact_email="kim@example.com",
                locale="en",
            ),
            tenant="t-tpl",
            subject=ticket_id,
        )
    )
    [d] = await settled(client, "t-tpl", ticket_id, count=1)
    assert d["template_version"] == 2
    [mail] = await eventually(
        lambda: [m for m in smtp_server.inbox.to("kim@example.com") if ticket_id in subject_of(m)]
    )
    assert subject_of(mail) == f"Got it: {ticket_id}" and "NOISY FAN" in mail.get_payload(decode=True).decode()


async def test_preview_renders_sample_and_given_data(client):
    r = await client.post(
        "/v1/templates/preview",
        headers=MANAGER,
        json={
            "name": "appointment.booked",
            "subject": "Visit {{ ticket_id }}",
            "body": "{{ technician_name }} ({{ technician_phone }}) {{ window_start }}-{{ window_end }}",
            "data": {
                "ticket_id": "T-1",
                "technician_name": "Li",
                "window": {"start": "2030-01-01T02:00:00+00:00", "end": "2030-01-01T04:00:00+00:00"},
            },
        },
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"subject": "Visit T-1", "body": "Li ([technician_phone]) 2030-01-01 10:00-2030-01-01 12:00"}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"subject": "{{ ticket_id }}", "body": "{{ password }}"}, "unknown variables password"),
        ({"subject": "{{ ticket_id.__class__ }}", "body": "x"}, "'__class__' is not allowed"),
        ({"subject": "x", "body": "{{ ''.__class__.__mro__[1].__subclasses__() }}"}, "not allowed"),
        ({"subject": "x", "body": "{{ symptom['__class__'] }}"}, "'__class__' is not allowed"),
        ({"subject": "x", "body": "{{ cycler.__init__.__globals__ }}"}, "unknown variables cycler"),
        ({"subject": "x", "body": "{{ symptom.upper() }}"}, "calling functions"),
        ({"subject": "x", "body": "{% for %}"}, "syntax error"),
    ],
)
async def test_bad_templates_are_rejected_at_save_time(client, body, detail):
    r = await client.put("/v1/templates/ticket.opened/email/zh-CN", json=body, headers=MANAGER)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["title"] == "Template rejected" and detail in r.json()["detail"]
    p = await client.post("/v1/templates/preview", json={"name": "ticket.opened", **body}, headers=MANAGER)
    assert p.status_code == 422


@pytest.mark.parametrize(
    ("method", "url", "body", "status"),
    [
        ("put", "/v1/templates/no.such/email/en", {"subject": "x", "body": "y"}, 422),
        ("put", "/v1/templates/ticket.opened/fax/en", {"subject": "x", "body": "y"}, 422),
        ("put", "/v1/templates/ticket.opened/email/fr", {"subject": "x", "body": "y"}, 422),
        ("put", "/v1/templates/ticket.opened/email/en", {"subject": "x", "body": "y", "extra": 1}, 422),
        ("put", "/v1/preferences/not-an-email@", {"opted_out": True}, 422),
        ("put", "/v1/preferences/12", {"opted_out": True}, 422),
        ("put", "/v1/preferences/c-1", {"quiet_hours": {"start": "22:00", "end": "07:00", "tz": "Mars/Base"}}, 422),
        ("put", "/v1/preferences/c-1", {"channels": ["pigeon"]}, 422),
        ("put", "/v1/recipients/m-1", {"role": "manager", "name": "M", "email": "nope"}, 422),
        ("put", "/v1/recipients/m-1", {"role": "manager", "name": "M", "phone": "call me"}, 422),
        ("post", "/v1/webhooks", {"url": "https://x.example/h", "event_types": ["fixflow.x.y.z.v1"]}, 422),
    ],
)
async def test_bad_input_is_problem_json(client, method, url, body, status):
    r = await getattr(client, method)(url, json=body, headers=auth_headers("t-tpl", "admin"))
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"


async def test_roles(client):
    r = await client.put(
        "/v1/templates/ticket.opened/email/en",
        json={"subject": "x", "body": "y"},
        headers=auth_headers("t-tpl", "agent"),
    )
    assert r.status_code == 403
    assert (await client.get("/v1/templates", headers=auth_headers("t-tpl", "agent"))).status_code == 200
    assert (await client.get("/v1/deliveries", params={"ticket_id": "x"})).status_code == 401


async def test_preferences_round_trip_masked(client):
    h = auth_headers("t-tpl", "agent")
    r = await client.put(
        "/v1/preferences/Li.Lei@Example.COM", json={"channels": ["email"], "opted_out": True}, headers=h
    )
    assert r.status_code == 200 and r.json()["recipient"] == "L***@example.com"
    got = await client.get("/v1/preferences/Li.Lei@example.com", headers=h)
    assert got.status_code == 200 and got.json()["opted_out"] is True and got.json()["channels"] == ["email"]
    assert (
        await client.get("/v1/preferences/Li.Lei@example.com", headers=auth_headers("t-x", "agent"))
    ).status_code == 404


async def test_health(client):
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
