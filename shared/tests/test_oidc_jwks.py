"""Production tokens: RS256 signed by an OIDC issuer, keys fetched from its JWKS endpoint (a real
local HTTP server here)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from fixflow_shared.auth import Authenticator
from fixflow_shared.errors import Unauthorized
from fixflow_shared.settings import ServiceSettings
from fixflow_shared.testing.infra import free_port

ISSUER, AUDIENCE = "https://login.test/realms/fixflow", "fixflow"


@pytest.fixture(scope="module")
def issuer():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: object) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield key, f"http://127.0.0.1:{port}/certs"
    server.shutdown()


def token(key, **claims) -> str:
    now = int(time.time())
    body = {
        "sub": "u1",
        "tenant": "acme",
        "roles": ["dispatcher"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 60,
        **claims,
    }
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})


def authenticator(jwks_url: str) -> Authenticator:
    return Authenticator(
        ServiceSettings(
            database_url="postgresql+asyncpg://x/y",
            http_port=1,
            environment="production",
            oidc_issuer=ISSUER,
            oidc_audience=AUDIENCE,
            oidc_jwks_url=jwks_url,
        )
    )


def test_issuer_token_is_accepted(issuer):
    key, url = issuer
    p = authenticator(url).verify_token(token(key))
    assert (p.tenant, p.subject, p.roles) == ("acme", "u1", frozenset({"dispatcher"}))


@pytest.mark.parametrize("claims", [{"iss": "https://evil.test"}, {"aud": "other"}, {"exp": int(time.time()) - 5}])
def test_wrong_issuer_audience_or_expiry_is_refused(issuer, claims):
    key, url = issuer
    with pytest.raises(Unauthorized) as e:
        authenticator(url).verify_token(token(key, **claims))
    assert e.value.status == 401


def test_key_not_in_the_jwks_is_refused(issuer):
    _, url = issuer
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthorized):
        authenticator(url).verify_token(token(stranger))


def test_a_token_naming_a_key_of_another_type_is_refused_not_an_error(issuer):
    """An ES256 token whose kid names the issuer's RSA key: 401, not a TypeError (a 500) on the key's type."""
    _, url = issuer
    now = int(time.time())
    body = {
        "sub": "u1",
        "tenant": "acme",
        "roles": ["admin"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 60,
    }
    forged = jwt.encode(body, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": "k1"})
    with pytest.raises(Unauthorized):
        authenticator(url).verify_token(forged)
