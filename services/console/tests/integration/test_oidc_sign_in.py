"""Production sign-in: OpenID Connect authorisation code with PKCE against an issuer (a real local
HTTP server here playing the identity provider, checking the code verifier as a real one does)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from console.entrypoints.web import COOKIE
from fixflow_shared.testing.infra import free_port

pytestmark = pytest.mark.integration
CLIENT_ID, AUDIENCE = "fixflow-console", "fixflow"


class Provider:
    """Discovery, authorize (signs in 'the user' at once), token (PKCE checked), JWKS, end session."""

    def __init__(self) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}/realms/fixflow"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.codes: dict[str, dict[str, str]] = {}
        self.claims: dict[str, Any] = {"sub": "u-42", "tenant": "acme", "roles": ["dispatcher"], "name": "Zhou Min"}
        self.nonce_override: str | None = None
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _json(self, body: Any, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                base = provider.issuer
                if url.path.endswith("/.well-known/openid-configuration"):
                    self._json(
                        {
                            "issuer": base,
                            "authorization_endpoint": base + "/auth",
                            "token_endpoint": base + "/token",
                            "jwks_uri": base + "/certs",
                            "end_session_endpoint": base + "/logout",
                        }
                    )
                elif url.path.endswith("/certs"):
                    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(provider.key.public_key()))
                    self._json({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]})
                elif url.path.endswith("/auth"):
                    assert q["response_type"] == "code" and q["client_id"] == CLIENT_ID
                    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) >= 43
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = q
                    self.send_response(302)
                    self.send_header(
                        "location", q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]})
                    )
                    self.end_headers()
                else:
                    self._json({"error": "not_found"}, 404)

            def do_POST(self) -> None:  # noqa: N802
                form = {
                    k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["content-length"])).decode()).items()
                }
                asked = provider.codes.pop(form.get("code", ""), None)
                challenge = (
                    base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
                    .rstrip(b"=")
                    .decode()
                )
                if (
                    asked is None
                    or challenge != asked["code_challenge"]
                    or form.get("redirect_uri") != asked["redirect_uri"]
                ):
                    self._json({"error": "invalid_grant"}, 400)
                    return
                now = int(time.time())
                access = jwt.encode(
                    {**provider.claims, "iss": provider.issuer, "aud": AUDIENCE, "iat": now, "exp": now + 300},
                    provider.key,
                    algorithm="RS256",
                    headers={"kid": "k1"},
                )
                id_token = jwt.encode(
                    {
                        "sub": provider.claims["sub"],
                        "name": provider.claims["name"],
                        "iss": provider.issuer,
                        "aud": CLIENT_ID,
                        "iat": now,
                        "exp": now + 300,
                        "nonce": provider.nonce_override or asked["nonce"],
                    },
                    provider.key,
                    algorithm="RS256",
                    headers={"kid": "k1"},
                )
                self._json({"access_token": access, "id_token": id_token, "token_type": "Bearer", "expires_in": 300})

            def log_message(self, *a: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def provider():
    p = Provider()
    yield p
    p.server.shutdown()


def production(provider: Provider, secure: bool = False) -> dict[str, Any]:
    """Production settings; the test client speaks plain HTTP, so Secure cookies are switched off
    except where a test looks at the cookie itself."""
    return {
        "cookie_secure": secure,
        "environment": "production",
        "oidc_issuer": provider.issuer,
        "oidc_audience": AUDIENCE,
        "oidc_jwks_url": provider.issuer + "/certs",
        "oidc_client_id": CLIENT_ID,
        "public_url": "http://console.test",
    }


async def through_the_provider(c: httpx.AsyncClient, start: str) -> httpx.Response:
    """The browser's round trip: console -> provider (signs in) -> console callback."""
    to_provider = await c.get(start)
    assert to_provider.status_code == 303
    async with httpx.AsyncClient() as browser:
        back = await browser.get(to_provider.headers["location"])
    assert back.status_code == 302
    callback = urlsplit(back.headers["location"])
    assert callback.netloc == "console.test" and callback.path == "/auth/callback"
    return await c.get(f"{callback.path}?{callback.query}")


