"""SLA attainment recomputed by insight from intake's events equals intake's live clocks for the
same period: clocks met, missed, breached and still running, per clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest

from fixflow_shared.testing import auth_headers, eventually_blocking

pytestmark = pytest.mark.e2e


def test_sla_attainment_from_events_equals_intakes_live_clocks(start_services):
    svc = start_services("intake", "insight")
    intake, insight = svc["intake"].url + "/v1", svc["insight"].url + "/v1"
    tenant = "t-sla-" + uuid.uuid4().hex[:6]
    h = auth_headers(tenant, "agent,manager")
    settings = {
        "calendar": {"tz": "UTC", "working_hours": None, "weekdays": [0, 1, 2, 3, 4, 5, 6]},
        # first response due 10.8 s after opening: tickets answered at once meet it, the others breach
        "sla": {"targets": {"first_response": {p: 0.003 for p in ("P1", "P2", "P3", "P4")}}},
    }
    assert httpx.put(f"{intake}/settings", json=settings, headers=h).status_code == 200

    def open_ticket(i: int) -> str:
        body = {
            "kind": "consultation",
            "channel": "web",
            "symptom": f"question {i} {uuid.uuid4().hex}",
            "contact_email": "a@example.com",
        }
        r = httpx.post(f"{intake}/tickets", json=body, headers=h)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def resolve(ticket: str) -> None:
        r = httpx.post(f"{intake}/tickets/{ticket}/resolve", json={"reason": "answered"}, headers=h)
        assert r.status_code == 200, r.text

    fast = [open_ticket(i) for i in range(2)]
    for t in fast:
        resolve(t)  # at once: first response and resolution met (unless the machine stalls for 10 s)
    slow = [open_ticket(i) for i in range(2, 5)]

    def breached(ticket: str) -> bool:
        details = httpx.get(f"{intake}/tickets/{ticket}/details", headers=h).json()
        return {c["name"]: c for c in details["sla_clocks"]}["first_response"]["breached_raised"]

    eventually_blocking(lambda: all(breached(t) for t in slow), timeout=60, what="first responses breached")
    resolve(slow[0])  # late: first response missed, resolution met
    resolve(slow[1])
    cancelled = httpx.post(f"{intake}/tickets/{slow[2]}/cancel", json={"reason": "duplicate"}, headers=h)
    assert cancelled.status_code == 200  # void clocks: no verdict, but the breach counts

    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=1), today + timedelta(days=2)
    live = httpx.get(
        f"{intake}/kpis",
        params={
            "start": datetime.combine(start, time(), UTC).isoformat(),
            "end": datetime.combine(end, time(), UTC).isoformat(),
        },
        headers=h,
    ).json()["sla"]
    for clock in live.values():
        clock.pop("on_time_rate")
    # the slow three breached; the fast two met their target unless the machine stalled (then they
    # breached too: the comparison below holds either way)
    assert live["first_response"]["measured"] == 4 and live["first_response"]["breached"] >= 3
    assert live["first_response"]["met"] == 5 - live["first_response"]["breached"]
    assert live["resolution"] == {"met": 4, "measured": 4, "breached": 0}

    def recomputed() -> dict:
        got = httpx.get(f"{insight}/sla", params={"from": start.isoformat(), "to": end.isoformat()}, headers=h).json()
        out = {
            k: {"met": v["met"], "measured": v["measured"], "breached": v["breached"]} for k, v in got["sla"].items()
        }
        return out if out == live else {}

    assert eventually_blocking(recomputed, timeout=30, what="insight caught up") == live
