"""Shared bits of intake's HTTP layer: dependencies, roles, validators."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from fixflow_shared.access import path_owner, row_owner
from fixflow_shared.contacts import PhoneText
from fixflow_shared.runtime import ServiceRuntime
from intake.adapters.orm import assets, tickets
from intake.service_layer.deps import Deps


async def _runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]


async def _deps(request: Request) -> Deps:
    return request.app.state.intake_deps  # type: ignore[no-any-return]


RuntimeDep = Annotated[ServiceRuntime, Depends(_runtime)]
DepsDep = Annotated[Deps, Depends(_deps)]


ticket_owner = row_owner(tickets, param="ticket_id")
asset_owner = row_owner(assets, param="asset_id")
customer_self = path_owner("customer_id", customer=True)

# The one contact rule (fixflow_shared.contacts): a phone number is stored in E.164, read in the
# tenant's region (rt.phones.e164(...); an invalid number is a 422); e-mail addresses are
# normalised by the Email type; both are masked the same way everywhere (mask_contact).
Phone = PhoneText
