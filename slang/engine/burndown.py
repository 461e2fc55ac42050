"""Error-budget burn-down: how much of a period's error budget was spent by each day.

The audit gives one number per period (`budget.consumed`). A service review also wants to see
*when* it was spent: a budget lost in one afternoon reads differently from one eroded every
day. The period is measured again up to each checkpoint (local midnights in the agreement's
time zone, then the end of the period or `--as-of`), by the same executor and the same code
path as the audit itself, so the last point is exactly the audit's figure.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction

from slang.engine.audit import AuditRun
from slang.engine.calendar_time import DAY_US, local_date, local_midnight_us
from slang.engine.periods import PeriodInstance
from slang.engine.results import ObjectiveResult

# Daily checkpoints up to this many days (a quarter has about 92); weekly beyond, so that a
# burn-down never costs more than about 60 measurements per objective.
DAILY_UP_TO_DAYS = 62


@dataclass(frozen=True)
class BurnPoint:
    at_us: int
    consumed: Fraction  # bad events, bad seconds or bad slices from the period start to at_us


@dataclass(frozen=True)
class BurnDown:
    """One objective's spending of its error budget within one period, from its start."""

    agreement: str
    objective: str
    period: PeriodInstance
    allowed: Fraction  # the period's whole budget as the audit states it (at --as-of)
    points: tuple[BurnPoint, ...]  # the first is (period start, 0)

    @property
    def end_us(self) -> int:
        return self.points[-1].at_us


def checkpoints(tz: str, start_us: int, until_us: int) -> list[int]:
    """Local midnights strictly between start and until (every day, or every 7th day for a
    long period), then `until` itself."""
    if until_us <= start_us:
        return []
    step = 1 if until_us - start_us <= DAILY_UP_TO_DAYS * DAY_US else 7
    day = local_date(tz, start_us)
    out: list[int] = []
    while True:
        day = day.fromordinal(day.toordinal() + step)
        t = local_midnight_us(tz, day)
        if t >= until_us:
            break
        if t > start_us:
            out.append(t)
    out.append(until_us)
    return out


def burn_down(run: AuditRun, result: ObjectiveResult) -> BurnDown | None:
    """The burn-down of one audited result, or None when it has no error budget to spend
    (value indicators, `<=` targets, a 100 % target, a period without events)."""
    budget = result.budget
    if budget is None or budget.allowed <= 0:
        return None
    evaluation = next(
        e for e in run.report.plan.evaluations
        if e.agreement.name == result.agreement.name and e.objective.name == result.objective.name
    )
    p = result.period
    until = min(p.end_us, run.executor.as_of_us)
    points = [BurnPoint(p.start_us, Fraction(0))]
    for t in checkpoints(result.agreement.timezone, p.start_us, until):
        measure = run.executor.measure(evaluation, dataclasses.replace(p, end_us=t))
        bad = Fraction(0)
        if measure.good is not None and measure.total is not None:
            bad = Fraction(measure.total) - Fraction(measure.good)
        points.append(BurnPoint(t, bad))
    return BurnDown(result.agreement.name, result.objective.name, p, Fraction(budget.allowed),
                    tuple(points))


def latest_burn_downs(run: AuditRun) -> list[BurnDown]:
    """Burn-downs of every objective with an error budget in each agreement's latest period
    (the running one when there is one): the period a review is most concerned with."""
    latest: dict[str, int] = {}
    for r in run.report.results:
        latest[r.agreement.name] = max(latest.get(r.agreement.name, r.period.start_us),
                                       r.period.start_us)
    out = []
    for r in run.report.results:
        if r.period.start_us == latest[r.agreement.name]:
            found = burn_down(run, r)
            if found is not None:
                out.append(found)
    return out
