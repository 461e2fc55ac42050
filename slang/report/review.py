"""The service review report's view model: what a service manager sends a customer.

Built once from an audit (`AuditReport`, the model behind it, and the error-budget burn-downs)
and read by both renderers (`review_markdown`, `review_html`), so the Markdown and the HTML
state the same figures in the same words. Per agreement: what was promised (objectives,
targets, hours, credit tiers, exclusions with their reasons), what was delivered per period,
breaches, credits owed (Decimal), error-budget consumption, the trend over the periods, and
how much time each exclusion removed.

Nothing here reads a clock: the same audit gives the same view, so the same policies, data and
`--as-of` give byte-identical reports.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from slang.diagnostics import SlangError, error
from slang.diff.semantic import (
    calendar_text,
    exclusion_scope_text,
    indicator_text,
)
from slang.engine.audit import PeriodChoice, audit_run, audited_agreements
from slang.engine.burndown import BurnDown, latest_burn_downs
from slang.engine.calendar_time import local_date, local_midnight_us, to_us
from slang.engine.outcome import exact
from slang.engine.results import ObjectiveResult
from slang.report.audit_report import AuditReport, rfc3339
from slang.report.quantities import (
    duration_text,
    money_text,
    percent_text,
    share_text,
    target_text,
    value_text,
)
from slang.report.trend import TrendPoint, change, margin, trend
from slang.semantics import model as m
from slang.semantics.values import minor_units
from slang.syntax.span import Span

NO_CUSTOMER = "(no customer)"


@dataclass(frozen=True)
class PeriodRow:
    """One objective in one period, as delivered."""

    label: str
    running: bool
    start_us: int
    end_us: int
    status: str
    measured: Fraction | None
    measured_text: str
    projected_text: str | None  # running periods: the projected end-of-period value
    budget_share: Fraction | None  # share of the error budget consumed (1 = all of it)
    budget_text: str
    excluded_text: str
    credit_percent: Decimal
    credit_amount: Decimal | None
    credit_text: str
    margin: Fraction | None  # distance from the target, positive on the good side
    change: str  # against the previous period's margin: better, worse, same, or "" (first)


@dataclass(frozen=True)
class ObjectiveView:
    name: str
    description: str | None
    indicator_text: str
    op: str
    target: Fraction
    target_text: str
    fraction: bool  # measured values are fractions, shown as percentages
    unit: str | None
    hours_text: str
    credit_text: str | None
    rows: tuple[PeriodRow, ...]
    trend_text: str
    worsening: bool  # the margin shrank trend.SHRINKING_RUN complete periods in a row


@dataclass(frozen=True)
class ExclusionView:
    scope: str
    reason: str | None
    as_available: bool


@dataclass(frozen=True)
class Breach:
    objective: str
    period: str
    running: bool
    measured_text: str
    target_text: str
    credit_text: str


@dataclass(frozen=True)
class PeriodCredit:
    """Credits owed for one period: the objectives' credits, less any cap adjustment."""

    period: str
    objectives: Decimal
    adjustment: Decimal
    total: Decimal
    currency: str


@dataclass(frozen=True)
class BurnSeries:
    """One objective's remaining error budget over the latest period, as fractions of the
    whole budget: 1 at the start, 0 when it is spent, negative once it is overspent."""

    objective: str
    times_us: tuple[int, ...]
    remaining: tuple[Fraction, ...]
    remaining_text: str
    spent_on: str | None  # the local day in which the budget ran out, if it did


@dataclass(frozen=True)
class BurnChart:
    period: str
    running: bool
    start_us: int
    end_us: int
    as_of_us: int
    series: tuple[BurnSeries, ...]
    ticks: tuple[tuple[int, str], ...]  # (instant, local date) along the time axis


@dataclass(frozen=True)
class ServiceView:
    name: str
    title: str | None
    owner: str | None
    tier: str | None


@dataclass(frozen=True)
class AgreementView:
    name: str
    customer: str | None
    provider: str | None
    description: str | None
    status: str
    service: ServiceView
    effective_text: str
    timezone: str
    period_text: str
    fee_text: str | None
    credit_cap_text: str | None
    hours_text: str
    notify: tuple[str, ...]
    exclusions: tuple[ExclusionView, ...]
    objectives: tuple[ObjectiveView, ...]
    breaches: tuple[Breach, ...]
    at_risk: tuple[Breach, ...]
    credits: tuple[PeriodCredit, ...]
    credits_total: Decimal | None
    currency: str | None
    burn: BurnChart | None

    @property
    def headline(self) -> str:
        return self.service.title or self.service.name


@dataclass(frozen=True)
class CustomerCredit:
    customer: str
    currency: str
    amount: Decimal


