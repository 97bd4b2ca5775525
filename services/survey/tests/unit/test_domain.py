"""Survey lifecycle, answers, dissatisfaction rule, tokens, revisits and report figures (pure)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixflow_shared.keys import KeyRing
from survey.config import SurveySettings
from survey.domain import reports
from survey.domain.exceptions import (
    AlreadyAnswered,
    IllegalTransition,
    InvalidAnswers,
    InvalidToken,
    SurveyExpired,
    SurveyNotOpen,
)
from survey.domain.model import (
    QUESTIONS,
    Answers,
    DissatisfactionRule,
    Revisit,
    Survey,
    SurveyPlan,
    SurveyStatus,
    add_months,
    judge,
    next_revisit_on,
)
from survey.domain.tokens import TokenClaims, TokenSigner

NOW = datetime(2025, 6, 2, 2, 0, tzinfo=UTC)
PLAN = SurveyPlan(tenant_id="t1")


def survey(**kw) -> Survey:
    base = dict(
        id="S-1",
        tenant_id="t1",
        ticket_id="T-1",
        round="initial",
        channel="sms",
        due_at=NOW,
        expires_at=NOW + timedelta(days=7),
        created_at=NOW,
    )
    return Survey(**{**base, **kw})


def all_scores(v: int) -> dict[str, int]:
    return {q: v for q in QUESTIONS}


# --- dissatisfaction rule -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("answers", "reasons"),
    [
        (Answers(all_scores(5), nps=10), []),
        (Answers(all_scores(3), nps=7), []),
        (Answers({**all_scores(5), "attitude": 2}, nps=9), ["score:attitude<=2"]),
        (Answers(all_scores(5), nps=6), ["nps<=6"]),
        (Answers(all_scores(4), nps=8, comment="师傅人很好，但是我要投诉客服"), ["complaint_word"]),
        (Answers(all_scores(4), comment="Still BROKEN after the visit"), ["complaint_word"]),
        (Answers(all_scores(4), comment="ＲＵＤＥ technician"), ["complaint_word"]),  # full-width letters
    ],
)
def test_rule_reasons(answers, reasons):
    assert PLAN.rule.reasons(answers) == reasons


@settings(max_examples=300)
@given(scores=st.fixed_dictionaries({q: st.integers(1, 5) for q in QUESTIONS}), nps=st.none() | st.integers(0, 10))
def test_rule_is_exactly_any_score_at_most_2_or_nps_at_most_6(scores, nps):
    v = judge(Answers(scores, nps=nps), PLAN)
    expected = min(scores.values()) <= 2 or (nps is not None and nps <= 6)
    assert v.dissatisfied == expected
    assert not (v.praise and v.dissatisfied)


def test_rule_is_configurable_and_suggests_complaint_for_the_worst_cases():
    strict = DissatisfactionRule(max_bad_score=3, max_bad_nps=7, complaint_words=("meh",))
    a = Answers(all_scores(3), nps=8, comment="meh")
    assert strict.reasons(a) == [f"score:{q}<=3" for q in QUESTIONS] + ["complaint_word"]
    assert strict.suggested_action(a) == "complaint"
    assert PLAN.rule.suggested_action(Answers({**all_scores(4), "overall": 2})) == "reopen"
    assert PLAN.rule.suggested_action(Answers({**all_scores(4), "overall": 1})) == "complaint"


def test_praise_from_top_marks_or_praise_words():
    assert judge(Answers(all_scores(5), nps=10), PLAN).praise
    assert judge(Answers({**all_scores(4)}, comment="师傅很专业，谢谢"), PLAN).praise
    assert not judge(Answers(all_scores(4)), PLAN).praise


# --- answers validation -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "answers",
    [
        Answers({"overall": 6}),
        Answers({"overall": 0}),
        Answers({"timeliness": 3}),
        Answers({"overall": 3, "colour": 2}),
        Answers({"overall": 3}, nps=11),
        Answers({"overall": 3}, nps=-1),
        Answers({"overall": 3}, comment="x" * 2001),
        Answers({"overall": True}),
    ],
)
def test_invalid_answers_are_refused(answers):
    with pytest.raises(InvalidAnswers):
        answers.validate_for(PLAN)


def test_plan_validates_itself():
    with pytest.raises(InvalidAnswers):
        SurveyPlan(tenant_id="t", channel="fax")
    with pytest.raises(InvalidAnswers):
        SurveyPlan(tenant_id="t", questions=("timeliness",))
    with pytest.raises(InvalidAnswers):
        SurveyPlan(tenant_id="t", reminder_after_days=(9,), expires_after_days=7)


# --- lifecycle ----------------------------------------------------------------------------------
def test_lifecycle_single_use_and_expiry():
    s = survey()
    with pytest.raises(SurveyNotOpen):
        s.complete(at=NOW)
    s.send(at=NOW, expires_after=timedelta(days=7))
    assert s.remind(at=NOW + timedelta(days=2)) and s.reminders_sent == 1
    s.complete(at=NOW + timedelta(days=3))
    assert s.status is SurveyStatus.COMPLETED
    with pytest.raises(AlreadyAnswered):
        s.complete(at=NOW + timedelta(days=3))
    assert not s.remind(at=NOW + timedelta(days=4))
    assert not s.expire(at=NOW + timedelta(days=30))


def test_late_answer_is_expired_and_expiry_is_idempotent():
    s = survey()
    s.send(at=NOW, expires_after=timedelta(days=7))
    with pytest.raises(SurveyExpired):
        s.complete(at=NOW + timedelta(days=7))
    assert not s.expire(at=NOW + timedelta(days=6))
    assert s.expire(at=NOW + timedelta(days=7))
    assert not s.expire(at=NOW + timedelta(days=8))
    with pytest.raises(SurveyExpired):
        s.check_answerable(at=NOW)
    with pytest.raises(IllegalTransition):
        s.send(at=NOW, expires_after=timedelta(days=1))


# --- tokens -------------------------------------------------------------------------------------
SIGNER = TokenSigner(["a-very-secret-key-0001"])
CLAIMS = TokenClaims(survey_id="S-1", tenant_id="t1", nonce="n1", expires_at=NOW + timedelta(days=7))


def test_token_round_trip_and_rotation():
    tok = SIGNER.sign(CLAIMS)
    assert SIGNER.verify(tok) == CLAIMS
    rotated = TokenSigner(["the-new-secret-key-0002", "a-very-secret-key-0001"])
    assert rotated.verify(tok) == CLAIMS
    assert not CLAIMS.expired(NOW) and CLAIMS.expired(NOW + timedelta(days=7))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"),  # altered signature
        lambda t: "eyJzIjoiUy0yIn0" + t[t.index(".") :],  # altered claims
        lambda t: t.replace(".", ""),
        lambda t: "",
        lambda t: "a.b.c",
        lambda t: "%%%.###",
        lambda t: t + "x" * 600,
    ],
)
def test_forged_tokens_fail(mangle):
    with pytest.raises(InvalidToken):
        SIGNER.verify(mangle(SIGNER.sign(CLAIMS)))


def test_token_of_another_key_fails():
    with pytest.raises(InvalidToken):
        SIGNER.verify(TokenSigner(["someone-elses-key-000"]).sign(CLAIMS))


def test_a_retired_key_verifies_during_its_grace_period_only():
    old = SIGNER.sign(CLAIMS)
    retired = {"key": "a-very-secret-key-0001", "until": "2025-07-01T00:00:00+00:00"}
    ring = KeyRing.parse(["the-new-secret-key-0002", retired], min_chars=16)
    rotated = TokenSigner(ring)
    assert rotated.verify(old, now=datetime(2025, 6, 30, tzinfo=UTC)) == CLAIMS
    with pytest.raises(InvalidToken):
        rotated.verify(old, now=datetime(2025, 7, 1, tzinfo=UTC))
    new = rotated.sign(CLAIMS)  # the new key signs, and keeps verifying after the old one retired
    assert rotated.verify(new, now=datetime(2025, 8, 1, tzinfo=UTC)) == CLAIMS


def test_no_answer_link_key_is_built_in(monkeypatch):
    """The key that used to be the default in the code (it accepted forged links) signs nothing,
    and production does not start without a key of its own."""
    forged = TokenSigner(["fixflow-survey-development-answer-key-change-me"]).sign(
        TokenClaims(survey_id="S-1", tenant_id="t1", nonce="n1", expires_at=NOW + timedelta(days=3650))
    )
    cfg = SurveySettings(database_url="postgresql+asyncpg://x/y")
    with pytest.raises(InvalidToken):
        TokenSigner(cfg.answer_keys()).verify(forged)
    prod = {
        "environment": "production",
        "oidc_issuer": "https://login.test",
        "oidc_audience": "fixflow",
        "oidc_jwks_url": "https://login.test/certs",
    }
    monkeypatch.delenv("SURVEY_ANSWER_TOKEN_SECRETS")
    with pytest.raises(ValueError, match="SURVEY_ANSWER_TOKEN_SECRETS"):
        SurveySettings(database_url="postgresql+asyncpg://x/y", **prod)


def test_a_token_with_an_absurd_expiry_is_invalid_not_a_crash():
    body = base64.urlsafe_b64encode(json.dumps({"s": "S-1", "t": "t1", "n": "n1", "e": 10**20}).encode())
    body_s = body.rstrip(b"=").decode()
    mac = hmac.new(b"a-very-secret-key-0001", b"survey-answer.v1." + body_s.encode(), hashlib.sha256).digest()
    token = body_s + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    with pytest.raises(InvalidToken):
        SIGNER.verify(token)


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_arbitrary_strings_never_verify_and_never_crash(s):
    with pytest.raises(InvalidToken):
        SIGNER.verify(s)


# --- revisits -----------------------------------------------------------------------------------
def test_revisit_intervals_by_grade():
    assert next_revisit_on(date(2025, 8, 31), "A", PLAN) == date(2026, 2, 28)
    assert next_revisit_on(date(2024, 2, 29), "C", PLAN) == date(2025, 2, 28)
    assert next_revisit_on(date(2025, 1, 15), None, PLAN) == date(2026, 1, 15)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.integers(0, 60))
def test_add_months_lands_in_the_right_month(d, m):
    r = add_months(d, m)
    assert (r.year * 12 + r.month) - (d.year * 12 + d.month) == m
    assert r.day <= d.day


def test_revisit_outcome_recorded_once():
    r = Revisit(id="R-1", tenant_id="t1", customer_id="C-1", grade="A", due_on=date(2025, 6, 1), created_at=NOW)
    with pytest.raises(InvalidAnswers):
        r.record(outcome="teleported", satisfied=None, notes=None, by="a", at=NOW)
    r.record(outcome="reached", satisfied=True, notes="ok", by="agent-1", at=NOW)
    with pytest.raises(IllegalTransition):
        r.record(outcome="reached", satisfied=True, notes="ok", by="agent-1", at=NOW)


# --- reports ------------------------------------------------------------------------------------
def fact(i, tech, overall=None, nps=None, dissatisfied=False, praise=False, sent_at=NOW):
    answered = overall is not None
    return reports.SurveyFact(
        survey_id=f"S{i}",
        sent_at=sent_at,
        technician_id=tech,
        team_id="north",
        answered=answered,
        scores={"overall": overall} if answered else {},
        nps=nps,
        dissatisfied=dissatisfied,
        praise=praise,
    )


def test_report_figures_by_technician():
    facts = [
        fact(1, "tech-a", 5, 10, praise=True),
        fact(2, "tech-a", 4, 9),
        fact(3, "tech-a", 2, 3, dissatisfied=True),
        fact(4, "tech-a"),
        fact(5, "tech-b", 3, 7),
        fact(6, "tech-b"),
    ]
    rows = {r["group"]: r for r in reports.figures(facts, group_by="technician")}
    a = rows["tech-a"]
    assert (a["sent"], a["answered"], a["response_rate"]) == (4, 3, 75.0)
    assert a["satisfaction_rate"] == pytest.approx(66.67)
    assert a["csat"] == pytest.approx(66.67)
    assert a["nps"] == pytest.approx(33.33)  # 2 promoters, 1 detractor of 3
    assert a["praise"] == 1 and a["avg_scores"]["overall"] == pytest.approx(11 / 3, abs=1e-3)
    b = rows["tech-b"]
    assert b["nps"] == 0.0 and b["csat"] == 0.0 and b["response_rate"] == 50.0
    team = reports.figures(facts, group_by="team")
    assert [r["sent"] for r in team] == [6]


def test_period_grouping_uses_the_tenant_time_zone_and_empty_is_none():
    late = datetime(2025, 5, 31, 17, 0, tzinfo=UTC)  # 1 June 01:00 in Shanghai
    rows = reports.figures([fact(1, "t", sent_at=late)], group_by="month")
    assert rows[0]["group"] == "2025-06" and rows[0]["satisfaction_rate"] is None and rows[0]["nps"] is None
    with pytest.raises(ValueError):
        reports.figures([], group_by="colour")


def test_csv_export_neutralises_formulas():
    text = reports.to_csv(reports.figures([fact(1, "=HYPERLINK(1)", 5, 10)], group_by="technician"))
    lines = text.splitlines()
    assert lines[0].startswith("group,sent,answered,response_rate")
    assert lines[1].startswith("'=HYPERLINK(1),1,1,100.0")
