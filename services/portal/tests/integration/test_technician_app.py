"""The technician app: the day in route order, and the one endpoint the device's queue sends each
action to, with its Idempotency-Key carried into every dispatch call (one key per call)."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC).replace(microsecond=0)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
SIGNATURE = {"id": "sig-0123456789abcdef", "data": "data:image/png;base64," + base64.b64encode(PNG).decode()}


def wo(status: str = "on_site", technician_id: str = "TEC-1") -> dict[str, Any]:
    return {
        "id": "WO-1",
        "job_id": "J-1",
        "ticket_id": "T-1",
        "technician_id": technician_id,
        "visit_number": 1,
        "status": status,
        "planned_start": NOW.isoformat(),
        "planned_end": (NOW + timedelta(hours=1)).isoformat(),
        "arrived_at": None,
    }


def row(wo_id: str, technician_id: str, planned: datetime) -> dict[str, Any]:
    return {
        "id": f"AP-{wo_id}",
        "job_id": "J",
        "ticket_id": f"T-{wo_id}",
        "technician_id": technician_id,
        "window_start": planned.isoformat(),
        "window_end": (planned + timedelta(hours=2)).isoformat(),
        "status": "booked",
        "kind": "repair",
        "lat": 31.2,
        "lon": 121.4,
        "work_order_id": wo_id,
        "work_order_status": "assigned",
        "planned_start": planned.isoformat(),
        "planned_end": (planned + timedelta(hours=1)).isoformat(),
    }


async def test_my_day_lists_only_my_visits_in_the_order_of_the_plan(portal, fake, sign_in):
    fake.on(
        "dispatch",
        "GET",
        "/v1/appointments",
        [
            row("WO-LATE", "TEC-1", NOW + timedelta(hours=3)),
            row("WO-OTHER", "TEC-2", NOW + timedelta(hours=1)),
            row("WO-EARLY", "TEC-1", NOW + timedelta(hours=1)),
        ],
    )
    client = await portal()
    await sign_in(client, role="technician", who="TEC-1")
    page = await client.get("/tech")
    assert page.status_code == 200
    text = page.text
    assert "WO-OTHER" not in text and text.index("/tech/jobs/WO-EARLY") < text.index("/tech/jobs/WO-LATE")
    assert "geo:31.2,121.4" in text
    [call] = fake.made("dispatch", "GET", "/v1/appointments")
    assert call.claims["technician_id"] == "TEC-1" and call.claims["roles"] == ["technician"]


async def act(client: Any, session: Any, kind: str, data: dict[str, Any], key: str | None = "key-00000001") -> Any:
    headers = {"X-CSRF-Token": session.csrf}
    if key:
        headers["Idempotency-Key"] = key
    return await client.post("/tech/api/work-orders/WO-1/actions", json={"kind": kind, "data": data}, headers=headers)


async def test_completion_sends_the_work_then_the_sign_off_each_with_its_own_key(portal, fake, sign_in):
    fake.on("dispatch", "GET", "/v1/work-orders/WO-1", wo())
    fake.on("dispatch", "POST", "/v1/work-orders/WO-1/work", wo())
    fake.on("dispatch", "POST", "/v1/work-orders/WO-1/attachments", {"id": "AT-sig", "sha256": "x"})
    fake.on("dispatch", "POST", "/v1/work-orders/WO-1/completion", wo("completed"))
    client = await portal()
    session = await sign_in(client, role="technician", who="TEC-1")
    data = {
        "resolution_code": "part_replaced",
        "signed_by": "Chen Jing",
        "signed_at": NOW.isoformat(),
        "signature": SIGNATURE,
        "rating": 5,
        "diagnosis": "pump seal cracked",
        "labour_minutes": 40,
        "parts": [{"part_code": "PUMP-W1", "quantity": 1}],
    }
    r = await act(client, session, "complete", data)
    assert r.status_code == 200 and r.json() == {"ok": True, "kind": "complete", "work_order_status": "completed"}
    [work] = fake.made("dispatch", "POST", "/v1/work-orders/WO-1/work")
    [done] = fake.made("dispatch", "POST", "/v1/work-orders/WO-1/completion")
    assert work.headers["idempotency-key"] == "key-00000001:1" and done.headers["idempotency-key"] == "key-00000001:2"
    assert work.body == {
        "parts": [{"part_code": "PUMP-W1", "quantity": 1, "source": "van_stock"}],
        "labour_minutes": 40,
        "diagnosis": "pump seal cracked",
    }
    assert done.body == {
        "resolution_code": "part_replaced",
        "signed_by": "Chen Jing",
        "signed_at": NOW.isoformat(),
        "signature_sha256": hashlib.sha256(PNG).hexdigest(),
        "rating": 5,
    }
    # the image itself goes before the sign-off, which dispatch links to it by the hash
    [sig] = fake.made("dispatch", "POST", "/v1/work-orders/WO-1/attachments")
    assert sig.params == {"kind": "signature"} and sig.body == PNG
    assert sig.headers["content-type"] == "image/png" and sig.headers["idempotency-key"] == "key-00000001:3"
    order = [c.path.rsplit("/", 1)[-1] for c in fake.made("dispatch", "POST")]
    assert order == ["work", "attachments", "completion"]


CHECKLIST = {
    "code": "inspection",
    "title": "Inspection",
    "default": True,
    "fields": [
        {"key": "working_after", "label": "Appliance works after the visit", "type": "yes_no", "required": True},
        {"key": "photo_after", "label": "Photo after the work", "type": "photo", "required": True},
        {"key": "remarks", "label": "Remarks", "type": "text", "required": False},
    ],
    "answers": {},
    "missing": ["working_after", "photo_after"],
}


async def test_a_photo_taken_offline_answers_the_checklist_under_dispatchs_id(portal, fake, sign_in):
    """The device names the photo by its own id; the portal uploads it, remembers dispatch's id and
    puts that into the checklist's answers and the sign-off."""
    fake.on("dispatch", "GET", "/v1/work-orders/WO-1", wo())
    fake.on("dispatch", "GET", "/v1/work-orders/WO-1/checklist", CHECKLIST)
    fake.on("dispatch", "POST", "/v1/work-orders/WO-1/attachments", {"id": "AT-photo-1"})
    fake.on("dispatch", "POST", "/v1/work-orders/WO-1/checklist", {**CHECKLIST, "missing": []})
    fake.on("dispatch", "POST", "/v1/work-orders/WO-1/completion", wo("completed"))
    client = await portal()
    session = await sign_in(client, role="technician", who="TEC-1")
    photo = {"id": "ph-0123456789abcdef", "data": SIGNATURE["data"]}
    r = await act(client, session, "photo", {"image": photo, "caption": "after"}, key="key-photo-01")
    assert r.status_code == 200, r.text
    [up] = fake.made("dispatch", "POST", "/v1/work-orders/WO-1/attachments")
    assert up.params == {"kind": "photo", "caption": "after"} and up.body == PNG
    answers = {"working_after": False, "photo_after": photo["id"], "remarks": "door seal replaced"}
    r = await act(client, session, "checklist", {"answers": answers}, key="key-checklist-01")
    assert r.status_code == 200, r.text
    [sent] = fake.made("dispatch", "POST", "/v1/work-orders/WO-1/checklist")
    assert sent.body == {"answers": {**answers, "photo_after": "AT-photo-1"}}
    # a photo the device never sent cannot answer: the technician is told, nothing goes to dispatch
    r = await act(client, session, "checklist", {"answers": {"photo_after": "ph-never-sent-000"}}, key="key-cl-02")
    assert r.status_code == 422 and "photo_after" in r.json()["detail"]
    assert len(fake.made("dispatch", "POST", "/v1/work-orders/WO-1/checklist")) == 1
    done = {
        "resolution_code": "repaired",
        "signed_by": "Chen Jing",
        "signed_at": NOW.isoformat(),
        "signature": SIGNATURE,
        "answers": answers,
    }
    assert (await act(client, session, "complete", done, key="key-done-01")).status_code == 200
    [completion] = fake.made("dispatch", "POST", "/v1/work-orders/WO-1/completion")
    assert completion.body["checklist"] == {**answers, "photo_after": "AT-photo-1"}


