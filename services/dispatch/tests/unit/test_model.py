"""Calendars, absences, appointments and the work-order state machine (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.domain.exceptions import IllegalTransition, RuleViolation
from dispatch.domain.intervals import Interval
from dispatch.domain.model import (
    WO_ALLOWED,
    Absence,
    Appointment,
    AppointmentStatus,
    Technician,
    WeeklyHours,
    WorkOrder,
    WorkOrderStatus,
    check_future_window,
    subtract,
)

MON = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def tech(**kw) -> Technician:
    return Technician(id="t", tenant_id="x", name="Li", phone=None, home_lat=31.2, home_lon=121.4, **kw)


def test_weekly_hours_follow_the_technicians_time_zone():
    hours = WeeklyHours(tz="Asia/Shanghai", days={0: ("08:00", "18:00")})
    ivs = hours.intervals(MON - timedelta(days=1), MON + timedelta(days=7))
    assert [(i.start, i.end) for i in ivs] == [
        (datetime(2026, 3, 2, 0, 0, tzinfo=UTC), datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    ]


def test_absence_cuts_availability():
    t = tech(
        hours=WeeklyHours(tz="UTC", days={0: ("08:00", "18:00")}),
        absences=[Absence("a", MON + timedelta(hours=10), MON + timedelta(hours=12), "doctor")],
    )
    ivs = t.availability(MON, MON + timedelta(days=1))
    assert [(i.start.hour, i.end.hour) for i in ivs] == [(8, 10), (12, 18)]
    assert t.is_absent(Interval(MON + timedelta(hours=11), MON + timedelta(hours=13)))
    assert tech(active=False).availability(MON, MON + timedelta(days=7)) == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 100), st.integers(1, 30)), max_size=5),
    st.lists(st.tuples(st.integers(0, 100), st.integers(1, 30)), max_size=5),
)
def test_subtract_never_overlaps_a_hole_and_keeps_the_rest(spans, holes):
    def iv(a, n):
        return Interval(MON + timedelta(hours=a), MON + timedelta(hours=a + n))

    base = [iv(a, n) for a, n in spans]
    hs = [iv(a, n) for a, n in holes]
    out = subtract(base, hs)
    assert not any(o.overlaps(h) for o in out for h in hs)
    assert all(any(b.start <= o.start and o.end <= b.end for b in base) for o in out)
    for hour in range(0, 131):  # every hour covered by base and by no hole is still available
        p = Interval(MON + timedelta(hours=hour), MON + timedelta(hours=hour, minutes=1))
        if any(b.start <= p.start and p.end <= b.end for b in base) and not any(h.overlaps(p) for h in hs):
            assert any(o.start <= p.start and p.end <= o.end for o in out)


def test_van_stock_cannot_go_negative():
    t = tech(van_stock={"PUMP": 1})
    t.take_from_van("PUMP", 1)
    with pytest.raises(RuleViolation):
        t.take_from_van("PUMP", 1)


def test_window_rules():
    now = MON + timedelta(hours=9)
    with pytest.raises(RuleViolation):
        check_future_window(Interval(now - timedelta(hours=1), now + timedelta(hours=1)), now)
    with pytest.raises(RuleViolation):
        check_future_window(Interval(now, now + timedelta(hours=9)), now)
    check_future_window(Interval(now + timedelta(hours=1), now + timedelta(hours=3)), now)


def test_appointment_confirm_reschedule_cancel():
    now = MON
    a = Appointment("a", "x", "j", "T", "t", MON + timedelta(hours=8), MON + timedelta(hours=10), 1)
    a.confirm()
    with pytest.raises(IllegalTransition):
        a.confirm()
    old = a.reschedule(
        Interval(MON + timedelta(days=1, hours=8), MON + timedelta(days=1, hours=10)), now=now, reason="travel"
    )
    assert old.start == MON + timedelta(hours=8) and a.status == AppointmentStatus.BOOKED
    a.cancel("customer_request")
    with pytest.raises(IllegalTransition):
        a.reschedule(Interval(MON + timedelta(days=2), MON + timedelta(days=2, hours=1)), now=now, reason="x")


def wo() -> WorkOrder:
    return WorkOrder(
        "w", "x", "j", "T", "t", 1, planned_start=MON + timedelta(hours=8), planned_end=MON + timedelta(hours=10)
    )


def test_work_order_happy_path_and_on_time_arrival():
    w = wo()
    w.en_route(MON + timedelta(hours=7))
    assert w.arrive(MON + timedelta(hours=8, minutes=30), 31.2, 121.4) is True
    w.record(diagnosis="pump", parts=[], labour_minutes=30, photos=[])
    w.record(diagnosis=None, parts=[], labour_minutes=15, photos=[])
    w.complete(resolution_code="fixed", sign_off={"signed_by": "C"}, rating=5, at=MON + timedelta(hours=9))
    assert w.status == WorkOrderStatus.COMPLETED and w.labour_minutes == 45 and w.diagnosis == "pump"
    late = wo()
    assert late.arrive(MON + timedelta(hours=11), None, None) is False


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["en_route", "arrive", "complete", "needs_parts", "absent", "escalate", "unassign", "record"]),
        max_size=8,
    )
)
def test_work_order_moves_only_along_allowed_edges(steps):
    w = wo()
    for step in steps:
        before = w.status
        try:
            if step == "en_route":
                w.en_route(MON)
            elif step == "arrive":
                w.arrive(MON, None, None)
            elif step == "complete":
                w.complete(resolution_code="r", sign_off={}, rating=None, at=MON)
            elif step == "needs_parts":
                w.fail(WorkOrderStatus.NEEDS_PARTS, note=None, at=MON)
            elif step == "absent":
                w.fail(WorkOrderStatus.CUSTOMER_ABSENT, note=None, at=MON)
            elif step == "escalate":
                w.fail(WorkOrderStatus.ESCALATED, note=None, at=MON)
            elif step == "unassign":
                w.unassign("declined", MON)
            else:
                w.record(diagnosis="d", parts=[], labour_minutes=1, photos=[])
        except IllegalTransition:
            assert w.status == before
            continue
        assert w.status == before or w.status in WO_ALLOWED[before]
    with pytest.raises(RuleViolation):
        wo().fail(WorkOrderStatus.COMPLETED, note=None, at=MON)


def test_country_holidays_are_off_and_make_up_days_are_worked():
    from datetime import date

    from dispatch.domain.model import country_calendar

    hours = WeeklyHours(tz="Asia/Shanghai", days={d: ("08:00", "18:00") for d in range(5)}, country="CN")
    national_day = date(2026, 10, 1)  # a Thursday
    assert hours.hours_on(national_day) is None
    assert WeeklyHours(tz="Asia/Shanghai").hours_on(national_day) == ("08:00", "18:00")
    makeup = sorted(d for d in country_calendar("CN", 2026).extra_workdays if d.year == 2026 and d.weekday() >= 5)
    if makeup:  # the library knows the 调休 Saturdays/Sundays of the year
        assert hours.hours_on(makeup[0]) == ("08:00", "18:00")
    start = datetime(2026, 9, 30, 16, tzinfo=UTC)
    ivs = hours.intervals(start, start + timedelta(days=2))
    assert all(i.start.astimezone(ZoneInfo("Asia/Shanghai")).date() != national_day for i in ivs)
