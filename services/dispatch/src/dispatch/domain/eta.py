"""The expected arrival when a technician sets off: travel time from where the technician is (the
position the app sent), else from the previous stop of the day, else from home (or the depot the
day starts at), to the site, through the travel-time port (DistanceMatrix). Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from dispatch.domain.distance import DistanceMatrix

Point = tuple[float, float]


@dataclass(frozen=True)
class Eta:
    at: datetime
    source: str  # position | previous_stop | home
    minutes: int


def origin(*, position: Point | None, previous_stop: Point | None, home: Point) -> tuple[Point, str]:
    if position is not None:
        return position, "position"
    if previous_stop is not None:
        return previous_stop, "previous_stop"
    return home, "home"


def estimate(
    distances: DistanceMatrix,
    *,
    now: datetime,
    site: Point | None,
    position: Point | None,
    previous_stop: Point | None,
    home: Point,
) -> Eta | None:
    """None when the site has no coordinates (nothing to measure to)."""
    if site is None:
        return None
    start, source = origin(position=position, previous_stop=previous_stop, home=home)
    raw = float(distances.travel_minutes(np.array([start], dtype=np.float64), np.array([site], dtype=np.float64))[0, 0])
    minutes = max(0, math.ceil(raw)) if math.isfinite(raw) else 0
    return Eta(now + timedelta(minutes=minutes), source, minutes)