async def test_completion_refused_for_the_checklist_is_shown_with_the_fields(portal, fake, sign_in, problem):
    fake.on("dispatch", "GET", "/v1/work-orders/WO-1", wo())
    fake.on("dispatch", "POST", "/v1/work-orders/WO-1/attachments", {"id": "AT-sig"})
    fake.on(
        "dispatch",
        "POST",
        "/v1/work-orders/WO-1/completion",
        problem(422, "Checklist incomplete", "Inspection: fill in Appliance works after the visit before completing"),
    )
    client = await portal()
    session = await sign_in(client, role="technician", who="TEC-1")
    done = {"resolution_code": "repaired", "signed_by": "A", "signed_at": NOW.isoformat(), "signature": SIGNATURE}
    r = await act(client, session, "complete", done)
    assert r.status_code == 422 and "Appliance works after the visit" in r.json()["detail"]


async def test_the_job_page_shows_the_job_kinds_checklist_with_the_answers_kept(portal, fake, sign_in):
    fake.on("dispatch", "GET", "/v1/work-orders/WO-1", wo())
    fake.on("dispatch", "GET", "/v1/technicians/TEC-1", {"id": "TEC-1", "van_stock": {}})
    fake.on("dispatch", "GET", "/v1/jobs/J-1", {"id": "J-1", "kind": "repair"})
    kept = {**CHECKLIST, "answers": {"working_after": False}, "missing": ["photo_after"]}
    fake.on("dispatch", "GET", "/v1/work-orders/WO-1/checklist", kept)
    client = await portal()
    await sign_in(client, role="technician", who="TEC-1")
    page = await client.get("/tech/jobs/WO-1")
    assert page.status_code == 200
    text = page.text
    assert 'id="checklist"' in text and "Appliance works after the visit *" in text
    assert 'data-required="photo_after"' in text and 'data-required="remarks"' not in text
    assert 'value="no" data-item="working_after" data-bool checked' in text
    assert 'capture="environment" data-photo="Photo after the work"' in text


