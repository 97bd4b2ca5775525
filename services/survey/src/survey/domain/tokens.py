"""Signed answer tokens: the only credential of the public answer link (no login).

    token = base64url(claims JSON) "." base64url(HMAC-SHA256(secret, "survey-answer.v1." + claims))

Claims: survey id, tenant, a per-survey nonce and the expiry (epoch seconds). The signature makes
a forged or altered token fail (401); the nonce ties the token to the survey row, so a token of
an older sending stops working when the row's nonce is rotated; single use is enforced by the
survey's state in the database (a second answer is 409), not by the token. The keys are a key
ring (fixflow_shared.keys): the first signs, every one verifies, a retired key only until its
`until` (rotation with a grace period).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from fixflow_shared.keys import KeyRing
from survey.domain.exceptions import InvalidToken

_DOMAIN = b"survey-answer.v1."
MAX_TOKEN_CHARS = 512


def _b64e(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


@dataclass(frozen=True)
class TokenClaims:
    survey_id: str
    tenant_id: str
    nonce: str
    expires_at: datetime

    def expired(self, at: datetime) -> bool:
        return at >= self.expires_at


class TokenSigner:
    def __init__(self, keys: KeyRing | Sequence[str]) -> None:
        self._ring = keys if isinstance(keys, KeyRing) else KeyRing.parse(list(keys), min_chars=16)

    def _mac(self, key: bytes, body: str) -> bytes:
        return hmac.new(key, _DOMAIN + body.encode(), hashlib.sha256).digest()

    def sign(self, claims: TokenClaims) -> str:
        body = _b64e(
            json.dumps(
                {
                    "s": claims.survey_id,
                    "t": claims.tenant_id,
                    "n": claims.nonce,
                    "e": int(claims.expires_at.timestamp()),
                },
                separators=(",", ":"),
            ).encode()
        )
        return f"{body}.{_b64e(self._mac(self._ring.signing_key, body))}"

    def verify(self, token: str, *, now: datetime | None = None) -> TokenClaims:
        """Claims of a genuine token (expired or not); InvalidToken for anything else."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            raise InvalidToken("malformed token")
        body, sig = token.split(".")
        try:
            given = _b64d(sig)
        except (ValueError, TypeError) as exc:
            raise InvalidToken("malformed token") from exc
        if not any(hmac.compare_digest(given, self._mac(k, body)) for k in self._ring.verifying(now)):
            raise InvalidToken("token signature does not verify")
        try:
            c = json.loads(_b64d(body))
            return TokenClaims(
                survey_id=str(c["s"]),
                tenant_id=str(c["t"]),
                nonce=str(c["n"]),
                expires_at=datetime.fromtimestamp(int(c["e"]), UTC),
            )
        except (ValueError, KeyError, TypeError, OverflowError, OSError) as exc:  # signed by us: a format change
            raise InvalidToken("unreadable token claims") from exc
