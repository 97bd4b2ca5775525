"""Dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from fixflow_shared.access import row_owner
from survey.adapters.orm import surveys
from survey.service_layer.wiring import Services


async def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(services)]


survey_owner = row_owner(surveys, param="survey_id")
