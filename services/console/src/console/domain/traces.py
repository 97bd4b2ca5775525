"""A ticket's trace: the link from a ticket's page to the trace viewer (pure).

Intake keeps the W3C traceparent of the request that opened a ticket (`traceparent` on the
ticket) and every later request about the ticket joins that trace, so the trace id in it names
the ticket's one trace from the first call to the survey."""

from __future__ import annotations

import re

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
PLACEHOLDER = "{trace_id}"


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id of a W3C traceparent (`00-<32 hex>-<16 hex>-<2 hex>`); None when absent or invalid
    (an all-zero trace id is invalid by the W3C specification)."""
    if not traceparent:
        return None
    m = _TRACEPARENT.match(traceparent.strip().lower())
    if m is None or set(m.group(1)) == {"0"}:
        return None
    return m.group(1)


def trace_link(template: str | None, traceparent: str | None) -> str | None:
    """The viewer's page of the trace, from a URL template holding `{trace_id}`
    (e.g. Zipkin's http://127.0.0.1:9411/zipkin/traces/{trace_id}); None without a template or a trace."""
    trace_id = trace_id_of(traceparent)
    if not template or trace_id is None:
        return None
    return template.replace(PLACEHOLDER, trace_id)
