"""The tokens the portal signs: a customer's after a one-time code or a signed link (claims `tenant`,
`roles: [customer]`, `customer_id`), a technician's in development, and its own short-lived token
for the two calls it makes for someone not yet signed in (find the customer a phone or e-mail
belongs to, send the code).

Development and tests sign with the development key the services already accept
(FIXFLOW_JWT_DEV_SECRET, HS256). In production the portal signs with its own ES256 key
(PORTAL_TOKEN_SIGNING_KEY), publishes the public half at /.well-known/jwks.json, and the services
accept its tokens for the customer and portal roles only (FIXFLOW_PORTAL_ISSUER); technicians
then sign in with the company's OpenID Connect issuer like the staff.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from jwt.algorithms import ECAlgorithm

from fixflow_shared.auth import DEV_AUDIENCE, DEV_ISSUER

MAX_TTL_S = 12 * 3600
SERVICE_TTL_S = 120


@dataclass(frozen=True)
class Issued:
    token: str
    expires_at: float


class TokenIssuer:
    def __init__(
        self, *, dev_secret: str | None, signing_key_pem: str | None, issuer: str, audience: str | None
    ) -> None:
        self._dev_secret = dev_secret
        self._key: EllipticCurvePrivateKey | None = None
        self._kid: str | None = None
        if signing_key_pem:
            key = ECAlgorithm(ECAlgorithm.SHA256).prepare_key(signing_key_pem)
            if not isinstance(key, EllipticCurvePrivateKey):
                raise ValueError("PORTAL_TOKEN_SIGNING_KEY must be an EC private key (PEM)")
            self._key = key
            public = json.loads(ECAlgorithm.to_jwk(self._key.public_key()))
            self._kid = public.get("kid") or _thumbprint(public)
        self._issuer = issuer.rstrip("/")
        self._audience = audience

    @property
    def can_sign(self) -> bool:
        return self._key is not None or self._dev_secret is not None

    def jwks(self) -> dict[str, Any]:
        """The public key services check the portal's tokens with (empty in development)."""
        if self._key is None:
            return {"keys": []}
        public = json.loads(ECAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**public, "kid": self._kid, "use": "sig", "alg": "ES256"}]}

    def _sign(self, claims: dict[str, Any], ttl_s: int) -> Issued:
        if not 0 < ttl_s <= MAX_TTL_S:
            raise ValueError("tokens live at most 12 hours")
        now = int(time.time())
        body = {**claims, "iat": now, "exp": now + ttl_s, "jti": str(uuid.uuid4())}
        if self._key is not None:
            body |= {"iss": self._issuer, **({"aud": self._audience} if self._audience else {})}
            token = jwt.encode(body, self._key, algorithm="ES256", headers={"kid": self._kid})
        elif self._dev_secret is not None:
            body |= {"iss": DEV_ISSUER, "aud": DEV_AUDIENCE}
            token = jwt.encode(body, self._dev_secret, algorithm="HS256")
        else:
            raise RuntimeError("the portal has no key to sign tokens with (PORTAL_TOKEN_SIGNING_KEY)")
        return Issued(token, float(body["exp"]))

    def customer(self, *, tenant: str, customer_id: str, ttl_s: int) -> Issued:
        return self._sign(
            {"sub": f"customer:{customer_id}", "tenant": tenant, "roles": ["customer"], "customer_id": customer_id},
            ttl_s,
        )

    def technician(self, *, tenant: str, technician_id: str, name: str, ttl_s: int) -> Issued:
        """Development only: production technicians bring the company issuer's token."""
        if self._dev_secret is None:
            raise RuntimeError("technicians sign in with the company's OpenID Connect issuer here")
        return self._sign(
            {
                "sub": f"technician:{technician_id}",
                "name": name,
                "tenant": tenant,
                "roles": ["technician"],
                "technician_id": technician_id,
            },
            ttl_s,
        )

    def service(self, *, tenant: str) -> str:
        """The portal's own short-lived token for one tenant, for the two calls it makes before anyone
        is signed in (find the customer a phone or e-mail belongs to, send the code). Its `portal`
        role may do exactly these two actions in the services' policy table, for two minutes."""
        return self._sign({"sub": "portal", "tenant": tenant, "roles": ["portal"]}, SERVICE_TTL_S).token


def _thumbprint(jwk: dict[str, Any]) -> str:
    import base64
    import hashlib

    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
