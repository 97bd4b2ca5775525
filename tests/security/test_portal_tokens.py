"""The portal's tokens in production: signed by the portal's own ES256 key (published at its
/.well-known/jwks.json), accepted by the services for the roles the portal grants (customer, and its
own narrow `portal` role) and refused with any other, so the portal's key cannot make staff.

The portal's token issuer signs here and a route behind the shared authentication checks, with the
portal's JWKS and the company issuer's served by real local HTTP servers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI

from fixflow_shared.auth import Authenticator, CurrentPrincipal
from fixflow_shared.problems import install_problem_handlers
from fixflow_shared.settings import ServiceSettings
from fixflow_shared.testing.infra import free_port
from portal.adapters.tokens import TokenIssuer

PORTAL = "https://portal.test"  # PORTAL_PUBLIC_URL: the issuer of the portal's tokens
COMPANY = "https://login.test/realms/fixflow"
AUDIENCE = "fixflow"


def serve_json(body: dict[str, Any]) -> tuple[ThreadingHTTPServer, str]:
    data = json.dumps(body).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture(scope="module")
def portal_tokens() -> TokenIssuer:
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    return TokenIssuer(dev_secret=None, signing_key_pem=pem, issuer=PORTAL + "/", audience=AUDIENCE)


@pytest.fixture(scope="module")
def company_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def auth(portal_tokens: TokenIssuer, company_key: rsa.RSAPrivateKey) -> Iterator[Authenticator]:
    """A production service's authentication: the company's OIDC issuer and the portal's."""
    portal_jwks, portal_url = serve_json(portal_tokens.jwks())
    company_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(company_key.public_key()))
    company_jwks, company_url = serve_json({"keys": [{**company_jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]})
    yield Authenticator(
        ServiceSettings(
            database_url="postgresql+asyncpg://x/y",
            http_port=1,
            environment="production",
            oidc_issuer=COMPANY,
            oidc_audience=AUDIENCE,
            oidc_jwks_url=company_url + "/certs",
            portal_issuer=PORTAL,
            portal_jwks_url=portal_url + "/.well-known/jwks.json",
        )
    )
    portal_jwks.shutdown()
    company_jwks.shutdown()


@pytest.fixture
async def who(auth: Authenticator) -> Any:
    """GET /whoami with a bearer token -> the answer of a route that needs a principal."""
    app = FastAPI()
    app.state.authenticator = auth
    install_problem_handlers(app)

    @app.get("/whoami")
    async def whoami(principal: CurrentPrincipal) -> dict[str, Any]:
        return {"roles": sorted(principal.roles), "customer_id": principal.customer_id, "tenant": principal.tenant}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc.test") as client:

        async def call(token: str) -> httpx.Response:
            return await client.get("/whoami", headers={"Authorization": f"Bearer {token}"})

        yield call


def portal_signed(tokens: TokenIssuer, **claims: Any) -> str:
    """A token signed with the portal's key as the portal signs (the key holder choosing the claims)."""
    return tokens._sign({"sub": "x", "tenant": "acme", **claims}, 600).token


async def test_the_portals_customer_and_own_tokens_are_accepted(who, portal_tokens):
    r = await who(portal_tokens.customer(tenant="acme", customer_id="C-1", ttl_s=600).token)
    assert r.status_code == 200, r.text
    assert r.json() == {"roles": ["customer"], "customer_id": "C-1", "tenant": "acme"}
    r = await who(portal_tokens.service(tenant="acme"))
    assert r.status_code == 200 and r.json()["roles"] == ["portal"], r.text


@pytest.mark.parametrize(
    "roles",
    [["admin"], ["dispatcher"], ["agent", "manager"], ["customer", "admin"], ["technician"], ["partner"], "admin"],
)
async def test_a_portal_token_with_any_other_role_is_refused(who, portal_tokens, roles):
    extra = {"customer_id": "C-1", "technician_id": "TECH-1"}
    r = await who(portal_signed(portal_tokens, roles=roles, **extra))
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "the portal's tokens may carry only the roles customer, portal" in r.json()["detail"]


async def test_a_portal_token_living_longer_than_12_hours_is_refused(who, portal_tokens):
    now = int(time.time())
    key = portal_tokens._key
    body = {"sub": "customer:C-1", "tenant": "acme", "roles": ["customer"], "customer_id": "C-1"}
    body |= {"iss": PORTAL, "aud": AUDIENCE, "iat": now, "exp": now + 13 * 3600}
    r = await who(jwt.encode(body, key, algorithm="ES256", headers={"kid": portal_tokens._kid}))
    assert r.status_code == 401 and "at most 12 hours" in r.json()["detail"]


async def test_neither_issuer_may_sign_in_the_others_name(who, portal_tokens, company_key):
    now = int(time.time())
    admin = {"sub": "u1", "tenant": "acme", "roles": ["admin"], "aud": AUDIENCE, "iat": now, "exp": now + 600}
    # the portal's key naming the company issuer: not one of the company's keys
    forged = jwt.encode({**admin, "iss": COMPANY}, portal_tokens._key, algorithm="ES256", headers={"kid": "k1"})
    assert (await who(forged)).status_code == 401
    # the company's key naming the portal: checked against the portal's keys only
    customer = {**admin, "roles": ["customer"], "customer_id": "C-1", "iss": PORTAL}
    assert (await who(jwt.encode(customer, company_key, algorithm="RS256", headers={"kid": "k1"}))).status_code == 401
    # while the company's own staff token still passes
    staff = jwt.encode({**admin, "iss": COMPANY}, company_key, algorithm="RS256", headers={"kid": "k1"})
    assert (await who(staff)).json()["roles"] == ["admin"]


def test_the_portal_cannot_be_given_the_company_issuers_name():
    with pytest.raises(ValueError, match="FIXFLOW_PORTAL_ISSUER must not be FIXFLOW_OIDC_ISSUER"):
        ServiceSettings(
            database_url="postgresql+asyncpg://x/y",
            http_port=1,
            environment="production",
            oidc_issuer=COMPANY,
            oidc_audience=AUDIENCE,
            oidc_jwks_url=COMPANY + "/certs",
            portal_issuer=COMPANY + "/",
        )
