"""Who a caller is: tokens that must expire, customers and technicians carrying their ids, partner
keys kept as hashes with scopes, and secrets with no default in the code (rotation included)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from fixflow_shared.auth import DEV_AUDIENCE, DEV_ISSUER, Authenticator, dev_token
from fixflow_shared.errors import FixflowError as Problem
from fixflow_shared.keys import KeyRing, UnusableKeys, hash_api_key
from fixflow_shared.settings import ServiceSettings

# The key that used to be the development default in the code: anyone could read it.
OLD_PUBLIC_DEV_KEY = "fixflow-development-signing-key-change-me-0123456789"
PROD = {
    "environment": "production",
    "oidc_issuer": "https://login.test",
    "oidc_audience": "fixflow",
    "oidc_jwks_url": "https://login.test/certs",
}


def settings(**kw) -> ServiceSettings:
    return ServiceSettings(database_url="postgresql+asyncpg://x/y", http_port=1, **kw)


def signed(claims: dict, key: str) -> str:
    now = int(time.time())
    body = {"sub": "u1", "tenant": "acme", "roles": ["agent"], "iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "iat": now}
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="HS256")


KEY = "k" * 40


@pytest.fixture
def auth() -> Authenticator:
    return Authenticator(settings(jwt_dev_secret=KEY))


# --- tokens ------------------------------------------------------------------------------------------


def test_a_token_without_exp_is_refused(auth):
    with pytest.raises(Problem) as e:
        auth.verify_token(signed({"exp": None}, KEY))
    assert e.value.status == 401


def test_a_dev_token_valid_for_more_than_12_hours_is_refused(auth):
    now = int(time.time())
    with pytest.raises(Problem) as e:
        auth.verify_token(signed({"iat": now, "exp": now + 13 * 3600}, KEY))
    assert e.value.status == 401 and "12 hours" in e.value.detail
    # ... also when iat is back-dated to make the span look short
    with pytest.raises(Problem):
        auth.verify_token(signed({"iat": now + 2 * 3600, "exp": now + 13 * 3600}, KEY))
    assert auth.verify_token(signed({"iat": now, "exp": now + 12 * 3600}, KEY)).tenant == "acme"
    with pytest.raises(ValueError):
        dev_token(tenant="acme", roles=["agent"], secret=KEY, ttl_s=12 * 3600 + 1)


def test_customer_and_technician_principals_carry_their_ids(auth):
    exp = int(time.time()) + 600
    c = auth.verify_token(signed({"roles": ["customer"], "customer_id": "C-1", "exp": exp}, KEY))
    assert c.customer_id == "C-1" and c.technician_id is None and not c.is_staff
    t = auth.verify_token(signed({"roles": ["technician"], "technician_id": "TECH-9", "exp": exp}, KEY))
    assert t.technician_id == "TECH-9"
    for roles in (["customer"], ["technician"]):
        with pytest.raises(Problem) as e:
            auth.verify_token(signed({"roles": roles, "exp": exp}, KEY))
        assert e.value.status == 403
    with pytest.raises(Problem):  # an id claim is an id, not a query
        auth.verify_token(signed({"roles": ["customer"], "customer_id": "C-1' OR 1=1", "exp": exp}, KEY))


def test_a_token_cannot_claim_the_partner_role(auth):
    p = auth.verify_token(signed({"roles": ["partner", "agent"], "exp": int(time.time()) + 60}, KEY))
    assert p.roles == frozenset({"agent"})


def test_the_portal_role_reaches_exactly_finding_a_customer_and_sending_a_code(auth):
    from fixflow_shared.policy import POLICY, Reach

    p = auth.verify_token(signed({"sub": "portal", "roles": ["portal"], "exp": int(time.time()) + 120}, KEY))
    assert p.roles == frozenset({"portal"}) and not p.is_staff and p.customer_id is None
    allowed = {action for action, rule in POLICY.items() if rule.reach(p.roles) is not None}
    assert allowed == {"customers.search", "sign_in_codes.send"}
    assert POLICY["customers.search"].reach(p.roles) is Reach.TENANT


# --- partner keys ------------------------------------------------------------------------------------


def test_partner_keys_are_configured_as_hashes_with_an_id_and_scopes(monkeypatch):
    key = "ffk_" + "x" * 43
    entry = {"id": "acme-logistics", "tenant": "acme", "scopes": ["pickups:read"], "sha256": hash_api_key(key)}
    monkeypatch.setenv("FIXFLOW_PARTNER_API_KEYS", json.dumps([entry]))
    s = settings()
    assert key not in s.model_dump_json()
    p = Authenticator(s).verify_api_key(key)
    assert (p.tenant, p.subject, p.scopes, p.roles) == (
        "acme",
        "partner:acme-logistics",
        frozenset({"pickups:read"}),
        frozenset({"partner"}),
    )
    assert key[:4] not in p.subject.removeprefix("partner:")  # the subject holds no characters of the key
    with pytest.raises(Problem) as e:
        Authenticator(s).verify_api_key("ffk_" + "y" * 43)
    assert e.value.status == 401


def test_partner_keys_name_known_scopes_and_no_plain_keys():
    with pytest.raises(ValueError, match="unknown scopes"):
        settings(partner_api_keys=[{"id": "a", "tenant": "t", "scopes": ["everything"], "sha256": "0" * 64}])
    with pytest.raises(ValueError):  # the old {"<key>": "<tenant>"} form kept the key itself
        settings(partner_api_keys={"k-123456": "acme"})


def test_the_cli_makes_a_partner_key_and_its_entry():
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "fixflow_shared.auth",
            "partner-key",
            "--id",
            "acme",
            "--tenant",
            "t1",
            "--scopes",
            "tickets:open,tickets:read",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    key = out.split("key:")[1].split()[0]
    entry = json.loads(out.split("entry:")[1])
    assert entry["sha256"] == hash_api_key(key) and key not in json.dumps(entry)
    assert Authenticator(settings(partner_api_keys=[entry])).verify_api_key(key).subject == "partner:acme"


def test_the_cli_prints_customer_and_technician_tokens(monkeypatch):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "fixflow_shared.auth", *args], capture_output=True, text=True)

    token = run("--tenant", "t1", "--roles", "customer", "--customer-id", "C-7").stdout.strip()
    p = Authenticator(settings()).verify_token(token)  # both read this session's FIXFLOW_JWT_DEV_SECRET
    assert (p.tenant, p.customer_id, p.roles) == ("t1", "C-7", frozenset({"customer"}))
    token = run("--roles", "technician", "--technician-id", "TECH-1").stdout.strip()
    assert Authenticator(settings()).verify_token(token).technician_id == "TECH-1"
    assert run("--roles", "customer").returncode != 0  # a customer token needs its customer
    assert run("--ttl", str(13 * 3600)).returncode != 0


# --- secrets -----------------------------------------------------------------------------------------


def test_the_old_public_development_key_signs_nothing():
    token = dev_token(tenant="acme", roles=["admin"], secret=OLD_PUBLIC_DEV_KEY)
    with pytest.raises(Problem) as e:
        Authenticator(settings()).verify_token(token)
    assert e.value.status == 401
    assert ServiceSettings.model_fields["jwt_dev_secret"].default is None


def test_production_refuses_to_start_without_its_secrets():
    with pytest.raises(ValueError, match="FIXFLOW_OIDC_ISSUER"):
        settings(environment="production")
    assert settings(**PROD).jwt_keys() is None  # development tokens are off in production


def test_development_generates_its_secrets_once_per_checkout(tmp_path, monkeypatch):
    monkeypatch.delenv("FIXFLOW_JWT_DEV_SECRET", raising=False)
    monkeypatch.setenv("FIXFLOW_SECRETS_FILE", str(tmp_path / "secrets.env"))
    first = settings().jwt_keys().signing_key
    assert (tmp_path / "secrets.env").stat().st_mode & 0o077 == 0  # readable by its owner only
    assert settings().jwt_keys().signing_key == first  # read back, not generated again
    monkeypatch.setenv("FIXFLOW_SECRETS_FILE", str(tmp_path / "other.env"))
    assert settings().jwt_keys().signing_key != first  # another checkout, another key


def test_a_rotated_jwt_key_is_accepted_for_its_grace_period_only():
    old, new = "o" * 40, "n" * 40
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    ring = json.dumps([new, {"key": old, "until": until}])
    token_old = dev_token(tenant="acme", roles=["agent"], secret=old)
    assert Authenticator(settings(jwt_dev_secret=ring)).verify_token(token_old).tenant == "acme"
    assert Authenticator(settings(jwt_dev_secret=ring)).verify_token(dev_token(tenant="a", roles=[], secret=new))
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    with pytest.raises(Problem):
        Authenticator(settings(jwt_dev_secret=json.dumps([new, {"key": old, "until": past}]))).verify_token(token_old)


def test_key_rings_refuse_short_or_expiring_signing_keys():
    with pytest.raises(UnusableKeys):
        KeyRing.parse("short")
    with pytest.raises(UnusableKeys):
        KeyRing.parse(json.dumps([{"key": "k" * 40, "until": "2030-01-01T00:00:00Z"}]))
    with pytest.raises(ValueError):
        settings(jwt_dev_secret="too-short")
