"""Warranty (保修) and return-window (退换货) determination: pure rules, dates included.

Defaults (docs/domain.md, "Warranty and returns"): warranty one year from the purchase date, returns within
30 days of purchase, never for custom-made, special-offer or clearance items. The product says
how long; an asset's warranty card can extend (or fix) the end date.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

NON_RETURNABLE_FLAGS = ("custom_made", "special_offer", "clearance")


@dataclass(frozen=True)
class ProductTerms:
    warranty_months: int = 12
    return_window_days: int = 30
    non_returnable: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AssetTerms:
    purchase_date: date | None = None
    card_warranty_months: int | None = None  # warranty card overrides the product's months
    card_warranty_ends_on: date | None = None  # or states an explicit end date


@dataclass(frozen=True)
class Decision:
    status: str
    rule: str
    reason: str
    decided_on: date
    purchase_date: date | None = None
    warranty_ends_on: date | None = None
    return_window_ends_on: date | None = None
    returnable: bool | None = None
    non_returnable_reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "rule": self.rule,
            "reason": self.reason,
            "decided_on": self.decided_on.isoformat(),
            "purchase_date": self.purchase_date.isoformat() if self.purchase_date else None,
            "warranty_ends_on": self.warranty_ends_on.isoformat() if self.warranty_ends_on else None,
            "return_window_ends_on": self.return_window_ends_on.isoformat() if self.return_window_ends_on else None,
            "returnable": self.returnable,
            "non_returnable_reasons": list(self.non_returnable_reasons),
        }


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def determine(
    *, kind: str, today: date, product: ProductTerms | None, asset: AssetTerms | None, purchase_date: date | None = None
) -> Decision:
    terms = product or ProductTerms()
    bought = (asset.purchase_date if asset else None) or purchase_date
    if bought is None:
        return Decision("unknown", "missing.purchase_date", "no purchase date: warranty cannot be determined", today)
    if bought > today:
        return Decision("unknown", "invalid.purchase_date", "purchase date lies in the future", today, bought)

    if asset and asset.card_warranty_ends_on:
        warranty_end, w_rule = asset.card_warranty_ends_on, "warranty.card_end_date"
    elif asset and asset.card_warranty_months is not None:
        warranty_end, w_rule = (
            add_months(bought, asset.card_warranty_months) - timedelta(days=1),
            "warranty.card_months",
        )
    else:
        warranty_end, w_rule = add_months(bought, terms.warranty_months) - timedelta(days=1), "warranty.product_months"
    return_end = bought + timedelta(days=terms.return_window_days)
    blocked = sorted(f for f in terms.non_returnable if f in NON_RETURNABLE_FLAGS)
    returnable = not blocked and today <= return_end

    def decision(status: str, rule: str, reason: str) -> Decision:
        return Decision(
            status,
            rule,
            reason,
            decided_on=today,
            purchase_date=bought,
            warranty_ends_on=warranty_end,
            return_window_ends_on=return_end,
            returnable=returnable,
            non_returnable_reasons=blocked,
        )

    if kind == "return":
        if blocked:
            return decision("not_returnable", "return.non_returnable", "not returnable: " + ", ".join(blocked))
        if today <= return_end:
            return decision(
                "return_window_open",
                "return.window",
                f"within {terms.return_window_days} days of purchase (until {return_end})",
            )
    if today <= warranty_end:
        return decision("in_warranty", w_rule, f"in warranty until {warranty_end}")
    return decision("out_of_warranty", w_rule, f"warranty ended on {warranty_end}")
