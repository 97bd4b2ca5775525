"""Tenant settings are typed: a value that would break ticket intake is a 422 at saving, and the
tenant keeps opening tickets (each of these used to be stored, or to answer 500)."""

from __future__ import annotations

import uuid

import pytest

from fixflow_shared.testing import auth_headers

BREAKING = [
    {"calendar": {"country": "XX"}},  # no such country
    {"calendar": {"country": "CN", "tz": "Mars/Olympus"}},
    {"calendar": {"weekdays": [], "working_hours": ["09:00", "18:00"]}},
    {"calendar": {"working_hours": ["18:00", "09:00"]}},
    {"sla": {"targets": {"first_response": {"P1": -5}}}},
    {"sla": {"targets": {"first_response": {"P1": "soon"}}}},
    {"sla": {"targets": {"resolution": {"P1": 1e308}}}},
    {"sla": {"targets": {"teleport": {"any": 1}}}},
    {"triage": {"thresholds": {"P1": "high"}}},
    {"triage": {"grade_bonus": {"VIP": "lots"}}},
    {"triage": {"thresholds": {"P1": 2, "P2": 9}}},
    {"knowledge_base": [{"id": "kb-1", "keywords": [1, 2]}]},
    {"knowledge_base": [{"id": "kb-1", "keywords": "descale"}]},
    {"knowledge_base": [{"id": "kb-1"}]},
]


@pytest.mark.parametrize("settings", BREAKING, ids=lambda s: str(s)[:60])
async def test_settings_that_would_break_intake_are_refused(client, settings):
    h = auth_headers("t-set-" + uuid.uuid4().hex[:6], "agent,manager")
    r = await client.put("/v1/settings", json=settings, headers=h)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    t = await client.post(
        "/v1/tickets", json={"kind": "repair", "channel": "web", "symptom": "not working, noise"}, headers=h
    )
    assert t.status_code == 201, t.text


async def test_typed_settings_round_trip_and_keep_defaults(client):
    h = auth_headers("t-set-" + uuid.uuid4().hex[:6], "agent,manager")
    body = {
        "calendar": {"tz": "UTC", "working_hours": None, "weekdays": [0, 1, 2, 3, 4, 5, 6]},
        "sla": {"targets": {"first_response": {"P1": 0.5}}},
        "triage": {"grade_bonus": {"VIP": 3}},
        "knowledge_base": [{"id": "kb-descale", "keywords": ["descale"], "steps": ["run the descaling programme"]}],
    }
    r = await client.put("/v1/settings", json=body, headers=h)
    assert r.status_code == 200, r.text
    stored = (await client.get("/v1/settings", headers=h)).json()
    assert stored["calendar"] == {"tz": "UTC", "working_hours": None, "weekdays": [0, 1, 2, 3, 4, 5, 6]}
    assert stored["sla"] == {"targets": {"first_response": {"P1": 0.5}}}
    assert stored["knowledge_base"][0]["keywords"] == ["descale"]
    t = await client.post(
        "/v1/tickets", json={"kind": "consultation", "channel": "web", "symptom": "how to descale"}, headers=h
    )
    assert t.status_code == 201 and t.json()["suggested_fix"] == "kb-descale"


async def test_settings_are_documented_with_examples(client):
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    assert {"CalendarSettings", "SlaSettings", "TriageSettings", "ArticleSettings"} <= set(schema)
    assert schema["SettingsBody"].get("examples")
