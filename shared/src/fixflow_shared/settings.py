"""Settings from the environment (pydantic-settings).

Each service subclasses ServiceSettings with its own env prefix (INTAKE_, DISPATCH_, ...), so
`INTAKE_DATABASE_URL` feeds `database_url`. Infrastructure shared by all services is read without
a prefix: KAFKA_BOOTSTRAP_SERVERS, REDIS_URL, the standard OTEL_* exporter variables and the FIXFLOW_* auth
settings. A missing required variable fails at start-up, not at first use.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fixflow_shared.keys import KeyRing, PartnerKey, RingKey, UnusableKeys, dev_secrets
from fixflow_shared.policy import PARTNER_SCOPES


def _shared(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class PartnerKeyConfig(BaseModel):
    """One partner API key as configured: never the key itself, only its sha256."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="the subject recorded in data")
    tenant: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    scopes: list[str] = Field(min_length=1, description="what the key may do, e.g. tickets:open")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="hex sha256 of the key")

    @model_validator(mode="after")
    def _known_scopes(self) -> PartnerKeyConfig:
        unknown = set(self.scopes) - PARTNER_SCOPES
        if unknown:
            raise ValueError(f"unknown scopes {sorted(unknown)}; known: {sorted(PARTNER_SCOPES)}")
        return self

    def key(self) -> PartnerKey:
        return PartnerKey(id=self.id, tenant=self.tenant, scopes=frozenset(self.scopes), sha256=self.sha256)


class FixflowSettings(BaseSettings):
    """What every deployable reads, services and web apps alike: the shared infrastructure and auth."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # Secrets a service refuses to start without in production (field names), and the secrets a
    # development checkout generates for itself when unset (field name -> variable in the secrets file).
    production_secrets: ClassVar[tuple[str, ...]] = ("oidc_issuer", "oidc_audience", "oidc_jwks_url")
    dev_secret_fields: ClassVar[dict[str, str]] = {"jwt_dev_secret": "FIXFLOW_JWT_DEV_SECRET"}

    # Shared by every deployable (no prefix).
    environment: Literal["development", "test", "production"] = Field(
        "development", validation_alias=_shared("FIXFLOW_ENV")
    )
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", validation_alias=_shared("KAFKA_BOOTSTRAP_SERVERS"))
    kafka_replication_factor: int = Field(1, validation_alias=_shared("KAFKA_TOPIC_REPLICATION_FACTOR"))
    redis_url: str = Field("redis://127.0.0.1:6379/0", validation_alias=_shared("REDIS_URL"))
    otel_exporter_otlp_endpoint: str | None = Field(None, validation_alias=_shared("OTEL_EXPORTER_OTLP_ENDPOINT"))
    otel_traces_exporter: str | None = Field(
        None,
        validation_alias=_shared("OTEL_TRACES_EXPORTER"),
        description="otlp, zipkin, console, none or a comma-separated list; unset: otlp if an OTLP endpoint is set",
    )
    otel_exporter_zipkin_endpoint: str | None = Field(
        None,
        validation_alias=_shared("OTEL_EXPORTER_ZIPKIN_ENDPOINT"),
        description="Zipkin's span API, e.g. http://127.0.0.1:9411/api/v2/spans (the exporter's default when unset)",
    )
    log_level: str = Field("INFO", validation_alias=_shared("LOG_LEVEL"))
    jwt_dev_secret: SecretStr | None = Field(
        None,
        validation_alias=_shared("FIXFLOW_JWT_DEV_SECRET"),
        description="HS256 key ring for development tokens (a key or a JSON list, see keys.py); unset = the "
        "checkout's generated key; development tokens are refused when FIXFLOW_ENV=production",
    )
    oidc_issuer: str | None = Field(None, validation_alias=_shared("FIXFLOW_OIDC_ISSUER"))
    oidc_audience: str | None = Field(None, validation_alias=_shared("FIXFLOW_OIDC_AUDIENCE"))
    oidc_jwks_url: str | None = Field(None, validation_alias=_shared("FIXFLOW_OIDC_JWKS_URL"))
    portal_issuer: str | None = Field(
        None,
        validation_alias=_shared("FIXFLOW_PORTAL_ISSUER"),
        description="the portal's public URL (PORTAL_PUBLIC_URL), the issuer of the ES256 tokens it signs in "
        "production; they are accepted with the roles customer and portal only. Unset = none accepted",
    )
    portal_jwks_url: str | None = Field(
        None,
        validation_alias=_shared("FIXFLOW_PORTAL_JWKS_URL"),
        description="where the portal publishes its public key; default <FIXFLOW_PORTAL_ISSUER>/.well-known/jwks.json",
    )
    portal_link_secrets: SecretStr | None = Field(
        None,
        validation_alias=_shared("FIXFLOW_PORTAL_LINK_SECRETS"),
        description="key ring of the portal's signed links (one key, or a JSON list whose first entry signs; "
        'a retiring key as {"key": ..., "until": ...}); notify signs, the portal verifies. Outside production, '
        "unset = derived from the development token key",
    )
    partner_api_keys: list[PartnerKeyConfig] = Field(
        default_factory=list,
        validation_alias=_shared("FIXFLOW_PARTNER_API_KEYS"),
        description='JSON list [{"id", "tenant", "scopes", "sha256"}] of partner API keys '
        "(python -m fixflow_shared.auth partner-key makes one)",
    )

    @model_validator(mode="after")
    def _secrets(self) -> FixflowSettings:
        """Production: every secret set, or no start. Elsewhere: unset secrets come from the checkout's file."""
        if self.environment == "production":
            missing = [self._env_name(f) for f in self.production_secrets if not _present(getattr(self, f))]
            if missing:
                raise ValueError(f"FIXFLOW_ENV=production needs {', '.join(missing)} (from the secret store)")
        else:
            unset = {f: var for f, var in self.dev_secret_fields.items() if not _present(getattr(self, f))}
            if unset:
                generated = dev_secrets()
                for f, var in unset.items():
                    setattr(self, f, SecretStr(generated[var]))
        if self.portal_issuer and self.oidc_issuer and _same_issuer(self.portal_issuer, self.oidc_issuer):
            raise ValueError("FIXFLOW_PORTAL_ISSUER must not be FIXFLOW_OIDC_ISSUER: the portal grants fewer roles")
        try:
            self.jwt_keys()
        except (UnusableKeys, ValueError) as exc:
            raise ValueError(f"FIXFLOW_JWT_DEV_SECRET: {exc}") from exc
        try:
            self.portal_link_keys()
        except (UnusableKeys, ValueError) as exc:
            raise ValueError(f"FIXFLOW_PORTAL_LINK_SECRETS: {exc}") from exc
        return self

    def portal_keys_url(self) -> str | None:
        """Where the portal's public key is read, None when the portal's tokens are not accepted."""
        if not self.portal_issuer:
            return None
        return self.portal_jwks_url or self.portal_issuer.rstrip("/") + "/.well-known/jwks.json"

    def jwt_keys(self) -> KeyRing | None:
        """The development token key ring (None in production: development tokens are refused there)."""
        if self.environment == "production" or self.jwt_dev_secret is None:
            return None
        return KeyRing.parse(self.jwt_dev_secret.get_secret_value())

    @classmethod
    def _env_name(cls, field_name: str) -> str:
        alias = cls.model_fields[field_name].validation_alias
        if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
            return alias.choices[0]
        return (str(cls.model_config.get("env_prefix", "")) + field_name).upper()

    def portal_link_keys(self) -> KeyRing | None:
        """The key ring of the portal's signed links (fixflow_shared.links), None when there is none
        (production without FIXFLOW_PORTAL_LINK_SECRETS)."""
        if self.portal_link_secrets is not None and _present(self.portal_link_secrets):
            return KeyRing.parse(self.portal_link_secrets.get_secret_value())
        keys = self.jwt_keys()
        if keys is not None:
            from fixflow_shared.links import derived_key

            return KeyRing((RingKey(derived_key(keys.signing_key.decode(), "portal-links")),))
        return None


