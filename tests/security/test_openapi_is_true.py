"""OpenAPI tells the truth: a 405 lists every method the path allows (as the document does), and
no schema promises a format the service does not produce (RFC 3339 `time` needs an offset)."""

from __future__ import annotations

import json
import re

from fixflow_shared.testing import auth_headers

STAFF = auth_headers("oa", "agent,dispatcher,manager,admin")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


async def test_405_lists_every_allowed_method(apps, clients):
    checked = 0
    for name, app in apps.items():
        for path, ops in app.openapi()["paths"].items():
            declared = {m.upper() for m in ops if m.upper() in METHODS}
            url = re.sub(r"\{[^}]+\}", "x-1", path)
            for method in set(METHODS) - declared:
                r = await clients[name].request(method, url, headers=STAFF)
                assert r.status_code == 405, (name, method, path, r.status_code)
                assert r.headers["content-type"].startswith("application/problem+json")
                allowed = {m.strip() for m in r.headers["allow"].split(",")} - {"HEAD"}
                assert allowed == declared, (name, method, path, allowed, declared)
                checked += 1
    assert checked > 200


async def test_no_schema_promises_an_rfc3339_time_it_does_not_send(apps, clients):
    for name, app in apps.items():
        doc = json.dumps(app.openapi())
        assert '"format": "time"' not in doc, name
    plan = (await clients["survey"].get("/v1/survey-plan", headers=STAFF)).json()
    assert re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?", plan["send_time"])
    bad = await clients["survey"].put("/v1/survey-plan", json={**plan, "send_time": "10:00:00+08:00"}, headers=STAFF)
    assert bad.status_code == 422
