"""Sessions in Redis: the only state a web application keeps. A browser holds an opaque random id
in an HttpOnly cookie; Redis holds who signed in (subject, tenant, roles, and for a customer or a
technician the id they act for), their bearer token for the services, and the session's CSRF
token. A session ends on sign-out, after `idle` without a request, at its absolute lifetime, or
when its token expires, whichever comes first. Each application keeps its sessions under its own
key prefix (`console:session:`, `portal:session:`)."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from redis.asyncio import Redis


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
    via: str = "dev"  # or "oidc", "code" (a one-time code), "link" (a signed link)
    id_token: str | None = None
    customer_id: str | None = None  # the customer a customer session acts for
    technician_id: str | None = None  # the technician a technician session is
    scope: str | None = None  # a session that may open only pages under this path (a signed link's)
    idle_s: int | None = None  # this session's idle timeout, when not the store's (a technician's shift)

    def has_any(self, *roles: str) -> bool:
        return "admin" in self.roles or any(r in self.roles for r in roles)

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at


class SessionStore:
    def __init__(self, redis: Redis, *, idle_s: int, max_s: float, prefix: str = "console:") -> None:
        self.redis = redis
        self.idle_s = idle_s
        self.max_s = max_s
        self.sessions = prefix + "session:"
        self.pending = prefix + "oidc:"  # OIDC sign-ins under way (state -> verifier, nonce, next)

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
        max_s: float | None = None,
        idle_s: int | None = None,
        **extra: Any,
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
            expires_at=min(now + (max_s if max_s is not None else self.max_s), token_expires_at),
            via=via,
            id_token=id_token,
            idle_s=idle_s,
            **extra,
        )
        await self.redis.set(self.sessions + s.id, json.dumps(asdict(s)), ex=idle_s or self.idle_s)
        return s

    async def get(self, session_id: str | None) -> Session | None:
        """The live session (idle timer restarted), or None when unknown, idle too long or expired."""
        if not session_id or len(session_id) > 100:
            return None
        key = self.sessions + session_id
        raw = await self.redis.getex(key, ex=self.idle_s)
        if raw is None:
            return None
        s = Session(**json.loads(raw))
        if s.expired:
            await self.redis.delete(key)
            return None
        if s.idle_s and s.idle_s != self.idle_s:
            await self.redis.expire(key, s.idle_s)
        return s

    async def alive(self, session_id: str) -> bool:
        """Still there, without counting as activity (an open live page does not keep a session alive)."""
        raw = await self.redis.get(self.sessions + session_id)
        return raw is not None and not Session(**json.loads(raw)).expired

    async def delete(self, session_id: str | None) -> None:
        if session_id:
            await self.redis.delete(self.sessions + session_id)

    # --- OIDC sign-ins under way -------------------------------------------------------------------
    async def put_pending(self, state: str, data: dict[str, str], ttl_s: int = 600) -> None:
        await self.redis.set(self.pending + state, json.dumps(data), ex=ttl_s)

    async def pop_pending(self, state: str) -> dict[str, str] | None:
        if not state or len(state) > 200:
            return None
        raw = await self.redis.getdel(self.pending + state)
        return json.loads(raw) if raw else None
