"""HTTP: /v1/statements — monthly statement (对账) of an enterprise customer, JSON, CSV or PDF."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Response

from billing import views
from billing.adapters import rendering
from billing.entrypoints.routes.common import RuntimeDep, customer_self
from fixflow_shared.access import Access, Authorize
from fixflow_shared.fields import MONTH_PATTERN

router = APIRouter(prefix="/statements", tags=["statements"])


def _safe(text: str) -> str:
    """A header carries Latin-1 only: the file name keeps the id's plain characters."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


StatementsRead = Annotated[Access, Depends(Authorize("statements.read", owner=customer_self, what="customer"))]


@router.get(
    "/{customer_id}/{month}", response_model=None, responses={200: {"content": {"text/csv": {}, "application/pdf": {}}}}
)
async def monthly_statement(
    customer_id: Annotated[str, Path(min_length=1, max_length=64)],
    month: Annotated[str, Path(pattern=MONTH_PATTERN, description="YYYY-MM, 1900-01 to 2200-12")],
    principal: StatementsRead,
    rt: RuntimeDep,
    format: Literal["json", "csv", "pdf"] = "json",
) -> Any:
    st = await views.monthly_statement(uow=rt.uow(), tenant_id=principal.tenant, customer_id=customer_id, month=month)
    if format == "csv":
        return Response(
            rendering.statement_csv(st),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="statement-{_safe(customer_id)}-{month}.csv"'},
        )
    if format == "pdf":
        # CPU work (reportlab): in a worker thread, the event loop serves other requests meanwhile
        return Response(await asyncio.to_thread(rendering.statement_pdf, st), media_type="application/pdf")
    return st.as_json()
