"""A tenant's fee schedule (price book): prices, tax, parts and how resolution codes classify work (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from billing.domain.exceptions import InvalidAmount
from billing.domain.money import DEFAULT_CURRENCY, check_currency

FaultCause = Literal["quality", "customer", "unknown"]
WorkType = Literal["inspection", "adjustment", "part_replacement", "reinstall", "repair", "internal"]


@dataclass(frozen=True)
class PartPrice:
    cost_minor: int
    list_minor: int
    description: str = ""


@dataclass(frozen=True)
class PriceBook:
    """One tenant's fee schedule from `effective_from` on (versions never change once used)."""

    tenant_id: str
    version: int
    effective_from: date
    currency: str = DEFAULT_CURRENCY
    visit_fee_minor: int = 2000
    adjustment_fee_minor: int = 2000
    fitting_labour_minor: int = 3000  # fixed labour for fitting a part / reinstalling
    labour_per_hour_minor: int | None = None  # when set, repairs bill labour by the minute
    parts_basis: Literal["cost", "list"] = "cost"
    freight_minor: int = 0
    # Retailer rule: part replacement on the first visit costs the visit fee only; a second visit to
    # the same address charges the part plus fitting labour (and, per this flag, no visit fee).
    second_visit_charges_visit_fee: bool = False
    tax_rate_bp: int = 600  # basis points (600 = 6 %)
    tax_inclusive: bool = True  # schedule prices already include tax (the tax part is shown)
    parts: Mapping[str, PartPrice] = field(default_factory=dict)
    # resolution code (from dispatch) -> (work type, fault cause)
    resolution_codes: Mapping[str, tuple[WorkType, FaultCause]] = field(default_factory=dict)
    waiver_approval_threshold_minor: int = 5000
    return_window_days: int = 30
    # Returns (退换货): the customer pays the return freight (`freight_minor`) and the card fee, a
    # share in basis points of what was paid by card (e.g. 60 = 0.6 %).
    card_fee_bp: int = 0

    def __post_init__(self) -> None:
        check_currency(self.currency)
        for name in (
            "visit_fee_minor",
            "adjustment_fee_minor",
            "fitting_labour_minor",
            "freight_minor",
            "waiver_approval_threshold_minor",
        ):
            if getattr(self, name) < 0:
                raise InvalidAmount(f"{name} must not be negative")
        if self.labour_per_hour_minor is not None and self.labour_per_hour_minor < 0:
            raise InvalidAmount("labour_per_hour_minor must not be negative")
        if not 0 <= self.tax_rate_bp <= 10_000:
            raise InvalidAmount("tax_rate_bp must be within 0..10000")
        if not 0 <= self.card_fee_bp <= 10_000:
            raise InvalidAmount("card_fee_bp must be within 0..10000")
        for code, p in self.parts.items():
            if p.cost_minor < 0 or p.list_minor < 0:
                raise InvalidAmount(f"part {code} has a negative price")

    def part_price(self, code: str) -> PartPrice | None:
        return self.parts.get(code)

    def classify(self, resolution_code: str, *, has_parts: bool) -> tuple[WorkType, FaultCause]:
        if resolution_code in self.resolution_codes:
            return self.resolution_codes[resolution_code]
        rc = resolution_code.lower()
        cause: FaultCause = (
            "customer"
            if any(w in rc for w in ("customer", "misuse", "damage"))
            else ("quality" if any(w in rc for w in ("quality", "defect", "fault")) else "unknown")
        )
        if any(w in rc for w in ("internal", "inspection_internal", "admin")):
            return "internal", cause
        if "reinstall" in rc:
            return "reinstall", cause
        if "adjust" in rc:
            return "adjustment", cause
        if has_parts or "replace" in rc:
            return "part_replacement", cause
        if "inspect" in rc or "no_fault" in rc:
            return "inspection", cause
        return "repair", cause


def demo_price_book(tenant_id: str) -> PriceBook:
    """The retailer's fee schedule (docs/domain.md), used for a tenant that has not configured its own."""
    return PriceBook(
        tenant_id=tenant_id,
        version=0,
        effective_from=date(2000, 1, 1),
        currency="CNY",
        visit_fee_minor=2000,
        adjustment_fee_minor=2000,
        fitting_labour_minor=3000,
        parts={
            "HINGE-35": PartPrice(1500, 2500, "cabinet hinge 35 mm"),
            "DRAWER-RAIL": PartPrice(2800, 4500, "drawer rail pair"),
            "PUMP-W1": PartPrice(9000, 15000, "washer drain pump"),
        },
    )
