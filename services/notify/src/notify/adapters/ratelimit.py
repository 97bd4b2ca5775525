"""Per-tenant rate limits in Redis: a fixed one-minute window per tenant and channel.

INCR + EXPIRE in one round trip; a message over the limit is deferred to the next window (never
dropped). Redis away -> the limiter lets the message through: losing the limit for a moment is
better than holding every customer message hostage to a cache.
"""

from __future__ import annotations

from datetime import datetime

from redis.asyncio import Redis

from notify.domain.model import next_rate_window, rate_window_start


class TenantRateLimiter:
    def __init__(self, redis: Redis, *, default_per_minute: int, per_tenant: dict[str, int] | None = None) -> None:
        self.redis = redis
        self.default = default_per_minute
        self.per_tenant = dict(per_tenant or {})

    def limit_for(self, tenant_id: str) -> int:
        return self.per_tenant.get(tenant_id, self.default)

    async def acquire(self, tenant_id: str, channel: str, now: datetime) -> datetime | None:
        """None if the message may go now, else when the next window opens."""
        window = rate_window_start(now)
        key = f"notify:rate:{tenant_id}:{channel}:{int(window.timestamp())}"
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, 120)
                count, _ = await pipe.execute()
        except Exception:
            return None
        return None if int(count) <= self.limit_for(tenant_id) else next_rate_window(now)
