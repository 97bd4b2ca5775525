"""Building blocks of the lifecycle scenarios (1, 4, 5, 7): a tenant-scoped client over the five
public APIs that sends the ticket's `traceparent` once the ticket exists, and the set-up a service
center needs before its first ticket (technician, customer with address, product, asset, a survey
plan that sends at once).

Import with `from lifecycle_kit import Fixflow` (tests/e2e is on sys.path via conftest)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from helpers import poll

from fixflow_shared.testing import auth_headers

ROLES = "agent,dispatcher,manager,technician,customer,cashier"
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

    def headers(self, roles: str = ROLES) -> dict[str, str]:
        h = auth_headers(self.tenant, roles)
        if self.traceparent:
            h["traceparent"] = self.traceparent
        return h

    def call(self, method: str, svc: str, path: str, *, expect: int | tuple[int, ...] | None = None,
             roles: str = ROLES, **kw: Any) -> httpx.Response:
        r = self._http.request(method, self.services[svc].url + "/v1" + path, headers=self.headers(roles), **kw)
        if expect is not None:
            ok = (expect,) if isinstance(expect, int) else expect
            assert r.status_code in ok, f"{method} {svc}{path} -> {r.status_code}: {r.text[:500]}"
        return r

    def get(self, svc: str, path: str, **kw: Any) -> Any:
        return self.call("GET", svc, path, expect=200, **kw).json()

    def post(self, svc: str, path: str, body: Any = None, *, expect: int | tuple[int, ...] = (200, 201), **kw: Any) -> Any:
        return self.call("POST", svc, path, json=body if body is not None else {}, expect=expect, **kw).json()

    def put(self, svc: str, path: str, body: Any, *, expect: int | tuple[int, ...] = (200, 204), **kw: Any) -> Any:
        r = self.call("PUT", svc, path, json=body, expect=expect, **kw)
        return r.json() if r.content else None

    # --- set-up ------------------------------------------------------------------------------------
    def technician(self, name: str = "Li Wei", *, dlat: float = 0.0, phone: str = "+8613700000001") -> dict[str, Any]:
        for code in SKILLS:
            self.call("POST", "dispatch", "/skills", json={"code": code, "name": code.replace("_", " ").title()},
                      expect=(201, 409))
        return self.post("dispatch", "/technicians", {
            "name": name, "phone": phone, "home_lat": SITE[0] + dlat, "home_lon": SITE[1],
            "skills": {s: 3 for s in SKILLS}, "hours": ALL_WEEK,
        }, expect=201)

    def customer_with_asset(self, *, email: str, phone: str, warranty_months: int = 12,
                            bought_days_ago: int = 100, name: str = "Chen Jing") -> dict[str, Any]:
        """A customer at one address owning one asset; returns ids for opening tickets."""
        customer = self.post("intake", "/customers", {
            "name": name, "phone": phone, "email": email, "grade": "B",
            "addresses": [{"line": "88 Century Avenue, Pudong", "city": "Shanghai", "region": "SH", "in_province": True,
                           "lat": SITE[0] + 0.01, "lon": SITE[1]}],
        }, expect=201)
        model = f"WM-{uuid.uuid4().hex[:6].upper()}"
        product = self.post("intake", "/products", {"model": model, "name": "Front-load washer 8 kg",
                                                    "warranty_months": warranty_months}, expect=201)
        asset = self.post("intake", "/assets", {
            "customer_id": customer["id"], "product_id": product["id"], "serial": f"SN{uuid.uuid4().hex[:10].upper()}",
            "purchase_date": (date.today() - timedelta(days=bought_days_ago)).isoformat(),
        }, expect=201)
        return {"customer_id": customer["id"], "address_id": customer["addresses"][0]["id"],
                "product_id": product["id"], "asset_id": asset["id"], "model": model}

    def survey_sends_at_once(self, channel: str = "email") -> None:
        """The tenant's survey plan: sent on the day of resolution from 00:00 UTC, i.e. at once (today and
        tomorrow declared working days, so a weekend or holiday run does not wait)."""
        today = datetime.now(UTC).date()
        self.put("survey", "/survey-plan", {
            "delay_working_days": 0, "send_time": "00:00:00", "follow_up_major": False, "channel": channel,
            "calendar": {"country": "CN", "tz": "UTC", "extra_workdays": [today.isoformat(), (today + timedelta(days=1)).isoformat()]},
        }, expect=200)

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
            return poll(check, timeout, what=f"ticket {ticket_id} {status}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last status {last.get('status')}") from None

    def timeline_types(self, ticket_id: str) -> list[str]:
        return [e["type"] for e in self.get("intake", f"/tickets/{ticket_id}/timeline")["events"]]

    def wait_timeline(self, ticket_id: str, *types: str, timeout: float = 30.0) -> list[str]:
        return poll(lambda: (lambda seen: seen if all(t in seen for t in types) else None)(self.timeline_types(ticket_id)),
                    timeout, what=f"{types} on the timeline of {ticket_id}")

    def job(self, ticket_id: str) -> dict[str, Any]:
        j = self.get("dispatch", f"/jobs/by-ticket/{ticket_id}")
        return self.get("dispatch", f"/jobs/{j['id']}")

    def wait_job(self, ticket_id: str, pred: Any, what: str, timeout: float = 30.0) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            r = self.call("GET", "dispatch", f"/jobs/by-ticket/{ticket_id}")
            if r.status_code != 200:
                return None
            j = self.get("dispatch", f"/jobs/{r.json()['id']}")
            return j if pred(j) else None

        return poll(check, timeout, what=what)

    def deliveries(self, ticket_id: str) -> list[dict[str, Any]]:
        return self.get("notify", "/deliveries", params={"ticket_id": ticket_id})

    # --- technician app ----------------------------------------------------------------------------
    def visit(self, work_order_id: str) -> None:
        """En route and arrival on site (visit.started)."""
        self.post("dispatch", f"/work-orders/{work_order_id}/en-route", roles="technician")
        self.post("dispatch", f"/work-orders/{work_order_id}/arrival", {"lat": SITE[0] + 0.01, "lon": SITE[1]},
                  roles="technician")

    def sign_off(self, work_order_id: str, *, resolution_code: str, signed_by: str, rating: int | None = 5) -> dict[str, Any]:
        body = {"resolution_code": resolution_code, "signed_by": signed_by, "signed_at": datetime.now(UTC).isoformat(),
                "signature_sha256": hashlib.sha256(f"{work_order_id}:{signed_by}".encode()).hexdigest()}
        if rating is not None:
            body["rating"] = rating
        return self.post("dispatch", f"/work-orders/{work_order_id}/completion", body, roles="technician")

    # --- survey ------------------------------------------------------------------------------------
    def answer_survey_link(self, answer_url: str, scores: dict[str, int], *, nps: int | None = None,
                           comment: str | None = None) -> dict[str, Any]:
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


def answer_url_in(text: str) -> str:
    """The survey link in a message body."""
    for word in text.split():
        if "/v1/public/surveys/" in word:
            return word.strip().rstrip(".,;)")
    raise AssertionError(f"no survey link in {text!r}")


def email_bodies(messages: list[Any]) -> list[tuple[str, str]]:
    """(subject, decoded text body) of each email."""
    out = []
    for m in messages:
        part = m.get_payload(0) if m.is_multipart() else m
        body = part.get_payload(decode=True)
        out.append((str(m["Subject"]), body.decode(part.get_content_charset() or "utf-8") if body else ""))
    return out


def one_trace_of_ticket(otlp_receiver: Any, ticket_id: str, services: set[str], timeout: float = 20.0) -> tuple[str, list[Any]]:
    """`assert_one_trace` over every span that mentions the ticket, retried while late spans (batch
    export every 200 ms) are still arriving; returns (trace id, spans)."""
    import time

    from helpers import assert_one_trace, trace_of_ticket

    deadline = time.monotonic() + timeout
    while True:
        spans = trace_of_ticket(otlp_receiver, ticket_id, timeout=timeout)
        try:
            return assert_one_trace(spans, services=services), spans
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
