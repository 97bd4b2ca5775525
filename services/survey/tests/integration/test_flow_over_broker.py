"""Over the real broker: ticket.resolved -> survey.scheduled -> (timer via Redis) survey.sent ->
low score on the public link -> a stand-in for intake sees dissatisfaction.reported."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from fixflow_shared import topics
from fixflow_shared.events import Envelope
from fixflow_shared.testing import auth_headers

from .helpers import resolved_envelope

pytestmark = pytest.mark.integration


class TopicWatcher:
    """A test consumer of fixflow.survey.surveys with its own group (stands in for intake/notify)."""

    def __init__(self, bootstrap: str) -> None:
        self.consumer = AIOKafkaConsumer(
            topics.SURVEY_SURVEYS,
            bootstrap_servers=bootstrap,
            group_id=f"test-{uuid.uuid4()}",
            auto_offset_reset="earliest",
        )
        self.seen: list[tuple[bytes | None, Envelope]] = []

    async def wait_for(self, pred: Callable[[Envelope], bool], timeout: float = 20) -> Envelope:
        async def scan() -> Envelope:
            for _, env in self.seen:
                if pred(env):
                    return env
            async for rec in self.consumer:
                env = Envelope.from_kafka(rec.headers, rec.value)
                self.seen.append((rec.key, env))
                if pred(env):
                    return env
            raise AssertionError("consumer stopped")

        return await asyncio.wait_for(scan(), timeout)


async def test_resolved_ticket_to_dissatisfaction_reported(client, survey_app, kafka):
    tenant = "t-" + uuid.uuid4().hex[:8]
    env = resolved_envelope(tenant, technician_id="tech-42", team_id="north-3", customer_id="C-1", grade="A")
    ticket = env.subject
    watcher = TopicWatcher(kafka.bootstrap)
    await watcher.consumer.start()
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topics.INTAKE_TICKETS, value=env.body(), key=env.key, headers=env.headers())
        # A duplicate delivery of the same event must not schedule a second survey (inbox).
        await producer.send_and_wait(topics.INTAKE_TICKETS, value=env.body(), key=env.key, headers=env.headers())

        for_ticket = lambda t: lambda e: e.subject == ticket and e.type == t  # noqa: E731
        scheduled = await watcher.wait_for(for_ticket("fixflow.survey.survey.scheduled.v1"))
        sent = await watcher.wait_for(for_ticket("fixflow.survey.survey.sent.v1"))
        p = sent.payload()
        assert p.channel == "sms" and p.contact_phone == "+8613800000000" and p.reminder == 0
        assert scheduled.causationid == env.id and scheduled.correlationid == ticket
        assert sent.trace_headers.get("traceparent", "").startswith("00-")

        token = p.answer_url.rsplit("/", 1)[-1]
        r = await client.post(
            f"/v1/public/surveys/{token}/answers",
            json={
                "scores": {"timeliness": 4, "attitude": 2, "overall": 2},
                "nps": 3,
                "comment": "师傅态度差，我要投诉",
            },
        )
        assert r.status_code == 201, r.text

        done = await watcher.wait_for(for_ticket("fixflow.survey.survey.completed.v1"))
        assert done.payload().satisfied is False and done.payload().technician_id == "tech-42"
        assert done.payload().team_id == "north-3", "the team of ticket.resolved v1.1 reaches the survey"
        bad = await watcher.wait_for(for_ticket("fixflow.survey.dissatisfaction.reported.v1"))
        d = bad.payload()
        assert d.ticket_id == ticket and d.tenant_id == tenant and bad.tenantid == tenant
        assert set(d.reasons) == {"score:attitude<=2", "score:overall<=2", "nps<=6", "complaint_word"}
        assert d.suggested_action == "complaint" and d.lowest_score == 2 and d.nps == 3
        keys = {k for k, e in watcher.seen if e.subject == ticket}
        assert keys == {ticket.encode()}  # keyed by ticket id: one ticket's events stay in order
        assert (
            sum(1 for _, e in watcher.seen if e.subject == ticket and e.type == "fixflow.survey.survey.scheduled.v1")
            == 1
        )
    finally:
        await producer.stop()
        await watcher.consumer.stop()

    surveys = (await client.get(f"/v1/surveys?ticket_id={ticket}", headers=auth_headers(tenant))).json()
    assert [s["status"] for s in surveys] == ["completed"]
    assert surveys[0]["id"] == d.survey_id and surveys[0]["team_id"] == "north-3"
    by_team = await client.get("/v1/reports/satisfaction?group_by=team", headers=auth_headers(tenant, "manager"))
    assert [r["group"] for r in by_team.json()["rows"]] == ["north-3"], by_team.text