async def test_a_replay_sends_the_same_calls_with_the_same_keys(portal, fake, sign_in):
    """The device resends an action whose answer it never got: the same keys go to dispatch, whose
    idempotency store answers the first result again (applied once)."""
    fake.on("dispatch", "GET", "/v1/work-orders/WO-1", wo("assigned"))
    fake.on("dispatch", "POST", "/v1/work-orders/WO-1/en-route", wo("en_route"))
    client = await portal()
    session = await sign_in(client, role="technician", who="TEC-1")
    for _ in range(2):
        assert (await act(client, session, "en_route", {}, key="key-replayed")).status_code == 200
    calls = fake.made("dispatch", "POST", "/v1/work-orders/WO-1/en-route")
    assert [c.headers["idempotency-key"] for c in calls] == ["key-replayed", "key-replayed"]
    assert calls[0].body == calls[1].body


async def test_a_job_reassigned_meanwhile_is_a_conflict_and_nothing_is_sent(portal, fake, sign_in):
    fake.on("dispatch", "GET", "/v1/work-orders/WO-1", wo("assigned", technician_id="TEC-2"))
    client = await portal()
    session = await sign_in(client, role="technician", who="TEC-1")
    r = await act(client, session, "arrive", {"lat": 31.2, "lon": 121.4})
    assert r.status_code == 409 and r.json()["reason"] == "reassigned"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert fake.made("dispatch", "POST") == []


async def test_a_refusal_by_dispatch_comes_back_as_a_conflict_with_the_state(portal, fake, sign_in, problem):
    fake.on("dispatch", "GET", "/v1/work-orders/WO-1", wo("assigned"))
    fake.on("dispatch", "POST", "/v1/work-orders/WO-1/arrival", problem(409, "Illegal transition", "not en route"))
    client = await portal()
    session = await sign_in(client, role="technician", who="TEC-1")
    r = await act(client, session, "arrive", {})
    assert r.status_code == 409 and r.json()["reason"] == "changed" and r.json()["work_order_status"] == "assigned"


@pytest.mark.parametrize(
    ("kind", "data", "key"),
    [
        ("en_route", {}, None),
        ("teleport", {}, "key-00000002"),
        ("complete", {"resolution_code": "repaired", "signed_by": "x", "signed_at": "now"}, "key-00000003"),
        ("needs_parts", {"parts": []}, "key-00000004"),
    ],
)
async def test_a_wrong_action_is_refused_with_the_reason(portal, fake, sign_in, kind, data, key):
    fake.on("dispatch", "GET", "/v1/work-orders/WO-1", wo())
    client = await portal()
    session = await sign_in(client, role="technician", who="TEC-1")
    r = await act(client, session, kind, data, key=key)
    assert r.status_code == 422 and r.json()["detail"]
    assert fake.made("dispatch", "POST") == []


async def test_the_queue_needs_the_session_and_its_csrf_token(portal, fake, sign_in):
    client = await portal()
    r = await client.post("/tech/api/work-orders/WO-1/actions", json={"kind": "en_route", "data": {}})
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    await sign_in(client, role="technician", who="TEC-1")
    r = await client.post(
        "/tech/api/work-orders/WO-1/actions",
        json={"kind": "en_route", "data": {}},
        headers={"Idempotency-Key": "key-00000009"},
    )
    assert r.status_code == 403 and fake.calls == []


async def test_a_customer_session_cannot_use_the_technician_app(portal, fake, sign_in):
    client = await portal()
    await sign_in(client)
    r = await client.get("/tech")
    assert r.status_code == 303 and r.headers["location"].startswith("/tech/sign-in")


async def test_the_app_is_installable_and_its_worker_covers_the_app_only(portal):
    client = await portal()
    manifest = (await client.get("/tech/manifest.webmanifest")).json()
    assert manifest["start_url"] == "/tech" and manifest["scope"] == "/tech" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert (await client.get(icon["src"])).status_code == 200
    sw = await client.get("/tech/sw.js")
    assert sw.status_code == 200 and sw.headers["service-worker-allowed"] == "/tech"
    assert sw.headers["cache-control"] == "no-cache"
    csp = (await client.get("/tech/sign-in")).headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp, "every asset from the portal itself"


async def test_the_queue_is_told_to_retry_while_redis_restarts(portal, fake, sign_in):
    """The sessions' store out of reach is the services' 503 with Retry-After and a trace id, not a bare
    500: the app keeps the action and sends it again."""
    import httpx
    from redis.asyncio import Redis

    client = await portal()
    session = await sign_in(client, role="technician", who="TEC-1")
    app: Any = client.app  # type: ignore[attr-defined]
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    app.state.sessions.redis = down
    raw = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://portal.test",
        cookies=client.cookies,
    )
    try:
        r = await act(raw, session, "en_route", {})
    finally:
        await raw.aclose()
        await down.aclose()
    assert r.status_code == 503 and r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["retry-after"] == "1" and r.json()["title"]
    assert fake.made("dispatch", "POST") == []
