"""Signed answer tokens: the only credential of the public answer link (no login).

    token = base64url(claims JSON) "." base64url(HMAC-SHA256(secret, "survey-answer.v1." + claims))

Claims: survey id, tenant, a per-survey nonce and the expiry (epoch seconds). The signature makes
a forged or altered token fail (401); the nonce ties the token to the survey row, so a token of
an older sending stops working when the row's nonce is rotated; single use is enforced by the
survey's state in the database (a second answer is 409), not by the token. Several secrets may
verify (key rotation); the first one signs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

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
    def __init__(self, secrets: Sequence[str]) -> None:
        keys = [s.encode() for s in secrets if s]
        if not keys or any(len(k) < 16 for k in keys):
            raise ValueError("answer-token secrets must be at least 16 characters")
        self._keys = keys

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
        return f"{body}.{_b64e(self._mac(self._keys[0], body))}"

    def verify(self, token: str) -> TokenClaims:
        """Claims of a genuine token (expired or not); InvalidToken for anything else."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            raise InvalidToken("malformed token")
        body, sig = token.split(".")
        try:
            given = _b64d(sig)
        except (ValueError, TypeError) as exc:
            raise InvalidToken("malformed token") from exc
        if not any(hmac.compare_digest(given, self._mac(k, body)) for k in self._keys):
            raise InvalidToken("token signature does not verify")
        try:
            c = json.loads(_b64d(body))
            return TokenClaims(
                survey_id=str(c["s"]),
                tenant_id=str(c["t"]),
                nonce=str(c["n"]),
                expires_at=datetime.fromtimestamp(int(c["e"]), UTC),
            )
        except (ValueError, KeyError, TypeError) as exc:  # signed by us, so only on a format change
            raise InvalidToken("unreadable token claims") from exc
