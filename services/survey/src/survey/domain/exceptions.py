class DomainError(Exception):
    """A business rule said no."""


class IllegalTransition(DomainError):
    def __init__(self, current: object, target: object) -> None:
        super().__init__(f"a survey in state {current} cannot move to {target}")
        self.current = current
        self.target = target


class AlreadyAnswered(DomainError):
    """The single-use answer link was used already (HTTP 409)."""


class SurveyExpired(DomainError):
    """The survey (or its link) is past its expiry (HTTP 410)."""


class SurveyNotOpen(DomainError):
    """The survey has not been sent yet or was cancelled (HTTP 409)."""


class InvalidToken(DomainError):
    """The answer token is malformed or its signature does not verify (HTTP 401)."""


class InvalidAnswers(DomainError):
    """Answers that break the plan's rules (HTTP 422)."""


class NotFound(DomainError):
    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"{what} {ident} does not exist")
        self.what = what
        self.ident = ident
