"""The board's repeated markup (bars, queue items, the map) built in Python, not by template
includes: 2,000 bars through a Jinja include cost a second of server time; this is a few ms. The
markup is the same everywhere a bar appears (the page, a live update)."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from markupsafe import Markup

from console.domain.board import Bar, Lane, MapView

FIXED = ("done", "completed", "en_route", "on_site")
COLOURS = {"P1": "#b3261e", "P2": "#d8680b", "P4": "#5b6478"}


def _state(label: Callable[[Any], str], _: Callable[..., str], state: str) -> str:
    return _("On site") if state == "on_site" else label(state)


def bar(b: Bar, *, label: Callable[[Any], str], _: Callable[..., str], when: Callable[..., str]) -> str:
    state = _state(label, _, b.state)
    kind = label(b.kind)
    span = f"{when(b.start, '%m-%d %H:%M')}–{when(b.end, '%H:%M')}"
    drag = 'aria-disabled="true"' if b.state in FIXED else 'draggable="true"'
    return (
        f'<div class="bar" id="{b.id}" data-job="{escape(b.job_id)}" data-ticket="{escape(b.ticket_id)}" '
        f'data-appointment="{escape(b.appointment_id or "")}" data-priority="{escape(b.priority)}" '
        f'data-state="{escape(b.state)}" data-window-min="{b.window_min}" style="left:{b.left}%;width:{b.width}%" '
        f'tabindex="0" role="button" {drag} '
        f'aria-label="{escape(f"{b.priority} {kind} {b.ticket_id}, {span}, {state}")}" '
        f'title="{escape(f"{b.ticket_id} · {kind} · {state}")}">{escape(b.priority)} {escape(b.ticket_id[-6:])}</div>'
    )


def lane_bars(lane: Lane, **helpers: Any) -> Markup:
    return Markup("".join(bar(b, **helpers) for b in lane.bars))


def queue_item(j: dict[str, Any], *, label: Callable[[Any], str], **_: Any) -> str:
    status = label(j["status"])
    kind = label(j["kind"])
    sla = f" · SLA {escape(j['sla_deadline'][5:16].replace('T', ' '))} UTC" if j.get("sla_deadline") else ""
    skills = f" · {escape(', '.join(j['required_skills']))}" if j.get("required_skills") else ""
    drag = 'draggable="true"' if j["status"] == "open" else 'aria-disabled="true"'
    name = f"{j['priority']} {kind} {j['ticket_id']}, {status}"
    return (
        f'<li class="job" id="job-{escape(j["id"])}" data-job="{escape(j["id"])}" data-ticket="{escape(j["ticket_id"])}" '
        f'data-priority="{escape(j["priority"])}" data-window-min="90" tabindex="0" role="button" {drag} '
        f'aria-label="{escape(name)}">'
        f'<strong>{escape(j["priority"])}</strong> {escape(kind)} <span class="code">{escape(j["ticket_id"][-8:])}</span>'
        f'<div class="small muted">{escape(status)}{sla}{skills}</div></li>'
    )


def queue_items(jobs: list[dict[str, Any]], **helpers: Any) -> Markup:
    return Markup("".join(queue_item(j, **helpers) for j in jobs))


def svg_map(m: MapView | None, *, _: Callable[..., str], **__: Any) -> Markup:
    if m is None:
        return Markup(f'<p class="muted">{escape(_("Nothing to place on the map."))}</p>')
    techs = sum(1 for p in m.points if p.kind == "technician")
    parts = [
        f'<svg viewBox="0 0 {m.width} {m.height}" role="img" aria-labelledby="map-title map-desc">',
        f'<title id="map-title">{escape(_("Map of jobs and technicians"))}</title>',
        f'<desc id="map-desc">{escape(_("{t} technicians (squares) and {j} jobs (circles), drawn from their coordinates.", t=techs, j=len(m.points) - techs))}</desc>',
    ]
    parts += [f'<image href="{escape(t["url"])}" x="{t["x"]}" y="{t["y"]}" width="256" height="256"/>' for t in m.tiles]
    if len(m.lines) <= 600:  # beyond that the lines hide the points
        parts += [
            f'<line x1="{a}" y1="{b}" x2="{c}" y2="{d}" stroke="#7d8aa5" stroke-width="0.8" stroke-dasharray="2 2"/>'
            for a, b, c, d in m.lines
        ]
    for p in m.points:
        if p.kind == "technician":
            parts.append(
                f'<rect x="{p.x - 3.5:.1f}" y="{p.y - 3.5:.1f}" width="7" height="7" fill="#16213a"><title>{escape(p.label)}</title></rect>'
            )
        else:
            parts.append(
                f'<circle cx="{p.x}" cy="{p.y}" r="4.5" fill="{COLOURS.get(p.priority or "", "#1f5fbf")}" stroke="#fff" '
                f'stroke-width="1"><title>{escape(f"{p.priority} {p.label}")}</title></circle>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
