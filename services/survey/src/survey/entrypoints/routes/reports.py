"""HTTP: satisfaction reports (rate, CSAT, NPS, response rate) by technician/team/period, praise log, CSV."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from fixflow_shared.access import Access, Authorize
from fixflow_shared.errors import Unprocessable
from fixflow_shared.fields import When
from survey import views
from survey.domain import reports
from survey.entrypoints.routes.deps import ServicesDep

router = APIRouter(prefix="/reports", tags=["reports"])

Manager = Annotated[Access, Depends(Authorize("survey_reports.read"))]
GroupBy = Literal["technician", "team", "month", "week", "day", "all"]


def _range(since: datetime | None, until: datetime | None) -> None:
    for v in (since, until):
        if v is not None and v.tzinfo is None:
            raise Unprocessable("from/to need a time zone (e.g. 2025-06-01T00:00:00+08:00)")
    if since and until and until <= since:
        raise Unprocessable("to must be after from")


@router.get("/satisfaction")
async def satisfaction(
    principal: Manager,
    svc: ServicesDep,
    group_by: GroupBy = "all",
    since: Annotated[When | None, Query(alias="from")] = None,
    until: Annotated[When | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    _range(since, until)
    rows = await views.satisfaction(
        uow=svc.runtime.uow(), tenant_id=principal.tenant, group_by=group_by, since=since, until=until
    )
    return {"group_by": group_by, "from": since, "to": until, "rows": rows}


@router.get("/satisfaction.csv", response_class=Response)
async def satisfaction_csv(
    principal: Manager,
    svc: ServicesDep,
    group_by: GroupBy = "all",
    since: Annotated[When | None, Query(alias="from")] = None,
    until: Annotated[When | None, Query(alias="to")] = None,
) -> Response:
    _range(since, until)
    rows = await views.satisfaction(
        uow=svc.runtime.uow(), tenant_id=principal.tenant, group_by=group_by, since=since, until=until
    )
    return Response(
        reports.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="satisfaction-by-{group_by}.csv"'},
    )


@router.get("/praise")
async def praise(
    principal: Manager,
    svc: ServicesDep,
    technician_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    rows = await views.praise_log(
        uow=svc.runtime.uow(), tenant_id=principal.tenant, technician_id=technician_id, limit=limit
    )
    return {"technician_id": technician_id, "entries": rows}
