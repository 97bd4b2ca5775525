"""What a technician ticks on a job kind's checklist, for tests, the demo and the bench: an answer to
every required field (dispatch refuses completion without them). A photo field needs a photo
uploaded first: `PNG` is the smallest picture dispatch takes, `photo_bytes(key)` a distinct one per
field (the same bytes twice for one work order are one attachment)."""

from __future__ import annotations

from typing import Any

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da6364f8cf500f00038601805a347d6b0000000049454e44ae426082"
)
_PLAIN = {"yes_no": True, "number": 1, "text": "ok"}


def required_answers(form: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(answers to the required fields that are not photos, the keys of the required photo fields)."""
    answers = {f["key"]: _PLAIN[f["type"]] for f in form["fields"] if f["required"] and f["type"] != "photo"}
    photos = [f["key"] for f in form["fields"] if f["required"] and f["type"] == "photo"]
    return answers, photos


def photo_bytes(key: str) -> bytes:
    return PNG + key.encode()  # bytes after IEND: still a PNG, distinct per field
