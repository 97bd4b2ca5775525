"""Channels over real local servers and the real broker: SMS gateway retries and failover, quiet
hours, per-tenant rate limit, signed webhooks, in-app feed, appointment confirmation content."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta

import pytest
from notify_helpers import deliveries_of, envelope_of, settled, subject_of

from fixflow_shared.events.contracts.dispatch import AppointmentBooked, TechnicianAssigned, TimeWindow
from fixflow_shared.events.contracts.intake import TicketOpened
from fixflow_shared.testing import auth_headers, eventually
from notify.domain import signing

pytestmark = pytest.mark.integration


def opened(ticket_id: str, tenant: str, *, email: str | None = None, phone: str | None = None, locale: str = "zh-CN"):
    return envelope_of(
        TicketOpened(
            ticket_id=ticket_id,
            tenant_id=tenant,
            kind="repair",
            channel="phone",
            symptom="fridge is warm",
            opened_at=datetime.now(UTC),
            contact_email=email,
            contact_phone=phone,
            locale=locale,
        ),
        tenant=tenant,
        subject=ticket_id,
    )


async def test_gateway_failing_twice_then_succeeding_sends_one_sms_with_retry_record(
    notify_app, publish, client, sms_primary, sms_failover, ticket_id
):
    sms_primary.reset(script=[503, 503])
    sms_failover.reset()
    await publish(opened(ticket_id, "t-sms", phone="+8613800138000"))
    [d] = await settled(client, "t-sms", ticket_id, count=1)
    assert d["status"] == "sent" and d["channel"] == "sms" and d["recipient"] == "+86 138****8000"
    assert d["attempts"] == 3 and d["provider"] == "sms-primary"
    assert [a["outcome"] for a in d["attempt_log"]] == ["retry", "retry", "ok"]
    assert "503" in d["attempt_log"][0]["error"]
    mine = [r for r in sms_primary.requests if r.json()["reference"] == d["id"]]
    assert len(mine) == 3 and len([r for r in sms_primary.accepted if r.json()["reference"] == d["id"]]) == 1
    sms = mine[-1].json()
    assert sms["to"] == "+8613800138000" and ticket_id in sms["text"]
    assert mine[-1].headers["idempotency-key"] == d["id"]  # the provider can drop a duplicate
    assert sms_failover.requests == []


async def test_primary_down_fails_over_to_second_provider(
    notify_app, publish, client, sms_primary, sms_failover, ticket_id
):
    sms_failover.reset()
    await sms_primary.stop()  # connection refused: the primary provider is down
    try:
        await publish(opened(ticket_id, "t-sms", phone="13900139000"))
        [d] = await settled(client, "t-sms", ticket_id, count=1)
    finally:
        sms_primary.reset()
        await sms_primary.start()
    assert d["status"] == "sent" and d["provider"] == "sms-failover"
    assert [(a["provider"], a["outcome"]) for a in d["attempt_log"]] == [
        ("sms-primary", "retry"),
        ("sms-primary", "retry"),
        ("sms-primary", "failover"),
        ("sms-failover", "ok"),
    ]
    assert [r.json()["to"] for r in sms_failover.accepted] == ["+8613900139000"]  # E.164, the one phone rule


async def test_all_providers_refusing_gives_a_dead_letter_with_reason(
    notify_app, publish, client, sms_primary, sms_failover, ticket_id
):
    sms_primary.reset(script=[400])  # permanent: the number is refused, no failover
    sms_failover.reset()
    await publish(opened(ticket_id, "t-sms", phone="13700137000"))
    [d] = await settled(client, "t-sms", ticket_id, count=1)
    assert d["status"] == "failed" and "refused by sms-primary" in d["last_error"]
    assert d["attempts"] == 1 and sms_failover.requests == []


async def test_quiet_hours_defer_sms_then_send(notify_app, publish, client, sms_primary, smtp_server, ticket_id):
    sms_primary.reset()
    phone = "+8613600136000"
    now = datetime.now(UTC)
    quiet = {
        "start": (now - timedelta(minutes=1)).strftime("%H:%M:%S"),
        "end": (now + timedelta(seconds=4)).strftime("%H:%M:%S"),
        "tz": "UTC",
    }
    r = await client.put(
        f"/v1/preferences/{phone}", json={"quiet_hours": quiet}, headers=auth_headers("t-quiet", "agent")
    )
    assert r.status_code == 200, r.text
    assert r.json()["recipient"] == "+86 136****6000"

    await publish(opened(ticket_id, "t-quiet", phone=phone, email="wang@example.com"))

    async def deferred():
        items = {d["channel"]: d for d in await deliveries_of(client, "t-quiet", ticket_id)}
        return (
            items
            if items.get("sms", {}).get("status") == "deferred" and items.get("email", {}).get("status") == "sent"
            else None
        )

    items = await eventually(deferred)
    assert datetime.fromisoformat(items["sms"]["not_before"]) > now
    assert not [x for x in sms_primary.accepted if x.json()["to"] == phone]  # nothing at night
    # ... and when the quiet hours end, the SMS goes (due timer).
    sent = await settled(client, "t-quiet", ticket_id, count=2, timeout=15)
    sms = next(d for d in sent if d["channel"] == "sms")
    assert sms["status"] == "sent" and datetime.fromisoformat(sms["sent_at"]) >= datetime.fromisoformat(
        sms["not_before"]
    )
    assert len([x for x in sms_primary.accepted if x.json()["to"] == phone]) == 1


async def test_rate_limit_per_tenant_defers_the_excess(notify_app, publish, client):
    # conftest sets t-rate to 2 messages per channel per minute, counted in fixed one-minute windows:
    # start early in a window, so that the three (planned within seconds, even on a loaded machine)
    # are counted in the same one whatever the time of day.
    await eventually(
        lambda: datetime.now(UTC).second, lambda s: s < 30, timeout=61, interval=0.2, what="the first half of a minute"
    )
    ids = [f"T-rate-{time.time_ns()}-{i}" for i in range(3)]
    for tid in ids:
        await publish(opened(tid, "t-rate", email=f"r{tid[-1]}@example.com"))

    async def all_planned():
        got = [await deliveries_of(client, "t-rate", tid) for tid in ids]
        flat = [d for items in got for d in items]
        return flat if len(flat) == 3 and all(d["status"] in ("sent", "deferred") for d in flat) else None

    flat = await eventually(all_planned)
    statuses = sorted(d["status"] for d in flat)
    assert statuses == ["deferred", "sent", "sent"]
    late = next(d for d in flat if d["status"] == "deferred")
    assert datetime.fromisoformat(late["not_before"]).second == 0  # the next one-minute window


async def test_webhook_is_signed_retried_and_verifiable(notify_app, publish, client, sms_failover, ticket_id):
    receiver = sms_failover  # any local HTTP server will do as the partner's receiver
    receiver.reset(script=[500])
    secret = "partner-secret-0123456789"
    r = await client.post(
        "/v1/webhooks",
        json={
            "url": receiver.url + "/hooks/fixflow",
            "event_types": ["fixflow.intake.ticket.opened.v1"],
            "secret": secret,
        },
        headers=auth_headers("t-hook", "admin"),
    )
    assert r.status_code == 201, r.text
    env = opened(ticket_id, "t-hook", email="li.wei@example.com", phone="+8613812345678")
    await publish(env)
    planned = await settled(client, "t-hook", ticket_id, count=3)  # email and SMS to the customer, the webhook
    [d] = [x for x in planned if x["channel"] == "webhook"]
    assert d["channel"] == "webhook" and d["status"] == "sent" and d["attempts"] == 2
    req = receiver.accepted[-1]
    assert req.path == "/hooks/fixflow"
    ts, sig = req.headers["fixflow-timestamp"], req.headers["fixflow-signature"]
    # The documented algorithm, computed independently of notify's code:
    expected = "v1=" + hmac.new(secret.encode(), ts.encode() + b"." + req.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(sig, expected)
    assert signing.verify(secret, ts, sig, req.body, now=time.time())
    assert not signing.verify(secret, ts, sig, req.body + b" ", now=time.time())
    assert not signing.verify("wrong-secret-0123456", ts, sig, req.body, now=time.time())
    assert not signing.verify(secret, ts, sig, req.body, now=time.time() + 3600)  # replay later: refused
    body = req.json()
    assert body["event_id"] == env.id and body["type"] == "fixflow.intake.ticket.opened.v1"
    assert body["data"]["ticket_id"] == ticket_id and req.headers["fixflow-delivery"] == d["id"]
    # the subscription did not ask for contact details: the partner gets none
    assert "contact_email" not in body["data"] and "contact_phone" not in body["data"]
    assert "li.wei" not in req.body.decode() and "13812345678" not in req.body.decode()

    bad = await client.post("/v1/webhooks", json={"url": "not a url"}, headers=auth_headers("t-hook", "admin"))
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    for internal in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.8/h", "http://[::1]:9/h"):
        bad = await client.post("/v1/webhooks", json={"url": internal}, headers=auth_headers("t-hook", "admin"))
        assert bad.status_code == 422 and bad.json()["title"] == "Invalid webhook target", internal


async def test_a_webhook_asking_for_contact_details_gets_them(notify_app, publish, client, sms_failover, ticket_id):
    receiver = sms_failover
    receiver.reset()
    tenant = "t-hook-contact"
    r = await client.post(
        "/v1/webhooks",
        json={
            "url": receiver.url + "/hooks/c",
            "event_types": ["fixflow.intake.ticket.opened.v1"],
            "include_contact": True,
        },
        headers=auth_headers(tenant, "manager"),
    )
    assert r.status_code == 201 and r.json()["include_contact"] is True
    await publish(opened(ticket_id, tenant, email="li.wei@example.com"))
    planned = await settled(client, tenant, ticket_id, count=2)
    [d] = [x for x in planned if x["channel"] == "webhook"]
    assert d["status"] == "sent"
    assert receiver.accepted[-1].json()["data"]["contact_email"] == "li.wei@example.com"


async def test_appointment_confirmation_and_technician_feed(
    notify_app, publish, client, smtp_server, sms_primary, ticket_id
):
    sms_primary.reset()
    tenant = "t-appt"
    await publish(opened(ticket_id, tenant, email="zhao@example.com", locale="en"))
    await settled(client, tenant, ticket_id, count=1)
    start = datetime(2030, 5, 6, 1, 0, tzinfo=UTC)
    window = TimeWindow(start=start, end=start + timedelta(hours=2))
    await publish(
        envelope_of(
            AppointmentBooked(
                ticket_id=ticket_id,
                tenant_id=tenant,
                appointment_id="A1",
                job_id="J1",
                technician_id="tech-7",
                technician_name="Zhang Wei",
                technician_phone="13512345678",
                window=window,
                booked_at=start,
            ),
            tenant=tenant,
            subject=ticket_id,
        )
    )
    await publish(
        envelope_of(
            TechnicianAssigned(
                ticket_id=ticket_id,
                tenant_id=tenant,
                job_id="J1",
                work_order_id="W1",
                technician_id="tech-7",
                technician_name="Zhang Wei",
                technician_phone="13512345678",
                window=window,
                assigned_at=start,
            ),
            tenant=tenant,
            subject=ticket_id,
        )
    )
    items = await settled(client, tenant, ticket_id, count=4)
    kinds = sorted((d["template"], d["audience"], d["channel"]) for d in items)
    assert kinds == [
        ("appointment.booked", "customer", "email"),
        ("technician.assigned", "technician", "in_app"),
        ("technician.assigned", "technician", "sms"),
        ("ticket.opened", "customer", "email"),
    ]
    [mail] = [m for m in smtp_server.inbox.to("zhao@example.com") if "Visit booked" in subject_of(m)]
    text = mail.get_payload(decode=True).decode()
    # Time window in the tenant's zone (Asia/Shanghai), technician name and phone.
    assert "2030-05-06 09:00 to 2030-05-06 11:00" in text and "Zhang Wei" in text and "13512345678" in text
    feed = await client.get(
        "/v1/feed/tech-7", headers=auth_headers(tenant, "technician", subject="tech-7", technician_id="tech-7")
    )
    assert feed.status_code == 200 and len(feed.json()) == 1 and ticket_id in feed.json()[0]["body"]
    other = await client.get(
        "/v1/feed/tech-7", headers=auth_headers(tenant, "technician", subject="tech-8", technician_id="tech-8")
    )
    assert other.status_code == 404


async def test_a_long_email_reaches_a_strict_smtp_server_with_crlf_line_ends(smtp_server):
    """The SMTP server under test (aiosmtpd) reads DATA by CRLF lines of at most 1,001 bytes, as strict
    servers do: an e-mail longer than that sent with bare LFs was one over-long line and refused (500)."""
    from notify.adapters.channels import Outgoing, SmtpEmail

    channel = SmtpEmail(host="127.0.0.1", port=smtp_server.port, sender="fixflow@example.com")
    body = "See it online: https://portal.example/l/" + "x" * 1500
    outgoing = Outgoing(
        delivery_id="long-1",
        tenant_id="t1",
        ticket_id="T-long",
        recipient="long@example.com",
        subject="Ticket received",
        body=body,
        event_type="fixflow.intake.ticket.opened.v1",
    )
    try:
        await channel.send(outgoing)
    finally:
        await channel.close()
    [mail] = smtp_server.inbox.to("long@example.com")
    assert mail.get_payload(decode=True).decode() == body
