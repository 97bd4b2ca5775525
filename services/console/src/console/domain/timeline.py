"""A ticket's timeline, one line per event from any service: what happened, in words (pure).

Event payloads may carry contact details; a line shows only what a staff member needs (names of
technicians, windows, amounts, reasons, scores), never phones or e-mail addresses.
"""

from __future__ import annotations

from typing import Any

SHOWN = (
    "status",
    "priority",
    "path",
    "technician_name",
    "reason",
    "resolution_code",
    "level",
    "channel",
    "template",
    "number",
    "decision",
    "suggested_action",
)
MONEY = ("total_minor", "amount_minor")


def title_of(event_type: str) -> str:
    """fixflow.dispatch.technician.assigned.v1 -> 'Technician assigned'."""
    parts = event_type.split(".")
    if len(parts) >= 5:
        text = f"{parts[2]} {parts[3]}".replace("-", " ").replace("_", " ")
        return text[:1].upper() + text[1:]
    return event_type


def summarise(e: dict[str, Any]) -> dict[str, Any]:
    data = e.get("data") or {}
    facts: list[str] = []
    for k in SHOWN:
        v = data.get(k)
        if v not in (None, "", [], {}):
            facts.append(f"{k.replace('_', ' ')}: {v}")
    for k in MONEY:
        if isinstance(data.get(k), int):
            facts.append(
                f"{k.replace('_minor', '').replace('_', ' ')}: {data[k] / 100:.2f} {data.get('currency', '')}".strip()
            )
    window = data.get("window")
    if isinstance(window, dict) and window.get("start"):
        facts.append(f"window: {window['start'][:16].replace('T', ' ')}–{str(window.get('end', ''))[11:16]} UTC")
    scores = data.get("scores")
    if isinstance(scores, dict) and scores.get("overall") is not None:
        facts.append(f"overall: {scores['overall']}/5")
    source = str(e.get("source") or "").rsplit("/", 1)[-1]
    return {"time": e.get("time"), "service": source, "title": title_of(str(e.get("type", ""))), "facts": facts}
