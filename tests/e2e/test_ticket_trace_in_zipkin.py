"""A ticket is one trace in the local trace viewer, although no client sends a traceparent.

The in-warranty repair (scenario 1) driven by clients that never send `traceparent` (a call-center
tool, the technician's app, the customer's browser), over the five services as processes that
export their spans to a Zipkin of the session's own (`make run`'s trace viewer). Read through
Zipkin's HTTP API as an operator's browser would: searching the ticket id finds one trace, and no
other trace holds a span that names the ticket or any of its resources; every request the clients
made about the ticket is a server span in it, under one root (the request that opened the ticket).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from lifecycle_kit import ROLES, Fixflow, answer_url_in, email_bodies

from fixflow_shared.testing import auth_headers, eventually_blocking

pytestmark = pytest.mark.e2e

SERVICES = {"intake", "dispatch", "billing", "survey", "notify"}


class Untraced(Fixflow):
    """The kit's client without any trace context: no request carries a traceparent."""

    def __init__(self, services: dict[str, Any], tenant: str) -> None:
        super().__init__(services, tenant)
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request after the ticket opened

    def headers(
        self, roles: str = ROLES, *, customer_id: str | None = None, technician_id: str | None = None
    ) -> dict[str, str]:
        self.traceparent = None
        return auth_headers(self.tenant, roles, customer_id=customer_id, technician_id=technician_id)

    def call(self, method: str, svc: str, path: str, **kw: Any) -> Any:
        r = super().call(method, svc, path, **kw)
        if self.ticket_opened:
            self.requests.append((method, "/v1" + path.split("?")[0]))
        return r

    ticket_opened = False


def names_any(span: dict[str, Any], ids: set[str]) -> bool:
    text = " ".join([span.get("name", ""), *map(str, span.get("tags", {}).values())])
    return any(i in text for i in ids)


def test_a_ticket_driven_without_traceparent_is_one_trace_in_zipkin(fixflow, smtp_server, zipkin):
    started = time.monotonic()
    ff = Untraced(fixflow, f"zk-{uuid.uuid4().hex[:6]}")
    email, phone = f"li.na.{ff.tenant}@example.com", "+8613912340077"
    ff.survey_sends_at_once(channel="email")
    tech = ff.technician("Zhou Min", phone="+8613700000177")
    c = ff.customer_with_asset(email=email, phone=phone, warranty_months=12, bought_days_ago=100)

    t = ff.open_ticket(
        {
            "kind": "repair",
            "channel": "phone",
            "symptom": "dryer drum does not turn",
            "customer_id": c["customer_id"],
            "asset_id": c["asset_id"],
            "address_id": c["address_id"],
            "locale": "en",
        }
    )
    ff.ticket_opened = True
    tid = t["id"]
    job = ff.wait_job(tid, lambda j: j["status"] == "assigned" and j["work_orders"], "job assigned")
    wo = job["work_orders"][0]
    assert wo["technician_id"] == tech["id"]
    ff.wait_ticket(tid, "scheduled")
    ff.visit(wo["id"])
    ff.work(wo["id"], diagnosis="drive belt snapped", labour_minutes=25)
    ff.sign_off(wo["id"], resolution_code="replaced_belt", signed_by="Li Na", rating=5)
    ff.wait_ticket(tid, "resolved")
    survey = eventually_blocking(
        lambda: [s for s in ff.get("survey", "/surveys", params={"ticket_id": tid}) if s["status"] == "sent"],
        timeout=30,
        what="survey sent",
    )[0]
    mails = eventually_blocking(
        lambda: [b for b in email_bodies(smtp_server.inbox.to(email)) if "[Survey]" in b[0]],
        timeout=30,
        what="survey email",
    )
    url = answer_url_in(mails[0][1])
    ff.answer_survey_link(
        url, {q: 5 for q in ("timeliness", "professionalism", "attitude", "effectiveness", "overall")}
    )
    token = url.rsplit("/", 1)[-1]
    ff.requests += [("GET", f"/v1/public/surveys/{token}"), ("POST", f"/v1/public/surveys/{token}/answers")]
    ff.wait_ticket(tid, "closed")
    assert ff.traceparent is None

    # --- what Zipkin holds ----------------------------------------------------------------------------
    ids = {tid, job["id"], wo["id"], survey["id"], token, *(a["id"] for a in job["appointments"])}
    expected_requests = sorted(set(ff.requests))

    def ticket_traces() -> dict[str, list[dict[str, Any]]]:
        """Every trace in Zipkin holding a span that names the ticket or one of its resources."""
        found: dict[str, list[dict[str, Any]]] = {}
        for service in SERVICES:
            for trace in zipkin.traces(serviceName=service):
                if any(names_any(s, ids) for s in trace):
                    found[trace[0]["traceId"]] = trace
        return {tid_: zipkin.trace(tid_) for tid_ in found}

    def complete(traces: dict[str, list[dict[str, Any]]]) -> bool:
        if len(traces) != 1:
            return False
        [spans] = traces.values()
        served = {
            (s["tags"].get("http.method"), s["tags"].get("http.target")) for s in spans if s.get("kind") == "SERVER"
        }
        return all(r in served for r in expected_requests) and SERVICES <= {
            s["localEndpoint"]["serviceName"] for s in spans
        }

    try:
        traces = eventually_blocking(ticket_traces, complete, timeout=30, interval=1.0, what="the ticket's one trace")
    except AssertionError:
        traces = ticket_traces()
    assert len(traces) == 1, f"{len(traces)} traces hold spans of ticket {tid}: " + "; ".join(
        f"{k}: {sorted({s['name'] for s in v})[:6]}" for k, v in traces.items()
    )
    [(trace_id, spans)] = traces.items()

    # Searching by the ticket id, as the README and the make run banner say, finds that trace.
    by_tag = zipkin.traces(annotationQuery=f"fixflow.ticket_id={tid}")
    assert {tr[0]["traceId"] for tr in by_tag} == {trace_id}
    # The ticket's traceparent (what intake shows) names the same trace.
    assert t["traceparent"].split("-")[1] == trace_id

    # Every request about the ticket is a server span of this trace; every service took part.
    served = {(s["tags"].get("http.method"), s["tags"].get("http.target")) for s in spans if s.get("kind") == "SERVER"}
    missing = [r for r in expected_requests if r not in served]
    assert not missing, f"requests outside the ticket's trace: {missing}"
    assert SERVICES <= {s["localEndpoint"]["serviceName"] for s in spans}

    # One root, the request that opened the ticket; every other span's parent is in the trace.
    by_id = {s["id"]: s for s in spans}
    roots = [s for s in spans if "parentId" not in s]
    assert [(r.get("kind"), r["name"].lower()) for r in roots] == [("SERVER", "post /v1/tickets")], roots
    dangling = [s["name"] for s in spans if "parentId" in s and s["parentId"] not in by_id]
    assert not dangling, f"parents not in the trace: {dangling[:10]}"
    ff.close()
    print(
        f"zipkin: ticket {tid} is trace {trace_id}: {len(spans)} spans, {len(expected_requests)} distinct "
        f"requests without traceparent, {time.monotonic() - started:.1f}s"
    )
