"""Waiting for facts, never for time: the one polling helper of the test suites.

    row = await eventually(lambda: repo.get(tenant, ticket), what="the ticket's facts stored")
    job = await eventually(get_job, lambda j: j is not None and j["status"] == "assigned")

`probe` may be a plain or an async callable; `until` (default: the value is truthy) decides when the
fact holds, and that value is returned. When the time runs out the test fails with an
AssertionError naming what was awaited and showing the last value seen, so a failure tells what
was missing rather than only that something timed out. Exceptions raised by `probe` propagate.

`eventually_blocking` is the same for synchronous tests (the end-to-end tests drive processes with
a blocking HTTP client).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 20.0
DEFAULT_INTERVAL_S = 0.1


def _failure(probe: Callable[[], Any], what: str, timeout: float, last: Any) -> AssertionError:
    name = what or getattr(probe, "__qualname__", repr(probe))
    shown = repr(last)
    if len(shown) > 2000:
        shown = shown[:2000] + f"... ({len(shown)} characters)"
    return AssertionError(f"not reached within {timeout:g} s: {name}; last value: {shown}")


@overload
async def eventually(
    probe: Callable[[], Awaitable[T]],
    until: Callable[[T], object] = bool,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    interval: float = DEFAULT_INTERVAL_S,
    what: str = "",
) -> T: ...


@overload
async def eventually(
    probe: Callable[[], T],
    until: Callable[[T], object] = bool,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    interval: float = DEFAULT_INTERVAL_S,
    what: str = "",
) -> T: ...


async def eventually(
    probe: Callable[[], Any],
    until: Callable[[Any], object] = bool,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    interval: float = DEFAULT_INTERVAL_S,
    what: str = "",
) -> Any:
    """Call `probe` until `until(value)` holds and return that value; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if until(value):
            return value
        if loop.time() >= deadline:
            raise _failure(probe, what, timeout, value)
        await asyncio.sleep(interval)


def eventually_blocking(
    probe: Callable[[], T],
    until: Callable[[T], object] = bool,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    interval: float = DEFAULT_INTERVAL_S,
    what: str = "",
) -> T:
    """`eventually` for synchronous code: the same contract, blocking the calling thread."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if until(value):
            return value
        if time.monotonic() >= deadline:
            raise _failure(probe, what, timeout, value)
        time.sleep(interval)


def holds(check: Callable[[], object]) -> Callable[[], bool]:
    """A probe from an assertion: `check()` passing is the fact (AssertionError means not yet)."""

    def probe() -> bool:
        try:
            check()
        except AssertionError:
            return False
        return True

    return probe
