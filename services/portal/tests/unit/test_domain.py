"""The portal's pure parts: what a technician's action becomes, a customer's contact, the status in
plain words, the customer's steps (no staff-only events), the preferred window, signed links."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta

import pytest

from fixflow_shared import links
from portal.domain.contacts import NotAContact, parse_contact
from portal.domain.field_actions import BadAction, calls_for, check_key
from portal.domain.progress import latest_visit, may_change_visit, progress, steps
from portal.domain.requests import BadRequestForm, image_type, preferred_window

SIG = {"id": "sig-0123456789", "data": "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\nxx").decode()}


def test_absent_before_arriving_arrives_first_each_call_with_its_own_key():
    calls = calls_for("absent", {"note": " rang twice "}, key="k-12345678", status="en_route", max_image_bytes=10**6)
    assert [(c.path, c.key) for c in calls] == [("/arrival", "k-12345678:1"), ("/failure", "k-12345678:2")]
    assert calls[1].body == {"outcome": "customer_absent", "note": "rang twice"}
    on_site = calls_for("absent", {}, key="k-12345678", status="on_site", max_image_bytes=10**6)
    assert [c.path for c in on_site] == ["/failure"] and on_site[0].key == "k-12345678:2", "same key as before"


def test_completion_without_work_is_the_signature_image_then_the_sign_off():
    data = {"resolution_code": "repaired", "signed_by": "Chen", "signed_at": "2026-01-01T10:00:00+00:00"}
    calls = calls_for(
        "complete",
        {**data, "signature": SIG, "rating": True},
        key="k-12345678",
        status="on_site",
        max_image_bytes=10**6,
    )
    assert [c.path for c in calls] == ["/attachments?kind=signature", "/completion"]
    assert calls[0].content and calls[0].content_type == "image/png" and calls[0].body is None
    assert "rating" not in calls[1].body and "checklist" not in calls[1].body


@pytest.mark.parametrize(
    "data",
    [
        {"resolution_code": "magic", "signed_by": "x", "signed_at": "t", "signature": SIG},
        {"resolution_code": "repaired", "signed_by": " ", "signed_at": "t", "signature": SIG},
        {"resolution_code": "repaired", "signed_by": "x", "signed_at": "t", "signature": {"id": "s", "data": "x"}},
        {
            "resolution_code": "repaired",
            "signed_by": "x",
            "signed_at": "t",
            "signature": {**SIG, "data": "data:image/gif;base64,R0lG"},
        },
    ],
)
def test_a_completion_needs_a_known_resolution_a_name_and_a_picture(data):
    with pytest.raises(BadAction):
        calls_for("complete", data, key="k-12345678", status="on_site", max_image_bytes=10**6)


def test_a_signature_over_the_size_limit_is_refused():
    data = {"resolution_code": "repaired", "signed_by": "x", "signed_at": "t", "signature": SIG}
    with pytest.raises(BadAction, match="at most 4 bytes"):
        calls_for("complete", data, key="k-12345678", status="on_site", max_image_bytes=4)


def test_parts_and_keys():
    [call] = calls_for(
        "needs_parts",
        {"parts": [{"part_code": "P1", "quantity": "2"}, {"quantity": 1}]},
        key="k-12345678",
        status="on_site",
        max_image_bytes=1,
    )
    assert call.body["parts_needed"] == [{"part_code": "P1", "quantity": 2, "source": "warehouse"}]
    with pytest.raises(BadAction):
        calls_for(
            "work",
            {"parts": [{"part_code": "P1", "quantity": "two"}]},
            key="k-12345678",
            status="on_site",
            max_image_bytes=1,
        )
    with pytest.raises(BadAction):
        check_key("short")
    assert check_key("0b5c6a0e-1f7e-4d7b-9d1c-3f3b2a1e9c00") == "0b5c6a0e-1f7e-4d7b-9d1c-3f3b2a1e9c00"


def test_contacts_are_masked_and_normalised_for_limits():
    phone = parse_contact(" +86 139-1234-0077 ")
    assert phone.channel == "sms" and phone.value == "+8613912340077" and phone.field == "phone"
    assert parse_contact("139 1234 0077").value == "+8613912340077", "a number without country code is Chinese"
    assert phone.masked == "+86 139****0077"
    mail = parse_contact("Chen.Jing@Example.com")
    assert mail.channel == "email" and mail.masked == "C***@example.com" and mail.key == "chen.jing@example.com"
    for bad in ("", "hello", "a@b", "12", "x" * 300):
        with pytest.raises(NotAContact):
            parse_contact(bad)


def test_status_in_plain_words():
    assert progress({"status": "scheduled"}, None, {"status": "en_route"}).headline == "Your technician is on the way"
    waiting = progress({"status": "triaged"}, {"status": "awaiting_consent"}, None)
    assert waiting.tone == "act" and "quote" in waiting.headline
    assert progress({"status": "closed"}, {"status": "awaiting_consent"}, None).headline == "Closed"
    assert progress({"status": "something-new"}, None, None).headline == "We have your request"


def test_the_customers_steps_leave_out_what_staff_only_need():
    at = "2026-01-01T10:00:00+00:00"
    events = [
        {"type": "fixflow.intake.ticket.opened.v1", "time": at, "data": {}},
        {"type": "fixflow.intake.sla.breached.v1", "time": at, "data": {}},
        {"type": "fixflow.intake.note.added.v1", "time": at, "data": {"text": "customer is rude"}},
        {
            "type": "fixflow.billing.quote.issued.v1",
            "time": "2026-01-01T11:00:00+00:00",
            "data": {"total_minor": 12345, "currency": "CNY"},
        },
    ]
    shown = steps(events, lambda a, b: "")
    assert [s.text for s in shown] == ["We sent you a quote of {amount}", "We received your request"]
    assert shown[0].values == {"amount": "123.45 CNY"}


def test_the_visit_follows_bookings_and_moves_and_a_cancellation_clears_it():
    w1 = {"start": "2026-01-02T09:00:00+00:00", "end": "2026-01-02T11:00:00+00:00"}
    w2 = {"start": "2026-01-03T09:00:00+00:00", "end": "2026-01-03T11:00:00+00:00"}
    booked = {
        "type": "fixflow.dispatch.appointment.booked.v1",
        "time": "1",
        "data": {"technician_name": "Zhang", "window": w1},
    }
    moved = {"type": "fixflow.dispatch.appointment.rescheduled.v1", "time": "2", "data": {"window": w2}}
    assert latest_visit([moved, booked]) == {"name": "Zhang", "start": w2["start"], "end": w2["end"]}
    cancelled = {"type": "fixflow.dispatch.appointment.cancelled.v1", "time": "3", "data": {}}
    assert latest_visit([booked, cancelled]) is None


def test_a_visit_may_be_moved_until_shortly_before_it_starts():
    now = datetime(2026, 1, 1, 8, tzinfo=UTC)
    soon = {"status": "booked", "window_start": (now + timedelta(hours=1)).isoformat()}
    later = {"status": "booked", "window_start": (now + timedelta(hours=5)).isoformat()}
    assert not may_change_visit(soon, now) and may_change_visit(later, now)
    assert not may_change_visit({**later, "status": "cancelled"}, now)


def test_the_preferred_window_is_local_and_in_the_future():
    now = datetime(2026, 1, 1, 0, tzinfo=UTC)
    w = preferred_window("2026-01-02", "morning", tz="Asia/Shanghai", now=now)
    assert (
        w is not None
        and w.start == datetime(2026, 1, 2, 1, tzinfo=UTC)
        and w.end == datetime(2026, 1, 2, 4, tzinfo=UTC)
    )
    assert preferred_window("", "", tz="UTC", now=now) is None
    for day, part in (("2026-01-02", "night"), ("2025-12-30", "morning"), ("2026-06-01", "morning"), ("x", "morning")):
        with pytest.raises(BadRequestForm):
            preferred_window(day, part, tz="UTC", now=now)
    assert image_type(b"\xff\xd8\xff\xe0") == "image/jpeg" and image_type(b"GIF89a") is None
    assert image_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"


def test_signed_links_open_one_page_until_they_expire():
    key, other = b"k" * 32, b"o" * 32
    link = links.Link("acme", "C-1", "T-1", "quote", "Q-1", expires=int(time.time()) + 60)
    token = links.sign(link, key)
    assert links.verify(token, [other, key], now=time.time()) == link, "a rotated key still verifies"
    assert link.path == "/tickets/T-1/quotes/Q-1" and link.scope == "/tickets/T-1"
    with pytest.raises(links.LinkExpired):
        links.verify(token, [key], now=time.time() + 61)
    with pytest.raises(links.BadLink):
        links.verify(token, [other], now=time.time())
    payload, mac = token.split(".")
    with pytest.raises(links.BadLink):
        links.verify(payload[:-2] + "AA." + mac, [key], now=time.time())
    with pytest.raises(links.BadLink):
        links.Link("acme", "C-1", "T-1", "quote", "")  # a quote link names its quote
    with pytest.raises(links.BadLink):
        links.Link("acme", "C-1", "../T-1")
