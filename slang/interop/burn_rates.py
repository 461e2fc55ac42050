"""Burn-rate factors for importers and exporters, all through `burn_rate_factor` (spec §4.6).

OpenSLO states an alert as a burn-rate threshold over a lookback window, slang (and Sloth) as
the share of the period's error budget spent in the long window. Both directions go through
the engine's one function, so `slang export prometheus`, `slang status` and the importers agree
on every factor.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from slang.engine.outcome import burn_rate_factor
from slang.semantics import model as m

PERCENT_DIGITS = 4  # decimals kept when a budget share has no exact decimal form


def period_of(text: str) -> m.Period:
    """`monthly` or `rolling 28d` (as importers write periods) as a model period."""
    if text.startswith("rolling "):
        amount = text.split()[1]
        unit = amount[-1]
        seconds = int(amount[:-1]) * {"h": 3600, "d": 86400, "w": 604800}[unit]
        return m.Period("rolling", seconds)
    return m.Period(text)  # type: ignore[arg-type]


def factor(budget_fraction: Fraction | Decimal, period: m.Period, long_seconds: int) -> Fraction:
    return burn_rate_factor(budget_fraction, period, Fraction(long_seconds, 3600))


def budget_percent(threshold: Fraction, period_text: str, long_seconds: int) -> tuple[str, bool]:
    """The budget share (digits of a percentage) whose factor is `threshold`, and whether it is
    exact. A share that has no short decimal form is rounded to PERCENT_DIGITS decimals."""
    per_budget = factor(Fraction(1), period_of(period_text), long_seconds)
    percent = threshold / per_budget * 100
    percent = min(max(percent, Fraction(1, 10**PERCENT_DIGITS)), Fraction(100))
    exact = _decimal(percent)
    if exact is not None:
        return exact, True
    rounded = Decimal(percent.numerator) / Decimal(percent.denominator)
    text = format(rounded.quantize(Decimal(1).scaleb(-PERCENT_DIGITS)).normalize(), "f")
    return text, False


def _decimal(x: Fraction, max_digits: int = 6) -> str | None:
    for digits in range(max_digits + 1):
        scaled = x * 10**digits
        if scaled.denominator == 1:
            return format(Decimal(scaled.numerator).scaleb(-digits).normalize(), "f")
    return None
