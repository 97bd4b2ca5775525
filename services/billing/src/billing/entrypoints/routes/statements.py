"""HTTP: /v1/statements — monthly statement (对账) of an enterprise customer, JSON, CSV or PDF."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response

from billing import views
from billing.adapters import rendering
from billing.entrypoints.routes.common import Reader, RuntimeDep

router = APIRouter(prefix="/statements", tags=["statements"])


@router.get(
    "/{customer_id}/{month}", response_model=None, responses={200: {"content": {"text/csv": {}, "application/pdf": {}}}}
)
async def monthly_statement(
    customer_id: Annotated[str, Path(min_length=1, max_length=64)],
    month: Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")],
    principal: Reader,
    rt: RuntimeDep,
    format: Literal["json", "csv", "pdf"] = "json",
) -> Any:
    st = await views.monthly_statement(uow=rt.uow(), tenant_id=principal.tenant, customer_id=customer_id, month=month)
    if format == "csv":
        return Response(
            rendering.statement_csv(st),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="statement-{customer_id}-{month}.csv"'},
        )
    if format == "pdf":
        return Response(rendering.statement_pdf(st), media_type="application/pdf")
    return st.as_json()
