"""Rate limits in Redis: a sliding one-minute window per key (a sorted set of request times),
shared by every portal process. Over the limit answers 429 problem+json with Retry-After; refused
requests count too, so a client that keeps hammering stays refused."""

from __future__ import annotations

import time
import uuid

from redis.asyncio import Redis

from fixflow_shared.errors import TooManyRequests

WINDOW_S = 60


class RateLimiter:
    def __init__(self, redis: Redis, name: str) -> None:
        self.redis = redis
        self.name = name

    async def hit(self, key: str, per_minute: int) -> int | None:
        """Count one request under `key`; the seconds to wait when over the limit, else None."""
        now = time.time()
        rkey = f"rl:{self.name}:{key}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(rkey, 0, now - WINDOW_S)
            pipe.zadd(rkey, {f"{now:.6f}:{uuid.uuid4().hex[:8]}": now})
            pipe.zcard(rkey)
            pipe.zrange(rkey, 0, 0, withscores=True)
            pipe.expire(rkey, WINDOW_S + 1)
            _, _, count, oldest, _ = await pipe.execute()
        if int(count) > per_minute:
            first = oldest[0][1] if oldest else now
            return max(1, int(first + WINDOW_S - now) + 1)
        return None

    async def check(self, limits: list[tuple[str, int]]) -> None:
        """Every (key, per minute) must hold; raises the 429 problem otherwise."""
        for key, per_minute in limits:
            wait = await self.hit(key, per_minute)
            if wait is not None:
                raise TooManyRequests(f"at most {per_minute} requests a minute; retry in {wait} s", retry_after_s=wait)
