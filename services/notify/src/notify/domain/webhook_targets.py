"""Where webhooks may go, and what they may carry.

Targets: https in production; never an address inside our own network (loopback, link-local such as
the cloud metadata service 169.254.169.254, private, unique-local, multicast, reserved) unless the
operator allows that network (NOTIFY_WEBHOOK_ALLOWED_NETWORKS). The URL is checked when it is
registered and the resolved addresses again before each delivery (a public name may later resolve
to a private address).

Payloads: the event's data without the customer's contact details, unless the subscription asked
for them (include_contact) and the role of its owner may read contact details (policy
"contacts.read").
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from fixflow_shared import errors
from fixflow_shared.policy import POLICY

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IP = ipaddress.IPv4Address | ipaddress.IPv6Address
# Fields of an event's data that reach a person (and nothing else a partner needs to act).
CONTACT_FIELDS = frozenset(
    {"contact_email", "contact_phone", "email", "phone", "customer_name", "contact_person", "address", "signed_by"}
)


class InvalidWebhookTarget(errors.Unprocessable):
    """A webhook URL Fixflow will not call (422)."""

    title = "Invalid webhook target"


def networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _internal(ip: IP) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def check_address(address: str, allowed: Sequence[Network]) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if _internal(ip) and not any(ip in n for n in allowed):
        raise InvalidWebhookTarget(f"webhook targets may not be internal addresses ({ip})")


def check_url(url: str, *, production: bool, allowed: Sequence[Network]) -> str:
    """The host to resolve; raises InvalidWebhookTarget for a URL that may not be called at all."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or (production and parts.scheme != "https"):
        raise InvalidWebhookTarget("webhook targets must use https" if production else "use an http(s) URL")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise InvalidWebhookTarget("the webhook URL has no host")
    if parts.username or parts.password:
        raise InvalidWebhookTarget("credentials do not belong in a webhook URL; the signature authenticates us")
    if host == "localhost" or host.endswith(".localhost"):
        check_address("127.0.0.1", allowed)
        return host
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host  # a name: its addresses are checked when they are resolved, before each delivery
    check_address(host, allowed)
    return host


def payload_data(data: dict[str, Any], *, include_contact: bool, owner_roles: Iterable[str]) -> dict[str, Any]:
    """What a subscription receives of an event's data."""
    if include_contact and POLICY["contacts.read"].reach(frozenset(owner_roles)) is not None:
        return data
    kept: dict[str, Any] = _without_contact(data)
    return kept


def _without_contact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_contact(v) for k, v in value.items() if k not in CONTACT_FIELDS}
    if isinstance(value, list):
        return [_without_contact(v) for v in value]
    return value
