"""Sign-in, sessions and CSRF, with the console in-process against real Redis."""

from __future__ import annotations

import json

import pytest
from fastapi.routing import APIRoute

from console.bootstrap import ROUTERS
from console.entrypoints.web import COOKIE, LOGIN_CSRF_COOKIE

pytestmark = pytest.mark.integration
PREFIX = "console:session:"  # where the console keeps its sessions in Redis


async def test_pages_need_a_session_and_come_back_after_sign_in(console, sign_in):
    c = await console()
    r = await c.get("/tickets?status=triaged")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Ftickets%3Fstatus%3Dtriaged"
    htmx = await c.get("/tickets", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login?next=")
    page = await c.get("/login?next=/tickets")
    assert 'name="next" value="/tickets"' in page.text and "Development sign-in" in page.text
    await sign_in(c, roles=("agent", "dispatcher"))
    assert COOKIE in c.cookies
    cookie = next(v for k, v in c.cookies.items() if k == COOKIE)
    assert len(cookie) > 30, "an opaque random session id, nothing readable"


async def test_sign_in_form_is_protected_and_checked(console):
    c = await console()
    await c.get("/login")
    r = await c.post("/login/dev", data={"tenant": "acme", "roles": ["agent"], "csrf_token": "forged"})
    assert r.status_code == 403 and "expired" in r.text

    def token_of(page) -> str:  # each rendering of the form carries a fresh token (and cookie)
        return page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    r = await c.post("/login/dev", data={"tenant": "acme", "roles": ["customer"], "csrf_token": token_of(r)})
    assert r.status_code == 422 and "Choose at least one role" in r.text, "the console is for staff only"
    r = await c.post("/login/dev", data={"tenant": "ACME corp!", "roles": ["agent"], "csrf_token": token_of(r)})
    assert r.status_code == 422 and "lower-case letters" in r.text
    r = await c.post(
        "/login/dev", data={"tenant": "acme", "roles": ["agent"], "csrf_token": token_of(r), "next": "//evil.test/x"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/desk", "no open redirect"


async def test_every_unsafe_route_refuses_a_request_without_the_sessions_csrf_token(console, sign_in):
    c = await console()
    csrf = await sign_in(c, roles=("agent", "dispatcher", "manager"))
    unsafe = [
        r.path
        for router in ROUTERS
        for r in router.routes
        if isinstance(r, APIRoute) and r.methods & {"POST", "PUT", "PATCH", "DELETE"} and r.path != "/login/dev"
    ]
    assert len(unsafe) >= 12, unsafe
    for path in unsafe:
        url = (
            path.replace("{ticket_id}", "T-1")
            .replace("{quote_id}", "Q-1")
            .replace("{survey_id}", "S-1")
            .replace("{revisit_id}", "R-1")
        )
        r = await c.post(url, data={"csrf_token": "wrong"})
        assert r.status_code == 403 and "Form expired" in r.text, (path, r.status_code)
        r = await c.post(url, headers={"X-CSRF-Token": csrf[:-2] + "xx"})
        assert r.status_code == 403, path
    # with the token, the request reaches the page (which then finds no service to ask: 502, not 403)
    ok = await c.post("/tickets/T-1/notes", data={"body": "called back"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 502 and "intake" in ok.text


async def test_a_session_ends_on_sign_out_when_idle_and_at_its_lifetime(console, sign_in):
    c = await console()
    csrf = await sign_in(c)
    redis = c.app.state.redis
    sid = next(v for k, v in c.cookies.items() if k == COOKIE)
    assert await redis.ttl(PREFIX + sid) > 0, "the idle timer runs in Redis"
    # idle too long: the key is gone
    await redis.delete(PREFIX + sid)
    r = await c.get("/desk")
    assert r.status_code == 303 and "expired=1" in r.headers["location"]
    assert "Your session has ended" in (await c.get(r.headers["location"])).text
    # at its absolute lifetime (or the token's expiry) even an active session ends
    csrf = await sign_in(c)
    sid = next(v for k, v in c.cookies.items() if k == COOKIE)
    stored = json.loads(await redis.get(PREFIX + sid))
    await redis.set(PREFIX + sid, json.dumps({**stored, "expires_at": stored["created_at"] - 1}), ex=600)
    assert (await c.get("/desk")).status_code == 303
    # sign-out deletes it
    csrf = await sign_in(c)
    sid = next(v for k, v in c.cookies.items() if k == COOKIE)
    r = await c.post("/logout", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert await redis.get(PREFIX + sid) is None


async def test_signing_in_again_ends_the_session_the_browser_held(console, sign_in):
    """A second sign-in in the same browser (another tab's form, another account) replaces the session:
    the old cookie's session is deleted, not left valid until it expires."""
    first = await console()
    await sign_in(first, name="Li Na")
    old = first.cookies[COOKIE]
    redis = first.app.state.redis
    assert await redis.get(PREFIX + old) is not None
    # The same browser: the sign-in form it rendered while signed out, submitted with the session cookie present.
    again = await console()
    page = await again.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = await again.post(
        "/login/dev",
        data={"tenant": "acme", "name": "Wang Fang", "roles": ["manager"], "csrf_token": token},
        headers={"Cookie": f"{COOKIE}={old}; {LOGIN_CSRF_COOKIE}={again.cookies[LOGIN_CSRF_COOKIE]}"},
    )
    assert r.status_code == 303
    new = r.cookies[COOKIE]
    assert new != old
    assert await redis.get(PREFIX + old) is None, "the old session is deleted at sign-in"
    stale = await first.get("/desk")
    assert stale.status_code == 303 and "expired=1" in stale.headers["location"], "the old cookie no longer works"
    assert await redis.get(PREFIX + new) is not None, "the new session is there"


async def test_pages_follow_roles(console, sign_in):
    c = await console()
    await sign_in(c, roles=("dispatcher",))
    r = await c.get("/dashboard")
    assert r.status_code == 403 and "Not for your role" in r.text
    assert (await c.get("/desk")).status_code == 403
    home = await c.get("/", follow_redirects=False)
    assert home.headers["location"] == "/board"


async def test_security_headers_and_language(console, sign_in):
    c = await console()
    r = await c.get("/login", headers={"Accept-Language": "en-US,en;q=0.9,zh;q=0.5"})
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "Sign in to the Fixflow console" in r.text and 'lang="en"' in r.text
    zh = await c.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "登录 Fixflow 控制台" in zh.text and 'lang="zh-CN"' in zh.text
    switched = await c.get("/lang/en?next=/login", headers={"Accept-Language": "zh-CN"})
    assert switched.status_code == 303 and switched.headers["location"] == "/login"
    assert "Sign in to the Fixflow console" in (await c.get("/login", headers={"Accept-Language": "zh-CN"})).text
    static = await c.get("/static/htmx/htmx.min.js")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")


async def test_health_and_readiness_and_no_database(console):
    c = await console()
    assert (await c.get("/healthz")).json() == {"status": "ok", "service": "console"}
    ready = await c.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"redis": "ok", "live_updates": "off"}
    from console.__main__ import main

    main(["migrate"])  # does nothing, succeeds: `make migrate` runs it for every service directory
