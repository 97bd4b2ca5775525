"""Durable due timers woken through Redis (survey send times, SLA deadlines, quiet hours).

The durable copy of a timer is a row in the owning service's own database (the caller's table:
e.g. a survey with `due_at`). Redis only holds a sorted set per service and kind
(score = due time in epoch seconds, member = timer id) so that a loop wakes at the right moment
without scanning the database. Redis is never the only copy: on start, and then periodically,
the loop re-seeds the set from the database, so a lost Redis, a crash between the database
commit and `schedule()`, or a failed `fire` only delays a timer, never loses it.

    wheel = DueTimerWheel(runtime.redis, "survey:send")
    # after committing the row:      await wheel.schedule(survey_id, due_at)
    runtime.background(lambda: run_timer_loop(wheel, fire=send_survey, reseed=load_pending_from_db))

`fire(timer_id)` must be idempotent and re-check the database row (the timer may have been
cancelled, moved or already fired by another replica): `due()` pops ids atomically, so two
replicas do not normally fire the same id, but a re-seed can bring back an id whose row has not
been updated yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from redis.asyncio import Redis

from fixflow_shared.clock import SYSTEM_CLOCK, Clock
from fixflow_shared.logs import get_logger

log = get_logger(__name__)

KEY_PREFIX = "fixflow:timers:"
# Every wheel of the process, for the timer backlog on /metrics (fixflow_shared.ops_metrics).
_WHEELS: weakref.WeakSet[DueTimerWheel] = weakref.WeakSet()


def wheels_of(redis: Redis) -> list[DueTimerWheel]:
    """The wheels built on this Redis client (a service's: several services may share a process in tests)."""
    return sorted((w for w in _WHEELS if w.redis is redis), key=lambda w: w.name)


# Pop up to ARGV[2] members whose score <= ARGV[1], atomically (one replica gets each id).
_POP_DUE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #ids > 0 then
  redis.call('ZREM', KEYS[1], unpack(ids))
end
return ids
"""


def _epoch(t: datetime | float) -> float:
    if isinstance(t, datetime):
        if t.tzinfo is None:
            raise ValueError("due times must be timezone-aware")
        return t.timestamp()
    return float(t)


class DueTimerWheel:
    """A Redis sorted set of due timers for one service and kind (e.g. "survey:send")."""

    def __init__(self, redis: Redis, name: str) -> None:
        if not name:
            raise ValueError("a timer wheel needs a name")
        self.redis = redis
        self.name = name
        self.key = KEY_PREFIX + name
        self._pop = redis.register_script(_POP_DUE)
        self._wake = asyncio.Event()
        _WHEELS.add(self)

    async def schedule(self, timer_id: str, due_at: datetime | float) -> None:
        """Add or move a timer (call after the database row is committed)."""
        await self.redis.zadd(self.key, {timer_id: _epoch(due_at)})
        self._wake.set()

    async def schedule_many(self, items: Iterable[tuple[str, datetime | float]]) -> int:
        mapping = {tid: _epoch(due) for tid, due in items}
        if mapping:
            await self.redis.zadd(self.key, mapping)
            self._wake.set()
        return len(mapping)

    async def cancel(self, timer_id: str) -> None:
        await self.redis.zrem(self.key, timer_id)

    async def due(self, now: datetime | float | None = None, limit: int = 100) -> list[str]:
        """Atomically remove and return up to `limit` timer ids due at `now` (earliest first)."""
        at = time.time() if now is None else _epoch(now)
        ids = await self._pop(keys=[self.key], args=[repr(at), int(limit)])
        return [i.decode() if isinstance(i, bytes) else str(i) for i in ids]

    async def next_due_at(self) -> float | None:
        """Epoch seconds of the earliest pending timer, or None."""
        first = await self.redis.zrange(self.key, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    async def score(self, timer_id: str) -> float | None:
        s = await self.redis.zscore(self.key, timer_id)
        return None if s is None else float(s)

    async def size(self) -> int:
        return int(await self.redis.zcard(self.key))

    async def overdue(self, now: datetime | float) -> tuple[int, float]:
        """(timers due at `now` and not fired yet, seconds the earliest of them is late)."""
        at = _epoch(now)
        count = int(await self.redis.zcount(self.key, "-inf", at))
        first = await self.redis.zrange(self.key, 0, 0, withscores=True)
        late = max(0.0, at - float(first[0][1])) if first and count else 0.0
        return count, late

    @property
    def seeded_key(self) -> str:
        """Set once the set was filled from the database; gone when Redis lost its data."""
        return self.key + ":seeded"

    async def clear(self) -> None:
        await self.redis.delete(self.key, self.seeded_key)

    def wake(self) -> None:
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that
        # arrives as the wait ends, and the loop would then never stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, seconds)):
                await self._wake.wait()


def _raise_if_cancelled() -> None:
    """Stop a loop whose cancellation a library swallowed: redis-py can finish a command normally
    although the task was cancelled while awaiting it, and the loop would then run forever."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def run_timer_loop(
    wheel: DueTimerWheel,
    fire: Callable[[str], Awaitable[None]],
    reseed: Callable[[], Awaitable[list[tuple[str, datetime]]]],
    poll_s: float = 1.0,
    *,
    reseed_every_s: float = 60.0,
    retry_after_s: float = 5.0,
    batch: int = 100,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """Fire due timers until cancelled.

    - On start, every `reseed_every_s`, and as soon as Redis is found to have lost the set (its
      `seeded_key` marker is gone: a restart, a failover), `reseed()` returns the pending (id,
      due_at) rows of the database; they are (re)added to Redis, so Redis never holds the only copy.
    - Due ids are popped atomically and passed to `fire`; a failing `fire` puts the id back
      `retry_after_s` later (the database row still says it is pending).
    - Sleeps until the earliest timer or `poll_s`, whichever comes first; `schedule()` in the same
      process wakes it early.
    - "Due" is judged by `clock` (the service's clock): a test that pins or advances it fires timers
      by that time; the sleeps between polls are real time.
    """

    def tick() -> float:
        return clock.now().timestamp()

    last_reseed = float("-inf")
    while True:
        _raise_if_cancelled()
        try:
            wheel._wake.clear()  # a schedule() from here on wakes the sleep below
            now = tick()
            # A Redis that restarted empty (or failed over without the set) has no marker: re-seed
            # at once rather than at the next periodic re-seed, which left due timers unfired for
            # up to `reseed_every_s` (found by make chaos restarting Redis).
            if now - last_reseed >= reseed_every_s or not await wheel.redis.exists(wheel.seeded_key):
                rows = await reseed()
                n = await wheel.schedule_many(rows)
                await wheel.redis.set(wheel.seeded_key, b"1")
                last_reseed = now
                if n:
                    log.info("timer wheel re-seeded", wheel=wheel.name, timers=n)
            ids = await wheel.due(now, batch)
            for timer_id in ids:
                try:
                    await fire(timer_id)
                except asyncio.CancelledError:
                    await wheel.schedule(timer_id, now)  # not lost: back in the set for the next run
                    raise
                except Exception as exc:
                    log.warning("timer fire failed", wheel=wheel.name, timer_id=timer_id, error=repr(exc))
                    await wheel.schedule(timer_id, tick() + retry_after_s)
            if len(ids) >= batch:
                continue  # more may be due already
            nxt = await wheel.next_due_at()
            wait = poll_s if nxt is None else min(poll_s, max(0.0, nxt - tick()))
            await wheel._sleep(wait)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Redis or database away: keep trying, the rows are durable
            log.warning("timer loop error", wheel=wheel.name, error=repr(exc))
            await asyncio.sleep(min(poll_s, 1.0) if poll_s > 0 else 0.1)
