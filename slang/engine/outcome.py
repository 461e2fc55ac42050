"""From measured numbers to what is owed: status, error budget and credits, exactly (spec §4.5-4.8).

Everything here is exact: fractions for measured values, `Decimal` for money. A value is
converted to a float only when it is written out, as the nearest double. `432 minutes down in a
30-day month is exactly 99.0 %`, which is not `below 99.0%`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from slang.semantics import model as m
from slang.semantics.values import minor_units


def satisfies(value: Fraction, op: str, target: Fraction) -> bool:
    return {
        ">=": value >= target, ">": value > target, "<=": value <= target,
        "<": value < target, "==": value == target,
    }[op]


def exact(v: Decimal | float | int | Fraction) -> Fraction:
    return v if isinstance(v, Fraction) else Fraction(v)


@dataclass(frozen=True)
class Budget:
    allowed: Fraction
    consumed: Fraction
    remaining: Fraction
    burn_rate: Fraction | None  # None when nothing is allowed (a 100 % target)


def error_budget(good: Fraction, total: Fraction, target: m.Target) -> Budget | None:
    """Only for ratio-like indicators with a `>=` target (spec §4.6)."""
    if target.op not in (">=", ">") or total == 0:
        return None
    t = exact(target.value)
    allowed = (1 - t) * total
    bad = total - good
    burn = None if t == 1 else (bad / total) / (1 - t)
    return Budget(allowed, bad, allowed - bad, burn)


NOMINAL_HOURS = {"hourly": 1, "daily": 24, "weekly": 7 * 24, "monthly": 30 * 24,
                 "quarterly": 90 * 24, "yearly": 365 * 24}


def nominal_hours(period: m.Period) -> Fraction:
    """§4.6: the nominal length of a period for burn-rate alerts, whatever the calendar says
    (a month is 30 days, a quarter 90, a year 365); a rolling window is its own length."""
    if period.kind == "rolling":
        return Fraction(period.rolling_seconds or 0, 3600)
    return Fraction(NOMINAL_HOURS[period.kind])


def burn_rate_factor(budget_fraction: Fraction | Decimal | float, period: m.Period,
                     long_window_hours: Fraction | Decimal | int) -> Fraction:
    """The burn rate at which spending `budget_fraction` of the period's error budget within a
    long window of `long_window_hours` alerts: fraction x nominal hours / window hours (2 % of a
    month's budget in 1 h is 14.4; 5 % in 6 h is 6). The one function behind `slang status`
    and exported alert rules."""
    return exact(budget_fraction) * nominal_hours(period) / exact(long_window_hours)


def credit_percent(measured: Fraction, tiers: tuple[m.CreditTier, ...]) -> Decimal:
    """The largest credit among the tiers that match; strict comparisons (spec §4.7)."""
    best = Decimal(0)
    for t in tiers:
        threshold = exact(t.threshold)
        hit = measured < threshold if t.direction == "below" else measured > threshold
        if hit and t.percent > best:
            best = t.percent
    return best


def round_money(amount: Fraction, currency: str) -> Decimal:
    """Half-up (away from zero on a tie) to the currency's minor unit, in integers from the
    exact fraction. (Dividing out to a 28-digit Decimal first could round a value a hair below
    a tie onto the tie.)"""
    digits = minor_units(currency)
    scaled = abs(amount) * 10**digits
    units = (2 * scaled.numerator + scaled.denominator) // (2 * scaled.denominator)
    sign = -1 if amount < 0 else 1
    return Decimal(sign * units).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))


def prorated_fee(fee: m.Money, fraction: Fraction) -> Fraction:
    return Fraction(fee.amount) * fraction


def credit_amount(fee: m.Money, fee_fraction: Fraction, percent: Decimal) -> Decimal:
    return round_money(prorated_fee(fee, fee_fraction) * Fraction(percent) / 100, fee.currency)


def cap_amount(fee: m.Money, fee_fraction: Fraction, cap: Decimal) -> Decimal:
    return round_money(prorated_fee(fee, fee_fraction) * Fraction(cap), fee.currency)


def to_float(v: Fraction | None) -> float | None:
    """The nearest IEEE double (Fraction -> float is correctly rounded)."""
    return None if v is None else float(v)


def to_number(v: Fraction) -> int | float:
    """Integers stay integers in the report; anything else is the nearest double."""
    return int(v) if v.denominator == 1 else float(v)
