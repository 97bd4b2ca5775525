"""Test support: real infrastructure fixtures (pytest plugin `fixflow`) and small helpers.

eventually / eventually_blocking   wait for a fact (waiting.py); Kafka facts are in kafka.py
service_fixtures                   a service's runtime + client fixtures for its conftest (services.py)
"""

from __future__ import annotations

from fixflow_shared.auth import dev_signing_key, dev_token
from fixflow_shared.testing.waiting import eventually, eventually_blocking

__all__ = ["auth_headers", "eventually", "eventually_blocking"]


def auth_headers(
    tenant: str = "t1",
    roles: str = "agent",
    subject: str = "tester",
    *,
    customer_id: str | None = None,
    technician_id: str | None = None,
) -> dict[str, str]:
    """Bearer header with a development token for `tenant` and comma-separated `roles`, signed with
    the development key of this process (the test session's, see the plugin; else the checkout's)."""
    token = dev_token(
        tenant=tenant,
        roles=roles.split(","),
        subject=subject,
        secret=dev_signing_key(),
        customer_id=customer_id,
        technician_id=technician_id,
    )
    return {"Authorization": "Bearer " + token}
