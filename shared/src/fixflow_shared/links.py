"""Signed, expiring links to the portal's pages: every message notify sends a customer carries one,
and the portal opens the page it names for that customer only.

    token = sign(Link(tenant, customer_id, "T-1", "quote", "Q-1", expires=...), key)
    https://portal.example/l/<token>      -> /tickets/T-1/quotes/Q-1

Every page a link opens belongs to one ticket (its quote, invoice, receipt, service report), so a
session opened by a link reaches that ticket's pages only. A token is `<payload>.<mac>`: the payload
is base64url of a compact JSON list (version, tenant, customer id, ticket id, kind of page, object
id, expiry in Unix seconds), the mac base64url of HMAC-SHA256(key, payload). The keys are the key
ring FIXFLOW_PORTAL_LINK_SECRETS (fixflow_shared.keys), shared by notify (signs) and the portal
(verifies): the first signs, every one verifies, a retiring one until its `until`. Nothing is stored:
a link stays valid until it expires, so it is as private as the message it came in, and the page
it opens is that one page (the portal asks for a one-time code for anything else).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from fixflow_shared.keys import KeyRing

VERSION = 1
KINDS = ("ticket", "quote", "invoice", "receipt", "report")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
MAX_TOKEN_CHARS = 600


class BadLink(ValueError):
    """Not a link we signed (or one for another page)."""


class LinkExpired(BadLink):
    """A link we signed whose time is over."""

    def __init__(self, link: Link) -> None:
        super().__init__("the link has expired")
        self.link = link


@dataclass(frozen=True)
class Link:
    tenant: str
    customer_id: str
    ticket_id: str
    kind: str = "ticket"
    ident: str = ""  # the quote, invoice, receipt or work order (empty for the ticket itself)
    expires: int = 0  # Unix seconds

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise BadLink(f"unknown kind of page {self.kind!r}")
        if (self.kind == "ticket") != (self.ident == ""):
            raise BadLink("a ticket link names the ticket only, any other names its object too")
        for value in (self.tenant, self.customer_id, self.ticket_id, *([self.ident] if self.ident else [])):
            if not isinstance(value, str) or not _ID.match(value):
                raise BadLink("a link names ids only")

    @property
    def scope(self) -> str:
        """The pages a session opened by this link may see: the ticket's."""
        return f"/tickets/{self.ticket_id}"

    @property
    def path(self) -> str:
        """The portal page this link opens."""
        return (
            self.scope
            + {
                "ticket": "",
                "quote": f"/quotes/{self.ident}",
                "invoice": f"/invoices/{self.ident}.pdf",
                "receipt": f"/receipts/{self.ident}.pdf",
                "report": f"/reports/{self.ident}.pdf",
            }[self.kind]
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def sign(link: Link, key: bytes) -> str:
    payload = _b64(
        json.dumps(
            [VERSION, link.tenant, link.customer_id, link.ticket_id, link.kind, link.ident, int(link.expires)],
            separators=(",", ":"),
        ).encode()
    )
    return f"{payload}.{_mac(key, payload)}"


def verify(token: str, keys: KeyRing | Sequence[bytes], *, now: float) -> Link:
    """The link a token names, if one of `keys` signed it (of a ring: one valid `now`); LinkExpired
    after its time, BadLink otherwise."""
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise BadLink("not a link")
    payload, mac = token.split(".")
    if isinstance(keys, KeyRing):
        keys = keys.verifying(datetime.fromtimestamp(now, UTC))
    if not any(hmac.compare_digest(_mac(k, payload), mac) for k in keys):
        raise BadLink("not a link we signed")
    try:
        version, tenant, customer_id, ticket_id, kind, ident, expires = json.loads(_unb64(payload))
    except (ValueError, TypeError) as exc:
        raise BadLink("not a link") from exc
    if version != VERSION or not isinstance(expires, int):
        raise BadLink("not a link")
    link = Link(tenant, customer_id, ticket_id, kind, ident, expires)
    if now >= expires:
        raise LinkExpired(link)
    return link


def derived_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose derived from another secret (development: from the token key)."""
    return hmac.new(secret.encode(), f"fixflow:{purpose}".encode(), hashlib.sha256).digest()
