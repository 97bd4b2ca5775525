"""The road-network plug-in speaks OSRM's table API and falls back to great-circle estimates."""

from __future__ import annotations

import httpx
import numpy as np

from dispatch.adapters.routing import OsrmTable
from dispatch.domain.distance import HaversineMatrix


def test_osrm_table_is_used_and_units_converted():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"] = str(request.url)
        return httpx.Response(200, json={"code": "Ok", "durations": [[600.0, None]], "distances": [[5000.0, 7000.0]]})

    osrm = OsrmTable("http://osrm", client=httpx.Client(transport=httpx.MockTransport(handler)))
    o = np.array([[31.2, 121.4]])
    d = np.array([[31.3, 121.5], [31.4, 121.6]])
    minutes = osrm.travel_minutes(o, d)
    assert minutes[0, 0] == 10.0 and np.isinf(minutes[0, 1])  # unreachable stays infeasible
    assert osrm.distance_km(o, d).tolist() == [[5.0, 7.0]]
    assert "121.400000,31.200000" in seen["url"] and "sources=0" in seen["url"]
    assert osrm.fallbacks == 0


def test_falls_back_to_haversine_when_the_server_is_away():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    osrm = OsrmTable("http://osrm", client=httpx.Client(transport=httpx.MockTransport(handler)))
    o, d = np.array([[31.2, 121.4]]), np.array([[31.3, 121.5]])
    assert osrm.travel_minutes(o, d) == HaversineMatrix().travel_minutes(o, d)
    assert osrm.fallbacks == 1
