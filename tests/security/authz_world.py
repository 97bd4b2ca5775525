"""A tenant with two customers (A and B), each with a technician of its own nearby (TA, TB), and
every kind of object the authorisation matrix needs, made through the public APIs of the five
services running in-process: tickets, assets, jobs, appointments, work orders, a parts request,
invoices, quotes, waivers, surveys, deliveries. Everything of A is serviced by TA, of B by TB."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from fixflow_shared.keys import hash_api_key, new_partner_key
from fixflow_shared.policy import PARTNER_SCOPES
from fixflow_shared.testing import auth_headers, eventually
from fixflow_shared.testing.checklists import photo_bytes, required_answers

# Partner API keys of the tenants these tests make: one holding every scope, one holding a single scope.
PARTNER_KEYS = {"partner-all": new_partner_key(), "partner-min": new_partner_key()}
PARTNER_SCOPES_OF = {"partner-all": sorted(PARTNER_SCOPES), "partner-min": ["tickets:open"]}


def partner_key_config(tenant: str) -> list[dict[str, Any]]:
    return [
        {"id": f"{kid}-{tenant}", "tenant": tenant, "scopes": PARTNER_SCOPES_OF[kid], "sha256": hash_api_key(key)}
        for kid, key in PARTNER_KEYS.items()
    ]


PARTNER_TENANT = "authz-partners"

ALL_WEEK = {"tz": "UTC", "days": {str(d): ["00:00", "23:59"] for d in range(7)}}
SKILLS = ("general_repair", "installation", "plumbing", "electrical", "mechanical", "electronics")
# Two towns 40 km apart: each customer's visits go to the technician living there.
TOWNS = {"A": (31.2304, 121.4737), "B": (31.2304, 121.8937)}


@dataclass
class Side:
    """One customer's objects (and its technician's)."""

    customer_id: str = ""
    technician_id: str = ""
    asset_id: str = ""
    ticket_id: str = ""  # visited, completed, invoiced, surveyed
    parts_ticket_id: str = ""  # visited, waiting for parts
    job_id: str = ""
    appointment_id: str = ""
    work_order_id: str = ""
    parts_request_id: str = ""
    attachment_id: str = ""  # the customer's signature image
    invoice_id: str = ""
    quote_id: str = ""
    waiver_id: str = ""
    survey_id: str = ""
    ids: set[str] = field(default_factory=set)


@dataclass
class World:
    tenant: str
    a: Side
    b: Side
    revisit_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def build_world(c: dict[str, httpx.AsyncClient], tenant: str) -> World:
    staff = auth_headers(tenant, "agent,dispatcher,manager,admin", subject="setup")

    async def call(svc: str, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201)) -> Any:
        r = await c[svc].request(method, "/v1" + path, json=body, headers=staff)
        assert r.status_code in ok, (svc, method, path, r.status_code, r.text[:400])
        return r.json() if r.content else None

    world = World(tenant, Side(), Side())
    for code in SKILLS:
        await call("dispatch", "POST", "/skills", {"code": code, "name": code.title()}, ok=(201, 409))
    await call(
        "billing",
        "POST",
        "/price-books",
        {
            "effective_from": "2020-01-01",
            "visit_fee_minor": 5000,
            "adjustment_fee_minor": 2000,
            "fitting_labour_minor": 3000,
            "labour_per_hour_minor": 6000,
        },
        ok=(201,),
    )
    today = datetime.now(UTC).date()
    await call(
        "survey",
        "PUT",
        "/survey-plan",
        {
            "delay_working_days": 0,
            "send_time": "00:00",
            "channel": "email",
            "calendar": {"country": "CN", "tz": "UTC", "extra_workdays": [today.isoformat()]},
        },
    )
    for name, side in (("A", world.a), ("B", world.b)):
        lat, lon = TOWNS[name]
        tech = await call(
            "dispatch",
            "POST",
            "/technicians",
            {
                "name": f"Tech {name}",
                "phone": "+86 138 0000 000" + ("1" if name == "A" else "2"),
                "home_lat": lat,
                "home_lon": lon,
                "skills": {s: 3 for s in SKILLS},
                "hours": ALL_WEEK,
                "van_stock": {"PUMP-1": 5},
            },
        )
        side.technician_id = tech["id"]
        customer = await call(
            "intake",
            "POST",
            "/customers",
            {
                "name": f"Customer {name}",
                "phone": "+861391234000" + ("1" if name == "A" else "2"),
                "email": f"customer.{name.lower()}.{tenant}@example.com",
                "grade": "A",
                "addresses": [{"line": f"{name} Road 1", "city": "Shanghai", "lat": lat + 0.005, "lon": lon}],
            },
        )
        side.customer_id = customer["id"]
        product = await call(
            "intake", "POST", "/products", {"model": f"WM-{name}-{uuid.uuid4().hex[:4]}", "name": "Washer"}
        )
        assets = [
            await call(
                "intake",
                "POST",
                "/assets",
                {
                    "customer_id": side.customer_id,
                    "product_id": product["id"],
                    "serial": f"SN-{name}-{uuid.uuid4().hex[:8]}",
                    "purchase_date": (date.today() - timedelta(days=30)).isoformat(),
                },
            )
            for _ in range(2)
        ]
        side.asset_id = assets[0]["id"]
        world.extra["product_id"] = product["id"]
        # two tickets on two appliances (one ticket per appliance: no duplicate linking), no phone typed
        jobs = (
            ("ticket_id", assets[0], "install the new washer"),
            ("parts_ticket_id", assets[1], "mount dryer on bracket"),
        )
        for attr, asset, symptom in jobs:
            t = await call(
                "intake",
                "POST",
                "/tickets",
                {
                    "kind": "installation",
                    "channel": "phone",
                    "symptom": symptom,
                    "customer_id": side.customer_id,
                    "asset_id": asset["id"],
                    "address_id": customer["addresses"][0]["id"],
                    "contact_email": f"customer.{name.lower()}.{tenant}@example.com",
                },
            )
            setattr(side, attr, t["id"])

    async def job_of(ticket_id: str) -> dict[str, Any] | None:
        r = await c["dispatch"].get(f"/v1/jobs/by-ticket/{ticket_id}", headers=staff)
        if r.status_code != 200:
            return None
        j = (await c["dispatch"].get(f"/v1/jobs/{r.json()['id']}", headers=staff)).json()
        return j if j["work_orders"] and j["appointments"] else None

    for side in (world.a, world.b):
        job = await eventually(lambda s=side: job_of(s.ticket_id), what="a visit booked", timeout=60)
        side.job_id, side.work_order_id = job["id"], job["work_orders"][0]["id"]
        side.appointment_id = job["appointments"][0]["id"]
        assert job["work_orders"][0]["technician_id"] == side.technician_id, "each customer's own technician"
        tech = auth_headers(tenant, "technician", technician_id=side.technician_id)
        wo = f"/v1/work-orders/{side.work_order_id}"
        assert (await c["dispatch"].post(wo + "/arrival", json={}, headers=tech)).status_code == 200
        answers, photos = required_answers((await c["dispatch"].get(wo + "/checklist", headers=tech)).json())
        for key in photos:  # the checklist's required photos, taken by the technician
            up = await c["dispatch"].post(
                wo + "/attachments",
                params={"kind": "photo"},
                content=photo_bytes(key),
                headers={**tech, "Content-Type": "image/png"},
            )
            assert up.status_code == 201, up.text
            answers[key] = up.json()["id"]
        signature = photo_bytes(side.work_order_id)  # a PNG of its own per side
        up = await c["dispatch"].post(
            wo + "/attachments",
            params={"kind": "signature"},
            content=signature,
            headers={**tech, "Content-Type": "image/png"},
        )
        assert up.status_code == 201, up.text
        side.attachment_id = up.json()["id"]
        done = await c["dispatch"].post(
            wo + "/completion",
            json={
                "checklist": answers,
                "resolution_code": "installed",
                "signed_by": "the customer",
                "signed_at": datetime.now(UTC).isoformat(),
                "signature_sha256": hashlib.sha256(signature).hexdigest(),
            },
            headers=tech,
        )
        assert done.status_code == 200, done.text
        parts_job = await eventually(lambda s=side: job_of(s.parts_ticket_id), what="a second visit booked", timeout=60)
        pwo = parts_job["work_orders"][0]
        assert pwo["technician_id"] == side.technician_id
        pwo_path = f"/v1/work-orders/{pwo['id']}"
        arrived = await c["dispatch"].post(pwo_path + "/arrival", json={}, headers=tech)
        assert arrived.status_code == 200, arrived.text
        failed = await c["dispatch"].post(
            pwo_path + "/failure",
            json={"outcome": "needs_parts", "parts_needed": [{"part_code": "PUMP-9", "quantity": 1}]},
            headers=tech,
        )
        assert failed.status_code == 200, failed.text
        side.parts_request_id = failed.json()["parts_request_id"]

    for side in (world.a, world.b):
        # an installation under warranty costs nothing (no invoice): the appliance's sale is the invoice
        sale = await call(
            "billing",
            "POST",
            "/sales",
            {
                "customer_id": side.customer_id,
                "asset_id": side.asset_id,
                "items": [{"code": "WM-1", "description": "washer", "unit_price_minor": 259900}],
            },
        )
        side.invoice_id = sale["id"]
        side.quote_id = (
            await call("billing", "POST", "/quotes", {"ticket_id": side.ticket_id, "work": {"labour_minutes": 30}})
        )["id"]
        side.waiver_id = (
            await call(
                "billing", "POST", "/waivers", {"ticket_id": side.ticket_id, "amount_minor": 100, "reason": "goodwill"}
            )
        )["id"]

        async def surveys(s: Side = side) -> list[dict[str, Any]]:
            r = await c["survey"].get("/v1/surveys", params={"ticket_id": s.ticket_id}, headers=staff)
            return r.json() if r.status_code == 200 else []

        side.survey_id = (await eventually(surveys, what="the survey scheduled", timeout=60))[0]["id"]

        async def deliveries(s: Side = side) -> list[dict[str, Any]]:
            r = await c["notify"].get("/v1/deliveries", params={"ticket_id": s.ticket_id}, headers=staff)
            return r.json() if r.status_code == 200 else []

        await eventually(deliveries, what="notify knows the ticket's contacts", timeout=60)

    last_month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    world.extra["report_id"] = (await call("insight", "POST", "/reports", {"month": last_month}))["id"]
    revisits = await call("survey", "GET", "/revisits?status=open")
    world.revisit_id = revisits[0]["id"] if revisits else None
    await call("notify", "PUT", f"/preferences/customer.a.{tenant}@example.com", {"opted_out": False})
    await call("notify", "PUT", "/templates/ticket.opened/email/en", {"subject": "{{ ticket_id }}", "body": "Hello"})
    for side in (world.a, world.b):
        side.ids = {
            v
            for k, v in vars(side).items()
            if isinstance(v, str) and v and k not in ("ids",)  # every id of this side
        }
    return world
