"""What a file is, by its first bytes (its "magic"): what a client says a file is, is not proof.

Only the types Fixflow keeps are known: JPEG, PNG and WebP pictures, and PDF documents."""

from __future__ import annotations

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"%PDF-", "application/pdf"),
)


def sniff(data: bytes) -> str | None:
    """The media type the bytes themselves say (the first 16 are enough); None for anything else."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None
