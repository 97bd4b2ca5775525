class DomainError(Exception):
    """A business rule said no."""


class IllegalTransition(DomainError):
    def __init__(self, current: object, target: object) -> None:
        super().__init__(f"a ticket in state {current} cannot move to {target}")
        self.current = current
        self.target = target
