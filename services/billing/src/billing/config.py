from pydantic_settings import SettingsConfigDict

from fixflow_shared.settings import ServiceSettings


class BillingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore", populate_by_name=True)

    http_port: int = 8003
