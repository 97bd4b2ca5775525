from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from fixflow_shared.access import Owner, path_owner
from fixflow_shared.auth import Principal
from fixflow_shared.runtime import ServiceRuntime
from notify import views


async def runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[ServiceRuntime, Depends(runtime)]


async def ticket_contact_owner(request: Request, principal: Principal) -> Owner | None:
    """The customer of the ticket named in the query (notify learns it with the ticket's contacts)."""
    ticket_id = request.query_params.get("ticket_id")
    if not ticket_id:
        return None
    customer_id = await views.ticket_customer(
        uow=request.app.state.runtime.uow(), tenant_id=principal.tenant, ticket_id=ticket_id
    )
    return Owner.of(customer_id) if customer_id else None


# a feed belongs to its recipient: a technician's is keyed by its technician id, a customer's by its customer id
feed_owner = path_owner("recipient_id", customer=True, technician=True)
