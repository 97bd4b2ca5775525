"""Authentication: OAuth2 bearer JWTs (OIDC JWKS in production, a local HS256 key in development)
and partner API keys mapped to a tenant. Every principal has a tenant and roles.

    python -m fixflow_shared.auth --tenant demo --roles agent,manager   # prints a dev token
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from starlette.concurrency import run_in_threadpool

from fixflow_shared.errors import Forbidden, Unauthorized
from fixflow_shared.settings import FixflowSettings, ServiceSettings

ROLES = frozenset({"customer", "agent", "dispatcher", "technician", "manager", "quality", "partner", "admin"})
DEV_ISSUER = "fixflow-dev"
DEV_AUDIENCE = "fixflow"


@dataclass(frozen=True)
class Principal:
    subject: str
    tenant: str
    roles: frozenset[str]
    via: str = "jwt"  # or "api_key"

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles & set(roles)) or "admin" in self.roles


class Authenticator:
    def __init__(self, settings: FixflowSettings) -> None:
        self._dev_secret = settings.jwt_dev_secret if settings.environment != "production" else None
        self._issuer = settings.oidc_issuer
        self._audience = settings.oidc_audience
        self._jwks = jwt.PyJWKClient(settings.oidc_jwks_url, cache_keys=True) if settings.oidc_jwks_url else None
        self._api_keys = dict(settings.partner_api_keys)

    def verify_token(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") == "HS256":
                if not self._dev_secret:
                    raise Unauthorized("development tokens are not accepted here")
                claims = jwt.decode(
                    token, self._dev_secret, algorithms=["HS256"], audience=DEV_AUDIENCE, issuer=DEV_ISSUER
                )
            elif self._jwks:
                key = self._jwks.get_signing_key_from_jwt(token)
                claims = jwt.decode(
                    token, key.key, algorithms=["RS256", "ES256"], audience=self._audience, issuer=self._issuer
                )
            else:
                raise Unauthorized("no OIDC issuer is configured for this token")
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from exc
        tenant = claims.get("tenant")
        if not tenant or not isinstance(tenant, str):
            raise Forbidden("the token carries no tenant")
        roles = claims.get("roles") or []
        if isinstance(roles, str):
            roles = roles.split()
        return Principal(subject=str(claims.get("sub", "")), tenant=tenant, roles=frozenset(roles) & ROLES)

    def verify_api_key(self, key: str) -> Principal:
        tenant = self._api_keys.get(key)
        if tenant is None:
            raise Unauthorized("unknown API key")
        return Principal(subject=f"partner:{key[:4]}…", tenant=tenant, roles=frozenset({"partner"}), via="api_key")

    def may_fetch_keys(self, request: Request) -> bool:
        """True for a bearer token that is checked against the OIDC issuer's keys (JWKS)."""
        auth = request.headers.get("authorization", "")
        if self._jwks is None or not auth.lower().startswith("bearer "):
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
        "description": "OAuth2 bearer JWT with the claims sub, tenant and roles",
    },
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "a partner's API key"},
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


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency: the caller must hold one of `roles` (admin always passes)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(*roles):
            raise Forbidden(f"requires one of the roles: {', '.join(roles)}")
        return principal

    return check


def dev_token(*, tenant: str, roles: list[str], subject: str = "dev-user", secret: str, ttl_s: int = 12 * 3600) -> str:
    now = int(time.time())
    return jwt.encode(
        {
            "sub": subject,
            "tenant": tenant,
            "roles": roles,
            "iss": DEV_ISSUER,
            "aud": DEV_AUDIENCE,
            "iat": now,
            "exp": now + ttl_s,
            "jti": str(uuid.uuid4()),
        },
        secret,
        algorithm="HS256",
    )


def main() -> None:
    from pydantic_settings import BaseSettings

    class _Env(BaseSettings):
        fixflow_jwt_dev_secret: str = ServiceSettings.model_fields["jwt_dev_secret"].default

    parser = argparse.ArgumentParser(description="Print a development bearer token")
    parser.add_argument("--tenant", default="demo")
    parser.add_argument("--roles", default="agent,dispatcher,manager,admin")
    parser.add_argument("--sub", default="dev-user")
    parser.add_argument("--ttl", type=int, default=12 * 3600)
    a = parser.parse_args()
    print(
        dev_token(
            tenant=a.tenant, roles=a.roles.split(","), subject=a.sub, secret=_Env().fixflow_jwt_dev_secret, ttl_s=a.ttl
        )
    )


if __name__ == "__main__":
    main()
