"""The board's geometry: bars placed by time in day and week views, working hours and absences,
the map projected from coordinates (with and without a tile server)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from console.domain.board import layout, map_view, position, segments_for

DAY = date(2026, 3, 2)  # a Monday
TZ = "Asia/Shanghai"


def tech(i: int, **kw) -> dict:
    return {
        "id": f"TEC-{i}",
        "name": f"Tech {i}",
        "home_lat": 31.2 + i * 0.01,
        "home_lon": 121.4,
        "active": True,
        "hours": {"tz": TZ, "days": {str(d): ["08:00", "20:00"] for d in range(5)}},
        "absences": [],
        **kw,
    }


def appt(t: str, start: str, end: str, **kw) -> dict:
    return {
        "id": "APT-1",
        "job_id": "J-1",
        "ticket_id": "T-000001",
        "technician_id": t,
        "window_start": start,
        "window_end": end,
        "status": "booked",
        "priority": "P2",
        "kind": "repair",
        "work_order_status": "assigned",
        "planned_start": None,
        "planned_end": None,
        **kw,
    }


def test_day_view_places_a_bar_by_local_time():
    segs = segments_for("day", DAY, TZ)
    assert segs[0].start == datetime(2026, 3, 1, 23, 0, tzinfo=UTC)  # 07:00 in Shanghai
    assert position(datetime(2026, 3, 2, 6, 0, tzinfo=UTC), segs) == pytest.approx(50.0)  # 14:00 of 07-21
    board = layout(
        view="day",
        day=DAY,
        tz=TZ,
        technicians=[tech(1), tech(2)],
        appointments=[appt("TEC-1", "2026-03-02T02:00:00+00:00", "2026-03-02T03:30:00+00:00")],  # 10:00-11:30
        now=datetime(2026, 3, 2, 6, 0, tzinfo=UTC),
    )
    lane = next(ln for ln in board.lanes if ln.technician["id"] == "TEC-1")
    (bar,) = lane.bars
    assert bar.left == pytest.approx(100 * 3 / 14, abs=0.01) and bar.width == pytest.approx(100 * 1.5 / 14, abs=0.01)
    assert bar.window_min == 90 and bar.state == "booked" and board.count == 1
    assert board.now_left == pytest.approx(50.0)
    assert lane.off == [
        (0.0, pytest.approx(100 / 14, abs=0.01)),
        (pytest.approx(100 * 13 / 14, abs=0.01), pytest.approx(100 / 14, abs=0.01)),
    ]


def test_week_view_absences_and_what_is_not_shown():
    away = tech(
        1, absences=[{"start": "2026-03-03T00:00:00+00:00", "end": "2026-03-04T00:00:00+00:00", "reason": "sick"}]
    )
    board = layout(
        view="week",
        day=date(2026, 3, 4),
        tz=TZ,
        technicians=[away, tech(3, active=False)],
        appointments=[
            appt("TEC-1", "2026-03-06T02:00:00+00:00", "2026-03-06T03:00:00+00:00", status="done"),
            appt("TEC-1", "2026-03-20T02:00:00+00:00", "2026-03-20T03:00:00+00:00"),  # another week
            appt("TEC-9", "2026-03-03T02:00:00+00:00", "2026-03-03T03:00:00+00:00"),  # unknown technician
        ],
    )
    assert len(board.segments) == 7 and board.ticks[0][1].startswith("Mon")
    assert [ln.technician["id"] for ln in board.lanes] == ["TEC-1"], "inactive technicians have no lane"
    (lane,) = board.lanes
    assert [b.state for b in lane.bars] == ["done"]
    assert lane.absences and lane.absences[0]["reason"] == "sick"
    assert len(lane.off) >= 2, "Saturday and Sunday are off"


def test_map_without_and_with_tiles():
    techs = [tech(1), tech(2)]
    jobs = [{"job_id": "J-1", "ticket_id": "T-1", "lat": 31.25, "lon": 121.45, "priority": "P1"}]
    plain = map_view(technicians=techs, jobs=jobs, links=[("TEC-1", "J-1")])
    assert plain is not None and not plain.tiles and len(plain.points) == 3 and len(plain.lines) == 1
    assert all(0 <= p.x <= plain.width and 0 <= p.y <= plain.height for p in plain.points)
    north = min(plain.points, key=lambda p: p.y)
    assert north.id == "J-1", "the northernmost point is drawn highest"
    tiled = map_view(technicians=techs, jobs=jobs, links=[], tile_url="https://tiles.example/{z}/{x}/{y}.png")
    assert tiled is not None and tiled.tiles and all(t["url"].startswith("https://tiles.example/") for t in tiled.tiles)
    assert map_view(technicians=[], jobs=[], links=[]) is None
