"""The administrators' dead-letter page: every service's dead letters in one list (a service that
does not answer is named, the others still show), one shown with headers and body, replayed or
discarded through the service's audited admin API; other roles never see it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

LETTER_ID = "fixflow.dispatch.work-orders.dlq:0:17"
LETTER: dict[str, Any] = {
    "id": LETTER_ID,
    "dlq_topic": "fixflow.dispatch.work-orders.dlq",
    "source_topic": "fixflow.dispatch.work-orders",
    "consumer_group": "billing",
    "reason": "no fee schedule for tenant acme",
    "error": "LookupError",
    "event_id": "E-1",
    "event_type": "fixflow.dispatch.work-order.completed.v1",
    "subject": "T-1",
    "tenant_id": "acme",
    "dead_lettered_at": "2026-11-30T09:00:00+00:00",
    "key": "T-1",
    "status": "pending",
    "actions": [],
}


class FakeServices:
    """billing holds one dead letter; notify answers none; insight is away; the others have none."""

    def __init__(self) -> None:
        self.letter = dict(LETTER)
        self.posts: list[tuple[str, str, dict[str, Any], str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        service, path = request.url.host, request.url.path
        if service == "insight":
            raise httpx.ConnectError("connection refused", request=request)
        mine = service == "billing"
        if request.method == "GET" and path == "/v1/admin/dead-letters":
            wanted = request.url.params.get("status", "pending")
            show = mine and wanted in ("all", self.letter["status"])
            return httpx.Response(200, json=[self.letter] if show else [])
        if mine and path == f"/v1/admin/dead-letters/{LETTER_ID}":
            body = {"type": "fixflow.dispatch.work-order.completed.v1", "data": {"ticket_id": "T-1"}}
            return httpx.Response(
                200, json={**self.letter, "headers": {"x-dlq-reason": LETTER["reason"]}, "body": body}
            )
        if mine and request.method == "POST" and path.startswith(f"/v1/admin/dead-letters/{LETTER_ID}/"):
            action = path.rsplit("/", 1)[1]
            sent = json.loads(request.content)
            self.posts.append((service, action, sent, request.headers["authorization"]))
            if self.letter["status"] != "pending" and not sent.get("force"):
                return httpx.Response(
                    409,
                    json={"title": "Already handled", "status": 409, "detail": "replay again with force"},
                    headers={"content-type": "application/problem+json"},
                )
            self.letter["status"] = "replayed" if action == "replay" else "discarded"
            self.letter["actions"] = [
                *self.letter["actions"],
                {"action": self.letter["status"], "actor": "li", "note": sent["note"], "at": "2026-11-30T10:00:00Z"},
            ]
            return httpx.Response(200, json=self.letter)
        return httpx.Response(404, json={"title": "Not found", "status": 404, "detail": path})


@pytest.fixture
async def console_as(console: Any, sign_in: Any) -> Callable[..., Awaitable[tuple[httpx.AsyncClient, FakeServices]]]:
    async def make(roles: tuple[str, ...], lang: str = "en") -> tuple[httpx.AsyncClient, FakeServices]:
        c = await console(timezone="UTC")
        fake = FakeServices()
        services = c.app.state.services
        await services.http.aclose()
        services.http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
        for client in services.all():
            client.http = services.http
            client.base_url = f"http://{client.name}"
        c.headers["X-CSRF-Token"] = await sign_in(c, roles=roles)
        c.headers["Accept-Language"] = lang
        return c, fake

    return make


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
async def test_an_admin_lists_and_opens_the_dead_letters_of_every_service(console_as: Any, lang: str) -> None:
    c, _ = await console_as(("admin",), lang)
    page = await c.get("/dead-letters")
    assert page.status_code == 200, page.text[-500:]
    assert "no fee schedule for tenant acme" in page.text and f'href="/dead-letters/billing/{LETTER_ID}"' in page.text
    assert 'data-status="503"' in page.text and "insight" in page.text, "the service that did not answer is named"
    assert 'href="/dead-letters"' in page.text, "in the navigation"
    shown = await c.get(f"/dead-letters/billing/{LETTER_ID}")
    assert (
        shown.status_code == 200 and "x-dlq-reason" in shown.text and "&#34;ticket_id&#34;: &#34;T-1&#34;" in shown.text
    )
    assert (await c.get("/dead-letters?status=replayed")).text.count(f"/dead-letters/billing/{LETTER_ID}") == 0
    if lang == "zh-CN":
        assert "死信" in page.text and "待处理" in page.text


async def test_a_replay_goes_to_the_service_with_the_note_and_a_second_is_refused_in_place(console_as: Any) -> None:
    c, fake = await console_as(("admin",))
    r = await c.post(f"/dead-letters/billing/{LETTER_ID}/replay", data={"note": "fee schedule loaded"})
    assert r.status_code == 200 and "Replayed to its source topic." in r.text
    assert 'id="dl-status">Replayed' in r.text and "fee schedule loaded" in r.text, "the audit shows"
    [(service, action, sent, auth)] = fake.posts
    assert (service, action, sent) == ("billing", "replay", {"note": "fee schedule loaded", "force": False})
    assert auth.startswith("Bearer "), "the administrator's own token: the service audits who did it"
    again = await c.post(f"/dead-letters/billing/{LETTER_ID}/replay", data={"note": "twice"})
    assert again.status_code == 422 and "Already handled" in again.text and "twice" in again.text
    forced = await c.post(f"/dead-letters/billing/{LETTER_ID}/replay", data={"note": "again", "force": "true"})
    assert forced.status_code == 200 and fake.posts[-1][2] == {"note": "again", "force": True}


async def test_a_discard_is_recorded(console_as: Any) -> None:
    c, fake = await console_as(("admin",))
    r = await c.post(f"/dead-letters/billing/{LETTER_ID}/discard", data={"note": "superseded"})
    assert r.status_code == 200 and "Discarded." in r.text
    assert fake.posts == [("billing", "discard", {"note": "superseded"}, fake.posts[0][3])]


async def test_other_roles_neither_see_nor_act(console_as: Any) -> None:
    c, fake = await console_as(("agent", "dispatcher", "manager"))
    assert 'href="/dead-letters"' not in (await c.get("/tickets")).text
    assert (await c.get("/dead-letters")).status_code == 403
    assert (await c.post(f"/dead-letters/billing/{LETTER_ID}/replay", data={"note": "x"})).status_code == 403
    assert fake.posts == []
