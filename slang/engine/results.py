"""One result per agreement × objective × period: status, budget, credit (spec §4.5-4.7)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from slang.engine.arrow import US, Measure
from slang.engine.outcome import (
    Budget,
    cap_amount,
    credit_amount,
    credit_percent,
    error_budget,
    exact,
    satisfies,
)
from slang.engine.periods import PeriodInstance
from slang.semantics import model as m
from slang.semantics.values import minor_units

NOTIFY_STATUS = {"breach": "breached", "at_risk": "at_risk", "no_data": "no_data", "met": "met"}


@dataclass(frozen=True)
class ObjectiveResult:
    agreement: m.Agreement = field(repr=False)
    objective: m.Objective = field(repr=False)
    period: PeriodInstance
    measure: Measure = field(repr=False)
    status: str
    projected: Fraction | None
    budget: Budget | None
    credit_percent: Decimal
    credit_amount: Decimal | None

    @property
    def indicator(self) -> str:
        ind = self.objective.indicator
        return ind.function if isinstance(ind, m.ValueIndicator) else ind.kind

    @property
    def notify(self) -> tuple[str, ...]:
        wanted = {NOTIFY_STATUS[e] for e in self.agreement.notify_on}
        return self.agreement.notify if self.status in wanted else ()

    @property
    def currency(self) -> str | None:
        fee = self.agreement.fee
        return None if fee is None else fee.currency


@dataclass(frozen=True)
class Adjustment:
    """An agreement-level change to the sum of its objectives' credits (the cap's cut)."""

    agreement: str
    period: str
    period_start_us: int
    kind: str
    amount: Decimal
    currency: str


def decide(ind: m.Indicator, meas: Measure, target: m.Target, complete: bool
           ) -> tuple[str, Fraction | None]:
    """Status of one period and, for a running one, the projected end-of-period value."""
    if meas.measured is None:
        return "no_data", None
    t = exact(target.value)
    op = target.op
    ok = satisfies(meas.measured, op, t)
    if complete:
        return ("met" if ok else "breached"), None
    elapsed, full = meas.counted_us, meas.full_us
    scale = Fraction(full, elapsed) if elapsed else Fraction(1)
    projected = meas.measured
    if isinstance(ind, m.UptimeIndicator) and meas.good is not None and meas.total is not None:
        down = meas.total - meas.good
        whole = Fraction(full, US)
        if whole > 0:
            if not satisfies((whole - down) / whole, op, t):
                return "breached", (whole - down * scale) / whole
            projected = (whole - down * scale) / whole
    elif isinstance(ind, m.TimeslicesIndicator) and meas.good is not None:
        slices_full = int(meas.extra.get("slices_full", 0) or 0)  # type: ignore[call-overload]
        bad = (meas.total or 0) - meas.good
        if slices_full and not satisfies((slices_full - bad) / Fraction(slices_full), op, t):
            return "breached", projected
    elif isinstance(ind, m.ValueIndicator):
        grows = ind.function in ("count", "sum")
        if (ind.function in ("count", "sum", "max") and op in ("<=", "<") and not ok) or (
            ind.function == "min" and op in (">=", ">") and not ok
        ):
            return "breached", meas.measured * scale if grows else meas.measured
        if grows:
            projected = meas.measured * scale
    return ("met" if satisfies(projected, op, t) else "at_risk"), projected


def evaluate_result(a: m.Agreement, o: m.Objective, p: PeriodInstance, meas: Measure
                    ) -> ObjectiveResult:
    status, projected = decide(o.indicator, meas, o.target, p.complete)
    budget = None
    if m.is_fraction(o.indicator) and not isinstance(o.indicator, m.SliceMeanIndicator) \
            and meas.good is not None and meas.total:
        budget = error_budget(meas.good, meas.total, o.target)
    pct = Decimal(0)
    amount: Decimal | None = None if a.fee is None else Decimal(0).quantize(
        Decimal(1).scaleb(-minor_units(a.fee.currency)))
    if status == "breached" and p.complete and o.credit and meas.measured is not None:
        pct = credit_percent(meas.measured, o.credit)
        if a.fee is not None:
            amount = credit_amount(a.fee, p.fee_fraction, pct)
    return ObjectiveResult(a, o, p, meas, status, projected, budget, pct, amount)


def cap_adjustments(results: list[ObjectiveResult]) -> list[Adjustment]:
    """Per agreement and period: the sum of credits beyond `credit_cap × fee` is cut."""
    groups: dict[tuple[str, int], list[ObjectiveResult]] = {}
    for r in results:
        groups.setdefault((r.agreement.name, r.period.start_us), []).append(r)
    out: list[Adjustment] = []
    for (name, start), rs in sorted(groups.items()):
        a = rs[0].agreement
        if a.fee is None or a.credit_cap is None:
            continue
        total = sum((r.credit_amount or Decimal(0) for r in rs), Decimal(0))
        cap = cap_amount(a.fee, rs[0].period.fee_fraction, a.credit_cap)
        if total > cap:
            out.append(Adjustment(name, rs[0].period.label, start, "credit_cap", cap - total,
                                  a.fee.currency))
    return out
