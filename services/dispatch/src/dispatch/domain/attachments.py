"""Attachments of a work order: the signature the customer drew, the technician's photos and the
service report (plain Python, no I/O).

What a client says a file is, is not proof: the type is read from the first bytes (the "magic",
fixflow_shared.media, as the portal reads a customer's photos), and a file whose bytes are not one
of the accepted types, or that is larger than the limit, is refused (422) before anything is stored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from dispatch.domain.exceptions import RuleViolation
from fixflow_shared.media import sniff

MAX_BYTES = 2 * 1024 * 1024  # 2 MiB: a phone photo made smaller on the device, a signature, a report
# kind -> the media types it may have
KINDS: dict[str, tuple[str, ...]] = {
    "signature": ("image/png",),
    "photo": ("image/jpeg", "image/png", "image/webp"),
    "report": ("application/pdf",),
}


class BadAttachment(RuleViolation):
    title = "Bad attachment"


def check(kind: str, data: bytes, declared: str | None = None) -> str:
    """The verified media type of an attachment of this kind, or BadAttachment (422) saying why."""
    if kind not in KINDS:
        raise BadAttachment(f"an attachment is one of {', '.join(KINDS)}", field="kind")
    if not data:
        raise BadAttachment("the attachment is empty")
    if len(data) > MAX_BYTES:
        raise BadAttachment(f"an attachment may have at most {MAX_BYTES} bytes", size=len(data), limit=MAX_BYTES)
    found = sniff(data)
    if found is None or found not in KINDS[kind]:
        raise BadAttachment(
            f"a {kind} must be {' or '.join(KINDS[kind])}; these bytes are {found or 'not one of them'}"
        )
    declared = (declared or "").split(";")[0].strip().lower()
    if declared and declared not in ("application/octet-stream", found):
        raise BadAttachment(f"the content says {found}, the request says {declared}")
    return found


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Attachment:
    """What is known of a stored attachment (its bytes are read separately)."""

    id: str
    tenant_id: str
    work_order_id: str
    ticket_id: str
    kind: str
    media_type: str
    size: int
    sha256: str
    caption: str | None
    created_at: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "work_order_id": self.work_order_id,
            "ticket_id": self.ticket_id,
            "kind": self.kind,
            "media_type": self.media_type,
            "size": self.size,
            "sha256": self.sha256,
            "caption": self.caption,
            "created_at": self.created_at.isoformat(),
        }
