"""Billing's refusals are the shared errors: the status and problem type each answers with, and
DomainError still catches them all (a consumer parks such an event instead of retrying it)."""

from __future__ import annotations

import pytest

from billing.domain import exceptions as ex
from billing.domain.pricing import UnknownPart
from fixflow_shared import errors


@pytest.mark.parametrize(
    ("err", "status", "slug", "shared"),
    [
        (ex.NotFound("quote", "Q-1"), 404, "not-found", errors.NotFound),
        (ex.IllegalTransition("quote", "rejected", "invoiced"), 409, "conflict", errors.IllegalTransition),
        (ex.AlreadySold("asset A-1 was sold already"), 409, "conflict", errors.Conflict),
        (ex.ApprovalRequired("a manager approves"), 403, "approval-required", errors.Forbidden),
        (ex.UnknownCurrency("XXX"), 422, "unknown-currency", errors.RuleViolation),
        (ex.CurrencyMismatch("CNY", "USD"), 422, "currency-mismatch", errors.RuleViolation),
        (ex.ReturnWindowClosed("closed"), 422, "return-window-closed", errors.RuleViolation),
        (ex.InsufficientCredit("none"), 422, "insufficient-credit", errors.RuleViolation),
        (ex.MoreThanDue("too much"), 422, "more-than-due", errors.RuleViolation),
        (ex.InvalidAmount("negative"), 422, "rule-violated", errors.RuleViolation),
        (UnknownPart("no price"), 422, "rule-violated", errors.RuleViolation),
        (ex.DomainError("nothing to charge"), 422, "rule-violated", errors.RuleViolation),
    ],
)
def test_each_refusal_is_a_shared_error_with_its_status(err, status, slug, shared):
    assert isinstance(err, shared) and isinstance(err, ex.DomainError)
    assert err.status == status and err.type == f"urn:fixflow:problem:{slug}"


def test_an_illegal_transition_names_the_states():
    body = ex.IllegalTransition("waiver", "approved", "rejected").body()
    assert body["detail"] == "a waiver in state approved cannot become rejected"
    assert (body["kind"], body["current_status"], body["target"]) == ("waiver", "approved", "rejected")
