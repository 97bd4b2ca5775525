"""KPI definitions as code: figures computed from summed daily aggregates (docs/kpis.md).

`Sums` maps (metric, bucket) to [n, total] over a period and one dimension value; every figure
below is a function of it alone, so a period's KPIs never touch a ticket row.
"""

from __future__ import annotations

from typing import Any

from insight.domain import sketch
from insight.domain.contributions import SUM

Sums = dict[tuple[str, int], list[float]]
SLA_CLOCKS = (
    "first_response",
    "on_site_arrival",
    "resolution",
    "complaint_record",
    "complaint_contact",
    "complaint_fix",
)


def _n(s: Sums, metric: str) -> int:
    return int(s.get((metric, SUM), (0, 0.0))[0])


def _total(s: Sums, metric: str) -> float:
    return s.get((metric, SUM), (0, 0.0))[1]


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _durations(s: Sums, metric: str, quantiles: tuple[float, ...] = (0.5, 0.9)) -> dict[str, Any]:
    n = _n(s, metric)
    hist = {b: int(v[0]) for (m, b), v in s.items() if m == metric and b != SUM}
    out: dict[str, Any] = {"count": n, "mean_s": round(_total(s, metric) / n, 1) if n else None}
    for q in quantiles:
        value = sketch.quantile(hist, q)
        out[f"p{round(q * 100)}_s"] = None if value is None else round(value, 1)
    return out


def _money(s: Sums, prefix: str) -> dict[str, dict[str, int]]:
    return {
        m.split(":", 1)[1]: {"count": int(v[0]), "minor": int(round(v[1]))}
        for (m, b), v in sorted(s.items())
        if b == SUM and m.startswith(prefix + ":") and (v[0] or v[1])
    }


def sla(s: Sums) -> dict[str, dict[str, Any]]:
    """Per clock: clocks started in the period that stopped with a verdict (measured), those within
    target (met), and those that raised a breach (counted even while still running)."""
    out: dict[str, dict[str, Any]] = {}
    for clock in SLA_CLOCKS:
        measured, met = _n(s, "sla:" + clock), int(_total(s, "sla:" + clock))
        breached = _n(s, "sla_breached:" + clock)
        if measured or breached:
            out[clock] = {"measured": measured, "met": met, "breached": breached, "on_time_rate": _rate(met, measured)}
    return out


def figures(s: Sums) -> dict[str, Any]:
    """Every KPI of one period and dimension value."""
    jobs, complaints = _n(s, "jobs"), _n(s, "complaints")
    repairs = _n(s, "repeat_base")
    nps_n = _n(s, "nps")
    promoters, detractors = _n(s, "nps_promoters"), _n(s, "nps_detractors")
    csat_n = _n(s, "csat")
    due, done = _n(s, "revisits_due"), _n(s, "revisits_done")
    sla_clocks = sla(s)
    measured = sum(c["measured"] for c in sla_clocks.values())
    met = sum(c["met"] for c in sla_clocks.values())
    return {
        "tickets": {"opened": _n(s, "opened"), "resolved": _n(s, "resolved"), "jobs": jobs},
        "first_response": _durations(s, "first_response_s"),
        "arrival_on_time": {
            "visits": _n(s, "arrival_on_time"),
            "on_time": int(_total(s, "arrival_on_time")),
            "rate": _rate(_total(s, "arrival_on_time"), _n(s, "arrival_on_time")),
        },
        "first_time_fix": {
            "completions": _n(s, "first_time_fix"),
            "first_time": int(_total(s, "first_time_fix")),
            "rate": _rate(_total(s, "first_time_fix"), _n(s, "first_time_fix")),
        },
        "resolution_time": _durations(s, "resolution_s", (0.5, 0.9, 0.95)),
        "repeat_repairs": {
            "repairs": repairs,
            "within_30d": _n(s, "repeat_30d"),
            "rate_30d": _rate(_n(s, "repeat_30d"), repairs),
            "within_90d": _n(s, "repeat_90d"),
            "rate_90d": _rate(_n(s, "repeat_90d"), repairs),
        },
        "csat": {
            "responses": csat_n,
            "satisfied": int(_total(s, "csat")),
            "rate": _rate(_total(s, "csat"), csat_n),
            "mean_score": round(_total(s, "csat_score") / _n(s, "csat_score"), 2) if _n(s, "csat_score") else None,
        },
        "nps": {
            "responses": nps_n,
            "promoters": promoters,
            "detractors": detractors,
            "score": round(100 * (promoters - detractors) / nps_n, 1) if nps_n else None,
        },
        "complaints": {
            "count": complaints,
            "jobs": jobs,
            "per_100_jobs": round(100 * complaints / jobs, 2) if jobs else None,
        },
        "revisits": {
            "due": due,
            "done": done,
            "done_on_time": int(_total(s, "revisits_done")),
            "completion_rate": _rate(done, due),
        },
        "parts_waiting": _durations(s, "parts_wait_s"),
        "money": {
            "waived": _money(s, "waived"),
            "compensation_requested": _money(s, "compensation"),
            "invoiced": _money(s, "invoiced"),
            "paid": _money(s, "paid"),
            "refunded": _money(s, "refunded"),
        },
        "sla": {"on_time_rate": _rate(met, measured), "clocks": sla_clocks},
        "deliveries": {
            m.split("_", 1)[1]: int(v[0])
            for (m, b), v in sorted(s.items())
            if b == SUM and m.startswith("deliveries_") and v[0]
        },
    }
