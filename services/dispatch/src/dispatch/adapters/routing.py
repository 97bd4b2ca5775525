"""Distance-matrix plug-ins: a road-network provider in place of the great-circle default.

`OsrmTable` asks an OSRM server's table service for durations and distances (one request per
matrix; coordinates are lon,lat in OSRM). Any failure falls back to the haversine estimate for that
call and is counted, so planning never stops because a routing server is away.
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
        timeout_s: float = 2.0,
        fallback: HaversineMatrix | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.fallback = fallback or HaversineMatrix()
        self.client = client or httpx.Client(timeout=timeout_s)
        self.fallbacks = 0

    def _table(self, origins: Coords, destinations: Coords) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        o = np.asarray(origins, dtype=np.float64).reshape(-1, 2)
        d = np.asarray(destinations, dtype=np.float64).reshape(-1, 2)
        if o.size == 0 or d.size == 0:
            return np.zeros((len(o), len(d))), np.zeros((len(o), len(d)))
        coords = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in np.vstack([o, d]))
        sources = ";".join(str(i) for i in range(len(o)))
        dests = ";".join(str(len(o) + i) for i in range(len(d)))
        url = f"{self.base_url}/table/v1/{self.profile}/{coords}"
        try:
            r = self.client.get(
                url, params={"sources": sources, "destinations": dests, "annotations": "duration,distance"}
            )
            r.raise_for_status()
            body = r.json()
            if body.get("code") != "Ok":
                raise ValueError(body.get("code"))
            dur = np.array(body["durations"], dtype=np.float64) / 60.0
            dist = np.array(body["distances"], dtype=np.float64) / 1000.0
            return np.where(np.isnan(dur), np.inf, dur), np.where(np.isnan(dist), np.inf, dist)
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            self.fallbacks += 1
            log.warning("routing server unavailable, using great-circle estimates", error=repr(exc))
            return None

    def travel_minutes(self, origins: Coords, destinations: Coords) -> NDArray[np.float64]:
        t = self._table(origins, destinations)
        return t[0] if t is not None else self.fallback.travel_minutes(origins, destinations)

    def distance_km(self, origins: Coords, destinations: Coords) -> NDArray[np.float64]:
        t = self._table(origins, destinations)
        return t[1] if t is not None else self.fallback.distance_km(origins, destinations)
