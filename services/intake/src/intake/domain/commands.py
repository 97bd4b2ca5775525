"""Commands: what a caller asks intake to do (imperative names)."""

from __future__ import annotations

from dataclasses import dataclass


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
