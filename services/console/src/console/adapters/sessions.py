"""Sessions in Redis: the only state the console keeps. A browser holds an opaque random id in an
HttpOnly cookie; Redis holds who signed in (subject, tenant, roles), their bearer token for the
services, and the session's CSRF token. A session ends on sign-out, after `idle` without a request,
at its absolute lifetime, or when its token expires, whichever comes first."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field

from redis.asyncio import Redis

PREFIX = "console:session:"
PENDING = "console:oidc:"  # OIDC sign-ins under way (state -> verifier, nonce, next)


@dataclass
class Session:
    id: str
    subject: str
    name: str
    tenant: str
    roles: list[str]
    token: str
    token_expires_at: float
    created_at: float
    expires_at: float  # absolute end (min of the session's lifetime and the token's)
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    via: str = "dev"  # or "oidc"
    id_token: str | None = None

    def has_any(self, *roles: str) -> bool:
        return "admin" in self.roles or any(r in self.roles for r in roles)

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at


class SessionStore:
    def __init__(self, redis: Redis, *, idle_s: int, max_s: float) -> None:
        self.redis = redis
        self.idle_s = idle_s
        self.max_s = max_s

    async def create(
        self,
        *,
        subject: str,
        name: str,
        tenant: str,
        roles: list[str],
        token: str,
        token_expires_at: float,
        via: str,
        id_token: str | None = None,
    ) -> Session:
        now = time.time()
        s = Session(
            id=secrets.token_urlsafe(32),
            subject=subject,
            name=name,
            tenant=tenant,
            roles=sorted(roles),
            token=token,
            token_expires_at=token_expires_at,
            created_at=now,
            expires_at=min(now + self.max_s, token_expires_at),
            via=via,
            id_token=id_token,
        )
        await self.redis.set(PREFIX + s.id, json.dumps(asdict(s)), ex=self.idle_s)
        return s

    async def get(self, session_id: str | None) -> Session | None:
        """The live session (idle timer restarted), or None when unknown, idle too long or expired."""
        if not session_id or len(session_id) > 100:
            return None
        key = PREFIX + session_id
        raw = await self.redis.getex(key, ex=self.idle_s)
        if raw is None:
            return None
        s = Session(**json.loads(raw))
        if s.expired:
            await self.redis.delete(key)
            return None
        return s

    async def alive(self, session_id: str) -> bool:
        """Still there, without counting as activity (an open live page does not keep a session alive)."""
        raw = await self.redis.get(PREFIX + session_id)
        return raw is not None and not Session(**json.loads(raw)).expired

    async def delete(self, session_id: str | None) -> None:
        if session_id:
            await self.redis.delete(PREFIX + session_id)

    # --- OIDC sign-ins under way -------------------------------------------------------------------
    async def put_pending(self, state: str, data: dict[str, str], ttl_s: int = 600) -> None:
        await self.redis.set(PENDING + state, json.dumps(data), ex=ttl_s)

    async def pop_pending(self, state: str) -> dict[str, str] | None:
        if not state or len(state) > 200:
            return None
        raw = await self.redis.getdel(PENDING + state)
        return json.loads(raw) if raw else None
