"""Helpers for end-to-end scenarios: trace checks. Import with `from helpers import one_trace_of_ticket`
(tests/e2e is on sys.path via conftest); waiting is fixflow_shared.testing.eventually_blocking."""

from __future__ import annotations

from typing import Any

from fixflow_shared.testing import eventually_blocking

SPAN_KIND_SERVER, SPAN_KIND_PRODUCER, SPAN_KIND_CONSUMER = 2, 4, 5


def trace_of_ticket(otlp_receiver: Any, ticket_id: str, timeout: float = 20.0) -> list[Any]:
    """Spans of the trace that began with the POST that opened `ticket_id` (attribute-free: found
    through the consumer spans that carry the ticket as the message key / CloudEvents subject)."""

    def find() -> list[Any]:
        ids = {s.trace_id for s in otlp_receiver.spans if ticket_id in str(s.attributes.values())}
        return [s for s in otlp_receiver.spans if s.trace_id in ids]

    return eventually_blocking(find, timeout=timeout, what=f"spans mentioning {ticket_id}")


def assert_one_trace(spans: list[Any], *, services: set[str]) -> str:
    """Every span is in one trace whose single root is a SERVER span, each parent link resolves,
    and every consumer span's parent is a producer span. Returns the trace id."""
    trace_ids = {s.trace_id for s in spans}
    assert len(trace_ids) == 1, f"{len(trace_ids)} traces: {sorted(trace_ids)}"
    by_id = {s.span_id: s for s in spans}
    roots = [s for s in spans if not s.parent_span_id]
    assert len(roots) == 1 and roots[0].kind == SPAN_KIND_SERVER, [(r.service, r.name) for r in roots]
    dangling = [(s.service, s.name) for s in spans if s.parent_span_id and s.parent_span_id not in by_id]
    assert not dangling, f"parents not exported: {dangling}"
    for s in spans:
        if s.kind == SPAN_KIND_CONSUMER:
            assert by_id[s.parent_span_id].kind == SPAN_KIND_PRODUCER, (s.service, s.name)
    seen = {s.service for s in spans}
    assert services <= seen, f"services missing from the trace: {services - seen}"
    return trace_ids.pop()


def one_trace_of_ticket(
    otlp_receiver: Any, ticket_id: str, services: set[str], timeout: float = 20.0
) -> tuple[str, list[Any]]:
    """`assert_one_trace` over every span that mentions the ticket, retried while late spans (batch
    export every 200 ms) are still arriving; returns (trace id, spans)."""

    def one_trace(spans: list[Any]) -> bool:
        try:
            assert_one_trace(spans, services=services)
        except AssertionError:
            return False
        return True

    try:
        spans = eventually_blocking(
            lambda: trace_of_ticket(otlp_receiver, ticket_id, timeout=timeout),
            one_trace,
            timeout=timeout,
            interval=0.5,
            what=f"one trace of {ticket_id}",
        )
    except AssertionError:  # say why the spans are not one trace
        spans = trace_of_ticket(otlp_receiver, ticket_id, timeout=timeout)
    return assert_one_trace(spans, services=services), spans
