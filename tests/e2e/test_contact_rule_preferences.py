"""One phone rule across services: a preference saved through notify's API, under the number as a
person writes it, applies to the ticket intake opens for that customer (notify consumes intake's
ticket.opened, whose number intake stored in E.164).

Before the rule, notify keyed the preference by `13800138xxx` while intake's event carried
`+8613800138xxx`: the preference never matched and the customer was texted in their quiet hours."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
import pytest

from fixflow_shared.testing import auth_headers, eventually_blocking

pytestmark = pytest.mark.e2e


def test_quiet_hours_saved_through_notify_hold_back_the_sms_for_intakes_ticket(start_services, sms_gateway):
    svc = start_services("intake", "notify")
    intake, notify = svc["intake"], svc["notify"]
    tenant = f"pref{uuid.uuid4().hex[:6]}"
    h = auth_headers(tenant, "agent")
    national = "138" + str(uuid.uuid4().int)[:8]  # a mobile number of this test alone
    now = datetime.now(UTC)
    quiet = {
        "start": (now - timedelta(hours=1)).strftime("%H:%M"),
        "end": (now + timedelta(hours=1)).strftime("%H:%M"),
        "tz": "UTC",
    }

    # the customer asked, on the phone, not to be texted now: the agent types the number as said
    spoken = f"{national[:3]} {national[3:7]} {national[7:]}"
    r = httpx.put(notify.url + "/v1/preferences/" + quote(spoken), json={"quiet_hours": quiet}, headers=h)
    assert r.status_code == 200, r.text
    saved_as = r.json()["recipient"]

    # the ticket is opened through intake with the number written another way
    r = httpx.post(
        intake.url + "/v1/tickets",
        json={
            "kind": "consultation",
            "channel": "phone",
            "symptom": "how do I descale the washer",
            "contact_phone": f"{national[:3]}-{national[3:7]}-{national[7:]}",
            "contact_email": "zhao.min@example.com",
            "locale": "en",
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    ticket_id = r.json()["id"]

    def deliveries() -> dict[str, dict]:
        got = httpx.get(notify.url + "/v1/deliveries", params={"ticket_id": ticket_id}, headers=h).json()
        by_channel = {d["channel"]: d for d in got}
        return by_channel if {"sms", "email"} <= set(by_channel) else {}

    by_channel = eventually_blocking(deliveries, what="notify plans the acknowledgement of intake's ticket.opened")
    # the acknowledgement is a service message (it ignores opt-out), but quiet hours hold back SMS
    assert by_channel["sms"]["status"] == "deferred", (by_channel, notify.tail())
    assert by_channel["email"]["status"] in ("pending", "sent")
    assert sms_gateway.to("+86" + national) == [] and sms_gateway.to(national) == []
    # one mask: the preference and the delivery show the number the same way
    assert saved_as == by_channel["sms"]["recipient"] == f"+86 {national[:3]}****{national[-4:]}"
