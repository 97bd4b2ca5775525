"""Commands: what a caller asks intake to do (imperative names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class OpenTicket:
    tenant_id: str
    kind: str
    channel: str
    symptom: str
    customer_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    locale: str = "zh-CN"
    customer_id: str | None = None
    asset_id: str | None = None
    product_id: str | None = None
    product_model: str | None = None
    serial: str | None = None
    purchase_date: date | None = None
    address_id: str | None = None
    severity: int | None = None
    urgency: int | None = None
    requested_window: tuple[datetime, datetime] | None = None
    attachments: tuple[dict, ...] = ()  # type: ignore[type-arg]
    complaint_level: int | None = None
    original_ticket_id: str | None = None
    compensation_requested: bool = False
    compensation_amount_minor: int | None = None
    source: str = "agent"
    check_duplicates: bool = True
    extra: dict = field(default_factory=dict)  # type: ignore[type-arg]
