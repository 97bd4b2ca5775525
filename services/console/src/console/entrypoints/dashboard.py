"""Manager dashboard: KPIs per period (with charts), per technician, SLA breaches and tickets at
risk, exported as CSV and PDF. The KPIs come from insight through one port (adapters/kpis.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from console.adapters.pdf import dashboard_pdf
from console.domain import kpis
from console.entrypoints.tickets import _with_badges
from console.entrypoints.web import ManagerDep, locale_of, render, services_of, settings_of
from console.i18n import translator

router = APIRouter(include_in_schema=False)
PERIODS = (1, 7, 30, 90)


def _period(request: Request) -> tuple[int, datetime, datetime]:
    raw = request.query_params.get("days", "30")
    days = int(raw) if raw.isdigit() and int(raw) in PERIODS else 30
    zone = ZoneInfo(settings_of(request).timezone)
    end = datetime.combine(datetime.now(zone).date() + timedelta(days=1), time(0), zone).astimezone(UTC)
    return days, end - timedelta(days=days), end


async def _figures(request: Request, token: str) -> dict[str, Any]:
    days, start, end = _period(request)
    s = services_of(request)
    figures, techs, breached, at_risk = await asyncio.gather(
        request.app.state.kpis.figures(token=token, start=start, end=end),
        s.dispatch.get("/v1/technicians", token=token),
        s.intake.get("/v1/tickets", token=token, params={"sla_risk": "breached", "limit": 50}),
        s.intake.get("/v1/tickets", token=token, params={"sla_risk": "at_risk", "limit": 50}),
    )
    names = {t["id"]: t["name"] for t in techs}
    risky = await _with_badges(
        request,
        token,
        breached["items"] + [t for t in at_risk["items"] if t["id"] not in {b["id"] for b in breached["items"]}],
    )
    for t in risky:
        t["sla_state"] = (t.get("sla") or {}).get("state", "")
    return {
        "days": days,
        "periods": PERIODS,
        "start": start,
        "end": end,
        "figures": figures,
        "tiles": kpis.tiles(figures.overall, figures.backlog),
        "charts": kpis.charts(figures.by_kind, figures.by_day, figures.by_technician, figures.backlog, names),
        "technicians": kpis.technician_rows(figures.by_technician, names),
        "risky": risky,
    }


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, session: ManagerDep) -> HTMLResponse:
    return render(request, "dashboard/dashboard.html", await _figures(request, session.token))


@router.get("/dashboard/figures", response_class=HTMLResponse)
async def figures_fragment(request: Request, session: ManagerDep) -> HTMLResponse:
    return render(request, "dashboard/figures.html", await _figures(request, session.token))


@router.get("/dashboard/export.csv")
async def export_csv(request: Request, session: ManagerDep) -> Response:
    f = await _figures(request, session.token)
    body = kpis.to_csv((f["start"].isoformat(), f["end"].isoformat()), f["tiles"], f["technicians"], f["risky"])
    name = f"fixflow-kpis-{f['start']:%Y%m%d}-{f['end']:%Y%m%d}.csv"
    return Response(
        "\ufeff" + body,  # a byte-order mark, so spreadsheet programs read the Chinese text as UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/dashboard/export.pdf")
async def export_pdf(request: Request, session: ManagerDep) -> Response:
    _ = translator(locale_of(request))
    f = await _figures(request, session.token)
    zone = ZoneInfo(settings_of(request).timezone)
    period = f"{f['start'].astimezone(zone):%Y-%m-%d} – {(f['end'] - timedelta(seconds=1)).astimezone(zone):%Y-%m-%d} ({session.tenant})"
    pdf = await asyncio.to_thread(
        dashboard_pdf,
        title=_("Fixflow KPIs"),
        period=period,
        headings={
            "kpis": _("Key figures"),
            "kpi": _("Figure"),
            "value": _("Value"),
            "technicians": _("Per technician"),
            "sla": _("SLA breaches and tickets at risk"),
        },
        tiles=[(_(t.title), t.value, t.note) for t in f["tiles"]],
        technicians=[[_("Technician"), _("Visits"), _("First-time fix"), _("Answered"), "CSAT", "NPS", _("Complaints")]]
        + [
            [
                r["name"],
                r["visits"],
                "—" if r["first_time_fix"] is None else r["first_time_fix"],
                r["answered"],
                "—" if r["csat"] is None else r["csat"],
                "—" if r["nps"] is None else r["nps"],
                r["complaints"],
            ]
            for r in f["technicians"]
        ],
        risky=[[_("Ticket"), _("SLA"), _("Priority"), _("Status"), _("Opened")]]
        + [
            [
                t["id"],
                (t.get("sla") or {}).get("text", ""),
                t.get("priority") or "",
                t["status"],
                t["opened_at"][:16].replace("T", " "),
            ]
            for t in f["risky"]
        ],
    )
    name = f"fixflow-kpis-{f['start']:%Y%m%d}-{f['end']:%Y%m%d}.pdf"
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
