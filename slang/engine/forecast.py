"""Early warning for a running period: the projected end-of-period value, how much of the error
budget is left, and when it runs out at the current burn rate (docs/semantics.md, "Forecast").

Everything is exact. Time is the agreement's *counted* time (its hours minus its exclusions),
as for the measurement itself: with E the counted time so far, F the counted time of the whole
period and b the burn rate so far (spec §4.6: (bad / total) / (1 - t)),

    budget remaining  = 1 - b * E / F      (the share of the whole period's budget not spent)
    exhaustion        = the instant at which the counted time since the period's start
                        reaches F / b      (only when b > 1: at b <= 1 the budget lasts)

Both assume that the rest of the period goes on as it has so far: events keep arriving at the
same rate with the same share of bad ones, downtime accumulates at the same rate. The projected
value is the engine's own (`slang.engine.results.decide`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from slang.engine import intervals as iv
from slang.engine.burn import burn_rate_of
from slang.engine.calendar_time import US, from_us, local_date, to_us
from slang.engine.periods import (
    PeriodInstance,
    date_label,
    effective_bounds,
    hour_bounds,
    hour_label,
    local_midnight_us,
    next_start_date,
    period_start_date,
    rolling_label,
)
from slang.engine.results import ObjectiveResult
from slang.semantics import model as m


def running_period(agreement: m.Agreement, as_of: dt.datetime) -> PeriodInstance | None:
    """The period of `agreement` that `as_of` lies in, clipped to `effective`; None when the
    agreement is not in force at `as_of`. A rolling period is the window ending at `as_of`
    (always complete, as in `slang audit`)."""
    tz, kind = agreement.timezone, agreement.period.kind
    now = to_us(as_of)
    if kind == "rolling":
        length = (agreement.period.rolling_seconds or 0) * US
        label, start, end = rolling_label(length // US), now - length, now
    elif kind == "hourly":
        b = hour_bounds(tz, now, now)
        i = int(np.searchsorted(b, now, side="right")) - 1  # b[i] <= now < b[i + 1]
        label, start, end = hour_label(tz, int(b[i])), int(b[i]), int(b[i + 1])
    else:
        first = period_start_date(kind, local_date(tz, now))
        label = date_label(kind, first)
        start = local_midnight_us(tz, first)
        end = local_midnight_us(tz, next_start_date(kind, first))
    eff_lo, eff_hi = effective_bounds(agreement)
    lo = start if eff_lo is None else max(start, eff_lo)
    hi = end if eff_hi is None else min(end, eff_hi)
    if hi <= lo or not (lo <= now) or (kind != "rolling" and now >= hi):
        return None
    return PeriodInstance(label, lo, hi, start, end, complete=hi <= now)


@dataclass(frozen=True)
class Forecast:
    """Where one objective's running period is heading.

    `projected` is the engine's projected end-of-period value. The budget figures exist where
    a burn rate does (`slang.engine.burn.has_burn_rate`): `burn_rate` so far;
    for a running period `budget_remaining`, as a share of the whole period's budget (negative
    once overspent), and `exhaustion_us`, the instant the budget runs out at the current burn
    rate (None when it lasts the period, or the period is over)."""

    projected: Fraction | None
    burn_rate: Fraction | None = None
    budget_remaining: Fraction | None = None
    exhaustion_us: int | None = None

    @property
    def exhaustion(self) -> dt.datetime | None:
        return None if self.exhaustion_us is None else from_us(self.exhaustion_us)


def forecast(result: ObjectiveResult, counted_full: iv.Intervals) -> Forecast:
    """The forecast of one result of a running period; `counted_full` is the counted time of
    the whole period (the intervals whose total is the measure's `full_us`)."""
    meas = result.measure
    rate = burn_rate_of(result.objective, meas)
    if rate is None or meas.full_us == 0 or result.period.complete:
        return Forecast(result.projected, rate)
    elapsed, full = Fraction(meas.counted_us), Fraction(meas.full_us)
    remaining = 1 - rate * elapsed / full
    exhaustion = counted_instant(counted_full, full / rate) if rate > 1 else None
    return Forecast(result.projected, rate, remaining, exhaustion)


def counted_instant(counted: iv.Intervals, offset_us: Fraction) -> int | None:
    """The instant, rounded up to the whole second, at which `offset_us` of counted time has
    passed since the start of `counted` (sorted, disjoint intervals); None when the intervals
    hold less than that."""
    lengths = counted.ends - counted.starts
    if not len(lengths):
        return None
    cum = np.cumsum(lengths)  # cum[i]: counted time up to the end of interval i
    if offset_us > int(cum[-1]):
        return None
    # the first interval whose end reaches the offset (integers: cum >= ceil(offset))
    i = int(np.searchsorted(cum, math.ceil(offset_us), side="left"))
    before = int(cum[i - 1]) if i else 0
    instant = int(counted.starts[i]) + (offset_us - before)
    return math.ceil(instant / US) * US


