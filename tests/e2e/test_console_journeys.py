"""The console in a real browser (Debian's Chromium driven by Playwright) over the five services as
processes: what an agent, a dispatcher and a manager see and do, asserted on what a person sees
(text, roles, labels). Each page's screenshot lands in docs/screenshots/ for the README.

1. An agent opens a ticket for an out-of-warranty appliance and sees the decision and the quote
   path; the dispatcher sees the job arrive in the queue without reloading, then, once the customer
   accepts the quote on the phone, on a technician's lane; drags it to another technician (the
   rules are checked and shown before committing); a drop on a technician without the skill is
   refused with the reason; the manager sees the KPI move.
2. Bad input through the forms shows the service's problem+json in place, with nothing typed lost.
3. The follow-up desk: a phone survey due, answered on the customer's behalf; a low score opens a
   complaint at once.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from console_kit import Person
from lifecycle_kit import Fixflow
from playwright.sync_api import expect

from fixflow_shared.testing import eventually_blocking

pytestmark = pytest.mark.e2e


@pytest.fixture
def shop(fixflow):
    """A service centre of its own: two plumbers, an electrician, a customer whose washer is out of warranty."""
    ff = Fixflow(fixflow, f"con-{uuid.uuid4().hex[:6]}")
    ff.technician("Zhang Wei", phone="+8613700001001", skills={"plumbing": 3, "general_repair": 3})
    ff.technician("Li Qiang", phone="+8613700001002", skills={"plumbing": 3, "general_repair": 3})
    ff.technician("Wang Lei", phone="+8613700001003", skills={"electrical": 3})
    c = ff.customer_with_asset(
        email=f"chen.jing.{ff.tenant}@example.com", phone="+8613912340077", name="Chen Jing", bought_days_ago=400
    )
    yield ff, c
    ff.close()


def drag(page, item, lane) -> None:
    """Drag a visit onto a lane at the same time of day (an unassigned job: near the lane's start).
    Live updates may be replacing the element just now: take its place once it stands on the page."""
    expect(item).to_be_visible()
    page.wait_for_function("() => Date.now() - Number(document.getElementById('board').dataset.lastUpdate || 0) > 1500")
    box = eventually_blocking(item.bounding_box, timeout=10, what="the visit on the board")
    target = lane.bounding_box()
    x = max(box["x"] - target["x"] + 2, 2) if box["x"] > target["x"] else 4
    item.drag_to(lane, target_position={"x": x, "y": target["height"] / 2})


def kpi_value(page, title: str) -> str:
    return page.get_by_role("group", name=title).locator("[data-value]").inner_text()


def test_out_of_warranty_ticket_to_the_board_live_moved_refused_and_the_kpi_moves(browser, console, shop):
    ff, c = shop
    tenant = ff.tenant
    view = "week" if datetime.now(UTC).hour >= 22 else "day"  # a visit placed near midnight lands tomorrow
    dispatcher = Person(browser, console.url, name="Zhou Min", tenant=tenant, roles=["dispatcher"])
    manager = Person(browser, console.url, name="Sun Li", tenant=tenant, roles=["manager"])
    agent = Person(browser, console.url, name="Li Na", tenant=tenant, roles=["agent"])

    board = dispatcher.go(f"/board?view={view}")
    expect(board.get_by_role("heading", name=re.compile("Dispatch board"))).to_be_visible()
    expect(board.get_by_role("list", name="Jobs waiting for a technician")).to_be_attached()
    dispatcher.live()
    dashboard = manager.go("/dashboard?days=1")
    manager.live()
    opened_before = int(kpi_value(dashboard, "Tickets opened"))

    # --- the agent: find the customer, open the ticket, read the decision -----------------------------
    desk = agent.go("/desk")
    desk.get_by_label("Phone, name or serial number").fill("+8613912340077")
    desk.get_by_role("list", name="Customers found").get_by_role("link", name="Chen Jing").click()
    expect(desk.get_by_role("heading", name=re.compile("Chen Jing"))).to_be_visible()
    appliances = desk.get_by_role("region", name="Appliances")
    expect(appliances.get_by_text("Out of warranty")).to_be_visible()
    form = desk.get_by_role("form", name="New ticket")
    form.get_by_label("Symptom").fill("washer leaks water on the floor")
    form.get_by_role("button", name="Open ticket").click()
    opened = desk.locator("#ticket-opened")
    expect(opened.get_by_role("status").filter(has_text="opened")).to_be_visible()
    ticket_id = opened.get_attribute("data-ticket-id")
    assert ticket_id
    expect(opened.locator("#warranty-status")).to_have_text("Out of warranty")
    quote_path = opened.locator("#quote-path")
    expect(quote_path).to_contain_text("No visit is booked until the customer accepts a quote")
    expect(opened.get_by_text("On-site visit")).to_be_visible()
    agent.shot("desk-new-ticket")

    # --- the dispatcher's board: the job arrives in the queue, waiting for consent, without a reload ---
    queued = board.get_by_role("list", name="Jobs waiting for a technician").locator(f'[data-ticket="{ticket_id}"]')
    expect(queued).to_contain_text("Awaiting consent", timeout=15_000)
    expect(queued).to_have_attribute("aria-disabled", "true")

    # --- the agent quotes by the fee schedule; the customer accepts on the phone ------------------------
    quote_path.get_by_role("link", name="Prepare the quote").click()
    expect(desk.get_by_role("heading", name=re.compile(f"Ticket {ticket_id}"))).to_be_visible()
    desk.get_by_role("button", name="Prepare a quote").click()
    quote_form = desk.get_by_role("form", name="Prepare a quote")
    quote_form.get_by_label("Labour minutes").fill("40")
    quote_form.get_by_role("button", name="Issue quote").click()
    notices = desk.locator("#toast")
    expect(notices).to_contain_text("Quote issued")
    answer = desk.get_by_role("form", name="Customer answer to the quote")
    expect(answer).to_be_visible(timeout=10_000)
    agent.shot("ticket-quote", full_page=True)
    answer.get_by_role("button", name="Customer accepts").click()
    expect(notices).to_contain_text("The customer accepted the quote")

    # --- the board: the visit appears on a technician's lane without a reload ---------------------------
    bar = board.locator(f'.lane [data-ticket="{ticket_id}"][role="button"]')
    expect(bar).to_be_visible(timeout=20_000)
    expect(queued).to_have_count(0)
    first = bar.locator("xpath=..").get_attribute("data-tech-name")
    assert first in ("Zhang Wei", "Li Qiang"), first
    other = "Li Qiang" if first == "Zhang Wei" else "Zhang Wei"
    dispatcher.shot("board")

    # --- drag it to the other plumber: the rule check first, then commit ------------------------------
    drag(board, bar, board.get_by_label(other, exact=True))
    dialog = board.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Rule check before committing")).to_be_visible()
    rules = dialog.get_by_role("list", name="Rules")
    expect(rules.get_by_role("listitem").filter(has_text="Skills")).to_contain_text("passes")
    expect(rules.get_by_role("listitem").first).to_be_visible()
    assert rules.get_by_role("listitem").filter(has_text="fails").count() == 0, rules.inner_text()
    dialog.get_by_role("button", name="Commit").click()
    expect(dialog.get_by_text("Committed")).to_be_visible()
    moved = board.get_by_label(other, exact=True).locator(f'[data-ticket="{ticket_id}"]')
    expect(moved).to_be_visible(timeout=15_000)
    dialog.get_by_role("button", name="Close").click()
    assert ff.job(ticket_id)["work_orders"][-1]["technician_id"] != ""

    # --- a drop on the electrician breaks the skills rule: refused, with the reason ---------------------
    drag(board, moved, board.get_by_label("Wang Lei", exact=True))
    expect(dialog.get_by_role("heading", name="Rule check before committing")).to_be_visible()
    refusal = dialog.get_by_role("alert")
    expect(refusal).to_contain_text("Wang Lei cannot take this visit")
    expect(refusal).to_contain_text(re.compile(r"skills: lacks \w+ level \d"))
    expect(dialog.get_by_role("button", name="Commit")).to_have_count(0)
    dispatcher.shot("board-refused")
    dialog.get_by_role("button", name="Close").click()
    expect(board.get_by_label(other, exact=True).locator(f'[data-ticket="{ticket_id}"]')).to_be_visible()
    live = [w for w in ff.job(ticket_id)["work_orders"] if w["status"] == "assigned"]
    assert len(live) == 1, "the refused drop changed nothing"

    # --- the same by keyboard: Enter on a focused visit opens the move dialog ------------------------
    visit = board.get_by_label(other, exact=True).locator(f'[data-ticket="{ticket_id}"]')
    visit.focus()
    board.keyboard.press("Enter")
    expect(dialog.get_by_role("heading", name="Move a visit")).to_be_visible()
    dialog.get_by_label("Technician").select_option(label="Wang Lei")
    dialog.get_by_role("button", name="Check the rules").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Wang Lei cannot take this visit")
    dialog.get_by_role("button", name="Close").click()

    # --- the optimiser from the board: before and after -------------------------------------------
    board.get_by_role("button", name="Run optimiser").click()
    figures = board.get_by_role("table", name="Before and after")
    expect(figures).to_contain_text("Waiting for a technician")

    # --- the manager's dashboard moved without a reload ----------------------------------------------
    expect(dashboard.get_by_role("group", name="Tickets opened").locator("[data-value]")).to_have_text(
        str(opened_before + 1), timeout=15_000
    )
    expect(dashboard.locator('[data-chart="backlog"][data-drawn="true"]')).to_be_visible()
    manager.shot("dashboard")
    exported = dashboard.request.get(console.url + "/dashboard/export.csv?days=1")
    assert exported.ok and exported.headers["content-type"].startswith("text/csv")
    assert f"kpi,opened,Tickets opened,{opened_before + 1}" in exported.text()
    pdf = dashboard.request.get(console.url + "/dashboard/export.pdf?days=1")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")

    for p in (agent, dispatcher, manager):
        p.close()


def test_bad_input_shows_the_services_problem_in_place_and_keeps_what_was_typed(browser, console, shop):
    ff, c = shop
    agent = Person(browser, console.url, name="Li Na", tenant=ff.tenant, roles=["agent", "dispatcher"])
    page = agent.go(f"/tickets/new?customer_id={c['customer_id']}")
    form = page.get_by_role("form", name="New ticket")
    form.get_by_label("Symptom").fill("fridge makes a loud noise at night")
    form.get_by_label("Contact phone").fill("12345")  # the browser lets it through; intake does not
    form.get_by_role("button", name="Open ticket").click()
    problem = form.get_by_role("alert")
    expect(problem).to_contain_text("Validation failed")
    expect(problem).to_contain_text("contact_phone")
    expect(form.get_by_label("Contact phone")).to_have_accessible_description(re.compile("not a valid phone number"))
    expect(form.get_by_label("Contact phone")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Symptom")).to_have_value("fridge makes a loud noise at night")
    expect(form.get_by_label("Contact phone")).to_have_value("12345")
    agent.shot("problem-in-place")

    board = agent.go("/board")
    absence = board.get_by_role("form", name="Record an absence")
    absence.get_by_label("Technician").select_option(label="Zhang Wei")
    absence.get_by_label("From").fill("2030-01-02T12:00")
    absence.get_by_label("Until").fill("2030-01-02T09:00")
    absence.get_by_label("Reason").fill("dentist")
    absence.get_by_role("button", name="Record absence").click()
    expect(absence.get_by_role("alert")).to_contain_text("an absence must end after it starts")
    expect(absence.get_by_label("Reason")).to_have_value("dentist")
    agent.close()

    # the same console in Chinese, for a browser that prefers it
    zh = Person(
        browser, console.url, name="李娜", tenant=ff.tenant, roles=["agent", "dispatcher"], locale="zh-CN", lang="zh-CN"
    )
    page = zh.go("/board")
    expect(page.get_by_role("heading", name=re.compile("派工看板"))).to_be_visible()
    expect(page.get_by_role("link", name="工单")).to_be_visible()
    zh.shot("board-zh")
    zh.close()


def test_follow_up_call_records_answers_and_a_low_score_opens_a_complaint(browser, console, shop):
    ff, c = shop
    ff.survey_sends_at_once(channel="phone")
    t = ff.open_ticket(
        {
            "kind": "repair",
            "channel": "phone",
            "symptom": "dryer does not heat",
            "customer_id": c["customer_id"],
            "asset_id": c["asset_id"],
        }
    )
    assert t["status"] == "triaged", t
    ff.post("intake", f"/tickets/{t['id']}/resolve", {"reason": "fixed on the phone"})
    # the survey is due for its call once sent (a scheduled one is refused answers: 409)
    eventually_blocking(
        lambda: [s for s in ff.get("survey", "/surveys", params={"ticket_id": t["id"]}) if s["status"] == "sent"],
        timeout=30,
        what="the ticket's survey sent (due for its call)",
    )

    agent = Person(browser, console.url, name="Li Na", tenant=ff.tenant, roles=["agent"])
    page = agent.go("/follow-up")
    surveys = page.get_by_role("table", name="Satisfaction surveys due")
    row = surveys.get_by_role("row").filter(has_text=t["id"])
    expect(row).to_contain_text("Phone")
    agent.shot("follow-up")
    row.get_by_role("link", name="Call").click()
    expect(page.get_by_role("heading", name="Follow-up call")).to_be_visible()
    expect(page.get_by_text("+8613912340077")).to_be_visible()
    form = page.get_by_role("form", name="Survey answers")
    for question in ("Timeliness", "Professionalism", "Attitude", "Effectiveness", "Overall"):
        form.get_by_role("group", name=question).get_by_label("1", exact=True).check()
    form.get_by_label("Would recommend us (0–10)").fill("0")
    form.get_by_label("Comment, praise or complaint in the customer's words").fill("still broken, nobody came")
    agent.shot("follow-up-call")
    form.get_by_role("button", name="Record answers").click()
    expect(page.get_by_role("alert")).to_contain_text("a complaint is opened")

    def complaint() -> list[dict]:
        items = ff.get("intake", "/tickets", params={"kind": "complaint", "customer_id": c["customer_id"]})["items"]
        return [x for x in items if x.get("original_ticket_id") == t["id"]]

    eventually_blocking(complaint, timeout=30, what="the complaint opened from the low score")
    agent.close()
