"""Counter sales: the goods a return refunds, and the card fee a refund keeps (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from billing.domain.exceptions import InvalidAmount
from billing.domain.money import ratio_half_up
from billing.domain.price_book import PriceBook
from billing.domain.pricing import Charge, Line, ServiceKind, add_tax


@dataclass(frozen=True)
class SaleItem:
    code: str
    description: str
    quantity: int
    unit_price_minor: int


def sale_charge(*, book: PriceBook, items: tuple[SaleItem, ...]) -> Charge:
    """A sale of goods at the agreed prices (kind A, paid), taxed like the schedule."""
    if not items:
        raise InvalidAmount("a sale needs at least one item")
    lines: list[Line] = []
    for it in items:
        if it.quantity < 1 or it.unit_price_minor < 0:
            raise InvalidAmount(f"item {it.code}: quantity >= 1 and a non-negative price")
        amount = it.quantity * it.unit_price_minor
        lines.append(
            Line(
                "product",
                it.description,
                it.quantity,
                it.unit_price_minor,
                amount,
                True,
                "goods sold at the agreed price",
                "sale.goods",
                amount,
                it.code,
            )
        )
    subtotal = sum(ln.amount_minor for ln in lines)
    tax = add_tax(lines, book, subtotal)
    return Charge(
        currency=book.currency,
        service_kind=ServiceKind.PAID,
        lines=tuple(lines),
        subtotal_minor=subtotal,
        tax_minor=tax,
        total_minor=sum(ln.amount_minor for ln in lines),
        list_total_minor=subtotal,
    )


def card_fee_minor(*, book: PriceBook, card_paid_minor: int) -> int:
    return ratio_half_up(card_paid_minor, book.card_fee_bp, 10_000) if card_paid_minor > 0 else 0
