"""SLA badges: breach first, then at risk, then time left; paused and stopped clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.domain.sla import badge, humanise

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def clock(name: str, hours: float, **kw) -> dict:
    return {
        "ticket_id": "T",
        "name": name,
        "due_at": (NOW + timedelta(hours=hours)).isoformat(),
        "stopped_at": None,
        **kw,
    }


def test_time_left_at_risk_breached_paused_met():
    b = badge([clock("resolution", 30), clock("first_response", 2.5)], NOW)
    assert (b.state, b.clock, b.tone) == ("running", "first_response", "ok") and humanise(b.left_s) == "2 h 30 min"
    b = badge([clock("first_response", 0.5, at_risk=True), clock("resolution", 20)], NOW)
    assert (b.state, b.tone, b.clock) == ("at_risk", "warn", "first_response")
    b = badge([clock("on_site_arrival", -1.25), clock("first_response", 3)], NOW)
    assert (b.state, b.tone) == ("breached", "bad") and humanise(b.left_s) == "1 h 15 min"
    b = badge([clock("resolution", -5, paused=True)], NOW)
    assert b.state == "paused", "a clock paused while the customer is asked is not late"
    done = [clock("first_response", -3, stopped_at=NOW.isoformat(), met=True)]
    assert badge(done, NOW).state == "met"
    assert badge([{**done[0], "met": False}], NOW).state == "missed"
    assert badge([], NOW) is None


def test_humanise():
    assert humanise(59) == "0 min" and humanise(3600 * 26 + 60) == "1 d 2 h" and humanise(-600) == "10 min"
