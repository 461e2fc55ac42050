"""`slang diagnose` as a library call: where an objective's bad events or downtime came from.

For one agreement and one period (the running one at `as_of`, or `--period LABEL`), each objective
asked for (by default every breached or at-risk one) is measured by the engine, and what counted
against it is broken down:

- *bad events*: for a ratio the counted rows that are not good; for `timeslices` and
  `slice_mean` the bad rows of the inner ratio, or, over a value, the rows whose value fails
  the slice threshold (the objective's target for `slice_mean`); for a percentile, mean, max or
  min the rows whose value fails the target; for `count` every counted row;
- *downtime*: for uptime, the downtime D of the measurement (§4.4), in seconds.

They are counted per local hour and per local day of the agreement's time zone (the worst
first) and, with `by`, per value of those columns (pyarrow group-by; for uptime each interval
row's own downtime, so an instant in two overlapping intervals counts for both). The share of
the error budget is the bucket's bad events (or downtime) over the budget allowed so far,
(1 − t) × total, for ratio and uptime objectives with a `>=` target; other objectives have no
budget in the same units and show only their share of the bad events.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slang.diagnose import buckets as bk
from slang.diagnostics import Diagnostic, SlangError, error
from slang.engine.arrow import (
    US,
    Executor,
    PeriodRows,
    PreparedScan,
    column_values,
    values_satisfy,
)
from slang.engine.audit import read_scans
from slang.engine.calendar_time import to_us
from slang.engine.forecast import running_period
from slang.engine.outcome import exact
from slang.engine.periods import PeriodInstance, select_periods
from slang.engine.results import ObjectiveResult, evaluate_result
from slang.plan.plan import Evaluation, Plan, build_plan, selection_of
from slang.report.audit_report import rfc3339
from slang.semantics import model as m
from slang.semantics.values import did_you_mean
from slang.syntax.span import Span

UNKNOWN_AGREEMENT = "SLG0720"
UNKNOWN_OBJECTIVE = "SLG0721"
UNKNOWN_COLUMN = "SLG0722"
NOT_ONE_PERIOD = "SLG0723"
UNGROUPABLE = "SLG0724"
DEFAULT_TOP = 5


@dataclass(frozen=True)
class Bucket:
    """One local hour or day, or one group of `by` values: bad events (or downtime, seconds)
    and everything counted (events, counted seconds, or intervals for an uptime group)."""

    label: str
    bad: Fraction
    total: Fraction
    start_us: int | None = None
    end_us: int | None = None
    values: tuple[object, ...] = ()


@dataclass(frozen=True)
class ObjectiveDiagnosis:
    result: ObjectiveResult
    unit: str  # events | seconds
    bad: Fraction
    total: Fraction
    allowed: Fraction | None  # the error budget so far, in `unit`; None: no budget in `unit`
    worst_days: tuple[Bucket, ...]
    worst_hours: tuple[Bucket, ...]
    by: tuple[str, ...] = ()
    groups: tuple[Bucket, ...] = ()


@dataclass
class Diagnosis:
    as_of: dt.datetime
    agreement: m.Agreement
    period: PeriodInstance
    objectives: list[ObjectiveDiagnosis]
    asked: str | None  # the objective named, None: every breached or at-risk one


def _input() -> Span:
    return Span("<command line>", 0, 0, 0, 0)


def diagnose(model: m.Model, data: Mapping[str, str | os.PathLike[str]], *, agreement: str,
             objective: str | None = None, period: str | None = None,
             by: Sequence[str] = (), top: int = DEFAULT_TOP,
             as_of: dt.datetime | None = None) -> Diagnosis:
    """Diagnose `agreement`'s objectives in one period. Raises SlangError with SLG0720 (unknown
    agreement), SLG0721 (unknown objective), SLG0722 (a `by` column the source lacks), SLG0723
    (a period selection that is not one period) and the data errors of `slang audit`."""
    if model.errors:
        raise SlangError(model.errors)
    as_of = as_of or dt.datetime.now(dt.UTC)
    by = tuple(dict.fromkeys(by))  # a column named twice is grouped by once
    a = _agreement(model, agreement)
    if objective is not None:
        _objective(a, objective)  # SLG0721 before any data is read
    wanted = {objective} if objective is not None else {o.name for o in a.objectives}
    p = _period(a, period, as_of)
    now = to_us(as_of)
    plan = build_plan(model, [a], as_of=as_of)
    executor = Executor(_read(plan, data, p, now), now)
    chosen = []
    for ev in plan.evaluations:
        if ev.objective.name not in wanted:
            continue
        result = evaluate_result(a, ev.objective, p, executor.measure(ev, p))
        if objective is not None or result.status in ("breached", "at_risk"):
            chosen.append((ev, result))
    if by:
        # read the objectives' own sources again, with the `by` columns; with nothing to
        # diagnose, still those of every objective asked about, so that a misspelt `--by`
        # is an error today rather than on the day something breaches
        looked_at = [ev for ev, _ in chosen] or [
            ev for ev in plan.evaluations if ev.objective.name in wanted]
        ids = sorted({selection_of(ev.objective.indicator).source.id for ev in looked_at})
        problems: list[Diagnostic] = []
        for i in ids:  # per source, so that a missing column names its own source
            narrowed = replace(plan, scans=tuple(s for s in plan.scans if s.source.id == i))
            try:
                executor.scans.update(_read(narrowed, data, p, now, {i: set(by)}, by))
            except SlangError as exc:
                problems.extend(exc.diagnostics)
        if problems:
            raise SlangError(problems)
    found = [_objective_diagnosis(executor, ev, result, tuple(by), top) for ev, result in chosen]
    return Diagnosis(as_of, a, p, found, objective)


# ---------------------------------------------------------------------------- the selection


def _agreement(model: m.Model, name: str) -> m.Agreement:
    a = model.agreements.get(name)
    if a is None:
        names = sorted(model.agreements)
        raise SlangError([error(
            UNKNOWN_AGREEMENT, f"no agreement `{name}` in the policies given", _input(),
            did_you_mean(name, names) or "agreements: " + ", ".join(names),
        )])
    return a


def _objective(a: m.Agreement, name: str) -> m.Objective:
    for o in a.objectives:
        if o.name == name:
            return o
    names = [o.name for o in a.objectives]
    raise SlangError([error(
        UNKNOWN_OBJECTIVE, f"agreement `{a.name}` has no objective `{name}`", _input(),
        did_you_mean(name, names) or "its objectives: " + ", ".join(names),
    )])


def _period(a: m.Agreement, label: str | None, as_of: dt.datetime) -> PeriodInstance:
    """`--period LABEL` (exactly one period), else the running period, else the latest
    complete one."""
    if label is None:
        running = running_period(a, as_of)
        if running is not None:
            return running
        found = select_periods(a, as_of=as_of)
    else:
        found = select_periods(a, as_of=as_of, period=label)
    if len(found) != 1:
        what = f"--period {label}" if label is not None else "--as-of"
        listing = ", ".join(p.label for p in found[:6]) + (", ..." if len(found) > 6 else "")
        raise SlangError([error(
            NOT_ONE_PERIOD, f"{what} selects {len(found)} periods of agreement `{a.name}` "
            f"({a.period.label}){': ' + listing if found else ''}", _input(),
            "name one period, e.g. `--period 2026-10` for a monthly agreement; it must have "
            "started before --as-of and lie within `effective`",
        )])
    return found[0]


def _read(plan: Plan, data: Mapping[str, str | os.PathLike[str]], p: PeriodInstance,
          as_of_us: int, extra: Mapping[str, set[str]] | None = None, by: Sequence[str] = ()
          ) -> dict[str, PreparedScan]:
    """The plan's scans for one period (with `extra` columns); a missing `by` column is
    reported as SLG0722, naming the source, with the reader's suggestions."""
    spans = {e.agreement.name: [p] for e in plan.evaluations}
    try:
        scans, _ = read_scans(plan, data, spans, as_of_us, extra)
    except SlangError as exc:
        sources = [s.source for s in plan.scans if extra and s.source.id in extra]
        raise SlangError([_by_column(d, by, sources) for d in exc.diagnostics]) from None
    return scans


