"""A use case at a pinned instant: the injected clock, not the wall clock, decides when a ticket
was opened and when its SLA deadlines fall (business hours, weekend and holiday of the tenant's
calendar), whatever the hour the suite runs at."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from fixflow_shared.clock import SettableClock
from fixflow_shared.events.contracts import intake as ev
from fixflow_shared.testing import auth_headers
from intake.domain.commands import OpenTicket
from intake.service_layer import opening

pytestmark = pytest.mark.integration
SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = {
    "tz": "Asia/Shanghai",
    "working_hours": ["09:00:00", "18:00:00"],
    "weekdays": [0, 1, 2, 3, 4],
    "holidays": ["2031-03-10"],  # a Monday
}
FOUR_HOURS = {p: 4 for p in ("P1", "P2", "P3", "P4")}


@pytest.mark.parametrize(
    ("opened_at", "first_response_due"),
    [
        # Friday 17:00: one business hour on Friday, none at the weekend or on Monday's holiday,
        # three on Tuesday morning.
        (datetime(2031, 3, 7, 17, 0, tzinfo=SHANGHAI), datetime(2031, 3, 11, 12, 0, tzinfo=SHANGHAI)),
        # Wednesday 12:00: four hours on the same afternoon.
        (datetime(2031, 3, 12, 12, 0, tzinfo=SHANGHAI), datetime(2031, 3, 12, 16, 0, tzinfo=SHANGHAI)),
        # Wednesday 03:00 (before opening): the clock starts at 09:00.
        (datetime(2031, 3, 12, 3, 0, tzinfo=SHANGHAI), datetime(2031, 3, 12, 13, 0, tzinfo=SHANGHAI)),
    ],
)
async def test_a_ticket_opened_at_a_pinned_instant_gets_its_deadlines_from_that_instant(
    client, intake_app, opened_at: datetime, first_response_due: datetime
):
    runtime, app = intake_app
    tenant = "t-clock-" + uuid.uuid4().hex[:6]
    s = await client.put(
        "/v1/settings",
        json={"calendar": CALENDAR, "sla": {"targets": {"first_response": FOUR_HOURS}}},
        headers=auth_headers(tenant, "manager"),
    )
    assert s.status_code == 200, s.text

    uow = runtime.uow(clock=SettableClock(opened_at))
    cmd = OpenTicket(
        tenant_id=tenant,
        kind="consultation",
        channel="phone",
        symptom="how do I descale the washer",
        contact_phone="+8613800138000",
        purchase_date=date(2031, 1, 15),  # in the future for the wall clock, in the past for the ticket
    )
    opened = await opening.open_ticket(uow=uow, cmd=cmd, deps=app.state.intake_deps)

    assert opened.ticket.opened_at == opened_at
    (event,) = [e.payload() for e in uow.committed_events if e.type == ev.TicketOpened.type]
    assert event.opened_at == opened_at
    assert event.sla.first_response_due == first_response_due
