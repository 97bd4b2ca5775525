class DomainError(Exception):
    """A business rule said no."""


class RuleViolation(DomainError):
    """The request breaks a rule (unknown skill, window in the past, ...): 422."""


class IllegalTransition(DomainError):
    """The thing is not in a state that allows this move: 409."""

    def __init__(self, what: str, current: object, target: object) -> None:
        super().__init__(f"a {what} in state {current} cannot move to {target}")
        self.current = current
        self.target = target


class NotFound(DomainError):
    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"{what} {ident} does not exist")
        self.what = what
        self.ident = ident


class NoTechnicianAvailable(DomainError):
    """No qualified technician is free for this job or window: 422."""
