from pydantic_settings import SettingsConfigDict

from fixflow_shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", populate_by_name=True)

    http_port: int = 8001
    run_sla_timers: bool = True
    sla_poll_s: float = 1.0
    sla_reseed_every_s: float = 30.0
    policy_cache_ttl_s: float = 30.0
