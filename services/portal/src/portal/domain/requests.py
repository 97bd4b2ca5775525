"""A new service request as the customer fills it in (pure): the preferred window in the tenant's
time zone, and photos checked by their first bytes (what a browser says a file is, is not proof)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fixflow_shared.media import sniff

KINDS = ("repair", "installation", "maintenance", "return", "consultation")
# part of the day -> local hours [from, to)
PARTS_OF_DAY: dict[str, tuple[int, int]] = {"morning": (9, 12), "afternoon": (13, 17), "evening": (18, 21)}
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


class BadRequestForm(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def as_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def preferred_window(day: str, part: str, *, tz: str, now: datetime) -> Window | None:
    """The window the customer would like, or None when they left it open."""
    if not day and not part:
        return None
    if not day or part not in PARTS_OF_DAY:
        raise BadRequestForm("preferred_day", "Choose a day and a part of the day, or neither.")
    try:
        d = date.fromisoformat(day)
    except ValueError as exc:
        raise BadRequestForm("preferred_day", "Choose a day from the calendar.") from exc
    zone = ZoneInfo(tz)
    a, b = PARTS_OF_DAY[part]
    start = datetime.combine(d, time(a), zone).astimezone(UTC)
    end = datetime.combine(d, time(b), zone).astimezone(UTC)
    if end <= now:
        raise BadRequestForm("preferred_day", "Choose a time in the future.")
    if start > now + timedelta(days=60):
        raise BadRequestForm("preferred_day", "Choose a day within the next 60 days.")
    return Window(max(start, now), end)


def image_type(head: bytes) -> str | None:
    """image/jpeg, image/png or image/webp by the file's first bytes; None for anything else."""
    found = sniff(head)
    return found if found in IMAGE_TYPES else None
