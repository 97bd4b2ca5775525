"""Sending and marking run outside the consumer that planned a delivery: they resume its trace."""

from __future__ import annotations

from datetime import UTC, datetime

from opentelemetry import trace

from fixflow_shared.tracing import current_trace_headers, setup_tracing
from notify.domain.model import Channel, Delivery
from notify.service_layer.dispatcher import in_trace

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def _delivery(headers: dict[str, str] | None) -> Delivery:
    return Delivery(
        id="d-1",
        tenant_id="t",
        ticket_id="T-1",
        trigger_event_id="e-1",
        trigger_event_type="fixflow.intake.ticket.opened.v1",
        audience="customer",
        channel=Channel.EMAIL,
        recipient="a@example.com",
        template="ticket.opened",
        template_version=0,
        locale="en",
        subject="s",
        body="b",
        created_at=datetime.now(UTC),
        trace_headers=headers,
    )


def test_what_is_emitted_while_sending_carries_the_planning_trace():
    setup_tracing("notify", otlp_endpoint=None)  # a recording provider (the process's one, if already set)
    d = _delivery({"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"})
    with in_trace(d, "notify.deliver"):
        headers = current_trace_headers()
    assert headers["traceparent"].split("-")[1] == TRACE_ID
    assert headers["traceparent"].split("-")[2] != "00f067aa0ba902b7"  # a child span of the stored context


def test_a_delivery_without_stored_context_starts_no_span():
    with in_trace(_delivery(None), "notify.deliver"):
        assert not trace.get_current_span().get_span_context().is_valid
