"""Settings from the environment (pydantic-settings).

Each service subclasses ServiceSettings with its own env prefix (INTAKE_, DISPATCH_, ...), so
`INTAKE_DATABASE_URL` feeds `database_url`. Infrastructure shared by all services is read without
a prefix: KAFKA_BOOTSTRAP_SERVERS, REDIS_URL, the standard OTEL_* exporter variables and the FIXFLOW_* auth
settings. A missing required variable fails at start-up, not at first use.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _shared(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class FixflowSettings(BaseSettings):
    """What every deployable reads, services and web apps alike: the shared infrastructure and auth."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

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
    jwt_dev_secret: str | None = Field(
        "fixflow-development-signing-key-change-me-0123456789",
        validation_alias=_shared("FIXFLOW_JWT_DEV_SECRET"),
        description="HS256 key for development tokens; refused when FIXFLOW_ENV=production",
    )
    oidc_issuer: str | None = Field(None, validation_alias=_shared("FIXFLOW_OIDC_ISSUER"))
    oidc_audience: str | None = Field(None, validation_alias=_shared("FIXFLOW_OIDC_AUDIENCE"))
    oidc_jwks_url: str | None = Field(None, validation_alias=_shared("FIXFLOW_OIDC_JWKS_URL"))
    partner_api_keys: dict[str, str] = Field(
        default_factory=dict,
        validation_alias=_shared("FIXFLOW_PARTNER_API_KEYS"),
        description='JSON object {"<api key>": "<tenant>"} for partner systems',
    )


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
