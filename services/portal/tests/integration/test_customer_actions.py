"""What a customer changes: a new request (appliance or serial, window, photos as attachments), the
visit moved to one of dispatch's offered times, the request cancelled, and the invoice as PDF."""

from __future__ import annotations

import hashlib
import struct
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC).replace(microsecond=0)
LATER = NOW + timedelta(days=2)
TICKET = {"id": "T-1", "kind": "repair", "status": "scheduled", "symptom": "leaks", "customer_id": "C-1"}
APPOINTMENT = {
    "id": "AP-1",
    "status": "booked",
    "visit_number": 1,
    "window_start": (NOW + timedelta(days=1)).isoformat(),
    "window_end": (NOW + timedelta(days=1, hours=2)).isoformat(),
}
JOB = {"id": "J-1", "status": "scheduled", "appointments": [APPOINTMENT], "work_orders": []}
OFFER = {"start": LATER.isoformat(), "end": (LATER + timedelta(hours=2)).isoformat()}


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def world(fake: Any) -> None:
    fake.on("intake", "GET", "/v1/tickets/T-1", TICKET)
    fake.on("dispatch", "GET", "/v1/jobs/by-ticket/T-1", {"id": "J-1"})
    fake.on("dispatch", "GET", "/v1/jobs/J-1", JOB)
    fake.on("dispatch", "GET", "/v1/jobs/J-1/offers", [OFFER])
    fake.on("intake", "GET", "/v1/assets", {"items": [{"id": "A-1", "serial": "SN-1", "customer_id": "C-1"}]})


async def test_a_new_request_with_a_serial_of_ones_own_appliance_and_a_photo(portal, fake, sign_in):
    world(fake)
    fake.on("intake", "POST", "/v1/tickets", lambda c: httpx.Response(201, json={**TICKET, "id": "T-9"}))
    client = await portal()
    session = await sign_in(client)
    form = await client.get("/requests/new")
    assert form.status_code == 200 and "SN-1" in form.text
    picture = png()
    r = await client.post(
        "/requests",
        data={"csrf_token": session.csrf, "kind": "repair", "serial": "SN-1", "symptom": " leaks under the door "},
        files={"photos": ("leak.png", picture, "image/png")},
    )
    assert r.status_code == 303 and r.headers["location"] == "/tickets/T-9?new=1"
    [call] = fake.made("intake", "POST", "/v1/tickets")
    assert call.body["asset_id"] == "A-1" and call.body["symptom"] == "leaks under the door"
    assert call.body["customer_id"] == "C-1" and call.body["channel"] == "web" and call.body["locale"] == "en"
    assert call.body["attachments"] == [
        {
            "name": "leak.png",
            "content_type": "image/png",
            "size_bytes": len(picture),
            "sha256": hashlib.sha256(picture).hexdigest(),
        }
    ]


async def test_a_request_without_appliance_or_with_a_fake_photo_is_shown_again_with_the_reasons(portal, fake, sign_in):
    world(fake)
    client = await portal()
    session = await sign_in(client)
    r = await client.post(
        "/requests",
        data={"csrf_token": session.csrf, "kind": "repair", "symptom": "x"},
        files={"photos": ("leak.png", b"MZ not a picture", "image/png")},
    )
    assert r.status_code == 422
    assert "Choose your appliance or type its serial number." in r.text
    assert "Photos must be JPEG, PNG or WebP pictures." in r.text
    assert fake.made("intake", "POST") == []


