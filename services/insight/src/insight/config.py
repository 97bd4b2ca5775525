from pydantic import Field
from pydantic_settings import SettingsConfigDict

from fixflow_shared.settings import ServiceSettings


class InsightSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INSIGHT_", extra="ignore", populate_by_name=True)

    http_port: int = 8007
    # One group member per process: the projector serialises per tenant anyway (an advisory lock),
    # and big polls are what make it fast (one read and one write of facts and aggregates per poll).
    consumer_members: int = Field(1, ge=1, le=12)
    consumer_batch_max: int = Field(1000, ge=1, le=5000)
    rebuild_batch: int = Field(
        20000, ge=1, le=50000, description="events applied per transaction by `rebuild` (fewer, larger merges)"
    )
    report_hour_utc: int = Field(1, ge=0, le=23, description="the monthly report runs on the 1st at this hour")
    timer_poll_s: float = 5.0
    timer_reseed_s: float = 300.0
    run_timers: bool = True
    pdf_font: str | None = Field(
        None, description="a TTF/TTC/OTF with CJK glyphs for the PDF report (default: Noto Sans CJK if installed)"
    )
