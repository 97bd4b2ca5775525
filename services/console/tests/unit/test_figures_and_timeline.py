"""Dashboard figures, their CSV (safe in a spreadsheet), and timeline lines without contact details."""

from __future__ import annotations

import csv
import io

from console.domain.kpis import charts, technician_rows, tiles, to_csv
from console.domain.timeline import summarise

TICKETS = {
    "opened": 12,
    "opened_by_kind": {"repair": 9, "complaint": 3},
    "response_time_s": {"p50": 1800, "p90": 7200},
    "resolution_time_s": {"p50": 90000, "p90": 200000},
    "on_time_rate": 0.875,
    "backlog_by_status": {"triaged": 4, "scheduled": 2},
}
FIELD = {"first_time_fix_rate": 0.8, "on_time_arrival_rate": None, "jobs_per_technician": {"TEC-1": 5, "TEC-2": 2}}
SAT = {"csat": 92.5, "nps": 40.0}
BY_TECH = [{"group": "TEC-1", "csat": 100.0, "nps": 50.0, "answered": 3, "praise": 1, "dissatisfied": 0}]


def test_tiles_charts_and_rows():
    t = {x.key: x for x in tiles(TICKETS, FIELD, SAT)}
    assert t["opened"].value == "12" and t["first_response"].value == "30 min" and t["resolution"].value == "1.0 d"
    assert (
        t["sla_on_time"].value == "87.5 %"
        and t["first_time_fix"].value == "80.0 %"
        and t["on_time_arrival"].value == "—"
    )
    assert t["complaints"].value == "3" and t["backlog"].value == "6" and t["csat"].value == "92.5 %"
    names = {"TEC-1": "Zhang Wei", "TEC-2": "Li Qiang"}
    c = charts(TICKETS, FIELD, [{"group": "2026-03-02", "csat": 90.0, "response_rate": 50.0}], BY_TECH, names)
    assert c["technicians"]["labels"] == ["Zhang Wei", "Li Qiang"] and c["technicians"]["jobs"] == [5, 2]
    rows = technician_rows(FIELD, BY_TECH, names)
    assert [r["name"] for r in rows] == ["Zhang Wei", "Li Qiang"] and rows[0]["csat"] == 100.0


def test_csv_cells_never_start_a_formula():
    rows = [
        {
            "id": '=HYPERLINK("http://evil")',
            "name": "+cmd",
            "visits": 1,
            "csat": None,
            "nps": None,
            "answered": 0,
            "praise": 0,
        }
    ]
    out = to_csv(("a", "b"), tiles(TICKETS, FIELD, SAT), rows, [{"id": "@T-1", "priority": "P1", "status": "triaged"}])
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
