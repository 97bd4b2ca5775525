"""Secrets without defaults: key rings that rotate, development secrets generated once per checkout,
and partner API keys kept only as hashes.

Key ring (FIXFLOW_JWT_DEV_SECRET, SURVEY_ANSWER_TOKEN_SECRETS): one key, or a JSON list whose first
entry signs and every entry verifies. An entry is a key or {"key": ..., "until": <RFC 3339 time>}:
an old key keeps verifying until its `until` (the rotation's grace period), then it is refused.

    SURVEY_ANSWER_TOKEN_SECRETS='["<new key>", {"key": "<old key>", "until": "2026-03-01T00:00:00Z"}]'

Development secrets: a service started without its secrets outside production reads them from
`.local/secrets.env` (FIXFLOW_SECRETS_FILE), which is generated with fresh random keys the first
time, so `make run`, the dev token CLI and every service of a checkout agree without any key in the
code. Production refuses to start without them (ServiceSettings).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MIN_KEY_CHARS = 32
SECRETS_FILE_ENV = "FIXFLOW_SECRETS_FILE"
DEFAULT_SECRETS_FILE = ".local/secrets.env"
# Every secret a development checkout generates for itself (name -> how to make a fresh value).
DEV_SECRETS: dict[str, Any] = {
    "FIXFLOW_JWT_DEV_SECRET": lambda: secrets.token_urlsafe(48),
    "SURVEY_ANSWER_TOKEN_SECRETS": lambda: json.dumps([secrets.token_urlsafe(48)]),
}


class UnusableKeys(ValueError):
    """A key ring that cannot be used (empty, short keys, unreadable entries)."""


@dataclass(frozen=True)
class RingKey:
    secret: bytes
    until: datetime | None = None

    def valid_at(self, now: datetime) -> bool:
        return self.until is None or now < self.until


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[RingKey, ...]
    min_chars: int = field(default=MIN_KEY_CHARS, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise UnusableKeys("a key ring needs at least one key")
        if self.keys[0].until is not None:
            raise UnusableKeys("the first key signs and must not expire; put retiring keys after it")
        short = [k for k in self.keys if len(k.secret) < self.min_chars]
        if short:
            raise UnusableKeys(f"keys must have at least {self.min_chars} characters")

    @classmethod
    def parse(cls, value: str | Iterable[Any], *, min_chars: int = MIN_KEY_CHARS) -> KeyRing:
        """A single key, or a JSON list (or a Python list) of keys / {"key", "until"} objects."""
        if isinstance(value, str):
            text = value.strip()
            items: list[Any] = json.loads(text) if text.startswith("[") else [text]
        else:
            items = list(value)
        keys = []
        for item in items:
            if isinstance(item, str):
                keys.append(RingKey(item.encode()))
            elif isinstance(item, Mapping) and isinstance(item.get("key"), str):
                until = item.get("until")
                keys.append(RingKey(item["key"].encode(), _instant(until) if until is not None else None))
            else:
                raise UnusableKeys('each entry is a key or {"key": "...", "until": "<RFC 3339 time>"}')
        return cls(tuple(keys), min_chars=min_chars)

    @property
    def signing_key(self) -> bytes:
        return self.keys[0].secret

    def verifying(self, now: datetime | None = None) -> list[bytes]:
        """Keys a signature may be checked with now: the current one and retiring ones in their grace period."""
        at = now or datetime.now(UTC)
        return [k.secret for k in self.keys if k.valid_at(at)]


def _instant(value: Any) -> datetime:
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise UnusableKeys(f"unreadable until {value!r}") from exc
    if t.tzinfo is None:
        raise UnusableKeys("until needs a time zone")
    return t


# --- development secrets -------------------------------------------------------------------------------


def secrets_file() -> Path:
    return Path(os.environ.get(SECRETS_FILE_ENV) or DEFAULT_SECRETS_FILE)


def read_env_file(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip().strip("'")
    return out


def dev_secrets(path: Path | None = None) -> dict[str, str]:
    """The checkout's development secrets, generating any that are missing (file mode 0600)."""
    path = path or secrets_file()
    found = read_env_file(path)
    missing = {k: make() for k, make in DEV_SECRETS.items() if k not in found}
    if missing:
        path.parent.mkdir(parents=True, exist_ok=True)
        found.update(missing)
        body = "# Development secrets of this checkout, generated once (never commit, never use in production).\n"
        body += "".join(f"{k}='{v}'\n" for k, v in sorted(found.items()))
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(body)
        os.replace(tmp, path)
    return found


# --- partner API keys ----------------------------------------------------------------------------------


def hash_api_key(key: str) -> str:
    """sha256 hex of a partner key: what the configuration holds (keys are 256-bit random, so no salt is needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class PartnerKey:
    """One partner API key: its id (the subject recorded in data), tenant, scopes and the key's hash."""

    id: str
    tenant: str
    scopes: frozenset[str]
    sha256: str


def new_partner_key() -> str:
    return "ffk_" + secrets.token_urlsafe(32)


def match_partner_key(keys: Iterable[PartnerKey], presented: str) -> PartnerKey | None:
    digest = hash_api_key(presented)
    found = None
    for k in keys:  # compare every one in constant time: no early exit tells which prefix matched
        if hmac.compare_digest(k.sha256, digest):
            found = k
    return found
