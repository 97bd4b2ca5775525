"""Durations as log-spaced histograms that add up: a day's histogram plus the next day's is the
histogram of both, so a year of percentiles is read from 365 daily rows, not from a million values.

Bucket k >= 1 holds durations in [GAMMA**(k-1), GAMMA**k) seconds; bucket 0 holds durations under
one second. A percentile is the nearest-rank value (rank ceil(q*n)) read back as the bucket's
centre 2*GAMMA**k/(GAMMA+1), so it is within RELATIVE_ACCURACY (1 %) of the exact nearest-rank
value (the DDSketch guarantee).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

GAMMA = 1.02
RELATIVE_ACCURACY = (GAMMA - 1) / (GAMMA + 1)  # 0.0099
_LOG_GAMMA = math.log(GAMMA)


def bucket(seconds: float) -> int:
    if seconds < 1:
        return 0
    return int(math.floor(math.log(seconds) / _LOG_GAMMA)) + 1


def representative(k: int) -> float:
    if k <= 0:
        return 0.0
    return 2 * GAMMA**k / (GAMMA + 1)


def quantile(histogram: Mapping[int, int], q: float) -> float | None:
    """Nearest-rank q-quantile of the durations counted in `histogram` (bucket -> count)."""
    n = sum(c for c in histogram.values() if c > 0)
    if n == 0:
        return None
    rank = max(1, math.ceil(q * n))
    seen = 0
    for k in sorted(histogram):
        c = histogram[k]
        if c <= 0:
            continue
        seen += c
        if seen >= rank:
            return representative(k)
    return representative(max(histogram))  # pragma: no cover - rank <= n always stops above
