"""What the technician app sends, one action at a time, and the service calls each one becomes
(pure). Every action carries its own Idempotency-Key from the device; an action that takes several
calls derives one key per call from it (`<key>:1`, `<key>:2`), so an action sent twice (a retry
after a lost answer, a reconnect) applies once."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

KINDS = ("en_route", "arrive", "absent", "work", "photo", "checklist", "needs_parts", "complete")
RESOLUTIONS = ("repaired", "part_replaced", "adjusted", "installed", "maintained", "no_fault_found")
_DATA_URL = re.compile(r"^data:(image/(?:jpeg|png|webp));base64,([A-Za-z0-9+/=]+)$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{7,63}$")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{7,120}$")


class BadAction(ValueError):
    pass


@dataclass(frozen=True)
class Image:
    id: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Call:
    """One call to dispatch: POST to a path under /v1/work-orders/{id} with a JSON body and its key."""

    path: str
    key: str
    body: dict[str, Any] | None = field(default_factory=dict)
    method: str = "POST"
    content: bytes | None = None  # bytes instead of JSON: an image
    content_type: str | None = None
    image_id: str | None = None  # the device's id of the image this call uploads


def check_key(key: str | None) -> str:
    if not key or not _KEY.match(key):
        raise BadAction("every action needs its Idempotency-Key (8 to 120 letters, digits, - _ . :)")
    return key


def image_of(value: Any, *, max_bytes: int) -> Image:
    if not isinstance(value, dict) or not _ID.match(str(value.get("id") or "")):
        raise BadAction("an image needs an id (8 to 64 letters, digits, - or _)")
    m = _DATA_URL.match(str(value.get("data") or ""))
    if not m:
        raise BadAction("an image is a data: URL of a JPEG, PNG or WebP picture")
    try:
        data = base64.b64decode(m.group(2), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadAction("the image is not valid base64") from exc
    if not data or len(data) > max_bytes:
        raise BadAction(f"an image may have at most {max_bytes} bytes")
    return Image(str(value["id"]), m.group(1), data)


def _position(data: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k in ("lat", "lon"):
        if isinstance(data.get(k), int | float):
            out[k] = float(data[k])
    return out if len(out) == 2 else {}


def _parts(value: Any, *, source: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in value if isinstance(value, list) else []:
        if not isinstance(p, dict) or not p.get("part_code"):
            continue
        try:
            qty = int(p.get("quantity") or 1)
        except (TypeError, ValueError) as exc:
            raise BadAction("a part's quantity is a whole number") from exc
        if qty > 0:
            out.append({"part_code": str(p["part_code"])[:64], "quantity": min(qty, 1000), "source": source})
    return out


def _absent(data: dict[str, Any], *, key: str, status: str) -> list[Call]:
    """Nobody at home: arrive first when not arrived yet, then the failed visit."""
    calls = []
    if status in ("assigned", "en_route"):
        calls.append(Call("/arrival", f"{key}:1", _position(data)))
    note = str(data.get("note") or "").strip()[:2000] or None
    calls.append(Call("/failure", f"{key}:2", {"outcome": "customer_absent", "note": note}))
    return calls


def _work(data: dict[str, Any]) -> dict[str, Any] | None:
    """The work record (diagnosis, parts from the van, labour) when the form says any of it."""
    parts = _parts(data.get("parts"), source="van_stock")
    try:
        minutes = max(0, min(24 * 60, int(data.get("labour_minutes") or 0)))
    except (TypeError, ValueError) as exc:
        raise BadAction("labour minutes are a whole number") from exc
    diagnosis = str(data.get("diagnosis") or "").strip()[:4000]
    if not (parts or minutes or diagnosis):
        return None
    body: dict[str, Any] = {"parts": parts, "labour_minutes": minutes}
    if diagnosis:
        body["diagnosis"] = diagnosis
    return body


def calls_for(kind: str, data: dict[str, Any], *, key: str, status: str, max_image_bytes: int) -> list[Call]:
    """The dispatch calls an action becomes, given the work order's status now."""
    if kind not in KINDS:
        raise BadAction(f"unknown action {kind!r}")
    if kind == "en_route":
        return [Call("/en-route", key, _position(data))]  # the ETA is measured from there
    if kind == "arrive":
        return [Call("/arrival", key, _position(data))]
    if kind == "absent":
        return _absent(data, key=key, status=status)
    if kind == "work":
        work = _work(data)
        if work is None:
            raise BadAction("say what was done, the parts used or the time it took")
        return [Call("/work", key, work)]
    if kind == "photo":
        image = image_of(data.get("image"), max_bytes=max_image_bytes)
        caption = str(data.get("caption") or "").strip()[:200]
        query = "?kind=photo" + (f"&caption={quote(caption)}" if caption else "")
        return [_upload(image, query, key)]
    if kind == "checklist":
        return [Call("/checklist", key, {"answers": answers_of(data)})]
    if kind == "needs_parts":
        parts = _parts(data.get("parts"), source="warehouse")
        if not parts:
            raise BadAction("name the parts needed")
        note = str(data.get("note") or "").strip()[:2000] or None
        return [Call("/failure", key, {"outcome": "needs_parts", "note": note, "parts_needed": parts})]
    return _completion(data, key=key, max_image_bytes=max_image_bytes)


