"""The walking skeleton across the real broker: intake opens a ticket, notify sends the
acknowledgement email over SMTP, the delivery is visible over HTTP, and one trace spans both."""

from __future__ import annotations

import httpx
import pytest

from fixflow_shared.testing import auth_headers, eventually_blocking

pytestmark = pytest.mark.e2e


def test_ticket_opened_is_acknowledged_by_email_in_one_trace(start_services, smtp_server, otlp_receiver):
    svc = start_services("intake", "notify")
    intake, notify = svc["intake"], svc["notify"]
    headers = auth_headers("acme", "agent")

    r = httpx.post(
        intake.url + "/v1/tickets",
        json={
            "kind": "repair",
            "channel": "phone",
            "symptom": "fridge is warm",
            "contact_email": "wang.fang@example.com",
            "locale": "en",
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    ticket_id = r.json()["id"]

    # The session's mail server is shared: other tests write to the same address, so wait for this ticket's.
    mails = eventually_blocking(
        lambda: [m for m in smtp_server.inbox.to("wang.fang@example.com") if ticket_id in m["Subject"]],
        timeout=30.0,
        what="the ticket's acknowledgement e-mail",
    )
    assert len(mails) == 1, notify.tail()

    deliveries = eventually_blocking(
        lambda: [
            d
            for d in httpx.get(notify.url + "/v1/deliveries", params={"ticket_id": ticket_id}, headers=headers).json()
            if d["status"] == "sent"
        ],
        timeout=30.0,
    )
    assert len(deliveries) == 1
    assert deliveries[0]["channel"] == "email"
    assert "wang.fang@example.com" not in deliveries[0]["recipient"]  # masked

    # One trace: intake's HTTP server span → relay's producer span → notify's consumer span.
    # (requests sent straight to intake: a ticket opened through the console has the console's span above)
    post_spans = otlp_receiver.wait_for(
        lambda s: s.service == "intake" and s.kind == 2 and "POST" in s.name and not s.parent_span_id
    )
    assert post_spans, "intake exported its request span"
    trace_ids = {s.trace_id for s in post_spans}
    consumer_spans = otlp_receiver.wait_for(lambda s: s.service == "notify" and s.kind == 5 and s.trace_id in trace_ids)
    assert consumer_spans, (
        f"notify's consumer span joins intake's trace; notify spans: {[s.name for s in otlp_receiver.spans if s.service == 'notify'][:20]}"
    )
    trace = otlp_receiver.trace(consumer_spans[0].trace_id)
    by_id = {s.span_id: s for s in trace}
    producer = by_id.get(consumer_spans[0].parent_span_id)
    assert producer is not None and producer.service == "intake" and producer.kind == 4, (
        "consumer's parent is intake's producer span"
    )
    # Walking up the parent links from the consumer ends at intake's POST /v1/tickets span.
    span, hops = consumer_spans[0], []
    while span.parent_span_id and span.parent_span_id in by_id:
        span = by_id[span.parent_span_id]
        hops.append((span.service, span.kind))
    assert span.service == "intake" and span.kind == 2 and "POST" in span.name, hops
    assert not span.parent_span_id, "the request span is the root of the ticket's trace"
