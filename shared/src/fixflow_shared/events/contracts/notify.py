"""Events published by the notify service on fixflow.notify.deliveries (key = ticket id).

No addresses travel in these events: `recipient_masked` (e.g. l***@example.com) is enough to
recognise a delivery, and the raw address stays in notify's own database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fixflow_shared import topics
from fixflow_shared.events.registry import Event, event

ChannelName = Literal["email", "sms", "webhook", "in_app"]


@event("fixflow.notify.delivery.sent.v1", topic=topics.NOTIFY_DELIVERIES)
class DeliverySent(Event):
    delivery_id: str
    ticket_id: str | None
    channel: ChannelName
    template: str
    trigger_event_type: str
    sent_at: datetime
    # Additive (v1): who and how.
    trigger_event_id: str | None = None
    audience: str | None = None
    recipient_masked: str | None = None
    attempts: int = 1
    provider: str | None = None


@event("fixflow.notify.delivery.failed.v1", topic=topics.NOTIFY_DELIVERIES)
class DeliveryFailed(Event):
    """Dead letter: retries (and the failover provider) exhausted, or the message was refused."""

    delivery_id: str
    ticket_id: str | None
    channel: ChannelName
    template: str
    trigger_event_type: str
    reason: str
    attempts: int
    trigger_event_id: str | None = None
    audience: str | None = None
    recipient_masked: str | None = None
    failed_at: datetime | None = None


@event("fixflow.notify.delivery.deferred.v1", topic=topics.NOTIFY_DELIVERIES)
class DeliveryDeferred(Event):
    """Held back until `not_before` (quiet hours, or the tenant's rate limit); sent or failed later."""

    delivery_id: str
    ticket_id: str | None
    channel: ChannelName
    template: str
    trigger_event_type: str
    reason: Literal["quiet_hours", "rate_limited"]
    not_before: datetime
    trigger_event_id: str | None = None
    audience: str | None = None
    recipient_masked: str | None = None
