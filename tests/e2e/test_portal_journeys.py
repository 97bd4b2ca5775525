"""The portal in a real browser at phone size (390x844, Debian's Chromium driven by Playwright) over
the five services as processes: what a customer and a technician see and do, asserted on what a
person sees. Each page's screenshot lands in .local/screenshots (docs/screenshots with
FIXFLOW_UPDATE_SCREENSHOTS=1, `make screenshots`).

1. A customer signs in with the code from the captured SMS, opens a request for an appliance out of
   warranty, sees the decision; the quote e-mail's signed link opens the quote page without a code
   (and nothing else); the customer accepts there (the consent keeps the time and the client
   address) and follows the ticket to the booked visit with the technician's name.
2. The technician sees the visit in the day's route, goes on the way and arrives; the connection
   drops; the job kind's checklist (with a photo) and the completion with the signature drawn on
   screen wait on the phone; back online they are sent by themselves: the work order is completed
   exactly once with its parts and checklist, one photo, one signature image and one service report
   (PDF), which the customer's ticket page lists and the completion e-mail announces.
3. The survey link in the captured SMS opens the portal's survey page (stars, NPS, comment); the
   same link again answers with a friendly page.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from console_kit import SCREENSHOTS
from lifecycle_kit import PORTAL_IN_MESSAGES, Fixflow, answer_url_in, email_bodies, sms_texts
from playwright.sync_api import expect

from fixflow_shared.testing import eventually_blocking

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}
# a picture for the checklist's photo (the app's own icon: a real PNG the phone makes smaller)
PHOTO = Path(__file__).resolve().parents[2] / "services/portal/src/portal/static/icon-512.png"


class Phone:
    """One person's phone: a browser context of its own at phone size."""

    def __init__(self, browser: Any, url: str, *, locale: str = "en-US") -> None:
        self.url = url
        self.context = browser.new_context(viewport=PHONE, locale=locale, is_mobile=True, has_touch=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.elsewhere: list[str] = []  # every asset comes from the portal itself
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.context.on(
            "request",
            lambda r: None if r.url.startswith((url, "data:", "blob:")) else self.elsewhere.append(r.url),
        )

    def go(self, path: str) -> Any:
        self.page.goto(self.url + path)
        return self.page

    def shot(self, name: str, *, full_page: bool = True) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"portal-{name}.png"), full_page=full_page)

    def close(self) -> None:
        assert not self.errors, f"script errors on the page: {self.errors}"
        assert not self.elsewhere, f"requests outside the portal: {self.elsewhere}"
        self.context.close()


def code_in_sms(sms_gateway: Any, phone: str, before: int) -> str:
    def find() -> str | None:
        texts = sms_texts(sms_gateway, phone)[before:]
        for text in texts:
            m = re.search(r"\b(\d{6})\b", text)
            if m and "code" in text:
                return m.group(1)
        return None

    return eventually_blocking(find, timeout=20, what="the sign-in code by SMS")


