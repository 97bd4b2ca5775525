"""The walking-skeleton slice over the real broker: ticket.opened -> one acknowledgement email."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from notify_helpers import subject_of

from fixflow_shared.events import new_envelope
from fixflow_shared.events.contracts.intake import TicketOpened
from fixflow_shared.testing import auth_headers, eventually

pytestmark = pytest.mark.integration


def opened(
    ticket_id: str,
    *,
    tenant: str = "t1",
    email: str | None = "li.lei@example.com",
    phone: str | None = None,
    locale: str = "zh-CN",
):
    return new_envelope(
        TicketOpened(
            ticket_id=ticket_id,
            tenant_id=tenant,
            kind="repair",
            channel="phone",
            symptom="washer leaks",
            opened_at=datetime.now(UTC),
            contact_email=email,
            contact_phone=phone,
            locale=locale,
        ),
        source="/fixflow/intake",
        subject=ticket_id,
        tenant=tenant,
    )


async def test_same_event_three_times_sends_one_email(notify_app, publish, smtp_server, client, ticket_id):
    env = opened(ticket_id, email="li.lei@example.com")
    for _ in range(3):
        await publish(env)
    # A marker on the same key (same partition, consumed in order) proves all three copies were seen.
    marker = opened(ticket_id, email="marker@example.com")
    await publish(marker)
    await eventually(lambda: smtp_server.inbox.to("marker@example.com"))

    mails = [m for m in smtp_server.inbox.to("li.lei@example.com") if ticket_id in subject_of(m)]
    assert len(mails) == 1
    assert "已受理" in subject_of(mails[0])
    assert ticket_id in mails[0]["Subject"]  # readable even in the raw, RFC 2047-encoded header
    assert ticket_id in mails[0].get_payload(decode=True).decode()

    async def sent() -> list:
        r = await client.get("/v1/deliveries", params={"ticket_id": ticket_id}, headers=auth_headers("t1", "agent"))
        assert r.status_code == 200, r.text
        items = [d for d in r.json() if d["trigger_event_id"] == env.id]
        return items if items and all(d["status"] == "sent" for d in items) else []

    items = await eventually(sent)
    assert len(items) == 1
    d = items[0]
    assert d["channel"] == "email" and d["recipient"] == "l***@example.com"
    assert d["template"] == "ticket.opened" and d["trigger_event_type"] == "fixflow.intake.ticket.opened.v1"
    assert d["attempts"] == 1 and d["sent_at"] and d["created_at"]


async def test_english_template_and_tenant_scope(notify_app, publish, smtp_server, client, ticket_id):
    await publish(opened(ticket_id, email="sam@example.org", locale="en", tenant="t-en"))
    mail = (
        await eventually(lambda: [m for m in smtp_server.inbox.to("sam@example.org") if ticket_id in subject_of(m)])
    )[0]
    assert subject_of(mail).startswith("[Service] We received your request")
    other = await client.get("/v1/deliveries", params={"ticket_id": ticket_id}, headers=auth_headers("t1", "manager"))
    assert other.status_code == 200 and other.json() == []
    forbidden = await client.get(
        "/v1/deliveries", params={"ticket_id": ticket_id}, headers=auth_headers("t-en", "customer")
    )
    assert forbidden.status_code == 403 and forbidden.headers["content-type"] == "application/problem+json"
    missing = await client.get("/v1/deliveries", headers=auth_headers("t-en", "agent"))
    assert missing.status_code == 422 and missing.headers["content-type"] == "application/problem+json"
