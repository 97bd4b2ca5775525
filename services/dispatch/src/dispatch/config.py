from pydantic import Field
from pydantic_settings import SettingsConfigDict

from fixflow_shared.settings import ServiceSettings


class DispatchSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DISPATCH_", extra="ignore", populate_by_name=True)

    http_port: int = 8002
    horizon_days: int = Field(7, ge=1, le=60, description="how far ahead jobs are planned")
    window_minutes: int = Field(120, ge=15, le=480, description="length of the arrival window a customer is given")
    travel_speed_kmh: float = Field(35.0, gt=0)
    detour_factor: float = Field(1.3, ge=1.0, description="road distance over great-circle distance")
    offer_count: int = Field(5, ge=1, le=50)
    customer_notice_hours: float = Field(
        2.0, ge=0, le=72, description="a customer moves or cancels a visit online until this long before it starts"
    )
    osrm_url: str | None = Field(
        None, description="OSRM-compatible /table server for road travel times; great-circle estimates when unset"
    )
    osrm_max_table: int = Field(100, ge=2, le=10_000, description="locations per /table request (the server's limit)")
    optimise_interval_s: float = Field(300.0, ge=0, description="periodic batch optimisation; 0 turns it off")
    optimise_seconds: float = Field(10.0, gt=0, le=600, description="time budget of one batch route optimisation")
    part_size: int = Field(40, ge=2, le=1000, description="technicians per routing part of a batch optimisation")
    parts_handover_hours: float = Field(24.0, ge=0, description="parts from their holder to another technician")
    parts_order_hours: float = Field(48.0, ge=0, description="parts ordered from the warehouse, no shipment yet")
