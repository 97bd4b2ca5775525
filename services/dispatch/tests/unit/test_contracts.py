"""Dispatch's event contracts are what intake, billing and notify consume: a schema snapshot guards
them (additive changes only within a major version, each with a new minor version; regenerate with
DISPATCH_UPDATE_SNAPSHOT=1)."""

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
        if set(new.get("properties", {})) != set(schema.get("properties", {})):
            old_v, new_v = (tuple(map(int, s.get("x-version", "1.0").split("."))) for s in (schema, new))
            assert new_v > old_v, f"{type_} gained fields: raise its minor version (@event(..., minor=N+1))"


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


def test_a_completion_from_before_v1_1_still_reads_with_neutral_defaults():
    now = datetime.now(UTC)
    v1_0 = {
        "ticket_id": "T",
        "tenant_id": "x",
        "work_order_id": "W",
        "job_id": "J",
        "technician_id": "t",
        "visit_number": 1,
        "labour_minutes": 30,
        "resolution_code": "adjusted",
        "sign_off": {"signed_by": "Li", "signed_at": now.isoformat(), "signature_sha256": "0" * 64},
        "first_time_fix": True,
        "completed_at": now.isoformat(),
    }
    done = ev.WorkOrderCompleted.model_validate(v1_0)
    assert (done.work_type, done.fault_origin, done.adjustments, done.freight, done.internal) == (
        None,
        None,
        1,
        False,
        False,
    )
    assert done.service_report_id is None  # v1.2: a completion from before has no report
    assert ev.WorkOrderCompleted.version == "1.2"
