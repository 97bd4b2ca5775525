"""The ticket state machine: API commands raise on illegal moves; events from other services
never drive a ticket into an illegal state, and replaying any event changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from intake.domain.exceptions import IllegalTransition
from intake.domain.model import ALLOWED, EXTERNAL_TYPES, TERMINAL, Ticket, TicketStatus, external_moves

S = TicketStatus
T0 = datetime(2025, 3, 3, 9, tzinfo=UTC)
statuses = st.sampled_from(list(S))
event_types = st.sampled_from(
    sorted(EXTERNAL_TYPES) + ["fixflow.billing.invoice.issued.v1", "fixflow.notify.delivery.sent.v1"]
)
qualifiers = st.fixed_dictionaries(
    {
        "satisfied": st.sampled_from([None, True, False]),
        "follow_up_needed": st.booleans(),
        "appointment_reason": st.sampled_from([None, "customer_request", "ticket_cancelled"]),
        "balance_due_minor": st.sampled_from([None, 0, 1500]),
        "ticket_kind": st.sampled_from([None, "repair", "return"]),
    }
)


def new_ticket(status: S = S.RECEIVED) -> Ticket:
    return Ticket(id="T-1", tenant_id="t", kind="repair", channel="web", symptom="x", opened_at=T0, status=status)


def test_illegal_move_raises_and_changes_nothing() -> None:
    t = new_ticket(S.CANCELLED)
    with pytest.raises(IllegalTransition):
        t.move_to(S.TRIAGED, at=T0)
    assert t.status is S.CANCELLED and t.history == []


def test_waiting_customer_remembers_where_to_resume() -> None:
    t = new_ticket(S.SCHEDULED)
    t.move_to(S.WAITING_CUSTOMER, at=T0)
    assert t.resume_target() is S.SCHEDULED
    t2 = new_ticket(S.RECEIVED)
    t2.move_to(S.WAITING_CUSTOMER, at=T0)
    assert t2.resume_target() is S.RECEIVED


def test_happy_path_through_dispatch_and_survey_events() -> None:
    t = new_ticket(S.TRIAGED)
    for et in (
        "fixflow.dispatch.appointment.booked.v1",
        "fixflow.dispatch.visit.started.v1",
        "fixflow.dispatch.work-order.completed.v1",
        "fixflow.survey.survey.completed.v1",
    ):
        for target in external_moves(t.status, et, satisfied=True):
            t.move_to(target, at=T0)
    assert t.status is S.CLOSED
    assert external_moves(S.RESOLVED, "fixflow.survey.survey.completed.v1", satisfied=False) == ()
    assert external_moves(S.CLOSED, "fixflow.survey.dissatisfaction.reported.v1") == (S.REOPENED,)


@given(status=statuses, et=event_types, q=qualifiers)
def test_external_moves_are_always_legal_and_idempotent(status: S, et: str, q: dict) -> None:
    t = new_ticket(status)
    for target in external_moves(t.status, et, **q):
        t.move_to(target, at=T0)  # raises IllegalTransition if the mapping were wrong
    after_once = t.status
    assert external_moves(after_once, et, **q) == () or after_once is status
    # replaying the same event once more changes nothing
    for target in external_moves(t.status, et, **q):
        t.move_to(target, at=T0)
    if after_once is not status:
        assert t.status is after_once


@given(status=statuses, target=statuses)
def test_move_to_obeys_the_table(status: S, target: S) -> None:
    t = new_ticket(status)
    if target in ALLOWED[status]:
        t.move_to(target, at=T0)
        assert t.status is target and t.history == [(status, target)]
    else:
        with pytest.raises(IllegalTransition):
            t.move_to(target, at=T0)
        assert t.status is status


class TicketLifecycle(RuleBasedStateMachine):
    """Random interleavings of agent commands and other services' events."""

    def __init__(self) -> None:
        super().__init__()
        self.t = new_ticket()
        self.now = T0
        self.applied: set[int] = set()
        self.log: list[tuple[int, str]] = []

    def _tick(self) -> datetime:
        self.now += timedelta(minutes=5)
        return self.now

    @rule(target_status=statuses)
    def agent_command(self, target_status: S) -> None:
        before = self.t.status
        try:
            self.t.move_to(target_status, at=self._tick())
        except IllegalTransition:
            assert self.t.status is before
        else:
            assert target_status in ALLOWED[before]

    @rule(et=event_types, q=qualifiers, event_id=st.integers(0, 30))
    def event_arrives(self, et: str, q: dict, event_id: int) -> None:
        if event_id in self.applied:  # the inbox drops a redelivery
            return
        self.applied.add(event_id)
        self.log.append((event_id, et))
        for target in external_moves(self.t.status, et, **q):
            self.t.move_to(target, at=self._tick())

    @precondition(lambda self: self.t.status is S.WAITING_CUSTOMER)
    @rule()
    def customer_supplies_facts(self) -> None:
        self.t.move_to(self.t.resume_target(), at=self._tick())

    @invariant()
    def every_step_was_legal(self) -> None:
        for a, b in self.t.history:
            assert b in ALLOWED[a]
            assert a not in TERMINAL

    @invariant()
    def reopen_counts_rounds(self) -> None:
        assert self.t.round == 1 + sum(1 for _, b in self.t.history if b is S.REOPENED)


TestTicketLifecycle = TicketLifecycle.TestCase


def test_a_payment_closes_a_resolved_ticket_only_when_the_invoice_is_paid_in_full() -> None:
    paid = "fixflow.billing.payment.received.v1"
    assert external_moves(S.RESOLVED, paid, balance_due_minor=3000) == ()
    assert external_moves(S.RESOLVED, paid, balance_due_minor=0) == (S.CLOSED,)
    assert external_moves(S.RESOLVED, paid) == ()  # no balance given: nothing to conclude
    assert external_moves(S.IN_PROGRESS, paid, balance_due_minor=0) == ()  # paid before the work is done
    assert external_moves(S.CLOSED, paid, balance_due_minor=0) == ()


def test_a_return_resolves_when_the_item_reaches_the_warehouse_and_closes_with_the_refund() -> None:
    t = new_ticket(S.TRIAGED)
    for et in ("fixflow.dispatch.return.received.v1", "fixflow.billing.refund.issued.v1"):
        for target in external_moves(t.status, et):
            t.move_to(target, at=T0)
    assert t.status is S.CLOSED
    assert external_moves(S.RECEIVED, "fixflow.dispatch.return.received.v1") == ()


@pytest.mark.parametrize("start", [S.TRIAGED, S.SCHEDULED, S.IN_PROGRESS])
def test_a_returns_refund_seen_before_the_warehouse_receipt_still_closes_it(start: S) -> None:
    """The refund (billing's topic) can overtake the receipt (dispatch's topic) it follows."""
    t = new_ticket(start)
    for et in ("fixflow.billing.refund.issued.v1", "fixflow.dispatch.return.received.v1"):
        for target in external_moves(t.status, et, ticket_kind="return"):
            t.move_to(target, at=T0)
    assert t.status is S.CLOSED
    assert [to for _, to in t.history][-2:] == [S.RESOLVED, S.CLOSED]


def test_a_refund_on_a_repair_in_progress_does_not_close_it() -> None:
    assert external_moves(S.IN_PROGRESS, "fixflow.billing.refund.issued.v1", ticket_kind="repair") == ()
