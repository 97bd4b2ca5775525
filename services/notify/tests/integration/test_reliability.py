"""Delivery guarantees against the real database, broker and SMTP server: crash recovery by the
sweep, the unique delivery key, opt-out, and manager notifications from the directory."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from notify_helpers import envelope_of, settled, subject_of
from sqlalchemy import func, select

from fixflow_shared.events.contracts.intake import SlaBreached
from fixflow_shared.events.contracts.survey import SurveySent
from fixflow_shared.testing import auth_headers, eventually
from notify.adapters.repository import NotifyRepository
from notify.domain.model import Channel, Delivery, DeliveryStatus

pytestmark = pytest.mark.integration


def delivery(ticket_id: str, rcpt: str, event_id: str | None = None) -> Delivery:
    return Delivery(
        id=str(uuid.uuid4()),
        tenant_id="t-rel",
        ticket_id=ticket_id,
        trigger_event_id=event_id or str(uuid.uuid4()),
        trigger_event_type="fixflow.intake.ticket.opened.v1",
        audience="customer",
        channel=Channel.EMAIL,
        recipient=rcpt,
        template="ticket.opened",
        template_version=0,
        locale="en",
        subject=f"Recovered {ticket_id}",
        body="planned before a crash",
        created_at=datetime.now(UTC),
        mandatory=True,
    )


async def test_a_row_left_pending_by_a_crash_is_sent_once_by_the_sweep(notify_app, client, smtp_server, ticket_id):
    runtime, _ = notify_app
    d = delivery(ticket_id, "crash@example.com")
    async with runtime.uow() as uow:  # committed, then "the process died" before sending
        assert await NotifyRepository(uow.session).add_deliveries([d], lease_s=-1) == {d.id}
        await uow.commit()
    [item] = await settled(client, "t-rel", ticket_id, count=1)
    assert item["status"] == "sent"
    mails = [m for m in smtp_server.inbox.to("crash@example.com") if ticket_id in subject_of(m)]
    assert len(mails) == 1 and mails[0]["X-Fixflow-Delivery"] == d.id


async def test_unique_key_refuses_a_second_row_for_the_same_event_recipient_channel(notify_app, ticket_id):
    runtime, _ = notify_app
    event_id = str(uuid.uuid4())
    first, again = delivery(ticket_id, "u@example.com", event_id), delivery(ticket_id, "u@example.com", event_id)
    first.status = again.status = DeliveryStatus.SKIPPED  # keep the dispatcher out of it
    async with runtime.uow() as uow:
        repo = NotifyRepository(uow.session)
        assert await repo.add_deliveries([first], lease_s=10) == {first.id}
        assert await repo.add_deliveries([again], lease_s=10) == set()
        other = delivery(ticket_id, "u@example.com", event_id)
        other.channel, other.recipient, other.status = Channel.SMS, "13800000000", DeliveryStatus.SKIPPED
        assert await repo.add_deliveries([other], lease_s=10) == {other.id}  # another channel is another message
        await uow.rollback()


async def test_opt_out_skips_optional_messages(notify_app, publish, client, ticket_id):
    h = auth_headers("t-rel", "agent")
    assert (
        await client.put("/v1/preferences/quiet@example.com", json={"opted_out": True}, headers=h)
    ).status_code == 200
    now = datetime.now(UTC)
    await publish(
        envelope_of(
            SurveySent(
                survey_id="S1",
                ticket_id=ticket_id,
                tenant_id="t-rel",
                channel="email",
                answer_url="https://s/x",
                token_expires_at=now + timedelta(days=3),
                contact_email="quiet@example.com",
                sent_at=now,
            ),
            tenant="t-rel",
            subject=ticket_id,
        )
    )
    [d] = await settled(client, "t-rel", ticket_id, count=1)
    assert d["status"] == "skipped" and d["template"] == "survey.sent"


async def test_sla_breach_reaches_the_managers(notify_app, publish, client, smtp_server, ticket_id):
    admin = auth_headers("t-mgr", "admin")
    r = await client.put(
        "/v1/recipients/mgr-1",
        json={"role": "manager", "name": "Chen", "email": "chen@example.com", "locale": "en"},
        headers=admin,
    )
    assert r.status_code == 200 and r.json()["email"] == "c***@example.com"
    now = datetime.now(UTC)
    await publish(
        envelope_of(
            SlaBreached(ticket_id=ticket_id, tenant_id="t-mgr", clock="resolution", due_at=now, raised_at=now),
            tenant="t-mgr",
            subject=ticket_id,
        )
    )
    items = await settled(client, "t-mgr", ticket_id, count=2)
    assert sorted((d["audience"], d["channel"]) for d in items) == [("manager", "email"), ("manager", "in_app")]
    mail = (
        await eventually(lambda: [m for m in smtp_server.inbox.to("chen@example.com") if ticket_id in subject_of(m)])
    )[0]
    assert subject_of(mail).startswith("[SLA breached]") and "resolution" in mail.get_payload(decode=True).decode()
    feed = await client.get("/v1/feed/mgr-1", headers=auth_headers("t-mgr", "manager", subject="mgr-1"))
    assert len(feed.json()) == 1


async def test_invalid_addresses_in_an_event_are_dead_letters_with_reason(
    notify_app, publish, client, kafka, ticket_id
):
    from aiokafka import AIOKafkaConsumer

    from fixflow_shared import topics
    from fixflow_shared.events import Envelope
    from fixflow_shared.events.contracts.intake import TicketOpened

    await publish(
        envelope_of(
            TicketOpened(
                ticket_id=ticket_id,
                tenant_id="t-rel",
                kind="repair",
                channel="web",
                symptom="x",
                opened_at=datetime.now(UTC),
                contact_email="not-an-email",
                contact_phone="call me",
            ),
            tenant="t-rel",
            subject=ticket_id,
        )
    )
    items = await settled(client, "t-rel", ticket_id, count=2)
    assert {d["channel"]: d["status"] for d in items} == {"email": "failed", "sms": "failed"}
    assert all("not a" in d["last_error"] for d in items) and all("not-an-email" not in d["last_error"] for d in items)

    consumer = AIOKafkaConsumer(
        topics.NOTIFY_DELIVERIES,
        bootstrap_servers=kafka.bootstrap,
        group_id=f"t-{uuid.uuid4()}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:

        async def failed_events():
            batch = await consumer.getmany(timeout_ms=500)
            for recs in batch.values():
                for rec in recs:
                    env = Envelope.from_kafka(rec.headers, rec.value)
                    if env.subject == ticket_id and env.type == "fixflow.notify.delivery.failed.v1":
                        seen.append(env)
            return len(seen) >= 2

        seen: list = []
        await eventually(failed_events)
    finally:
        await consumer.stop()
    assert {e.data["channel"] for e in seen} == {"email", "sms"} and seen[0].causationid


async def test_held_deliveries_keep_their_lease_through_a_backlog(notify_app, ticket_id):
    """A row queued here longer than one lease (a backlog) must not be taken over by a sweep
    (here or in another replica) and sent twice: the holder renews its leases."""
    runtime, _ = notify_app
    dispatcher = runtime.dispatcher
    d = delivery(ticket_id, "backlog@example.com")
    async with runtime.uow() as uow:
        await NotifyRepository(uow.session).add_deliveries([d], lease_s=1.0)
        await uow.commit()
    dispatcher._held.add(d.id)  # as if queued behind a long backlog
    try:
        first_lease = await lease_of(runtime, d.id)
        assert await dispatcher.renew_leases() >= 1
        assert await lease_of(runtime, d.id) > first_lease
        # The database's clock (the one claim_due compares leases with) passes the original lease.
        await eventually(lambda: database_now(runtime), lambda now: now > first_lease, what="the first lease ran out")
        async with runtime.uow() as uow:
            taken = await NotifyRepository(uow.session).claim_due(limit=10, lease_s=10, ids=[d.id])
            await uow.rollback()
        assert taken == []
    finally:
        dispatcher._held.discard(d.id)


async def lease_of(runtime, delivery_id: str) -> datetime:
    from notify.adapters.orm import deliveries

    async with runtime.uow() as uow:
        return await uow.session.scalar(select(deliveries.c.lease_until).where(deliveries.c.id == delivery_id))


async def database_now(runtime) -> datetime:
    async with runtime.uow() as uow:
        return await uow.session.scalar(select(func.now()))


async def test_a_quality_alert_reaches_the_tenants_qa_recipients(notify_app, publish, client, smtp_server):
    from datetime import date

    from fixflow_shared.events.contracts.insight import QualityAlertRaised

    admin = auth_headers("t-qa", "admin")
    for rid, role, email in (("qa-1", "quality", "qa.li@example.com"), ("mgr-9", "manager", "boss@example.com")):
        r = await client.put(
            f"/v1/recipients/{rid}", json={"role": role, "name": rid, "email": email, "locale": "zh-CN"}, headers=admin
        )
        assert r.status_code == 200
    alert_id = "QA-" + uuid.uuid4().hex[:12]
    await publish(
        envelope_of(
            QualityAlertRaised(
                alert_id=alert_id,
                tenant_id="t-qa",
                rule_id="model-cause",
                dimension="product_model_fault_cause",
                key="KF-35|compressor",
                window_days=30,
                threshold=2,
                count=2,
                window_start=date(2025, 3, 4),
                window_end=date(2025, 3, 8),
                ticket_ids=["T1", "T2"],
                raised_at=datetime.now(UTC),
            ),
            tenant="t-qa",
            subject=alert_id,
        )
    )
    items = await settled(client, "t-qa", alert_id, count=2)
    assert sorted((d["audience"], d["channel"]) for d in items) == [("quality", "email"), ("quality", "in_app")]
    mail = (
        await eventually(
            lambda: [
                m for m in smtp_server.inbox.to("qa.li@example.com") if alert_id in m.get_payload(decode=True).decode()
            ],
            what="the QA recipient's email",
        )
    )[0]
    assert subject_of(mail) == "【质量预警】KF-35|compressor：2 起故障"
    assert "T1, T2" in mail.get_payload(decode=True).decode()
    assert not smtp_server.inbox.to("boss@example.com")  # managers are not QA recipients


async def test_a_mark_that_fails_for_a_moment_is_written_again_not_left_to_a_second_send(
    notify_app, ticket_id, monkeypatch
):
    """A message is sent, then recording it fails (the database restarting): the mark is retried.
    Given up at once, the lease ran out and the sweep sent the email again (found by make chaos)."""
    from notify.adapters.repository import Attempt
    from notify.service_layer.dispatcher import Outcome

    runtime, _ = notify_app
    dispatcher = runtime.dispatcher
    d = delivery(ticket_id, "marked@example.com")
    async with runtime.uow() as uow:
        await NotifyRepository(uow.session).add_deliveries([d], lease_s=30.0)
        await uow.commit()
    real, calls = dispatcher._write_marks, []

    async def flaky(batch):
        calls.append(len(batch))
        if len(calls) <= 2:
            raise OSError("the database system is shutting down")
        await real(batch)

    monkeypatch.setattr(dispatcher, "_write_marks", flaky)
    dispatcher._held.add(d.id)  # as the worker holds what it sent until it is marked
    await dispatcher._mark(Outcome(d, DeliveryStatus.SENT, [Attempt(1, "smtp", "ok")], "smtp", None, datetime.now(UTC)))

    async def status() -> str | None:
        async with runtime.uow() as uow:
            got = await NotifyRepository(uow.session).get_delivery(d.id)
            return got.status.value if got else None

    await eventually(status, lambda s: s == "sent", timeout=15, what="the sent message marked after two failures")
    assert len(calls) == 3 and d.id not in dispatcher._held
