"""The portal's own token before anyone is signed in: the narrow `portal` role, two minutes."""

from __future__ import annotations

import jwt

from portal.adapters.tokens import SERVICE_TTL_S, TokenIssuer


def test_the_portals_own_token_carries_the_portal_role_for_two_minutes():
    issuer = TokenIssuer(dev_secret="s" * 40, signing_key_pem=None, issuer="http://portal", audience=None)
    claims = jwt.decode(issuer.service(tenant="acme"), options={"verify_signature": False})
    assert claims["roles"] == ["portal"] and claims["tenant"] == "acme" and claims["sub"] == "portal"
    assert claims["exp"] - claims["iat"] == SERVICE_TTL_S == 120
    assert "customer_id" not in claims
