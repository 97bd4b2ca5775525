"""Loaded only by scripts/time-of-day.sh (on PYTHONPATH there), into every Python process it runs.

Debian's libfaketime (0.9.10) rewrites an absolute-time clock_nanosleep on CLOCK_MONOTONIC as if the
monotonic clock were faked even when FAKETIME_DONT_FAKE_MONOTONIC=1 leaves it real, so Python's
time.sleep (which sleeps that way) fails with EINVAL; later libfaketime releases fix it. Sleeping
through select() with a relative timeout is unaffected; nothing else changes.
"""

import select
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


time.sleep = _sleep
