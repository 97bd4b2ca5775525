"""Test support: real infrastructure fixtures (pytest plugin `fixflow`) and small helpers.

eventually / eventually_blocking   wait for a fact (waiting.py); Kafka facts are in kafka.py
service_fixtures                   a service's runtime + client fixtures for its conftest (services.py)
"""

from fixflow_shared.auth import dev_token
from fixflow_shared.settings import ServiceSettings
from fixflow_shared.testing.waiting import eventually, eventually_blocking

__all__ = ["DEV_SECRET", "auth_headers", "eventually", "eventually_blocking"]

DEV_SECRET: str = ServiceSettings.model_fields["jwt_dev_secret"].default


def auth_headers(tenant: str = "t1", roles: str = "agent", subject: str = "tester") -> dict[str, str]:
    """Bearer header with a development token for `tenant` and comma-separated `roles`."""
    return {
        "Authorization": "Bearer "
        + dev_token(tenant=tenant, roles=roles.split(","), subject=subject, secret=DEV_SECRET)
    }
