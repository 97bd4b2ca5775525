"""Dispatcher board: technicians × time (day or week) with the unassigned queue and a map; drag and
drop (or the keyboard) to assign or reschedule, with dispatch's rule check shown before anything
is committed; the optimiser run from the board; absences; live updates without reload."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from console.domain.board import bar_of, layout, map_view, segments_for
from console.entrypoints import board_markup
from console.entrypoints.web import (
    DispatcherDep,
    helpers,
    locale_of,
    problem_context,
    render,
    services_of,
    settings_of,
)
from console.i18n import translator
from fixflow_shared.web.services import ServiceProblem

router = APIRouter(include_in_schema=False)
QUEUE_STATES = ("open", "awaiting_consent", "waiting_parts", "incomplete")


def _day(request: Request, value: str | None) -> date:
    if value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    return datetime.now(ZoneInfo(settings_of(request).timezone)).date()


def _view(value: str | None) -> str:
    return "week" if value == "week" else "day"


async def _queue(request: Request, token: str) -> list[dict[str, Any]]:
    s = services_of(request).dispatch
    pages = await asyncio.gather(
        *(s.get("/v1/jobs", token=token, params={"status": st, "limit": 500}) for st in QUEUE_STATES)
    )
    jobs = [j for p in pages for j in p]
    order = {st: i for i, st in enumerate(QUEUE_STATES)}
    prio = {"P1": 0, "P2": 1, "P3": 2, "P4": 3}
    return sorted(jobs, key=lambda j: (order[j["status"]], prio.get(j["priority"], 9), j.get("sla_deadline") or "9"))


def _markup(request: Request) -> dict[str, Any]:
    h = helpers(request)
    fns = {"label": h["label"], "_": h["_"], "when": h["when"]}
    return {
        "lane_bars": lambda lane: board_markup.lane_bars(lane, **fns),
        "queue_items": lambda jobs: board_markup.queue_items(jobs, **fns),
        "svg_map": lambda m: board_markup.svg_map(m, **fns),
    }


async def _board(request: Request, token: str, day: date, view: str) -> dict[str, Any]:
    settings = settings_of(request)
    segs = segments_for(view, day, settings.timezone, settings.board_hours)
    s = services_of(request).dispatch
    period = {"start": segs[0].start.isoformat(), "end": segs[-1].end.isoformat()}
    started = time.perf_counter()
    techs, appts, queue = await asyncio.gather(
        s.get("/v1/technicians", token=token),
        s.get("/v1/appointments", token=token, params=period),
        _queue(request, token),
    )
    fetched = time.perf_counter()
    board = layout(
        view=view, day=day, tz=settings.timezone, technicians=techs, appointments=appts, hours=settings.board_hours
    )
    today = [a for a in appts if a["status"] != "done"]
    mv = map_view(
        technicians=[t for t in techs if t.get("active", True)],
        jobs=[{**a} for a in today] + [{**j, "job_id": j["id"]} for j in queue if j["status"] == "open"],
        links=[(a["technician_id"], a["job_id"]) for a in today],
        tile_url=settings.map_tile_url,
    )
    return {
        "board": board,
        "queue": queue,
        "map": mv,
        "technicians": sorted(techs, key=lambda t: t.get("name") or ""),
        "segments_ms": [[int(sg.start.timestamp() * 1000), int(sg.end.timestamp() * 1000)] for sg in board.segments],
        "view": view,
        "day": day,
        "prev": day - timedelta(days=1 if view == "day" else 7),
        "next": day + timedelta(days=1 if view == "day" else 7),
        "timing": {
            "fetch_ms": round((fetched - started) * 1000),
            "layout_ms": round((time.perf_counter() - fetched) * 1000),
        },
        **_markup(request),
    }


@router.get("/board", response_class=HTMLResponse)
async def board_page(
    request: Request, session: DispatcherDep, day: str | None = None, view: str | None = None
) -> HTMLResponse:
    ctx = await _board(request, session.token, _day(request, day), _view(view))
    started = time.perf_counter()
    response = render(request, "board/board.html", ctx)
    timing = ctx["timing"]
    response.headers["Server-Timing"] = (
        f"fetch;dur={timing['fetch_ms']}, layout;dur={timing['layout_ms']}, "
        f"render;dur={round((time.perf_counter() - started) * 1000)}"
    )
    return response


@router.get("/board/lanes", response_class=HTMLResponse)
async def lanes(
    request: Request, session: DispatcherDep, day: str | None = None, view: str | None = None
) -> HTMLResponse:
    ctx = await _board(request, session.token, _day(request, day), _view(view))
    return render(request, "board/parts.html", ctx)


@router.get("/board/job")
async def job_update(
    request: Request,
    session: DispatcherDep,
    ticket_id: Annotated[str, Query(max_length=64)] = "",
    job_id: Annotated[str, Query(max_length=64)] = "",
    day: str | None = None,
    view: str | None = None,
    wait: Annotated[float, Query(ge=0, le=5)] = 0,
) -> JSONResponse:
    """Where one job now belongs on the open board (a lane, the queue or nowhere) and its HTML, for a
    live update. `wait`: a ticket just opened may reach dispatch a moment after the page heard of it."""
    s = services_of(request).dispatch
    token = session.token
    job = None
    deadline = time.monotonic() + wait
    while job is None:
        if job_id:
            job = await s.get_or_none(f"/v1/jobs/{job_id}", token=token)
        elif ticket_id:
            found = await s.get_or_none(f"/v1/jobs/by-ticket/{ticket_id}", token=token)
            job = await s.get_or_none(f"/v1/jobs/{found['id']}", token=token) if found else None
        if job is not None or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.2)
    if job is None:
        return JSONResponse({"job_id": job_id or None, "place": "none"})
    settings = settings_of(request)
    segs = segments_for(_view(view), _day(request, day), settings.timezone, settings.board_hours)
    live = [a for a in job["appointments"] if a["status"] in ("booked", "confirmed", "done")]
    h = helpers(request)
    fns = {"label": h["label"], "_": h["_"], "when": h["when"]}
    if live:
        a = live[-1]
        wos = [
            w for w in job["work_orders"] if w["status"] != "unassigned" and w["technician_id"] == a["technician_id"]
        ]
        w = wos[-1] if wos else None
        row = {
            **a,
            "priority": job["priority"],
            "kind": job["kind"],
            "work_order_status": w["status"] if w else None,
            "planned_start": w["planned_start"] if w else None,
            "planned_end": None,
        }
        if w and w.get("planned_start"):
            row["planned_end"] = (
                datetime.fromisoformat(w["planned_start"]) + timedelta(minutes=job["duration_min"])
            ).isoformat()
        bar = bar_of(row, segs)
        if bar is not None:
            html = board_markup.bar(bar, **fns)
            return JSONResponse(
                {"job_id": job["id"], "place": "lane", "technician_id": a["technician_id"], "html": html}
            )
        return JSONResponse({"job_id": job["id"], "place": "none"})
    if job["status"] in QUEUE_STATES:
        html = board_markup.queue_item(job, **fns)
        return JSONResponse({"job_id": job["id"], "place": "queue", "html": html})
    return JSONResponse({"job_id": job["id"], "place": "none"})


@router.get("/board/check", response_class=HTMLResponse)
async def check(
    request: Request,
    session: DispatcherDep,
    job_id: Annotated[str, Query(min_length=1, max_length=64)],
    technician_id: Annotated[str, Query(min_length=1, max_length=64)],
    start: Annotated[str, Query(max_length=40)],
    end: Annotated[str, Query(max_length=40)] = "",
    appointment_id: Annotated[str, Query(max_length=64)] = "",
    window_min: Annotated[int, Query(ge=15, le=480)] = 90,
) -> HTMLResponse:
    """The rule check of a drop, before anything is committed: dispatch says rule by rule whether
    the technician fits, and the dialog offers to commit only what passes."""
    try:
        at = _parse_time(start, settings_of(request).timezone)
    except ValueError:
        return render(request, "board/check.html", {"bad_time": True}, status=422)
    until = _parse_time(end, settings_of(request).timezone) if end else at + timedelta(minutes=window_min)
    params = {
        "technician_id": technician_id,
        "start": at.isoformat(),
        "end": until.isoformat(),
        "appointment_id": appointment_id,
    }
    try:
        fit = await services_of(request).dispatch.get(f"/v1/jobs/{job_id}/fit", token=session.token, params=params)
    except ServiceProblem as exc:
        if exc.status in (401, 403) or exc.status >= 500:
            raise
        return render(request, "board/check.html", problem_context(exc), status=422)
    return render(
        request,
        "board/check.html",
        {
            "fit": fit,
            "job_id": job_id,
            "appointment_id": appointment_id,
            "start": at,
            "end": until,
            "idem": str(uuid.uuid4()),
        },
    )


def _parse_time(value: str, tz: str) -> datetime:
    """ISO time from the board (UTC) or a datetime-local field (the board's time zone)."""
    t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=ZoneInfo(tz))


