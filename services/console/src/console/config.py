"""Settings of the console (env prefix CONSOLE_), on top of the shared FIXFLOW_*/KAFKA_/REDIS_ ones."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from fixflow_shared.settings import FixflowSettings


class ConsoleSettings(FixflowSettings):
    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore", populate_by_name=True)

    # In production staff sign in through OpenID Connect only: without its client the console refuses to start.
    production_secrets: ClassVar[tuple[str, ...]] = (*FixflowSettings.production_secrets, "oidc_client_id")

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    public_url: str = Field(
        "http://127.0.0.1:8000", description="where browsers reach the console (OIDC redirect URI, links)"
    )

    # The services' public APIs (the console calls nothing else): insight for the dashboard's KPIs
    # and its dead letters.
    intake_url: str = "http://127.0.0.1:8001"
    dispatch_url: str = "http://127.0.0.1:8002"
    billing_url: str = "http://127.0.0.1:8003"
    survey_url: str = "http://127.0.0.1:8004"
    notify_url: str = "http://127.0.0.1:8005"
    insight_url: str = "http://127.0.0.1:8007"
    service_timeout_s: float = Field(15.0, gt=0, le=120)

    # Sessions (in Redis): idle timeout, absolute lifetime, cookie.
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60)
    session_max_hours: float = Field(12, gt=0, le=24)
    cookie_secure: bool | None = Field(None, description="Secure cookies; default: on in production")

    # Sign-in in production: OpenID Connect authorisation code with PKCE against FIXFLOW_OIDC_ISSUER.
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_discovery_url: str | None = Field(
        None, description="default: <FIXFLOW_OIDC_ISSUER>/.well-known/openid-configuration"
    )
    oidc_scopes: str = "openid profile email"

    # Display.
    timezone: str = Field("Asia/Shanghai", description="time zone the pages show times in")
    default_locale: Literal["zh-CN", "en"] = "zh-CN"
    board_hours: tuple[int, int] = Field(
        (7, 21), description="hours of the day the board shows, local time: [from, to), e.g. [7, 21] or [0, 24]"
    )
    map_tile_url: str | None = Field(
        None, description="optional XYZ tile URL ({z}/{x}/{y}) drawn under the board's map; none = plain map"
    )

    # A ticket's page links to the ticket's trace; locally the Zipkin `make run` starts.
    trace_url: str | None = Field(
        "http://127.0.0.1:9411/zipkin/traces/{trace_id}",
        description="the trace viewer's page of one trace, {trace_id} replaced by the ticket's trace id "
        "(Jaeger: https://<jaeger>/trace/{trace_id}); empty = no link",
    )

    # Live updates: consume the domain topics and push to open pages over SSE.
    live_updates: bool = True
    live_queue_size: int = Field(500, ge=10, le=100_000)

    @field_validator("board_hours")
    @classmethod
    def _hours(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= v[0] < v[1] <= 24:
            raise ValueError("board hours must satisfy 0 <= from < to <= 24")
        return v

    @field_validator("trace_url")
    @classmethod
    def _trace_url(cls, v: str | None) -> str | None:
        if not v:
            return None
        if "{trace_id}" not in v:
            raise ValueError("the trace URL must hold {trace_id}")
        return v

    @property
    def dev_sign_in(self) -> bool:
        """The development sign-in page (choose tenant and roles) exists outside production only."""
        return self.environment != "production"

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else self.environment == "production"
