"""What insight knows about each ticket (and asset, and parts request), merged from events.

Facts are plain JSON-able dicts, one per key: "t:<ticket>", "a:<asset>", "p:<parts request>".
Every merge is idempotent and order-independent: attributes set once come from the one event that
carries them, values that change take the latest by the event's own time (ties by event id),
sets of things (visits, surveys, invoices...) are maps keyed by the thing's id, and times that
only grow take the maximum. So a duplicated event changes nothing, and the same events in any
order give the same facts: the figures read from them do not depend on delivery order.
Times are stored as epoch seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from fixflow_shared.events import Event, TicketEvent
from fixflow_shared.events.contracts import billing, dispatch, intake, notify, survey

Facts = dict[str, Any]


def ticket_key(ticket_id: str) -> str:
    return "t:" + ticket_id


def asset_key(asset_id: str) -> str:
    return "a:" + asset_id


def parts_key(parts_request_id: str) -> str:
    return "p:" + parts_request_id


def ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _lww(f: Facts, field: str, value: Any, at: float, eid: str) -> None:
    """Latest write wins by (event time, event id): the same result in any order."""
    cur = f.get(field)
    if cur is None or (at, eid) > (cur[0], cur[1]):
        f[field] = [at, eid, value]


def lww_value(f: Facts, field: str) -> Any:
    cur = f.get(field)
    return None if cur is None else cur[2]


def _max(f: Facts, field: str, value: float | None) -> None:
    if value is not None and (f.get(field) is None or value > f[field]):
        f[field] = value


def _min(f: Facts, field: str, value: float | None) -> None:
    if value is not None and (f.get(field) is None or value < f[field]):
        f[field] = value


def _put(f: Facts, field: str, key: str, value: dict[str, Any]) -> None:
    """Merge `value` into the map entry `key` (None never overwrites a known value)."""
    entry = f.setdefault(field, {}).setdefault(key, {})
    for k, v in value.items():
        if v is not None:
            entry[k] = v


class Loaded:
    """The facts of a batch, by key; `get` creates what is missing and notes what was touched
    (only those rows are written back)."""

    def __init__(self, rows: dict[str, Facts]) -> None:
        self.rows = rows
        self.touched: set[str] = set()

    def get(self, key: str) -> Facts:
        self.touched.add(key)
        return self.rows.setdefault(key, {})


# --- what each event says ---------------------------------------------------------------------------


# events that may name a ticket (the others about one ticket are TicketEvents)
_MAYBE_ABOUT_A_TICKET = (dispatch.ShipmentUpdated, notify.DeliverySent, notify.DeliveryFailed, notify.DeliveryDeferred)


def keys_of(payload: Event) -> list[str]:
    """The fact rows an event changes (loaded before it is merged)."""
    keys: list[str] = []
    ticket = None
    if isinstance(payload, TicketEvent):
        ticket = payload.ticket_id
    elif isinstance(payload, _MAYBE_ABOUT_A_TICKET):
        ticket = payload.ticket_id
    if isinstance(payload, intake.ComplaintOpened) and payload.original_ticket_id:
        keys.append(ticket_key(payload.original_ticket_id))
    if isinstance(payload, dispatch.ShipmentUpdated | dispatch.PartsRequested):
        keys.append(parts_key(payload.parts_request_id))
    if isinstance(payload, intake.TicketOpened) and payload.asset_id:
        keys.append(asset_key(payload.asset_id))
    if ticket:
        keys.append(ticket_key(ticket))
    return keys


def merge(loaded: Loaded, eid: str, payload: Event) -> None:
    handler = _MERGES.get(type(payload))
    if handler is not None:
        handler(loaded, eid, payload)


def _opened(loaded: Loaded, eid: str, e: intake.TicketOpened) -> None:
    f = loaded.get(ticket_key(e.ticket_id))
    f["opened_at"] = ts(e.opened_at)
    f["kind"], f["channel"] = e.kind, e.channel
    for field in ("customer_id", "asset_id", "product_model", "production_batch", "category", "priority"):
        if getattr(e, field) is not None:
            f[field] = getattr(e, field)
    if e.site and e.site.region:
        f["region"] = e.site.region
    if e.original_ticket_id:
        f["original_ticket_id"] = e.original_ticket_id
    if e.asset_id:
        a = loaded.get(asset_key(e.asset_id))
        a.setdefault("tickets", {})[e.ticket_id] = {"opened_at": ts(e.opened_at), "kind": e.kind}


def _triaged(loaded: Loaded, eid: str, e: intake.TicketTriaged) -> None:
    f = loaded.get(ticket_key(e.ticket_id))
    at = ts(e.triaged_at) or 0.0
    _lww(
        f,
        "triage",
        {"priority": e.priority, "model": e.product_model, "region": e.site.region if e.site else None},
        at,
        eid,
    )


def _resolved(loaded: Loaded, eid: str, e: intake.TicketResolved) -> None:
    f = loaded.get(ticket_key(e.ticket_id))
    _max(f, "resolved_at", ts(e.resolved_at))
    if e.technician_id:
        _lww(f, "resolved_by", e.technician_id, ts(e.resolved_at) or 0.0, eid)


def _reopened(loaded: Loaded, eid: str, e: intake.TicketReopened) -> None:
    _put(loaded.get(ticket_key(e.ticket_id)), "reopens", str(e.round), {"at": ts(e.reopened_at)})


def _cancelled(loaded: Loaded, eid: str, e: intake.TicketCancelled) -> None:
    _max(loaded.get(ticket_key(e.ticket_id)), "cancelled_at", ts(e.cancelled_at))


def _clock_stopped(loaded: Loaded, eid: str, e: intake.SlaClockStopped) -> None:
    _put(
        loaded.get(ticket_key(e.ticket_id)),
        "clocks",
        f"{e.clock}:{e.round}",
        {
            "clock": e.clock,
            "started_at": ts(e.started_at),
            "stopped_at": ts(e.stopped_at),
            "target_s": e.target_s,
            "elapsed_s": e.elapsed_s,
        },
    )


def _breached(loaded: Loaded, eid: str, e: intake.SlaBreached) -> None:
    if e.started_at is not None:  # older producers: the breach cannot be placed in a period
        _put(
            loaded.get(ticket_key(e.ticket_id)),
            "breaches",
            f"{e.clock}:{ts(e.started_at)}",
            {"clock": e.clock, "started_at": ts(e.started_at)},
        )


def _complaint(loaded: Loaded, eid: str, e: intake.ComplaintOpened) -> None:
    about = e.original_ticket_id or e.ticket_id
    _put(
        loaded.get(ticket_key(about)),
        "complaints",
        e.ticket_id,
        {
            "at": ts(e.opened_at),
            "level": e.level,
            "compensation_minor": e.compensation_amount_minor if e.compensation_requested else None,
            "currency": e.currency,
        },
    )


def _assigned(loaded: Loaded, eid: str, e: dispatch.TechnicianAssigned) -> None:
    f = loaded.get(ticket_key(e.ticket_id))
    _lww(f, "assigned", {"technician_id": e.technician_id, "team_id": e.team_id}, ts(e.assigned_at) or 0.0, eid)


def _visit_started(loaded: Loaded, eid: str, e: dispatch.VisitStarted) -> None:
    _put(
        loaded.get(ticket_key(e.ticket_id)),
        "visits",
        f"{e.work_order_id}:{e.visit_number}",
        {"at": ts(e.arrived_at), "on_time": e.on_time, "technician_id": e.technician_id},
    )


def _completed(loaded: Loaded, eid: str, e: dispatch.WorkOrderCompleted) -> None:
    _put(
        loaded.get(ticket_key(e.ticket_id)),
        "completions",
        f"{e.work_order_id}:{e.visit_number}",
        {
            "at": ts(e.completed_at),
            "ftf": e.first_time_fix,
            "technician_id": e.technician_id,
            "team_id": e.team_id,
            "fault_cause": e.fault_cause,
            "fault_origin": e.fault_origin,
            "parts": sorted({p.part_code for p in e.parts_used}),
        },
    )


def _failed(loaded: Loaded, eid: str, e: dispatch.WorkOrderFailed) -> None:
    _put(
        loaded.get(ticket_key(e.ticket_id)),
        "failures",
        f"{e.work_order_id}:{e.visit_number}",
        {"at": ts(e.failed_at), "outcome": e.outcome, "technician_id": e.technician_id},
    )


def _parts_requested(loaded: Loaded, eid: str, e: dispatch.PartsRequested) -> None:
    link = loaded.get(parts_key(e.parts_request_id))
    link["ticket_id"] = e.ticket_id
    _min(link, "requested_at", ts(e.requested_at))
    _put(
        loaded.get(ticket_key(e.ticket_id)),
        "parts",
        e.parts_request_id,
        {"requested_at": link["requested_at"], "delivered_at": link.get("delivered_at")},
    )


def _shipment(loaded: Loaded, eid: str, e: dispatch.ShipmentUpdated) -> None:
    if e.status != "delivered":
        return
    link = loaded.get(parts_key(e.parts_request_id))
    _min(link, "delivered_at", ts(e.updated_at))
    ticket = e.ticket_id or link.get("ticket_id")
    if ticket:
        link["ticket_id"] = ticket
        _put(
            loaded.get(ticket_key(ticket)),
            "parts",
            e.parts_request_id,
            {"requested_at": link.get("requested_at"), "delivered_at": link["delivered_at"]},
        )


def _survey(loaded: Loaded, eid: str, e: survey.SurveyCompleted) -> None:
    scores = dict(e.scores)
    score = scores.get("overall")
    if score is None and scores:
        score = round(sum(scores.values()) / len(scores))
    _put(
        loaded.get(ticket_key(e.ticket_id)),
        "surveys",
        e.survey_id,
        {
            "at": ts(e.completed_at),
            "score": score,
            "nps": e.nps,
            "technician_id": e.technician_id,
            "team_id": e.team_id,
        },
    )


def _money(field: str, key: Callable[[str, Any], str], at: str, amount: str) -> Callable[[Loaded, str, Any], None]:
    def apply(loaded: Loaded, eid: str, e: Any) -> None:
        _put(
            loaded.get(ticket_key(e.ticket_id)),
            field,
            key(eid, e),
            {"at": ts(getattr(e, at)), "minor": getattr(e, amount), "currency": e.currency},
        )

    return apply


_MERGES: dict[type, Callable[[Loaded, str, Any], None]] = {
    intake.TicketOpened: _opened,
    intake.TicketTriaged: _triaged,
    intake.TicketResolved: _resolved,
    intake.TicketReopened: _reopened,
    intake.TicketCancelled: _cancelled,
    intake.SlaClockStopped: _clock_stopped,
    intake.SlaBreached: _breached,
    intake.ComplaintOpened: _complaint,
    dispatch.TechnicianAssigned: _assigned,
    dispatch.VisitStarted: _visit_started,
    dispatch.WorkOrderCompleted: _completed,
    dispatch.WorkOrderFailed: _failed,
    dispatch.PartsRequested: _parts_requested,
    dispatch.ShipmentUpdated: _shipment,
    survey.SurveyCompleted: _survey,
    billing.InvoiceIssued: _money("invoices", lambda eid, e: e.invoice_id, "issued_at", "total_minor"),
    billing.PaymentReceived: _money("payments", lambda eid, e: e.payment_id, "received_at", "applied_minor"),
    billing.RefundIssued: _money("refunds", lambda eid, e: e.refund_id, "issued_at", "amount_minor"),
    billing.ChargeWaived: _money("waivers", lambda eid, e: eid, "waived_at", "waived_minor"),
}


def epoch_day(seconds: float) -> date:
    return date.fromordinal(_EPOCH_ORDINAL + int(seconds // 86400))


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
