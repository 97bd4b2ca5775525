"""The public answer link against real PostgreSQL/Redis: single use, expiry, forgery, bad input."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from fixflow_shared.clock import SettableClock
from survey.domain.tokens import TokenClaims, TokenSigner
from survey.service_layer import handlers

from .helpers import count_rows, get_survey, sent_survey

pytestmark = pytest.mark.integration

GOOD = {
    "scores": {"timeliness": 5, "professionalism": 5, "attitude": 5, "effectiveness": 4, "overall": 5},
    "nps": 9,
    "comment": "师傅很专业",
}


@pytest.fixture
def tenant() -> str:
    return "t-" + uuid.uuid4().hex[:8]


@pytest.fixture
def rt(survey_app):
    runtime, app = survey_app
    return runtime, app.state.services


def is_problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["type"].startswith("urn:fixflow:problem:")
    return body


async def test_answer_once_then_reuse_is_409(client, rt, tenant):
    runtime, svc = rt
    s, token = await sent_survey(runtime, svc, tenant)
    page = await client.get(f"/v1/public/surveys/{token}")
    assert page.status_code == 200 and "overall" in page.json()["questions"]
    r = await client.post(f"/v1/public/surveys/{token}/answers", json=GOOD)
    assert r.status_code == 201, r.text
    assert (await get_survey(runtime, tenant, s.id)).status.value == "completed"
    outbox = await count_rows(runtime, "outbox")
    body = is_problem(await client.post(f"/v1/public/surveys/{token}/answers", json=GOOD), 409)
    assert body["reason"] == "already_answered"
    is_problem(await client.get(f"/v1/public/surveys/{token}"), 409)
    assert await count_rows(runtime, "outbox") == outbox
    assert await count_rows(runtime, "survey_responses", tenant) == 1


async def test_an_answer_from_a_browser_without_traceparent_stays_in_the_tickets_trace(client, rt, tenant):
    runtime, svc = rt
    ticket_trace = uuid.uuid4().hex
    s, token = await sent_survey(
        runtime, svc, tenant, trace_headers={"traceparent": f"00-{ticket_trace}-{uuid.uuid4().hex[:16]}-01"}
    )
    r = await client.post(f"/v1/public/surveys/{token}/answers", json=GOOD)  # no traceparent header
    assert r.status_code == 201, r.text
    from sqlalchemy import text

    async with runtime.uow() as uow:
        headers = await uow.session.scalar(
            text("SELECT headers FROM outbox WHERE key = :k AND event_type = 'fixflow.survey.survey.completed.v1'"),
            {"k": s.ticket_id},
        )
    assert headers["traceparent"].split("-")[1] == ticket_trace


async def test_concurrent_answers_one_wins(client, rt, tenant):
    runtime, svc = rt
    _, token = await sent_survey(runtime, svc, tenant)
    rs = await asyncio.gather(*(client.post(f"/v1/public/surveys/{token}/answers", json=GOOD) for _ in range(5)))
    assert sorted(r.status_code for r in rs) == [201, 409, 409, 409, 409]
    assert await count_rows(runtime, "survey_responses", tenant) == 1


def mangle_signature(token: str) -> str:
    body, sig = token.split(".")
    return body + "." + ("A" if sig[0] != "A" else "B") + sig[1:]


async def test_forged_tokens(client, rt, tenant):
    runtime, svc = rt
    s, token = await sent_survey(runtime, svc, tenant)
    other_key = TokenSigner(["an-attackers-own-key-123"]).sign(
        TokenClaims(survey_id=s.id, tenant_id=tenant, nonce=s.token_nonce, expires_at=s.expires_at)
    )
    wrong_nonce = svc.links.signer.sign(
        TokenClaims(survey_id=s.id, tenant_id=tenant, nonce="x", expires_at=s.expires_at)
    )
    unknown = svc.links.signer.sign(
        TokenClaims(survey_id="S-nope", tenant_id=tenant, nonce="x", expires_at=s.expires_at)
    )
    other_tenant = svc.links.signer.sign(
        TokenClaims(survey_id=s.id, tenant_id="t-other", nonce=s.token_nonce, expires_at=s.expires_at)
    )
    outbox = await count_rows(runtime, "outbox")
    for forged, status in [
        (mangle_signature(token), 401),
        (other_key, 401),
        ("not-a-token", 401),
        ("a" * 3000, 401),
        (wrong_nonce, 401),
        (unknown, 404),
        (other_tenant, 404),
    ]:
        is_problem(await client.post(f"/v1/public/surveys/{forged}/answers", json=GOOD), status)
    assert await count_rows(runtime, "outbox") == outbox
    assert (await get_survey(runtime, tenant, s.id)).status.value == "sent"
    assert await count_rows(runtime, "survey_responses", tenant) == 0


async def test_expired_link_and_expired_survey_are_410(client, rt, tenant):
    runtime, svc = rt
    s, _ = await sent_survey(runtime, svc, tenant)
    stale = svc.links.signer.sign(
        TokenClaims(
            survey_id=s.id, tenant_id=tenant, nonce=s.token_nonce, expires_at=datetime.now(UTC) - timedelta(seconds=1)
        )
    )
    is_problem(await client.post(f"/v1/public/surveys/{stale}/answers", json=GOOD), 410)
    # The expiry timer fires: the survey is expired and its real link answers 410 too.
    await handlers.fire_timer(
        uow=runtime.uow(clock=SettableClock(s.expires_at + timedelta(seconds=1))),
        timer_id=f"expire:{s.id}",
        links=svc.links,
    )
    s2 = await get_survey(runtime, tenant, s.id)
    assert s2.status.value == "expired"
    is_problem(await client.post(f"/v1/public/surveys/{svc.links.token(s2)}/answers", json=GOOD), 410)
    assert await count_rows(runtime, "survey_responses", tenant) == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({**GOOD, "scores": {**GOOD["scores"], "overall": 6}}, 422),
        ({**GOOD, "scores": {**GOOD["scores"], "overall": 0}}, 422),
        ({**GOOD, "scores": {**GOOD["scores"], "overall": "5"}}, 422),
        ({**GOOD, "scores": {**GOOD["scores"], "overall": 4.5}}, 422),
        ({**GOOD, "scores": {**GOOD["scores"], "colour": 3}}, 422),
        ({**GOOD, "nps": 11}, 422),
        ({**GOOD, "nps": -1}, 422),
        ({**GOOD, "comment": "太差" * 1001}, 422),
        ({**GOOD, "extra": 1}, 422),
        ({"scores": {}}, 422),
        ({"scores": {"timeliness": 3}}, 422),  # overall is required (domain rule)
        (b'{"scores": ', 400),
    ],
)
async def test_bad_input_is_problem_json_and_writes_nothing(client, rt, tenant, body, status):
    runtime, svc = rt
    s, token = await sent_survey(runtime, svc, tenant)
    outbox = await count_rows(runtime, "outbox")
    if isinstance(body, bytes):
        r = await client.post(
            f"/v1/public/surveys/{token}/answers", content=body, headers={"content-type": "application/json"}
        )
    else:
        r = await client.post(f"/v1/public/surveys/{token}/answers", json=body)
    is_problem(r, status)
    assert await count_rows(runtime, "outbox") == outbox
    assert (await get_survey(runtime, tenant, s.id)).status.value == "sent"
    assert await count_rows(runtime, "survey_responses", tenant) == 0
    # the link still works afterwards
    assert (await client.post(f"/v1/public/surveys/{token}/answers", json=GOOD)).status_code == 201
