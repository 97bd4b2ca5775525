"""Webhook signatures (the documented algorithm partners implement).

    Fixflow-Timestamp: <unix seconds>
    Fixflow-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + raw body bytes)>

A receiver recomputes the HMAC over the exact bytes received, compares in constant time, and
refuses timestamps older than the tolerance (default 5 minutes) so a captured request cannot be
replayed later. Several `v1=` values separated by commas may appear during a secret rotation.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "Fixflow-Timestamp"
SIGNATURE_HEADER = "Fixflow-Signature"
DELIVERY_HEADER = "Fixflow-Delivery"
EVENT_HEADER = "Fixflow-Event"
DEFAULT_TOLERANCE_S = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def verify(
    secret: str, timestamp: str, signature: str, body: bytes, *, now: float, tolerance_s: int = DEFAULT_TOLERANCE_S
) -> bool:
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > tolerance_s:
        return False
    expected = sign(secret, ts, body)
    return any(hmac.compare_digest(expected, part.strip()) for part in signature.split(","))
