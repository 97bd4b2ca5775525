"""Webhook targets and payloads: nothing inside our network is called, and contact details go out
only when a subscription asks and its owner's role may see them."""

from __future__ import annotations

import pytest

from notify.domain.webhook_targets import InvalidWebhookTarget, check_address, check_url, networks, payload_data

INTERNAL = [
    "http://127.0.0.1/hook",
    "http://localhost:8080/hook",
    "http://api.localhost/hook",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
    "http://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://172.16.5.4/hook",
    "http://[::1]/hook",
    "http://[fd00::1]/hook",  # unique local
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "http://0.0.0.0/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
]


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_targets_are_refused_unless_allowed(url):
    with pytest.raises(InvalidWebhookTarget):
        check_url(url, production=False, allowed=())
    everything = networks(["0.0.0.0/0", "::/0"])
    check_url(url, production=False, allowed=everything)


def test_production_wants_https_and_no_credentials_in_the_url():
    with pytest.raises(InvalidWebhookTarget, match="https"):
        check_url("http://partner.example.com/hook", production=True, allowed=())
    assert check_url("https://partner.example.com/hook", production=True, allowed=()) == "partner.example.com"
    with pytest.raises(InvalidWebhookTarget):
        check_url("https://user:pw@partner.example.com/hook", production=True, allowed=())
    with pytest.raises(InvalidWebhookTarget):
        check_url("ftp://partner.example.com/hook", production=False, allowed=())


def test_resolved_addresses_are_checked_too():
    with pytest.raises(InvalidWebhookTarget):
        check_address("10.0.0.7", ())
    check_address("93.184.216.34", ())
    check_address("10.0.0.7", networks(["10.0.0.0/24"]))


DATA = {
    "ticket_id": "T-1",
    "contact_email": "li.wei@example.com",
    "contact_phone": "+8613812345678",
    "customer_name": "Li Wei",
    "site": {"region": "CN-31", "address": "1 Road"},
}


def test_contact_details_only_when_asked_and_allowed():
    stripped = payload_data(DATA, include_contact=False, owner_roles=["manager"])
    assert stripped == {"ticket_id": "T-1", "site": {"region": "CN-31"}}
    assert payload_data(DATA, include_contact=True, owner_roles=["manager"]) == DATA
    # the owner's role no longer (or never) may read contact details: stripped all the same
    assert "contact_email" not in payload_data(DATA, include_contact=True, owner_roles=["dispatcher"])
