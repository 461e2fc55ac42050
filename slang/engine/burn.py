"""Multi-window burn-rate checks (spec §4.6, the agreement's `burn_rate` block).

An alert `page 2% in 1h / 5m` fires when the burn rate over the hour before `--as-of` and over
the five minutes before it both exceed the factor that spends 2 % of the period's error budget
in one hour (`burn_rate_factor`: 14.4 for a month). The rate over a window is measured by the
engine itself, `Executor.measure` over the window as if it were a period, so hours, exclusions,
`as available` time, keys and conditions count exactly as they do for the period:

    rate = (bad / total) / (1 - t)

with bad and total the bad and all events (ratio), downtime and counted seconds (uptime), or
bad and all slices (timeslices) inside the window; for `slice_mean` of a ratio the bad share
is 1 - the mean of the slice ratios. A window with nothing counted has no rate
and does not fire. Windows slide across period boundaries (the alert asks "is the service
burning budget fast now?"), but not back before the agreement's `effective` start; a window of
a slice objective is widened back to the slice boundary of the running period's grid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

from slang.engine.arrow import US, Executor, Measure
from slang.engine.outcome import burn_rate_factor
from slang.engine.periods import PeriodInstance, effective_bounds
from slang.plan.plan import Evaluation
from slang.semantics import model as m


@dataclass(frozen=True)
class WindowRate:
    """The burn rate over `[start_us, end_us)`; None when nothing was counted in it."""

    start_us: int
    end_us: int
    rate: Fraction | None
    bad: Fraction | None = None
    total: Fraction | None = None


@dataclass(frozen=True)
class BurnCheck:
    """One alert of the agreement checked at `--as-of`."""

    alert: m.BurnRateWindow
    factor: Fraction
    long: WindowRate
    short: WindowRate

    @property
    def firing(self) -> bool:
        return all(w.rate is not None and w.rate > self.factor for w in (self.long, self.short))


def has_burn_rate(o: m.Objective) -> bool:
    """Burn rates exist where an error budget does: ratio, uptime, timeslices and slice_mean
    of a ratio, with a `>=`/`>` target below 100 % (at 100 % nothing may be spent)."""
    ind = o.indicator
    budgeted = isinstance(ind, m.RatioIndicator | m.UptimeIndicator | m.TimeslicesIndicator) or (
        isinstance(ind, m.SliceMeanIndicator) and isinstance(ind.inner, m.RatioIndicator))
    return budgeted and o.target.op in (">=", ">") and o.target.value < 1


def burn_rate_of(o: m.Objective, meas: Measure) -> Fraction | None:
    """(bad / total) / (1 - t) of one measurement; None without a budget or without data.
    For `slice_mean` of a ratio the measured value is (sum of slice ratios) / slices, so the
    bad share is 1 - measured."""
    if not has_burn_rate(o) or meas.measured is None:
        return None
    room = 1 - Fraction(o.target.value)
    if isinstance(o.indicator, m.SliceMeanIndicator):
        return (1 - meas.measured) / room
    if meas.good is None or not meas.total:
        return None
    return (meas.total - meas.good) / meas.total / room


def burn_checks(executor: Executor, ev: Evaluation, period: PeriodInstance
                ) -> tuple[BurnCheck, ...]:
    """Every alert of the evaluation's agreement, for its objective, at the executor's as-of."""
    if not has_burn_rate(ev.objective):
        return ()
    a = ev.agreement
    out = []
    for alert in a.burn_rates:
        hours = Fraction(_us(alert.long_window), 3600 * US)
        out.append(BurnCheck(
            alert, burn_rate_factor(alert.budget_fraction, a.period, hours),
            window_rate(executor, ev, period, _us(alert.long_window)),
            window_rate(executor, ev, period, _us(alert.short_window)),
        ))
    return tuple(out)


def window_rate(executor: Executor, ev: Evaluation, period: PeriodInstance, length_us: int
                ) -> WindowRate:
    """The burn rate over the `length_us` before the executor's as-of."""
    end = executor.as_of_us
    start = window_start(ev, period, end - length_us)
    if start >= end:
        return WindowRate(start, end, None)
    window = PeriodInstance("window", start, end, start, end, complete=True)
    meas = executor.measure(ev, window)
    return _rate(ev.objective, meas, start, end)


def window_start(ev: Evaluation, period: PeriodInstance, start_us: int) -> int:
    """Not before the agreement's `effective` start; on the slice grid for timeslices."""
    eff_lo, _ = effective_bounds(ev.agreement)
    if eff_lo is not None:
        start_us = max(start_us, eff_lo)
    ind = ev.objective.indicator
    if isinstance(ind, m.TimeslicesIndicator | m.SliceMeanIndicator):
        size = ind.slice_seconds * US
        start_us = period.start_us + (start_us - period.start_us) // size * size
    return start_us


def _rate(o: m.Objective, meas: Measure, start: int, end: int) -> WindowRate:
    rate = burn_rate_of(o, meas)
    if rate is None or meas.good is None or meas.total is None:
        return WindowRate(start, end, rate)
    return WindowRate(start, end, rate, meas.total - meas.good, meas.total)


def _us(delta: dt.timedelta) -> int:
    return delta // dt.timedelta(microseconds=1)
