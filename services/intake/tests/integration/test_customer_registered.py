"""A customer entering the directory is announced by id only (billing sells and grants entitlements
only to customers it learned of): customer.registered, with no phone, e-mail or name."""

from __future__ import annotations

import uuid

import orjson
from sqlalchemy import select

from fixflow_shared.testing import auth_headers
from intake.adapters.orm import outbox


async def test_a_new_customer_is_announced_by_id_only(client, intake_app):
    runtime, _ = intake_app
    tenant = "t-reg-" + uuid.uuid4().hex[:6]
    body = {"name": "Zhao Lei", "phone": "+8613912345670", "email": "zhao.lei@example.com"}
    r = await client.post("/v1/customers", json=body, headers=auth_headers(tenant, "agent"))
    assert r.status_code == 201, r.text
    customer_id = r.json()["id"]
    async with runtime.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(outbox.c.event_type, outbox.c.key, outbox.c.payload).where(outbox.c.key == customer_id)
            )
        ).all()
    assert [(t, k) for t, k, _ in rows] == [("fixflow.intake.customer.registered.v1", customer_id)]
    payload = orjson.loads(rows[0].payload)
    assert payload["customer_id"] == customer_id and payload["tenant_id"] == tenant
    assert not {"name", "phone", "email"} & set(payload) and "13912345670" not in rows[0].payload.decode()
