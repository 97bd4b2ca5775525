"""What a customer is entitled to: the warranty status, service contracts and their yearly quotas,
prepaid packages, warranty cards and approved waivers (pure).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class WarrantyStatus(StrEnum):
    IN_WARRANTY = "in_warranty"
    OUT_OF_WARRANTY = "out_of_warranty"
    RETURN_WINDOW_OPEN = "return_window_open"
    NOT_RETURNABLE = "not_returnable"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: str | None) -> WarrantyStatus:
        try:
            return cls(value) if value else cls.UNKNOWN
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True)
class ServiceContract:
    id: str
    valid_from: date
    valid_to: date
    covers_labour: bool = True
    covers_parts: bool = False
    covers_visits: bool = True
    visits_per_year: int | None = None  # None = unlimited
    visits_used: int = 0
    discount_bp: int = 0

    def active_on(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_to

    def year_start(self, day: date) -> date:
        """First day of the contract year containing `day`: quotas reset on each anniversary of
        `valid_from` (visits_used is the count within that year)."""
        return contract_year_start(self.valid_from, day)

    @property
    def visits_left(self) -> int | None:
        return None if self.visits_per_year is None else max(0, self.visits_per_year - self.visits_used)


def _anniversary(start: date, year: int) -> date:
    try:
        return start.replace(year=year)
    except ValueError:  # a contract starting on 29 February: the 28th in common years
        return date(year, 2, 28)


def contract_year_start(valid_from: date, day: date) -> date:
    """The anniversary of `valid_from` on or before `day` (valid_from itself for earlier days)."""
    if day <= valid_from:
        return valid_from
    start = _anniversary(valid_from, day.year)
    return start if start <= day else _anniversary(valid_from, day.year - 1)


def next_contract_year_start(valid_from: date, day: date) -> date:
    start = contract_year_start(valid_from, day)
    years = start.year - valid_from.year + 1
    return _anniversary(valid_from, valid_from.year + years)


@dataclass(frozen=True)
class Package:
    """Prepaid service package: visits paid in advance and/or a discount on the rest."""

    id: str
    visits_remaining: int = 0
    discount_bp: int = 0


@dataclass(frozen=True)
class WarrantyCard:
    """Prices printed on the customer's warranty card, by line code or part code."""

    id: str
    prices_minor: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Waiver:
    id: str
    amount_minor: int | None  # None = waive everything
    reason: str
    approved_by: str | None = None


@dataclass(frozen=True)
class Entitlements:
    warranty_status: WarrantyStatus = WarrantyStatus.UNKNOWN
    contract: ServiceContract | None = None
    package: Package | None = None
    warranty_card: WarrantyCard | None = None
    waivers: Sequence[Waiver] = ()
