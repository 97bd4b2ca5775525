"""The manager dashboard's figures (pure): tiles, chart series and export rows, from whatever the
KPI source returned (today the services' own KPIs; the insight service later)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tile:
    key: str
    title: str  # English; the page translates
    value: str
    note: str = ""


def _pct(v: Any, scale: float = 100.0) -> str:
    return "—" if v is None else f"{float(v) * scale:.1f} %"


def _dur(seconds: Any) -> str:
    if seconds is None:
        return "—"
    s = float(seconds)
    if s >= 86400:
        return f"{s / 86400:.1f} d"
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 60:.0f} min"


def tiles(tickets: dict[str, Any], field: dict[str, Any], satisfaction: dict[str, Any]) -> list[Tile]:
    by_kind = tickets.get("opened_by_kind") or {}
    backlog = tickets.get("backlog_by_status") or {}
    rt, rs = tickets.get("response_time_s") or {}, tickets.get("resolution_time_s") or {}
    return [
        Tile("opened", "Tickets opened", str(tickets.get("opened", "—")), ""),
        Tile("first_response", "First response (median)", _dur(rt.get("p50")), f"p90 {_dur(rt.get('p90'))}"),
        Tile("sla_on_time", "SLA met", _pct(tickets.get("on_time_rate")), ""),
        Tile("on_time_arrival", "On-time arrival", _pct(field.get("on_time_arrival_rate")), ""),
        Tile("first_time_fix", "First-time fix", _pct(field.get("first_time_fix_rate")), ""),
        Tile("resolution", "Resolution time (median)", _dur(rs.get("p50")), f"p90 {_dur(rs.get('p90'))}"),
        Tile("csat", "CSAT", "—" if satisfaction.get("csat") is None else f"{satisfaction['csat']:.1f} %", ""),
        Tile("nps", "NPS", "—" if satisfaction.get("nps") is None else f"{satisfaction['nps']:.0f}", ""),
        Tile("complaints", "Complaints", str(by_kind.get("complaint", 0)), ""),
        Tile("backlog", "Open backlog", str(sum(int(v) for v in backlog.values())), ""),
    ]


def charts(
    tickets: dict[str, Any],
    field: dict[str, Any],
    by_day: list[dict[str, Any]],
    by_technician: list[dict[str, Any]],
    names: dict[str, str],
) -> dict[str, Any]:
    """Series for the page's ECharts (labels untranslated codes; the page names them)."""
    backlog = tickets.get("backlog_by_status") or {}
    per_tech_jobs = field.get("jobs_per_technician") or {}
    csat = {r["group"]: r.get("csat") for r in by_technician}
    techs = sorted(set(per_tech_jobs) | {k for k in csat if k != "(none)"})
    return {
        "backlog": {"labels": list(backlog), "values": [int(v) for v in backlog.values()]},
        "kinds": {
            "labels": list(tickets.get("opened_by_kind") or {}),
            "values": list((tickets.get("opened_by_kind") or {}).values()),
        },
        "satisfaction": {
            "labels": [r["group"] for r in by_day],
            "csat": [r.get("csat") for r in by_day],
            "response_rate": [r.get("response_rate") for r in by_day],
        },
        "technicians": {
            "labels": [names.get(t, t) for t in techs],
            "jobs": [per_tech_jobs.get(t, 0) for t in techs],
            "csat": [csat.get(t) for t in techs],
        },
    }


def technician_rows(
    field: dict[str, Any], by_technician: list[dict[str, Any]], names: dict[str, str]
) -> list[dict[str, Any]]:
    jobs = field.get("jobs_per_technician") or {}
    sat = {r["group"]: r for r in by_technician}
    ids = sorted(set(jobs) | {k for k in sat if k != "(none)"}, key=lambda t: -int(jobs.get(t, 0)))
    return [
        {
            "id": t,
            "name": names.get(t, t),
            "visits": jobs.get(t, 0),
            "answered": (sat.get(t) or {}).get("answered", 0),
            "csat": (sat.get(t) or {}).get("csat"),
            "nps": (sat.get(t) or {}).get("nps"),
            "praise": (sat.get(t) or {}).get("praise", 0),
            "dissatisfied": (sat.get(t) or {}).get("dissatisfied", 0),
        }
        for t in ids
    ]


def _cell(v: Any) -> Any:
    """CSV injection guard: a cell a spreadsheet would read as a formula is quoted as text."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return "" if v is None else v


def to_csv(
    period: tuple[str, str], tile_list: list[Tile], techs: list[dict[str, Any]], risky: list[dict[str, Any]]
) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "key", "name", "value", "note"])
    w.writerow(["period", "from", "", period[0], ""])
    w.writerow(["period", "to", "", period[1], ""])
    for t in tile_list:
        w.writerow(["kpi", t.key, t.title, t.value, t.note])
    for r in techs:
        w.writerow(
            [
                "technician",
                _cell(r["id"]),
                _cell(r["name"]),
                r["visits"],
                f"csat={_cell(r['csat'])} nps={_cell(r['nps'])} answered={r['answered']} praise={r['praise']}",
            ]
        )
    for r in risky:
        w.writerow(
            [
                "sla",
                _cell(r["id"]),
                _cell(r.get("sla_state", "")),
                _cell(r.get("priority") or ""),
                _cell(r.get("status", "")),
            ]
        )
    return buf.getvalue()