def _by_column(d: Diagnostic, by: Sequence[str], sources: Sequence[m.Source]) -> Diagnostic:
    if d.code != "SLG0605":
        return d
    for col in by:
        if f"column `{col}` not found" in d.message:
            named = ", ".join(f"`{s.name}` (table `{s.table}`)" for s in sources)
            return error(UNKNOWN_COLUMN, f"--by column `{col}` is not a column of source "
                         f"{named}", _input(), d.hint)
    return d


# --------------------------------------------------------------------------- the breakdown


def _objective_diagnosis(executor: Executor, ev: Evaluation, result: ObjectiveResult,
                         by: tuple[str, ...], top: int) -> ObjectiveDiagnosis:
    ind = ev.objective.indicator
    p = result.period
    until = min(p.end_us, executor.as_of_us)
    time = executor.counted(ev, p, until)
    tz = ev.agreement.timezone
    hours = bk.hour_edges(tz, p.start_us, max(until, p.start_us + 1))
    days = bk.day_edges(tz, p.start_us, max(until, p.start_us + 1))
    if isinstance(ind, m.UptimeIndicator):
        down = executor.downtime(ev, ind, time)
        per_hour = (bk.time_in(hours, down), bk.time_in(hours, time.counted))
        per_day = (bk.time_in(days, down), bk.time_in(days, time.counted))
        bad, total = Fraction(int(per_day[0].sum()), US), Fraction(int(per_day[1].sum()), US)
        groups = _uptime_groups(executor, ev, ind, down, by, top) if by else ()
        scale = Fraction(1, US)
        unit = "seconds"
    else:
        rows = executor.period_rows(ev, p, time, until)
        bad_mask = _bad_rows(executor, ev, rows)
        bad_t, all_t = rows.time[bad_mask], rows.time[rows.base]
        per_hour = (bk.count_in(hours, bad_t), bk.count_in(hours, all_t))
        per_day = (bk.count_in(days, bad_t), bk.count_in(days, all_t))
        bad, total = Fraction(int(bad_mask.sum())), Fraction(int(rows.base.sum()))
        groups = _event_groups(rows, bad_mask, by, top) if by else ()
        scale = Fraction(1)
        unit = "events"
    allowed = None
    budget = result.budget
    if budget is not None and isinstance(ind, m.RatioIndicator | m.UptimeIndicator):
        allowed = budget.allowed
    return ObjectiveDiagnosis(
        result, unit, bad, total, allowed,
        _worst(days, per_day, scale, top, lambda s: bk.day_label(tz, s)),
        _worst(hours, per_hour, scale, top, lambda s: bk.hour_label(tz, s)),
        by, groups,
    )


