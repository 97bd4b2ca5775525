"""The portal's secrets: production refuses to start without the key its tokens are signed with and
the key ring its links are verified with (outside production both come from the checkout's
development key); a key that cannot sign or verify is refused at start, not at the first sign-in."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import ValidationError

from portal.config import PortalSettings

OIDC = {
    "oidc_issuer": "https://login.example.test/realms/fixflow",
    "oidc_audience": "fixflow",
    "oidc_jwks_url": "https://login.example.test/realms/fixflow/certs",
}
LINKS = json.dumps(["l" * 48])


def pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


EC_KEY = pem(ec.generate_private_key(ec.SECP256R1()))


def test_production_without_the_token_key_or_the_link_keys_refuses_to_start() -> None:
    with pytest.raises(ValidationError, match="PORTAL_TOKEN_SIGNING_KEY"):
        PortalSettings(environment="production", portal_link_secrets=LINKS, **OIDC)
    with pytest.raises(ValidationError, match="FIXFLOW_PORTAL_LINK_SECRETS"):
        PortalSettings(environment="production", token_signing_key=EC_KEY, **OIDC)
    with pytest.raises(ValidationError, match="FIXFLOW_OIDC_ISSUER"):
        PortalSettings(environment="production", token_signing_key=EC_KEY, portal_link_secrets=LINKS)
    ready = PortalSettings(environment="production", token_signing_key=EC_KEY, portal_link_secrets=LINKS, **OIDC)
    assert ready.jwt_keys() is None, "the development key signs nothing in production"
    assert ready.portal_link_keys() is not None


@pytest.mark.parametrize(
    "key",
    [
        "not a key",
        pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),  # the portal signs ES256
        pem(ec.generate_private_key(ec.SECP384R1())),  # ES256 is P-256
    ],
)
def test_a_token_key_that_cannot_sign_es256_refuses_to_start(key: str) -> None:
    with pytest.raises(ValidationError, match="PORTAL_TOKEN_SIGNING_KEY"):
        PortalSettings(environment="production", token_signing_key=key, portal_link_secrets=LINKS, **OIDC)


def test_short_link_keys_refuse_to_start() -> None:
    with pytest.raises(ValidationError, match="FIXFLOW_PORTAL_LINK_SECRETS"):
        PortalSettings(environment="production", token_signing_key=EC_KEY, portal_link_secrets="short", **OIDC)


def test_development_needs_neither() -> None:
    settings = PortalSettings(environment="development")
    assert settings.jwt_keys() is not None and settings.portal_link_keys() is not None
