"""Authentication: OAuth2 bearer JWTs (OIDC JWKS in production, a local HS256 key ring in
development) and partner API keys. Every principal has a tenant and roles; a customer principal
carries its customer id, a technician principal its technician id (claims `customer_id`,
`technician_id`), a partner principal its key id and scopes. What each may do is policy.py.

In production two issuers sign tokens: the company's OIDC issuer (FIXFLOW_OIDC_*: staff and
technicians, any role) and the portal (FIXFLOW_PORTAL_ISSUER: ES256 with the key it publishes at
/.well-known/jwks.json). The portal signs only customers' tokens and its own narrow `portal` token,
so a token of its issuer carrying any other role is refused: the portal's key cannot make staff.

Tokens must expire (`exp`); development tokens may live at most 12 hours.

    python -m fixflow_shared.auth --tenant demo --roles agent,manager            # a dev token
    python -m fixflow_shared.auth --roles customer --customer-id C-1               # a customer's
    python -m fixflow_shared.auth partner-key --id acme-logistics --tenant demo --scopes pickups:read
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from starlette.concurrency import run_in_threadpool

from fixflow_shared.errors import Forbidden, Unauthorized
from fixflow_shared.keys import KeyRing, hash_api_key, match_partner_key, new_partner_key
from fixflow_shared.policy import ALL_ROLES, PARTNER_SCOPES, PORTAL_ROLE, STAFF_ROLES
from fixflow_shared.settings import FixflowSettings

ROLES = ALL_ROLES
DEV_ISSUER = "fixflow-dev"
DEV_AUDIENCE = "fixflow"
MAX_DEV_TTL_S = 12 * 3600
# The roles the portal's tokens may carry (portal.adapters.tokens signs nothing else in production),
# and their longest life (as development tokens).
PORTAL_ISSUED_ROLES = frozenset({"customer", PORTAL_ROLE})
MAX_PORTAL_TTL_S = 12 * 3600
CLOCK_SKEW_S = 60
_ID_CLAIM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
TENANT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"  # what every service's tenant_id columns hold
_TENANT = re.compile(TENANT_PATTERN)
_SUBJECT = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")


@dataclass(frozen=True)
class Principal:
    subject: str
    tenant: str
    roles: frozenset[str]
    via: str = "jwt"  # or "api_key"
    customer_id: str | None = None  # the customer a customer principal acts for
    technician_id: str | None = None  # the technician a technician principal is
    scopes: frozenset[str] = frozenset()  # a partner key's scopes

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles & set(roles)) or "admin" in self.roles

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)


def _unauthorized(detail: str) -> Unauthorized:
    return Unauthorized(detail)


def _algorithm_of(key: jwt.PyJWK, accepted: tuple[str, ...]) -> list[str]:
    """The one algorithm a key of the JWKS verifies: a token whose header names another (an ES256
    token naming an RSA key's kid) is refused as invalid, instead of failing on the key's type."""
    if key.algorithm_name not in accepted:
        raise jwt.InvalidAlgorithmError(f"the key {key.key_id} is not one of {', '.join(accepted)}")
    return [key.algorithm_name]


class Authenticator:
    def __init__(self, settings: FixflowSettings) -> None:
        self._dev_keys: KeyRing | None = settings.jwt_keys()
        self._issuer = settings.oidc_issuer
        self._audience = settings.oidc_audience
        self._jwks = jwt.PyJWKClient(settings.oidc_jwks_url, cache_keys=True) if settings.oidc_jwks_url else None
        portal_keys = settings.portal_keys_url()
        self._portal_issuer = settings.portal_issuer.rstrip("/") if settings.portal_issuer else None
        self._portal_jwks = jwt.PyJWKClient(portal_keys, cache_keys=True) if portal_keys else None
        self._partner_keys = [k.key() for k in settings.partner_api_keys]

    def _decode_dev(self, token: str) -> dict[str, Any]:
        if self._dev_keys is None:
            raise _unauthorized("development tokens are not accepted here")
        error: jwt.PyJWTError | None = None
        for key in self._dev_keys.verifying():
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=["HS256"],
                    audience=DEV_AUDIENCE,
                    issuer=DEV_ISSUER,
                    options={"require": ["exp", "iat", "sub"]},
                )
            except jwt.InvalidSignatureError as exc:
                error = exc
                continue
            if (
                claims["exp"] - claims["iat"] > MAX_DEV_TTL_S
                or claims["exp"] - time.time() > MAX_DEV_TTL_S + CLOCK_SKEW_S
            ):
                raise _unauthorized("development tokens may be valid for at most 12 hours")
            return claims
        raise jwt.InvalidSignatureError("Signature verification failed") from error

    def _from_portal(self, token: str) -> bool:
        """True for a token naming the portal as its issuer (checked against the portal's key only)."""
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        return isinstance(issuer, str) and issuer.rstrip("/") == self._portal_issuer

    def _decode_portal(self, token: str, jwks: jwt.PyJWKClient) -> dict[str, Any]:
        key = jwks.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=_algorithm_of(key, ("ES256",)),
            audience=self._audience,
            issuer=self._portal_issuer,
            options={"require": ["exp", "iat", "sub"]},
        )
        if claims["exp"] - claims["iat"] > MAX_PORTAL_TTL_S:
            raise _unauthorized("the portal's tokens may be valid for at most 12 hours")
        raw_roles = claims.get("roles") or []
        if isinstance(raw_roles, str):
            raw_roles = raw_roles.split()
        granted = {str(r) for r in raw_roles} if isinstance(raw_roles, list) else {str(raw_roles)}
        if not granted <= PORTAL_ISSUED_ROLES:
            raise _unauthorized(
                f"the portal's tokens may carry only the roles {', '.join(sorted(PORTAL_ISSUED_ROLES))}"
            )
        return claims

    def verify_token(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") == "HS256":
                claims = self._decode_dev(token)
            elif self._portal_jwks and self._from_portal(token):
                claims = self._decode_portal(token, self._portal_jwks)
            elif self._jwks:
                key = self._jwks.get_signing_key_from_jwt(token)
                claims = jwt.decode(
                    token,
                    key.key,
                    algorithms=_algorithm_of(key, ("RS256", "ES256")),
                    audience=self._audience,
                    issuer=self._issuer,
                    options={"require": ["exp", "sub"]},
                )
            else:
                raise _unauthorized("no OIDC issuer is configured for this token")
        except jwt.PyJWTError as exc:
            raise _unauthorized(f"invalid token: {exc}") from exc
        return self._principal(claims)

    @staticmethod
    def _principal(claims: dict[str, Any]) -> Principal:
        tenant = claims.get("tenant")
        if not tenant or not isinstance(tenant, str):
            raise Forbidden("the token carries no tenant")
        if not _TENANT.match(tenant):
            raise Forbidden("the token's tenant is not a tenant id")
        if not isinstance(claims["sub"], str) or not _SUBJECT.match(claims["sub"]):
            raise _unauthorized("the token's subject must be 1 to 200 printable characters")
        raw_roles = claims.get("roles") or []
        if isinstance(raw_roles, str):
            raw_roles = raw_roles.split()
        roles = frozenset(r for r in raw_roles if isinstance(r, str)) & ROLES - {"partner"}  # partners use keys
        ids: dict[str, str | None] = {}
        for claim in ("customer_id", "technician_id"):
            value = claims.get(claim)
            if value is not None and not (isinstance(value, str) and _ID_CLAIM.match(value)):
                raise Forbidden(f"the token's {claim} claim is not an id")
            ids[claim] = value
        if not roles & STAFF_ROLES:
            # Acting as a customer or technician means acting for one: without the id there is nothing to own.
            if "customer" in roles and not ids["customer_id"]:
                raise Forbidden("a customer token needs a customer_id claim")
            if "technician" in roles and not ids["technician_id"]:
                raise Forbidden("a technician token needs a technician_id claim")
        return Principal(
            subject=str(claims["sub"]),
            tenant=tenant,
            roles=roles,
            customer_id=ids["customer_id"],
            technician_id=ids["technician_id"],
        )

    def verify_api_key(self, key: str) -> Principal:
        found = match_partner_key(self._partner_keys, key)
        if found is None:
            raise _unauthorized("unknown API key")
        return Principal(
            subject=f"partner:{found.id}",
            tenant=found.tenant,
            roles=frozenset({"partner"}),
            via="api_key",
            scopes=found.scopes,
        )

    def may_fetch_keys(self, request: Request) -> bool:
        """True for a bearer token that is checked against an issuer's keys (JWKS: OIDC or the portal's)."""
        auth = request.headers.get("authorization", "")
        if (self._jwks is None and self._portal_jwks is None) or not auth.lower().startswith("bearer "):
            return False
        try:
            return jwt.get_unverified_header(auth[7:].strip()).get("alg") != "HS256"
        except jwt.PyJWTError:
            return False

    def authenticate(self, request: Request) -> Principal:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return self.verify_token(auth[7:].strip())
        api_key = request.headers.get("x-api-key")
        if api_key:
            return self.verify_api_key(api_key)
        raise Unauthorized("a bearer token or an API key is required")


async def current_principal(request: Request) -> Principal:
    # async: a plain `def` dependency costs every request a hop to the thread pool. Only a token
    # signed by the OIDC issuer may need network I/O (fetching its keys), so only that goes there.
    authenticator: Authenticator = request.app.state.authenticator
    if authenticator.may_fetch_keys(request):
        principal = await run_in_threadpool(authenticator.authenticate, request)
    else:
        principal = authenticator.authenticate(request)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


# How the OpenAPI document names the two ways to authenticate (Swagger UI's Authorize button).
SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "OAuth2 bearer JWT with the claims sub, tenant, roles and exp (a customer's also "
        "customer_id, a technician's technician_id)",
    },
    "apiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "a partner's API key (its scopes say what it may do)",
    },
}


