"""A customer's pages over the services' answers: the ticket in plain words with the technician and
the window, the quote answered with the consent's client address, a signed link that opens one
ticket only, and the survey page with its friendly answers to a used or expired link."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from fixflow_shared import links

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC).replace(microsecond=0)
# tomorrow 10:00-12:00 (the portal shows UTC here): a window that starts after 22:00 ends the
# next day and is written with both dates, so a window relative to now failed late in the evening
START = (NOW + timedelta(days=1)).replace(hour=10, minute=0, second=0)
END = START + timedelta(hours=2)
TICKET = {
    "id": "T-1",
    "kind": "repair",
    "status": "scheduled",
    "symptom": "washer leaks",
    "customer_id": "C-1",
    "product_model": "WM-100",
    "warranty": {"status": "out_of_warranty"},
}
TIMELINE = {
    "ticket_id": "T-1",
    "events": [
        {"type": "fixflow.intake.ticket.opened.v1", "time": NOW.isoformat(), "data": {}},
        {"type": "fixflow.intake.sla.started.v1", "time": NOW.isoformat(), "data": {"clock": "first_response"}},
        {"type": "fixflow.billing.quote.accepted.v1", "time": NOW.isoformat(), "data": {}},
        {
            "type": "fixflow.dispatch.appointment.booked.v1",
            "time": NOW.isoformat(),
            "data": {"technician_name": "Zhang Wei", "window": {"start": START.isoformat(), "end": END.isoformat()}},
        },
    ],
}
QUOTE = {
    "id": "Q-1",
    "ticket_id": "T-1",
    "status": "issued",
    "currency": "CNY",
    "service_kind": "A",
    "subtotal_minor": 20000,
    "tax_minor": 0,
    "total_minor": 20000,
    "lines": [{"code": "PUMP-W1", "description": "drain pump", "quantity": 1, "amount_minor": 20000, "charged": True}],
    "issued_at": NOW.isoformat(),
    "valid_until": (NOW + timedelta(days=7)).isoformat(),
    "consent": None,
}


def ticket_world(fake: Any, problem: Any) -> None:
    fake.on("intake", "GET", "/v1/tickets/T-1", TICKET)
    fake.on("intake", "GET", "/v1/tickets/T-1/timeline", TIMELINE)
    fake.on("dispatch", "GET", "/v1/jobs/by-ticket/T-1", problem(403, "Forbidden"))
    fake.on("billing", "GET", "/v1/quotes", [QUOTE])
    fake.on("billing", "GET", "/v1/invoices", [])
    fake.on("billing", "GET", "/v1/quotes/Q-1", QUOTE)


async def test_the_ticket_in_plain_words_with_the_technician_and_the_window(portal, fake, sign_in, problem):
    ticket_world(fake, problem)
    client = await portal()
    await sign_in(client)
    page = await client.get("/tickets/T-1")
    assert page.status_code == 200, page.text[:300]
    text = page.text
    assert "A visit is booked" in text and "Zhang Wei" in text
    assert f"{START:%Y-%m-%d %H:%M}–{END:%H:%M}" in text
    assert "You accepted the quote" in text and "Visit booked:" in text
    assert "first_response" not in text and "sla" not in text.lower(), "no staff-only steps"
    assert "See and answer the quote" in text


async def test_the_same_page_in_chinese(portal, fake, sign_in, problem):
    ticket_world(fake, problem)
    client = await portal()
    await sign_in(client)
    page = await client.get("/tickets/T-1", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
    assert "A visit is booked" not in page.text and "Zhang Wei" in page.text


async def test_accepting_the_quote_records_the_consent_with_the_client_address(portal, fake, sign_in, problem):
    ticket_world(fake, problem)
    fake.on("billing", "POST", "/v1/quotes/Q-1/accept", lambda c: {**QUOTE, "status": "accepted"})
    client = await portal()
    session = await sign_in(client)
    page = await client.get("/tickets/T-1/quotes/Q-1")
    assert "Accept the quote" in page.text and "200.00 CNY" in page.text
    r = await client.post(
        "/tickets/T-1/quotes/Q-1/accept", data={"csrf_token": session.csrf, "signed_name": " Chen Jing "}
    )
    assert r.status_code == 200 and "your answer is recorded" in r.text
    [call] = fake.made("billing", "POST", "/v1/quotes/Q-1/accept")
    assert call.body == {"channel": "web", "client_address": "203.0.113.7", "signed_name": "Chen Jing"}
    assert call.claims["customer_id"] == "C-1" and call.headers["idempotency-key"]


async def test_a_decision_without_the_form_token_is_refused(portal, fake, sign_in, problem):
    ticket_world(fake, problem)
    client = await portal()
    await sign_in(client)
    r = await client.post("/tickets/T-1/quotes/Q-1/accept", data={"signed_name": "x"})
    assert r.status_code == 403 and fake.made("billing", "POST") == []


async def test_a_quote_of_another_ticket_is_not_found(portal, fake, sign_in, problem):
    ticket_world(fake, problem)
    fake.on("billing", "GET", "/v1/quotes/Q-9", {**QUOTE, "id": "Q-9", "ticket_id": "T-9"})
    client = await portal()
    await sign_in(client)
    r = await client.get("/tickets/T-1/quotes/Q-9")
    assert r.status_code == 404 and "not yours" in r.text


async def test_another_customers_ticket_is_not_found(portal, fake, sign_in, problem):
    """The service answers 404 for a ticket that is not the token's customer's; the portal says so."""
    fake.on("intake", "GET", "/v1/tickets/T-2", problem(404, "Not found", "ticket T-2"))
    client = await portal()
    await sign_in(client, who="C-2")
    r = await client.get("/tickets/T-2")
    assert r.status_code == 404 and "not yours" in r.text
    [call] = fake.made("intake", "GET", "/v1/tickets/T-2")
    assert call.claims["customer_id"] == "C-2"


async def test_pages_need_a_customer_session(portal, fake):
    client = await portal()
    r = await client.get("/tickets/T-1")
    assert r.status_code == 303 and r.headers["location"] == "/sign-in?next=%2Ftickets%2FT-1"
    assert fake.calls == []


async def test_a_signed_link_opens_its_ticket_and_nothing_else(portal, fake, problem):
    ticket_world(fake, problem)
    client = await portal()
    keys = client.app.state.link_keys
    token = links.sign(
        links.Link("acme", "C-1", "T-1", "quote", "Q-1", expires=int(time.time()) + 3600), keys.signing_key
    )
    r = await client.get(f"/l/{token}")
    assert r.status_code == 303 and r.headers["location"] == "/tickets/T-1/quotes/Q-1"
    assert (await client.get("/tickets/T-1/quotes/Q-1")).status_code == 200
    outside = await client.get("/my")
    assert outside.status_code == 403 and "Sign in to see more" in outside.text


async def test_an_expired_or_forged_link_gets_a_friendly_page(portal, fake):
    client = await portal()
    keys = client.app.state.link_keys
    old = links.sign(links.Link("acme", "C-1", "T-1", expires=int(time.time()) - 1), keys.signing_key)
    r = await client.get(f"/l/{old}")
    assert r.status_code == 410 and "<html" in r.text
    forged = old[:-4] + ("AAAA" if not old.endswith("AAAA") else "BBBB")
    r = await client.get(f"/l/{forged}")
    assert r.status_code == 404 and "<html" in r.text
    assert fake.calls == []


SURVEY = {
    "questions": ["overall", "timeliness"],
    "ask_nps": True,
    "allow_comment": True,
    "max_comment_chars": 500,
}


async def test_the_survey_page_sends_stars_nps_and_comment(portal, fake):
    fake.on("survey", "GET", "/v1/public/surveys/tok-1", SURVEY)
    fake.on("survey", "POST", "/v1/public/surveys/tok-1/answers", {"status": "completed"})
    client = await portal()
    page = await client.get("/s/tok-1")
    assert page.status_code == 200
    assert len(re.findall(r'name="score_overall"', page.text)) == 5 and 'name="nps"' in page.text
    r = await client.post(
        "/s/tok-1", data={"score_overall": "5", "score_timeliness": "4", "nps": "9", "comment": " ok "}
    )
    assert r.status_code == 200 and "Thank you for your feedback!" in r.text
    [call] = fake.made("survey", "POST")
    assert call.body == {"scores": {"overall": 5, "timeliness": 4}, "nps": 9, "comment": "ok"}
    assert "authorization" not in call.headers, "the link's token is the credential"


@pytest.mark.parametrize(
    ("status", "heading"),
    [(409, "You have already answered"), (410, "This survey has closed"), (404, "This link does not work")],
)
async def test_a_used_expired_or_broken_survey_link_gets_a_friendly_page(portal, fake, problem, status, heading):
    fake.on("survey", "GET", "/v1/public/surveys/tok-2", problem(status, "No"))
    client = await portal()
    r = await client.get("/s/tok-2")
    assert r.status_code == status and heading in r.text
    assert r.headers["content-type"].startswith("text/html")


async def test_the_service_report_is_listed_on_the_ticket_and_opens_as_a_pdf(portal, fake, sign_in, problem):
    """Dispatch makes the report when the visit completes; the ticket page lists it and the portal
    passes the PDF on for the customer's token (dispatch checks it is this customer's)."""
    ticket_world(fake, problem)
    fake.on("dispatch", "GET", "/v1/jobs/by-ticket/T-1", {"id": "J-1"})
    job = {
        "id": "J-1",
        "status": "done",
        "appointments": [],
        "work_orders": [
            {"id": "WO-1", "status": "needs_parts", "visit_number": 1, "technician_id": "TEC-1"},
            {"id": "WO-2", "status": "completed", "visit_number": 2, "technician_id": "TEC-1"},
        ],
    }
    fake.on("dispatch", "GET", "/v1/jobs/J-1", job)
    report = {"id": "AT-report-2", "work_order_id": "WO-2", "kind": "report", "media_type": "application/pdf"}
    fake.on("dispatch", "GET", "/v1/tickets/T-1/attachments", [report])
    pdf = b"%PDF-1.4 the report"
    fake.on(
        "dispatch",
        "GET",
        "/v1/attachments/AT-report-2",
        httpx.Response(200, content=pdf, headers={"content-type": "application/pdf"}),
    )
    client = await portal()
    await sign_in(client)
    page = await client.get("/tickets/T-1")
    assert page.status_code == 200
    assert "/tickets/T-1/reports/WO-2.pdf" in page.text and "/tickets/T-1/reports/WO-1.pdf" not in page.text
    [listed] = fake.made("dispatch", "GET", "/v1/tickets/T-1/attachments")
    assert listed.params == {"kind": "report"} and listed.claims["customer_id"] == "C-1"
    got = await client.get("/tickets/T-1/reports/WO-2.pdf")
    assert got.status_code == 200 and got.content == pdf and got.headers["content-type"] == "application/pdf"
    assert (await client.get("/tickets/T-1/reports/WO-1.pdf")).status_code == 404  # no report for that visit
