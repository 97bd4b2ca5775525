"""Money: integer minor units with an ISO 4217 currency. No floats anywhere."""

from __future__ import annotations

from dataclasses import dataclass

from billing.domain.exceptions import CurrencyMismatch, InvalidAmount, UnknownCurrency

# ISO 4217 code -> number of minor-unit digits (the currencies tenants use; extend as needed).
CURRENCIES: dict[str, int] = {
    "CNY": 2,
    "HKD": 2,
    "MOP": 2,
    "TWD": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CHF": 2,
    "CAD": 2,
    "AUD": 2,
    "NZD": 2,
    "SGD": 2,
    "MYR": 2,
    "THB": 2,
    "PHP": 2,
    "IDR": 2,
    "INR": 2,
    "VND": 0,
    "JPY": 0,
    "KRW": 0,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "HUF": 2,
    "RUB": 2,
    "TRY": 2,
    "AED": 2,
    "SAR": 2,
    "ZAR": 2,
    "BRL": 2,
    "MXN": 2,
    "CLP": 0,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JOD": 3,
}
DEFAULT_CURRENCY = "CNY"


def check_currency(code: str) -> str:
    if not isinstance(code, str) or code not in CURRENCIES:
        raise UnknownCurrency(code)
    return code


@dataclass(frozen=True, order=False)
class Money:
    amount: int  # minor units
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        check_currency(self.currency)
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise InvalidAmount(f"amount must be an integer number of minor units, got {self.amount!r}")

    @classmethod
    def zero(cls, currency: str = DEFAULT_CURRENCY) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, n: int) -> Money:
        return Money(self.amount * n, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def min(self, other: Money) -> Money:
        return self if self <= other else other

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    def format(self) -> str:
        digits = CURRENCIES[self.currency]
        sign = "-" if self.amount < 0 else ""
        a = abs(self.amount)
        if digits == 0:
            return f"{sign}{a} {self.currency}"
        return f"{sign}{a // 10**digits}.{a % 10**digits:0{digits}d} {self.currency}"


def ratio_half_up(amount: int, numerator: int, denominator: int) -> int:
    """round(amount * numerator / denominator) half away from zero, in integers."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    n = amount * numerator
    q, r = divmod(abs(n), denominator)
    if 2 * r >= denominator:
        q += 1
    return q if n >= 0 else -q
