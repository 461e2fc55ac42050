"""An agreement's multi-window burn-rate alerts: the `burn_rate { ... }` block, checked, or the
defaults when there is none (spec §4.6).

The defaults are the SRE workbook set, `page 2% in 1h / 5m`, `page 5% in 6h / 30m` and
`ticket 10% in 3d / 6h` (for a monthly period: factors 14.4, 6 and 1). A default whose long
window is longer than the agreement's nominal period (the 3-day window of a daily agreement)
cannot be written by hand either (SLG0431), so it is left out. The resolver fills the defaults
in, so an agreement without the block and one with the same three lines written out mean the
same thing, and `slang diff` sees no change between them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

from slang.diagnostics import Diagnostic, error
from slang.engine.outcome import nominal_hours
from slang.semantics import model as m
from slang.semantics.values import did_you_mean
from slang.syntax import ast
from slang.syntax.span import Span

SEVERITIES = ("page", "ticket")

DEFAULT_BURN_RATES: tuple[m.BurnRateWindow, ...] = (
    m.BurnRateWindow("page", Fraction(2, 100), dt.timedelta(hours=1), dt.timedelta(minutes=5)),
    m.BurnRateWindow("page", Fraction(5, 100), dt.timedelta(hours=6), dt.timedelta(minutes=30)),
    m.BurnRateWindow("ticket", Fraction(10, 100), dt.timedelta(days=3), dt.timedelta(hours=6)),
)


def burn_rates(items: tuple[ast.AgreementItem, ...], period: m.Period | None,
               diags: list[Diagnostic]) -> tuple[m.BurnRateWindow, ...]:
    """The agreement's alerts: its `burn_rate` block checked (a bad line is reported and left
    out), or the defaults that fit its period. A second block is reported and ignored."""
    blocks = [i for i in items if isinstance(i, ast.BurnRate)]
    if not blocks:
        return default_burn_rates(period)
    first, *others = blocks
    for other in others:
        diags.append(error(
            "SLG0410", "`burn_rate` is given twice in this agreement", _head(other),
            f"first given at line {first.span.line}; put every alert in one block",
        ))
    found = (_window(w, period, diags) for w in first.windows)
    return tuple(w for w in found if w is not None)


def default_burn_rates(period: m.Period | None) -> tuple[m.BurnRateWindow, ...]:
    if period is None:
        return DEFAULT_BURN_RATES
    limit = nominal_hours(period) * 3600
    return tuple(w for w in DEFAULT_BURN_RATES if w.long_window.total_seconds() <= limit)


def _window(w: ast.BurnRateWindow, period: m.Period | None,
            diags: list[Diagnostic]) -> m.BurnRateWindow | None:
    ok = True
    severity = w.severity.name
    if severity not in SEVERITIES:
        diags.append(error(
            "SLG0430", f"unknown burn-rate severity `{severity}`", w.severity.span,
            did_you_mean(severity, SEVERITIES) or "one of: page, ticket",
        ))
        ok = False
    fraction = Fraction(w.budget.value)
    if not 0 < fraction <= 1:
        diags.append(error(
            "SLG0431", f"a burn-rate alert on {w.budget.text}% of the error budget is out of range",
            w.budget.span,
            "the share of the period's error budget is above 0% and at most 100%",
        ))
        ok = False
    if isinstance(w.long, ast.BadDurationLit) or isinstance(w.short, ast.BadDurationLit):
        return None  # reported by the parser (SLG0303)
    long_s, short_s = Fraction(w.long.seconds), Fraction(w.short.seconds)
    if short_s <= 0 or short_s >= long_s:
        diags.append(error(
            "SLG0431", f"the short window {_text(w.short)} is not shorter than the long window "
            f"{_text(w.long)}", w.short.span,
            "the short window (after `/`) confirms the burn is still going on: make it above 0 "
            "and shorter than the long one, e.g. `in 1h / 5m`",
        ))
        ok = False
    if period is not None and long_s > nominal_hours(period) * 3600:
        diags.append(error(
            "SLG0431", f"the long window {_text(w.long)} is longer than the {period.label} "
            "period", w.long.span,
            f"a window of at most {_hours_text(nominal_hours(period))} fits the period",
        ))
        ok = False
    if not ok:
        return None
    return m.BurnRateWindow(severity, fraction, _delta(long_s), _delta(short_s), span=w.span)


def _delta(seconds: Fraction) -> dt.timedelta:
    return dt.timedelta(microseconds=round(seconds * 1_000_000))


def _text(d: ast.DurationLit) -> str:
    return f"{d.amount}{d.unit}"


def _hours_text(hours: Fraction) -> str:
    return f"{hours}h" if hours.denominator == 1 else f"{float(hours):g}h"


def _head(block: ast.BurnRate) -> Span:
    s = block.span
    return Span(s.file, s.line, s.col, s.line, s.col + len("burn_rate"))


def burn_rate_text(w: m.BurnRateWindow) -> str:
    """`page 2% in 1h / 5m`: the alert as it would be written."""
    return (f"{w.severity} {percent_text(w.budget_fraction)} in {duration_text(w.long_window)} / "
            f"{duration_text(w.short_window)}")


def percent_text(fraction: Fraction) -> str:
    """An exact fraction as a percentage without trailing zeros: 1/50 is `2%`, 1/400 `0.25%`
    (shares come from decimal literals, so the expansion terminates; others are rounded to
    six places)."""
    value = (Decimal(fraction.numerator) * 100 / Decimal(fraction.denominator))
    text = format(value.quantize(Decimal("0.000001")).normalize(), "f")
    return f"{text}%"


def duration_text(d: dt.timedelta) -> str:
    """The largest unit that divides the length: `3d`, `6h`, `30m`, `90s`, `1500ms`."""
    micro = d // dt.timedelta(microseconds=1)
    for unit, size in (("d", 86_400_000_000), ("h", 3_600_000_000), ("m", 60_000_000),
                       ("s", 1_000_000), ("ms", 1000)):
        if micro % size == 0:
            return f"{micro // size}{unit}"
    return f"{micro / 1_000_000:g}s"
