"""The dispatcher board's geometry (pure): technicians × time as lanes of positioned bars, and a map
drawn from coordinates.

Time runs left to right over one or more equal segments: one day (its working part) in the day
view, seven in the week view. A bar's left and width are percentages of the lane, so the browser
lays out 2,000 bars without script; the browser maps a drop position back to a time with the same
segments (sent as data).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DAY_HOURS = (7, 21)  # hours of the day shown by default (local time of the board), [from, to)
SNAP_MIN = 30


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass
class Bar:
    id: str  # element id: job-<job id>
    job_id: str
    ticket_id: str
    appointment_id: str | None
    technician_id: str | None
    priority: str
    kind: str
    state: str  # booked | confirmed | en_route | on_site | done ...
    start: datetime
    end: datetime
    left: float
    width: float
    window_min: int


@dataclass
class Lane:
    technician: dict[str, Any]
    bars: list[Bar] = field(default_factory=list)
    absences: list[dict[str, Any]] = field(default_factory=list)  # {left, width, reason}
    off: list[tuple[float, float]] = field(default_factory=list)  # non-working stretches (left, width)


@dataclass
class Board:
    view: str
    day: date
    start: datetime
    end: datetime
    segments: list[Segment]
    ticks: list[tuple[float, str]]
    lanes: list[Lane]
    now_left: float | None
    count: int


def _at_hour(d: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(d + timedelta(days=hour // 24), time(hour % 24), zone).astimezone(UTC)


def segments_for(view: str, day: date, tz: str, hours: tuple[int, int] = DAY_HOURS) -> list[Segment]:
    zone = ZoneInfo(tz)
    days = [day] if view == "day" else [day - timedelta(days=day.weekday()) + timedelta(days=i) for i in range(7)]
    return [Segment(_at_hour(d, hours[0], zone), _at_hour(d, hours[1], zone)) for d in days]


def position(t: datetime, segments: list[Segment]) -> float:
    """Percent of the lane at which time t lies (clamped into the shown segments)."""
    n = len(segments)
    for i, s in enumerate(segments):
        if t < s.start:
            return 100.0 * i / n
        if t <= s.end:
            return 100.0 * (i + (t - s.start).total_seconds() / s.seconds) / n
    return 100.0


def span(a: datetime, b: datetime, segments: list[Segment]) -> tuple[float, float]:
    left = position(a, segments)
    return left, max(position(b, segments) - left, 0.0)


def _at(v: Any) -> datetime:
    return v if isinstance(v, datetime) else datetime.fromisoformat(str(v))


def bar_of(a: dict[str, Any], segments: list[Segment]) -> Bar | None:
    """An appointment as a bar: the planned service time if known, else its window."""
    start = _at(a["planned_start"]) if a.get("planned_start") else _at(a["window_start"])
    end = _at(a["planned_end"]) if a.get("planned_end") else _at(a["window_end"])
    if end <= segments[0].start or start >= segments[-1].end:
        return None
    left, width = span(start, end, segments)
    wo = a.get("work_order_status")
    state = (
        a["status"] if a["status"] == "done" else (wo if wo in ("en_route", "on_site", "completed") else a["status"])
    )
    window_min = int((_at(a["window_end"]) - _at(a["window_start"])).total_seconds() // 60)
    return Bar(
        id=f"job-{a['job_id']}",
        job_id=a["job_id"],
        ticket_id=a["ticket_id"],
        appointment_id=a["id"],
        technician_id=a["technician_id"],
        priority=a.get("priority") or "P3",
        kind=a.get("kind") or "repair",
        state=state,
        start=start,
        end=end,
        left=round(left, 3),
        width=round(max(width, 0.4), 3),
        window_min=window_min,
    )


def _off_hours(tech: dict[str, Any], segments: list[Segment]) -> list[tuple[float, float]]:
    """Stretches of the shown segments outside the technician's weekly hours (their time zone)."""
    hours = tech.get("hours") or {}
    zone = ZoneInfo(hours.get("tz") or "UTC")
    days = hours.get("days") or {}
    out = []
    for s in segments:
        local = s.start.astimezone(zone)
        h = days.get(str(local.weekday()))
        if not h:
            out.append(span(s.start, s.end, segments))
            continue
        open_, close = (
            datetime.combine(local.date(), time.fromisoformat(h[0]), zone).astimezone(UTC),
            datetime.combine(local.date(), time.fromisoformat(h[1]), zone).astimezone(UTC),
        )
        if open_ > s.start:
            out.append(span(s.start, min(open_, s.end), segments))
        if close < s.end:
            out.append(span(max(close, s.start), s.end, segments))
    return [(round(a, 3), round(b, 3)) for a, b in out if b > 0]


