"""What the routes share: the services, the roles allowed, the period of a query."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request

from fixflow_shared.errors import Unprocessable
from fixflow_shared.fields import Day
from insight.service_layer.wiring import Services

MAX_DAYS = 3700


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(services)]


def period(
    start: Annotated[Day, Query(alias="from", description="first day (UTC), inclusive")],
    end: Annotated[Day, Query(alias="to", description="last day (UTC), exclusive")],
) -> tuple[date, date]:
    if end <= start:
        raise Unprocessable("`to` must be after `from`")
    if (end - start).days > MAX_DAYS:
        raise Unprocessable(f"a period spans at most {MAX_DAYS} days")
    return start, end


Period = Annotated[tuple[date, date], Depends(period)]
