"""PII never reaches logs: known phone numbers and e-mail addresses sent through failing requests
of every service, and through a failing database statement, appear in no log line."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from fixflow_shared.logs import get_logger
from fixflow_shared.testing import auth_headers

EMAIL = "zhang.san.pii@example.com"
PHONE = "+8613812340099"
RAW = (EMAIL, "zhang.san.pii", PHONE, "13812340099")
STAFF = auth_headers("pii", "agent,dispatcher,manager,admin", subject="auditor")


def assert_clean(output: str) -> None:
    lines = [line for line in output.splitlines() if any(raw in line for raw in RAW)]
    assert not lines, "PII in logs:\n" + "\n".join(lines[:5])


async def test_failing_requests_log_no_pii(clients, capfd):
    c = clients
    contact = {"contact_email": EMAIL, "contact_phone": PHONE, "customer_name": "Zhang San"}
    long_tenant = auth_headers("t" * 300, "agent")
    requests: list[tuple[str, str, str, Any, dict[str, str]]] = [
        ("intake", "POST", "/v1/tickets", {"kind": "repair", "channel": "nope", **contact}, STAFF),
        ("intake", "POST", "/v1/tickets", {"kind": "repair", "channel": "web", "symptom": "x", **contact}, long_tenant),
        ("intake", "POST", "/v1/customers", {"name": "Zhang", "phone": PHONE, "email": EMAIL, "grade": "Z"}, STAFF),
        ("intake", "GET", f"/v1/customers?phone={PHONE}&limit=0", None, STAFF),
        ("intake", "POST", "/v1/tickets/T-missing/facts", {"contact_email": EMAIL, "contact_phone": PHONE}, STAFF),
        ("dispatch", "POST", "/v1/technicians", {"name": "Li", "phone": PHONE + "x", "home_lat": 999}, STAFF),
        ("notify", "PUT", f"/v1/preferences/{EMAIL}", {"channels": ["fax"]}, STAFF),
        ("notify", "GET", f"/v1/preferences/{PHONE}", None, STAFF),
        (
            "notify",
            "PUT",
            "/v1/recipients/mgr-1",
            {"role": "manager", "name": "M", "email": EMAIL, "phone": "x"},
            STAFF,
        ),
        ("survey", "POST", "/v1/public/surveys/forged.token/answers", {"comment": f"call me {PHONE} {EMAIL}"}, {}),
        ("billing", "POST", "/v1/quotes", {"ticket_id": EMAIL, "customer_id": PHONE, "work": {"parts": "x"}}, STAFF),
    ]
    for service, method, url, body, headers in requests:
        r = await c[service].request(method, url, json=body, headers=headers)
        assert 400 <= r.status_code < 500, (service, url, r.status_code, r.text[:200])
    out, err = capfd.readouterr()
    assert_clean(out + err)


@pytest.mark.parametrize("service", ["intake", "notify"])
async def test_a_database_error_logs_no_statement_values(apps, capfd, service):
    engine = apps[service].state.runtime.engine
    with pytest.raises(Exception) as failed:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT CAST(:email AS integer), :phone"), {"email": EMAIL, "phone": PHONE})
    assert "parameters hidden" in str(failed.value)  # SQLAlchemy adds no values (the driver's message may)
    try:
        raise failed.value
    except Exception:
        get_logger(__name__).exception("statement failed", contact=EMAIL)
    out, err = capfd.readouterr()
    assert "statement failed" in out
    assert_clean(out + err)
