"""Deliveries and their lifecycle, recipients, preferences (channel choice, opt-out, quiet hours)
and masking of addresses. Pure Python: the service layer does the I/O."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from fixflow_shared.contacts import mask_email, mask_phone
from notify.domain.exceptions import IllegalTransition


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"
    IN_APP = "in_app"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # planned, not yet handed to a provider (or sent, not yet marked: see handlers)
    DEFERRED = "deferred"  # waits for not_before (quiet hours, rate limit)
    SENT = "sent"
    FAILED = "failed"  # dead letter: retries and failover exhausted, or permanently refused
    SKIPPED = "skipped"  # opted out: recorded so the decision is visible per ticket


ALLOWED: dict[DeliveryStatus, frozenset[DeliveryStatus]] = {
    DeliveryStatus.PENDING: frozenset({DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.DEFERRED}),
    DeliveryStatus.DEFERRED: frozenset(
        {DeliveryStatus.PENDING, DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.DEFERRED}
    ),
    DeliveryStatus.SENT: frozenset(),
    DeliveryStatus.FAILED: frozenset(),
    DeliveryStatus.SKIPPED: frozenset(),
}


def new_delivery_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Delivery:
    id: str
    tenant_id: str
    ticket_id: str | None
    trigger_event_id: str
    trigger_event_type: str
    audience: str  # customer | technician | manager | partner
    channel: Channel
    recipient: str  # raw address: kept in notify's own database only, masked everywhere else
    template: str
    template_version: int
    locale: str
    subject: str
    body: str
    created_at: datetime  # when it was planned (the planning use case's now)
    mandatory: bool = False
    recipient_ref: str | None = None  # customer / technician / manager id, or the webhook endpoint id
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    not_before: datetime | None = None
    last_error: str | None = None
    provider: str | None = None
    sent_at: datetime | None = None
    # W3C trace context of the event that planned this delivery: sending and the delivery events
    # resume it, so they stay in the ticket's one trace.
    trace_headers: dict[str, str] | None = None

    def move_to(self, target: DeliveryStatus) -> None:
        if target not in ALLOWED[self.status]:
            raise IllegalTransition(self.status, target, allowed=ALLOWED[self.status])
        self.status = target

    @property
    def masked_recipient(self) -> str:
        return mask_address(self.recipient, self.channel)


# --- addresses -------------------------------------------------------------------------------------
# Normalising and masking follow the one contact rule of fixflow_shared.contacts (E.164 phones,
# normalised e-mail, one mask), so a preference saved here matches the numbers in other services' events.


def mask_address(value: str, channel: Channel | str) -> str:
    """How a recipient is shown outside notify's database (deliveries, events, logs)."""
    if channel == Channel.EMAIL:
        return mask_email(value)
    if channel == Channel.SMS:
        return mask_phone(value)
    if channel == Channel.WEBHOOK:
        return re.sub(r"^(https?://[^/]+).*$", r"\1/…", value)
    return value  # in-app recipients are opaque ids


# --- preferences -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuietHours:
    """A daily window (local time of `tz`) in which SMS waits; start > end wraps past midnight."""

    start: time
    end: time
    tz: str = "Asia/Shanghai"

    def contains(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.tz)).timetz().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends_after(self, at: datetime) -> datetime:
        """The first moment at or after `at` outside the window (== at when outside)."""
        if not self.contains(at):
            return at
        zone = ZoneInfo(self.tz)
        local = at.astimezone(zone)
        end_today = datetime.combine(local.date(), self.end, tzinfo=zone)
        end = (
            end_today
            if end_today > local
            else datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=zone)
        )
        return end.astimezone(UTC)


class Decision(StrEnum):
    SEND = "send"
    DEFER = "defer"
    SKIP = "skip"


@dataclass(frozen=True)
class Preference:
    """What one recipient wants: channels (None = the subscription's), opt-out, quiet hours."""

    channels: frozenset[Channel] | None = None
    opted_out: bool = False
    quiet_hours: QuietHours | None = None

    def decide(self, channel: Channel, *, mandatory: bool, now: datetime) -> tuple[Decision, datetime | None]:
        """Mandatory service messages ignore opt-out and channel choice, never quiet hours for SMS."""
        if not mandatory:
            if self.opted_out:
                return Decision.SKIP, None
            if self.channels is not None and channel not in self.channels:
                return Decision.SKIP, None
        if channel == Channel.SMS and self.quiet_hours is not None and self.quiet_hours.contains(now):
            return Decision.DEFER, self.quiet_hours.ends_after(now)
        return Decision.SEND, None


DEFAULT_PREFERENCE = Preference()


def rate_window_start(now: datetime, *, window_s: int = 60) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_s, UTC)


def next_rate_window(now: datetime, *, window_s: int = 60) -> datetime:
    return rate_window_start(now, window_s=window_s) + timedelta(seconds=window_s)


def template_name(event_type: str) -> str:
    """fixflow.intake.ticket.opened.v1 -> ticket.opened (the template family of an event)."""
    parts = event_type.split(".")
    return ".".join(parts[2:-1])
