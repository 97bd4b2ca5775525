"""The signed, expiring portal link a customer's message carries (fixflow_shared.links): the quote
for a quote, the invoice for an invoice, else the ticket's page. Pure; the keys are shared with the
portal (FIXFLOW_PORTAL_LINK_SECRETS), which verifies them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fixflow_shared import links
from fixflow_shared.events.contracts import billing

# event type -> (kind of page, the data field naming its object)
PAGES: dict[str, tuple[str, str]] = {
    billing.QuoteIssued.type: ("quote", "quote_id"),
    billing.InvoiceIssued.type: ("invoice", "invoice_id"),
}


@dataclass(frozen=True)
class PortalLinks:
    base_url: str  # where customers reach the portal, e.g. https://service.example.com
    keys: Sequence[bytes]  # the first signs
    valid: timedelta = timedelta(days=14)

    def for_message(
        self,
        *,
        event_type: str,
        data: Mapping[str, Any],
        tenant: str,
        customer_id: str | None,
        ticket_id: str | None,
        now: datetime,
    ) -> str:
        """The link for this message, or "" when it names no customer or ticket."""
        if not (self.keys and customer_id and ticket_id):
            return ""
        kind, ident = "ticket", ""
        if event_type in PAGES:
            page, field = PAGES[event_type]
            if isinstance(data.get(field), str) and data[field]:
                kind, ident = page, str(data[field])
        try:
            link = links.Link(tenant, customer_id, ticket_id, kind, ident, int((now + self.valid).timestamp()))
        except links.BadLink:
            return ""
        return f"{self.base_url.rstrip('/')}/l/{links.sign(link, self.keys[0])}"
