from pydantic import Field
from pydantic_settings import SettingsConfigDict

from fixflow_shared.settings import ServiceSettings


class SurveySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SURVEY_", extra="ignore", populate_by_name=True)

    http_port: int = 8004
    # HMAC keys of the public answer links; the first signs, all verify (rotation). Production must
    # set its own (SURVEY_ANSWER_TOKEN_SECRETS='["..."]').
    answer_token_secrets: list[str] = Field(default_factory=lambda: ["fixflow-survey-development-answer-key-change-me"])
    # The token is appended to this (the console's public answer page in production).
    answer_url_base: str = "http://127.0.0.1:8004/v1/public/surveys/"
    timer_poll_s: float = 1.0
    timer_reseed_s: float = 60.0
    run_timers: bool = True
