"""Auth, PII masking and problem documents (pure, no I/O)."""

from __future__ import annotations

import time

import jwt
import pytest

from fixflow_shared.auth import DEV_AUDIENCE, DEV_ISSUER, Authenticator, dev_token
from fixflow_shared.errors import Forbidden, Unauthorized
from fixflow_shared.logs import mask_pii
from fixflow_shared.settings import ServiceSettings


def settings(**kw) -> ServiceSettings:
    return ServiceSettings(database_url="postgresql+asyncpg://x/y", http_port=1, **kw)


def test_dev_token_round_trip_gives_tenant_and_roles():
    s = settings()
    p = Authenticator(s).verify_token(dev_token(tenant="acme", roles=["agent", "bogus"], secret=s.jwt_dev_secret))
    assert p.tenant == "acme" and p.roles == frozenset({"agent"})  # unknown roles dropped


def test_dev_tokens_are_refused_in_production():
    s = settings(environment="production")
    token = dev_token(tenant="acme", roles=["admin"], secret=ServiceSettings.model_fields["jwt_dev_secret"].default)
    with pytest.raises(Unauthorized) as e:
        Authenticator(s).verify_token(token)
    assert e.value.status == 401


@pytest.mark.parametrize(
    "claims",
    [
        {"tenant": "a", "exp": int(time.time()) - 10},  # expired
        {"tenant": "a", "aud": "someone-else"},
        {"exp": int(time.time()) + 60},  # no tenant
    ],
)
def test_bad_tokens_are_rejected(claims):
    s = settings()
    body = {"sub": "x", "iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "roles": ["agent"], **claims}
    with pytest.raises((Unauthorized, Forbidden)) as e:
        Authenticator(s).verify_token(jwt.encode(body, s.jwt_dev_secret, algorithm="HS256"))
    assert e.value.status in (401, 403)


def test_forged_signature_is_rejected():
    s = settings()
    token = dev_token(tenant="a", roles=["admin"], secret="another-key-of-sufficient-length-0123456789")
    with pytest.raises(Unauthorized):
        Authenticator(s).verify_token(token)


def test_api_keys_map_to_a_tenant():
    a = Authenticator(settings(partner_api_keys={"k-123456": "acme"}))
    assert a.verify_api_key("k-123456").tenant == "acme"
    with pytest.raises(Unauthorized):
        a.verify_api_key("nope")


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("mail li.wei@example.com now", "mail l***@example.com now"),
        ("call 13812345678", "call 138****5678"),
        ("call +86 13812345678", "call +86 138****5678"),
        ("ticket T-123 for order 42", "ticket T-123 for order 42"),
    ],
)
def test_pii_is_masked(raw, masked):
    assert mask_pii(raw) == masked
