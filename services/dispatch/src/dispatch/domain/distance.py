"""Travel times and distances behind one port, so a road-network provider can replace the
great-circle default without touching the planner (the OSRM adapter lives in adapters/routing.py)."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import NDArray

EARTH_RADIUS_KM = 6371.0088

Coords = NDArray[np.float64]  # shape (n, 2): latitude, longitude in degrees


class DistanceMatrix(Protocol):
    """Travel from every origin to every destination: arrays of shape (len(origins), len(destinations))."""

    def table(self, origins: Coords, destinations: Coords) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Travel minutes and road kilometres in one call (one request to a routing server)."""
        ...

    def travel_minutes(self, origins: Coords, destinations: Coords) -> NDArray[np.float64]: ...

    def distance_km(self, origins: Coords, destinations: Coords) -> NDArray[np.float64]: ...


def haversine_km(origins: Coords, destinations: Coords) -> NDArray[np.float64]:
    o = np.radians(np.asarray(origins, dtype=np.float64).reshape(-1, 2))
    d = np.radians(np.asarray(destinations, dtype=np.float64).reshape(-1, 2))
    lat1, lon1 = o[:, 0:1], o[:, 1:2]
    lat2, lon2 = d[:, 0][None, :], d[:, 1][None, :]
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    km: NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return km


class HaversineMatrix:
    """Great-circle distance times a road (detour) factor, at an average road speed."""

    def __init__(self, *, speed_kmh: float = 35.0, detour_factor: float = 1.3) -> None:
        if speed_kmh <= 0 or detour_factor < 1:
            raise ValueError("speed must be positive and the detour factor at least 1")
        self.speed_kmh = speed_kmh
        self.detour_factor = detour_factor

    def distance_km(self, origins: Coords, destinations: Coords) -> NDArray[np.float64]:
        return haversine_km(origins, destinations) * self.detour_factor

    def travel_minutes(self, origins: Coords, destinations: Coords) -> NDArray[np.float64]:
        return self.distance_km(origins, destinations) / self.speed_kmh * 60.0

    def table(self, origins: Coords, destinations: Coords) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        km = self.distance_km(origins, destinations)
        return km / self.speed_kmh * 60.0, km
