"""Time intervals (timezone-aware, half-open) and subtracting holes from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("interval times must be timezone-aware")
        if self.end <= self.start:
            raise ValueError("an interval must end after it starts")

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


def subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    """Intervals minus holes (absences)."""
    out = list(intervals)
    for h in holes:
        nxt: list[Interval] = []
        for iv in out:
            if not iv.overlaps(h):
                nxt.append(iv)
                continue
            if iv.start < h.start:
                nxt.append(Interval(iv.start, h.start))
            if h.end < iv.end:
                nxt.append(Interval(h.end, iv.end))
        out = nxt
    return out