@router.post("/board/commit", response_class=HTMLResponse)
async def commit(
    request: Request,
    session: DispatcherDep,
    job_id: Annotated[str, Form(min_length=1, max_length=64)],
    technician_id: Annotated[str, Form(min_length=1, max_length=64)],
    start: Annotated[str, Form(max_length=40)],
    end: Annotated[str, Form(max_length=40)],
    appointment_id: Annotated[str, Form(max_length=64)] = "",
    idempotency_key: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    _ = translator(locale_of(request))
    s = services_of(request).dispatch
    window = {"start": start, "end": end, "technician_id": technician_id}
    try:
        if appointment_id:
            await s.post(
                f"/v1/appointments/{appointment_id}/reschedule",
                {**window, "reason": "moved on the dispatcher board"},
                token=session.token,
                idempotency_key=idempotency_key or None,
            )
        else:
            await s.post(
                f"/v1/jobs/{job_id}/appointments", window, token=session.token, idempotency_key=idempotency_key or None
            )
    except ServiceProblem as exc:
        if exc.status in (401, 403) or exc.status >= 500:
            raise
        return render(request, "board/committed.html", {**problem_context(exc), "job_id": job_id}, status=422)
    response = render(request, "board/committed.html", {"job_id": job_id, "done": True})
    response.headers["HX-Trigger"] = json.dumps({"board-job": {"job_id": job_id}})
    return response


@router.get("/board/move-form", response_class=HTMLResponse)
async def move_form(
    request: Request,
    session: DispatcherDep,
    job_id: Annotated[str, Query(min_length=1, max_length=64)],
    appointment_id: Annotated[str, Query(max_length=64)] = "",
    window_min: Annotated[int, Query(ge=15, le=480)] = 90,
) -> HTMLResponse:
    """The keyboard's way to do a drag and drop: choose the technician and the time."""
    techs = await services_of(request).dispatch.get("/v1/technicians", token=session.token)
    start = datetime.now(ZoneInfo(settings_of(request).timezone)).replace(
        minute=0, second=0, microsecond=0
    ) + timedelta(hours=1)
    return render(
        request,
        "board/move_form.html",
        {
            "job_id": job_id,
            "appointment_id": appointment_id,
            "window_min": window_min,
            "technicians": sorted((t for t in techs if t.get("active", True)), key=lambda t: t.get("name") or ""),
            "start_local": start.strftime("%Y-%m-%dT%H:%M"),
        },
    )


@router.post("/board/optimise", response_class=HTMLResponse)
async def optimise(request: Request, session: DispatcherDep) -> HTMLResponse:
    """Plan every waiting job at once; show before (what waited, at SLA risk) and after (planned,
    drive, SLA breaches, what could not be planned and why), with the optimiser's reasons."""
    s = services_of(request).dispatch
    before_jobs = await s.get("/v1/jobs", token=session.token, params={"status": "open", "limit": 500})
    now = datetime.now(UTC)
    at_risk = sum(
        1
        for j in before_jobs
        if j.get("sla_deadline") and datetime.fromisoformat(j["sla_deadline"]) < now + timedelta(hours=24)
    )
    try:
        plan = await s.post("/v1/optimisations", {"method": "fast"}, token=session.token)
    except ServiceProblem as exc:
        if exc.status in (401, 403) or exc.status >= 500:
            raise
        return render(request, "board/optimised.html", problem_context(exc), status=422)
    response = render(
        request,
        "board/optimised.html",
        {
            "before": {"waiting": len(before_jobs), "at_risk": at_risk},
            "plan": plan,
            "planned": len(plan["assignments"]),
            "unplanned": plan["unplanned"],
        },
    )
    response.headers["HX-Trigger"] = "board-refresh"
    return response


@router.post("/board/absences", response_class=HTMLResponse)
async def add_absence(
    request: Request,
    session: DispatcherDep,
    technician_id: Annotated[str, Form(max_length=64)] = "",
    start: Annotated[str, Form(max_length=40)] = "",
    end: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    _ = translator(locale_of(request))
    tz = settings_of(request).timezone
    values = {"technician_id": technician_id, "start": start, "end": end, "reason": reason}
    techs = await services_of(request).dispatch.get("/v1/technicians", token=session.token)
    ctx = {"technicians": sorted(techs, key=lambda t: t.get("name") or ""), "values": values}
    try:
        body = {
            "start": _parse_time(start, tz).isoformat() if start else "",
            "end": _parse_time(end, tz).isoformat() if end else "",
            "reason": reason,
        }
    except ValueError:
        body = {"start": start, "end": end, "reason": reason}
    try:
        got = await services_of(request).dispatch.post(
            f"/v1/technicians/{technician_id or '-'}/absences", body, token=session.token
        )
    except ServiceProblem as exc:
        if exc.status in (401, 403) or exc.status >= 500:
            raise
        return render(request, "board/absence_form.html", {**problem_context(exc, values), **ctx}, status=422)
    moved = len(got.get("unassigned_work_orders") or [])
    response = render(
        request,
        "board/absence_form.html",
        {**ctx, "values": {}, "saved": _("Absence recorded; {n} visits handed back for replanning.", n=moved)},
    )
    response.headers["HX-Trigger"] = "board-refresh"
    return response