@dataclass(frozen=True)
class Evidence:
    policies: tuple[tuple[str, str], ...]  # (path, sha256)
    data: tuple[tuple[str, str, str, int], ...]  # (table, path, sha256, rows)
    plan_sha256: str


@dataclass(frozen=True)
class ReviewReport:
    as_of: str
    as_of_us: int
    customer: str | None
    selection: str
    agreements: tuple[AgreementView, ...]
    customer_credits: tuple[CustomerCredit, ...]
    counts: dict[str, int]
    credits_total: tuple[tuple[str, Decimal], ...]  # (currency, amount), sorted
    evidence: Evidence

    @property
    def title(self) -> str:
        return f"Service review: {self.customer}" if self.customer else "Service review"


# ------------------------------------------------------------------------------ building


def agreement_facts(a: AgreementView, text: Callable[[str], str],
                    name: Callable[[str], str]) -> list[list[str]]:
    """The agreement's fact rows (service, customer, ... fee, notify) of a review pack, with
    `text` escaping a user-provided string for the output format and `name` marking up an
    identifier; one list for Markdown and HTML alike."""
    s = a.service
    service = f"{text(s.title or s.name)} {name(s.name)}"
    if s.owner:
        service += f", owner {text(s.owner)}"
    if s.tier:
        service += f", tier {text(s.tier)}"
    facts = [["Service", service], ["Customer", text(a.customer or "-")],
             ["Provider", text(a.provider or "-")], ["Status", text(a.status)],
             ["Effective", f"{text(a.effective_text)} ({text(a.timezone)})"],
             ["Period", text(a.period_text)], ["Hours", text(a.hours_text)]]
    if a.fee_text:
        fee = text(a.fee_text)
        if a.credit_cap_text:
            fee += f"; credits capped at {text(a.credit_cap_text)} of the fee"
        facts.append(["Fee", fee])
    if a.notify:
        facts.append(["Notify", ", ".join(text(x) for x in a.notify)])
    return facts


def build_review(report: AuditReport, burn_downs: Sequence[BurnDown], *, selection: str,
                 customer: str | None = None) -> ReviewReport:
    """The review of an audit. `selection` says in words which periods were asked for;
    `customer` names the customer the report is for (None: every customer)."""
    as_of_us = to_us(report.as_of)
    by_agreement: dict[str, list[ObjectiveResult]] = {}
    for r in report.results:
        by_agreement.setdefault(r.agreement.name, []).append(r)
    views = tuple(
        _agreement_view(results[0].agreement, results, report, burn_downs, as_of_us)
        for _, results in sorted(by_agreement.items())
    )
    counts = {s: 0 for s in ("met", "breached", "at_risk", "no_data")}
    for r in report.results:
        counts[r.status] += 1
    totals: dict[str, Decimal] = {}
    for cc in (c for v in views for c in v.credits):
        totals[cc.currency] = totals.get(cc.currency, Decimal(0)) + cc.total
    return ReviewReport(
        as_of=rfc3339(report.as_of),
        as_of_us=as_of_us,
        customer=customer,
        selection=selection,
        agreements=views,
        customer_credits=_customer_credits(views),
        counts=counts,
        credits_total=tuple(sorted(totals.items())),
        evidence=_evidence(report),
    )


def _agreement_view(a: m.Agreement, results: list[ObjectiveResult], report: AuditReport,
                    burn_downs: Sequence[BurnDown], as_of_us: int) -> AgreementView:
    objectives = []
    for o in a.objectives:
        rows = [r for r in results if r.objective.name == o.name]
        if rows:
            objectives.append(_objective_view(o, rows))
    credits = _credits(a, results, report)
    s = a.service
    return AgreementView(
        name=a.name,
        customer=a.customer,
        provider=a.provider,
        description=a.description,
        status=a.status,
        service=ServiceView(s.name, s.title, s.owner, s.tier),
        effective_text=_effective(a),
        timezone=a.timezone,
        period_text=a.period.label,
        fee_text=None if a.fee is None else money_text(a.fee.amount, a.fee.currency),
        credit_cap_text=None if a.credit_cap is None else percent_text(exact(a.credit_cap)),
        hours_text=calendar_text(a.hours),
        notify=a.notify,
        exclusions=tuple(ExclusionView(exclusion_scope_text(x), x.reason, x.as_available)
                         for x in a.exclusions),
        objectives=tuple(objectives),
        breaches=_flagged(objectives, "breached"),
        at_risk=_flagged(objectives, "at_risk"),
        credits=credits,
        credits_total=(None if a.fee is None
                       else sum((c.total for c in credits), _zero(a.fee.currency))),
        currency=None if a.fee is None else a.fee.currency,
        burn=_burn_chart(a, [b for b in burn_downs if b.agreement == a.name], as_of_us),
    )