def layout(
    *,
    view: str,
    day: date,
    tz: str,
    technicians: list[dict[str, Any]],
    appointments: list[dict[str, Any]],
    now: datetime | None = None,
    hours: tuple[int, int] = DAY_HOURS,
) -> Board:
    segments = segments_for(view, day, tz, hours)
    zone = ZoneInfo(tz)
    lanes = {t["id"]: Lane(technician=t) for t in technicians if t.get("active", True)}
    count = 0
    for a in appointments:
        lane = lanes.get(a["technician_id"])
        if lane is None:
            continue
        b = bar_of(a, segments)
        if b is not None:
            lane.bars.append(b)
            count += 1
    for lane in lanes.values():
        for ab in lane.technician.get("absences") or []:
            s, e = _at(ab["start"]), _at(ab["end"])
            if e > segments[0].start and s < segments[-1].end:
                left, width = span(s, e, segments)
                if width > 0:
                    lane.absences.append(
                        {"left": round(left, 3), "width": round(width, 3), "reason": ab.get("reason", "")}
                    )
        lane.off = _off_hours(lane.technician, segments)
    if view == "day":
        step = 1 if hours[1] - hours[0] <= 14 else 2
        ticks = [
            (position(_at_hour(day, h, zone), segments), f"{h % 24:02d}:00")
            for h in range(hours[0], hours[1] + 1, step)
        ]
    else:
        ticks = [
            (100.0 * i / len(segments), s.start.astimezone(zone).strftime("%a %m-%d")) for i, s in enumerate(segments)
        ]
    now = now or datetime.now(UTC)
    now_left = position(now, segments) if segments[0].start <= now <= segments[-1].end else None
    ordered = sorted(lanes.values(), key=lambda ln: (ln.technician.get("name") or "", ln.technician["id"]))
    return Board(
        view=view,
        day=day,
        start=segments[0].start,
        end=segments[-1].end,
        segments=segments,
        ticks=ticks,
        lanes=ordered,
        now_left=now_left,
        count=count,
    )


# --- map ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapPoint:
    kind: str  # technician | job
    id: str
    label: str
    x: float
    y: float
    priority: str | None = None


@dataclass
class MapView:
    width: int
    height: int
    points: list[MapPoint]
    lines: list[tuple[float, float, float, float]]
    tiles: list[dict[str, Any]]


def _merc(lat: float, lon: float, z: float) -> tuple[float, float]:
    """Web Mercator in pixels at zoom z (256-px tiles), as tile servers use."""
    s = 256 * 2**z
    lat = max(min(lat, 85.0511), -85.0511)
    x = (lon + 180.0) / 360.0 * s
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * s
    return x, y


def map_view(
    *,
    technicians: list[dict[str, Any]],
    jobs: list[dict[str, Any]],
    links: list[tuple[str, str]],
    width: int = 320,
    height: int = 320,
    tile_url: str | None = None,
) -> MapView | None:
    """Technicians (home base) and jobs placed by their coordinates; `links` (technician id, job id)
    draw a line per visit. Without a tile server the map is a plain projection; with one, the tiles
    covering the view are listed for the page to draw underneath."""
    pts = [(t["home_lat"], t["home_lon"]) for t in technicians if t.get("home_lat") is not None]
    pts += [(j["lat"], j["lon"]) for j in jobs if j.get("lat") is not None and j.get("lon") is not None]
    if not pts:
        return None
    pad = 16
    lat_lo, lat_hi = min(p[0] for p in pts), max(p[0] for p in pts)
    lon_lo, lon_hi = min(p[1] for p in pts), max(p[1] for p in pts)
    # the largest zoom at which the bounding box fits (fractional zoom for the plain map)
    x0, y0 = _merc(lat_hi, lon_lo, 0)
    x1, y1 = _merc(lat_lo, lon_hi, 0)
    dx, dy = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
    z = min(math.log2((width - 2 * pad) / dx), math.log2((height - 2 * pad) / dy), 18.0)
    if tile_url:
        z = math.floor(z)
    ox, oy = _merc(lat_hi, lon_lo, z)
    cx, cy = _merc(lat_lo, lon_hi, z)
    off_x = ox - pad - ((width - 2 * pad) - (cx - ox)) / 2
    off_y = oy - pad - ((height - 2 * pad) - (cy - oy)) / 2

    def xy(lat: float, lon: float) -> tuple[float, float]:
        px, py = _merc(lat, lon, z)
        return round(px - off_x, 1), round(py - off_y, 1)

    points: list[MapPoint] = []
    where: dict[str, tuple[float, float]] = {}
    for t in technicians:
        if t.get("home_lat") is None:
            continue
        x, y = xy(t["home_lat"], t["home_lon"])
        where[t["id"]] = (x, y)
        points.append(MapPoint("technician", t["id"], t.get("name") or t["id"], x, y))
    for j in jobs:
        if j.get("lat") is None or j.get("lon") is None:
            continue
        x, y = xy(j["lat"], j["lon"])
        where[j["job_id"]] = (x, y)
        points.append(MapPoint("job", j["job_id"], j.get("ticket_id") or j["job_id"], x, y, j.get("priority")))
    lines = [(*where[a], *where[b]) for a, b in links if a in where and b in where]
    tiles: list[dict[str, Any]] = []
    if tile_url:
        zi = int(z)
        for tx in range(int(off_x // 256), int((off_x + width) // 256) + 1):
            for ty in range(int(off_y // 256), int((off_y + height) // 256) + 1):
                if 0 <= ty < 2**zi:
                    url = tile_url.replace("{z}", str(zi)).replace("{x}", str(tx % 2**zi)).replace("{y}", str(ty))
                    tiles.append({"x": round(tx * 256 - off_x, 1), "y": round(ty * 256 - off_y, 1), "url": url})
    return MapView(width=width, height=height, points=points, lines=lines, tiles=tiles)