def _upload(image: Image, query: str, key: str) -> Call:
    return Call(
        "/attachments" + query, key, None, content=image.data, content_type=image.content_type, image_id=image.id
    )


def answers_of(data: dict[str, Any]) -> dict[str, Any]:
    """The checklist's answers as the device sends them: field key -> text, number, true/false or
    (a photo field) the device's id of the photo, which the portal turns into dispatch's id."""
    answers = data.get("answers")
    if answers is None:
        return {}
    if not isinstance(answers, dict) or len(answers) > 40:
        raise BadAction("the checklist's answers are an object of at most 40 fields")
    out: dict[str, Any] = {}
    for k, v in answers.items():
        if not isinstance(v, str | int | float | bool) and v is not None:
            raise BadAction(f"the answer to {k} is text, a number or yes/no")
        out[str(k)[:48]] = v[:2000] if isinstance(v, str) else v
    return out


def photo_fields(form: dict[str, Any]) -> set[str]:
    """The keys of a checklist's photo fields (as dispatch describes the checklist)."""
    return {f["key"] for f in form.get("fields", []) if f.get("type") == "photo"}


def _completion(data: dict[str, Any], *, key: str, max_image_bytes: int) -> list[Call]:
    """The work record (when the form has one), the signature image, then the sign-off naming it by
    its hash with the checklist's answers (dispatch refuses while a required one is missing)."""
    resolution = str(data.get("resolution_code") or "")
    if resolution not in RESOLUTIONS:
        raise BadAction("choose what was done")
    signed_by = str(data.get("signed_by") or "").strip()[:200]
    if not signed_by:
        raise BadAction("the customer's name is needed with the signature")
    signed_at = str(data.get("signed_at") or "")
    if not signed_at:
        raise BadAction("the time of the signature is missing")
    signature = image_of(data.get("signature"), max_bytes=max_image_bytes)
    calls = []
    work = _work(data)
    if work is not None:
        calls.append(Call("/work", f"{key}:1", work))
    calls.append(_upload(signature, "?kind=signature", f"{key}:3"))  # :3, so :1 and :2 mean what they meant
    sign_off: dict[str, Any] = {
        "resolution_code": resolution,
        "signed_by": signed_by,
        "signed_at": signed_at,
        "signature_sha256": hashlib.sha256(signature.data).hexdigest(),
    }
    rating = data.get("rating")
    if isinstance(rating, int) and not isinstance(rating, bool) and 1 <= rating <= 5:
        sign_off["rating"] = rating
    answers = answers_of(data)
    if answers:
        sign_off["checklist"] = answers
    calls.append(Call("/completion", f"{key}:2", sign_off))
    return calls
