"""A customer moves or cancels a visit online until the notice period before it, never once the
technician set off; the office is not bound by this (the route passes no notice for staff)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.domain.exceptions import IllegalTransition, TooLateToChange
from dispatch.domain.model import Appointment, AppointmentStatus, WorkOrder, WorkOrderStatus
from dispatch.service_layer.appointments import customer_may_change

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
NOTICE = timedelta(hours=2)


def appt(starts_in: timedelta) -> Appointment:
    return Appointment(
        id="AP-1",
        tenant_id="acme",
        job_id="J-1",
        ticket_id="T-1",
        technician_id="TECH-1",
        window_start=NOW + starts_in,
        window_end=NOW + starts_in + timedelta(hours=2),
        visit_number=1,
        status=AppointmentStatus.BOOKED,
    )


def wo(status: WorkOrderStatus) -> WorkOrder:
    return WorkOrder(
        id="WO-1",
        tenant_id="acme",
        job_id="J-1",
        ticket_id="T-1",
        technician_id="TECH-1",
        visit_number=1,
        status=status,
    )


def test_in_good_time_the_customer_may_change_the_visit():
    customer_may_change(appt(timedelta(hours=3)), wo(WorkOrderStatus.ASSIGNED), now=NOW, notice=NOTICE)
    customer_may_change(appt(timedelta(days=2)), None, now=NOW, notice=NOTICE)


def test_too_late_before_the_window_is_refused_with_the_notice_named():
    with pytest.raises(TooLateToChange) as e:
        customer_may_change(appt(timedelta(minutes=90)), wo(WorkOrderStatus.ASSIGNED), now=NOW, notice=NOTICE)
    assert e.value.status == 409 and "2 hours" in str(e.value.detail)


@pytest.mark.parametrize("status", [WorkOrderStatus.EN_ROUTE, WorkOrderStatus.ON_SITE])
def test_once_the_technician_set_off_nothing_changes_online(status):
    with pytest.raises(IllegalTransition):
        customer_may_change(appt(timedelta(days=1)), wo(status), now=NOW, notice=NOTICE)
