"""The portal's one-time sign-in codes: sent at once through the channel's providers (retry and
failover included), nothing kept as a delivery; refused when no provider would take it."""

from __future__ import annotations

import pytest

from fixflow_shared.testing import auth_headers

pytestmark = pytest.mark.integration
PORTAL = auth_headers("t-codes", "agent", subject="portal")


async def test_a_code_goes_out_by_sms_at_once_after_a_retry(notify_app, client, sms_primary, sms_failover):
    sms_primary.reset(script=[503])
    sms_failover.reset()
    r = await client.post(
        "/v1/sign-in-codes",
        json={"channel": "sms", "to": "+8613900139001", "code": "482913", "locale": "en", "valid_minutes": 10},
        headers=PORTAL,
    )
    assert r.status_code == 202, r.text
    [sent] = sms_primary.accepted
    assert sent.json()["to"] == "+8613900139001"
    assert "482913" in sent.json()["text"] and "10 minutes" in sent.json()["text"]
    assert len(sms_primary.requests) == 2 and sms_failover.requests == []
    deliveries = await client.get(
        "/v1/deliveries", params={"ticket_id": r.json()["id"]}, headers=auth_headers("t-codes", "agent")
    )
    assert deliveries.json() == [], "a code is never kept as a delivery"
    # The query above names the code's id as a ticket, which no delivery row would carry even if
    # one were kept: count the tenant's rows themselves (no other test writes for t-codes).
    from sqlalchemy import func, select

    from notify.adapters.orm import deliveries as delivery_rows

    runtime, _ = notify_app
    async with runtime.uow() as uow:
        await uow.scope_to_tenant("t-codes")
        kept = await uow.session.scalar(
            select(func.count()).select_from(delivery_rows).where(delivery_rows.c.tenant_id == "t-codes")
        )
    assert kept == 0, "a code is never kept as a delivery"


async def test_a_code_in_chinese_by_email(notify_app, client, smtp_server):
    r = await client.post(
        "/v1/sign-in-codes",
        json={"channel": "email", "to": "wang.fang@example.com", "code": "123456", "locale": "zh-CN"},
        headers=PORTAL,
    )
    assert r.status_code == 202, r.text
    from fixflow_shared.testing import eventually

    [mail] = await eventually(lambda: smtp_server.inbox.to("wang.fang@example.com"))
    assert "123456" in mail.get_payload(decode=True).decode()


async def test_no_provider_taking_it_is_503_and_a_bad_code_is_422(notify_app, client, sms_primary, sms_failover):
    sms_primary.reset(default_status=503)
    sms_failover.reset(default_status=503)
    try:
        r = await client.post(
            "/v1/sign-in-codes", json={"channel": "sms", "to": "+8613900139002", "code": "123456"}, headers=PORTAL
        )
        assert r.status_code == 503 and r.headers["retry-after"] == "30"
    finally:
        sms_primary.reset()
        sms_failover.reset()
    bad = await client.post(
        "/v1/sign-in-codes", json={"channel": "sms", "to": "+8613900139002", "code": "12ab"}, headers=PORTAL
    )
    assert bad.status_code == 422
    customer = auth_headers("t-codes", "customer")
    refused = await client.post(
        "/v1/sign-in-codes", json={"channel": "sms", "to": "+8613900139002", "code": "123456"}, headers=customer
    )
    assert refused.status_code == 403


async def test_an_address_that_is_not_one_is_the_callers_422_before_any_provider(notify_app, client, smtp_server):
    sent_before = len(smtp_server.inbox.messages)
    for channel, to in (("email", "not an address\x00"), ("sms", "12345"), ("email", "a@@b")):
        r = await client.post(
            "/v1/sign-in-codes", json={"channel": channel, "to": to, "code": "123456"}, headers=PORTAL
        )
        assert r.status_code == 422, (channel, to, r.text)
        assert r.json()["errors"][0]["location"] == ["body", "to"]
    assert len(smtp_server.inbox.messages) == sent_before, "nothing reached a provider"
