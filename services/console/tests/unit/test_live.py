"""Live updates reach only the event's tenant and the roles whose pages use them, carrying ids only."""

from __future__ import annotations

import asyncio

from console.domain.live import channels_of, sse_events, to_live, visible
from console.service_layer.live import LiveHub

ASSIGNED = "fixflow.dispatch.technician.assigned.v1"


def test_channels_by_event():
    assert channels_of(ASSIGNED) == ("board", "tickets", "kpi")
    assert channels_of("fixflow.intake.ticket.opened.v1") == ("tickets", "kpi", "board")
    assert channels_of("fixflow.intake.ticket.note-added.v1") == ("tickets", "kpi")
    assert channels_of("fixflow.survey.survey.completed.v1") == ("followup", "tickets", "kpi")
    assert channels_of("fixflow.notify.delivery.sent.v1") == ("tickets",)
    assert channels_of("something.else") == ()


def test_a_message_carries_identifiers_never_contact_details():
    msg = to_live(
        event_type=ASSIGNED,
        tenant="acme",
        subject="T-1",
        data={
            "job_id": "J-1",
            "technician_id": "TEC-1",
            "technician_name": "Zhang Wei",
            "technician_phone": "+8613700000000",
            "contact_email": "x@example.com",
            "window": {"start": "2026-01-01T00:00:00Z"},
        },
    )
    assert msg is not None and msg.ticket_id == "T-1"
    assert msg.data == {"job_id": "J-1", "technician_id": "TEC-1"}
    assert "+8613700000000" not in str(msg.payload()) and "Zhang" not in str(msg.payload())
    assert to_live(event_type=ASSIGNED, tenant=None, subject="T-1", data={}) is None


def test_roles_hear_their_channels():
    assert visible("board", {"dispatcher"}) and not visible("board", {"agent"})
    assert visible("kpi", {"manager"}) and not visible("kpi", {"dispatcher"})
    assert visible("followup", {"agent"}) and visible("anything", {"admin"})
    msg = to_live(event_type=ASSIGNED, tenant="acme", subject="T-9", data={"job_id": "J"})
    assert msg is not None
    names = [n for n, _ in sse_events(msg, frozenset({"agent"}))]
    assert names == ["tickets", "ticket-T-9"]
    assert [n for n, _ in sse_events(msg, frozenset({"dispatcher"}))] == ["board", "tickets", "ticket-T-9"]


async def test_hub_delivers_to_its_tenant_and_allowed_roles_only():
    hub = LiveHub(queue_size=2)
    dispatcher = hub.subscribe("acme", frozenset({"dispatcher"}))
    agent_elsewhere = hub.subscribe("globex", frozenset({"dispatcher", "agent"}))
    finance = hub.subscribe("acme", frozenset({"manager"}))
    follow_up_only = hub.subscribe("acme", frozenset({"agent"}))
    msg = to_live(event_type=ASSIGNED, tenant="acme", subject="T-1", data={"job_id": "J-1"})
    assert msg is not None
    assert hub.publish(msg) == 3
    assert (await asyncio.wait_for(dispatcher.queue.get(), 1)).ticket_id == "T-1"
    assert agent_elsewhere.queue.empty(), "another tenant never hears of it"
    assert not finance.queue.empty() and not follow_up_only.queue.empty()
    survey = to_live(event_type="fixflow.survey.survey.completed.v1", tenant="acme", subject="T-1", data={})
    assert survey is not None
    assert [n for n, _ in sse_events(survey, dispatcher.roles)] == ["tickets", "ticket-T-1"], "no follow-up, no KPIs"
    # a page that cannot keep up is told to resync, and the others go on
    for _ in range(3):
        hub.publish(msg)
    assert dispatcher.overflowed and dispatcher.queue.qsize() == 2
    hub.unsubscribe(dispatcher)
    assert hub.subscribers("acme") == 2
