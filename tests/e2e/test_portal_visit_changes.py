"""The customer's visit in a real browser at phone size (390x844, Debian's Chromium driven by
Playwright) over the five services as processes, asserted on what a person sees:

1. The customer moves the booked visit to another of dispatch's offered times from the ticket page.
2. The technician sets off: the open ticket page shows the expected arrival by itself; the SMS says
   "on the way, expected around HH:MM" with a signed link that opens the same page.
3. Once the technician is on the way, moving the visit is refused on a friendly page (no JSON).

Screenshots land in .local/screenshots (docs/screenshots with FIXFLOW_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from lifecycle_kit import PORTAL_IN_MESSAGES, SITE, Fixflow, sms_texts
from playwright.sync_api import expect
from test_portal_journeys import Phone, sign_in_with_code

from fixflow_shared.testing import eventually_blocking

pytestmark = pytest.mark.e2e


def test_the_customer_moves_the_visit_then_follows_the_technician_on_the_way(
    phone_browser, portal, fixflow, sms_gateway
):
    ff = Fixflow(fixflow, f"eta-{uuid.uuid4().hex[:6]}")
    try:
        ff.technician("Zhang Wei", phone="+8613700004001", skills={"plumbing": 3})
        phone = f"+86139{uuid.uuid4().int % 10**8:08d}"
        c = ff.customer_with_asset(email=f"li.na.{ff.tenant}@example.com", phone=phone, name="Li Na")
        # the visit the customer asked for is tomorrow: well outside the notice period
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
        t = ff.open_ticket(
            {
                "kind": "repair",
                "channel": "phone",
                "symptom": "washer leaks water on the floor",
                "asset_id": c["asset_id"],
                "locale": "en",
                "requested_window": {"start": tomorrow.isoformat(), "end": (tomorrow + timedelta(hours=4)).isoformat()},
            }
        )
        job = ff.wait_job(t["id"], "assigned")
        [before] = job["appointments"]
        ff.wait_ticket(t["id"], "scheduled")

        # --- 1. the customer moves the visit to another offered time -----------------------------------
        customer = Phone(phone_browser, portal.url)
        sign_in_with_code(customer, sms_gateway, tenant=ff.tenant, phone=phone)
        page = customer.go(f"/tickets/{t['id']}")
        expect(page.locator("section.status")).to_contain_text("A visit is booked")
        page.get_by_role("link", name="Change the time").click()
        expect(page.get_by_role("heading", name="Change the time")).to_be_visible()
        choices = page.get_by_role("radio")
        expect(choices.first).to_be_visible()
        soon = datetime.now(UTC) + timedelta(hours=1)
        values = [choices.nth(i).get_attribute("value") or "" for i in range(choices.count())]
        ahead = [v for v in values if datetime.fromisoformat(v.split("|")[0]) > soon]
        booked = datetime.fromisoformat(before["window_start"])
        picked = next(v for v in ahead if datetime.fromisoformat(v.split("|")[0]) != booked)  # another time
        page.locator(f"input[type=radio][value='{picked}']").check()
        customer.shot("reschedule")
        page.get_by_role("button", name="Move the visit").click()
        page.wait_for_url(re.compile(r"moved=1"))
        expect(page.locator("section.status")).to_contain_text("A visit is booked")
        start = datetime.fromisoformat(picked.split("|")[0])

        def moved() -> dict[str, Any] | None:
            j = ff.job(t["id"])
            live = [a for a in j["appointments"] if a["status"] in ("booked", "confirmed")]
            return j if live and datetime.fromisoformat(live[0]["window_start"]) == start else None

        job = eventually_blocking(moved, timeout=20, what="the visit moved to the picked time")
        [wo] = [w for w in job["work_orders"] if w["status"] == "assigned"]

        # --- 2. the technician sets off: the open page shows the ETA by itself ----------------------------
        page = customer.go(f"/tickets/{t['id']}")
        expect(page.locator("#eta")).to_be_attached()
        texts_before = len(sms_texts(sms_gateway, phone))
        far = {"lat": SITE[0] + 0.2, "lon": SITE[1]}  # ~22 km from the customer: some 50 minutes
        set_off = ff.post("dispatch", f"/work-orders/{wo['id']}/en-route", far, **ff.as_technician(wo["id"]))
        eta = datetime.fromisoformat(set_off["eta"])
        assert set_off["eta_from"] == "position" and eta > datetime.now(UTC) + timedelta(minutes=30)
        shown = page.get_by_role("status").filter(has_text="Expected arrival")
        expect(shown).to_contain_text(f"Expected arrival: {eta.astimezone(UTC):%H:%M}", timeout=20_000)

        # the SMS: on the way, the time of day in the company's zone, the signed link to the page
        local = eta.astimezone(ZoneInfo("Asia/Shanghai"))

        def on_the_way() -> str | None:
            found = [s for s in sms_texts(sms_gateway, phone)[texts_before:] if "on the way" in s]
            return found[0] if found else None

        text = eventually_blocking(on_the_way, timeout=30, what="the on-the-way SMS")
        assert f"Zhang Wei is on the way, expected around {local:%H:%M}" in text, text
        link = text.split("See it online: ", 1)[1].split()[0]
        assert link.startswith(PORTAL_IN_MESSAGES + "/l/")
        from_sms = Phone(phone_browser, portal.url)
        page_from_sms = from_sms.go(link.removeprefix(PORTAL_IN_MESSAGES))
        expect(page_from_sms.get_by_role("status").filter(has_text="Expected arrival")).to_contain_text(
            f"{eta.astimezone(UTC):%H:%M}"
        )
        from_sms.close()

        # --- 3. on the way: moving the visit is refused on a friendly page --------------------------------
        page.reload()
        expect(page.get_by_role("link", name="Change the time")).to_have_count(0)
        expect(page.get_by_role("status").filter(has_text="Expected arrival")).to_be_visible()
        customer.shot("eta")
        page = customer.go(f"/tickets/{t['id']}/reschedule")
        expect(page.get_by_role("heading", name="The visit cannot be changed online")).to_be_visible()
        expect(page.get_by_text("Your technician is already on the way")).to_be_visible()
        customer.shot("cannot-change")
        page.get_by_role("link", name="Back to your request").click()
        expect(page.locator("section.status")).to_be_visible()
        customer.close()
    finally:
        ff.close()
