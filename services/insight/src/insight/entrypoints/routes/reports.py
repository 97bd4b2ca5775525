"""HTTP: monthly management reports (PDF and CSV), generated on demand or by the monthly timer."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from fixflow_shared.access import Access, Authorize
from fixflow_shared.errors import NotFound, Unprocessable
from fixflow_shared.fields import Month
from fixflow_shared.problems import problem_responses
from insight import views
from insight.entrypoints.routes.deps import ServicesDep
from insight.service_layer import reports

router = APIRouter(tags=["reports"], prefix="/reports")
ReportsCreate = Annotated[Access, Depends(Authorize("insight.reports.create"))]
ReportsRead = Annotated[Access, Depends(Authorize("insight.reports.read"))]


class ReportRequest(BaseModel):
    month: Month = Field(description="YYYY-MM (1900-01 to 2200-12)")


@router.post("", status_code=201)
async def create_report(body: ReportRequest, principal: ReportsCreate, svc: ServicesDep) -> dict[str, Any]:
    month = date.fromisoformat(body.month + "-01")
    if month > svc.runtime.clock.now().date():
        raise Unprocessable("that month has not begun")
    report_id = await reports.generate(
        uow=svc.runtime.uow(),
        tenant=principal.tenant,
        month=month,
        trigger="on_demand",
        by=principal.subject,
        font=svc.settings.pdf_font,
    )
    return {
        "id": report_id,
        "month": body.month,
        "pdf": f"/v1/reports/{report_id}.pdf",
        "csv": f"/v1/reports/{report_id}.csv",
    }


@router.get("")
async def list_reports(
    principal: ReportsRead, svc: ServicesDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[dict[str, Any]]:
    return await views.report_list(uow=svc.runtime.uow(), tenant=principal.tenant, limit=limit)


async def _get(svc: Any, tenant: str, report_id: str) -> dict[str, Any]:
    found = await views.report(uow=svc.runtime.uow(), tenant=tenant, report_id=report_id)
    if found is None:
        raise NotFound("report", report_id)
    return found


@router.get(
    "/{report_id}.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **problem_responses(404)},
)
async def report_pdf(report_id: str, principal: ReportsRead, svc: ServicesDep) -> Response:
    r = await _get(svc, principal.tenant, report_id)
    name = f"fixflow-report-{r['month'].isoformat()[:7]}.pdf"
    return Response(
        bytes(r["pdf"]), media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get(
    "/{report_id}.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **problem_responses(404)},
)
async def report_csv(report_id: str, principal: ReportsRead, svc: ServicesDep) -> Response:
    r = await _get(svc, principal.tenant, report_id)
    name = f"fixflow-report-{r['month'].isoformat()[:7]}.csv"
    return Response(
        r["csv"],
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/{report_id}", responses=problem_responses(404))
async def get_report(report_id: str, principal: ReportsRead, svc: ServicesDep) -> dict[str, Any]:
    r = await _get(svc, principal.tenant, report_id)
    return {k: v for k, v in r.items() if k not in ("pdf", "csv")}
