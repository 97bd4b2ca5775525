class DomainError(Exception):
    """A business rule said no."""


class IllegalTransition(DomainError):
    def __init__(self, current: object, target: object) -> None:
        super().__init__(f"a ticket in state {current} cannot move to {target}")
        self.current = current
        self.target = target


class RuleViolation(DomainError):
    """Input that is well-formed but breaks a business rule (answers 422)."""


class UnknownReference(DomainError):
    """The request refers to a customer, asset or product this tenant does not have."""

    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"{what} {ident} does not exist")
        self.what = what
        self.ident = ident
