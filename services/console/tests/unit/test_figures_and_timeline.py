"""Dashboard figures, their CSV (safe in a spreadsheet), and timeline lines without contact details."""

from __future__ import annotations

import csv
import io

from console.domain.kpis import charts, technician_rows, tiles, to_csv
from console.domain.timeline import summarise


def figures(opened: int, completions: int, first_time: int, csat: tuple[int, int], complaints: int = 0) -> dict:
    """Insight's KPIs (GET /v1/kpis), the parts the dashboard reads."""
    return {
        "tickets": {"opened": opened, "resolved": completions, "jobs": completions},
        "first_response": {"count": 3, "mean_s": 3000.0, "p50_s": 1800.0, "p90_s": 7200.0},
        "arrival_on_time": {"visits": 0, "on_time": 0, "rate": None},
        "first_time_fix": {
            "completions": completions,
            "first_time": first_time,
            "rate": round(first_time / completions, 4) if completions else None,
        },
        "resolution_time": {"count": 2, "mean_s": 95000.0, "p50_s": 90000.0, "p90_s": 200000.0, "p95_s": 200000.0},
        "repeat_repairs": {"repairs": 4, "within_30d": 1, "rate_30d": 0.25, "within_90d": 1, "rate_90d": 0.25},
        "csat": {"responses": csat[1], "satisfied": csat[0], "rate": csat[0] / csat[1] if csat[1] else None},
        "nps": {"responses": 2, "promoters": 1, "detractors": 0, "score": 40.0},
        "complaints": {
            "count": complaints,
            "jobs": completions,
            "per_100_jobs": round(100 * complaints / completions, 2) if completions else None,
        },
        "sla": {"on_time_rate": 0.875, "clocks": {}},
    }


OVERALL = figures(12, 7, 5, (37, 40), complaints=3)
BY_KIND = {
    "repair": figures(9, 5, 4, (1, 1)),
    "complaint": figures(3, 2, 1, (0, 1)),
    "return": figures(0, 0, 0, (0, 0)),
}
BY_TECH = {"TEC-2": figures(3, 2, 1, (0, 1)), "TEC-1": figures(9, 5, 4, (3, 3))}
BY_DAY = {"2026-03-02": figures(4, 2, 2, (9, 10)), "2026-03-03": figures(8, 5, 3, (0, 0))}
BACKLOG = {"triaged": 4, "scheduled": 2}


def test_tiles_charts_and_rows_from_insights_figures():
    t = {x.key: x for x in tiles(OVERALL, BACKLOG)}
    assert t["opened"].value == "12" and t["first_response"].value == "30 min" and t["resolution"].value == "1.0 d"
    assert t["first_response"].note == "p90 2.0 h"
    assert (
        t["sla_on_time"].value == "87.5 %"
        and t["first_time_fix"].value == "71.4 %"
        and t["on_time_arrival"].value == "—"
        and t["repeat_30d"].value == "25.0 %"
    )
    assert t["complaints"].value == "3" and t["complaints"].note == "42.9 / 100"
    assert t["backlog"].value == "6" and t["csat"].value == "92.5 %" and t["nps"].value == "40"
    names = {"TEC-1": "Zhang Wei", "TEC-2": "Li Qiang"}
    c = charts(BY_KIND, BY_DAY, BY_TECH, BACKLOG, names)
    assert c["technicians"]["labels"] == ["Zhang Wei", "Li Qiang"] and c["technicians"]["jobs"] == [5, 2]
    assert c["technicians"]["csat"] == [100.0, 0.0]
    assert c["kinds"] == {"labels": ["complaint", "repair"], "values": [3, 9]}, "kinds without tickets left out"
    assert c["satisfaction"] == {"labels": ["2026-03-02", "2026-03-03"], "csat": [90.0, None], "nps": [40.0, 40.0]}
    assert c["backlog"] == {"labels": ["triaged", "scheduled"], "values": [4, 2]}
    rows = technician_rows(BY_TECH, names)
    assert [r["name"] for r in rows] == ["Zhang Wei", "Li Qiang"]
    assert rows[0] == {
        "id": "TEC-1",
        "name": "Zhang Wei",
        "visits": 5,
        "first_time_fix": 80.0,
        "answered": 3,
        "csat": 100.0,
        "nps": 40.0,
        "complaints": 0,
    }


def test_a_source_that_did_not_answer_shows_dashes_not_zeros():
    t = {x.key: x.value for x in tiles({}, {})}
    assert t["opened"] == "—" and t["csat"] == "—" and t["first_time_fix"] == "—" and t["backlog"] == "0"


def test_csv_cells_never_start_a_formula():
    rows = [
        {
            "id": '=HYPERLINK("http://evil")',
            "name": "+cmd",
            "visits": 1,
            "first_time_fix": None,
            "csat": None,
            "nps": None,
            "answered": 0,
            "complaints": 0,
        }
    ]
    out = to_csv(("a", "b"), tiles(OVERALL, BACKLOG), rows, [{"id": "@T-1", "priority": "P1", "status": "triaged"}])
    cells = [c for r in csv.reader(io.StringIO(out)) for c in r]
    assert not any(c[:1] in ("=", "+", "@") for c in cells), [c for c in cells if c[:1] in "=+@"]
    assert '\'=HYPERLINK("http://evil")' in cells


def test_a_timeline_line_names_what_happened_without_contact_details():
    line = summarise(
        {
            "type": "fixflow.dispatch.technician.assigned.v1",
            "source": "/fixflow/dispatch",
            "time": "2026-03-02T02:00:00Z",
            "data": {
                "technician_name": "Zhang Wei",
                "technician_phone": "+8613700000000",
                "contact_email": "a@example.com",
                "window": {"start": "2026-03-02T02:00:00Z", "end": "2026-03-02T03:30:00Z"},
            },
        }
    )
    assert line["title"] == "Technician assigned" and line["service"] == "dispatch"
    text = " ".join(line["facts"])
    assert "Zhang Wei" in text and "2026-03-02 02:00–03:30 UTC" in text
    assert "+8613700000000" not in text and "example.com" not in text
