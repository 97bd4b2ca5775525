"""Events published by the notify service on fixflow.notify.deliveries."""

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


@event("fixflow.notify.delivery.failed.v1", topic=topics.NOTIFY_DELIVERIES)
class DeliveryFailed(Event):
    delivery_id: str
    ticket_id: str | None
    channel: ChannelName
    template: str
    trigger_event_type: str
    reason: str
    attempts: int
