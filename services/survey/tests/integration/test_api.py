"""Plans, reports, revisits, agent endpoints and timers against real PostgreSQL/Redis."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from fixflow_shared.clock import SettableClock
from fixflow_shared.events import new_envelope
from fixflow_shared.events.contracts.intake import TicketReopened
from fixflow_shared.testing import auth_headers, eventually
from survey.adapters.repository import PlanRepository, SurveyRepository, TimerRepository
from survey.service_layer import handlers

from .helpers import get_survey, resolved_envelope, sent_survey

pytestmark = pytest.mark.integration


@pytest.fixture
def tenant() -> str:
    return "t-" + uuid.uuid4().hex[:8]


@pytest.fixture
def rt(survey_app):
    runtime, app = survey_app
    return runtime, app.state.services


def answers(overall: int, nps: int | None, low: int | None = None, comment: str | None = None) -> dict:
    scores = {"timeliness": 5, "professionalism": 5, "attitude": low or 5, "effectiveness": 5, "overall": overall}
    return {"scores": scores, "nps": nps, **({"comment": comment} if comment else {})}


async def test_plan_defaults_update_and_validation(client, tenant):
    mgr = auth_headers(tenant, "manager")
    plan = (await client.get("/v1/survey-plan", headers=auth_headers(tenant, "agent"))).json()
    assert plan["delay_working_days"] == 3 and plan["rule"]["max_bad_score"] == 2 and plan["channel"] == "sms"
    plan.update(
        delay_working_days=5, channel="email", rule={**plan["rule"], "max_bad_nps": 5, "complaint_words": ["垃圾"]}
    )
    r = await client.put("/v1/survey-plan", json=plan, headers=mgr)
    assert r.status_code == 200, r.text
    again = (await client.get("/v1/survey-plan", headers=mgr)).json()
    assert again["delay_working_days"] == 5 and again["rule"]["complaint_words"] == ["垃圾"]
    assert (await client.get("/v1/survey-plan", headers=auth_headers("t-other", "manager"))).json()[
        "delay_working_days"
    ] == 3
    # agents cannot change the plan; bad plans are 422
    assert (await client.put("/v1/survey-plan", json=plan, headers=auth_headers(tenant, "agent"))).status_code == 403
    for bad in (
        {**plan, "channel": "fax"},
        {**plan, "questions": ["timeliness"]},
        {**plan, "delay_working_days": -1},
        {**plan, "reminder_after_days": [9], "expires_after_days": 7},
        {**plan, "calendar": {"country": "XX"}},
        {**plan, "calendar": {"tz": "Mars/Olympus"}},
        {**plan, "bogus": 1},
    ):
        r = await client.put("/v1/survey-plan", json=bad, headers=mgr)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"] == "application/problem+json"


async def test_reports_praise_and_csv(client, rt, tenant):
    runtime, svc = rt
    cases = [
        ("tech-a", answers(5, 10)),
        ("tech-a", answers(4, 8)),
        ("tech-a", answers(2, 3, low=2)),
        ("tech-a", None),
        ("tech-b", answers(5, 9, comment="师傅很专业")),
        ("tech-b", None),
    ]
    for tech, body in cases:
        _, token = await sent_survey(runtime, svc, tenant, technician_id=tech)
        if body:
            r = await client.post(f"/v1/public/surveys/{token}/answers", json=body)
            assert r.status_code == 201, r.text
    h = auth_headers(tenant, "manager")
    rows = {
        r["group"]: r
        for r in (await client.get("/v1/reports/satisfaction?group_by=technician", headers=h)).json()["rows"]
    }
    a, b = rows["tech-a"], rows["tech-b"]
    assert (a["sent"], a["answered"], a["response_rate"]) == (4, 3, 75.0)
    assert a["satisfaction_rate"] == pytest.approx(66.67) and a["csat"] == pytest.approx(66.67)
    assert a["nps"] == pytest.approx(0.0)  # 1 promoter (10), 1 passive (8), 1 detractor (3)
    assert (b["response_rate"], b["satisfaction_rate"], b["nps"], b["praise"]) == (50.0, 100.0, 100.0, 1)
    month = (await client.get("/v1/reports/satisfaction?group_by=month", headers=h)).json()["rows"]
    assert len(month) == 1 and month[0]["sent"] == 6
    future = (
        await client.get("/v1/reports/satisfaction", params={"from": "2099-01-01T00:00:00+08:00"}, headers=h)
    ).json()
    assert future["rows"] == []
    praise = (await client.get("/v1/reports/praise?technician_id=tech-b", headers=h)).json()["entries"]
    assert [p["comment"] for p in praise] == ["师傅很专业"]
    csv = await client.get("/v1/reports/satisfaction.csv?group_by=technician", headers=h)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("group,sent,answered,response_rate,satisfaction_rate,csat,nps")
    assert lines[1].startswith("tech-a,4,3,75.0,66.67,66.67,0.0")
    # another tenant sees nothing; bad parameters are problem+json
    other = (await client.get("/v1/reports/satisfaction", headers=auth_headers("t-other", "manager"))).json()
    assert all(r["sent"] == 0 for r in other["rows"]) or other["rows"] == []
    for q in ("group_by=colour", "from=2025-01-01T00:00:00", "from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z"):
        r = await client.get(f"/v1/reports/satisfaction?{q}", headers=h)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", q
    assert (await client.get("/v1/reports/satisfaction", headers=auth_headers(tenant, "customer"))).status_code == 403
    assert (await client.get("/v1/reports/satisfaction")).status_code == 401


async def test_agent_phone_answers_and_tenant_isolation(client, rt, tenant):
    runtime, svc = rt
    s, _ = await sent_survey(runtime, svc, tenant)
    assert (await client.get(f"/v1/surveys/{s.id}", headers=auth_headers("t-other"))).status_code == 404
    r = await client.post(f"/v1/surveys/{s.id}/answers", json=answers(1, 0), headers=auth_headers("t-other"))
    assert r.status_code == 404
    r = await client.post(f"/v1/surveys/{s.id}/answers", json=answers(3, 7), headers=auth_headers(tenant))
    assert r.status_code == 201, r.text
    got = (await client.get(f"/v1/surveys/{s.id}", headers=auth_headers(tenant))).json()
    assert (
        got["status"] == "completed" and got["response"]["via"] == "phone" and got["response"]["dissatisfied"] is False
    )
    assert (
        await client.post(f"/v1/surveys/{s.id}/answers", json=answers(3, 7), headers=auth_headers(tenant))
    ).status_code == 409


async def test_major_issue_gets_a_follow_up_and_reopen_cancels_unsent(client, rt, tenant):
    runtime, svc = rt
    env = resolved_envelope(tenant, major=True, resolved_at=datetime.now(UTC) - timedelta(hours=1))
    await svc.scheduled(await handlers.schedule_for_resolution(uow=runtime.uow(), envelope=env, event=env.payload()))
    # same event again (redelivery): nothing new
    assert await handlers.schedule_for_resolution(uow=runtime.uow(), envelope=env, event=env.payload()) == []
    got = (await client.get(f"/v1/surveys?ticket_id={env.subject}", headers=auth_headers(tenant))).json()
    assert sorted(s["round"] for s in got) == ["follow_up", "initial"]
    assert all(s["status"] == "scheduled" for s in got)
    initial = next(s for s in got if s["round"] == "initial")
    follow = next(s for s in got if s["round"] == "follow_up")
    assert datetime.fromisoformat(initial["due_at"]) < datetime.fromisoformat(follow["due_at"])
    assert await svc.wheel.score(f"send:{initial['id']}") is not None  # woken through Redis
    reopened = new_envelope(
        TicketReopened(ticket_id=env.subject, tenant_id=tenant, reason="still leaking", reopened_at=datetime.now(UTC)),
        source="/fixflow/intake",
        subject=env.subject,
        tenant=tenant,
    )
    cancelled = await handlers.cancel_for_ticket(
        uow=runtime.uow(), envelope=reopened, ticket_id=env.subject, consumer="survey.ticket_reopened"
    )
    assert len(cancelled) == 2
    got = (await client.get(f"/v1/surveys?ticket_id={env.subject}", headers=auth_headers(tenant))).json()
    assert {s["status"] for s in got} == {"cancelled"}
    # a cancelled timer that still sits in Redis fires into nothing
    assert (
        await handlers.fire_timer(
            uow=runtime.uow(clock=SettableClock(datetime.now(UTC) + timedelta(days=60))),
            timer_id=f"send:{initial['id']}",
            links=svc.links,
        )
        == []
    )
    assert (await get_survey(runtime, tenant, initial["id"])).status.value == "cancelled"


async def test_reminder_goes_out_while_unanswered(rt, tenant):
    runtime, svc = rt
    s, _ = await sent_survey(runtime, svc, tenant)
    await handlers.fire_timer(
        uow=runtime.uow(clock=SettableClock(s.sent_at + timedelta(days=2, seconds=1))),
        timer_id=f"remind:{s.id}:1",
        links=svc.links,
    )
    s2 = await get_survey(runtime, tenant, s.id)
    assert s2.reminders_sent == 1 and s2.status.value == "sent"
    # firing the same timer again does nothing (the row is marked fired)
    await handlers.fire_timer(
        uow=runtime.uow(clock=SettableClock(s.sent_at + timedelta(days=2, seconds=2))),
        timer_id=f"remind:{s.id}:1",
        links=svc.links,
    )
    assert (await get_survey(runtime, tenant, s.id)).reminders_sent == 1


async def test_timer_moved_later_is_not_fired_early(rt, tenant):
    runtime, svc = rt
    env = resolved_envelope(tenant, resolved_at=datetime.now(UTC))
    timers = await handlers.schedule_for_resolution(uow=runtime.uow(), envelope=env, event=env.payload())
    ((send_id, due),) = [t for t in timers if t[0].startswith("send:")]
    again = await handlers.fire_timer(uow=runtime.uow(), timer_id=send_id, links=svc.links)
    assert again == [(send_id, due)]  # goes back on the wheel at its real time
    async with runtime.uow() as uow:
        await uow.scope_to_tenant(tenant)
        assert (await SurveyRepository(uow.session).for_ticket(tenant, env.subject))[0].status.value == "scheduled"
        assert (send_id, due) in await TimerRepository(uow.session).pending()


async def test_revisits_by_grade(client, rt, tenant):
    runtime, svc = rt
    h = auth_headers(tenant, "agent")
    assert (await client.put("/v1/revisit-customers/C-9", json={"grade": "A"}, headers=h)).status_code == 204
    assert (await client.put("/v1/revisit-customers/C-9", json={"grade": "A1!"}, headers=h)).status_code == 422
    tid = f"revisit:{tenant}:C-9"
    async with runtime.uow() as uow:
        pending = dict(await TimerRepository(uow.session).pending())
    due = pending[tid]
    assert timedelta(days=175) < due - datetime.now(UTC) < timedelta(days=190)  # key customer: six months
    assert await svc.wheel.score(tid) is not None
    await handlers.fire_timer(
        uow=runtime.uow(clock=SettableClock(due + timedelta(seconds=1))), timer_id=tid, links=svc.links
    )
    tasks = (await client.get("/v1/revisits", headers=h)).json()
    assert [(t["customer_id"], t["grade"], t["status"]) for t in tasks] == [("C-9", "A", "open")]
    async with runtime.uow() as uow:
        nxt = dict(await TimerRepository(uow.session).pending())[tid]
    assert timedelta(days=175) < nxt - due < timedelta(days=190)  # the next period is scheduled
    r = await client.post(
        f"/v1/revisits/{tasks[0]['id']}/outcome",
        json={"outcome": "reached", "satisfied": True, "notes": "all good"},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["status"] == "done"
    again = await client.post(f"/v1/revisits/{tasks[0]['id']}/outcome", json={"outcome": "reached"}, headers=h)
    assert again.status_code == 409
    assert (
        await client.post(
            f"/v1/revisits/{tasks[0]['id']}/outcome", json={"outcome": "reached"}, headers=auth_headers("t-other")
        )
    ).status_code == 404
    bad = await client.post(f"/v1/revisits/{tasks[0]['id']}/outcome", json={"outcome": "teleported"}, headers=h)
    assert bad.status_code == 422
    assert (await client.get("/v1/revisits?status=done", headers=h)).json()[0]["notes"] == "all good"


async def test_health_and_readiness(client):
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert (await client.get("/openapi.json")).status_code == 200


async def test_background_loop_sends_a_due_survey_even_if_redis_lost_it(rt, tenant):
    runtime, svc = rt
    env = resolved_envelope(tenant)  # resolved 40 days ago: already due
    timers = await handlers.schedule_for_resolution(uow=runtime.uow(), envelope=env, event=env.payload())
    ((send_id, _),) = [t for t in timers if t[0].startswith("send:")]
    await svc.wheel.cancel(send_id)  # never reached Redis (crash after commit, flushed Redis, ...)
    survey_id = send_id.split(":", 1)[1]
    # the loop re-seeds from the durable rows every second in tests
    sent = await eventually(
        lambda: get_survey(runtime, tenant, survey_id), lambda s: s.status.value == "sent", what="survey sent"
    )
    assert sent.status.value == "sent"


async def test_a_survey_goes_out_when_the_clock_reaches_its_send_time(rt, tenant):
    """Scheduled, fired early and fired on time at pinned instants: the send time, the reminders and
    the expiry all follow the injected clock (years ahead of the wall clock, so no loop interferes)."""
    runtime, svc = rt
    resolved_at = datetime(2031, 3, 7, 15, 0, tzinfo=UTC)
    env = resolved_envelope(tenant, resolved_at=resolved_at)
    timers = await handlers.schedule_for_resolution(
        uow=runtime.uow(clock=SettableClock(resolved_at + timedelta(minutes=1))), envelope=env, event=env.payload()
    )
    ((send_id, due),) = [t for t in timers if t[0].startswith("send:")]
    assert due > resolved_at

    early = SettableClock(due - timedelta(minutes=1))
    assert await handlers.fire_timer(uow=runtime.uow(clock=early), timer_id=send_id, links=svc.links) == [
        (send_id, due)
    ]  # back on the wheel at its own time
    survey_id = send_id.removeprefix("send:")
    assert (await get_survey(runtime, tenant, survey_id)).status.value == "scheduled"

    on_time = SettableClock(due + timedelta(seconds=30))
    later = await handlers.fire_timer(uow=runtime.uow(clock=on_time), timer_id=send_id, links=svc.links)
    s = await get_survey(runtime, tenant, survey_id)
    assert s.status.value == "sent" and s.sent_at == on_time.now()
    async with runtime.uow() as uow:
        await uow.scope_to_tenant(tenant)
        plan = await PlanRepository(uow.session).get(tenant)
    assert sorted(at for tid, at in later if tid.startswith("remind:")) == [
        on_time.now() + timedelta(days=d) for d in plan.reminder_after_days
    ]
    assert s.expires_at == on_time.now() + timedelta(days=plan.expires_after_days)


async def test_follow_up_work_list_lists_open_surveys_due_first(client, rt, tenant):
    """Without a ticket, /surveys is the agents' follow-up work list (the console's follow-up desk)."""
    runtime, svc = rt
    s, _ = await sent_survey(runtime, svc, tenant)
    soon = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    listed = (await client.get("/v1/surveys", params={"due_before": soon}, headers=auth_headers(tenant))).json()
    mine = [x for x in listed if x["id"] == s.id]
    assert mine and mine[0]["status"] == "sent" and mine[0]["customer_id"] == s.customer_id
    assert [x["due_at"] for x in listed] == sorted(x["due_at"] for x in listed)
    before = (s.due_at - timedelta(seconds=1)).isoformat()
    assert (await client.get("/v1/surveys", params={"due_before": before}, headers=auth_headers(tenant))).json() == []
    assert (await client.get("/v1/surveys", headers=auth_headers("t-other"))).json() == []
    r = await client.post(f"/v1/surveys/{s.id}/answers", json=answers(5, 10), headers=auth_headers(tenant))
    assert r.status_code == 201
    assert s.id not in [x["id"] for x in (await client.get("/v1/surveys", headers=auth_headers(tenant))).json()]
    done = (await client.get("/v1/surveys", params={"status": "completed"}, headers=auth_headers(tenant))).json()
    assert [x["id"] for x in done] == [s.id]
    bad = await client.get("/v1/surveys", params={"status": "lost"}, headers=auth_headers(tenant))
    assert bad.status_code == 422
