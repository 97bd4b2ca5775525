"""The technician's app: the day in route order with a navigation link per stop, one page per job
(on the way, arrived, customer absent, the job kind's checklist, parts from the van, parts needed,
photos, the customer's signature, completion), and the one JSON endpoint the device's queue sends
each action to.

Pages are cached by the service worker so they open offline; actions taken offline wait in the
device's queue (IndexedDB), each with its own Idempotency-Key, and are sent in order when the
connection is back. A job reassigned meanwhile answers 409 with the reason, which the app shows
next to the actions it kept; nothing is dropped silently or applied twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from fixflow_shared.web.services import ServiceProblem
from portal.domain.field_actions import RESOLUTIONS, BadAction, answers_of, calls_for, check_key, photo_fields
from portal.entrypoints.web import TechnicianDep, render, services_of, settings_of

router = APIRouter(prefix="/tech", include_in_schema=False)
FINISHED = ("completed", "needs_parts", "customer_absent", "escalated", "unassigned")


def _day_bounds(request: Request, day: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(settings_of(request).timezone)
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    return start, start + timedelta(days=1)


def navigation_link(request: Request, lat: Any, lon: Any) -> str | None:
    if lat is None or lon is None:
        return None
    return settings_of(request).navigation_url.format(lat=lat, lon=lon)


@router.get("")
async def my_day(request: Request, session: TechnicianDep) -> Response:
    """The technician's visits of one day, in the order the plan drives them (planned start)."""
    zone = ZoneInfo(settings_of(request).timezone)
    raw = request.query_params.get("day")
    try:
        day = date.fromisoformat(raw) if raw else datetime.now(zone).date()
    except ValueError:
        day = datetime.now(zone).date()
    start, end = _day_bounds(request, day)
    rows = await services_of(request).dispatch.get(
        "/v1/appointments", token=session.token, params={"start": start.isoformat(), "end": end.isoformat()}
    )
    stops = route_order(rows, session.technician_id)
    for s in stops:
        s["navigate"] = navigation_link(request, s.get("lat"), s.get("lon"))
    return render(
        request,
        "tech/day.html",
        {"day": day, "stops": stops, "prev": day - timedelta(days=1), "next": day + timedelta(days=1)},
    )


def route_order(rows: list[dict[str, Any]], technician_id: str | None) -> list[dict[str, Any]]:
    """This technician's visits that have a work order, in the order of the plan (planned start,
    else the window's start)."""
    mine = [r for r in rows if r.get("technician_id") == technician_id and r.get("work_order_id")]
    return sorted(mine, key=lambda r: (str(r.get("planned_start") or r["window_start"]), str(r["window_start"])))


@router.get("/jobs/{work_order_id}")
async def job_page(request: Request, work_order_id: str, session: TechnicianDep) -> Response:
    dispatch = services_of(request).dispatch
    wo, me = await asyncio.gather(
        dispatch.get(f"/v1/work-orders/{work_order_id}", token=session.token),
        dispatch.get(f"/v1/technicians/{session.technician_id}", token=session.token),
    )
    if wo.get("technician_id") != session.technician_id:
        raise ServiceProblem("dispatch", 404, {"title": "Not found", "detail": f"work order {work_order_id}"})
    job, checklist = await asyncio.gather(
        dispatch.get_or_none(f"/v1/jobs/{wo['job_id']}", token=session.token),
        dispatch.get_or_none(f"/v1/work-orders/{work_order_id}/checklist", token=session.token),
    )
    return render(
        request,
        "tech/job.html",
        {
            "wo": wo,
            "job": job or {},
            "navigate": navigation_link(request, (job or {}).get("lat"), (job or {}).get("lon")),
            "van_stock": sorted((me.get("van_stock") or {}).items()),
            "resolutions": RESOLUTIONS,
            "finished": wo["status"] in FINISHED,
            "checklist": checklist,
        },
    )


@router.get("/jobs/{work_order_id}/status")
async def job_status(request: Request, work_order_id: str, session: TechnicianDep) -> Response:
    """The job's status line, asked for again after the queue sent its actions."""
    wo = await services_of(request).dispatch.get(f"/v1/work-orders/{work_order_id}", token=session.token)
    return render(request, "tech/status.html", {"wo": wo, "finished": wo["status"] in FINISHED})


@router.get("/offline")
async def offline(request: Request) -> Response:
    """What the app shows for a page it has not kept for offline use."""
    return render(request, "tech/offline.html")