def sign_in_with_code(customer: Phone, sms_gateway: Any, *, tenant: str, phone: str) -> None:
    page = customer.go(f"/sign-in?tenant={tenant}")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    before = len(sms_texts(sms_gateway, phone))
    page.get_by_label("Mobile number or e-mail").fill(phone)
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    code = code_in_sms(sms_gateway, phone, before)
    page.get_by_label("One-time code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()


@pytest.fixture
def shop(fixflow: dict[str, Any]) -> Any:
    """A service centre: one plumber with a pump in the van, a customer whose washer is out of
    warranty, surveys sent by SMS at once."""
    ff = Fixflow(fixflow, f"por-{uuid.uuid4().hex[:6]}")
    tech = ff.technician("Zhang Wei", phone="+8613700002001", skills={"plumbing": 3}, van_stock={"PUMP-W1": 2})
    phone = f"+86139{uuid.uuid4().int % 10**8:08d}"
    c = ff.customer_with_asset(
        email=f"chen.jing.{ff.tenant}@example.com", phone=phone, name="Chen Jing", bought_days_ago=400
    )
    serial = ff.get("intake", f"/assets/{c['asset_id']}")["serial"]
    ff.survey_sends_at_once("sms")
    yield ff, tech, {**c, "phone": phone, "serial": serial, "email": f"chen.jing.{ff.tenant}@example.com"}
    ff.close()


def test_customer_signs_in_requests_accepts_the_quote_technician_completes_offline_survey_answered(
    phone_browser, portal, shop, sms_gateway, smtp_server
):
    ff, tech, c = shop
    tenant = ff.tenant
    customer = Phone(phone_browser, portal.url)

    # --- the customer: a code by SMS, a new request, the warranty decision --------------------------
    sign_in_with_code(customer, sms_gateway, tenant=tenant, phone=c["phone"])
    customer.shot("my-requests")
    page = customer.page
    page.get_by_role("link", name="New request").first.click()
    expect(page.get_by_role("heading", name="New request")).to_be_visible()
    page.get_by_label("Serial number").fill(c["serial"])
    page.get_by_label("What is wrong?").fill("the washer leaks water on the floor")
    customer.shot("new-request")
    page.get_by_role("button", name="Send request").click()
    decision = page.get_by_role("status").filter(has_text="Thank you, we have your request")
    expect(decision).to_be_visible()
    expect(decision).to_contain_text("Out of warranty")
    ticket_id = page.url.rsplit("/tickets/", 1)[1].split("?", 1)[0]
    customer.shot("ticket-new")

    # --- the office quotes; the customer accepts on the phone; the consent is recorded ------------------
    ff.wait_job(ticket_id, "awaiting_consent")
    work = {"resolution_code": "pump_replaced", "labour_minutes": 40, "parts": [{"code": "PUMP-W1", "quantity": 1}]}
    quote = ff.post("billing", "/quotes", {"ticket_id": ticket_id, "work": work})
    page.reload()
    expect(page.get_by_role("link", name="See and answer the quote")).to_be_visible()

    # the quote e-mail links to the quote page: signed, expiring, that ticket only, no code needed
    def quote_link() -> str | None:
        for subject, body in email_bodies(smtp_server.inbox.to(c["email"])):
            if "[Quote]" in subject and "Accept or decline online: " in body:
                return body.split("Accept or decline online: ", 1)[1].split()[0]
        return None

    link = eventually_blocking(quote_link, timeout=20, what="the quote e-mail with its link")
    assert link.startswith(PORTAL_IN_MESSAGES + "/l/")
    from_mail = Phone(phone_browser, portal.url)
    page = from_mail.go(link.removeprefix(PORTAL_IN_MESSAGES))
    expect(page.get_by_role("heading", name="Quote")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Total")).to_contain_text(f"{quote['total_minor'] / 100:,.2f}")
    page.get_by_label("Your name").fill("Chen Jing")
    from_mail.shot("quote")
    page.get_by_role("button", name="Accept the quote").click()
    expect(page.get_by_role("status").filter(has_text="your answer is recorded")).to_be_visible()
    outside = from_mail.go("/my")
    expect(outside.get_by_role("heading", name="Sign in to see more")).to_be_visible()
    from_mail.close()
    page = customer.page
    consent = ff.get("billing", f"/quotes/{quote['id']}")["consent"]
    assert consent["decision"] == "accepted" and consent["channel"] == "web"
    assert consent["signed_name"] == "Chen Jing" and consent["client_address"] == "127.0.0.1"
    assert consent["recorded_by"] == f"customer:{c['customer_id']}"

    # --- the visit is booked: the ticket page names the technician and the window ------------------------
    job = ff.wait_job(ticket_id, "assigned")
    wo = job["work_orders"][0]
    assert wo["technician_id"] == tech["id"]
    ff.wait_ticket(ticket_id, "scheduled")
    page.goto(f"{portal.url}/tickets/{ticket_id}")
    status = page.locator("section.status")
    expect(status).to_contain_text("A visit is booked")
    expect(status).to_contain_text("Zhang Wei")
    steps = page.get_by_role("region", name="What happened so far")
    expect(steps).to_contain_text("You accepted the quote")
    customer.shot("ticket-booked")

    # --- the technician's day: the stop in route order, on the way, arrived ----------------------------
    technician = Phone(phone_browser, portal.url)
    app = technician.go("/tech/sign-in")
    app.get_by_label("Tenant").fill(tenant)
    app.get_by_label("Technician id").fill(tech["id"])
    app.get_by_role("button", name="Sign in").click()
    expect(app.get_by_role("heading", name=re.compile("My day"))).to_be_visible()
    stops = app.get_by_role("list", name="Stops in route order")
    expect(stops.get_by_role("listitem")).to_have_count(1)
    technician.shot("tech-day")
    app.evaluate("navigator.serviceWorker.ready.then(() => true)")  # installed before the job page opens
    stops.get_by_role("link", name="Open").click()
    expect(app.get_by_role("heading", name=re.compile(ticket_id))).to_be_visible()
    app.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    app.get_by_role("button", name="On my way").click()
    expect(app.locator("#status")).to_contain_text("On the way", timeout=15_000)
    app.get_by_role("button", name="Arrived").click()
    expect(app.locator("#status")).to_contain_text("On site", timeout=15_000)
    ff.wait_ticket(ticket_id, "in_progress")

    # --- offline: the checklist with its photo and the completion with the drawn signature wait ----------
    technician.context.set_offline(True)
    expect(app.locator("#connection")).to_be_visible()
    checklist = app.get_by_role("form", name=re.compile("Checklist"))
    expect(checklist).to_contain_text("Inspection")  # Fixflow's default for a repair
    checklist.get_by_role("group", name=re.compile("Electrical safety checked")).get_by_label("Yes").check()
    checklist.get_by_role("group", name=re.compile("Appliance works after the visit")).get_by_label("Yes").check()
    checklist.get_by_label("Condition of the appliance on arrival").fill("drum full of water, pump humming")
    checklist.get_by_label("Photo after the work").set_input_files(str(PHOTO))
    expect(checklist.locator("#cl-thumbs-photo_after img")).to_have_count(1)
    checklist.evaluate("form => window.scrollTo(0, form.getBoundingClientRect().top + window.scrollY - 60)")
    technician.shot("tech-checklist", full_page=False)  # what the phone's screen shows: 390x844
    checklist.get_by_role("button", name="Save the checklist").click()
    form = app.get_by_role("form", name="Complete the visit")
    form.get_by_label("Diagnosis").fill("drain pump seal cracked")
    form.get_by_label("Labour minutes").fill("40")
    form.locator("select[name=part_code]").select_option("PUMP-W1")
    app.locator("#signature").scroll_into_view_if_needed()
    box = app.locator("#signature").bounding_box()
    assert box
    app.mouse.move(box["x"] + 30, box["y"] + 120)
    app.mouse.down()
    for i in range(1, 12):
        app.mouse.move(box["x"] + 30 + i * 25, box["y"] + 120 - (i % 4) * 20, steps=3)
    app.mouse.up()
    form.get_by_label("Name of the person who signs").fill("Chen Jing")
    form.get_by_role("button", name="Complete with signature").click()
    queue = app.get_by_role("region", name="On this phone")
    expect(queue).to_contain_text("3 waiting to be sent")  # the photo, the checklist, the completion
    # only now has the form's check run: the alert was hidden before the click too
    expect(form.get_by_role("alert")).to_be_hidden()
    technician.shot("tech-offline-queued")
    assert ff.get("dispatch", f"/work-orders/{wo['id']}")["status"] == "on_site", "nothing left the phone"

    # --- back online: sent by itself, applied once ------------------------------------------------------
    back = time.monotonic()
    technician.context.set_offline(False)
    expect(queue).to_contain_text("Everything is sent", timeout=20_000)
    print(f"the queued completion was applied {time.monotonic() - back:.2f} s after the connection came back")
    expect(app.locator("#status")).to_contain_text("Completed", timeout=15_000)
    technician.shot("tech-synced")
    done = ff.get("dispatch", f"/work-orders/{wo['id']}")
    assert done["status"] == "completed" and done["sign_off"]["signed_by"] == "Chen Jing"
    assert re.fullmatch(r"[0-9a-f]{64}", done["sign_off"]["signature_sha256"])
    assert done["parts_used"] == [{"part_code": "PUMP-W1", "quantity": 1, "source": "van_stock"}]
    assert done["labour_minutes"] == 40
    answers = done["checklist_answers"]
    assert answers["safety_checked"] is True and answers["working_after"] is True
    assert answers["condition"] == "drum full of water, pump humming"
    kept = ff.get("dispatch", f"/work-orders/{wo['id']}/attachments")
    assert sorted(a["kind"] for a in kept) == ["photo", "report", "signature"], kept  # each exactly once
    by_kind = {a["kind"]: a for a in kept}
    assert answers["photo_after"] == by_kind["photo"]["id"]
    assert done["sign_off"]["signature_attachment_id"] == by_kind["signature"]["id"]
    assert by_kind["signature"]["sha256"] == done["sign_off"]["signature_sha256"]
    assert by_kind["signature"]["media_type"] == "image/png"
    assert done["sign_off"]["service_report_id"] == by_kind["report"]["id"]
    types = ff.wait_timeline(ticket_id, "fixflow.intake.ticket.resolved.v1")
    assert types.count("fixflow.dispatch.work-order.completed.v1") == 1

    # --- the service report: on the customer's ticket page, announced in the completion e-mail -------------
    page = customer.page
    page.goto(f"{portal.url}/tickets/{ticket_id}")
    report = page.get_by_role("link", name="Service report, visit 1")
    expect(report).to_be_visible()
    pdf = page.request.get(portal.url + report.get_attribute("href"))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF-") and b"/Subtype /Image" in pdf.body()

    def report_mail() -> str | None:
        for subject, body in email_bodies(smtp_server.inbox.to(c["email"])):
            if "[Done]" in subject and "service report" in body:
                return body
        return None

    mail = eventually_blocking(report_mail, timeout=20, what="the completion e-mail naming the service report")
    assert PORTAL_IN_MESSAGES + "/l/" in mail

    # --- the survey link from the SMS opens the portal's page --------------------------------------------
    def survey_link() -> str | None:
        for text in sms_texts(sms_gateway, c["phone"]):
            if "/v1/public/surveys/" in text:
                return answer_url_in(text)
        return None

    link = eventually_blocking(survey_link, timeout=30, what="the survey SMS")
    token = link.rstrip("/").rsplit("/", 1)[1]
    survey = Phone(phone_browser, portal.url)
    page = survey.go(f"/s/{token}")
    expect(page.get_by_role("heading", name="How did we do?")).to_be_visible()
    page.get_by_role("group", name=re.compile("Overall")).locator("label[for$='-5']").click()
    nps = page.get_by_role("group", name=re.compile("recommend"))
    if nps.count():
        nps.locator("label[for='nps-9']").click()
    comment = page.get_by_label("Anything else you want to tell us?")
    if comment.count():
        comment.fill("quick and tidy")
    survey.shot("survey")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Thank you for your feedback!")).to_be_visible()
    answered = eventually_blocking(
        lambda: [s for s in ff.get("survey", "/surveys", params={"ticket_id": ticket_id}) if s.get("completed_at")],
        timeout=20,
        what="the survey answered",
    )
    assert answered
    page = survey.go(f"/s/{token}")
    expect(page.get_by_role("heading", name="You have already answered")).to_be_visible()
    survey.shot("survey-used")

    for p in (customer, technician, survey):
        p.close()


def test_an_action_queued_offline_on_a_job_reassigned_meanwhile_is_shown_not_dropped(phone_browser, portal, fixflow):
    """The technician goes on the way without a connection; meanwhile the dispatcher gives the visit
    to a colleague. Back online, the queued action is not applied: the app shows it with the reason and
    keeps it until the technician dismisses it."""
    ff = Fixflow(fixflow, f"re-{uuid.uuid4().hex[:6]}")
    try:
        ff.technician("Zhang Wei", phone="+8613700003001", skills={"plumbing": 3})
        c = ff.customer_with_asset(
            email=f"wang.fang.{ff.tenant}@example.com", phone="+8613912343001", name="Wang Fang", bought_days_ago=100
        )
        t = ff.open_ticket(
            {
                "kind": "repair",
                "channel": "phone",
                "symptom": "washer leaks water on the floor",
                "asset_id": c["asset_id"],
                "locale": "en",
            }
        )
        job = ff.wait_job(t["id"], "assigned")
        [wo], [appt] = job["work_orders"], job["appointments"]
        colleague = ff.technician("Li Qiang", phone="+8613700003002", skills={"plumbing": 3})

        technician = Phone(phone_browser, portal.url)
        app = technician.go("/tech/sign-in")
        app.get_by_label("Tenant").fill(ff.tenant)
        app.get_by_label("Technician id").fill(wo["technician_id"])
        app.get_by_role("button", name="Sign in").click()
        expect(app.get_by_role("heading", name=re.compile("My day"))).to_be_visible()
        app.evaluate("navigator.serviceWorker.ready.then(() => true)")  # installed before the job page opens
        app.goto(f"{portal.url}/tech/jobs/{wo['id']}")
        app.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null")
        technician.context.set_offline(True)
        app.get_by_role("button", name="On my way").click()
        queue = app.get_by_role("region", name="On this phone")
        expect(queue).to_contain_text("1 waiting to be sent")

        soon = datetime.now(UTC) + timedelta(minutes=10)
        offers = ff.get("dispatch", f"/jobs/{job['id']}/offers", roles="dispatcher")
        slot = next(o for o in offers if datetime.fromisoformat(o["start"]) > soon)  # a window still ahead
        ff.post(
            "dispatch",
            f"/appointments/{appt['id']}/reschedule",
            {
                "start": slot["start"],
                "end": slot["end"],
                "reason": "van broke down",
                "technician_id": colleague["id"],
            },
            roles="dispatcher",
        )
        ff.wait_job(t["id"], lambda j: any(w["technician_id"] == colleague["id"] for w in j["work_orders"]))

        technician.context.set_offline(False)
        kept = queue.locator("li[data-state=conflict]")
        expect(kept).to_contain_text("not applied", timeout=20_000)
        expect(kept).to_contain_text("reassigned to another technician")
        expect(queue.get_by_role("status")).to_contain_text("Needs your attention")
        technician.shot("tech-conflict")
        assert ff.get("dispatch", f"/work-orders/{wo['id']}")["status"] == "unassigned", "nothing applied"
        kept.get_by_role("button", name="Dismiss (I have dealt with it)").click()
        expect(queue.locator("li")).to_have_count(0)
        technician.close()
    finally:
        ff.close()


def test_a_customer_cannot_reach_another_customers_pages(phone_browser, portal, fixflow, sms_gateway):
    """Customer B, signed in with their own code, tries customer A's ticket and quote by address: the
    services answer for B's token only, so the portal says there is no such page of theirs."""
    ff = Fixflow(fixflow, f"own-{uuid.uuid4().hex[:6]}")
    try:
        a_phone, b_phone = (f"+86139{uuid.uuid4().int % 10**8:08d}" for _ in range(2))
        a = ff.customer_with_asset(
            email=f"a.{ff.tenant}@example.com", phone=a_phone, name="Chen Jing", bought_days_ago=400
        )
        ff.customer_with_asset(email=f"b.{ff.tenant}@example.com", phone=b_phone, name="Li Lei")
        t = ff.open_ticket(
            {"kind": "repair", "channel": "phone", "symptom": "leaks", "asset_id": a["asset_id"], "locale": "en"}
        )
        ff.wait_job(t["id"], "awaiting_consent")
        work = {"resolution_code": "pump_replaced", "labour_minutes": 40, "parts": []}
        quote = ff.post("billing", "/quotes", {"ticket_id": t["id"], "work": work})

        b = Phone(phone_browser, portal.url)
        sign_in_with_code(b, sms_gateway, tenant=ff.tenant, phone=b_phone)
        for path in (f"/tickets/{t['id']}", f"/tickets/{t['id']}/quotes/{quote['id']}"):
            page = b.go(path)
            expect(page.get_by_role("heading", name="Not found")).to_be_visible()
            expect(page.get_by_text("There is no such page, or it is not yours.")).to_be_visible()
            assert "Chen Jing" not in page.content() and "leaks" not in page.content()
        mine = b.go("/my")
        expect(mine.get_by_text("You have no open requests.")).to_be_visible()
        b.close()
    finally:
        ff.close()
