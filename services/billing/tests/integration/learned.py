"""What billing learns from intake's events, told to it directly (the handlers its consumers call):
a quote, waiver, sale or entitlement may name only tickets and customers billing learned."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from billing.service_layer import settlement
from fixflow_shared.events import new_envelope
from fixflow_shared.events.contracts.intake import CustomerRegistered, TicketOpened


def runtime_of(client: Any) -> Any:
    return client._transport.app.state.runtime  # noqa: SLF001 - the app under test, in-process


async def learn_ticket(
    runtime: Any, tenant: str, ticket: str, customer: str | None = None, warranty: str = "unknown"
) -> None:
    env = new_envelope(
        TicketOpened(
            ticket_id=ticket,
            tenant_id=tenant,
            customer_id=customer,
            kind="repair",
            channel="phone",
            symptom="drawer sticks",
            warranty_status=warranty,
            opened_at=datetime.now(UTC),
        ),
        source="/fixflow/intake",
        subject=ticket,
        tenant=tenant,
    )
    await settlement.record_ticket_facts(uow=runtime.uow(), envelope=env, event=env.payload())


async def learn_customer(runtime: Any, tenant: str, customer: str) -> None:
    env = new_envelope(
        CustomerRegistered(customer_id=customer, tenant_id=tenant, registered_at=datetime.now(UTC)),
        source="/fixflow/intake",
        subject=customer,
        tenant=tenant,
    )
    await settlement.record_customer(uow=runtime.uow(), envelope=env, customer_id=customer, at=datetime.now(UTC))