def _conflict(detail: str, reason: str, status: str | None = None) -> JSONResponse:
    return JSONResponse(
        {
            "type": "about:blank",
            "title": "Conflict",
            "status": 409,
            "detail": detail,
            "reason": reason,
            "work_order_status": status,
        },
        status_code=409,
        media_type="application/problem+json",
    )


PHOTO_TTL_S = 14 * 24 * 3600  # as long as an action may wait on a device


def _photo_key(session: Any, work_order_id: str, image_id: str) -> str:
    return f"portal:photo:{session.tenant}:{work_order_id}:{image_id}"


async def _remember_photo(request: Request, session: Any, work_order_id: str, image_id: str, stored: str) -> None:
    """The device names a photo by its own id (it was taken offline); dispatch by the attachment's."""
    await request.app.state.redis.set(_photo_key(session, work_order_id, image_id), stored, ex=PHOTO_TTL_S)


async def _photo_answers(request: Request, session: Any, work_order_id: str, answers: dict[str, Any]) -> dict[str, Any]:
    """A photo field's answer is the device's id of a photo sent before (the queue keeps the order):
    dispatch's id of that photo goes on."""
    form = await services_of(request).dispatch.get(f"/v1/work-orders/{work_order_id}/checklist", token=session.token)
    out = dict(answers)
    for key in photo_fields(form) & set(answers):
        value = answers[key]
        if not value or str(value).startswith("AT-"):
            continue  # cleared, or dispatch's id already (the page showed an answer kept before)
        stored = await request.app.state.redis.get(_photo_key(session, work_order_id, str(value)))
        if stored is None:
            raise BadAction(f"the photo for {key} has not been sent yet")
        out[key] = stored.decode() if isinstance(stored, bytes) else stored
    return out


@router.post("/api/work-orders/{work_order_id}/actions")
async def act(request: Request, work_order_id: str, session: TechnicianDep) -> Response:
    """One queued action. 200 when applied (or applied before under the same key), 409 when the job
    changed meanwhile (reassigned, already finished), 422 when the action itself is wrong."""
    settings = settings_of(request)
    dispatch = services_of(request).dispatch
    try:
        key = check_key(request.headers.get("idempotency-key"))
        action = await request.json()
        if not isinstance(action, dict) or not isinstance(action.get("data", {}), dict):
            raise BadAction("an action is a JSON object {kind, data}")
    except (ValueError, BadAction) as exc:
        return JSONResponse(
            {"type": "about:blank", "title": "Bad action", "status": 422, "detail": str(exc)},
            status_code=422,
            media_type="application/problem+json",
        )
    kind, data = str(action.get("kind")), dict(action.get("data") or {})
    try:
        wo = await dispatch.get(f"/v1/work-orders/{work_order_id}", token=session.token)
    except ServiceProblem as exc:
        if exc.status == 404:
            return _conflict("This job is no longer assigned to you.", "reassigned")
        raise
    if wo["status"] == "unassigned" or wo.get("technician_id") != session.technician_id:
        return _conflict("This job was reassigned to another technician meanwhile.", "reassigned", wo["status"])
    try:
        if kind in ("checklist", "complete") and data.get("answers"):
            data["answers"] = await _photo_answers(request, session, work_order_id, answers_of(data))
        calls = calls_for(kind, data, key=key, status=wo["status"], max_image_bytes=settings.max_photo_bytes)
    except BadAction as exc:
        return JSONResponse(
            {"type": "about:blank", "title": "Bad action", "status": 422, "detail": str(exc)},
            status_code=422,
            media_type="application/problem+json",
        )
    base = f"/v1/work-orders/{work_order_id}"
    result: Any = None
    for call in calls:
        try:
            result = await dispatch.request(
                call.method,
                base + call.path,
                token=session.token,
                json=call.body,
                content=call.content,
                content_type=call.content_type,
                idempotency_key=call.key,
            )
            if call.image_id and isinstance(result, dict) and result.get("id"):
                await _remember_photo(request, session, work_order_id, call.image_id, str(result["id"]))
        except ServiceProblem as exc:
            if exc.status == 409:
                now = await dispatch.get_or_none(f"/v1/work-orders/{work_order_id}", token=session.token)
                state = (now or {}).get("status")
                if state == "completed" and call.path == "/completion":
                    break  # completed before under another key (two devices): nothing is applied twice
                reason = "reassigned" if state in (None, "unassigned") else "changed"
                return _conflict(exc.detail or exc.title, reason, state)
            raise
    status = (result or {}).get("status") if isinstance(result, dict) else None
    if isinstance(result, dict) and "work_order" in result:
        status = result["work_order"].get("status")
    return JSONResponse({"ok": True, "kind": kind, "work_order_status": status or wo["status"]})
