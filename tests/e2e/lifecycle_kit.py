"""The client kit of the lifecycle scenarios: a tenant-scoped client over the five public APIs that
sends the ticket's `traceparent` once the ticket exists, the set-up a service center needs before
its first ticket (technician, customer with address, product, asset, a survey plan that sends at
once), the technician app, the partner systems' Kafka topics, and readers of what the customer got.

Only public HTTP APIs and Kafka topics are used. Import with `from lifecycle_kit import Fixflow`
(tests/e2e is on sys.path via conftest); polling and trace checks are in helpers.py."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from fixflow_shared.events import Envelope, Event, new_envelope
from fixflow_shared.testing import auth_headers, eventually_blocking
from fixflow_shared.testing.checklists import photo_bytes, required_answers

ROLES = "agent,dispatcher,manager,technician,customer,cashier"
# Where customers' messages say the portal is (notify starts before the portal: tests swap in its address).
PORTAL_IN_MESSAGES = "http://portal.invalid"
SITE = (31.2304, 121.4737)
ALL_WEEK = {"tz": "UTC", "days": {str(d): ["00:00", "23:59"] for d in range(7)}}
SKILLS = ("general_repair", "plumbing", "electrical", "mechanical", "refrigeration", "electronics")


class Fixflow:
    """One tenant's view of the running system. Every request about the ticket carries the ticket's
    traceparent (set `self.traceparent` once the ticket is opened), as the technician app, the
    customer portal and the survey page do, so the ticket keeps one trace."""

    def __init__(self, services: dict[str, Any], tenant: str) -> None:
        self.services = services
        self.tenant = tenant
        self.traceparent: str | None = None
        self._http = httpx.Client(timeout=15.0)

    def close(self) -> None:
        self._http.close()

    def headers(
        self, roles: str = ROLES, *, customer_id: str | None = None, technician_id: str | None = None
    ) -> dict[str, str]:
        """Staff by default; a customer's token carries its customer id, a technician's its id."""
        h = auth_headers(self.tenant, roles, customer_id=customer_id, technician_id=technician_id)
        if self.traceparent:
            h["traceparent"] = self.traceparent
        return h

    def call(
        self,
        method: str,
        svc: str,
        path: str,
        *,
        expect: int | tuple[int, ...] | None = None,
        roles: str = ROLES,
        customer_id: str | None = None,
        technician_id: str | None = None,
        **kw: Any,
    ) -> httpx.Response:
        headers = self.headers(roles, customer_id=customer_id, technician_id=technician_id)
        r = self._http.request(method, self.services[svc].url + "/v1" + path, headers=headers, **kw)
        if expect is not None:
            ok = (expect,) if isinstance(expect, int) else expect
            assert r.status_code in ok, f"{method} {svc}{path} -> {r.status_code}: {r.text[:500]}"
        return r

    def get(self, svc: str, path: str, **kw: Any) -> Any:
        return self.call("GET", svc, path, expect=200, **kw).json()

    def post(
        self, svc: str, path: str, body: Any = None, *, expect: int | tuple[int, ...] = (200, 201), **kw: Any
    ) -> Any:
        return self.call("POST", svc, path, json=body if body is not None else {}, expect=expect, **kw).json()

    def put(self, svc: str, path: str, body: Any, *, expect: int | tuple[int, ...] = (200, 204), **kw: Any) -> Any:
        r = self.call("PUT", svc, path, json=body, expect=expect, **kw)
        return r.json() if r.content else None

    # --- set-up ------------------------------------------------------------------------------------
    def technician(
        self,
        name: str,
        *,
        phone: str,
        skills: dict[str, int] | None = None,
        van_stock: dict[str, int] | None = None,
        team_id: str | None = None,
    ) -> dict[str, Any]:
        """A technician working around the clock at the site; every known skill at level 3 unless
        `skills` says otherwise (the skills named are registered first)."""
        skills = skills if skills is not None else {s: 3 for s in SKILLS}
        for code in skills:
            self.call(
                "POST",
                "dispatch",
                "/skills",
                json={"code": code, "name": code.replace("_", " ").title()},
                expect=(201, 409),
            )
        return self.post(
            "dispatch",
            "/technicians",
            {
                "name": name,
                "phone": phone,
                "home_lat": SITE[0],
                "home_lon": SITE[1],
                "skills": skills,
                "hours": ALL_WEEK,
                "van_stock": van_stock or {},
                **({"team_id": team_id} if team_id else {}),
            },
            expect=201,
        )

    def customer_with_asset(
        self,
        *,
        email: str,
        phone: str,
        warranty_months: int = 12,
        return_window_days: int = 30,
        bought_days_ago: int = 100,
        name: str = "Chen Jing",
    ) -> dict[str, Any]:
        """A customer at one address owning one asset; returns ids for opening tickets."""
        customer = self.post(
            "intake",
            "/customers",
            {
                "name": name,
                "phone": phone,
                "email": email,
                "grade": "B",
                "addresses": [
                    {
                        "line": "88 Century Avenue, Pudong",
                        "city": "Shanghai",
                        "region": "SH",
                        "in_province": True,
                        "lat": SITE[0] + 0.01,
                        "lon": SITE[1],
                    }
                ],
            },
            expect=201,
        )
        model = f"WM-{uuid.uuid4().hex[:6].upper()}"
        product = self.post(
            "intake",
            "/products",
            {
                "model": model,
                "name": "Front-load washer 8 kg",
                "warranty_months": warranty_months,
                "return_window_days": return_window_days,
            },
            expect=201,
        )
        asset = self.post(
            "intake",
            "/assets",
            {
                "customer_id": customer["id"],
                "product_id": product["id"],
                "serial": f"SN{uuid.uuid4().hex[:10].upper()}",
                "purchase_date": (date.today() - timedelta(days=bought_days_ago)).isoformat(),
            },
            expect=201,
        )
        return {
            "customer_id": customer["id"],
            "address_id": customer["addresses"][0]["id"],
            "product_id": product["id"],
            "asset_id": asset["id"],
            "model": model,
        }

    def survey_sends_at_once(self, channel: str = "email") -> None:
        """The tenant's survey plan: sent on the day of resolution from 00:00 UTC, i.e. at once (today and
        tomorrow declared working days, so a weekend or holiday run does not wait)."""
        today = datetime.now(UTC).date()
        self.put(
            "survey",
            "/survey-plan",
            {
                "delay_working_days": 0,
                "send_time": "00:00:00",
                "follow_up_major": False,
                "channel": channel,
                "calendar": {
                    "country": "CN",
                    "tz": "UTC",
                    "extra_workdays": [today.isoformat(), (today + timedelta(days=1)).isoformat()],
                },
            },
            expect=200,
        )

    # --- tickets -----------------------------------------------------------------------------------
    def open_ticket(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /v1/tickets without a traceparent: this request is the root of the ticket's trace."""
        self.traceparent = None
        t = self.post("intake", "/tickets", body, expect=201)
        assert t["traceparent"], "intake exposes the ticket's traceparent"
        self.traceparent = t["traceparent"]
        return t

    def ticket(self, ticket_id: str) -> dict[str, Any]:
        return self.get("intake", f"/tickets/{ticket_id}")

    def wait_ticket(self, ticket_id: str, status: str, timeout: float = 30.0) -> dict[str, Any]:
        last: dict[str, Any] = {}

        def check() -> dict[str, Any] | None:
            nonlocal last
            last = self.ticket(ticket_id)
            return last if last["status"] == status else None

        try:
            return eventually_blocking(check, timeout=timeout, what=f"ticket {ticket_id} {status}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last status {last.get('status')}") from None

    def timeline_types(self, ticket_id: str) -> list[str]:
        return [e["type"] for e in self.get("intake", f"/tickets/{ticket_id}/timeline")["events"]]

    def wait_timeline(self, ticket_id: str, *types: str, timeout: float = 30.0) -> list[str]:
        return eventually_blocking(
            lambda: (lambda seen: seen if all(t in seen for t in types) else None)(self.timeline_types(ticket_id)),
            timeout=timeout,
            what=f"{types} on the timeline of {ticket_id}",
        )

    def job(self, ticket_id: str) -> dict[str, Any]:
        """The ticket's job in dispatch, with its work orders and appointments."""
        j = self.get("dispatch", f"/jobs/by-ticket/{ticket_id}")
        return self.get("dispatch", f"/jobs/{j['id']}")

    def wait_job(
        self, ticket_id: str, until: str | Callable[[dict[str, Any]], Any], what: str = "", timeout: float = 30.0
    ) -> dict[str, Any]:
        """Poll the ticket's job until it has status `until` (a string) or satisfies `until` (a
        predicate over the job with its work orders and appointments); returns that job."""
        if isinstance(until, str):
            status, what = until, what or f"job {until}"

            def pred(j: dict[str, Any]) -> bool:
                return j["status"] == status
        else:
            pred = until

        def check() -> dict[str, Any] | None:
            r = self.call("GET", "dispatch", f"/jobs/by-ticket/{ticket_id}")
            if r.status_code != 200:
                return None
            j = self.get("dispatch", f"/jobs/{r.json()['id']}")
            return j if pred(j) else None

        return eventually_blocking(check, timeout=timeout, what=what)

    def deliveries(self, ticket_id: str) -> list[dict[str, Any]]:
        return self.get("notify", "/deliveries", params={"ticket_id": ticket_id})

    # --- technician app ----------------------------------------------------------------------------
    def as_technician(self, work_order_id: str) -> dict[str, str]:
        """Keyword arguments of a call by the technician the work order is assigned to (its app)."""
        wo = self.get("dispatch", f"/work-orders/{work_order_id}")
        return {"roles": "technician", "technician_id": wo["technician_id"]}

    def visit(self, work_order_id: str) -> None:
        """En route and arrival on site (visit.started)."""
        tech = self.as_technician(work_order_id)
        self.post("dispatch", f"/work-orders/{work_order_id}/en-route", **tech)
        self.post(
            "dispatch",
            f"/work-orders/{work_order_id}/arrival",
            {"lat": SITE[0] + 0.01, "lon": SITE[1]},
            **tech,
        )

    def work(
        self, work_order_id: str, *, diagnosis: str, labour_minutes: int, parts: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """The work done on site. `parts=None` sends no parts field; `parts=[]` says none were used."""
        body: dict[str, Any] = {"diagnosis": diagnosis, "labour_minutes": labour_minutes}
        if parts is not None:
            body["parts"] = parts
        return self.post("dispatch", f"/work-orders/{work_order_id}/work", body, **self.as_technician(work_order_id))

    def sign_off(
        self,
        work_order_id: str,
        *,
        resolution_code: str,
        signed_by: str,
        rating: int | None = 5,
        signed_at: datetime | None = None,
        **recorded: Any,
    ) -> dict[str, Any]:
        """The customer signs on the technician's device (at `signed_at`, default now) and the work order
        completes. `recorded`: what the technician records for the fee schedule (work_type,
        fault_cause, adjustments, freight, internal)."""
        body: dict[str, Any] = {
            **recorded,
            "resolution_code": resolution_code,
            "signed_by": signed_by,
            "signed_at": (signed_at or datetime.now(UTC)).isoformat(),
            "signature_sha256": hashlib.sha256(f"{work_order_id}:{signed_by}".encode()).hexdigest(),
        }
        if rating is not None:
            body["rating"] = rating
        tech = self.as_technician(work_order_id)
        body.setdefault("checklist", self.checklist(work_order_id, tech))
        return self.post("dispatch", f"/work-orders/{work_order_id}/completion", body, **tech)

    def checklist(self, work_order_id: str, tech: dict[str, str]) -> dict[str, Any]:
        """The technician ticks the job kind's checklist: every required field (photos uploaded)."""
        answers, photos = required_answers(self.get("dispatch", f"/work-orders/{work_order_id}/checklist", **tech))
        for key in photos:
            headers = {**self.headers("technician", technician_id=tech["technician_id"]), "Content-Type": "image/png"}
            r = self._http.post(
                self.services["dispatch"].url + f"/v1/work-orders/{work_order_id}/attachments",
                params={"kind": "photo"},
                content=photo_bytes(key),
                headers=headers,
            )
            assert r.status_code in (200, 201), r.text
            answers[key] = r.json()["id"]
        return answers

    # --- survey ------------------------------------------------------------------------------------
    def answer_survey_link(
        self, answer_url: str, scores: dict[str, int], *, nps: int | None = None, comment: str | None = None
    ) -> dict[str, Any]:
        """What the customer's browser does with the link in the survey message (no login)."""
        body: dict[str, Any] = {"scores": scores}
        if nps is not None:
            body["nps"] = nps
        if comment:
            body["comment"] = comment
        h = {"traceparent": self.traceparent} if self.traceparent else {}
        page = self._http.get(answer_url, headers=h)
        assert page.status_code == 200, page.text
        r = self._http.post(answer_url + "/answers", json=body, headers=h)
        assert r.status_code == 201, r.text
        return r.json()


# --- what the customer received ---------------------------------------------------------------------


def email_bodies(messages: list[Any]) -> list[tuple[str, str]]:
    """(subject, decoded text body) of each email."""
    out = []
    for m in messages:
        part = m.get_payload(0) if m.is_multipart() else m
        body = part.get_payload(decode=True)
        out.append((str(m["Subject"]), body.decode(part.get_content_charset() or "utf-8") if body else ""))
    return out


def email_subjects(smtp_server: Any, address: str, *, about: str | None = None) -> list[str]:
    """Subjects of the emails sent to `address` (only those naming `about`, e.g. a ticket id, if given)."""
    return [str(m["Subject"]) for m in smtp_server.inbox.to(address) if about is None or about in str(m["Subject"])]


def sms_texts(sms_gateway: Any, phone: str) -> list[str]:
    """Texts of the SMS sent to `phone`."""
    return [m["text"] for m in sms_gateway.to(phone)]


def answer_url_in(text: str) -> str:
    """The survey link in a message body."""
    for word in text.split():
        if "/v1/public/surveys/" in word:
            return word.strip().rstrip(".,;)")
    raise AssertionError(f"no survey link in {text!r}")


# --- partner topics (the warehouse / logistics side) ------------------------------------------------


def publish(
    bootstrap: str, payload: Event, *, tenant: str, subject: str, source: str, answering: Envelope | None = None
) -> Envelope:
    """Publish a CloudEvent to the payload's topic, as a partner system would. A partner answering
    one of our messages (`answering`) names it as the cause and echoes its W3C trace headers, so
    its answer stays in the ticket's trace."""
    from aiokafka import AIOKafkaProducer

    env = new_envelope(
        payload,
        source=source,
        subject=subject,
        tenant=tenant,
        causation=answering,
        trace_headers=answering.trace_headers if answering else None,
    )

    async def go() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            await producer.send_and_wait(payload.topic, env.body(), key=env.key, headers=env.headers())
        finally:
            await producer.stop()

    asyncio.run(go())
    return env


def processed_by(group: str, bootstrap: str, topic: str) -> None:
    """Wait until consumer group `group` (a service's name) has finished every record on `topic` so
    far: whatever it does with them is done, including nothing."""
    from fixflow_shared.testing.kafka import consumed, end_offsets

    async def go() -> None:
        await consumed(bootstrap, group, *await end_offsets(bootstrap, topic))

    asyncio.run(go())


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
