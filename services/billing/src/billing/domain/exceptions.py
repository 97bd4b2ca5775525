"""Billing's refusals, as the shared errors the HTTP layer turns into problem+json.

DomainError is billing's own base (a consumer that meets one parks the event instead of retrying);
it is a RuleViolation (422) unless a subclass names a more specific shared error first."""

from __future__ import annotations

from fixflow_shared import errors


class DomainError(errors.RuleViolation):
    """A business rule said no (422 unless a subclass says otherwise)."""


class NotFound(errors.NotFound, DomainError):
    """404: no such quote, invoice or waiver for the tenant."""


class UnknownCurrency(DomainError):
    title = "Unknown currency"

    def __init__(self, code: object) -> None:
        super().__init__(f"{code!r} is not a supported ISO 4217 currency code")
        self.code = code


class CurrencyMismatch(DomainError):
    title = "Currency mismatch"

    def __init__(self, a: str, b: str) -> None:
        super().__init__(f"cannot combine amounts in {a} and {b}")


class InvalidAmount(DomainError):
    pass


class IllegalTransition(errors.IllegalTransition, DomainError):
    """409: the object is not in a state that allows this."""

    def __init__(self, what: str, current: object, target: object) -> None:
        super().__init__(what, current, target, detail=f"a {what} in state {current} cannot become {target}")


class AlreadySold(errors.Conflict, DomainError):
    """409: the asset has a sale invoice already."""


class ReturnWindowClosed(DomainError):
    title = "Return window closed"


class ApprovalRequired(errors.Forbidden, DomainError):
    """403: only a manager may decide this."""

    title = "Approval required"


class InsufficientCredit(DomainError):
    """The customer's credit balance does not cover the amount (422)."""

    title = "Insufficient credit"


class MoreThanDue(DomainError):
    """Credit applied beyond what the invoice still owes (422): credit never overpays."""

    title = "More than due"


class UnknownReference(DomainError):
    """A ticket or customer billing has not learned from intake's events (422): billing prices,
    waives and sells only for what intake knows."""

    title = "Unknown reference"

    def __init__(self, kind: str, ident: str, detail: str | None = None) -> None:
        super().__init__(detail or f"billing knows no {kind} {ident} (from intake)", kind=kind, id=ident)
