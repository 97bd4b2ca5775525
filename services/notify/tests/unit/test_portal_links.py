"""A customer's message links to its page in the portal: signed, expiring, the quote for a quote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fixflow_shared import links
from fixflow_shared.events.contracts import billing, intake
from notify.domain import context as ctx
from notify.domain import subscriptions, templates
from notify.domain.portal_links import PortalLinks

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
KEY = b"k" * 32
PORTAL = PortalLinks("https://service.example.com/", [KEY], timedelta(days=14))


def test_a_quote_message_links_to_the_quote_for_that_customer_for_two_weeks():
    url = PORTAL.for_message(
        event_type=billing.QuoteIssued.type,
        data={"quote_id": "Q-1"},
        tenant="acme",
        customer_id="C-1",
        ticket_id="T-1",
        now=NOW,
    )
    assert url.startswith("https://service.example.com/l/")
    link = links.verify(url.rsplit("/", 1)[1], [KEY], now=NOW.timestamp())
    assert link == links.Link("acme", "C-1", "T-1", "quote", "Q-1", int((NOW + timedelta(days=14)).timestamp()))


def test_other_messages_link_to_the_ticket_and_none_without_a_customer():
    url = PORTAL.for_message(
        event_type=intake.TicketOpened.type, data={}, tenant="acme", customer_id="C-1", ticket_id="T-1", now=NOW
    )
    assert links.verify(url.rsplit("/", 1)[1], [KEY], now=NOW.timestamp()).path == "/tickets/T-1"
    kw = {"event_type": intake.TicketOpened.type, "data": {}, "tenant": "acme", "now": NOW}
    assert PORTAL.for_message(customer_id=None, ticket_id="T-1", **kw) == ""
    assert PORTAL.for_message(customer_id="C-1", ticket_id=None, **kw) == ""
    assert PORTAL.for_message(customer_id="bad id!", ticket_id="T-1", **kw) == ""


def test_the_default_templates_show_the_link_only_when_there_is_one():
    source = subscriptions.default_template("quote.issued", subscriptions.CUSTOMER, "en")
    assert source is not None
    allowed = ctx.allowed_variables(billing.QuoteIssued)
    base = {"ticket_id": "T-1", "total_minor": 12000, "currency": "CNY", "valid_until": NOW.isoformat()}
    with_link = ctx.build_context(
        base, event_type=billing.QuoteIssued.type, tenant_id="acme", allowed=allowed, portal_link="https://x/l/abc"
    )
    without = ctx.build_context(base, event_type=billing.QuoteIssued.type, tenant_id="acme", allowed=allowed)
    assert "Accept or decline online: https://x/l/abc" in templates.render(source, with_link).body
    assert "online" not in templates.render(source, without).body


def test_the_customer_is_told_the_technician_set_off_with_the_time_and_the_link():
    from fixflow_shared.events.contracts import dispatch

    assert any(r.audience == subscriptions.CUSTOMER for r in subscriptions.rules_for(dispatch.TechnicianEnRoute.type))
    allowed = ctx.allowed_variables(dispatch.TechnicianEnRoute)
    data = {
        "ticket_id": "T-1",
        "technician_name": "Wang",
        "technician_phone": "+8613800000000",
        "eta": datetime(2026, 11, 30, 6, 40, tzinfo=UTC).isoformat(),  # 14:40 in Shanghai
    }
    link = PORTAL.for_message(
        event_type=dispatch.TechnicianEnRoute.type,
        data=data,
        tenant="acme",
        customer_id="C-1",
        ticket_id="T-1",
        now=NOW,
    )
    values = ctx.build_context(
        data, event_type=dispatch.TechnicianEnRoute.type, tenant_id="acme", allowed=allowed, portal_link=link
    )
    en = templates.render(subscriptions.default_template("technician.en-route", subscriptions.CUSTOMER, "en"), values)
    assert "Wang is on the way, expected around 14:40" in en.body and f"See it online: {link}" in en.body
    zh = templates.render(
        subscriptions.default_template("technician.en-route", subscriptions.CUSTOMER, "zh-CN"), values
    )
    assert "预计 14:40 左右到达" in zh.body and link in zh.body
    # a site without coordinates: no time promised
    no_eta = ctx.build_context(
        {**data, "eta": None}, event_type=dispatch.TechnicianEnRoute.type, tenant_id="acme", allowed=allowed
    )
    plain = templates.render(
        subscriptions.default_template("technician.en-route", subscriptions.CUSTOMER, "en"), no_eta
    )
    assert "is on the way." in plain.body and "expected" not in plain.body
