"""Events published by the insight service on fixflow.insight.alerts (key = alert id).

A quality alert says that faults of one product model, fault cause, part or production batch
reached the tenant's threshold within a window; notify delivers it to the tenant's quality
(QA) recipients. The evidence (ticket ids) travels with it, capped; the full list is served by
insight's /v1/quality/alerts/{id}.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from fixflow_shared import topics
from fixflow_shared.events.registry import Event, event

QualityDimension = Literal["product_model", "fault_cause", "part", "production_batch", "product_model_fault_cause"]


@event("fixflow.insight.quality-alert.raised.v1", topic=topics.INSIGHT_ALERTS)
class QualityAlertRaised(Event):
    alert_id: str
    tenant_id: str
    rule_id: str
    dimension: QualityDimension
    key: str = Field(description="the value counted, e.g. model KF-35 or model|cause KF-35|compressor")
    window_days: int = Field(ge=1)
    threshold: int = Field(ge=1)
    count: int = Field(description="faults in the window not reported by an earlier alert")
    window_start: date
    window_end: date
    ticket_ids: list[str] = Field(default_factory=list, description="evidence, at most 50")
    raised_at: datetime
