"""Shared steps of the lifecycle scenarios 2, 3 and 6: a tenant's directory and technicians, the
ticket's own trace context on every call, the technician app, partner topics and notifications.

Only public HTTP APIs and Kafka topics are used. Import with `from lifecycle_steps import Scenario`.
(Scenarios 1, 4, 5, 7 use lifecycle_kit.py.)
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from helpers import poll

from fixflow_shared.events import Envelope, Event, new_envelope
from fixflow_shared.testing import auth_headers

ALL_WEEK = {"tz": "UTC", "days": {str(d): ["00:00", "23:59"] for d in range(7)}}
SITE = (31.2304, 121.4737)
SIGNATURE = hashlib.sha256(b"customer signature").hexdigest()


def unique_phone() -> str:
    return "+86138" + str(uuid.uuid4().int)[:8]


@dataclass
class Scenario:
    """One tenant, one customer, one ticket; every call after the ticket is opened carries the
    ticket's traceparent (so the whole lifecycle is one trace)."""

    fixflow: Any
    prefix: str
    tenant: str = ""
    email: str = ""
    phone: str = ""
    traceparent: str | None = None
    ticket_id: str = ""
    customer: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tenant = f"{self.prefix}-{uuid.uuid4().hex[:6]}"
        self.email = f"cust-{uuid.uuid4().hex[:8]}@example.com"
        self.phone = unique_phone()

    # --- HTTP ------------------------------------------------------------------------------------

    def headers(self, roles: str = "agent,dispatcher,manager") -> dict[str, str]:
        h = auth_headers(self.tenant, roles)
        if self.traceparent:
            h["traceparent"] = self.traceparent
        return h

    def call(self, method: str, svc: str, path: str, *, roles: str = "agent,dispatcher,manager",
             expect: int | tuple[int, ...] = (200, 201), **kw: Any) -> Any:
        r = httpx.request(method, self.fixflow[svc].url + path, headers=self.headers(roles), timeout=20, **kw)
        codes = (expect,) if isinstance(expect, int) else expect
        assert r.status_code in codes, f"{method} {svc}{path} -> {r.status_code}: {r.text}"
        return r.json() if r.content and r.headers.get("content-type", "").endswith("json") else r

    def get(self, svc: str, path: str, **kw: Any) -> Any:
        return self.call("GET", svc, path, **kw)

    def post(self, svc: str, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", svc, path, json=body if body is not None else {}, **kw)

    # --- setup -----------------------------------------------------------------------------------

    def setup_customer_asset(self, *, bought_days_ago: int, model_prefix: str = "WM") -> dict[str, Any]:
        self.customer = self.post("intake", "/v1/customers", {
            "name": "Wang Fang", "phone": self.phone, "email": self.email, "grade": "B",
            "addresses": [{"line": "88 Century Ave", "region": "CN-31", "in_province": True,
                           "lat": SITE[0] + 0.01, "lon": SITE[1]}]})
        product = self.post("intake", "/v1/products", {
            "model": f"{model_prefix}-{uuid.uuid4().hex[:6]}", "name": "Washing machine", "warranty_months": 12,
            "return_window_days": 30})
        asset = self.post("intake", "/v1/assets", {
            "customer_id": self.customer["id"], "product_id": product["id"], "serial": "SN" + uuid.uuid4().hex[:10],
            "purchase_date": (date.today() - timedelta(days=bought_days_ago)).isoformat()})
        return {"customer": self.customer, "product": product, "asset": asset}

    def technician(self, *, name: str, skills: dict[str, int], van_stock: dict[str, int] | None = None) -> dict[str, Any]:
        for code in skills:
            self.post("dispatch", "/v1/skills", {"code": code, "name": code.title()}, expect=(201, 409))
        return self.post("dispatch", "/v1/technicians", {  # type: ignore[no-any-return]
            "name": name, "phone": "+86 139 0000 " + str(uuid.uuid4().int)[:4], "home_lat": SITE[0], "home_lon": SITE[1],
            "skills": skills, "hours": ALL_WEEK, "van_stock": van_stock or {}})

    def open_ticket(self, body: dict[str, Any]) -> dict[str, Any]:
        t = self.post("intake", "/v1/tickets", {"channel": "phone", "contact_email": self.email,
                                               "contact_phone": self.phone, "locale": "en", **body})
        self.ticket_id = t["id"]
        self.traceparent = t.get("traceparent")
        return t  # type: ignore[no-any-return]

    # --- reading state ---------------------------------------------------------------------------

    def ticket(self) -> dict[str, Any]:
        return self.get("intake", f"/v1/tickets/{self.ticket_id}")  # type: ignore[no-any-return]

    def wait_ticket(self, status: str, timeout: float = 30) -> dict[str, Any]:
        return poll(lambda: (t := self.ticket())["status"] == status and t, timeout, what=f"ticket {status}")

    def job(self) -> dict[str, Any] | None:
        r = httpx.get(self.fixflow["dispatch"].url + f"/v1/jobs/by-ticket/{self.ticket_id}", headers=self.headers())
        return r.json() if r.status_code == 200 else None

    def wait_job(self, status: str, timeout: float = 30) -> dict[str, Any]:
        return poll(lambda: (j := self.job()) is not None and j["status"] == status and j, timeout, what=f"job {status}")

    def job_detail(self) -> dict[str, Any]:
        job = self.job()
        assert job is not None
        return self.get("dispatch", f"/v1/jobs/{job['id']}")  # type: ignore[no-any-return]

    def invoices(self) -> list[dict[str, Any]]:
        return self.get("billing", "/v1/invoices", params={"ticket_id": self.ticket_id})  # type: ignore[no-any-return]

    def timeline_types(self) -> list[str]:
        return [e["type"] for e in self.get("intake", f"/v1/tickets/{self.ticket_id}/timeline")["events"]]

    def deliveries(self) -> list[dict[str, Any]]:
        return self.get("notify", "/v1/deliveries", params={"ticket_id": self.ticket_id})  # type: ignore[no-any-return]

    # --- technician app --------------------------------------------------------------------------

    def visit(self, work_order_id: str, *, parts: list[dict[str, Any]], labour_minutes: int, diagnosis: str) -> None:
        tech = "technician"
        self.post("dispatch", f"/v1/work-orders/{work_order_id}/en-route", roles=tech)
        self.post("dispatch", f"/v1/work-orders/{work_order_id}/arrival", {"lat": SITE[0] + 0.01, "lon": SITE[1]}, roles=tech)
        self.post("dispatch", f"/v1/work-orders/{work_order_id}/work",
                  {"diagnosis": diagnosis, "parts": parts, "labour_minutes": labour_minutes}, roles=tech)

    def sign_off(self, work_order_id: str, resolution_code: str) -> dict[str, Any]:
        return self.post("dispatch", f"/v1/work-orders/{work_order_id}/completion", {  # type: ignore[no-any-return]
            "resolution_code": resolution_code, "signed_by": "Wang Fang",
            "signed_at": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(), "signature_sha256": SIGNATURE,
            "rating": 5}, roles="technician")

    # --- notifications ---------------------------------------------------------------------------

    def emails(self, smtp_server: Any) -> list[str]:
        """Subjects of the customer's emails about this ticket."""
        return [str(m["Subject"]) for m in smtp_server.inbox.to(self.email) if self.ticket_id in str(m["Subject"])]

    def sms(self, sms_gateway: Any) -> list[str]:
        return [m["text"] for m in sms_gateway.to(self.phone)]


# --- partner topics (the warehouse / logistics side) ----------------------------------------------


def publish(bootstrap: str, payload: Event, *, tenant: str, subject: str, source: str,
            answering: Envelope | None = None) -> Envelope:
    """Publish a CloudEvent to the payload's topic, as a partner system would. A partner answering
    one of our messages (`answering`) names it as the cause and echoes its W3C trace headers, so
    its answer stays in the ticket's trace."""
    from aiokafka import AIOKafkaProducer

    env = new_envelope(payload, source=source, subject=subject, tenant=tenant, causation=answering,
                       trace_headers=answering.trace_headers if answering else None)

    async def go() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            await producer.send_and_wait(payload.topic, env.body(), key=env.key, headers=env.headers())
        finally:
            await producer.stop()

    asyncio.run(go())
    return env


def read_topic(bootstrap: str, topic: str, *, subject: str, type_: str, timeout: float = 30.0) -> list[Envelope]:
    """Read `topic` from the beginning, as a partner system would, until an event of `type_` about
    `subject` shows up; returns those events."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    async def go() -> list[Envelope]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
        await consumer.start()
        found: list[Envelope] = []
        try:
            await consumer._client.force_metadata_update()  # noqa: SLF001
            parts = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or set())]
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            deadline = asyncio.get_running_loop().time() + timeout
            while asyncio.get_running_loop().time() < deadline:
                batch = await consumer.getmany(timeout_ms=500)
                for msgs in batch.values():
                    for m in msgs:
                        env = Envelope.from_kafka(m.headers, m.value)
                        if env.subject == subject and env.type == type_:
                            found.append(env)
                if found:
                    return found
            return found
        finally:
            await consumer.stop()

    return asyncio.run(go())


def assert_ticket_in_one_trace(otlp_receiver: Any, ticket_id: str, services: set[str], timeout: float = 20.0) -> str:
    """assert_one_trace over the ticket's spans, retried while spans are still being exported
    (batch exporter, 200 ms schedule): the last failure is raised after `timeout`."""
    import time

    from helpers import assert_one_trace, trace_of_ticket

    deadline = time.monotonic() + timeout
    while True:
        spans = trace_of_ticket(otlp_receiver, ticket_id)
        try:
            return assert_one_trace(spans, services=services)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