def _needs_principal(dependant: Dependant) -> bool:
    return any(d.call is current_principal or _needs_principal(d) for d in dependant.dependencies)


def add_security_to_openapi(schema: dict[str, Any], app: FastAPI) -> None:
    """Mark the operations whose route depends on current_principal as taking either scheme.

    Done on the document, not with fastapi.security dependencies: those would cost every request
    two more dependency calls for what only the document needs."""
    secured = False
    for route in iter_route_contexts(app.router.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is None or not route.path or not _needs_principal(dependant):
            continue
        item = schema.get("paths", {}).get(route.path, {})
        for method in route.methods or ():
            if method.lower() in item:
                item[method.lower()]["security"] = [{name: []} for name in SECURITY_SCHEMES]
                secured = True
    if secured:
        schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES


def dev_token(
    *,
    tenant: str,
    roles: list[str],
    subject: str = "dev-user",
    secret: str,
    ttl_s: int = MAX_DEV_TTL_S,
    customer_id: str | None = None,
    technician_id: str | None = None,
) -> str:
    """A development token signed with `secret` (the signing key of FIXFLOW_JWT_DEV_SECRET's ring)."""
    if not 0 < ttl_s <= MAX_DEV_TTL_S:
        raise ValueError("development tokens may be valid for at most 12 hours")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "tenant": tenant,
        "roles": roles,
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "iat": now,
        "exp": now + ttl_s,
        "jti": str(uuid.uuid4()),
    }
    if customer_id:
        claims["customer_id"] = customer_id
    if technician_id:
        claims["technician_id"] = technician_id
    return jwt.encode(claims, secret, algorithm="HS256")


