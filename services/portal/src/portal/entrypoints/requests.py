"""A customer's requests: the list, and a new one (appliance or serial, what is wrong, photos, a
preferred window); the warranty decision is shown on the ticket page it leads to."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from fixflow_shared.web.services import ServiceProblem
from fixflow_shared.web.sessions import Session
from portal.domain.progress import STATUS_WORDS
from portal.domain.requests import KINDS, PARTS_OF_DAY, BadRequestForm, image_type, preferred_window
from portal.entrypoints.web import CustomerDep, locale_of, render, services_of, settings_of
from portal.i18n import translator

router = APIRouter(include_in_schema=False)
MAX_PHOTOS = 5


@router.get("/my")
async def my_requests(request: Request, session: CustomerDep) -> Response:
    services = services_of(request)
    page = await services.intake.get(
        "/v1/tickets", token=session.token, params={"customer_id": session.customer_id, "limit": 50}
    )
    tickets = page.get("items", [])
    open_ = [t for t in tickets if t["status"] not in ("closed", "cancelled")]
    done = [t for t in tickets if t["status"] in ("closed", "cancelled")]
    return render(request, "customer/my.html", {"open": open_, "done": done, "status_words": STATUS_WORDS})


async def _assets(request: Request, session: Session) -> list[dict[str, Any]]:
    """The customer's appliances with today's warranty decision, asked with the customer's own token
    (intake narrows the search to that customer whatever the query says)."""
    intake = services_of(request).intake
    params = {"customer_id": session.customer_id, "limit": 50}
    try:
        found = await intake.get("/v1/assets", token=session.token, params=params)
    except ServiceProblem:
        return []  # the form still works with a serial typed in
    return [a for a in found.get("items", []) if a.get("customer_id") in (None, session.customer_id)]


def _days(request: Request) -> list[str]:
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo(settings_of(request).timezone)).date()
    return [(today + timedelta(days=i)).isoformat() for i in range(0, 15)]


@router.get("/requests/new")
async def new_request(request: Request, session: CustomerDep) -> Response:
    assets = await _assets(request, session)
    return render(
        request,
        "customer/new_request.html",
        {
            "assets": assets,
            "kinds": KINDS,
            "parts": list(PARTS_OF_DAY),
            "days": _days(request),
            "values": {},
            "errors": {},
        },
    )


async def _photos(form: Any, limit_bytes: int) -> list[dict[str, Any]]:
    """The photos as the ticket's attachments (name, type, size, SHA-256), checked by their first bytes."""
    out: list[dict[str, Any]] = []
    for f in form.getlist("photos"):
        if isinstance(f, str) or not f.filename:  # a form value is text or an uploaded file
            continue
        data = await f.read(limit_bytes + 1)
        if not data:
            continue
        if len(data) > limit_bytes:
            raise BadRequestForm("photos", "Each photo may be at most {mb} MB.")
        kind = image_type(data[:16])
        if kind is None:
            raise BadRequestForm("photos", "Photos must be JPEG, PNG or WebP pictures.")
        out.append(
            {
                "name": f.filename[-200:],
                "content_type": kind,
                "size_bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
        if len(out) > MAX_PHOTOS:
            raise BadRequestForm("photos", "At most five photos.")
    return out


@router.post("/requests")
async def submit_request(request: Request, session: CustomerDep) -> Response:
    settings = settings_of(request)
    services = services_of(request)
    _ = translator(locale_of(request))
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    errors: dict[str, str] = {}
    body: dict[str, Any] = {
        "kind": values.get("kind") if values.get("kind") in KINDS else "repair",
        "channel": "web",
        "symptom": values.get("symptom", "").strip(),
        "locale": locale_of(request),
        "customer_id": session.customer_id,
    }
    serial = values.get("serial", "").strip()
    if not values.get("asset_id") and serial:  # a serial of one of their own appliances picks it
        mine = {a.get("serial"): a["id"] for a in await _assets(request, session)}
        if serial in mine:
            values["asset_id"] = mine[serial]
    if values.get("asset_id"):
        body["asset_id"] = values["asset_id"]
    elif serial:
        body["serial"] = values["serial"].strip()
        if values.get("product_model", "").strip():
            body["product_model"] = values["product_model"].strip()
    else:
        errors["asset_id"] = _("Choose your appliance or type its serial number.")
    if not body["symptom"]:
        errors["symptom"] = _("Tell us what is wrong.")
    try:
        window = preferred_window(
            values.get("preferred_day", ""),
            values.get("preferred_part", ""),
            tz=settings.timezone,
            now=datetime.now(UTC),
        )
        if window:
            body["requested_window"] = window.as_json()
        photos = await _photos(form, settings.max_photo_bytes)
        if photos:
            body["attachments"] = photos
    except BadRequestForm as exc:
        errors[exc.field] = _(str(exc), mb=settings.max_photo_bytes // 1_000_000)
    problem = None
    if not errors:
        try:
            ticket = await services.intake.post("/v1/tickets", body, token=session.token)
        except ServiceProblem as exc:
            if exc.status >= 500 or exc.status == 401:
                raise
            problem, errors = exc, exc.field_errors()
        else:
            return RedirectResponse(f"/tickets/{ticket['id']}?new=1", status_code=303)
    assets = await _assets(request, session)
    return render(
        request,
        "customer/new_request.html",
        {
            "assets": assets,
            "kinds": KINDS,
            "parts": list(PARTS_OF_DAY),
            "days": _days(request),
            "values": values,
            "errors": errors,
            "problem": problem,
        },
        status=422,
    )