def _effective(a: m.Agreement) -> str:
    start = a.effective_start.isoformat() if a.effective_start else "always"
    end = a.effective_end.isoformat() if a.effective_end else "open-ended"
    return f"{start} to {end}"


def _zero(currency: str) -> Decimal:
    return Decimal(0).quantize(Decimal(1).scaleb(-minor_units(currency)))


def _unit(ind: m.Indicator) -> str | None:
    if isinstance(ind, m.SliceMeanIndicator | m.TimeslicesIndicator):
        return None if m.is_fraction(ind) else _unit(ind.inner)
    return ind.unit if isinstance(ind, m.ValueIndicator) else None


def _objective_view(o: m.Objective, results: list[ObjectiveResult]) -> ObjectiveView:
    fraction = m.is_fraction(o.indicator)
    unit = None if fraction else _unit(o.indicator)
    target = exact(o.target.value)

    def show(v: Fraction) -> str:
        return percent_text(v, target) if fraction else value_text(v, unit, target)

    rows: list[PeriodRow] = []
    for r in results:
        measured = r.measure.measured if r.status != "no_data" else None
        margin_ = None if measured is None else margin(o.target.op, measured, target)
        previous = next((x.margin for x in reversed(rows) if x.margin is not None), None)
        rows.append(PeriodRow(
            label=r.period.label,
            running=not r.period.complete,
            start_us=r.period.start_us,
            end_us=r.period.end_us,
            status=r.status,
            measured=measured,
            measured_text="no data" if measured is None else show(measured),
            projected_text=None if r.projected is None or r.period.complete
            else show(r.projected),
            budget_share=None if r.budget is None or r.budget.allowed == 0
            else Fraction(r.budget.consumed) / Fraction(r.budget.allowed),
            budget_text="-" if r.budget is None
            else share_text(Fraction(r.budget.consumed), Fraction(r.budget.allowed)),
            excluded_text=duration_text(r.measure.extra.get("excluded_s", 0) or 0),  # type: ignore[arg-type]
            credit_percent=r.credit_percent,
            credit_amount=r.credit_amount,
            credit_text=_credit_text(r),
            margin=margin_,
            change=change(previous, margin_),
        ))
    over = trend([TrendPoint(x.measured, o.target.op, target) for x in rows if not x.running])
    return ObjectiveView(
        name=o.name,
        description=o.description,
        indicator_text=indicator_text(o.indicator),
        op=o.target.op,
        target=target,
        target_text=target_text(o.target.op, target, fraction, unit),
        fraction=fraction,
        unit=unit,
        hours_text=calendar_text(o.hours),
        credit_text=_tiers_text(o.credit, fraction, unit),
        rows=tuple(rows),
        trend_text=over.text,
        worsening=over.worsening,
    )


def _tiers_text(tiers: tuple[m.CreditTier, ...], fraction: bool, unit: str | None
                ) -> str | None:
    """`below 99.9%: 10%; below 99%: 25%`, thresholds in the target's units."""
    if not tiers:
        return None
    parts = []
    for t in tiers:
        v = exact(t.threshold)
        shown = percent_text(v, digits=6) if fraction else value_text(v, unit, digits=6)
        parts.append(f"{t.direction} {shown}: {t.percent.normalize():f}%")
    return "; ".join(parts)


def _credit_text(r: ObjectiveResult) -> str:
    if not r.credit_percent:
        return "-"
    pct = f"{r.credit_percent.normalize():f}%"
    if r.credit_amount is None or r.currency is None:
        return pct
    return f"{pct} = {money_text(r.credit_amount, r.currency)}"


def _flagged(objectives: list[ObjectiveView], status: str) -> tuple[Breach, ...]:
    return tuple(
        Breach(o.name, row.label, row.running, row.measured_text, o.target_text, row.credit_text)
        for o in objectives for row in o.rows if row.status == status
    )


def _credits(a: m.Agreement, results: list[ObjectiveResult], report: AuditReport
             ) -> tuple[PeriodCredit, ...]:
    """Per complete period: the sum of the objectives' credits and the cap's adjustment."""
    if a.fee is None:
        return ()
    out = []
    starts = sorted({r.period.start_us for r in results if r.period.complete})
    for start in starts:
        rs = [r for r in results if r.period.start_us == start]
        owed = sum((r.credit_amount or Decimal(0) for r in rs), _zero(a.fee.currency))
        adjust = sum((x.amount for x in report.adjustments
                      if x.agreement == a.name and x.period_start_us == start),
                     _zero(a.fee.currency))
        out.append(PeriodCredit(rs[0].period.label, owed, adjust, owed + adjust,
                                a.fee.currency))
    return tuple(out)