class ServiceSettings(FixflowSettings):
    """A domain service: its own database, outbox relay and consumers, on top of the shared settings."""

    # Per service (prefixed).
    database_url: str = Field(
        description="postgresql+asyncpg://user:pass@host:port/db (a postgresql:// URI, as CloudNativePG's "
        "<cluster>-app secret holds it, is taken as the same)"
    )
    http_host: str = "127.0.0.1"
    http_port: int
    http_workers: int = Field(
        1,
        ge=1,
        le=32,
        description="worker processes serving one port (each runs consumers, relay and timers too); "
        "in containers keep 1 and add replicas",
    )
    db_pool_size: int = 10
    run_api: bool = True
    run_consumers: bool = True
    run_relay: bool = True
    relay_batch_size: int = 500
    relay_poll_interval_s: float = 0.5
    # A relay silent this long inside its batch's transaction (a frozen process) loses the outbox
    # lock to another replica (fixflow_shared.outbox).
    relay_lease_s: float = 20.0
    consumer_members: int = Field(
        2, ge=1, le=12, description="group members per process; partitions (6) bound the useful total"
    )
    consumer_max_attempts: int = 4
    consumer_batch_max: int = Field(
        100, ge=1, le=5000, description="records per poll; their offsets are committed together"
    )
    consumer_batch_wait_ms: int = Field(
        20, ge=1, le=1000, description="an idle consumer polls every 2x this: the latency added when idle"
    )
    consumer_backoff_initial_s: float = 0.05
    consumer_backoff_max_s: float = 2.0

    @field_validator("database_url")
    @classmethod
    def _asyncpg_driver(cls, url: str) -> str:
        for scheme in ("postgresql://", "postgres://"):
            if url.startswith(scheme):
                return "postgresql+asyncpg://" + url.removeprefix(scheme)
        return url

    trace_sql: bool = Field(
        True,
        validation_alias=_shared("FIXFLOW_TRACE_SQL"),
        description="a span per SQL statement (detail for debugging; costs CPU on every statement)",
    )
    phone_region: str = Field(
        "CN",
        validation_alias=_shared("FIXFLOW_PHONE_REGION"),
        description="ISO 3166 region of phone numbers written without a country code (see fixflow_shared.contacts)",
    )
    tenant_phone_regions: dict[str, str] = Field(
        default_factory=dict,
        validation_alias=_shared("FIXFLOW_TENANT_PHONE_REGIONS"),
        description='JSON object {"<tenant>": "<region>"}: tenants whose numbers are read in another region',
    )
    metrics_interval_s: float = Field(
        15.0,
        gt=0,
        validation_alias=_shared("FIXFLOW_METRICS_INTERVAL_S"),
        description="how often consumer lag, outbox, dead-letter and timer gauges are refreshed for /metrics",
    )


def _same_issuer(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def _present(value: Any) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value().strip())
    return bool(value)
