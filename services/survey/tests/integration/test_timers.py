"""fixflow_shared.timers against the real Redis: atomic pops, cancel, re-seed, retry of failed fires."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from fixflow_shared.clock import SettableClock
from fixflow_shared.testing import eventually
from fixflow_shared.timers import DueTimerWheel, run_timer_loop

pytestmark = pytest.mark.integration


@pytest.fixture
async def wheel(redis_url: str):
    redis = Redis.from_url(redis_url)
    w = DueTimerWheel(redis, f"test:{uuid.uuid4().hex[:8]}")
    yield w
    await w.clear()
    await redis.aclose()


async def test_due_pops_only_due_ids_in_order_and_once(wheel: DueTimerWheel):
    now = datetime.now(UTC)
    await wheel.schedule("late", now + timedelta(hours=1))
    await wheel.schedule("b", now - timedelta(seconds=1))
    await wheel.schedule("a", now - timedelta(seconds=5))
    await wheel.schedule("c", now)
    assert await wheel.due(now, limit=2) == ["a", "b"]
    assert await wheel.due(now) == ["c"]
    assert await wheel.due(now) == []
    assert await wheel.size() == 1
    assert await wheel.next_due_at() == pytest.approx((now + timedelta(hours=1)).timestamp())


async def test_schedule_moves_and_cancel_removes(wheel: DueTimerWheel):
    now = datetime.now(UTC)
    await wheel.schedule("x", now + timedelta(days=1))
    await wheel.schedule("x", now - timedelta(seconds=1))  # moved earlier: one member, new score
    await wheel.schedule("y", now - timedelta(seconds=1))
    await wheel.cancel("y")
    assert await wheel.due(now) == ["x"]


async def test_naive_datetime_is_refused(wheel: DueTimerWheel):
    with pytest.raises(ValueError):
        await wheel.schedule("n", datetime(2030, 1, 1))


async def test_concurrent_pollers_never_get_the_same_id(wheel: DueTimerWheel):
    past = datetime.now(UTC) - timedelta(seconds=1)
    ids = [f"t{i}" for i in range(300)]
    await wheel.schedule_many((i, past) for i in ids)
    results = await asyncio.gather(*(wheel.due(limit=7) for _ in range(60)))
    popped = [i for r in results for i in r]
    assert len(popped) == len(set(popped)) == 300
    assert set(popped) == set(ids)


async def test_loop_fires_reseeds_from_the_durable_copy_and_retries(wheel: DueTimerWheel):
    # The "database": pending timers; fire marks them done (idempotently, re-checking the row).
    now = datetime.now(UTC)
    db: dict[str, datetime] = {
        "due-now": now - timedelta(seconds=1),
        "soon": now + timedelta(milliseconds=300),
        "flaky": now - timedelta(seconds=1),
        "later": now + timedelta(days=3),
    }
    fired: list[str] = []
    failures = {"flaky": 1}

    async def fire(timer_id: str) -> None:
        if failures.get(timer_id):
            failures[timer_id] -= 1
            raise RuntimeError("transient")
        if timer_id in db:  # re-check: a second fire of the same id does nothing
            del db[timer_id]
            fired.append(timer_id)

    async def reseed() -> list[tuple[str, datetime]]:
        return list(db.items())

    # Nothing was ever scheduled in Redis: the loop must find the timers through reseed().
    task = asyncio.create_task(run_timer_loop(wheel, fire, reseed, poll_s=0.05, reseed_every_s=0.5, retry_after_s=0.1))
    try:
        await eventually(lambda: {"due-now", "soon", "flaky"} <= set(fired), timeout=5, interval=0.02)
        assert "later" in db and await wheel.score("later") is not None
        # Redis loses everything (flush, failover): the next re-seed restores it from the rows.
        await wheel.clear()
        db["again"] = datetime.now(UTC)
        await eventually(lambda: "again" in fired, timeout=5, interval=0.02)
        assert await wheel.score("later") is not None
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)  # a loop that ignores its cancellation fails, not hangs
    assert sorted(fired) == ["again", "due-now", "flaky", "soon"]


async def test_a_redis_that_lost_its_data_is_reseeded_at_once_not_at_the_next_period(wheel: DueTimerWheel):
    # A Redis restart emptied the set: due timers waited for the periodic re-seed (60 s in the
    # services) although their rows were pending (found by make chaos restarting Redis).
    db: dict[str, datetime] = {}
    fired: list[str] = []

    async def fire(timer_id: str) -> None:
        if db.pop(timer_id, None) is not None:
            fired.append(timer_id)

    async def reseed() -> list[tuple[str, datetime]]:
        return list(db.items())

    task = asyncio.create_task(run_timer_loop(wheel, fire, reseed, poll_s=0.05, reseed_every_s=3600))
    try:
        await eventually(lambda: wheel.redis.exists(wheel.seeded_key), lambda n: n == 1, timeout=5, interval=0.02)
        # Pending in the database but never scheduled in Redis (committed while Redis was away),
        # written before the wipe: the loop may notice the wipe while clear() is still awaited,
        # and a row written after that re-seed would wait for the next period (a flaky failure).
        db["after-restart"] = datetime.now(UTC)
        await wheel.clear()  # what a restarted Redis holds of this wheel: nothing
        await eventually(lambda: "after-restart" in fired, timeout=5, interval=0.02)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


async def test_the_loop_judges_due_by_the_clock_it_is_given(wheel: DueTimerWheel):
    # Pinned at an instant where "now-ish" is due and "next-year" is not: both are popped by the same
    # due() call if due, so "now-ish" firing while "next-year" stays scheduled shows the clock decides.
    clock = SettableClock(datetime(2030, 6, 1, 12, 0, tzinfo=UTC))
    db = {"now-ish": clock.now() - timedelta(seconds=1), "next-year": clock.now() + timedelta(days=365)}
    fired: list[str] = []

    async def fire(timer_id: str) -> None:
        if db.pop(timer_id, None) is not None:
            fired.append(timer_id)

    async def reseed() -> list[tuple[str, datetime]]:
        return list(db.items())

    task = asyncio.create_task(run_timer_loop(wheel, fire, reseed, poll_s=0.05, reseed_every_s=3600, clock=clock))
    try:

        async def until(cond) -> None:
            while not cond():
                await asyncio.sleep(0.02)

        await asyncio.wait_for(until(lambda: "now-ish" in fired), 5)
        assert fired == ["now-ish"] and await wheel.score("next-year") is not None
        clock.advance(days=365)  # a year passes for the service, not for the machine
        await asyncio.wait_for(until(lambda: "next-year" in fired), 5)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)  # a loop that ignores its cancellation fails, not hangs
