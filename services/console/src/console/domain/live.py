"""Live updates: which page hears of which event, and who may hear of it.

An event from Kafka becomes a LiveMessage carrying identifiers only (ticket, job, technician,
appointment...), never names, phones or addresses: a page that hears of a change asks the
services for what it may show, with its own user's token. Messages go to the event's tenant only,
and each channel to the roles whose pages use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from time import time as _now
from typing import Any

# channel -> roles that hear it (admin hears everything)
CHANNEL_ROLES: dict[str, tuple[str, ...]] = {
    "board": ("dispatcher", "manager"),
    "tickets": ("agent", "dispatcher", "manager"),
    "followup": ("agent", "manager"),
    "kpi": ("manager",),
}
# identifiers a page may use to fetch what changed; nothing else leaves the console's process
SAFE_KEYS = (
    "job_id",
    "technician_id",
    "previous_technician_id",
    "appointment_id",
    "work_order_id",
    "survey_id",
    "invoice_id",
    "quote_id",
    "revisit_id",
    "status",
    "priority",
    "path",
    "reason",
)
_BOARD_INTAKE = ("opened", "triaged", "cancelled", "reopened", "closed", "updated", "facts")


@dataclass(frozen=True)
class LiveMessage:
    tenant: str
    type: str
    ticket_id: str | None
    channels: tuple[str, ...]
    data: dict[str, Any]
    time: str | None = None
    received_at: float = field(default_factory=_now)

    def payload(self) -> dict[str, Any]:
        return {"type": self.type, "ticket_id": self.ticket_id, "time": self.time, **self.data}


def channels_of(event_type: str) -> tuple[str, ...]:
    """fixflow.<service>.<entity>.<verb>.v<N> -> the pages that care."""
    parts = event_type.split(".")
    if len(parts) < 5 or parts[0] != "fixflow":
        return ()
    service, entity, verb = parts[1], parts[2], parts[3]
    if service == "intake":
        board = ("board",) if entity == "ticket" and any(verb.startswith(v) for v in _BOARD_INTAKE) else ()
        return ("tickets", "kpi", *board)
    if service == "dispatch":
        return ("board", "tickets", "kpi")
    if service == "survey":
        return ("followup", "tickets", "kpi")
    if service in ("billing", "notify"):
        return ("tickets",)
    return ()


def to_live(
    *, event_type: str, tenant: str | None, subject: str | None, data: dict[str, Any], time_: str | None = None
) -> LiveMessage | None:
    if not tenant:
        return None
    channels = channels_of(event_type)
    if not channels:
        return None
    ticket = subject or data.get("ticket_id")
    safe = {k: data[k] for k in SAFE_KEYS if k in data and isinstance(data[k], str | int | float | bool)}
    return LiveMessage(
        tenant=tenant,
        type=event_type,
        ticket_id=str(ticket) if ticket else None,
        channels=channels,
        data=safe,
        time=time_,
    )


def visible(channel: str, roles: frozenset[str] | set[str] | list[str]) -> bool:
    if "admin" in roles:
        return True
    return any(r in roles for r in CHANNEL_ROLES.get(channel, ()))


def sse_events(msg: LiveMessage, roles: frozenset[str]) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) pairs this subscriber receives for one message: each channel it may hear,
    and `ticket-<id>` for the ticket's own page."""
    out = [(c, msg.payload()) for c in msg.channels if visible(c, roles)]
    if msg.ticket_id and visible("tickets", roles):
        out.append((f"ticket-{msg.ticket_id}", msg.payload()))
    return out