def _burn_chart(a: m.Agreement, burn_downs: list[BurnDown], as_of_us: int) -> BurnChart | None:
    if not burn_downs:
        return None
    p = burn_downs[0].period
    order = {o.name: i for i, o in enumerate(a.objectives)}
    series = []
    for b in sorted(burn_downs, key=lambda b: order.get(b.objective, len(order))):
        remaining = tuple(1 - pt.consumed / b.allowed for pt in b.points)
        times = tuple(pt.at_us for pt in b.points)
        spent = next((i for i, v in enumerate(remaining) if v <= 0), None)
        spent_on = None if spent is None else local_date(a.timezone, times[spent - 1]).isoformat()
        series.append(BurnSeries(b.objective, times, remaining,
                                 percent_text(remaining[-1], digits=1), spent_on))
    return BurnChart(p.label, not p.complete, p.start_us, p.end_us, as_of_us, tuple(series),
                     _day_ticks(a.timezone, p.start_us, p.end_us))


def _day_ticks(tz: str, start_us: int, end_us: int, most: int = 6) -> tuple[tuple[int, str], ...]:
    """Local midnights from the start to the end of a period, every k-th so that at most
    `most` are labelled (`10-08`)."""
    days = [local_midnight_us(tz, d) for d in _days(tz, start_us, end_us)]
    days = [t for t in days if start_us <= t <= end_us]
    stride = max(1, -(-len(days) // most))
    return tuple((t, local_date(tz, t).strftime("%m-%d")) for t in days[::stride])


def _days(tz: str, start_us: int, end_us: int) -> list[dt.date]:
    first, last = local_date(tz, start_us), local_date(tz, end_us)
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _customer_credits(views: Sequence[AgreementView]) -> tuple[CustomerCredit, ...]:
    sums: dict[tuple[str, str], Decimal] = {}
    for v in views:
        if v.currency is None or v.credits_total is None:
            continue
        key = (v.customer or NO_CUSTOMER, v.currency)
        sums[key] = sums.get(key, _zero(v.currency)) + v.credits_total
    return tuple(CustomerCredit(c, cur, amt) for (c, cur), amt in sorted(sums.items()))


def _evidence(report: AuditReport) -> Evidence:
    doc = report.to_dict()["evidence"]
    return Evidence(
        policies=tuple((p["path"], p["sha256"]) for p in doc["policies"]),
        data=tuple((d["name"], str(d["path"]), d["sha256"], int(d["rows"]))
                   for d in doc["data"]),
        plan_sha256=doc["plan_sha256"],
    )


# ------------------------------------------------------------------------------ the library call

UNKNOWN_CUSTOMER = "SLG0710"


def selection_text(choice: PeriodChoice) -> str:
    """Which periods were asked for, in words, for the report's opening line."""
    if choice.period:
        return f"Periods starting in {choice.period}"
    if choice.date_from or choice.date_to:
        first = choice.date_from.isoformat() if choice.date_from else "the start"
        last = choice.date_to.isoformat() if choice.date_to else "the end"
        return f"Periods starting from {first} to {last}"
    return "The latest complete period of each agreement"


def for_customer(model: m.Model, customer: str | None, include_drafts: bool) -> m.Model:
    """The estate with only `customer`'s agreements (all of them for None), so that only their
    data needs binding. An unknown customer is an error that lists the known ones."""
    if customer is None:
        return model
    audited = audited_agreements(model, include_drafts)
    kept = {a.name: a for a in audited if a.customer == customer}
    if not kept:
        known = sorted({a.customer for a in audited if a.customer})
        listed = ", ".join(f'"{c}"' for c in known) or "none"
        raise SlangError([error(
            UNKNOWN_CUSTOMER, f'no audited agreement has customer "{customer}"',
            Span("<command line>", 0, 0, 0, 0),
            f"customers are matched exactly; the estate's are: {listed}",
        )])
    return dataclasses.replace(model, agreements=kept)


def review(model: m.Model, data: Mapping[str, str | os.PathLike[str]], *,
           choice: PeriodChoice | None = None, as_of: dt.datetime | None = None,
           customer: str | None = None, include_drafts: bool = False) -> ReviewReport:
    """Audit `model` over `data` (as `slang.audit` does), measure the error-budget burn-down of
    each agreement's latest period, and build the review. Raises SlangError with coded
    diagnostics for invalid policies or data, or an unknown customer."""
    choice = choice or PeriodChoice()
    scoped = for_customer(model, customer, include_drafts)
    run = audit_run(scoped, data, choice=choice, as_of=as_of, include_drafts=include_drafts)
    return build_review(run.report, latest_burn_downs(run), selection=selection_text(choice),
                        customer=customer)
