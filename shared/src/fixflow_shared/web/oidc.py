"""Production sign-in: OpenID Connect authorisation code flow with PKCE (RFC 7636) against the
configured issuer.

Authlib builds the authorisation request (state, nonce, S256 code challenge) and joserfc (Authlib's
JOSE library) verifies the ID token against the issuer's keys: signature, issuer, audience,
expiry and the nonce of this sign-in. The access token is the one the services accept; the web
application reads the principal from it with the same verification the services use
(fixflow_shared.auth).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet


class SignInFailed(Exception):
    pass


@dataclass(frozen=True)
class Started:
    url: str  # where the browser goes
    state: str
    verifier: str
    nonce: str


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    id_claims: dict[str, Any]
    id_token: str
    expires_at: float


class OidcClient:
    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str | None,
        redirect_uri: str,
        scopes: str,
        discovery_url: str | None,
        http: httpx.AsyncClient,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.scopes = scopes
        self.discovery_url = discovery_url or f"{self.issuer}/.well-known/openid-configuration"
        self.http = http
        self._meta: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    async def metadata(self) -> dict[str, Any]:
        if self._meta is None:
            r = await self.http.get(self.discovery_url)
            r.raise_for_status()
            self._meta = r.json()
        return self._meta

    async def _keyset(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            r = await self.http.get((await self.metadata())["jwks_uri"])
            r.raise_for_status()
            self._keys = KeySet.import_key_set(r.json())
        return self._keys

    async def start(self) -> Started:
        meta = await self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        url = prepare_grant_uri(
            meta["authorization_endpoint"],
            self.client_id,
            "code",
            redirect_uri=self.redirect_uri,
            scope=self.scopes,
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return Started(url=url, state=state, verifier=verifier, nonce=nonce)

    async def finish(self, *, code: str, verifier: str, nonce: str) -> SignedIn:
        meta = await self.metadata()
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "client_id": self.client_id,
            "code_verifier": verifier,
        }
        auth = httpx.BasicAuth(self.client_id, self.client_secret) if self.client_secret else httpx.USE_CLIENT_DEFAULT
        r = await self.http.post(meta["token_endpoint"], data=data, auth=auth, headers={"Accept": "application/json"})
        if r.status_code != 200:
            raise SignInFailed(f"the issuer refused the code ({r.status_code})")
        body = r.json()
        access, id_token = body.get("access_token"), body.get("id_token")
        if not access or not id_token:
            raise SignInFailed("the issuer sent no access token or ID token")
        claims = await self._verify_id_token(id_token, nonce)
        expires_at = time.time() + float(body.get("expires_in") or 300)
        return SignedIn(access_token=access, id_claims=claims, id_token=id_token, expires_at=expires_at)

    async def _verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            try:
                token = jwt.decode(id_token, await self._keyset(), algorithms=["RS256", "ES256"])
            except JoseError:
                token = jwt.decode(id_token, await self._keyset(refresh=True), algorithms=["RS256", "ES256"])
            jwt.JWTClaimsRegistry(
                now=int(time.time()),
                leeway=60,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.client_id},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise SignInFailed(f"the ID token is not valid: {exc}") from exc
        return dict(token.claims)

    async def logout_url(self, id_token: str | None, after: str) -> str | None:
        end = (await self.metadata()).get("end_session_endpoint")
        if not end:
            return None
        params = {"post_logout_redirect_uri": after, "client_id": self.client_id}
        if id_token:
            params["id_token_hint"] = id_token
        return str(httpx.URL(end, params=params))
