"""The shared waiting helpers: the value that satisfied the condition comes back; a timeout names
what was awaited and shows the last value."""

from __future__ import annotations

import itertools

import pytest

from fixflow_shared.testing import eventually, eventually_blocking


async def test_eventually_returns_the_first_value_that_holds_from_a_sync_or_async_probe():
    counter = itertools.count()
    assert await eventually(lambda: next(counter), lambda n: n >= 3, interval=0.001) == 3

    async def probe() -> list[int]:
        return [1] if next(counter) > 5 else []

    assert await eventually(probe, interval=0.001) == [1]


async def test_eventually_fails_naming_the_fact_and_showing_the_last_value():
    with pytest.raises(AssertionError, match=r"within 0.05 s: the invoice; last value: \{'status': 'draft'\}"):
        await eventually(
            lambda: {"status": "draft"}, lambda i: i["status"] == "issued", timeout=0.05, what="the invoice"
        )


async def test_exceptions_of_the_probe_propagate():
    def probe() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        await eventually(probe, timeout=1)


def test_eventually_blocking_has_the_same_contract():
    counter = itertools.count()
    assert eventually_blocking(lambda: next(counter), lambda n: n == 2, interval=0.001) == 2
    with pytest.raises(AssertionError, match="last value: 0"):
        eventually_blocking(lambda: 0, timeout=0.02, interval=0.005)
