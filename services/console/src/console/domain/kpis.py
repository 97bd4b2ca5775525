"""The manager dashboard's figures (pure): tiles, chart series and export rows, from insight's KPIs
(the shapes of its GET /v1/kpis) and intake's open backlog."""

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


def _get(d: Any, *path: str) -> Any:
    """A nested figure, None where any level is missing (a source that did not answer)."""
    for key in path:
        d = d.get(key) if isinstance(d, dict) else None
    return d


def _rate_pct(v: Any) -> float | None:
    """Insight's rates are fractions; the page shows percent."""
    return None if v is None else round(float(v) * 100, 1)


def tiles(overall: dict[str, Any], backlog: dict[str, int]) -> list[Tile]:
    """The key figures from insight's KPIs for the whole tenant (docs/kpis.md) and intake's open
    backlog now."""
    o = overall
    complaints = _get(o, "complaints", "count")
    per_100 = _get(o, "complaints", "per_100_jobs")
    nps = _get(o, "nps", "score")
    return [
        Tile("opened", "Tickets opened", str(_get(o, "tickets", "opened") or 0) if o else "—", ""),
        Tile(
            "first_response",
            "First response (median)",
            _dur(_get(o, "first_response", "p50_s")),
            f"p90 {_dur(_get(o, 'first_response', 'p90_s'))}",
        ),
        Tile("sla_on_time", "SLA met", _pct(_get(o, "sla", "on_time_rate")), ""),
        Tile("on_time_arrival", "On-time arrival", _pct(_get(o, "arrival_on_time", "rate")), ""),
        Tile("first_time_fix", "First-time fix", _pct(_get(o, "first_time_fix", "rate")), ""),
        Tile(
            "resolution",
            "Resolution time (median)",
            _dur(_get(o, "resolution_time", "p50_s")),
            f"p90 {_dur(_get(o, 'resolution_time', 'p90_s'))}",
        ),
        Tile("repeat_30d", "Repeat repairs (30 days)", _pct(_get(o, "repeat_repairs", "rate_30d")), ""),
        Tile("csat", "CSAT", _pct(_get(o, "csat", "rate")), ""),
        Tile("nps", "NPS", "—" if nps is None else f"{float(nps):.0f}", ""),
        Tile(
            "complaints",
            "Complaints",
            "—" if complaints is None else str(complaints),
            "" if per_100 is None else f"{float(per_100):.1f} / 100",
        ),
        Tile("backlog", "Open backlog", str(sum(int(v) for v in backlog.values())), ""),
    ]


def charts(
    by_kind: dict[str, dict[str, Any]],
    by_day: dict[str, dict[str, Any]],
    by_technician: dict[str, dict[str, Any]],
    backlog: dict[str, int],
    names: dict[str, str],
) -> dict[str, Any]:
    """Series for the page's ECharts (labels untranslated codes; the page names them)."""
    kinds = {k: int(_get(v, "tickets", "opened") or 0) for k, v in sorted(by_kind.items())}
    kinds = {k: n for k, n in kinds.items() if n}
    rows = technician_rows(by_technician, names)
    return {
        "backlog": {"labels": list(backlog), "values": [int(v) for v in backlog.values()]},
        "kinds": {"labels": list(kinds), "values": list(kinds.values())},
        "satisfaction": {
            "labels": list(by_day),
            "csat": [_rate_pct(_get(v, "csat", "rate")) for v in by_day.values()],
            "nps": [_get(v, "nps", "score") for v in by_day.values()],
        },
        "technicians": {
            "labels": [r["name"] for r in rows],
            "jobs": [r["visits"] for r in rows],
            "csat": [r["csat"] for r in rows],
        },
    }


def technician_rows(by_technician: dict[str, dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """Per technician (most completed visits first): visits, first-time fix, surveys, complaints."""
    rows = [
        {
            "id": t,
            "name": names.get(t, t),
            "visits": int(_get(v, "first_time_fix", "completions") or 0),
            "first_time_fix": _rate_pct(_get(v, "first_time_fix", "rate")),
            "answered": int(_get(v, "csat", "responses") or 0),
            "csat": _rate_pct(_get(v, "csat", "rate")),
            "nps": _get(v, "nps", "score"),
            "complaints": int(_get(v, "complaints", "count") or 0),
        }
        for t, v in by_technician.items()
    ]
    return sorted(rows, key=lambda r: (-r["visits"], r["name"]))


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
                f"ftf={_cell(r['first_time_fix'])} csat={_cell(r['csat'])} nps={_cell(r['nps'])} "
                f"answered={r['answered']} complaints={r['complaints']}",
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
