"""Travel-matrix adapter for a road network: any server speaking OSRM's /table API (OSRM itself,
or a compatible service) in place of the great-circle default.

One `table` call asks for durations and distances together; a matrix larger than the server's
table limit (`max_table` locations per request, OSRM's --max-table-size, 100 by default) is
asked in blocks. Coordinates go as lon,lat. Any failure falls back to the great-circle estimate
for that call and is counted, so planning never stops because a routing server is away.
"""

from __future__ import annotations

import httpx
import numpy as np
from numpy.typing import NDArray

from dispatch.domain.distance import Coords, HaversineMatrix
from fixflow_shared.logs import get_logger

log = get_logger(__name__)


class OsrmTable:
    def __init__(
        self,
        base_url: str,
        *,
        profile: str = "driving",
        timeout_s: float = 5.0,
        fallback: HaversineMatrix | None = None,
        client: httpx.Client | None = None,
        max_table: int = 100,
    ) -> None:
        if max_table < 2:
            raise ValueError("a table request needs room for an origin and a destination")
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.fallback = fallback or HaversineMatrix()
        self.client = client or httpx.Client(timeout=timeout_s)
        self.max_table = max_table
        self.fallbacks = 0
        self.requests = 0

    def table(self, origins: Coords, destinations: Coords) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        o = np.asarray(origins, dtype=np.float64).reshape(-1, 2)
        d = np.asarray(destinations, dtype=np.float64).reshape(-1, 2)
        if o.size == 0 or d.size == 0:
            return np.zeros((len(o), len(d))), np.zeros((len(o), len(d)))
        minutes = np.empty((len(o), len(d)))
        km = np.empty((len(o), len(d)))
        if len(o) + len(d) <= self.max_table:
            step_o, step_d = len(o), len(d)  # one request
        else:
            step_o = min(len(o), max(1, self.max_table // 2))
            step_d = self.max_table - step_o
        try:
            for i in range(0, len(o), step_o):
                for j in range(0, len(d), step_d):
                    m, k = self._request(o[i : i + step_o], d[j : j + step_d])
                    minutes[i : i + step_o, j : j + step_d] = m
                    km[i : i + step_o, j : j + step_d] = k
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            self.fallbacks += 1
            log.warning("routing server unavailable, using great-circle estimates", error=repr(exc))
            return self.fallback.table(o, d)
        return minutes, km

    def _request(
        self, o: NDArray[np.float64], d: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        coords = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in np.vstack([o, d]))
        sources = ";".join(str(i) for i in range(len(o)))
        dests = ";".join(str(len(o) + i) for i in range(len(d)))
        self.requests += 1
        r = self.client.get(
            f"{self.base_url}/table/v1/{self.profile}/{coords}",
            params={"sources": sources, "destinations": dests, "annotations": "duration,distance"},
        )
        r.raise_for_status()
        body = r.json()
        if body.get("code") != "Ok":
            raise ValueError(body.get("code"))
        dur = np.array(body["durations"], dtype=np.float64) / 60.0
        dist = np.array(body["distances"], dtype=np.float64) / 1000.0
        if dur.shape != (len(o), len(d)) or dist.shape != dur.shape:
            raise ValueError(f"table of shape {dur.shape} for {len(o)} x {len(d)}")
        # unreachable pairs (null) stay infeasible
        return np.where(np.isnan(dur), np.inf, dur), np.where(np.isnan(dist), np.inf, dist)

    def travel_minutes(self, origins: Coords, destinations: Coords) -> NDArray[np.float64]:
        return self.table(origins, destinations)[0]

    def distance_km(self, origins: Coords, destinations: Coords) -> NDArray[np.float64]:
        return self.table(origins, destinations)[1]
