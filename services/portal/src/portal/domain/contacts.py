"""What a customer types to sign in: a phone number or an e-mail address (plain Python, no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,19}$")


class NotAContact(ValueError):
    pass


@dataclass(frozen=True)
class Contact:
    channel: str  # "sms" for a phone, "email"
    value: str

    @property
    def field(self) -> str:
        """The customer field this contact is looked up by."""
        return "phone" if self.channel == "sms" else "email"

    @property
    def masked(self) -> str:
        if self.channel == "email":
            user, _, domain = self.value.partition("@")
            return f"{user[:1]}***@{domain}"
        digits = self.value
        return digits[:3] + "*" * max(0, len(digits) - 7) + digits[-4:]

    @property
    def key(self) -> str:
        """The same contact however it was typed (for rate limits)."""
        return self.value.lower() if self.channel == "email" else re.sub(r"[^0-9+]", "", self.value)


def parse_contact(text: str) -> Contact:
    value = (text or "").strip()
    if "@" in value:
        if not _EMAIL.match(value):
            raise NotAContact("not an e-mail address")
        return Contact("email", value)
    if not _PHONE.match(value):
        raise NotAContact("not a phone number")
    return Contact("sms", re.sub(r"[\s()-]", "", value))
