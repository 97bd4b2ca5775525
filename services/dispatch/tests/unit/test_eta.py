"""The ETA when a technician sets off: from the position sent, else the previous stop, else home."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch.domain.distance import HaversineMatrix
from dispatch.domain.eta import estimate

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
SITE = (31.2304, 121.4737)
NEAR = (31.2404, 121.4737)  # ~1.1 km north
FAR = (31.4304, 121.4737)  # ~22 km north
MATRIX = HaversineMatrix(speed_kmh=35.0, detour_factor=1.3)


def test_the_position_sent_wins_over_the_previous_stop_and_home():
    e = estimate(MATRIX, now=NOW, site=SITE, position=FAR, previous_stop=NEAR, home=NEAR)
    assert e is not None and e.source == "position"
    assert 45 <= e.minutes <= 55 and e.at == NOW + timedelta(minutes=e.minutes)


def test_without_a_position_the_previous_stop_then_home():
    from_stop = estimate(MATRIX, now=NOW, site=SITE, position=None, previous_stop=NEAR, home=FAR)
    assert from_stop is not None and from_stop.source == "previous_stop" and 1 <= from_stop.minutes <= 4
    from_home = estimate(MATRIX, now=NOW, site=SITE, position=None, previous_stop=None, home=FAR)
    assert from_home is not None and from_home.source == "home" and from_home.minutes > from_stop.minutes


def test_a_site_without_coordinates_has_no_eta_and_being_there_is_now():
    assert estimate(MATRIX, now=NOW, site=None, position=FAR, previous_stop=None, home=FAR) is None
    here = estimate(MATRIX, now=NOW, site=SITE, position=SITE, previous_stop=None, home=FAR)
    assert here is not None and here.minutes == 0 and here.at == NOW
