"""Retry / failover / dead-letter policy with fake providers (no I/O)."""

from __future__ import annotations

import pytest

from notify.adapters.channels import Outgoing, PermanentSendError, TransientSendError
from notify.service_layer.dispatcher import SendFailed, send_with_failover

MSG = Outgoing(
    delivery_id="d1",
    tenant_id="t",
    ticket_id="T",
    recipient="+8613800138000",
    subject="s",
    body="b",
    event_type="fixflow.intake.ticket.opened.v1",
)


class Fake:
    def __init__(self, name: str, script: list[Exception | None]) -> None:
        self.name = name
        self.script = list(script)
        self.sent: list[Outgoing] = []

    async def send(self, msg: Outgoing) -> str | None:
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.sent.append(msg)
        return "id"


async def run(*providers, attempts=3):
    return await send_with_failover(
        list(providers), MSG, max_attempts=attempts, backoff_initial_s=0.001, backoff_max_s=0.002
    )


async def test_two_failures_then_success_is_one_send_and_three_attempts():
    p = Fake("primary", [TransientSendError("503"), TransientSendError("503")])
    name, attempts = await run(p, Fake("failover", []))
    assert name == "primary" and len(p.sent) == 1
    assert [a.outcome for a in attempts] == ["retry", "retry", "ok"]


async def test_exhausted_primary_fails_over():
    p, f = Fake("primary", [TransientSendError("down")] * 3), Fake("failover", [])
    name, attempts = await run(p, f)
    assert name == "failover" and p.sent == [] and len(f.sent) == 1
    assert [(a.provider, a.outcome) for a in attempts] == [
        ("primary", "retry"),
        ("primary", "retry"),
        ("primary", "failover"),
        ("failover", "ok"),
    ]


async def test_permanent_refusal_stops_at_once():
    p, f = Fake("primary", [PermanentSendError("400")]), Fake("failover", [])
    with pytest.raises(SendFailed, match="refused by primary") as exc:
        await run(p, f)
    assert len(exc.value.attempts) == 1 and f.sent == []


async def test_everything_down_is_a_dead_letter_with_every_attempt():
    with pytest.raises(SendFailed, match="all providers failed") as exc:
        await run(Fake("a", [TransientSendError("x")] * 9), Fake("b", [TransientSendError("y")] * 9), attempts=2)
    assert [a.outcome for a in exc.value.attempts] == ["retry", "failover", "retry", "failed"]


async def test_no_provider_is_a_dead_letter():
    with pytest.raises(SendFailed, match="no provider"):
        await run()