async def test_staff_sign_in_with_code_and_pkce_then_sign_out_at_the_provider(console, provider):
    provider.nonce_override = None
    c = await console(**production(provider))
    login = await c.get("/login?next=/board")
    assert "Sign in with your company account" in login.text
    assert "Development sign-in" not in login.text, "no development sign-in in production"
    assert (await c.post("/login/dev", data={"tenant": "acme", "roles": ["manager"]})).status_code == 404
    done = await through_the_provider(c, "/login/oidc?next=/board")
    assert done.status_code == 303 and done.headers["location"] == "/board"
    assert COOKIE in c.cookies
    board = await c.get("/board")  # no service answers here, but the session and the role are there
    assert board.status_code == 502 and "Zhou Min" in board.text and "acme" in board.text
    csrf = board.text.split('"X-CSRF-Token": "', 1)[1].split('"', 1)[0]
    out = await c.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 303 and out.headers["location"].startswith(provider.issuer + "/logout?")
    assert "id_token_hint=" in out.headers["location"]
    assert (await c.get("/board")).status_code == 303


async def test_signing_in_again_through_the_provider_ends_the_old_session(console, provider):
    provider.nonce_override = None
    c = await console(**production(provider))
    assert (await through_the_provider(c, "/login/oidc")).status_code == 303
    old = c.cookies[COOKIE]
    assert (await c.get("/board")).status_code == 502, "signed in (no service answers here)"
    again = await through_the_provider(c, "/login/oidc")  # the callback arrives with the old cookie
    assert again.status_code == 303
    new = again.cookies[COOKIE]
    assert new != old
    assert await c.app.state.redis.get("console:session:" + old) is None, "the old session is deleted at sign-in"
    stale = await c.get("/board", headers={"Cookie": f"{COOKIE}={old}"})
    assert stale.status_code == 303 and "expired=1" in stale.headers["location"], "the old cookie no longer works"
    assert (await c.get("/board")).status_code == 502, "the new one does"


async def test_a_replayed_state_a_wrong_nonce_and_a_customer_are_refused(console, provider):
    c = await console(**production(provider))
    to_provider = await c.get("/login/oidc")
    async with httpx.AsyncClient() as browser:
        back = await browser.get(to_provider.headers["location"])
    callback = urlsplit(back.headers["location"])
    first = await c.get(f"{callback.path}?{callback.query}")
    assert first.status_code == 303
    replay = await c.get(f"{callback.path}?{callback.query}")
    assert replay.status_code == 400 and "not completed" in replay.text, "a state is used once"

    provider.nonce_override = "someone-elses-nonce"
    try:
        refused = await through_the_provider(await console(**production(provider)), "/login/oidc")
    finally:
        provider.nonce_override = None
    assert refused.status_code == 400 and COOKIE not in refused.cookies

    provider.claims.update(roles=["customer"], customer_id="C-1")  # a customer's token names its customer
    try:
        customer = await through_the_provider(await console(**production(provider)), "/login/oidc")
    finally:
        provider.claims["roles"] = ["dispatcher"]
        del provider.claims["customer_id"]
    assert customer.status_code == 403 and "for staff" in customer.text


async def test_the_session_cookie_is_secure_httponly_and_same_site_in_production(console, provider):
    c = await console(**production(provider, secure=True))
    done = await through_the_provider(c, "/login/oidc")
    cookie = done.headers["set-cookie"].lower()
    assert cookie.startswith(COOKIE) and "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


async def test_a_forged_callback_without_a_started_sign_in_is_refused(console, provider):
    c = await console(**production(provider))
    r = await c.get("/auth/callback?code=abc&state=never-issued")
    assert r.status_code == 400 and COOKIE not in c.cookies
