"""One-time sign-in codes, kept in Redis (the portal's only state besides sessions).

A request for a code opens a challenge under a random id: the hash of the code (salted with the
challenge id), the tenant, the customer it signs in as (none when the phone or e-mail belongs to
nobody: the page answers the same either way, so it tells a stranger nothing) and the attempts
left. The challenge expires with the code. A right code is spent by the one request that deletes
the challenge (single use, also against two tabs racing); each wrong one spends an attempt, and the
last wrong one deletes it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from redis.asyncio import Redis

PREFIX = "portal:code:"


@dataclass(frozen=True)
class Challenge:
    id: str
    tenant: str
    customer_id: str | None
    channel: str  # sms | email
    masked: str  # where the code went, masked for the page


def _digest(challenge_id: str, code: str) -> str:
    return hashlib.sha256(f"{challenge_id}:{code}".encode()).hexdigest()


class CodeStore:
    def __init__(self, redis: Redis, *, ttl_s: int, digits: int, attempts: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s
        self.digits = digits
        self.attempts = attempts

    def new_code(self) -> str:
        return f"{secrets.randbelow(10**self.digits):0{self.digits}d}"

    async def open(self, *, tenant: str, customer_id: str | None, channel: str, masked: str, code: str) -> Challenge:
        challenge = Challenge(secrets.token_urlsafe(24), tenant, customer_id, channel, masked)
        record = {
            "tenant": tenant,
            "customer_id": customer_id,
            "channel": channel,
            "masked": masked,
            "digest": _digest(challenge.id, code),
            "left": self.attempts,
        }
        await self.redis.set(PREFIX + challenge.id, json.dumps(record), ex=self.ttl_s)
        return challenge

    async def peek(self, challenge_id: str) -> Challenge | None:
        raw = await self.redis.get(PREFIX + challenge_id) if _plausible(challenge_id) else None
        if raw is None:
            return None
        r = json.loads(raw)
        return Challenge(challenge_id, r["tenant"], r["customer_id"], r["channel"], r["masked"])

    async def redeem(self, challenge_id: str, code: str) -> Challenge | None:
        """The challenge, spent, when `code` is its code; None when wrong, spent, expired or unknown."""
        if not _plausible(challenge_id):
            return None
        key = PREFIX + challenge_id
        raw = await self.redis.get(key)
        if raw is None:
            return None
        r = json.loads(raw)
        if r["customer_id"] and hmac.compare_digest(r["digest"], _digest(challenge_id, code.strip())):
            if await self.redis.delete(key) != 1:
                return None  # another request spent it first
            return Challenge(challenge_id, r["tenant"], r["customer_id"], r["channel"], r["masked"])
        left = int(r["left"]) - 1
        if left <= 0:
            await self.redis.delete(key)
        else:
            ttl = await self.redis.ttl(key)
            if ttl > 0:
                await self.redis.set(key, json.dumps({**r, "left": left}), ex=ttl)
        return None


def _plausible(challenge_id: str) -> bool:
    return 16 <= len(challenge_id) <= 64 and challenge_id.replace("-", "").replace("_", "").isalnum()
