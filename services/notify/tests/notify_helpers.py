"""Helpers of notify's integration tests: envelopes, the deliveries of a ticket, email subjects.
Import with `from notify_helpers import ...` (the conftest puts this folder on sys.path)."""

from __future__ import annotations

from typing import Any

import httpx

from fixflow_shared.events import Envelope, new_envelope
from fixflow_shared.testing import auth_headers, eventually


def subject_of(message: Any) -> str:
    """The decoded Subject of a received email (non-ASCII subjects arrive RFC 2047 encoded)."""
    from email.header import decode_header, make_header

    return str(make_header(decode_header(message["Subject"] or "")))


def envelope_of(payload: Any, *, tenant: str, subject: str) -> Envelope:
    return new_envelope(payload, source="/fixflow/test", subject=subject, tenant=tenant)


async def deliveries_of(client: httpx.AsyncClient, tenant: str, ticket_id: str) -> list[dict]:
    r = await client.get("/v1/deliveries", params={"ticket_id": ticket_id}, headers=auth_headers(tenant, "agent"))
    assert r.status_code == 200, r.text
    return r.json()


async def settled(
    client: httpx.AsyncClient,
    tenant: str,
    ticket_id: str,
    *,
    count: int,
    timeout: float = 20.0,
    final: tuple[str, ...] = ("sent", "failed", "skipped"),
) -> list[dict]:
    """Wait until `count` deliveries of the ticket exist and all reached a final status."""
    return await eventually(
        lambda: deliveries_of(client, tenant, ticket_id),
        lambda items: len(items) >= count and all(d["status"] in final for d in items),
        timeout=timeout,
        what=f"{count} deliveries of {ticket_id} in {final}",
    )