def _worst(edges: np.ndarray, counts: tuple[np.ndarray, np.ndarray], scale: Fraction, top: int,
           label: object) -> tuple[Bucket, ...]:
    """The `top` buckets with the most bad, ties to the earlier; none without bad."""
    bad, total = counts
    order = np.lexsort((edges[:-1], -bad))  # most bad first, then earliest
    picked = [i for i in order[:top] if bad[i] > 0]
    return tuple(
        Bucket(label(int(edges[i])), Fraction(int(bad[i])) * scale,  # type: ignore[operator]
               Fraction(int(total[i])) * scale, int(edges[i]), int(edges[i + 1]))
        for i in picked
    )


def _bad_rows(executor: Executor, ev: Evaluation, rows: PeriodRows) -> np.ndarray:
    """The counted rows that count against the objective (see the module docstring)."""
    o = ev.objective
    ind = o.indicator
    inner = ind.inner if isinstance(ind, m.TimeslicesIndicator | m.SliceMeanIndicator) else ind
    if isinstance(inner, m.RatioIndicator):
        return rows.base & ~executor.good_rows(ev, inner, rows)
    assert isinstance(inner, m.ValueIndicator)
    counted = rows.base & ~rows.available
    if inner.function == "count" or inner.column is None:
        return counted
    if isinstance(ind, m.TimeslicesIndicator):
        op, threshold = ind.op, exact(ind.threshold)
    else:
        op, threshold = o.target.op, exact(o.target.value)
    values, valid = column_values(rows.table, inner.column, rows.lo, rows.hi)
    return counted & valid & ~values_satisfy(values, op, threshold)


