"""One rule for contact data in every service: phone numbers, e-mail addresses and their masks.

- Phone numbers are stored, compared and sent in E.164 (`+8613800138000`). A number written
  without a country code is read in the tenant's region (`PhoneRegions`: the setting
  FIXFLOW_PHONE_REGION, default CN, and per tenant FIXFLOW_TENANT_PHONE_REGIONS); parsing and
  validation are the `phonenumbers` library's (libphonenumber's metadata).
- E-mail addresses are normalised by `email-validator` (the domain lower-cased and IDNA-checked,
  the local part kept as written).
- Masks are the same everywhere (API answers, events, logs): `+86 138****8000`, `l***@example.com`.

So a preference saved through notify under `138 0013 8000` matches the `+8613800138000` that intake
puts in its events, and a number looks the same in intake's answer, notify's delivery and a log line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, StringConstraints, WithJsonSchema

from fixflow_shared.errors import Unprocessable

DEFAULT_REGION = "CN"

# What an API accepts as a phone number before normalising it with the tenant's region.
PhoneText = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ()-]{4,24}$")]


class InvalidContact(Unprocessable, ValueError):
    """Not a phone number / e-mail address (the message shows the value masked only). A 422 problem
    when it reaches the HTTP layer; a ValueError, so pydantic validators report it as a field error."""

    title = "Invalid contact"

    def at(self, location: tuple[str, ...]) -> Unprocessable:
        """This refusal as a validation failure of the request field at `location` (e.g.
        `("body", "to")`), like any other, so a form can show the message beside the field."""
        failure = {"location": list(location), "message": self.detail or self.title, "type": "value_error"}
        return Unprocessable("The request has invalid or missing fields", errors=[failure])


# --- phone numbers ---------------------------------------------------------------------------------


def normalise_phone(value: str, region: str = DEFAULT_REGION) -> str:
    """E.164 form of a phone number; `region` reads a number written without a country code."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidContact(f"not a phone number: {mask_phone(value)}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidContact(f"not a valid phone number: {mask_phone(value)}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class PhoneRegions:
    """The region each tenant's numbers are read in when they carry no country code."""

    default: str = DEFAULT_REGION
    by_tenant: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for region in (self.default, *self.by_tenant.values()):
            if region not in phonenumbers.SUPPORTED_REGIONS:
                raise ValueError(f"unknown phone region {region!r} (ISO 3166 alpha-2, e.g. CN)")

    @classmethod
    def from_settings(cls, settings: Any) -> PhoneRegions:
        return cls(
            default=getattr(settings, "phone_region", DEFAULT_REGION),
            by_tenant=dict(getattr(settings, "tenant_phone_regions", {}) or {}),
        )

    def region_for(self, tenant: str | None) -> str:
        return self.by_tenant.get(tenant or "", self.default)

    def normalise(self, value: str, tenant: str | None) -> str:
        return normalise_phone(value, self.region_for(tenant))

    def e164(self, value: str | None, tenant: str | None, *, at: tuple[str, ...] = ()) -> str | None:
        """`normalise` for an optional number (None stays None). `at` names where the number came
        from (e.g. `("body", "contact_phone")`): a bad number is then a validation failure of that
        field, like any other, so a form can show the message beside it."""
        if value is None:
            return None
        try:
            return self.normalise(value, tenant)
        except InvalidContact as exc:
            if not at:
                raise
            raise exc.at(at) from exc


DEFAULT_PHONE_REGIONS = PhoneRegions()  # every tenant in DEFAULT_REGION


# --- e-mail ----------------------------------------------------------------------------------------


def normalise_email(value: str) -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidContact(f"not an e-mail address: {mask_email(value.strip())}") from exc


# An e-mail address in an API body, normalised on the way in.
Email = Annotated[str, AfterValidator(normalise_email), WithJsonSchema({"type": "string", "format": "email"})]


def normalise_contact(value: str, region: str = DEFAULT_REGION) -> str:
    """An e-mail address or a phone number, whichever `value` is."""
    return normalise_email(value) if "@" in value else normalise_phone(value, region)


# --- masks -----------------------------------------------------------------------------------------


def _mask_digits(digits: str) -> str:
    if len(digits) <= 4:
        return "*" * 4
    if len(digits) < 8:
        return "*" * (len(digits) - 2) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_phone(value: str) -> str:
    """`+86 138****8000` for an international number, `138****8000` without a country code."""
    v = value.strip()
    if v.startswith("+"):
        try:
            number = phonenumbers.parse(v, None)
            return f"+{number.country_code} {_mask_digits(phonenumbers.national_significant_number(number))}"
        except phonenumbers.NumberParseException:
            return "+" + _mask_digits(re.sub(r"\D", "", v))
    return _mask_digits(re.sub(r"\D", "", v))


def mask_email(value: str) -> str:
    """`l***@example.com`: the first character of the local part and the domain."""
    local, at, domain = value.strip().rpartition("@")
    if not at or not local:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_contact(value: str | None) -> str | None:
    """The mask of an e-mail address or a phone number; other values are left as they are (ids)."""
    if not value:
        return value
    if "@" in value:
        return mask_email(value)
    if re.fullmatch(r"\+?[0-9 ()-]{5,}", value.strip()):
        return mask_phone(value)
    return value


_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE_IN_TEXT = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[\s-]?\d{3}[\s-]?\d{4}[\s-]?\d{4}|\+\d{7,15}|\d{3}[\s-]?\d{4}[\s-]?\d{4})(?!\w)"
)


def mask_pii(text: str) -> str:
    """Masks the e-mail addresses and phone numbers inside free text (log lines)."""
    text = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)), text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)
