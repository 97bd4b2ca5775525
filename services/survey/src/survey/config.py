from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from fixflow_shared.keys import KeyRing
from fixflow_shared.settings import ServiceSettings


class SurveySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SURVEY_", extra="ignore", populate_by_name=True)

    http_port: int = 8004
    production_secrets: ClassVar[tuple[str, ...]] = (*ServiceSettings.production_secrets, "answer_token_secrets")
    dev_secret_fields: ClassVar[dict[str, str]] = {
        **ServiceSettings.dev_secret_fields,
        "answer_token_secrets": "SURVEY_ANSWER_TOKEN_SECRETS",
    }

    answer_token_secrets: SecretStr | None = Field(
        None,
        description="HMAC key ring of the public answer links: a key or a JSON list, the first signs, every "
        'one verifies, {"key", "until"} retires an old key after a grace period (see keys.py). Required in '
        "production; unset in development = the checkout's generated key",
    )
    # The token is appended to this (the console's public answer page in production).
    answer_url_base: str = "http://127.0.0.1:8004/v1/public/surveys/"
    # The public answer link (no login): requests a minute per tenant and client address, and per client.
    public_rate_per_minute: int = Field(30, ge=1, description="answer-link requests a minute per tenant and client")
    public_rate_per_client_per_minute: int = Field(120, ge=1, description="answer-link requests a minute per client")
    timer_poll_s: float = 1.0
    timer_reseed_s: float = 60.0
    run_timers: bool = True

    @model_validator(mode="after")
    def _usable_keys(self) -> SurveySettings:
        try:
            self.answer_keys()
        except ValueError as exc:
            raise ValueError(f"SURVEY_ANSWER_TOKEN_SECRETS: {exc}") from exc
        return self

    def answer_keys(self) -> KeyRing:
        assert self.answer_token_secrets is not None  # set by the settings' validator
        return KeyRing.parse(self.answer_token_secrets.get_secret_value())
