"""Exact values as text for people: percentages, measured values, durations and money.

A review pack is read next to the contract, so a figure must never look as if it met a target
it missed. Values are rounded from the exact `Fraction` (never from a float), and a value that
differs from its target is given as many digits as it takes to show that it differs: a
measured 99.89996 % against a 99.9 % target reads `99.89996%`, not `99.900%`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

OPS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "="}
MAX_EXTRA_DIGITS = 8


def _round(v: Fraction, digits: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(v.numerator) / Decimal(v.denominator)
        return exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)


def _plain(d: Decimal, keep: bool) -> str:
    text = f"{d:f}"
    if not keep and "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def number_text(v: Fraction, digits: int, near: tuple[Fraction, ...] = ()) -> str:
    """`v` rounded to `digits` decimals (trailing zeros dropped), with more digits while it
    would read the same as one of `near` (a target, 100 %) that `v` is not."""
    for extra in range(MAX_EXTRA_DIGITS + 1):
        d = _round(v, digits + extra)
        if not any(v != n and d == _round(n, digits + extra) for n in near):
            return _plain(d, keep=extra > 0)
    return _plain(_round(v, digits + MAX_EXTRA_DIGITS), keep=True)


def percent_text(v: Fraction, target: Fraction | None = None, digits: int = 3) -> str:
    """A fraction as a percentage: 0.997162 -> `99.716%`."""
    near = (Fraction(100),) + (() if target is None else (target * 100,))
    return number_text(v * 100, digits, near) + "%"


def value_text(v: Fraction, unit: str | None, target: Fraction | None = None,
               digits: int = 1) -> str:
    """A measured value in its column's unit: `245.1 ms`, `3`."""
    near = () if target is None else (target,)
    text = number_text(v, digits, near)
    return f"{text} {unit}" if unit else text


def target_text(op: str, value: Fraction, fraction: bool, unit: str | None) -> str:
    shown = percent_text(value, digits=6) if fraction else value_text(value, unit, digits=6)
    return f"{OPS.get(op, op)} {shown}"


def duration_text(seconds: Fraction | int | float) -> str:
    """Whole minutes for people: `1 h 30 min`, `45 min`, `2 d 3 h`; under a minute `< 1 min`;
    zero `0`."""
    s = Fraction(seconds)
    if s <= 0:
        return "0"
    minutes = int(s // 60)
    if minutes == 0:
        return "< 1 min"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "",
             f"{mins} min" if mins else ""]
    return " ".join(p for p in parts if p)


def money_text(amount: Decimal, currency: str) -> str:
    return f"{amount} {currency}"


def share_text(part: Fraction, whole: Fraction) -> str:
    """`part` as a percentage of `whole`, one decimal: budget consumption (`283.8%`)."""
    if whole == 0:
        return "-"
    return number_text(part / whole * 100, 1) + "%"
