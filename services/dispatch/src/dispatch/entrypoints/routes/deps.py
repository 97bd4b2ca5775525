"""Shared pieces of the HTTP layer: the runtime, planning settings, roles, request types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from pydantic import Field, StringConstraints

from dispatch.service_layer.planning import Planning
from fixflow_shared.contacts import PhoneText
from fixflow_shared.fields import When
from fixflow_shared.runtime import ServiceRuntime


async def runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]


async def planning(request: Request) -> Planning:
    return request.app.state.planning  # type: ignore[no-any-return]


RuntimeDep = Annotated[ServiceRuntime, Depends(runtime)]
PlanningDep = Annotated[Planning, Depends(planning)]


Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
PartCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")]
Lat = Annotated[float, Field(ge=-90, le=90)]
Lon = Annotated[float, Field(ge=-180, le=180)]
Phone = PhoneText  # normalised to E.164 in the tenant's region: rt.phones.e164(...) (an invalid number is a 422)
__all__ = ["When"]
