"""Intake's refusals, as the shared errors the HTTP layer turns into problem+json."""

from __future__ import annotations

from collections.abc import Iterable

from fixflow_shared import errors
from fixflow_shared.errors import NotFound, RuleViolation

__all__ = ["IllegalTransition", "NotFound", "RuleViolation", "UnknownReference"]


class IllegalTransition(errors.IllegalTransition):
    """A ticket cannot make this move (409, with current_status and, from the state machine, the
    allowed transitions)."""

    def __init__(self, current: object, target: object, allowed: Iterable[object] | None = None) -> None:
        super().__init__("ticket", current, target, allowed=allowed)


class UnknownReference(errors.RuleViolation):
    """The request refers to a customer, asset, product or ticket this tenant does not have (422:
    the thing addressed exists, what the body names does not)."""

    title = "Unknown reference"

    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"{what} {ident} does not exist", kind=what, id=ident)
        self.what = what
        self.ident = ident
