class DomainError(Exception):
    """A business rule said no (answered as 422 unless a subclass says otherwise)."""


class UnknownCurrency(DomainError):
    def __init__(self, code: object) -> None:
        super().__init__(f"{code!r} is not a supported ISO 4217 currency code")
        self.code = code


class CurrencyMismatch(DomainError):
    def __init__(self, a: str, b: str) -> None:
        super().__init__(f"cannot combine amounts in {a} and {b}")


class InvalidAmount(DomainError):
    pass


class IllegalTransition(DomainError):
    """Answered as 409: the object is not in a state that allows this."""

    def __init__(self, what: str, current: object, target: object) -> None:
        super().__init__(f"a {what} in state {current} cannot become {target}")
        self.current = current
        self.target = target


class ReturnWindowClosed(DomainError):
    pass


class ApprovalRequired(DomainError):
    pass


class InsufficientCredit(DomainError):
    """The customer's credit balance does not cover the amount (422)."""


class MoreThanDue(DomainError):
    """Credit applied beyond what the invoice still owes (422): credit never overpays."""
