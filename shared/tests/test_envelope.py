"""CloudEvents envelope and event registry (pure, no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixflow_shared.events import Envelope, InvalidEnvelope, new_envelope, registry
from fixflow_shared.events.contracts.intake import TicketOpened


def opened(**kw) -> TicketOpened:
    base = dict(
        ticket_id="T-1", tenant_id="t1", kind="repair", channel="phone", symptom="leak", opened_at=datetime.now(UTC)
    )
    return TicketOpened(**{**base, **kw})


def test_round_trip_through_kafka_headers():
    env = new_envelope(
        opened(),
        source="/fixflow/intake",
        subject="T-1",
        tenant="t1",
        trace_headers={"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"},
    )
    back = Envelope.from_kafka(env.headers(), env.body())
    assert back == env
    assert back.key == b"T-1"
    assert back.payload() == opened(opened_at=back.payload().opened_at)


def test_causation_and_correlation_follow_the_cause():
    cause = new_envelope(opened(), source="/fixflow/intake", subject="T-1", tenant="t1")
    effect = new_envelope(
        opened(ticket_id="T-1"), source="/fixflow/notify", subject="D-9", tenant="t1", causation=cause
    )
    assert effect.causationid == cause.id
    assert effect.correlationid == "T-1"  # the ticket, not the delivery
    assert effect.key == b"T-1"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda h: h.pop("ce_id"), "missing CloudEvents headers"),
        (lambda h: h.update(ce_id="not-a-uuid"), "not a UUID"),
        (lambda h: h.update(ce_time="yesterday"), "RFC 3339"),
        (lambda h: h.update(ce_time="2026-01-01T00:00:00"), "time zone"),
        (lambda h: h.update(ce_specversion="0.3"), "specversion"),
    ],
)
def test_bad_headers_are_invalid(mutate, message):
    env = new_envelope(opened(), source="/fixflow/intake", subject="T-1", tenant="t1")
    headers = {k: v.decode() for k, v in env.headers()}
    mutate(headers)
    with pytest.raises(InvalidEnvelope, match=message):
        Envelope.from_kafka({k: v.encode() for k, v in headers.items()}, env.body())


@pytest.mark.parametrize("body", [b"{", b"[1, 2]", b"", b"\xff\xfe"])
def test_bad_bodies_are_invalid(body):
    env = new_envelope(opened(), source="/fixflow/intake", subject="T-1", tenant="t1")
    with pytest.raises(InvalidEnvelope):
        Envelope.from_kafka(env.headers(), body)


def test_payload_not_matching_contract_is_invalid():
    env = new_envelope(opened(), source="/fixflow/intake", subject="T-1", tenant="t1")
    broken = Envelope.from_kafka(env.headers(), b'{"ticket_id": "T-1"}')
    with pytest.raises(InvalidEnvelope, match="does not match"):
        broken.payload()


def test_unknown_fields_are_ignored_by_consumers(monkeypatch):
    """In production a producer may be a minor version ahead; tests run strict (the plugin sets
    FIXFLOW_STRICT_CONTRACTS) so an undeclared field cannot pass unnoticed."""
    env = new_envelope(opened(), source="/fixflow/intake", subject="T-1", tenant="t1")
    data = {**env.data, "added_in_a_later_minor": 42}
    later = Envelope.from_kafka(env.headers(), __import__("orjson").dumps(data))
    monkeypatch.setenv("FIXFLOW_STRICT_CONTRACTS", "0")
    assert later.payload().ticket_id == "T-1"
    monkeypatch.setenv("FIXFLOW_STRICT_CONTRACTS", "1")
    with pytest.raises(InvalidEnvelope, match="added_in_a_later_minor"):
        later.payload()


def test_every_registered_type_follows_the_naming_rule_and_exports_a_schema():
    schemas = registry.json_schemas()
    assert "fixflow.intake.ticket.opened.v1" in schemas
    for type_, schema in schemas.items():
        service = type_.split(".")[1]
        assert service in {"intake", "dispatch", "billing", "survey", "notify", "insight", "integration"}
        assert schema["x-topic"].startswith(("fixflow.",)), type_
        assert schema["type"] == "object"


def test_registering_a_bad_type_name_fails():
    with pytest.raises(ValueError):
        registry.register("Fixflow.TicketOpened", topic="x")


@given(st.text(min_size=1, max_size=50), st.text(max_size=200))
def test_any_subject_and_symptom_survive_the_round_trip(subject, symptom):
    env = new_envelope(opened(symptom=symptom), source="/fixflow/intake", subject=subject, tenant="t1")
    back = Envelope.from_kafka(env.headers(), env.body())
    assert back.subject == subject and back.data["symptom"] == symptom
    uuid.UUID(back.id)
