"""Notify's refusals, as the shared errors the HTTP layer turns into problem+json."""

from __future__ import annotations

from collections.abc import Iterable

from fixflow_shared import errors


class TemplateRejected(errors.Unprocessable):
    """A template that may not be saved: syntax error, unknown variable, or reaching for internals (422)."""

    title = "Template rejected"


class InvalidAddress(errors.Unprocessable):
    """An email address, phone number or recipient id that cannot receive messages (422)."""

    title = "Invalid recipient"


class IllegalTransition(errors.IllegalTransition):
    def __init__(self, current: object, target: object, allowed: Iterable[object] | None = None) -> None:
        super().__init__("delivery", current, target, allowed=allowed)
