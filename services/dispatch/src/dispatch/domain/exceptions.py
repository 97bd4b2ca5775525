"""Dispatch's refusals, as the shared errors the HTTP layer turns into problem+json:
NotFound 404, IllegalTransition("work order", current, target) 409, RuleViolation 422 (unknown
skill, a window in the past, ...)."""

from __future__ import annotations

from fixflow_shared.errors import Conflict, IllegalTransition, NotFound, RuleViolation

__all__ = ["IllegalTransition", "NoTechnicianAvailable", "NotFound", "RuleViolation", "TooLateToChange"]


class NoTechnicianAvailable(RuleViolation):
    """No qualified technician is free for this job or window (422)."""

    title = "No technician available"


class TooLateToChange(Conflict):
    """A customer's own move or cancellation inside the notice period before the visit (409)."""

    title = "Too late to change the visit online"
