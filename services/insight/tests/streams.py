"""Known event streams for insight's tests, with the figures worked out by hand (see EXPECTED)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fixflow_shared.events import Envelope, new_envelope
from fixflow_shared.events.contracts import billing, dispatch, intake, notify, survey
from fixflow_shared.testing import eventually  # noqa: F401 - the tests' one waiting helper, re-exported

D = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday
PERIOD = (date(2025, 3, 3), date(2025, 4, 2))
H = timedelta(hours=1)
DAY = timedelta(days=1)


def _env(tenant: str, payload: Any, subject: str, n: int, at: datetime) -> Envelope:
    e = new_envelope(payload, source="/test", subject=subject, tenant=tenant, time=at)
    # stable ids per tenant and position: a replay of the stream carries the same ids
    return Envelope(**{**e.__dict__, "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant}/{n}"))})


def _window(start: datetime) -> dispatch.TimeWindow:
    return dispatch.TimeWindow(start=start, end=start + 2 * H)


def _sign(at: datetime) -> dispatch.CustomerSignOff:
    return dispatch.CustomerSignOff(signed_by="x", signed_at=at, signature_sha256="0" * 64)


def stream(tenant: str) -> list[Envelope]:
    """Four tickets, a complaint, revisits and a delivery (the story is in docs/kpis.md's example)."""
    t = tenant
    events: list[tuple[Any, str, datetime]] = []

    def add(payload: Any, subject: str, at: datetime) -> None:
        events.append((payload, subject, at))

    def opened(
        tid: str,
        at: datetime,
        kind: str,
        channel: str,
        model: str,
        region: str,
        asset: str | None,
        batch: str | None = None,
    ) -> None:
        add(
            intake.TicketOpened(
                ticket_id=tid,
                tenant_id=t,
                kind=kind,
                channel=channel,
                symptom="s",
                opened_at=at,
                asset_id=asset,
                product_model=model,
                production_batch=batch,
                site=intake.Site(region=region),
                priority="P3",
            ),
            tid,
            at,
        )

    def clock(tid: str, started: datetime, stopped: datetime, elapsed: float, name: str = "first_response") -> None:
        add(
            intake.SlaClockStopped(
                ticket_id=tid,
                tenant_id=t,
                clock=name,
                started_at=started,
                stopped_at=stopped,
                target_s=7200,
                elapsed_s=elapsed,
                met=elapsed <= 7200,
            ),
            tid,
            stopped,
        )

    def assigned(tid: str, tech: str, at: datetime) -> None:
        add(
            dispatch.TechnicianAssigned(
                ticket_id=tid,
                tenant_id=t,
                job_id="J" + tid,
                work_order_id="W" + tid,
                technician_id=tech,
                technician_name=tech,
                team_id="TA",
                assigned_at=at,
            ),
            tid,
            at,
        )

    def visit(tid: str, tech: str, n: int, at: datetime, on_time: bool) -> None:
        add(
            dispatch.VisitStarted(
                ticket_id=tid,
                tenant_id=t,
                work_order_id="W" + tid,
                technician_id=tech,
                visit_number=n,
                arrived_at=at,
                on_time=on_time,
            ),
            tid,
            at,
        )

    def completed(tid: str, tech: str, n: int, at: datetime, ftf: bool, cause: str, parts: list[str]) -> None:
        add(
            dispatch.WorkOrderCompleted(
                ticket_id=tid,
                tenant_id=t,
                work_order_id="W" + tid,
                job_id="J" + tid,
                technician_id=tech,
                visit_number=n,
                labour_minutes=30,
                resolution_code="replaced_part",
                sign_off=_sign(at),
                first_time_fix=ftf,
                completed_at=at,
                fault_cause=cause,
                team_id="TA",
                parts_used=[dispatch.PartLine(part_code=p, quantity=1) for p in parts],
            ),
            tid,
            at,
        )

    def resolved(tid: str, tech: str, at: datetime) -> None:
        add(
            intake.TicketResolved(
                ticket_id=tid,
                tenant_id=t,
                kind="repair",
                resolution="work_order_completed",
                technician_id=tech,
                resolved_at=at,
            ),
            tid,
            at,
        )

    def surveyed(tid: str, sid: str, tech: str, overall: int, nps: int, at: datetime) -> None:
        add(
            survey.SurveyCompleted(
                survey_id=sid,
                ticket_id=tid,
                tenant_id=t,
                technician_id=tech,
                team_id="TA",
                scores={"overall": overall, "attitude": overall},
                nps=nps,
                satisfied=overall >= 4,
                completed_at=at,
            ),
            tid,
            at,
        )

    # T1: repair, KF-35 of batch B7 on asset A1; response 1 h (met); on time; fixed first time by K1.
    opened("T1", D + 8 * H, "repair", "phone", "KF-35", "CN-31", "A1", "B7")
    clock("T1", D + 8 * H, D + 9 * H, 3600)
    assigned("T1", "K1", D + 9 * H)
    visit("T1", "K1", 1, D + DAY + 10 * H, True)
    completed("T1", "K1", 1, D + DAY + 11 * H, True, "compressor", ["P1"])
    resolved("T1", "K1", D + DAY + 12 * H)  # 28 h after opening
    surveyed("T1", "S1", "K1", 5, 10, D + 3 * DAY)
    add(
        billing.InvoiceIssued(
            invoice_id="I1",
            invoice_number="2025-1",
            ticket_id="T1",
            tenant_id=t,
            service_kind="A",
            currency="CNY",
            subtotal_minor=12000,
            tax_minor=0,
            total_minor=12000,
            issued_at=D + DAY + 13 * H,
        ),
        "T1",
        D + DAY + 13 * H,
    )
    # T2: repair, KF-35 on asset A2; response 4 h (breached); late, needs parts (48 h), fixed on visit 2 by K2.
    opened("T2", D + 10 * H, "repair", "web", "KF-35", "CN-31", "A2")
    clock("T2", D + 10 * H, D + 14 * H, 14400)
    add(
        intake.SlaBreached(
            ticket_id="T2",
            tenant_id=t,
            clock="first_response",
            due_at=D + 12 * H,
            raised_at=D + 12 * H,
            started_at=D + 10 * H,
        ),
        "T2",
        D + 12 * H,
    )
    assigned("T2", "K2", D + 14 * H)
    visit("T2", "K2", 1, D + 2 * DAY + 9 * H, False)
    add(
        dispatch.WorkOrderFailed(
            ticket_id="T2",
            tenant_id=t,
            work_order_id="WT2",
            job_id="JT2",
            technician_id="K2",
            visit_number=1,
            outcome="needs_parts",
            failed_at=D + 2 * DAY + 10 * H,
        ),
        "T2",
        D + 2 * DAY + 10 * H,
    )
    add(
        dispatch.PartsRequested(
            ticket_id="T2",
            tenant_id=t,
            parts_request_id="PR1",
            work_order_id="WT2",
            parts=[dispatch.PartLine(part_code="P2", quantity=1)],
            requested_at=D + 2 * DAY + 10 * H,
        ),
        "T2",
        D + 2 * DAY + 10 * H,
    )
    add(
        dispatch.ShipmentUpdated(
            parts_request_id="PR1", shipment_id="SH1", status="delivered", updated_at=D + 4 * DAY + 10 * H
        ),
        "PR1",
        D + 4 * DAY + 10 * H,
    )
    visit("T2", "K2", 2, D + 5 * DAY + 9 * H, True)
    completed("T2", "K2", 2, D + 5 * DAY + 11 * H, False, "compressor", ["P1", "P2"])
    resolved("T2", "K2", D + 5 * DAY + 12 * H)  # 5 d 2 h after opening
    surveyed("T2", "S2", "K2", 2, 3, D + 6 * DAY)
    add(
        intake.ComplaintOpened(
            ticket_id="C1",
            tenant_id=t,
            original_ticket_id="T2",
            level=2,
            compensation_requested=True,
            compensation_amount_minor=5000,
            opened_at=D + 6 * DAY + 9 * H,
        ),
        "C1",
        D + 6 * DAY + 9 * H,
    )
    add(
        billing.ChargeWaived(
            ticket_id="T2",
            tenant_id=t,
            service_kind="C",
            currency="CNY",
            waived_minor=8000,
            reason="warranty",
            rule="warranty.quality_repair_free",
            waived_at=D + 5 * DAY + 13 * H,
        ),
        "T2",
        D + 5 * DAY + 13 * H,
    )
    # T3: repair, KF-50 on asset A1 again, 8 d 20 h after T1 was resolved: T1 is a repeat repair.
    opened("T3", D + 10 * DAY + 8 * H, "repair", "phone", "KF-50", "CN-32", "A1")
    clock("T3", D + 10 * DAY + 8 * H, D + 10 * DAY + 8 * H + 1800 * timedelta(seconds=1), 1800)
    assigned("T3", "K1", D + 10 * DAY + 9 * H)
    # T4: an installation, cancelled (its clocks are void: no verdict).
    opened("T4", D + 9 * H, "installation", "phone", "KF-50", "CN-32", None)
    add(
        intake.TicketCancelled(ticket_id="T4", tenant_id=t, reason="duplicate", cancelled_at=D + 10 * H),
        "T4",
        D + 10 * H,
    )
    # Revisits: two due, one done on time.
    add(
        survey.RevisitDue(revisit_id="R1", tenant_id=t, customer_id="CU1", grade="A", due_on=(D + 2 * DAY).date()),
        "R1",
        D,
    )
    add(
        survey.RevisitDue(revisit_id="R2", tenant_id=t, customer_id="CU2", grade="B", due_on=(D + 3 * DAY).date()),
        "R2",
        D,
    )
    add(
        survey.RevisitCompleted(
            revisit_id="R1",
            tenant_id=t,
            customer_id="CU1",
            due_on=(D + 2 * DAY).date(),
            outcome="reached",
            completed_at=D + 2 * DAY + 15 * H,
        ),
        "R1",
        D + 2 * DAY + 15 * H,
    )
    add(
        notify.DeliverySent(
            delivery_id="DL1",
            ticket_id="T1",
            channel="email",
            template="ticket.opened",
            trigger_event_type="x",
            sent_at=D + 8 * H,
        ),
        "T1",
        D + 8 * H,
    )
    return [_env(t, p, s, i, at) for i, (p, s, at) in enumerate(events)]


# Worked out by hand from the story above, for PERIOD.
EXPECTED: dict[str, Any] = {
    "tickets": {"opened": 4, "resolved": 2, "jobs": 2},
    "first_response": {"count": 3, "mean_s": 6600.0, "p50_s": 3600, "p90_s": 14400},
    "arrival_on_time": {"visits": 3, "on_time": 2, "rate": 0.6667},
    "first_time_fix": {"completions": 2, "first_time": 1, "rate": 0.5},
    "resolution_time": {"count": 2, "mean_s": 270000.0, "p50_s": 100800, "p90_s": 439200, "p95_s": 439200},
    "repeat_repairs": {"repairs": 2, "within_30d": 1, "rate_30d": 0.5, "within_90d": 1, "rate_90d": 0.5},
    "csat": {"responses": 2, "satisfied": 1, "rate": 0.5, "mean_score": 3.5},
    "nps": {"responses": 2, "promoters": 1, "detractors": 1, "score": 0.0},
    "complaints": {"count": 1, "jobs": 2, "per_100_jobs": 50.0},
    "revisits": {"due": 2, "done": 1, "done_on_time": 1, "completion_rate": 0.5},
    "parts_waiting": {"count": 1, "mean_s": 172800.0, "p50_s": 172800, "p90_s": 172800},
    "money": {
        "waived": {"CNY": {"count": 1, "minor": 8000}},
        "compensation_requested": {"CNY": {"count": 1, "minor": 5000}},
        "invoiced": {"CNY": {"count": 1, "minor": 12000}},
        "paid": {},
        "refunded": {},
    },
    "sla": {
        "on_time_rate": 0.6667,
        "clocks": {"first_response": {"measured": 3, "met": 2, "breached": 1, "on_time_rate": 0.6667}},
    },
    "deliveries": {"sent:email": 1},
}

# Per technician: K1 served T1 and T3, K2 served T2 (and the complaint is about T2).
EXPECTED_BY_TECHNICIAN = {
    "K1": {"first_time_fix": 1.0, "complaints_per_100": 0.0, "first_responses": 2, "jobs": 1},
    "K2": {"first_time_fix": 0.0, "complaints_per_100": 100.0, "first_responses": 1, "jobs": 1},
}


async def publish(bootstrap: str, envelopes: list[Envelope]) -> None:
    """Put the events on their contracts' topics, as their producers' relays would."""
    from aiokafka import AIOKafkaProducer

    from fixflow_shared.events import registry

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for e in envelopes:
            await producer.send(registry.model_for(e.type).topic, e.body(), key=e.key, headers=e.headers())
        await producer.flush()
    finally:
        await producer.stop()
