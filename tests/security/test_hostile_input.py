"""Hostile input is harmless: every route of the six services, given control characters, deep
JSON, absurd dates or numbers where dates belong, answers 4xx problem+json, never 500."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from fixflow_shared.testing import auth_headers

STAFF = auth_headers("hostile", "agent,dispatcher,manager,admin", subject="mallory")
NUL = "a\x00b"


def operations(app: Any) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            if method in ("get", "post", "put", "patch", "delete"):
                out.append((method.upper(), path, op))
    return out


def fill(path: str, value: str = "x-1") -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def assert_problem(r: httpx.Response, *statuses: int) -> None:
    assert r.status_code < 500, (r.request.method, r.request.url, r.status_code, r.text[:300])
    if statuses:
        assert r.status_code in statuses, (r.request.method, r.request.url, r.status_code, r.text[:300])
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json"), r.text[:200]


async def test_control_characters_in_any_path_query_or_body_are_422(apps, clients):
    cases = 0
    for name, client in clients.items():
        for method, path, op in operations(apps[name]):
            params = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
            if params:
                r = await client.request(method, fill(path, "%00x"), headers=STAFF, json={})
                assert_problem(r, 422)
                cases += 1
            for q in [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]:
                r = await client.request(method, fill(path), params={q: NUL}, headers=STAFF)
                assert_problem(r, 422)
                cases += 1
            if "requestBody" in op:
                r = await client.request(method, fill(path), headers=STAFF, json={"reason": NUL, "name": NUL})
                assert_problem(r, 422)
                deep: Any = "x"
                for _ in range(200):
                    deep = {"a": [deep]}
                r = await client.request(method, fill(path), headers=STAFF, json=deep)
                assert_problem(r, 422)
                r = await client.request(
                    method, fill(path), headers={**STAFF, "content-type": "application/json"}, content=b'{"a": NaN}'
                )
                assert_problem(r, 400)
                cases += 3
    assert cases > 150


DATES = ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00", "1899-12-31T23:00:00+00:00"]


@pytest.mark.parametrize("when", DATES)
async def test_dates_outside_1900_to_2200_are_422(clients, when):
    day = when[:10]
    window = {"start": when, "end": "2200-12-31T00:00:00+00:00"}
    requests = [
        (
            "intake",
            "POST",
            "/v1/tickets",
            {"kind": "repair", "channel": "phone", "symptom": "x", "requested_window": window},
        ),
        ("intake", "POST", "/v1/tickets", {"kind": "repair", "channel": "phone", "symptom": "x", "purchase_date": day}),
        ("intake", "GET", f"/v1/kpis?start={when}", None),
        ("intake", "GET", f"/v1/tickets?opened_from={when}", None),
        ("dispatch", "POST", "/v1/technicians/TECH-x/absences", {**window, "reason": "x"}),
        ("dispatch", "GET", f"/v1/kpis?from={when}&to=2200-01-01T00:00:00%2B00:00", None),
        ("dispatch", "POST", "/v1/jobs/JOB-x/appointments", window),
        ("billing", "GET", f"/v1/statements/C-1/{day[:7]}", None),
        ("billing", "GET", f"/v1/price-books/effective?on={day}", None),
        ("billing", "POST", "/v1/entitlements", {"kind": "package", "customer_id": "C-1", "valid_from": day}),
        ("survey", "GET", f"/v1/reports/satisfaction?from={when}", None),
        ("survey", "GET", f"/v1/reports/satisfaction.csv?to={when}", None),
    ]
    for service, method, url, body in requests:
        r = await clients[service].request(method, url.replace("+", "%2B"), headers=STAFF, json=body)
        assert_problem(r, 422)


async def test_a_statement_month_zero_is_422(clients):
    for month in ("0000-01", "0000-12", "10000-01", "٢٠٢٥-01"):  # the last in Arabic-Indic digits
        r = await clients["billing"].get(f"/v1/statements/C-1/{month}", headers=STAFF)
        assert_problem(r, 422)
        r = await clients["insight"].post("/v1/reports", json={"month": month}, headers=STAFF)
        assert_problem(r, 422)


async def test_numbers_where_dates_belong_are_422(clients):
    for value in (1e20, 0, -1, 253402300800):
        window = {"start": value, "end": value}
        r = await clients["intake"].post(
            "/v1/tickets",
            headers=STAFF,
            json={"kind": "repair", "channel": "phone", "symptom": "x", "requested_window": window},
        )
        assert_problem(r, 422)
        r = await clients["dispatch"].post(
            "/v1/technicians/TECH-x/absences", headers=STAFF, json={**window, "reason": "x"}
        )
        assert_problem(r, 422)
        r = await clients["intake"].get("/v1/kpis", params={"start": str(value)}, headers=STAFF)
        assert_problem(r, 422)
