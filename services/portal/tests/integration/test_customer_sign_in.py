"""A customer signs in with a one-time code sent through notify: rate-limited, expiring, single use;
the session's token names the customer (claim customer_id) and a stranger learns nothing."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration
PHONE = "+8613912340077"


def form_token(page: httpx.Response) -> str:
    m = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert m, page.text[:500]
    return m.group(1)


def knows(fake: Any, customer_id: str | None = "C-1") -> None:
    fake.on("intake", "GET", "/v1/customers", lambda c: {"items": [{"id": customer_id}] if customer_id else []})
    fake.on("notify", "POST", "/v1/sign-in-codes", {"status": "sent", "id": "code-1"})


async def ask_for_code(client: httpx.AsyncClient, contact: str = PHONE) -> httpx.Response:
    page = await client.get("/sign-in?tenant=acme")
    assert page.status_code == 200
    return await client.post(
        "/sign-in", data={"contact": contact, "tenant": "acme", "form_token": form_token(page), "next": ""}
    )


async def enter(client: httpx.AsyncClient, challenge_url: str, code: str) -> httpx.Response:
    """What the code page's form sends (the form's token from a sign-in page of this browser)."""
    page = await client.get("/sign-in?tenant=acme")
    challenge_id = challenge_url.split("c=", 1)[1].split("&", 1)[0]
    return await client.post(
        "/sign-in/code",
        data={"challenge_id": challenge_id, "code": code, "form_token": form_token(page), "next": ""},
    )


def sent_code(fake: Any) -> str:
    [call] = fake.made("notify", "POST", "/v1/sign-in-codes")
    return str(call.body["code"])


async def test_code_by_sms_signs_in_once_with_a_token_for_that_customer(portal, fake):
    knows(fake)
    client = await portal()
    r = await ask_for_code(client)
    assert r.status_code == 303 and r.headers["location"].startswith("/sign-in/code?c=")
    [lookup] = fake.made("intake", "GET", "/v1/customers")
    assert lookup.params == {"phone": PHONE} and lookup.claims["tenant"] == "acme"
    [send] = fake.made("notify", "POST", "/v1/sign-in-codes")
    assert send.body["channel"] == "sms" and send.body["to"] == PHONE and send.body["customer_id"] == "C-1"
    assert re.fullmatch(r"\d{6}", send.body["code"]) and send.body["valid_minutes"] == 10
    code = sent_code(fake)
    challenge_url = r.headers["location"]

    wrong = await enter(client, challenge_url, "000000" if code != "000000" else "111111")
    assert wrong.status_code == 422 and "That code is not right." in wrong.text
    ok = await enter(client, challenge_url, code)
    assert ok.status_code == 303 and ok.headers["location"] == "/my"
    assert "fixflow_portal" in ok.cookies

    fake.on("intake", "GET", "/v1/tickets", {"items": [], "next_cursor": None})
    my = await client.get("/my")
    assert my.status_code == 200 and "My requests" in my.text
    [listing] = fake.made("intake", "GET", "/v1/tickets")
    claims = listing.claims
    assert claims["roles"] == ["customer"] and claims["customer_id"] == "C-1" and claims["tenant"] == "acme"
    assert claims["sub"] == "customer:C-1" and claims["exp"] - claims["iat"] <= 12 * 3600
    assert listing.params["customer_id"] == "C-1"

    other = httpx.AsyncClient(transport=client._transport, base_url="http://portal.test")  # another browser
    again = await enter(other, challenge_url, code)
    assert again.status_code == 410 and "expired or was already used" in again.text, "single use"


async def test_a_stranger_gets_the_same_answer_and_no_code_is_sent(portal, fake):
    knows(fake, customer_id=None)
    client = await portal()
    r = await ask_for_code(client, "stranger@example.com")
    assert r.status_code == 303 and r.headers["location"].startswith("/sign-in/code?c=")
    [lookup] = fake.made("intake", "GET", "/v1/customers")
    assert lookup.params == {"email": "stranger@example.com"}
    assert fake.made("notify") == []
    page = await client.get(r.headers["location"])
    assert "s***@example.com" in page.text and "If s***@example.com belongs to one of our customers" in page.text
    wrong = await enter(client, r.headers["location"], "123456")
    assert wrong.status_code in (410, 422)


async def test_the_code_expires_with_its_challenge(portal, fake):
    knows(fake)
    client = await portal()
    r = await ask_for_code(client)
    challenge_id = r.headers["location"].split("c=", 1)[1]
    ttl = await client.app.state.redis.ttl("portal:code:" + challenge_id)
    assert 0 < ttl <= 600, "a code lives ten minutes"
    await client.app.state.redis.delete("portal:code:" + challenge_id)  # what the expiry does
    late = await enter(client, r.headers["location"], sent_code(fake))
    assert late.status_code == 410 and "fixflow_portal" not in late.cookies


async def test_five_wrong_codes_spend_the_code(portal, fake):
    knows(fake)
    client = await portal()
    r = await ask_for_code(client)
    code = sent_code(fake)
    wrong = "000000" if code != "000000" else "111111"
    statuses = [(await enter(client, r.headers["location"], wrong)).status_code for _ in range(4)]
    assert statuses == [422] * 4
    last = await enter(client, r.headers["location"], wrong)
    assert last.status_code == 410
    assert (await client.get(r.headers["location"])).text.count("already used") == 1


async def test_codes_are_rate_limited_per_phone_and_per_address(portal, fake):
    knows(fake)
    client = await portal(code_requests_per_contact=3, code_requests_per_address=5)
    assert [(await ask_for_code(client)).status_code for _ in range(3)] == [303] * 3
    refused = await ask_for_code(client)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "Too many tries" in refused.text
    assert len(fake.made("notify")) == 3
    other = await ask_for_code(client, "+8613912340078")  # another phone, same address: 5 a minute
    assert other.status_code == 303
    assert (await ask_for_code(client, "+8613912340079")).status_code == 429


async def test_a_form_without_its_token_is_refused(portal, fake):
    knows(fake)
    client = await portal()
    r = await client.post("/sign-in", data={"contact": PHONE, "tenant": "acme", "form_token": "forged"})
    assert r.status_code == 403 and fake.made("notify") == []


async def test_the_language_switch_is_remembered_and_returns_to_a_page_of_this_site_only(portal):
    client = await portal()
    switched = await client.get("/lang/zh-CN?next=/sign-in")
    assert switched.status_code == 303 and switched.headers["location"] == "/sign-in"
    assert "portal_lang=zh-CN" in switched.headers["set-cookie"]
    elsewhere = await client.get("/lang/en?next=//evil.example/x")
    assert elsewhere.headers["location"] == "/"
    unknown = await client.get("/lang/fr?next=/sign-in")
    assert unknown.status_code == 303 and "set-cookie" not in unknown.headers


async def test_the_page_asked_for_before_sign_in_survives_the_code_page_whole(portal, fake):
    """A `next` with its own query (`&`) was cut at the first `&` on the way to the code page."""
    knows(fake)
    client = await portal()
    page = await client.get("/sign-in?tenant=acme")
    asked = await client.post(
        "/sign-in",
        data={
            "contact": PHONE,
            "tenant": "acme",
            "form_token": form_token(page),
            "next": "/tickets?status=open&page=2",
        },
    )
    assert asked.status_code == 303
    challenge = await client.get(asked.headers["location"])
    assert (
        'value="/tickets?status=open&amp;page=2"' in challenge.text
        or 'value="/tickets?status=open&page=2"' in challenge.text
    )
