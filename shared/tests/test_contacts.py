"""One rule for phone numbers, e-mail addresses and masks (pure, no I/O)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixflow_shared.contacts import (
    InvalidContact,
    PhoneRegions,
    mask_contact,
    mask_email,
    mask_phone,
    mask_pii,
    normalise_contact,
    normalise_email,
    normalise_phone,
)
from fixflow_shared.errors import Unprocessable
from fixflow_shared.settings import ServiceSettings


@pytest.mark.parametrize(
    "written",
    ["13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000", "+8613800138000", "008613800138000"],
)
def test_every_way_of_writing_a_number_gives_one_e164(written):
    assert normalise_phone(written) == "+8613800138000"


def test_the_tenant_region_reads_numbers_without_a_country_code():
    regions = PhoneRegions(default="CN", by_tenant={"acme-us": "US"})
    assert regions.region_for("acme-us") == "US" and regions.region_for("other") == "CN"
    assert regions.normalise("(202) 555-0123", "acme-us") == "+12025550123"
    assert regions.normalise("13800138000", "other") == "+8613800138000"
    assert regions.normalise("+8613800138000", "acme-us") == "+8613800138000", "a country code wins"
    with pytest.raises(InvalidContact):
        regions.normalise("13800138000", "acme-us")
    with pytest.raises(ValueError, match="unknown phone region"):
        PhoneRegions(default="XX")


def test_regions_come_from_the_settings():
    s = ServiceSettings(
        database_url="postgresql+asyncpg://x:x@127.0.0.1/x",
        http_port=1,
        FIXFLOW_PHONE_REGION="DE",
        FIXFLOW_TENANT_PHONE_REGIONS={"t-cn": "CN"},
    )
    regions = PhoneRegions.from_settings(s)
    assert regions.default == "DE" and regions.region_for("t-cn") == "CN"


@pytest.mark.parametrize("bad", ["12", "12345", "abc", "+999 1234", "1380013800"])
def test_invalid_numbers_are_refused_with_a_masked_message(bad):
    with pytest.raises(InvalidContact) as info:
        normalise_phone(bad)
    assert bad not in str(info.value) or len(bad) <= 4


def test_email_normalised_once():
    assert normalise_email("  Li.Lei@Example.COM ") == "Li.Lei@example.com"
    assert normalise_contact("Li.Lei@Example.COM") == "Li.Lei@example.com"
    assert normalise_contact("138 0013 8000") == "+8613800138000"
    for bad in ("not-an-email@", "a@b", "@example.com"):
        with pytest.raises(InvalidContact):
            normalise_email(bad)


def test_one_mask_for_every_place():
    assert mask_phone("+8613800138000") == "+86 138****8000"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_email("li.lei@example.com") == "l***@example.com"
    assert mask_contact("+8613800138000") == "+86 138****8000"
    assert mask_contact("li.lei@example.com") == "l***@example.com"
    assert mask_contact("cust-42") == "cust-42" and mask_contact(None) is None
    # a log line masks the same number the same way
    assert mask_pii("sent to +8613800138000") == "sent to +86 138****8000"
    assert mask_pii("sent to 13800138000 and li.lei@example.com") == "sent to 138****8000 and l***@example.com"
    assert mask_pii("invoice 2025-000042, trace 0123456789abcdef") == "invoice 2025-000042, trace 0123456789abcdef"


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_mask_never_shows_the_middle_digits(national):
    e164 = "+86" + national
    masked = mask_phone(e164)
    assert national[3:7] not in masked.replace(" ", "")[6:-4]
    assert masked.endswith(national[-4:]) and masked.startswith("+86 " + national[:3])
    assert mask_pii(f"call {e164} now") == f"call {masked} now"


def test_a_bad_number_from_a_named_field_is_that_fields_validation_failure():
    regions = PhoneRegions()
    with pytest.raises(Unprocessable) as info:
        regions.e164("12345", "t", at=("body", "contact_phone"))
    assert not isinstance(info.value, InvalidContact), "a form can place the message beside its field"
    (failure,) = info.value.members["errors"]
    assert failure["location"] == ["body", "contact_phone"] and "not a valid phone number" in failure["message"]
    assert "12345" not in failure["message"], "the number is shown masked"
    assert regions.e164(None, "t", at=("body", "contact_phone")) is None
    with pytest.raises(InvalidContact):
        regions.e164("12345", "t")
