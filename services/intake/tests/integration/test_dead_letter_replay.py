"""A poison message, dead-lettered while a bug stood, is replayed by an operator after the fix
and applies exactly once; a second replay (forced) changes nothing; every action is audited, and
another tenant's admin neither sees nor replays it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from fixflow_shared import topics
from fixflow_shared.events import new_envelope
from fixflow_shared.events.contracts import dispatch as dsp
from fixflow_shared.testing import auth_headers, eventually
from fixflow_shared.testing.kafka import consumed, end_offsets, publish
from intake.service_layer import timeline

pytestmark = pytest.mark.integration

ASSIGNED = "fixflow.dispatch.technician.assigned.v1"


async def test_a_replayed_poison_message_applies_exactly_once_after_the_fix(client, kafka, intake_app, monkeypatch):
    runtime, _ = intake_app
    tenant = f"t-dlq-{uuid.uuid4().hex[:6]}"
    agent, admin = auth_headers(tenant, "agent"), auth_headers(tenant, "admin", subject="ops-alice")
    r = await client.post(
        "/v1/tickets",
        json={"kind": "repair", "channel": "phone", "symptom": "oven does not heat", "contact_phone": "+8613912345678"},
        headers=agent,
    )
    assert r.status_code == 201, r.text
    ticket_id = r.json()["id"]

    # The bug: intake cannot apply this one event (say, a field it mis-parses); the others go through.
    poison_ids: set[str] = set()
    real_apply = timeline._apply

    async def buggy_apply(*, uow: Any, deps: Any, batch: Any, each: Any) -> None:
        if any(e.id in poison_ids for e, _ in batch):
            raise ValueError("cannot apply technician.assigned (the bug)")
        await real_apply(uow=uow, deps=deps, batch=batch, each=each)

    monkeypatch.setattr(timeline, "_apply", buggy_apply)
    assigned = dsp.TechnicianAssigned(
        ticket_id=ticket_id,
        tenant_id=tenant,
        technician_id="tech-1",
        job_id="JOB-1",
        work_order_id=f"WO-{uuid.uuid4().hex[:8]}",
        technician_name="Wang",
        assigned_at=datetime.now(UTC),
    )
    envelope = new_envelope(assigned, source="/fixflow/test", subject=ticket_id, tenant=tenant)
    # A second poison message, which the operator will judge obsolete and discard.
    delayed = dsp.TechnicianDelayed(
        ticket_id=ticket_id,
        tenant_id=tenant,
        technician_id="tech-1",
        technician_name="Wang",
        job_id="JOB-1",
        work_order_id=assigned.work_order_id,
        new_eta=datetime.now(UTC) + timedelta(minutes=30),
        delay_minutes=30,
        reported_at=datetime.now(UTC),
    )
    obsolete = new_envelope(delayed, source="/fixflow/test", subject=ticket_id, tenant=tenant)
    poison_ids.update({envelope.id, obsolete.id})
    await publish(kafka.bootstrap, envelope, obsolete)

    async def pending(*ids: str) -> list[dict[str, Any]]:
        r = await client.get("/v1/admin/dead-letters", params={"topic": topics.DISPATCH_WORK_ORDERS}, headers=admin)
        assert r.status_code == 200, r.text
        return [d for d in r.json() if d["event_id"] in ids]

    letter, thrown = await eventually(
        lambda: pending(envelope.id, obsolete.id), lambda ds: len(ds) == 2, what="both poison messages dead-lettered"
    )
    if letter["event_id"] != envelope.id:
        letter, thrown = thrown, letter
    assert letter["status"] == "pending" and letter["consumer_group"] == "intake"
    assert letter["error"] == "ValueError" and "the bug" in letter["reason"]
    assert letter["subject"] == ticket_id and letter["source_topic"] == topics.DISPATCH_WORK_ORDERS

    async def timeline_types() -> list[str]:
        tl = (await client.get(f"/v1/tickets/{ticket_id}/timeline", headers=agent)).json()
        return [e["type"] for e in tl["events"]]

    assert ASSIGNED not in await timeline_types(), "nothing applied while the bug stood"
    shown = (await client.get(f"/v1/admin/dead-letters/{letter['id']}", headers=admin)).json()
    assert shown["body"]["technician_id"] == "tech-1" and "x-dlq-stacktrace" in shown["headers"]

    # Another tenant's admin neither sees nor replays it.
    other = auth_headers("t-other", "admin")
    assert (await client.get(f"/v1/admin/dead-letters/{letter['id']}", headers=other)).status_code == 404
    assert (await client.post(f"/v1/admin/dead-letters/{letter['id']}/replay", headers=other)).status_code == 404
    assert (await client.get("/v1/admin/dead-letters", headers=agent)).status_code == 403, "admins only"

    # The operator judges the delay report obsolete: discarded, it can no longer be replayed.
    r = await client.post(f"/v1/admin/dead-letters/{thrown['id']}/discard", json={"note": "superseded"}, headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "discarded", r.text
    assert (await client.post(f"/v1/admin/dead-letters/{thrown['id']}/replay", headers=admin)).status_code == 409

    # The fix is deployed; the operator replays the dead letter.
    monkeypatch.setattr(timeline, "_apply", real_apply)
    r = await client.post(
        f"/v1/admin/dead-letters/{letter['id']}/replay", json={"note": "fixed in 1.4.2"}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "replayed" and r.json()["actions"][0]["actor"] == "ops-alice"
    types = await eventually(timeline_types, lambda ts: ASSIGNED in ts, what="the replayed event applied")
    assert types.count(ASSIGNED) == 1

    # Replaying twice is refused unless forced; forced, the inbox makes it change nothing.
    again = await client.post(f"/v1/admin/dead-letters/{letter['id']}/replay", headers=admin)
    assert again.status_code == 409, again.text
    forced = await client.post(f"/v1/admin/dead-letters/{letter['id']}/replay", json={"force": True}, headers=admin)
    assert forced.status_code == 200, forced.text
    await consumed(kafka.bootstrap, "intake", *await end_offsets(kafka.bootstrap, topics.DISPATCH_WORK_ORDERS))
    assert (await timeline_types()).count(ASSIGNED) == 1, "applied exactly once"
    assert await pending(envelope.id, obsolete.id) == [], "nothing pending any more"
    assert (await client.post(f"/v1/admin/dead-letters/{letter['id']}/discard", headers=admin)).status_code == 409
    assert "fixflow.dispatch.technician.delayed.v1" not in await timeline_types(), "the discarded one never applied"
    summary = (await client.get("/v1/admin/dead-letters/summary", headers=admin)).json()
    assert {"source_topic": topics.DISPATCH_WORK_ORDERS, "pending": 0, "replayed": 1, "discarded": 1} in summary

    # The audit: who did what, in order.
    t = runtime.dead_letters.table
    async with runtime.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(t.c.action, t.c.actor, t.c.note, t.c.event_id)
                .where(t.c.message_id == letter["id"])
                .order_by(t.c.id)
            )
        ).all()
    assert [(a, who) for a, who, _, _ in rows] == [("replayed", "ops-alice"), ("replayed", "ops-alice")]
    assert rows[0].note == "fixed in 1.4.2" and {r.event_id for r in rows} == {envelope.id}
