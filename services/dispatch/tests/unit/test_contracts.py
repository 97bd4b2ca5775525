"""Dispatch's event contracts are what intake, billing and notify consume: a schema snapshot guards
them (additive changes only within a major version; regenerate with DISPATCH_UPDATE_SNAPSHOT=1)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from fixflow_shared import topics
from fixflow_shared.events import registry
from fixflow_shared.events.contracts import dispatch as ev

SNAPSHOT = Path(__file__).parent / "snapshots" / "dispatch_events.json"
OURS = ("fixflow.dispatch.", "fixflow.integration.shipment.")


def current() -> dict[str, object]:
    return {t: s for t, s in registry.json_schemas().items() if t.startswith(OURS)}


def test_schemas_match_the_snapshot_or_only_grow():
    now = current()
    if os.environ.get("DISPATCH_UPDATE_SNAPSHOT") or not SNAPSHOT.exists():
        SNAPSHOT.write_text(json.dumps(now, indent=1, sort_keys=True, default=str))
    old = json.loads(SNAPSHOT.read_text())
    for type_, schema in old.items():
        assert type_ in now, f"{type_} disappeared: publish a new major version instead"
        new = now[type_]
        assert new["x-topic"] == schema["x-topic"]
        for field in schema.get("required", []):
            assert field in new.get("required", []), f"{type_}.{field} is no longer required"
        for field in schema.get("properties", {}):
            assert field in new.get("properties", {}), f"{type_}.{field} was removed"
        assert set(new.get("required", [])) <= set(schema.get("required", [])), f"{type_} gained a required field"


def test_the_issue_s_event_types_are_all_on_the_work_orders_topic():
    wanted = {
        "appointment.booked",
        "appointment.rescheduled",
        "appointment.cancelled",
        "technician.assigned",
        "technician.unassigned",
        "technician.delayed",
        "visit.started",
        "work-order.completed",
        "work-order.failed",
        "parts.requested",
    }
    for name in wanted:
        model = registry.model_for(f"fixflow.dispatch.{name}.v1")
        assert model.topic == topics.DISPATCH_WORK_ORDERS
    assert ev.PartsRequestSubmitted.topic == topics.INTEGRATION_PARTS_REQUESTS
    assert ev.ShipmentUpdated.topic == topics.INTEGRATION_SHIPMENTS


def test_consumers_ignore_fields_they_do_not_know():
    now = datetime.now(UTC)
    data = {
        "ticket_id": "T",
        "tenant_id": "x",
        "job_id": "J",
        "work_order_id": "W",
        "technician_id": "t",
        "technician_name": "Li",
        "assigned_at": now.isoformat(),
        "some_future_field": 1,
    }
    assert ev.TechnicianAssigned.model_validate(data).technician_name == "Li"
