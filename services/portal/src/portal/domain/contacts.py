"""What a customer types to sign in: a phone number or an e-mail address, read by the one rule for
contact data (fixflow_shared.contacts: E.164 numbers, normalised addresses, masks). Pure Python."""

from __future__ import annotations

from dataclasses import dataclass

from fixflow_shared.contacts import InvalidContact, mask_email, mask_phone, normalise_email, normalise_phone

DEFAULT_REGION = "CN"


class NotAContact(ValueError):
    pass


@dataclass(frozen=True)
class Contact:
    channel: str  # "sms" for a phone, "email"
    value: str  # E.164, or the normalised address

    @property
    def field(self) -> str:
        """The customer field this contact is looked up by."""
        return "phone" if self.channel == "sms" else "email"

    @property
    def masked(self) -> str:
        return str(mask_email(self.value) if self.channel == "email" else mask_phone(self.value))

    @property
    def key(self) -> str:
        """The same contact however it was typed (for rate limits)."""
        return self.value.lower()


def parse_contact(text: str, region: str = DEFAULT_REGION) -> Contact:
    value = (text or "").strip()
    if not value or len(value) > 254:
        raise NotAContact("enter a phone number or an e-mail address")
    try:
        if "@" in value:
            return Contact("email", normalise_email(value))
        return Contact("sms", normalise_phone(value, region))
    except InvalidContact as exc:
        raise NotAContact(str(exc)) from exc
