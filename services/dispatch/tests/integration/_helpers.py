"""Helpers for dispatch's integration tests: tenants, technicians, events on the real broker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from fixflow_shared import topics
from fixflow_shared.events import Envelope, Event, new_envelope
from fixflow_shared.testing import auth_headers
from fixflow_shared.testing.checklists import PNG, photo_bytes, required_answers

__all__ = ["PNG"]

ALL_WEEK = {"tz": "UTC", "days": {str(d): ["00:00", "23:59"] for d in range(7)}}


def all_week_from_morning() -> dict[str, Any]:
    """ALL_WEEK in a time zone where it is 08:00-08:59 now: a test whose visits and delays span
    hours then stays inside one working day, whatever hour the suite runs at (in UTC, a three-hour
    delay after 18:00 runs past midnight and the day's rules change the outcome)."""
    offset = 8 - datetime.now(UTC).hour  # local = UTC + offset; Etc/GMT zones span UTC-12 .. UTC+14
    offset = offset + 24 if offset < -12 else offset
    zone = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # POSIX sign: Etc/GMT-8 is UTC+8
    return {**ALL_WEEK, "tz": zone}


BASE = (31.2304, 121.4737)


def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


CUSTOMER = "C-dispatch-1"  # the customer of the tickets ticket_opened() makes


def h(
    t: str,
    roles: str = "dispatcher,manager,technician,customer",
    *,
    technician_id: str | None = None,
    customer_id: str | None = CUSTOMER,
) -> dict[str, str]:
    """Staff by default; a customer token acts for CUSTOMER, a technician token for `technician_id`."""
    return auth_headers(t, roles, customer_id=customer_id, technician_id=technician_id)


async def technician(
    client: httpx.AsyncClient, t: str, *, name: str, dlat: float = 0.0, skills: dict[str, int] | None = None, **kw: Any
) -> dict[str, Any]:
    skills = skills or {"washer": 2}
    for code in skills:
        r = await client.post("/v1/skills", json={"code": code, "name": code.title()}, headers=h(t))
        assert r.status_code == 201, r.text
    body = {
        "name": name,
        "phone": "+86 138 0000 0000",
        "home_lat": BASE[0] + dlat,
        "home_lon": BASE[1],
        "skills": skills,
        "hours": ALL_WEEK,
        **kw,
    }
    r = await client.post("/v1/technicians", json=body, headers=h(t))
    assert r.status_code == 201, r.text
    return r.json()


def ticket_opened(
    t: str, *, ticket_id: str | None = None, priority: str = "P2", dlat: float = 0.01, kind: str = "repair"
) -> Envelope:
    from fixflow_shared.events.contracts.intake import Site, TicketOpened

    tid = ticket_id or f"T-{uuid.uuid4().hex[:12]}"
    now = datetime.now(UTC)
    payload = TicketOpened(
        ticket_id=tid,
        tenant_id=t,
        kind=kind,
        channel="phone",
        symptom="washer leaks",
        customer_id=CUSTOMER,
        priority=priority,
        opened_at=now,  # type: ignore[arg-type]
        path="on_site",
        site=Site(lat=BASE[0] + dlat, lon=BASE[1]),
    )
    return new_envelope(payload, source="/fixflow/intake", subject=tid, tenant=t)


def ticket_triaged(opened: Envelope, **fields: Any) -> Envelope:
    """The ticket.triaged intake sends after `opened` (same ticket, site, priority and kind); a job
    is placed on triage, with triage's skills and duration. `fields` override the defaults."""
    from fixflow_shared.events.contracts.intake import TicketTriaged

    o = opened.data
    body: dict[str, Any] = {
        "ticket_id": o["ticket_id"],
        "tenant_id": o["tenant_id"],
        "kind": o["kind"],
        "category": "washer",
        "priority": o.get("priority") or "P3",
        "path": o.get("path") or "on_site",
        "site": o.get("site"),
        "sla": o.get("sla"),
        "requested_window": o.get("requested_window"),
        "warranty_status": o.get("warranty_status"),
        "triaged_at": datetime.now(UTC),
        **fields,
    }
    payload = TicketTriaged.model_validate(body)
    return new_envelope(payload, source="/fixflow/intake", subject=opened.subject, tenant=opened.tenantid)


async def open_ticket(bootstrap: str, t: str, *, triage: dict[str, Any] | None = None, **kw: Any) -> Envelope:
    """Publish a ticket as intake does (opened, then triaged) and return the opened envelope."""
    opened = ticket_opened(t, **kw)
    await publish(bootstrap, topics.INTAKE_TICKETS, opened, ticket_triaged(opened, **(triage or {})))
    return opened


async def publish(bootstrap: str, topic: str, *envelopes: Envelope) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for env in envelopes:
            await producer.send_and_wait(topic, env.body(), key=env.key, headers=env.headers())
    finally:
        await producer.stop()


def envelope_of(payload: Event, t: str, subject: str, source: str = "/fixflow/logistics") -> Envelope:
    return new_envelope(payload, source=source, subject=subject, tenant=t)


async def events(
    bootstrap: str, topic: str, subject: str, until: Callable[[list[Envelope]], bool], timeout: float = 25.0
) -> list[Envelope]:
    """Read `topic` from the beginning (no consumer group) until `until(events of subject)` holds."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    found: list[Envelope] = []
    try:
        parts = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or set())]
        if not parts:
            await consumer._client.force_metadata_update()  # noqa: SLF001
            parts = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or set())]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        deadline = asyncio.get_running_loop().time() + timeout
        while not until(found):
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"timed out; saw {[e.type for e in found]}")
            batch = await consumer.getmany(timeout_ms=int(min(left, 1.0) * 1000))
            for records in batch.values():
                for rec in records:
                    env = Envelope.from_kafka(rec.headers, rec.value)
                    if env.subject == subject:
                        found.append(env)
    finally:
        await consumer.stop()
    return found


def of_type(found: list[Envelope], suffix: str) -> list[Envelope]:
    return [e for e in found if e.type == f"fixflow.dispatch.{suffix}.v1" or e.type.endswith(suffix)]


def future(hours: float) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0)


async def fill_checklist(client: httpx.AsyncClient, wo: str, headers: dict[str, str]) -> dict[str, Any]:
    """Answer the required fields of the work order's checklist (a photo field with a photo) the
    way a technician would, so that completion is allowed."""
    form = (await client.get(f"/v1/work-orders/{wo}/checklist", headers=headers)).json()
    answers, photo_fields = required_answers(form)
    for key in photo_fields:
        r = await client.post(
            f"/v1/work-orders/{wo}/attachments",
            params={"kind": "photo"},
            content=photo_bytes(key),
            headers={**headers, "Content-Type": "image/png"},
        )
        assert r.status_code in (200, 201), r.text
        answers[key] = r.json()["id"]
    r = await client.post(f"/v1/work-orders/{wo}/checklist", json={"answers": answers}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["missing"] == []
    return answers
