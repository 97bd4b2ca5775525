from pydantic import Field
from pydantic_settings import SettingsConfigDict

from fixflow_shared.settings import ServiceSettings


class DispatchSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DISPATCH_", extra="ignore", populate_by_name=True)

    http_port: int = 8002
    slot_minutes: int = Field(90, ge=15, le=480, description="length of one visit slot in a technician's day")
    horizon_days: int = Field(7, ge=1, le=60, description="how far ahead jobs are planned")
    travel_speed_kmh: float = Field(35.0, gt=0)
    detour_factor: float = Field(1.3, ge=1.0)
    offer_count: int = Field(5, ge=1, le=50)
    osrm_url: str | None = Field(
        None, description="OSRM server for road travel times; great-circle estimates when unset"
    )
    optimise_interval_s: float = Field(300.0, ge=0, description="periodic batch optimisation; 0 turns it off")
