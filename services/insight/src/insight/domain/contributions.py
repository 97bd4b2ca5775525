"""What one ticket adds to the daily aggregates: a pure function of its facts.

The projector computes a ticket's contributions before and after merging a batch's events and adds
the difference to the daily aggregates, so figures move only by what changed, and a rebuild that
merges the same events in another order ends with the same aggregates. Each contribution names
its day (UTC), metric, a count n, a total, for durations the histogram bucket of its value, and the
values of the dimensions it is reported under (team, technician, region, product model, channel, kind).
A daily aggregate holds per (day, dimension value, metric) the sums of n and total and, for
durations, the histogram (bucket -> count) that percentiles are read from.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, NamedTuple

from insight.domain import sketch
from insight.domain.facts import Facts, epoch_day, lww_value

SUM = -1  # in Sums: the key of a metric's plain count and total; >= 0 are histogram buckets
DIMENSIONS = ("team", "technician", "region", "product_model", "channel", "kind")
ALL = ("all", "")
REPEAT_WINDOWS = (30, 90)
DAY_S = 86400.0

Dims = tuple[tuple[str, str], ...]
Key = tuple[date, str, str, str]  # day, dim, dim value, metric
Cell = list[Any]  # [n, total, {bucket: count} or None]


class Row(NamedTuple):
    """A tuple, not a dataclass: rows are hashed by the million (multisets of contributions)."""

    day: date
    metric: str
    n: int
    total: float
    dims: Dims
    bucket: int | None = None  # durations: the histogram bucket of `total`


def _dims(d: dict[str, str | None]) -> Dims:
    return tuple((k, v) for k, v in d.items() if v)


def _with(d: dict[str, str | None], dims: Dims, technician: str | None, team: str | None) -> Dims:
    """The ticket's dimensions with a visit's own technician and team (the usual case: the same)."""
    technician, team = technician or d["technician"], team or d["team"]
    if technician == d["technician"] and team == d["team"]:
        return dims
    return _dims({**d, "technician": technician, "team": team})


def _latest(entries: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    if not entries:
        return None
    return max(entries.values(), key=lambda e: e.get("at") or 0.0)


def ticket_dims(f: Facts) -> dict[str, str | None]:
    """Who and what a ticket is reported under: the technician (and team) of its last completed
    visit, else its last assignment, else who resolved it; region and model as last triaged."""
    done = _latest(f.get("completions", {}))
    assigned = lww_value(f, "assigned") or {}
    triage = lww_value(f, "triage") or {}
    survey = _latest(f.get("surveys", {})) or {}
    technician = (done or {}).get("technician_id") or assigned.get("technician_id") or lww_value(f, "resolved_by")
    team = (done or {}).get("team_id") or assigned.get("team_id") or survey.get("team_id")
    return {
        "team": team,
        "technician": technician,
        "region": triage.get("region") or f.get("region"),
        "product_model": triage.get("model") or f.get("product_model"),
        "channel": f.get("channel"),
        "kind": f.get("kind"),
    }


def _duration(rows: list[Row], day: date, metric: str, seconds: float, dims: Dims) -> None:
    seconds = max(0.0, seconds)
    rows.append(Row(day, metric, 1, seconds, dims, sketch.bucket(seconds)))


def ticket_rows(f: Facts, asset: Facts | None) -> list[Row]:
    """Every contribution of one ticket (see docs/kpis.md for the definitions)."""
    rows: list[Row] = []
    d = ticket_dims(f)
    volume_dims = _dims(d)
    # channel and kind split the volumes only (the report's "by channel and kind")
    d = {**d, "channel": None, "kind": None}
    dims = _dims(d)
    _volumes(rows, f, asset, volume_dims, dims)
    _sla(rows, f, dims)
    _visits(rows, f, d, dims)
    _surveys(rows, f, d, dims)
    _complaints_and_money(rows, f, dims)
    return rows


def _volumes(rows: list[Row], f: Facts, asset: Facts | None, volume_dims: Dims, dims: Dims) -> None:
    opened = f.get("opened_at")
    if opened is not None:
        rows.append(Row(epoch_day(opened), "opened", 1, 0.0, volume_dims))
    resolved = f.get("resolved_at")
    if resolved is not None and opened is not None:
        day = epoch_day(resolved)
        rows.append(Row(day, "resolved", 1, 0.0, volume_dims))
        _duration(rows, day, "resolution_s", resolved - opened, dims)
        if f.get("kind") != "complaint":
            rows.append(Row(day, "jobs", 1, 0.0, dims))
        if f.get("kind") == "repair" and asset is not None:
            rows.extend(_repeats(f, asset, resolved, day, dims))


def _sla(rows: list[Row], f: Facts, dims: Dims) -> None:
    for c in f.get("clocks", {}).values():
        day = epoch_day(c["started_at"])
        met = c["elapsed_s"] <= c["target_s"]
        rows.append(Row(day, "sla:" + c["clock"], 1, 1.0 if met else 0.0, dims))
        if c["clock"] == "first_response":
            _duration(rows, day, "first_response_s", c["stopped_at"] - c["started_at"], dims)
    for b in f.get("breaches", {}).values():
        rows.append(Row(epoch_day(b["started_at"]), "sla_breached:" + b["clock"], 1, 0.0, dims))


def _visits(rows: list[Row], f: Facts, d: dict[str, str | None], dims: Dims) -> None:
    for v in f.get("visits", {}).values():
        if v.get("on_time") is not None and v.get("at") is not None:
            vd = _with(d, dims, v.get("technician_id"), None)
            rows.append(Row(epoch_day(v["at"]), "arrival_on_time", 1, 1.0 if v["on_time"] else 0.0, vd))
    for c in f.get("completions", {}).values():
        cd = _with(d, dims, c.get("technician_id"), c.get("team_id"))
        rows.append(Row(epoch_day(c["at"]), "first_time_fix", 1, 1.0 if c.get("ftf") else 0.0, cd))
    for p in f.get("parts", {}).values():
        if p.get("requested_at") is not None and p.get("delivered_at") is not None:
            _duration(rows, epoch_day(p["delivered_at"]), "parts_wait_s", p["delivered_at"] - p["requested_at"], dims)


def _surveys(rows: list[Row], f: Facts, d: dict[str, str | None], dims: Dims) -> None:
    for s in f.get("surveys", {}).values():
        sd = _with(d, dims, s.get("technician_id"), s.get("team_id"))
        day = epoch_day(s["at"])
        if s.get("score") is not None:
            rows.append(Row(day, "csat", 1, 1.0 if s["score"] >= 4 else 0.0, sd))
            rows.append(Row(day, "csat_score", 1, float(s["score"]), sd))
        if s.get("nps") is not None:
            rows.append(Row(day, "nps", 1, float(s["nps"]), sd))
            if s["nps"] >= 9:
                rows.append(Row(day, "nps_promoters", 1, 0.0, sd))
            elif s["nps"] <= 6:
                rows.append(Row(day, "nps_detractors", 1, 0.0, sd))


_MONEY = (("invoices", "invoiced"), ("payments", "paid"), ("refunds", "refunded"), ("waivers", "waived"))


def _complaints_and_money(rows: list[Row], f: Facts, dims: Dims) -> None:
    for c in f.get("complaints", {}).values():
        day = epoch_day(c["at"])
        rows.append(Row(day, "complaints", 1, 0.0, dims))
        if c.get("compensation_minor") is not None:
            rows.append(Row(day, "compensation:" + c.get("currency", "CNY"), 1, float(c["compensation_minor"]), dims))
    for field, metric in _MONEY:
        for m in f.get(field, {}).values():
            if m.get("at") is not None and m.get("minor") is not None:
                rows.append(Row(epoch_day(m["at"]), f"{metric}:{m['currency']}", 1, float(m["minor"]), dims))


def _repeats(f: Facts, asset: Facts, resolved: float, day: date, dims: Dims) -> Iterable[Row]:
    """A repair is repeated within N days when another repair of the same asset is opened within N
    days after it was resolved; the repeat counts against the earlier repair (its day, technician)."""
    later = [
        t["opened_at"]
        for t in asset.get("tickets", {}).values()
        if t.get("kind") == "repair" and t.get("opened_at") is not None and t["opened_at"] > resolved
    ]
    yield Row(day, "repeat_base", 1, 0.0, dims)
    for window in REPEAT_WINDOWS:
        if any(o - resolved <= window * DAY_S for o in later):
            yield Row(day, f"repeat_{window}d", 1, 0.0, dims)


def aggregate(rows: Iterable[Row], sign: int = 1, into: dict[Key, Cell] | None = None) -> dict[Key, Cell]:
    """Rows expanded into every dimension they report under, summed by (day, dim, value, metric)."""
    out: dict[Key, Cell] = into if into is not None else {}
    for r in rows:
        for dim, value in (ALL, *r.dims):
            key = (r.day, dim, value, r.metric)
            cell = out.get(key)
            if cell is None:
                cell = out[key] = [0, 0.0, None]
            cell[0] += sign * r.n
            cell[1] += sign * r.total
            if r.bucket is not None:
                hist = cell[2] if cell[2] is not None else {}
                cell[2] = hist
                hist[r.bucket] = hist.get(r.bucket, 0) + sign * r.n
    return out


def revisit_due_rows(due_on: date) -> list[Row]:
    return [Row(due_on, "revisits_due", 1, 0.0, ())]


def revisit_done_rows(due_on: date, completed_on: date) -> list[Row]:
    """Counted on the day the revisit was due, so the completion rate compares like with like."""
    return [Row(due_on, "revisits_done", 1, 1.0 if completed_on <= due_on else 0.0, ())]


def delivery_rows(day: date, channel: str, sent: bool) -> list[Row]:
    return [Row(day, f"deliveries_{'sent' if sent else 'failed'}:{channel}", 1, 0.0, ())]
