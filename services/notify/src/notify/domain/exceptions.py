class DomainError(Exception):
    """A business rule said no."""


class TemplateRejected(DomainError):
    """A template that may not be saved: syntax error, unknown variable, or reaching for internals."""


class InvalidAddress(DomainError):
    """An email address or phone number that cannot receive messages."""


class IllegalTransition(DomainError):
    def __init__(self, current: object, target: object) -> None:
        super().__init__(f"a delivery in state {current} cannot move to {target}")
        self.current = current
        self.target = target
