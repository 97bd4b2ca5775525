"""The console's secrets: production refuses to start without its OpenID Connect client; development
sign-in tokens stay within the 12 hours the services accept."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from console.config import ConsoleSettings

OIDC = {
    "oidc_issuer": "https://login.example.test/realms/fixflow",
    "oidc_audience": "fixflow",
    "oidc_jwks_url": "https://login.example.test/realms/fixflow/certs",
}


def test_production_without_the_oidc_client_refuses_to_start() -> None:
    with pytest.raises(ValidationError, match="CONSOLE_OIDC_CLIENT_ID"):
        ConsoleSettings(environment="production", **OIDC)
    with pytest.raises(ValidationError, match="FIXFLOW_OIDC_ISSUER"):
        ConsoleSettings(environment="production", oidc_client_id="fixflow-console")
    ready = ConsoleSettings(environment="production", oidc_client_id="fixflow-console", **OIDC)
    assert ready.jwt_keys() is None, "no development sign-in in production"


def test_development_signs_in_with_the_checkouts_key() -> None:
    keys = ConsoleSettings(environment="development").jwt_keys()
    assert keys is not None and len(keys.signing_key) >= 32