def _event_groups(rows: PeriodRows, bad: np.ndarray, by: tuple[str, ...], top: int
                  ) -> tuple[Bucket, ...]:
    table = rows.table.slice(rows.lo, rows.hi - rows.lo).select(list(by))
    keep = pa.array(rows.base)
    flags = pa.array(bad[rows.base].astype(np.int64))
    counted = table.filter(keep).append_column("__bad", flags)
    return _top_groups(counted, by, top, Fraction(1))


def _uptime_groups(executor: Executor, ev: Evaluation, ind: m.UptimeIndicator, down: object,
                   by: tuple[str, ...], top: int) -> tuple[Bucket, ...]:
    """Each interval row's own downtime (inside D), summed per value of `by`."""
    a = ev.agreement
    rows = executor.interval_rows(ind.selection, a.service.key, a)
    starts, ends = rows.starts[rows.keep], rows.ends[rows.keep]
    own = bk.measure_before(down, ends) - bk.measure_before(down, starts)  # type: ignore[arg-type]
    table = rows.table.select(list(by)).filter(pa.array(rows.keep))
    return _top_groups(table.append_column("__bad", pa.array(own.astype(np.int64))), by, top,
                       Fraction(1, US))


def _top_groups(table: pa.Table, by: tuple[str, ...], top: int, scale: Fraction
                ) -> tuple[Bucket, ...]:
    """Group by `by` (pyarrow): bad summed, rows counted; the `top` with the most bad, ties in
    the order of their values."""
    if table.num_rows == 0:
        return ()
    for i, name in enumerate(table.column_names):
        if pa.types.is_dictionary(table.schema.field(i).type):  # sortable plain values
            table = table.set_column(i, name, table.column(i).cast(
                table.schema.field(i).type.value_type))
    try:
        grouped = table.group_by(list(by)).aggregate([("__bad", "sum"), ("__bad", "count")])
        grouped = grouped.filter(pc.greater(grouped.column("__bad_sum"), 0))
        keys = [("__bad_sum", "descending"), *((c, "ascending") for c in by)]
        best = grouped.sort_by(keys).slice(0, top).to_pylist()
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        kinds = ", ".join(f"`{c}` is {table.schema.field(c).type}" for c in by)
        raise SlangError([error(
            UNGROUPABLE, f"cannot group by {', '.join(f'`{c}`' for c in by)}: {kinds}",
            _input(), f"group by columns of plain values (text, numbers, booleans, dates and "
            f"instants); arrow says: {str(exc).splitlines()[0]}",
        )]) from None
    return tuple(
        Bucket(", ".join(_value_text(r[c]) for c in by), Fraction(r["__bad_sum"]) * scale,
               Fraction(r["__bad_count"]), values=tuple(r[c] for c in by))
        for r in best
    )


def _value_text(v: object) -> str:
    if v is None:
        return "null"
    if isinstance(v, dt.datetime):
        return rfc3339(v)
    return str(v)
