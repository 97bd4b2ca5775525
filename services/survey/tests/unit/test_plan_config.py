"""A tenant's plan survives its JSON form unchanged; channel fallback when a contact is missing."""

from __future__ import annotations

from datetime import date, time

import pytest

from survey.adapters.repository import plan_from_config, plan_to_config
from survey.domain.model import CalendarSpec, DissatisfactionRule, SurveyPlan, choose_channel
from survey.entrypoints.routes.schemas import PlanModel


def test_plan_round_trips_through_json_and_the_api_model():
    plan = SurveyPlan(
        tenant_id="t1",
        delay_working_days=5,
        send_time=time(9, 30),
        channel="email",
        questions=("overall", "attitude"),
        ask_nps=False,
        reminder_after_days=(1, 3),
        expires_after_days=10,
        rule=DissatisfactionRule(max_bad_score=3, max_bad_nps=5, complaint_words=("垃圾",)),
        calendar=CalendarSpec(
            country="CN", tz="Asia/Shanghai", extra_holidays=(date(2025, 3, 10),), extra_workdays=(date(2025, 3, 8),)
        ),
        revisit_months_by_grade=(("A", 3), ("B", 9)),
    )
    cfg = plan_to_config(plan)
    assert plan_from_config("t1", cfg) == plan
    api = PlanModel.of(plan).model_dump(mode="json")
    assert plan_from_config("t1", api) == plan
    assert plan_from_config("t1", {}) == SurveyPlan(tenant_id="t1")


@pytest.mark.parametrize(
    ("preferred", "email", "phone", "expected"),
    [
        ("sms", None, "+86138", "sms"),
        ("sms", "a@b.c", None, "email"),
        ("email", None, "+86138", "sms"),
        ("email", "a@b.c", "+86138", "email"),
        ("sms", None, None, "phone"),
        ("phone", "a@b.c", "+86138", "phone"),
    ],
)
def test_channel_falls_back_to_what_reaches_the_customer(preferred, email, phone, expected):
    assert choose_channel(preferred, email=email, phone=phone) == expected
