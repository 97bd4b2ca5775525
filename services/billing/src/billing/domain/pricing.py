"""The charge computation (pure: no I/O); price books are in price_book.py, entitlements in entitlements.py.

`compute_charge` turns the work done on a visit plus the customer's entitlements into lines, each
with the rule that priced it and a human reason (why charged, why free). Order of the rules:

1. service kind D (internal work)            -> every line free
2. in warranty + quality fault (kind C)      -> every line free (parts, labour, visit, freight)
3. service contract (kind B)                 -> covered categories free, visits within the yearly quota
4. prepaid package                           -> visit free while prepaid visits remain
5. warranty card                             -> per line, the lower of fee schedule and card price
6. discounts and approved waivers            -> negative lines, capped so the total never goes below 0
7. tax                                       -> explicit: a tax line (exclusive) or the included part

Invariants (property-tested): lines sum to the total; total >= 0; in-warranty quality repairs cost
nothing; a warranty-card price lower than the schedule always applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Literal

from billing.domain.entitlements import Entitlements, Package, ServiceContract, Waiver, WarrantyCard, WarrantyStatus
from billing.domain.exceptions import CurrencyMismatch, InvalidAmount
from billing.domain.money import check_currency, ratio_half_up
from billing.domain.price_book import FaultCause, PriceBook, WorkType


class ServiceKind(StrEnum):
    PAID = "A"  # out of warranty
    CONTRACT = "B"  # per maintenance contract
    FREE = "C"  # in warranty
    INTERNAL = "D"  # inspection, admin


LineCode = Literal["visit", "adjustment", "labour", "part", "freight", "discount", "waiver", "tax", "product"]


# --- work done ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartUsed:
    code: str
    quantity: int = 1


@dataclass(frozen=True)
class WorkDone:
    visit_number: int = 1
    resolution_code: str = "repair"
    labour_minutes: int = 0
    parts: Sequence[PartUsed] = ()
    work_type: WorkType | None = None  # when known; else classified from the resolution code
    fault_cause: FaultCause | None = None
    adjustments: int = 1  # number of adjustments (drawers, hinges, levelling) for adjustment work
    freight: bool = False  # sent back to the factory (one-way freight)
    internal: bool = False


# --- result ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    code: LineCode
    description: str
    quantity: int
    unit_price_minor: int  # the schedule's unit price (before coverage)
    amount_minor: int  # what this line adds to the total
    charged: bool
    reason: str
    rule: str
    list_amount_minor: int = 0  # quantity x schedule price, for "what it would have cost"
    ref: str = ""  # part code for part lines


@dataclass(frozen=True)
class Charge:
    currency: str
    service_kind: ServiceKind
    lines: tuple[Line, ...]
    subtotal_minor: int  # sum of non-tax lines
    tax_minor: int  # tax in the total (a line when exclusive, the included part otherwise)
    total_minor: int
    list_total_minor: int  # what the work costs at schedule prices, before any coverage
    waived_reason: str | None = None
    waived_rule: str | None = None
    waiver_approved_by: str | None = None

    @property
    def is_free(self) -> bool:
        return self.total_minor == 0


class UnknownPart(InvalidAmount):
    pass


def _fmt(minor: int, currency: str) -> str:
    from billing.domain.money import Money

    return Money(minor, currency).format()


def _base_lines(book: PriceBook, work: WorkDone, work_type: WorkType) -> list[Line]:
    """Lines at schedule prices, each saying which schedule rule priced it."""
    cur = book.currency
    lines: list[Line] = []

    def add(code: LineCode, desc: str, qty: int, unit: int, reason: str, rule: str, ref: str = "") -> None:
        lines.append(Line(code, desc, qty, unit, qty * unit, True, reason, rule, qty * unit, ref))

    second = work.visit_number >= 2
    if work_type == "part_replacement":
        if not second:
            add(
                "visit",
                "visit fee",
                1,
                book.visit_fee_minor,
                f"part replacement on a first visit: the visit fee only ({_fmt(book.visit_fee_minor, cur)})",
                "schedule.part_replacement.first_visit",
            )
            for p in work.parts:
                price = book.part_price(p.code)
                unit = 0 if price is None else (price.cost_minor if book.parts_basis == "cost" else price.list_minor)
                lines.append(
                    Line(
                        "part",
                        f"part {p.code}",
                        p.quantity,
                        unit,
                        0,
                        False,
                        "part replacement on a first visit: part not charged under the fee schedule",
                        "schedule.part_replacement.first_visit",
                        0,
                        p.code,
                    )
                )
        else:
            if book.second_visit_charges_visit_fee:
                add(
                    "visit",
                    "visit fee",
                    1,
                    book.visit_fee_minor,
                    "second visit: visit fee per schedule",
                    "schedule.visit",
                )
            for p in work.parts:
                price = book.part_price(p.code)
                if price is None:
                    raise UnknownPart(f"part {p.code} has no price in price book v{book.version}")
                unit = price.cost_minor if book.parts_basis == "cost" else price.list_minor
                add(
                    "part",
                    f"part {p.code}" + (f" ({price.description})" if price.description else ""),
                    p.quantity,
                    unit,
                    f"second visit to the same address: part at {book.parts_basis} price",
                    "schedule.part_replacement.second_visit",
                    p.code,
                )
            add(
                "labour",
                "fitting labour",
                1,
                book.fitting_labour_minor,
                "second visit to the same address: fitting labour",
                "schedule.part_replacement.second_visit",
            )
    elif work_type == "reinstall":
        add(
            "labour",
            "fitting labour",
            1,
            book.fitting_labour_minor,
            "reinstallation: fitting labour",
            "schedule.reinstall",
        )
        add("visit", "visit fee", 1, book.visit_fee_minor, "reinstallation: plus the visit fee", "schedule.reinstall")
    elif work_type == "adjustment":
        add("visit", "visit fee", 1, book.visit_fee_minor, "visit fee per schedule", "schedule.visit")
        add(
            "adjustment",
            "adjustment (drawers, hinges, levelling)",
            max(1, work.adjustments),
            book.adjustment_fee_minor,
            "adjustment fee per schedule",
            "schedule.adjustment",
        )
    else:  # inspection, repair, internal
        add("visit", "visit fee", 1, book.visit_fee_minor, "visit fee per schedule", "schedule.visit")
        if work.labour_minutes > 0 and book.labour_per_hour_minor:
            unit = ratio_half_up(book.labour_per_hour_minor, work.labour_minutes, 60)
            add(
                "labour",
                f"labour {work.labour_minutes} min",
                1,
                unit,
                f"labour at {_fmt(book.labour_per_hour_minor, cur)} per hour",
                "schedule.labour_per_hour",
            )
        for p in work.parts:
            price = book.part_price(p.code)
            if price is None:
                raise UnknownPart(f"part {p.code} has no price in price book v{book.version}")
            unit = price.cost_minor if book.parts_basis == "cost" else price.list_minor
            add(
                "part", f"part {p.code}", p.quantity, unit, f"part at {book.parts_basis} price", "schedule.part", p.code
            )
    if work.freight and book.freight_minor:
        add(
            "freight",
            "one-way freight to the factory",
            1,
            book.freight_minor,
            "freight per schedule",
            "schedule.freight",
        )
    return lines


def _free(line: Line, reason: str, rule: str) -> Line:
    return replace(line, amount_minor=0, charged=False, reason=reason, rule=rule)


def compute_charge(*, book: PriceBook, work: WorkDone, entitlements: Entitlements, on: date) -> Charge:
    work_type, cause = _classify(book, work)
    lines = _base_lines(book, work, work_type)
    list_total = sum(ln.list_amount_minor for ln in lines)
    kind, lines = _covered(lines, work_type, cause, entitlements, on, book.currency)
    subtotal = sum(ln.amount_minor for ln in lines)
    approved_by: str | None = None
    if kind not in (ServiceKind.INTERNAL, ServiceKind.FREE) and subtotal > 0:
        subtotal = _discount(lines, subtotal, entitlements, on)
        subtotal, approved_by = _waive(lines, subtotal, entitlements.waivers)
    tax = add_tax(lines, book, subtotal)
    total = sum(ln.amount_minor for ln in lines)
    assert total >= 0, "a charge can never be negative"
    waived_reason, waived_rule = _why_free(lines) if total == 0 else (None, None)
    return Charge(
        currency=book.currency,
        service_kind=kind,
        lines=tuple(lines),
        subtotal_minor=subtotal,
        tax_minor=tax,
        total_minor=total,
        list_total_minor=list_total,
        waived_reason=waived_reason,
        waived_rule=waived_rule,
        waiver_approved_by=approved_by,
    )


def _classify(book: PriceBook, work: WorkDone) -> tuple[WorkType, FaultCause]:
    """The work type and fault cause (as reported, else classified from the resolution code)."""
    classified_type, classified_cause = book.classify(work.resolution_code, has_parts=bool(work.parts))
    work_type: WorkType = work.work_type or classified_type
    cause: FaultCause = work.fault_cause or classified_cause
    if work.internal:
        work_type = "internal"
    for p in work.parts:
        if p.quantity < 1:
            raise InvalidAmount(f"part {p.code}: quantity must be at least 1")
    if work.labour_minutes < 0:
        raise InvalidAmount("labour minutes must not be negative")
    return work_type, cause


def _covered(
    lines: list[Line], work_type: WorkType, cause: FaultCause, ent: Entitlements, on: date, cur: str
) -> tuple[ServiceKind, list[Line]]:
    """Rules 1-5: internal work and in-warranty repairs are free; otherwise a contract, a prepaid
    package and a warranty card each take off what they cover."""
    if work_type == "internal":
        return ServiceKind.INTERNAL, [
            _free(ln, "internal work (service kind D) is never charged to a customer", "kind.internal") for ln in lines
        ]
    if ent.warranty_status == WarrantyStatus.IN_WARRANTY and cause != "customer":
        why = (
            "in warranty: a quality fault is repaired free (parts, labour, visit and freight)"
            if cause == "quality"
            else "in warranty and no customer-caused damage recorded: repaired free"
        )
        return ServiceKind.FREE, [_free(ln, why, "warranty.quality_repair_free") for ln in lines]
    contract = ent.contract if ent.contract and ent.contract.active_on(on) else None
    lines, covered_any = _contract_coverage(lines, contract)
    lines = _package_visit(lines, ent.package)
    lines = _card_prices(lines, ent.warranty_card, cur)
    return (ServiceKind.CONTRACT if covered_any else ServiceKind.PAID), lines


def _contract_coverage(lines: list[Line], contract: ServiceContract | None) -> tuple[list[Line], bool]:
    """Visits (within the yearly quota), labour and parts the active contract covers; True when it
    covered anything."""
    if contract is None:
        return lines, False
    visits_left = contract.visits_left
    covered_any = False
    new: list[Line] = []
    for ln in lines:
        if ln.charged:
            if ln.code == "visit" and contract.covers_visits and (visits_left is None or visits_left > 0):
                if visits_left is not None:
                    visits_left -= 1
                ln = _free(
                    ln,
                    f"service contract {contract.id} covers visits"
                    + ("" if contract.visits_per_year is None else f" ({contract.visits_per_year} a year)"),
                    "contract.covers_visits",
                )
                covered_any = True
            elif ln.code in ("labour", "adjustment") and contract.covers_labour:
                ln = _free(ln, f"service contract {contract.id} covers labour", "contract.covers_labour")
                covered_any = True
            elif ln.code == "part" and contract.covers_parts:
                ln = _free(ln, f"service contract {contract.id} covers parts", "contract.covers_parts")
                covered_any = True
        new.append(ln)
    return new, covered_any


def _package_visit(lines: list[Line], pkg: Package | None) -> list[Line]:
    """A prepaid package pays for the first charged visit."""
    if pkg and pkg.visits_remaining > 0:
        for i, ln in enumerate(lines):
            if ln.code == "visit" and ln.charged:
                lines[i] = _free(
                    ln,
                    f"prepaid package {pkg.id}: visit already paid ({pkg.visits_remaining} left before this one)",
                    "package.prepaid_visit",
                )
                break
    return lines


def _card_prices(lines: list[Line], card: WarrantyCard | None, cur: str) -> list[Line]:
    """Per charged line, the warranty card's price when it is lower than the schedule's."""
    if not card:
        return lines
    out: list[Line] = []
    for ln in lines:
        if ln.charged:
            key = ln.ref if ln.code == "part" else ln.code
            card_unit = card.prices_minor.get(key)
            if card_unit is not None and 0 <= card_unit < ln.unit_price_minor:
                ln = replace(
                    ln,
                    amount_minor=card_unit * ln.quantity,
                    reason=f"warranty card {card.id} price {_fmt(card_unit, cur)} is lower than the fee "
                    f"schedule's {_fmt(ln.unit_price_minor, cur)}: the lower applies",
                    rule="warranty_card.lower_price",
                )
        out.append(ln)
    return out


def _discount(lines: list[Line], subtotal: int, ent: Entitlements, on: date) -> int:
    """Rule 6a: the larger of the contract's and the package's discount, appended as one line;
    returns the subtotal after it."""
    best: tuple[int, str] | None = None
    if ent.contract and ent.contract.active_on(on) and ent.contract.discount_bp > 0:
        best = (ent.contract.discount_bp, f"contract {ent.contract.id}")
    if ent.package and ent.package.discount_bp > 0 and (best is None or ent.package.discount_bp > best[0]):
        best = (ent.package.discount_bp, f"package {ent.package.id}")
    if best:
        amt = min(subtotal, ratio_half_up(subtotal, min(best[0], 10_000), 10_000))
        if amt > 0:
            lines.append(
                Line(
                    "discount",
                    f"discount {best[0] / 100:g}%",
                    1,
                    -amt,
                    -amt,
                    True,
                    f"{best[1]} gives {best[0] / 100:g}% off",
                    "discount.entitlement",
                )
            )
            subtotal -= amt
    return subtotal


def _waive(lines: list[Line], subtotal: int, waivers: Sequence[Waiver]) -> tuple[int, str | None]:
    """Rule 6b: approved waivers, appended as negative lines until nothing is left to charge;
    returns the subtotal after them and who approved the first one applied."""
    approved_by: str | None = None
    for w in waivers:
        if subtotal <= 0:
            break
        if w.amount_minor is not None and w.amount_minor < 0:
            raise InvalidAmount("a waiver amount must not be negative")
        amt = subtotal if w.amount_minor is None else min(subtotal, w.amount_minor)
        if amt <= 0:
            continue
        lines.append(
            Line(
                "waiver",
                f"waiver {w.id}",
                1,
                -amt,
                -amt,
                True,
                f"waived: {w.reason}" + (f" (approved by {w.approved_by})" if w.approved_by else ""),
                "waiver.approved",
            )
        )
        subtotal -= amt
        approved_by = approved_by or w.approved_by
    return subtotal, approved_by


def add_tax(lines: list[Line], book: PriceBook, subtotal: int) -> int:
    """Rule 7: the tax in `subtotal` at the book's rate: the included part when prices include tax,
    else a tax line appended to `lines`. Returns the tax."""
    tax = 0
    if subtotal > 0 and book.tax_rate_bp:
        if book.tax_inclusive:
            tax = ratio_half_up(subtotal, book.tax_rate_bp, 10_000 + book.tax_rate_bp)
        else:
            tax = ratio_half_up(subtotal, book.tax_rate_bp, 10_000)
            lines.append(
                Line(
                    "tax",
                    f"VAT {book.tax_rate_bp / 100:g}%",
                    1,
                    tax,
                    tax,
                    True,
                    f"tax at {book.tax_rate_bp / 100:g}% on the charged amount",
                    "tax.exclusive",
                )
            )
    return tax


def _why_free(lines: list[Line]) -> tuple[str, str]:
    """The reason and rule of a charge that comes to nothing: the first rule that freed a line."""
    free_rules = [ln.rule for ln in lines if not ln.charged] + [ln.rule for ln in lines if ln.code == "waiver"]
    rule = free_rules[0] if free_rules else "schedule.nothing_to_charge"
    return next((ln.reason for ln in lines if ln.rule == rule), "nothing to charge"), rule


def ensure_same_currency(book: PriceBook, currency: str) -> None:
    if check_currency(currency) != book.currency:
        raise CurrencyMismatch(book.currency, currency)
