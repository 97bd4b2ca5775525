"""The Prometheus alert rules and the Grafana dashboard (deploy/kustomize/base/monitoring) against the
code: every metric an alert or a panel uses is one the services export (with the sample names
prometheus_client gives it), every exported figure is watched by a panel, every alert is explained
in docs/operations.md, and the dashboard shows the HTTP RED metrics."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

import fixflow_shared.consumer
import fixflow_shared.metrics
import fixflow_shared.ops_metrics  # noqa: F401 - registers the operational gauges

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy/kustomize/base/monitoring"
PROMQL_WORDS = {"by", "without", "and", "or", "unless", "bool", "on", "ignoring", "offset", "group_left", "group_right"}
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created"), "gauge": ("",)}


def exported() -> dict[str, str]:
    """Sample name -> family name, for every fixflow_* metric the code registers."""
    names = {}
    for family in REGISTRY.collect():
        if family.name.startswith("fixflow_"):
            for suffix in SUFFIXES.get(family.type, ("",)):
                names[family.name + suffix] = family.name
    return names


def metrics_in(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (functions, keywords, labels, durations left out)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    e = re.sub(r"\{[^}]*\}", "", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)  # ranges and subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)  # label lists
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        after = e[m.end() :].lstrip()
        if after.startswith("(") or m.group() in PROMQL_WORDS or m.group().startswith("$"):
            continue
        if e[max(0, m.start() - 1)] in "$0123456789.":  # a Grafana variable or a number's suffix (1e3, 5m)
            continue
        names.add(m.group())
    return names


def rules() -> list[dict]:
    doc = yaml.safe_load((MONITORING / "fixflow-alerts.yaml").read_text())
    return [r for g in doc["groups"] for r in g["rules"]]


def dashboard() -> dict:
    return json.loads((MONITORING / "fixflow-dashboard.json").read_text())


def panel_exprs() -> list[tuple[str, str]]:
    return [(p["title"], t["expr"]) for p in dashboard()["panels"] for t in p.get("targets", [])]


def test_the_expression_reader_finds_metrics_and_only_them():
    expr = 'histogram_quantile(0.95, sum by (service, le) (rate(a_bucket{route!~"/x|/y"}[5m]))) > 1 and on(service) b_total'
    assert metrics_in(expr) == {"a_bucket", "b_total"}
    assert metrics_in("min_over_time(max by (g) (lag)[15m:1m]) > 0") == {"lag"}


def test_every_alert_uses_exported_metrics_and_is_explained():
    names, runbook = exported(), (ROOT / "docs/operations.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-") for h in re.findall(r"^#+ (.+)$", runbook, re.M)
    }
    seen = set()
    for r in rules():
        assert re.fullmatch(r"Fixflow[A-Z][A-Za-z]+", r["alert"]) and r["alert"] not in seen, r["alert"]
        seen.add(r["alert"])
        used = metrics_in(r["expr"])
        assert used, f"{r['alert']} uses no metric"
        assert used <= set(names), f"{r['alert']} uses {used - set(names)}, which no service exports"
        assert r["labels"]["severity"] in ("warning", "critical")
        assert r["annotations"]["summary"]
        page, _, anchor = r["annotations"]["runbook"].partition("#")
        assert page == "docs/operations.md" and anchor == r["alert"].lower(), r["annotations"]["runbook"]
        assert anchor in anchors, f"docs/operations.md explains no {r['alert']}"
        assert r["expr"].count("(") == r["expr"].count(")")
        if "for" in r:
            assert re.fullmatch(r"\d+[smh]", r["for"])


def test_every_panel_uses_exported_metrics():
    names = exported()
    for title, expr in panel_exprs():
        used = metrics_in(expr)
        assert used and used <= set(names), f"panel {title!r}: {used - set(names) or 'no metric'}"
        assert expr.count("(") == expr.count(")"), title
    for var in dashboard()["templating"]["list"]:
        if var["type"] == "query":
            metric = re.match(r"label_values\((\w+),", var["query"]["query"]).group(1)
            assert metric in names, var["name"]


def test_the_dashboard_shows_red_and_every_operational_figure():
    exprs = " ".join(e for _, e in panel_exprs())
    assert "rate(fixflow_http_requests_total" in exprs  # Rate
    assert 'status=~"5.."' in exprs  # Errors
    assert "histogram_quantile(0.95" in exprs and "fixflow_http_request_duration_seconds_bucket" in exprs  # Duration
    watched = {exported()[m] for _, e in panel_exprs() for m in metrics_in(e)}
    families = set(exported().values())
    assert families <= watched, f"exported but on no panel: {families - watched}"
    ids = [p["id"] for p in dashboard()["panels"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    "figure",
    [
        "fixflow_consumer_lag",
        "fixflow_outbox_backlog",
        "fixflow_outbox_oldest_age_seconds",
        "fixflow_dead_letters_pending",
        "fixflow_timer_oldest_overdue_seconds",
        "fixflow_http_requests_total",
    ],
)
def test_each_operational_figure_has_an_alert(figure):
    assert any(figure in metrics_in(r["expr"]) for r in rules()), figure
