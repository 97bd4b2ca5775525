"""Every page renders from the services' answers (recorded shapes of their APIs, served by a fake
transport) in both languages, and a service's refusal shows in place. The browser journeys in
tests/e2e do the same against the real services; this catches a broken page in seconds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
AT = NOW.isoformat()
SOON = (NOW + timedelta(hours=2)).isoformat()
TECH = {
    "id": "TEC-1",
    "name": "Zhang Wei",
    "phone": None,
    "home_lat": 31.2,
    "home_lon": 121.4,
    "skills": {"plumbing": 3},
    "regions": [],
    "hours": {"tz": "UTC", "days": {str(d): ["00:00", "23:59"] for d in range(7)}, "country": None},
    "max_jobs_per_day": 6,
    "van_stock": {},
    "active": True,
    "certifications": [],
    "absences": [{"id": "A1", "start": AT, "end": SOON, "reason": "training"}],
}
TICKET = {
    "id": "T-1",
    "kind": "repair",
    "channel": "phone",
    "status": "triaged",
    "symptom": "washer leaks",
    "opened_at": AT,
    "customer_id": "C-1",
    "customer_name": "Chen Jing",
    "contact_phone": "+861****0077",
    "priority": "P2",
    "path": "on_site",
    "category": "leak",
    "suggested_fix": "KB-006",
    "warranty": {"status": "out_of_warranty", "reason": "warranty ended", "warranty_ends_on": "2025-01-01"},
    "missing_facts": [],
    "round": 1,
    "duplicate": False,
    "compensation_requested": False,
    "compensation_approved": None,
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
}
JOB = {
    "id": "J-1",
    "ticket_id": "T-1",
    "kind": "repair",
    "status": "assigned",
    "priority": "P2",
    "required_skills": {"plumbing": 2},
    "required_certifications": [],
    "lat": 31.21,
    "lon": 121.41,
    "duration_min": 60,
    "sla_deadline": SOON,
    "visits": 1,
    "appointments": [
        {
            "id": "APT-1",
            "job_id": "J-1",
            "ticket_id": "T-1",
            "technician_id": "TEC-1",
            "window_start": AT,
            "window_end": SOON,
            "visit_number": 1,
            "status": "booked",
            "reason": None,
        }
    ],
    "work_orders": [
        {
            "id": "WO-1",
            "technician_id": "TEC-1",
            "status": "assigned",
            "visit_number": 1,
            "planned_start": AT,
            "explanation": "closest plumber",
        }
    ],
}
BOARD_ROW = {
    **{k: v for k, v in JOB["appointments"][0].items() if k != "reason"},
    "priority": "P2",
    "kind": "repair",
    "job_status": "assigned",
    "lat": 31.21,
    "lon": 121.41,
    "sla_deadline": SOON,
    "duration_min": 60,
    "work_order_id": "WO-1",
    "work_order_status": "en_route",
    "planned_start": AT,
    "planned_end": SOON,
    "travel_min": 12.0,
}
QUOTE = {
    "id": "Q-1",
    "ticket_id": "T-1",
    "status": "issued",
    "currency": "CNY",
    "service_kind": "A",
    "subtotal_minor": 4000,
    "tax_minor": 226,
    "total_minor": 4000,
    "lines": [
        {
            "code": "visit",
            "description": "visit fee",
            "quantity": 1,
            "unit_price_minor": 2000,
            "amount_minor": 2000,
            "charged": True,
            "reason": "out of warranty",
            "rule": "schedule.visit",
        }
    ],
    "issued_at": AT,
    "valid_until": SOON,
    "consent": None,
}
SURVEY = {
    "id": "S-1",
    "ticket_id": "T-1",
    "round": "initial",
    "channel": "phone",
    "status": "scheduled",
    "due_at": AT,
    "expires_at": SOON,
    "sent_at": None,
    "completed_at": None,
    "reminders_sent": 0,
    "technician_id": "TEC-1",
    "team_id": None,
    "customer_id": "C-1",
    "major": False,
    "response": None,
}
CUSTOMER = {
    "id": "C-1",
    "name": "Chen Jing",
    "phone": "+8613912340077",
    "email": "c@example.com",
    "grade": "B",
    "addresses": [{"id": "AD-1", "line": "88 Century Avenue", "city": "Shanghai"}],
}
ASSET = {
    "id": "AS-1",
    "customer_id": "C-1",
    "product_id": "P-1",
    "serial": "SN123456",
    "purchase_date": "2024-01-01",
    "product_model": "WM-1",
    "product_name": "Washer",
    "warranty": {"status": "out_of_warranty", "warranty_ends_on": "2025-01-01"},
}
# Insight's GET /v1/kpis figures (the shape of services/insight's domain/kpis.py, trimmed of what
# the dashboard does not read).
FIGURES = {
    "tickets": {"opened": 3, "resolved": 2, "jobs": 2},
    "first_response": {"count": 3, "mean_s": 700.0, "p50_s": 600.0, "p90_s": 900.0},
    "arrival_on_time": {"visits": 2, "on_time": 2, "rate": 1.0},
    "first_time_fix": {"completions": 2, "first_time": 2, "rate": 1.0},
    "resolution_time": {"count": 2, "mean_s": 90000.0, "p50_s": 86400.0, "p90_s": 93600.0, "p95_s": 93600.0},
    "repeat_repairs": {"repairs": 2, "within_30d": 0, "rate_30d": 0.0, "within_90d": 0, "rate_90d": 0.0},
    "csat": {"responses": 2, "satisfied": 2, "rate": 1.0, "mean_score": 4.5},
    "nps": {"responses": 2, "promoters": 1, "detractors": 0, "score": 50.0},
    "complaints": {"count": 0, "jobs": 2, "per_100_jobs": 0.0},
    "sla": {"on_time_rate": 1.0, "clocks": {"first_response": {"measured": 3, "met": 3, "breached": 0}}},
}


def insight_kpis(params: httpx.QueryParams) -> dict[str, Any]:
    base = {"tenant_id": "t1", "from": params["from"], "to": params["to"]}
    group_by = params.get("group_by")
    if group_by is None:
        return {**base, **FIGURES}
    groups = {"kind": {"repair": FIGURES}, "technician": {"TEC-1": FIGURES}, "day": {params["from"]: FIGURES}}
    return {**base, "group_by": group_by, "groups": groups.get(group_by, {})}


def answer(request: httpx.Request) -> httpx.Response:
    """The services as the console sees them (the shapes of their OpenAPI documents)."""
    path, host = request.url.path, request.url.port
    assert request.headers["authorization"].startswith("Bearer ")
    routes: dict[str, Any] = {
        "/v1/customers": {"items": [CUSTOMER]},
        "/v1/customers/C-1": CUSTOMER,
        "/v1/assets": {"items": [ASSET]},
        "/v1/tickets": {"items": [TICKET], "next_cursor": None},
        "/v1/tickets/T-1": TICKET,
        "/v1/tickets/T-1/details": {"ticket": TICKET, "notes": [], "sla_clocks": []},
        "/v1/tickets/T-1/timeline": {
            "ticket_id": "T-1",
            "events": [
                {
                    "id": "e1",
                    "type": "fixflow.intake.ticket.opened.v1",
                    "source": "/fixflow/intake",
                    "time": AT,
                    "data": {"priority": "P2"},
                }
            ],
        },
        "/v1/sla-clocks": {
            "items": [
                {
                    "ticket_id": "T-1",
                    "name": "first_response",
                    "round": 1,
                    "due_at": SOON,
                    "paused": False,
                    "stopped_at": None,
                    "at_risk": True,
                    "breached": False,
                    "met": None,
                }
            ]
        },
        "/v1/knowledge-base/KB-006": {
            "id": "KB-006",
            "title": "Water leaking",
            "category": "leak",
            "steps": ["Close the valve"],
            "remote": False,
        },
        "/v1/kpis": {  # intake's: the dashboard reads the open backlog from it
            "opened": 0,
            "opened_by_kind": {},
            "response_time_s": {},
            "resolution_time_s": {},
            "on_time_rate": None,
            "backlog_by_status": {"triaged": 2},
        },
        "/v1/technicians": [TECH],
        "/v1/appointments": [BOARD_ROW],
        "/v1/jobs": [],
        "/v1/jobs/by-ticket/T-1": {k: v for k, v in JOB.items() if k not in ("appointments", "work_orders")},
        "/v1/jobs/J-1": JOB,
        "/v1/quotes": [QUOTE],
        "/v1/invoices": [],
        "/v1/surveys": [SURVEY],
        "/v1/surveys/S-1": SURVEY,
        "/v1/survey-plan": {"questions": ["overall"], "ask_nps": True, "allow_comment": True},
        "/v1/revisits": [],
        "/v1/price-books/effective": {
            "version": 1,
            "config": {"parts": {"PUMP-W1": {"description": "drain pump"}}, "resolution_codes": {"replaced_part": []}},
        },
    }
    if request.method == "POST" and path == "/v1/tickets":
        return httpx.Response(
            422,
            json={
                "type": "urn:fixflow:problem:validation-error",
                "title": "Validation failed",
                "status": 422,
                "errors": [{"location": ["body", "contact_phone"], "message": "Value error, not a valid phone number"}],
            },
            headers={"content-type": "application/problem+json"},
        )
    if path == "/v1/jobs/J-1/fit":
        return httpx.Response(
            200,
            json={
                "job_id": "J-1",
                "technician_id": "TEC-1",
                "technician_name": "Zhang Wei",
                "start": AT,
                "end": SOON,
                "ok": False,
                "checks": [{"rule": "skills", "ok": False, "detail": "lacks gas level 2 (has 0)"}],
                "refusal": "Zhang Wei cannot take this visit: skills: lacks gas level 2 (has 0)",
            },
        )
    if path == "/v1/kpis" and "from" in request.url.params:  # insight's (intake's takes start/end)
        return httpx.Response(200, json=insight_kpis(request.url.params))
    if path in routes:
        return httpx.Response(200, json=routes[path])
    return httpx.Response(404, json={"title": "Not found", "status": 404, "detail": f"{path} on {host}"})


@pytest.fixture
async def signed_in(console, sign_in):
    async def make(lang: str = "en") -> httpx.AsyncClient:
        c = await console(timezone="UTC", board_hours=(0, 24))
        services = c.app.state.services
        await services.http.aclose()
        services.http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        for client in services.all():
            client.http = services.http
        c.headers["X-CSRF-Token"] = await sign_in(c, roles=("agent", "dispatcher", "manager"))
        c.headers["Accept-Language"] = lang
        return c

    return make


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
async def test_every_page_renders(signed_in, lang):
    c = await signed_in(lang)
    pages = {
        "/desk?q=Chen": "Chen Jing",
        "/desk/search?q=%2B8613912340077": "Chen Jing",
        "/customers/C-1": "SN123456",
        "/tickets/new?customer_id=C-1": "SN123456",
        "/tickets?status=triaged&status=scheduled": "T-1",
        "/tickets/T-1": "washer leaks",
        "/tickets/T-1/summary": "T-1",
        "/tickets/T-1/timeline": "intake",
        "/tickets/T-1/quote-actions": "Q-1",
        "/tickets/T-1/quote-form": "PUMP-W1",
        "/follow-up": "Chen Jing",
        "/follow-up/surveys/S-1": "+8613912340077",
        "/board": "Zhang Wei",
        "/board?view=week": "Zhang Wei",
        "/board/lanes": 'id="gantt"',
        "/board/move-form?job_id=J-1&appointment_id=APT-1": "Zhang Wei",
        "/board/check?job_id=J-1&technician_id=TEC-1&start=2030-01-01T10:00:00Z": "lacks gas level 2",
        "/dashboard": "kpi-data",
        "/dashboard/figures": "kpi-data",
    }
    for path, text in pages.items():
        r = await c.get(path)
        assert r.status_code == 200, (path, r.status_code, re.sub(r"\s+", " ", r.text)[-600:])
        assert text in r.text, path
    ticket = await c.get("/tickets/T-1")
    assert 'href="http://127.0.0.1:9411/zipkin/traces/4bf92f3577b34da6a3ce929d0e0e4736"' in ticket.text, "its trace"
    board = await c.get("/board")
    assert 'data-state="en_route"' in board.text and "training" in board.text, "the visit and the absence"
    assert re.search(r"fetch;dur=\d+, layout;dur=\d+, render;dur=\d+", board.headers["server-timing"])
    live = (await c.get("/board/job?job_id=J-1&view=day")).json()
    assert live["place"] == "lane" and live["technician_id"] == "TEC-1" and 'data-ticket="T-1"' in live["html"]
    dashboard = (await c.get("/dashboard")).text
    assert re.search(r'data-kpi="opened".*?data-value>3<', dashboard, re.S), "tickets opened, from insight"
    assert re.search(r'data-kpi="backlog".*?data-value>2<', dashboard, re.S), "the open backlog, from intake"
    assert re.search(r'data-kpi="first_time_fix".*?data-value>100.0 %<', dashboard, re.S)
    csv = await c.get("/dashboard/export.csv")
    assert csv.status_code == 200 and "kpi,opened,Tickets opened,3" in csv.text and "ftf=100.0 csat=100.0" in csv.text
    pdf = await c.get("/dashboard/export.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert b"STSong-Light" in pdf.content  # the CJK font (fixflow_shared.pdf): Chinese names print
    if lang == "zh-CN":
        assert "派工看板" in board.text and "工单" in (await c.get("/tickets")).text


async def test_a_refusal_shows_in_the_form_with_the_input_kept(signed_in):
    c = await signed_in()
    r = await c.post(
        "/tickets",
        data={
            "kind": "repair",
            "channel": "phone",
            "symptom": "fridge is loud",
            "contact_phone": "12345",
            "customer_id": "C-1",
        },
    )
    assert r.status_code == 422
    assert "Validation failed" in r.text and "not a valid phone number" in r.text
    assert 'aria-invalid="true" aria-describedby="err-contact_phone"' in r.text
    assert "fridge is loud" in r.text and 'value="12345"' in r.text
