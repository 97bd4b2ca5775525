"""The portal's signed links are keyed by a key ring (fixflow_shared.keys), as the survey's answer
links are: rotation with a grace period, short keys refused at start."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from fixflow_shared import links
from fixflow_shared.settings import FixflowSettings

NEW, OLD = "n" * 40, "o" * 40


def _link() -> links.Link:
    return links.Link("acme", "C-1", "T-1", expires=int(time.time()) + 86400)  # outlives the grace period


def test_a_retiring_key_verifies_until_its_until_and_the_first_signs(monkeypatch: pytest.MonkeyPatch) -> None:
    until = datetime.now(UTC) + timedelta(hours=1)
    ring_value = json.dumps([NEW, {"key": OLD, "until": until.isoformat()}])
    monkeypatch.setenv("FIXFLOW_PORTAL_LINK_SECRETS", ring_value)
    ring = FixflowSettings().portal_link_keys()
    assert ring is not None and ring.signing_key == NEW.encode()
    old_token = links.sign(_link(), OLD.encode())
    assert links.verify(old_token, ring, now=time.time()).ticket_id == "T-1"
    later = until.timestamp() + 1
    with pytest.raises(links.BadLink, match="not a link we signed"):
        links.verify(old_token, ring, now=later)
    assert links.verify(links.sign(_link(), ring.signing_key), ring, now=time.time()).customer_id == "C-1"
    assert NEW not in repr(FixflowSettings()), "a secret, not shown"


def test_a_short_key_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIXFLOW_PORTAL_LINK_SECRETS", '["short"]')
    with pytest.raises(ValueError, match="FIXFLOW_PORTAL_LINK_SECRETS"):
        FixflowSettings()


def test_without_its_secret_development_derives_a_key_and_production_has_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIXFLOW_PORTAL_LINK_SECRETS", raising=False)
    derived = FixflowSettings().portal_link_keys()
    assert derived is not None and len(derived.keys) == 1
    production = FixflowSettings.model_construct(environment="production", portal_link_secrets=None)
    assert production.portal_link_keys() is None
