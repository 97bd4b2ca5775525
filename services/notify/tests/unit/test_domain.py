"""Pure domain rules: masking, preferences and quiet hours, delivery lifecycle, signing, context."""

from __future__ import annotations

import time as clock
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixflow_shared.events.contracts.billing import InvoiceIssued
from fixflow_shared.events.contracts.dispatch import AppointmentBooked
from notify.domain import signing
from notify.domain.context import allowed_variables, build_context, sample_context
from notify.domain.exceptions import IllegalTransition
from notify.domain.model import (
    Channel,
    Decision,
    Delivery,
    DeliveryStatus,
    Preference,
    QuietHours,
    mask_address,
    next_rate_window,
    template_name,
)


def test_masking():
    """The one masker of fixflow_shared.contacts (the same output as intake's answers and the logs)."""
    assert mask_address("li.lei@example.com", Channel.EMAIL) == "l***@example.com"
    assert mask_address("13812345678", Channel.SMS) == "138****5678"
    assert mask_address("+8613812345678", Channel.SMS) == "+86 138****5678"
    assert mask_address("https://partner.example/hooks/secret-path?k=1", Channel.WEBHOOK) == "https://partner.example/…"


@given(st.emails())
def test_masked_email_never_shows_the_local_part(addr):
    local = addr.rpartition("@")[0]
    masked = mask_address(addr, Channel.EMAIL)
    assert masked.endswith("@" + addr.rpartition("@")[2])
    # only the first character shows; a local part such as "0*" is "in" its own mask "0***" by the stars alone
    assert masked.rpartition("@")[0] == local[:1] + "***"
    assert len(local) <= 1 or "*" in local[1:] or local not in masked


@given(st.from_regex(r"[0-9]{8,15}", fullmatch=True))
def test_masked_phone_hides_the_middle(phone):
    masked = mask_address(phone, Channel.SMS)
    assert len(masked) == len(phone) and masked.count("*") >= len(phone) - 7 and masked[-4:] == phone[-4:]


@given(st.from_regex(r"\+[0-9]{8,15}", fullmatch=True))
def test_masked_international_phone_hides_the_middle(phone):
    masked = mask_address(phone, Channel.SMS)
    assert masked.startswith("+") and "*" in masked and masked[-2:] == phone[-2:]


NIGHT = QuietHours(start=time(22), end=time(8), tz="Asia/Shanghai")


def at_shanghai(h: int, m: int = 0) -> datetime:
    return datetime(2030, 3, 1, h, m, tzinfo=UTC) - timedelta(hours=8)


def test_quiet_hours_over_midnight():
    assert NIGHT.contains(at_shanghai(23)) and NIGHT.contains(at_shanghai(3)) and not NIGHT.contains(at_shanghai(12))
    assert NIGHT.ends_after(at_shanghai(23)) == at_shanghai(8) + timedelta(days=1)
    assert NIGHT.ends_after(at_shanghai(3)) == at_shanghai(8)
    assert NIGHT.ends_after(at_shanghai(12)) == at_shanghai(12)


@given(
    st.times(),
    st.times(),
    st.sampled_from(["Asia/Shanghai", "UTC", "Asia/Tokyo"]),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
)
def test_quiet_hours_end_is_the_first_moment_outside(start, end, tz, now):
    qh = QuietHours(start=start, end=end, tz=tz)
    until = qh.ends_after(now)
    if qh.contains(now):
        assert now < until <= now + timedelta(days=1)
        assert not qh.contains(until)
    else:
        assert until == now


def test_preferences():
    now = at_shanghai(23)
    p = Preference(channels=frozenset({Channel.EMAIL}), opted_out=False, quiet_hours=NIGHT)
    assert p.decide(Channel.SMS, mandatory=False, now=now) == (Decision.SKIP, None)
    assert p.decide(Channel.EMAIL, mandatory=False, now=now) == (Decision.SEND, None)  # quiet hours: SMS only
    assert p.decide(Channel.SMS, mandatory=True, now=now) == (Decision.DEFER, at_shanghai(8) + timedelta(days=1))
    out = Preference(opted_out=True)
    assert out.decide(Channel.EMAIL, mandatory=False, now=now)[0] == Decision.SKIP
    assert out.decide(Channel.EMAIL, mandatory=True, now=now)[0] == Decision.SEND  # service messages still go


def test_delivery_lifecycle():
    d = Delivery(
        id="d",
        tenant_id="t",
        ticket_id="T",
        trigger_event_id="e",
        trigger_event_type="x",
        audience="customer",
        channel=Channel.EMAIL,
        recipient="a@example.com",
        template="ticket.opened",
        template_version=0,
        locale="en",
        subject="s",
        body="b",
        created_at=datetime.now(UTC),
    )
    d.move_to(DeliveryStatus.DEFERRED)
    d.move_to(DeliveryStatus.SENT)
    with pytest.raises(IllegalTransition):
        d.move_to(DeliveryStatus.PENDING)


def test_rate_window():
    assert next_rate_window(datetime(2030, 1, 1, 10, 0, 59, tzinfo=UTC)) == datetime(2030, 1, 1, 10, 1, tzinfo=UTC)


def test_template_name():
    assert template_name("fixflow.dispatch.work-order.completed.v1") == "work-order.completed"


@given(
    st.text(min_size=1, max_size=50),
    st.binary(max_size=500),
    st.integers(min_value=1_000_000_000, max_value=4_000_000_000),
)
def test_signature_verifies_and_detects_tampering(secret, body, ts):
    sig = signing.sign(secret, ts, body)
    assert signing.verify(secret, str(ts), sig, body, now=ts)
    assert not signing.verify(secret, str(ts), sig, body + b"x", now=ts)
    assert not signing.verify(secret + "x", str(ts), sig, body, now=ts)
    assert not signing.verify(secret, str(ts + 1), sig, body, now=ts)
    assert not signing.verify(secret, str(ts), sig, body, now=ts + signing.DEFAULT_TOLERANCE_S + 1)
    assert signing.verify(secret, str(ts), "v1=old," + sig, body, now=ts)  # rotation: several values


def test_signature_known_vector():
    # A fixed vector partners can check their implementation against.
    assert signing.sign("whsec_test", 1700000000, b'{"a":1}') == (
        "v1=" + __import__("hmac").new(b"whsec_test", b'1700000000.{"a":1}', "sha256").hexdigest()
    )
    assert (
        signing.verify(
            "whsec_test", "1700000000", signing.sign("whsec_test", 1700000000, b"{}"), b"{}", now=clock.time()
        )
        is False
    )


def test_context_flattens_windows_and_money():
    allowed = allowed_variables(AppointmentBooked)
    assert {"window_start", "window_end", "technician_name", "technician_phone"} <= allowed
    ctx = build_context(
        {"ticket_id": "T", "window": {"start": "2030-01-01T02:00:00+00:00", "end": "2030-01-01T04:00:00Z"}},
        event_type=AppointmentBooked.type,
        tenant_id="t",
        allowed=allowed,
    )
    assert ctx["window_start"] == "2030-01-01 10:00" and ctx["window_end"] == "2030-01-01 12:00"
    assert ctx["technician_phone"] == ""  # absent in the event: empty, not an error
    inv = build_context({"total_minor": 12345, "currency": "CNY"}, event_type=InvoiceIssued.type, tenant_id="t")
    assert inv["total"] == "123.45"
    assert "total" in allowed_variables(InvoiceIssued) and sample_context(InvoiceIssued)["lines"]
