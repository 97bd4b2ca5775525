"""Over the broker: the live consumer projects the events; KPIs, SLA, quality alert with its
evidence and rectification, the alert on its topic for notify, and the monthly report as PDF/CSV."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from insight_test_streams import EXPECTED, PERIOD, eventually, publish, stream

from fixflow_shared import topics
from fixflow_shared.events import Envelope
from fixflow_shared.events.contracts.insight import QualityAlertRaised
from fixflow_shared.testing import auth_headers

pytestmark = pytest.mark.integration


def q(extra: str = "") -> str:
    return f"?from={PERIOD[0]}&to={PERIOD[1]}{extra}"


async def _alert_events(bootstrap: str, tenant: str) -> list[Envelope]:
    consumer = AIOKafkaConsumer(topics.INSIGHT_ALERTS, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        found: list[Envelope] = []
        batches = await consumer.getmany(timeout_ms=2000)
        for records in batches.values():
            for r in records:
                e = Envelope.from_kafka(r.headers, r.value)
                if e.tenantid == tenant:
                    found.append(e)
        return found
    finally:
        await consumer.stop()


async def test_figures_alert_rectification_and_report(client, insight_app, kafka):
    tenant = "acme-" + uuid.uuid4().hex[:8]
    qa, mgr = auth_headers(tenant, "quality", "qa-li"), auth_headers(tenant, "manager")
    rule = {"id": "model-cause", "dimension": "product_model_fault_cause", "threshold": 2, "window_days": 30}
    r = await client.put("/v1/quality/rules", json={"rules": [rule]}, headers=qa)
    assert r.status_code == 200, r.text
    assert (
        await client.put("/v1/quality/rules", json={"rules": [{**rule, "dimension": "colour"}]}, headers=qa)
    ).status_code == 422
    assert (await client.get("/v1/kpis" + q(), headers=auth_headers(tenant, "agent"))).status_code == 403

    await publish(kafka.bootstrap, stream(tenant))

    async def projected() -> Any:
        body = (await client.get("/v1/kpis" + q(), headers=mgr)).json()
        return (
            body
            if body["revisits"]["done"] == 1 and body["tickets"]["resolved"] == 2 and body["complaints"]["count"]
            else None
        )

    figures = await eventually(projected)
    for name in (
        "tickets",
        "arrival_on_time",
        "first_time_fix",
        "repeat_repairs",
        "csat",
        "nps",
        "complaints",
        "money",
    ):
        assert figures[name] == EXPECTED[name], name
    sla = (await client.get("/v1/sla" + q(), headers=mgr)).json()
    assert sla["sla"] == EXPECTED["sla"]["clocks"]

    alerts = (await client.get("/v1/quality/alerts", headers=qa)).json()
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert["key"], alert["count"], alert["ticket_ids"], alert["status"]) == (
        "KF-35|compressor",
        2,
        ["T1", "T2"],
        "open",
    )
    raised = await eventually(lambda: _alert_events(kafka.bootstrap, tenant))
    assert len(raised) == 1 and raised[0].type == QualityAlertRaised.type
    assert raised[0].payload().ticket_ids == ["T1", "T2"]

    faults = (await client.get("/v1/quality/faults" + q("&group_by=part"), headers=qa)).json()
    assert faults == [{"key": "P1", "faults": 2, "tickets": 2}, {"key": "P2", "faults": 1, "tickets": 1}]

    steps = f"/v1/quality/alerts/{alert['id']}/steps"
    out_of_order = await client.post(
        steps, json={"step": "plan", "note": "x", "owner": "o", "due_on": "2025-04-30"}, headers=qa
    )
    assert out_of_order.status_code == 409 and "root_cause" in out_of_order.json()["detail"]
    for body in (
        {"step": "root_cause", "note": "capacitor lot C-12 below spec"},
        {"step": "plan", "note": "replace the supplier", "owner": "factory QA Wang", "due_on": "2025-04-30"},
        {"step": "done", "note": "new lot from week 15"},
        {"step": "customers_informed", "customers_informed": 2},
        {"step": "archived"},
    ):
        r = await client.post(steps, json=body, headers=qa)
        assert r.status_code == 200, r.text
    final = (await client.get(f"/v1/quality/alerts/{alert['id']}", headers=qa)).json()
    assert final["status"] == "archived"
    assert [s["step"] for s in final["steps"]] == ["root_cause", "plan", "done", "customers_informed", "archived"]
    assert final["steps"][1]["owner"] == "factory QA Wang" and final["steps"][0]["by"] == "qa-li"
    other = auth_headers("someone-else", "quality")
    assert (await client.get(f"/v1/quality/alerts/{alert['id']}", headers=other)).status_code == 404

    made = await client.post("/v1/reports", json={"month": "2025-03"}, headers=mgr)
    assert made.status_code == 201, made.text
    pdf = await client.get(made.json()["pdf"], headers=mgr)
    assert (
        pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    )
    csv_text = (await client.get(made.json()["csv"], headers=mgr)).text
    assert f"{tenant},2025-03,业务量 Volumes,工单总数 Tickets opened,4" in csv_text
    assert "故障原因 Top fault causes,compressor,2 (2 tickets)" in csv_text
    assert "满意度 Survey results,NPS,0.0" in csv_text
    listed = (await client.get("/v1/reports", headers=mgr)).json()
    assert [x["id"] for x in listed] == [made.json()["id"]]


async def test_bad_periods_are_problems(client):
    mgr = auth_headers("t-x", "manager")
    r = await client.get("/v1/kpis?from=2025-03-02&to=2025-03-01", headers=mgr)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    r = await client.get("/v1/kpis" + q("&team=a&technician=b"), headers=mgr)
    assert r.status_code == 422
    r = await client.get("/v1/kpis" + q("&group_by=team&technician=b"), headers=mgr)
    assert r.status_code == 422
