"""Auth, PII masking and problem documents (pure, no I/O)."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanContext

from fixflow_shared.auth import DEV_AUDIENCE, DEV_ISSUER, Authenticator, dev_token
from fixflow_shared.errors import Forbidden, Unauthorized
from fixflow_shared.logs import get_logger, mask_pii, setup_logging
from fixflow_shared.settings import ServiceSettings


def settings(**kw) -> ServiceSettings:
    return ServiceSettings(database_url="postgresql+asyncpg://x/y", http_port=1, **kw)


def key_of(s: ServiceSettings) -> str:
    return s.jwt_keys().signing_key.decode()


def test_dev_token_round_trip_gives_tenant_and_roles():
    s = settings()
    p = Authenticator(s).verify_token(dev_token(tenant="acme", roles=["agent", "bogus"], secret=key_of(s)))
    assert p.tenant == "acme" and p.roles == frozenset({"agent"})  # unknown roles dropped


def test_dev_tokens_are_refused_in_production():
    dev_key = key_of(settings())
    s = settings(
        environment="production",
        oidc_issuer="https://login.test",
        oidc_audience="fixflow",
        oidc_jwks_url="https://login.test/certs",
    )
    token = dev_token(tenant="acme", roles=["admin"], secret=dev_key)
    with pytest.raises(Unauthorized) as e:
        Authenticator(s).verify_token(token)
    assert e.value.status == 401


@pytest.mark.parametrize(
    "claims",
    [
        {"tenant": "a", "iat": int(time.time()) - 4000, "exp": int(time.time()) - 600},  # expired
        {"tenant": "a", "aud": "someone-else"},
        {"exp": int(time.time()) + 60},  # no tenant
    ],
)
def test_bad_tokens_are_rejected(claims):
    s = settings()
    body = {"sub": "x", "iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "roles": ["agent"], **claims}
    with pytest.raises((Unauthorized, Forbidden)) as e:
        Authenticator(s).verify_token(jwt.encode(body, key_of(s), algorithm="HS256"))
    assert e.value.status in (401, 403)


def test_forged_signature_is_rejected():
    s = settings()
    token = dev_token(tenant="a", roles=["admin"], secret="another-key-of-sufficient-length-0123456789")
    with pytest.raises(Unauthorized):
        Authenticator(s).verify_token(token)


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("mail li.wei@example.com now", "mail l***@example.com now"),
        ("call 13812345678", "call 138****5678"),
        ("call +86 13812345678", "call +86 138****5678"),
        ("ticket T-123 for order 42", "ticket T-123 for order 42"),
    ],
)
def test_pii_is_masked(raw, masked):
    assert mask_pii(raw) == masked


def test_log_lines_mask_pii_but_keep_trace_ids_whole(capsys):
    # this trace id holds the run 08023250657, which the phone pattern would mask
    trace_id = 0xEA08023250657D2FC9A1A19FF72F9B49
    setup_logging("probe")
    span = trace.NonRecordingSpan(SpanContext(trace_id=trace_id, span_id=0x1234, is_remote=False))
    with trace.use_span(span):
        get_logger("probe").info("sent", to="13812345678")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["trace_id"] == format(trace_id, "032x") and line["to"] == "138****5678"


def test_the_runtime_connects_to_every_broker_of_a_comma_separated_bootstrap_list():
    # FastStream took the string as one host name, "a:1,b:2,c:3", so a service could not start on a
    # three-broker cluster (found by bench/chaos.py).
    from sqlalchemy import MetaData

    from fixflow_shared.db import add_audit_table, add_messaging_tables
    from fixflow_shared.deadletters.box import add_dead_letter_table
    from fixflow_shared.runtime import ServiceRuntime

    metadata = MetaData()
    add_messaging_tables(metadata)
    add_dead_letter_table(metadata)
    add_audit_table(metadata)
    s = settings(kafka_bootstrap_servers="127.0.0.1:9101, 127.0.0.1:9102,127.0.0.1:9103")
    runtime = ServiceRuntime(name="plumbing", settings=s, metadata=metadata)
    assert runtime.broker._connection_kwargs["bootstrap_servers"] == [
        "127.0.0.1:9101",
        "127.0.0.1:9102",
        "127.0.0.1:9103",
    ]
