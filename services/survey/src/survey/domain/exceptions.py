"""Survey's refusals, as the shared errors the HTTP layer turns into problem+json."""

from __future__ import annotations

from collections.abc import Iterable

from fixflow_shared import errors
from fixflow_shared.errors import NotFound, RuleViolation

__all__ = [
    "AlreadyAnswered",
    "IllegalTransition",
    "InvalidAnswers",
    "InvalidToken",
    "NotFound",
    "RuleViolation",
    "SurveyExpired",
    "SurveyNotOpen",
]


class IllegalTransition(errors.IllegalTransition):
    def __init__(
        self, current: object, target: object, allowed: Iterable[object] | None = None, *, kind: str = "survey"
    ) -> None:
        super().__init__(kind, current, target, allowed=allowed)


class AlreadyAnswered(errors.Conflict):
    """The single-use answer link was used already (409, member reason "already_answered")."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, reason="already_answered")


class SurveyExpired(errors.Gone):
    """The survey (or its link) is past its expiry (410)."""

    title = "Survey expired"


class SurveyNotOpen(errors.Conflict):
    """The survey has not been sent yet or was cancelled (409)."""


class InvalidToken(errors.Unauthorized):
    """The answer token is malformed or its signature does not verify (401). The link itself is the
    credential: there is no scheme to name in WWW-Authenticate."""

    title = "Invalid answer link"
    default_headers = {}


class InvalidAnswers(errors.RuleViolation):
    """Answers (or a survey plan) that break the plan's rules (422)."""
