"""SLA badges: the one thing an agent must see about a ticket's clocks (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Badge:
    tone: str  # ok | warn | bad | "" (neutral)
    state: str  # breached | at_risk | running | paused | met | missed
    due_at: datetime | None
    clock: str | None
    left_s: float | None


def _at(v: Any) -> datetime | None:
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(str(v))


def badge(clocks: list[dict[str, Any]], now: datetime | None = None) -> Badge | None:
    """The most urgent clock of a ticket: a breach first, then at risk, then the nearest deadline;
    a ticket whose clocks all stopped shows whether they were met."""
    now = now or datetime.now(UTC)
    running = [c for c in clocks if not c.get("stopped_at")]
    if running:
        late = [
            c for c in running if c.get("breached") or ((d := _at(c.get("due_at"))) and d < now and not c.get("paused"))
        ]
        pick = sorted(late or running, key=lambda c: _at(c.get("due_at")) or datetime.max.replace(tzinfo=UTC))[0]
        due = _at(pick.get("due_at"))
        left = (due - now).total_seconds() if due else None
        if late:
            return Badge("bad", "breached", due, pick.get("name"), left)
        if any(c.get("at_risk") for c in running):
            risky = [c for c in running if c.get("at_risk")]
            pick = sorted(risky, key=lambda c: _at(c.get("due_at")) or datetime.max.replace(tzinfo=UTC))[0]
            due = _at(pick.get("due_at"))
            return Badge("warn", "at_risk", due, pick.get("name"), (due - now).total_seconds() if due else None)
        if all(c.get("paused") for c in running):
            return Badge("", "paused", due, pick.get("name"), left)
        return Badge("ok", "running", due, pick.get("name"), left)
    if clocks:
        missed = [c for c in clocks if c.get("met") is False]
        return Badge("bad" if missed else "ok", "missed" if missed else "met", None, None, None)
    return None


def humanise(seconds: float | None) -> str:
    """'2 h 05 min', '35 min', '3 d 4 h' (the sign is the caller's)."""
    if seconds is None:
        return ""
    s = abs(int(seconds))
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m = rem // 60
    if d:
        return f"{d} d {h} h"
    if h:
        return f"{h} h {m:02d} min"
    return f"{m} min"


def by_ticket(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for c in items:
        out.setdefault(c["ticket_id"], []).append(c)
    return out
