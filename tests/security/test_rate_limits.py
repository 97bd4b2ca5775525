"""The public survey answer link is rate-limited per tenant and client address, and per client:
guessing tokens (or spraying them across tenants) gets 429 problem+json with Retry-After."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import httpx

from fixflow_shared.keys import KeyRing
from survey.domain.tokens import TokenClaims, TokenSigner

SIGNER = TokenSigner(KeyRing.parse(os.environ["SURVEY_ANSWER_TOKEN_SECRETS"]))


def token(tenant: str) -> str:
    claims = TokenClaims(
        survey_id="S-none", tenant_id=tenant, nonce="n", expires_at=datetime.now(UTC) + timedelta(days=1)
    )
    return SIGNER.sign(claims)


def client_from(app, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://survey")


async def test_guessing_answer_links_is_slowed_down(apps):
    settings = apps["survey"].state.runtime.settings
    async with (
        client_from(apps["survey"], "203.0.113.7") as guesser,
        client_from(apps["survey"], "203.0.113.8") as other,
    ):
        answers = [
            (await guesser.get(f"/v1/public/surveys/forged{i}.AAAA")).status_code
            for i in range(settings.public_rate_per_minute + 1)
        ]
        assert answers[:-1] == [401] * settings.public_rate_per_minute and answers[-1] == 429
        r = await guesser.post("/v1/public/surveys/forged.AAAA/answers", json={"scores": {"overall": 5}})
        assert r.status_code == 429 and r.headers["content-type"].startswith("application/problem+json")
        assert 1 <= int(r.headers["retry-after"]) <= 61
        assert (await other.get("/v1/public/surveys/forged.AAAA")).status_code == 401  # another client is not slowed


async def test_spraying_across_tenants_hits_the_per_client_limit(apps):
    settings = apps["survey"].state.runtime.settings
    async with client_from(apps["survey"], "203.0.113.9") as sprayer:
        seen = [
            (await sprayer.get(f"/v1/public/surveys/{token(f'tenant-{i}')}")).status_code
            for i in range(settings.public_rate_per_client_per_minute + 1)
        ]
    assert set(seen[:-1]) == {404} and seen[-1] == 429