async def test_the_visit_moves_to_an_offered_time(portal, fake, sign_in):
    world(fake)
    fake.on("dispatch", "POST", "/v1/appointments/AP-1/reschedule", {**APPOINTMENT, **{"window_start": OFFER["start"]}})
    client = await portal()
    session = await sign_in(client)
    page = await client.get("/tickets/T-1/reschedule")
    assert page.status_code == 200 and f'value="{OFFER["start"]}|{OFFER["end"]}"' in page.text
    r = await client.post(
        "/tickets/T-1/reschedule", data={"csrf_token": session.csrf, "slot": f"{OFFER['start']}|{OFFER['end']}"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/tickets/T-1?moved=1"
    [call] = fake.made("dispatch", "POST", "/v1/appointments/AP-1/reschedule")
    assert call.body == {"start": OFFER["start"], "end": OFFER["end"], "reason": "customer_request"}


async def test_a_refused_move_is_shown_in_place(portal, fake, sign_in, problem):
    world(fake)
    fake.on(
        "dispatch", "POST", "/v1/appointments/AP-1/reschedule", problem(422, "No technician", "nobody is free then")
    )
    client = await portal()
    session = await sign_in(client)
    r = await client.post(
        "/tickets/T-1/reschedule", data={"csrf_token": session.csrf, "slot": f"{OFFER['start']}|{OFFER['end']}"}
    )
    assert r.status_code == 422 and "nobody is free then" in r.text and "Move the visit" in r.text


async def test_too_late_says_so_in_the_customers_words_on_a_page_not_json(portal, fake, sign_in, problem):
    world(fake)
    fake.on(
        "dispatch",
        "POST",
        "/v1/appointments/AP-1/reschedule",
        problem(409, "Too late to change the visit online", "until 2 hours before it starts"),
    )
    client = await portal()
    session = await sign_in(client)
    r = await client.post(
        "/tickets/T-1/reschedule", data={"csrf_token": session.csrf, "slot": f"{OFFER['start']}|{OFFER['end']}"}
    )
    assert r.status_code == 409 and r.headers["content-type"].startswith("text/html")
    assert "The visit cannot be changed online" in r.text and "less than 2 hours" in r.text
    assert "Back to your request" in r.text


async def test_once_the_technician_set_off_moving_and_cancelling_are_refused_politely(portal, fake, sign_in):
    world(fake)
    on_the_way = {**JOB, "work_orders": [{"id": "WO-1", "status": "en_route", "visit_number": 1}]}
    fake.on("dispatch", "GET", "/v1/jobs/J-1", on_the_way)
    client = await portal()
    session = await sign_in(client)
    page = await client.get("/tickets/T-1")
    assert "Change the time" not in page.text and "Cancel the request" not in page.text
    for r in (
        await client.get("/tickets/T-1/reschedule"),
        await client.get("/tickets/T-1/cancel"),
        await client.post("/tickets/T-1/cancel", data={"csrf_token": session.csrf, "reason": "changed my mind"}),
        await client.post(
            "/tickets/T-1/reschedule", data={"csrf_token": session.csrf, "slot": f"{OFFER['start']}|{OFFER['end']}"}
        ),
    ):
        assert r.status_code == 409 and "already on the way" in r.text, r.text[:300]
        assert r.headers["content-type"].startswith("text/html")
    assert fake.made("dispatch", "POST") == [] and fake.made("intake", "POST") == []


async def test_in_the_notice_period_before_the_visit_it_is_refused_in_chinese_too(portal, fake, sign_in):
    world(fake)
    soon = {**APPOINTMENT, "window_start": (NOW + timedelta(minutes=50)).isoformat()}
    fake.on("dispatch", "GET", "/v1/jobs/J-1", {**JOB, "appointments": [soon]})
    client = await portal()
    await sign_in(client)
    r = await client.get("/tickets/T-1/cancel")
    assert r.status_code == 409 and "less than 2 hours" in r.text
    client.cookies.set("portal_lang", "zh-CN")
    zh = await client.get("/tickets/T-1/reschedule")
    assert zh.status_code == 409 and "距上门时间已不足 2 小时" in zh.text


async def test_cancelling_the_request(portal, fake, sign_in):
    world(fake)
    fake.on("intake", "POST", "/v1/tickets/T-1/cancel", {**TICKET, "status": "cancelled"})
    fake.on("dispatch", "POST", "/v1/appointments/AP-1/cancel", {**APPOINTMENT, "status": "cancelled"})
    client = await portal()
    session = await sign_in(client)
    assert "Cancel the request" in (await client.get("/tickets/T-1/cancel")).text
    r = await client.post("/tickets/T-1/cancel", data={"csrf_token": session.csrf, "reason": " moved house "})
    assert r.status_code == 303 and r.headers["location"] == "/tickets/T-1"
    # the booked visit first (dispatch applies the rules), then the request, each with the reason
    [visit] = fake.made("dispatch", "POST", "/v1/appointments/AP-1/cancel")
    assert visit.body == {"reason": "customer_request", "detail": "moved house"}
    [call] = fake.made("intake", "POST", "/v1/tickets/T-1/cancel")
    assert call.body == {"reason": "moved house"}


async def test_the_invoice_as_pdf_only_under_its_own_ticket(portal, fake, sign_in):
    world(fake)
    fake.on("billing", "GET", "/v1/invoices/INV-1", {"id": "INV-1", "ticket_id": "T-1", "number": "INV-2026-000001"})
    fake.on("billing", "GET", "/v1/invoices/INV-2", {"id": "INV-2", "ticket_id": "T-2", "number": "INV-2026-000002"})
    fake.on(
        "billing",
        "GET",
        "/v1/invoices/INV-1/pdf",
        httpx.Response(200, content=b"%PDF-1.4 ...", headers={"content-type": "application/pdf"}),
    )
    client = await portal()
    await sign_in(client)
    r = await client.get("/tickets/T-1/invoices/INV-1.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF") and r.headers["cache-control"] == "private, no-store"
    assert 'filename="INV-2026-000001.pdf"' in r.headers["content-disposition"]
    assert (await client.get("/tickets/T-1/invoices/INV-2.pdf")).status_code == 404


async def test_receipts_are_listed_and_open_as_pdf_only_under_their_invoices_ticket(portal, fake, sign_in, problem):
    world(fake)
    paid = {
        "id": "INV-1",
        "ticket_id": "T-1",
        "number": "INV-2026-000001",
        "status": "paid",
        "currency": "CNY",
        "total_minor": 12000,
        "payments": [{"receipt_number": "R-INV-2026-000001-01", "amount_minor": 12000, "method": "cash"}],
    }
    fake.on("intake", "GET", "/v1/tickets/T-1/timeline", {"ticket_id": "T-1", "events": []})
    fake.on("billing", "GET", "/v1/quotes", [])
    fake.on("billing", "GET", "/v1/invoices", [paid])
    fake.on("billing", "GET", "/v1/invoices/INV-1", paid)
    fake.on("billing", "GET", "/v1/invoices/INV-2", {**paid, "id": "INV-2", "ticket_id": "T-2"})
    fake.on("billing", "GET", "/v1/invoices/INV-3", problem(404, "Not found", "invoice INV-3"))  # another's
    fake.on(
        "billing",
        "GET",
        "/v1/invoices/INV-1/receipts/R-INV-2026-000001-01/pdf",
        httpx.Response(200, content=b"%PDF-1.4 receipt", headers={"content-type": "application/pdf"}),
    )
    client = await portal()
    await sign_in(client)
    page = await client.get("/tickets/T-1")
    link = "/tickets/T-1/invoices/INV-1/receipts/R-INV-2026-000001-01.pdf"
    assert page.status_code == 200 and link in page.text and "Receipt R-INV-2026-000001-01" in page.text
    r = await client.get(link)
    assert r.status_code == 200 and r.content.startswith(b"%PDF") and r.headers["cache-control"] == "private, no-store"
    assert 'filename="R-INV-2026-000001-01.pdf"' in r.headers["content-disposition"]
    for other in ("/tickets/T-1/invoices/INV-2/receipts/R-1.pdf", "/tickets/T-1/invoices/INV-3/receipts/R-1.pdf"):
        denied = await client.get(other)
        assert denied.status_code == 404 and not denied.content.startswith(b"%PDF")
    assert not fake.made("billing", "GET", "/v1/invoices/INV-2/receipts/R-1/pdf")


async def test_the_ticket_page_asks_for_the_eta_while_the_visit_is_ahead_and_shows_it_once_on_the_way(
    portal, fake, sign_in
):
    world(fake)
    assigned = {"id": "WO-1", "status": "assigned", "visit_number": 1, "eta": None}
    fake.on("dispatch", "GET", "/v1/jobs/J-1", {**JOB, "work_orders": [assigned]})
    fake.on("intake", "GET", "/v1/tickets/T-1/timeline", {"ticket_id": "T-1", "events": []})
    fake.on("billing", "GET", "/v1/quotes", [])
    fake.on("billing", "GET", "/v1/invoices", [])
    client = await portal()
    await sign_in(client)
    page = await client.get("/tickets/T-1")
    assert 'hx-get="/tickets/T-1/eta"' in page.text and "Expected arrival" not in page.text
    waiting = await client.get("/tickets/T-1/eta")
    assert 'hx-get="/tickets/T-1/eta"' in waiting.text and "Expected arrival" not in waiting.text
    eta = NOW + timedelta(minutes=37)
    on_the_way = {**assigned, "status": "en_route", "eta": eta.isoformat()}
    fake.on("dispatch", "GET", "/v1/jobs/J-1", {**JOB, "work_orders": [on_the_way]})
    moving = await client.get("/tickets/T-1/eta")
    assert f"Expected arrival: {eta:%H:%M}" in moving.text and 'hx-get="/tickets/T-1/eta"' in moving.text
    fake.on("dispatch", "GET", "/v1/jobs/J-1", {**JOB, "work_orders": [{**on_the_way, "status": "on_site"}]})
    there = await client.get("/tickets/T-1/eta")
    assert "hx-get" not in there.text and "reload the page" in there.text
