"""Settings of the portal (env prefix PORTAL_), on top of the shared FIXFLOW_*/KAFKA_/REDIS_ ones."""

from __future__ import annotations

from typing import ClassVar, Literal

from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from fixflow_shared.settings import FixflowSettings


class PortalSettings(FixflowSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore", populate_by_name=True)

    # In production the portal signs customers' tokens with its own key and opens the links in their
    # messages with the link key ring (outside production both come from the checkout's development
    # key): without either it refuses to start, as the console without its OpenID Connect client.
    production_secrets: ClassVar[tuple[str, ...]] = (
        *FixflowSettings.production_secrets,
        "token_signing_key",
        "portal_link_secrets",
    )

    http_host: str = "127.0.0.1"
    http_port: int = 8006
    public_url: str = Field(
        "http://127.0.0.1:8006", description="where browsers reach the portal (OIDC redirect URI, token issuer)"
    )
    trusted_proxies: str = Field(
        "127.0.0.1",
        description="addresses whose X-Forwarded-For is believed (the ingress); the client address "
        "limits sign-in codes and is recorded with a customer's consent",
    )

    # The five services' public APIs (the portal calls nothing else).
    intake_url: str = "http://127.0.0.1:8001"
    dispatch_url: str = "http://127.0.0.1:8002"
    billing_url: str = "http://127.0.0.1:8003"
    survey_url: str = "http://127.0.0.1:8004"
    notify_url: str = "http://127.0.0.1:8005"
    service_timeout_s: float = Field(15.0, gt=0, le=120)

    # Which tenant a customer signs in to: the host name they came by, else ?tenant=, else this one.
    default_tenant: str | None = Field(None, description="the tenant of a single-company portal")
    tenant_hosts: dict[str, str] = Field(
        default_factory=dict, description='JSON {"<host name>": "<tenant>"} for one portal serving several companies'
    )

    # Customers' sessions (one-time code or signed link) and technicians' (a whole shift, offline too).
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60)
    session_max_hours: float = Field(12, gt=0, le=12)
    link_session_minutes: int = Field(60, ge=1, le=12 * 60, description="a signed link signs in for this long")
    tech_session_idle_hours: float = Field(12, gt=0, le=12)
    cookie_secure: bool | None = Field(None, description="Secure cookies; default: on in production")

    # One-time sign-in codes.
    code_digits: int = Field(6, ge=6, le=8)
    code_ttl_s: int = Field(600, ge=60, le=3600)
    code_attempts: int = Field(5, ge=1, le=10, description="wrong codes before a code is spent")
    code_requests_per_address: int = Field(
        5, ge=1, le=1000, description="codes a client address may ask for per tenant and minute"
    )
    code_requests_per_contact: int = Field(3, ge=1, le=100, description="codes one phone or e-mail gets per minute")
    verify_attempts_per_address: int = Field(10, ge=1, le=1000, description="code entries per address and minute")

    # Technicians sign in with the company's OpenID Connect issuer (FIXFLOW_OIDC_ISSUER) in production.
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_discovery_url: str | None = Field(
        None, description="default: <FIXFLOW_OIDC_ISSUER>/.well-known/openid-configuration"
    )
    oidc_scopes: str = "openid profile"

    # Tokens the portal signs in production (customers after a code, its own calls): an ES256 key in
    # PEM; the services trust them through the portal's JWKS (/.well-known/jwks.json).
    token_signing_key: SecretStr | None = Field(
        None, description="PEM of the ES256 (EC P-256) key customer tokens are signed with"
    )

    # Display.
    timezone: str = Field("Asia/Shanghai", description="time zone the pages show times in")
    default_locale: Literal["zh-CN", "en"] = "zh-CN"
    navigation_url: str = Field(
        "geo:{lat},{lon}?q={lat},{lon}",
        description="a stop's navigation link ({lat}, {lon}); e.g. https://uri.amap.com/marker?position={lon},{lat}",
    )
    change_notice_hours: float = Field(
        2.0, ge=0, le=72, description="a visit can be moved or cancelled online until this long before it (as dispatch)"
    )
    eta_refresh_s: int = Field(20, ge=5, le=600, description="how often an open ticket page asks for the ETA")
    max_photo_bytes: int = Field(5_000_000, ge=10_000, le=20_000_000)

    @model_validator(mode="after")
    def _signing_key(self) -> PortalSettings:
        """A signing key that cannot sign ES256 fails at start, not at the first customer's sign-in."""
        if self.token_signing_key is not None and self.token_signing_key.get_secret_value().strip():
            try:
                key = load_pem_private_key(self.token_signing_key.get_secret_value().encode(), password=None)
            except (ValueError, TypeError) as exc:
                raise ValueError("PORTAL_TOKEN_SIGNING_KEY: not an unencrypted private key in PEM") from exc
            if not isinstance(key, EllipticCurvePrivateKey) or not isinstance(key.curve, SECP256R1):
                raise ValueError("PORTAL_TOKEN_SIGNING_KEY: the portal signs ES256, with an EC P-256 key")
        return self

    @property
    def dev_sign_in(self) -> bool:
        """The technicians' development sign-in (choose tenant and technician) exists outside production only."""
        return self.environment != "production"

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else self.environment == "production"