def dev_signing_key() -> str:
    """The development signing key: FIXFLOW_JWT_DEV_SECRET, else the checkout's generated one."""
    from pydantic_settings import BaseSettings

    from fixflow_shared.keys import dev_secrets

    class _Env(BaseSettings):
        fixflow_jwt_dev_secret: str | None = None

    value = _Env().fixflow_jwt_dev_secret or dev_secrets()["FIXFLOW_JWT_DEV_SECRET"]
    return KeyRing.parse(value).signing_key.decode()


def _partner_key_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m fixflow_shared.auth partner-key",
        description="Make a partner API key: prints the key (give it to the partner, once) and the "
        "entry for FIXFLOW_PARTNER_API_KEYS (holds only its hash)",
    )
    parser.add_argument("--id", required=True, help="the key's id, recorded as the subject of what it does")
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--scopes", required=True, help=f"comma-separated, of: {', '.join(sorted(PARTNER_SCOPES))}")
    a = parser.parse_args(argv)
    scopes = [x for x in a.scopes.split(",") if x]
    unknown = set(scopes) - PARTNER_SCOPES
    if unknown:
        parser.error(f"unknown scopes: {', '.join(sorted(unknown))}")
    key = new_partner_key()
    entry = {"id": a.id, "tenant": a.tenant, "scopes": scopes, "sha256": hash_api_key(key)}
    print(f"key:   {key}")
    print(f"entry: {json.dumps(entry)}")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["partner-key"]:
        _partner_key_main(argv[1:])
        return
    parser = argparse.ArgumentParser(description="Print a development bearer token (at most 12 hours)")
    parser.add_argument("--tenant", default="demo")
    parser.add_argument("--roles", default="agent,dispatcher,manager,admin")
    parser.add_argument("--sub", default="dev-user")
    parser.add_argument("--customer-id", help="the customer a customer token acts for (required with role customer)")
    parser.add_argument("--technician-id", help="the technician of a technician token (required with role technician)")
    parser.add_argument("--ttl", type=int, default=MAX_DEV_TTL_S, help="seconds, at most 12 hours")
    a = parser.parse_args(argv)
    roles = [r for r in a.roles.split(",") if r]
    staff = set(roles) & STAFF_ROLES
    if "customer" in roles and not staff and not a.customer_id:
        parser.error("a customer token needs --customer-id")
    if "technician" in roles and not staff and not a.technician_id:
        parser.error("a technician token needs --technician-id")
    if not 0 < a.ttl <= MAX_DEV_TTL_S:
        parser.error("--ttl must be between 1 and 43200 seconds (12 hours)")
    print(
        dev_token(
            tenant=a.tenant,
            roles=roles,
            subject=a.sub,
            secret=dev_signing_key(),
            ttl_s=a.ttl,
            customer_id=a.customer_id,
            technician_id=a.technician_id,
        )
    )


if __name__ == "__main__":
    main()
