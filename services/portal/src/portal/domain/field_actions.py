"""What the technician app sends, one action at a time, and the service calls each one becomes
(pure). Every action carries its own Idempotency-Key from the device; an action that takes several
calls derives one key per call from it (`<key>:1`, `<key>:2`), so an action sent twice (a retry
after a lost answer, a reconnect) applies once."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

KINDS = ("en_route", "arrive", "absent", "checklist", "photo", "work", "needs_parts", "complete")
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
    """One call to dispatch: method, path (under /v1/work-orders/{id}), JSON body or image, the key."""

    method: str
    path: str
    key: str
    body: dict[str, Any] | None = None
    image: Image | None = None
    params: dict[str, str] = field(default_factory=dict)


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
    out = []
    for p in value or []:
        if not isinstance(p, dict) or not p.get("part_code"):
            continue
        qty = int(p.get("quantity") or 1)
        if qty > 0:
            out.append({"part_code": str(p["part_code"]), "quantity": qty, "source": source})
    return out


def _absent(data: dict[str, Any], *, key: str, status: str) -> list[Call]:
    """Nobody at home: arrive first when not arrived yet, then the failed visit."""
    calls = []
    if status in ("assigned", "en_route"):
        calls.append(Call("POST", "/arrival", f"{key}:1", body=_position(data)))
    note = str(data.get("note") or "").strip()[:2000] or None
    calls.append(Call("POST", "/failure", f"{key}:2", body={"outcome": "customer_absent", "note": note}))
    return calls


def calls_for(kind: str, data: dict[str, Any], *, key: str, status: str, max_image_bytes: int) -> list[Call]:
    """The dispatch calls an action becomes, given the work order's status now."""
    if kind not in KINDS:
        raise BadAction(f"unknown action {kind!r}")
    if kind == "en_route":
        return [Call("POST", "/en-route", key, body=_position(data))]
    if kind == "arrive":
        return [Call("POST", "/arrival", key, body=_position(data))]
    if kind == "absent":
        return _absent(data, key=key, status=status)
    if kind == "checklist":
        return [Call("PUT", "/checklist", key, body={"answers": dict(data.get("answers") or {})})]
    if kind == "photo":
        img = image_of(data.get("image"), max_bytes=max_image_bytes)
        params = {"kind": "photo"}
        if data.get("caption"):
            params["caption"] = str(data["caption"])[:200]
        return [Call("PUT", f"/attachments/{img.id}", key, image=img, params=params)]
    if kind == "work":
        body: dict[str, Any] = {
            "parts": _parts(data.get("parts"), source="van_stock"),
            "labour_minutes": max(0, int(data.get("labour_minutes") or 0)),
        }
        if str(data.get("diagnosis") or "").strip():
            body["diagnosis"] = str(data["diagnosis"]).strip()[:4000]
        return [Call("POST", "/work", key, body=body)]
    if kind == "needs_parts":
        parts = _parts(data.get("parts"), source="warehouse")
        if not parts:
            raise BadAction("name the parts needed")
        note = str(data.get("note") or "").strip()[:2000] or None
        return [Call("POST", "/failure", key, body={"outcome": "needs_parts", "note": note, "parts_needed": parts})]
    return _completion(data, key=key, max_image_bytes=max_image_bytes)


def _completion(data: dict[str, Any], *, key: str, max_image_bytes: int) -> list[Call]:
    """The checklist as filled, the signature image, then the sign-off naming it."""
    resolution = str(data.get("resolution_code") or "")
    if resolution not in RESOLUTIONS:
        raise BadAction("choose what was done")
    signed_by = str(data.get("signed_by") or "").strip()[:200]
    if not signed_by:
        raise BadAction("the customer's name is needed with the signature")
    signature = image_of(data.get("signature"), max_bytes=max_image_bytes)
    calls = []
    if isinstance(data.get("answers"), dict):
        calls.append(Call("PUT", "/checklist", f"{key}:1", body={"answers": data["answers"]}))
    calls.append(Call("PUT", f"/attachments/{signature.id}", f"{key}:2", image=signature, params={"kind": "signature"}))
    sign_off: dict[str, Any] = {
        "resolution_code": resolution,
        "signed_by": signed_by,
        "signed_at": str(data.get("signed_at") or ""),
        "signature_attachment_id": signature.id,
    }
    if isinstance(data.get("rating"), int) and 1 <= data["rating"] <= 5:
        sign_off["rating"] = data["rating"]
    calls.append(Call("POST", "/completion", f"{key}:3", body=sign_off))
    return calls
