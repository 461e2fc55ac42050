"""The SQL executor: the Arrow executor's measures, with the per-row work done by a backend.

It subclasses the Arrow `Executor` and replaces only what touches rows: `intervals_of` (the
rows of an intervals source, filtered in SQL, then merged by the shared interval algebra) and
`_events` (per evaluation, one query over all its periods, grouped by period, and by slice for
slice indicators). Counted time, uptime's interval algebra, slices' `empty:` and `as available`
rules and everything after (`Measure` -> status and money) are the Arrow engine's own code, so
the two engines cannot drift apart there.

Exactness, as in the Arrow engine: counts are integers; minima, maxima and order statistics are
the doubles themselves; sums and means are exact from integer mantissas per binary exponent
(`EventQuery.exact_sums`), and percentiles interpolate exactly between the two order statistics.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import sqlglot.expressions as exp

from slang.engine import intervals as iv
from slang.engine.arrow import (
    CountedTime,
    Executor,
    Measure,
    SliceValues,
    _ratio,
    _sliced,
)
from slang.engine.periods import PeriodInstance
from slang.engine.sql.backend import Backend
from slang.engine.sql.compiler import (
    ConditionLowering,
    EventQuery,
    counted_values,
    interval_rows,
    ts_columns,
)
from slang.engine.sql.sources import BoundScan
from slang.plan.plan import Evaluation, selection_of
from slang.semantics import model as m
from slang.syntax.formatter import format_expr

US = 1_000_000


@dataclass
class SqlExecutor(Executor):
    backend: Backend | None = None
    bound: dict[str, BoundScan] = field(default_factory=dict)
    periods: dict[str, list[PeriodInstance]] = field(default_factory=dict)
    _measures: dict[tuple[str, int], Measure] = field(default_factory=dict)
    _index: dict[str, dict[int, int]] = field(default_factory=dict)  # period start -> index
    _intervals: dict[tuple[str, str | None, str], iv.Intervals] = field(default_factory=dict)

    def lowering(self, sel: m.Selection, a: m.Agreement) -> ConditionLowering:
        source = sel.source
        b = self.bound[source.id]
        assert self.backend is not None
        return ConditionLowering(
            self.backend.dialect, source, a.timezone, ts_columns(source, b.shape),
            b.shape.float_columns,
            calendar_of=lambda ref: sel.calendar(ref.dotted) if hasattr(ref, "dotted") else None,
            hours_over=lambda cal, start, end: self._hours_over(b, cal, start, end),
            as_of_us=self.as_of_us)

    def _hours_over(self, b: BoundScan, cal: m.Calendar, start: exp.Expression,
                    end: exp.Expression) -> iv.Intervals:
        """A calendar's counted time over every instant `business_duration` can see in the
        scan: from its earliest start to its latest end (open ends: as_of)."""
        from slang.engine.calendar_time import hours_intervals

        assert self.backend is not None
        q = exp.select(exp.alias_(exp.Min(this=start), "lo"),
                       exp.alias_(exp.Max(this=end), "hi")).from_(b.relation)
        row = self.backend.fetch(q).to_pylist()[0]
        if row["lo"] is None:
            return iv.Intervals.empty()
        lo, hi = int(row["lo"]), max(int(row["hi"] if row["hi"] is not None else 0),
                                     int(row["lo"]) + 1)
        return hours_intervals(cal, lo, hi + 1)

    # ----------------------------------------------------------------- intervals sources

    def intervals_of(self, sel: m.Selection, key: str, a: m.Agreement) -> iv.Intervals:
        src = sel.source
        text = "" if sel.condition is None else format_expr(sel.condition)
        cache = (src.id, key if src.key_column else None, f"{a.timezone}\0{text}")
        if cache not in self._intervals:
            assert self.backend is not None
            cond = self.lowering(sel, a).condition(sel.condition)
            query = interval_rows(self.backend.dialect, self.bound[src.id].relation,
                                  key if src.key_column else None, cond)
            rows = self.backend.fetch(query)
            starts = _ints(rows.column("__start"))
            end_col = rows.column("__end").cast(pa.int64())
            ends = _ints(end_col.fill_null(self.as_of_us))
            keep = ends > starts
            self._intervals[cache] = iv.normalize(
                starts[keep], np.minimum(ends[keep], max(self.as_of_us, 0)))
        return self._intervals[cache]

    # --------------------------------------------------------------------- events sources

    def _events(self, ev: Evaluation, ind: m.Indicator, p: PeriodInstance,
                time: CountedTime, until: int) -> Measure:
        periods = self.periods[ev.agreement.name]
        if ev.id not in self._index:
            self._index[ev.id] = {q.start_us: i for i, q in enumerate(periods)}
            self._measure_all(ev, ind, periods)
        return self._measures.pop((ev.id, self._index[ev.id][p.start_us]))

    def _measure_all(self, ev: Evaluation, ind: m.Indicator,
                     periods: list[PeriodInstance]) -> None:
        """One query (or two, for exact sums and order statistics) for every period."""
        times: list[CountedTime] = []
        rows: list[tuple[int, int, int, int, bool]] = []
        for i, p in enumerate(periods):
            until = min(p.end_us, self.as_of_us)
            time = self.counted(ev, p, until)
            times.append(time)
            plain = iv.subtract(time.counted, time.available)
            ps = p.start_us
            rows += [(i, ps, int(s), int(e), False)
                     for s, e in zip(plain.starts, plain.ends, strict=True)]
            rows += [(i, ps, int(s), int(e), True)
                     for s, e in zip(time.available.starts, time.available.ends, strict=True)]
        sliced = isinstance(ind, m.TimeslicesIndicator | m.SliceMeanIndicator)
        inner = ind.inner if isinstance(ind, m.TimeslicesIndicator | m.SliceMeanIndicator) \
            else ind
        query = self._query(ev, inner, periods, ind.slice_seconds * US if sliced else None)
        results = _Results.empty() if not rows else self._run(query, inner, counted_values(rows))
        for i, p in enumerate(periods):
            if not sliced:
                self._measures[(ev.id, i)] = _plain_measure(inner, results, i)
            else:
                assert isinstance(ind, m.TimeslicesIndicator | m.SliceMeanIndicator)
                self._measures[(ev.id, i)] = _sliced_measure(ind, results, i, p, times[i])

    def _query(self, ev: Evaluation, inner: m.Indicator, periods: list[PeriodInstance],
               slice_us: int | None) -> EventQuery:
        sel = selection_of(inner)
        a = ev.agreement
        assert self.backend is not None
        lo = min(p.start_us for p in periods)
        hi = max(min(p.end_us, self.as_of_us) for p in periods)
        column = inner.column if isinstance(inner, m.ValueIndicator) and \
            inner.function != "count" else None
        return EventQuery(
            self.backend.dialect, self.bound[sel.source.id].relation,
            a.service.key if sel.source.key_column else None, self.lowering(sel, a),
            sel.condition, inner.good if isinstance(inner, m.RatioIndicator) else None,
            column, (lo, max(lo, hi)), slice_us)

    def _run(self, q: EventQuery, inner: m.Indicator, counted: exp.Expression) -> _Results:
        assert self.backend is not None
        fetch = self.backend.fetch
        if isinstance(inner, m.RatioIndicator):
            return _Results(counts=_rows_by_group(fetch(q.ratio(counted))))
        assert isinstance(inner, m.ValueIndicator)
        out = _Results(counts=_rows_by_group(fetch(q.values(counted))))
        if inner.function in ("sum", "mean"):
            out.sums = _exact_sums(fetch(q.exact_sums(counted)))
        elif inner.function == "percentile":
            assert inner.q is not None
            out.percentiles = _percentiles(fetch(q.order_statistics(counted, inner.q,
                                                                      inner.method)), inner)
        return out


# ------------------------------------------------------------------------------- results


Group = tuple[int, ...]  # (period,) or (period, slice)


@dataclass
class _Results:
    counts: dict[Group, dict[str, Any]]
    sums: dict[Group, Fraction] = field(default_factory=dict)
    percentiles: dict[Group, Fraction] = field(default_factory=dict)

    _slices: dict[int, list[tuple[int, dict[str, Any]]]] | None = None

    @classmethod
    def empty(cls) -> _Results:
        return cls({})

    def slices_of(self, period: int) -> list[tuple[int, dict[str, Any]]]:
        """(slice index, row) of one period's groups, bucketed once for all periods."""
        if self._slices is None:
            self._slices = defaultdict(list)
            for (p, k), row in self.counts.items():  # type: ignore[misc]
                self._slices[p].append((k, row))
        return self._slices.get(period, [])


def _ints(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    return arr.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def _group(row: dict[str, Any]) -> Group:
    return (int(row["p"]), int(row["k"])) if "k" in row else (int(row["p"]),)


def _rows_by_group(t: pa.Table) -> dict[Group, dict[str, Any]]:
    return {_group(r): r for r in t.to_pylist()}


def _exact_sums(t: pa.Table) -> dict[Group, Fraction]:
    """Σ m · 2**(e - 52) per group, from the per-exponent integer mantissa sums."""
    acc: dict[Group, Fraction] = defaultdict(Fraction)
    for r in t.to_pylist():  # per group and distinct exponent
        acc[_group(r)] += Fraction(int(r["m"])) * Fraction(2) ** (int(r["e"]) - 52)
    return dict(acc)


def _percentiles(t: pa.Table, ind: m.ValueIndicator) -> dict[Group, Fraction]:
    """Nearest rank: the one order statistic; linear: a + (h - floor h)(b - a) exactly."""
    by: dict[Group, dict[int, float]] = defaultdict(dict)
    sizes: dict[Group, int] = {}
    for r in t.to_pylist():  # two rows per group at most
        g = _group(r)
        by[g][int(r["r"])] = float(r["v"])
        sizes[g] = int(r["n"])
    out: dict[Group, Fraction] = {}
    q = Fraction(ind.q or Decimal(0))
    for g, ranks in by.items():
        if ind.method == "nearest":
            (v,) = ranks.values()
            out[g] = Fraction(v)
            continue
        n = sizes[g]
        h = Fraction(n - 1) * q / 100
        lo = math.floor(h)
        a = Fraction(ranks[lo + 1])
        b = Fraction(ranks[min(lo + 2, n)])
        out[g] = a + (h - lo) * (b - a)
    return out


def _plain_measure(ind: m.Indicator, res: _Results, i: int) -> Measure:
    """As `arrow._ratio` and `arrow._value`, from the grouped results of period i."""
    row = res.counts.get((i,), {})
    if isinstance(ind, m.RatioIndicator):
        return _ratio(int(row.get("good") or 0), int(row.get("total") or 0))
    assert isinstance(ind, m.ValueIndicator)
    if ind.function == "count":
        n = int(row.get("rows") or 0)
        return Measure(Fraction(n), Fraction(n), None)
    n = int(row.get("n") or 0)
    skipped = int(row.get("skipped") or 0)
    if ind.function == "sum":
        return Measure(res.sums.get((i,), Fraction(0)), None, Fraction(n), skipped)
    if n == 0:
        return Measure(None, None, Fraction(0), skipped)
    if ind.function == "mean":
        measured = res.sums.get((i,), Fraction(0)) / n
    elif ind.function == "max":
        measured = Fraction(float(row["hi"]))
    elif ind.function == "min":
        measured = Fraction(float(row["lo"]))
    else:
        measured = res.percentiles[(i,)]
    return Measure(measured, None, Fraction(n), skipped)


@dataclass
class ExactSlices:
    """Per-slice values known exactly: `tol` infinite sends every comparison and mean in
    `arrow._slice_ok`/`arrow._slice_mean` to `exact`."""

    values: list[Fraction]
    tol: np.ndarray

    def exact(self, i: int) -> Fraction:
        return self.values[i]


def _sliced_measure(ind: m.TimeslicesIndicator | m.SliceMeanIndicator, res: _Results, i: int,
                    p: PeriodInstance, time: CountedTime) -> Measure:
    """As `Executor._events` for slices: per-slice arrays over the slices that exist."""
    size = ind.slice_seconds * US
    slices = iv.slice_indices(time.counted, p.start_us, size)
    n = len(slices)
    keyed = res.slices_of(i)
    pos = np.searchsorted(slices, np.array([k for k, _ in keyed], dtype=np.int64))

    def per_slice(name: str) -> np.ndarray:
        out = np.zeros(n, dtype=np.int64)
        if keyed:
            out[pos] = np.array([int(r[name] or 0) for _, r in keyed], dtype=np.int64)
        return out

    inner = ind.inner
    if isinstance(inner, m.RatioIndicator):
        total, good = per_slice("total"), per_slice("good")
        sv = SliceValues(total == 0, good=good, total=total)
    else:
        sv = _slice_values(inner, res, i, slices, per_slice("rows"), per_slice("n"), keyed, pos)
    if len(time.available):
        partly = iv.slice_indices(iv.subtract(time.counted, time.available), p.start_us, size)
        sv.available = ~np.isin(slices, partly)
    return _sliced(ind, sv, n)


def _slice_values(inner: m.ValueIndicator, res: _Results, i: int, slices: np.ndarray,
                  rows: np.ndarray, counts: np.ndarray, keyed: list[tuple[int, Any]],
                  pos: np.ndarray) -> SliceValues:
    """As `arrow._slice_values`, with exact per-slice values where the Arrow engine bounds a
    floating-point error and recomputes."""
    n = len(slices)
    if inner.function == "count":
        return SliceValues(rows == 0, values=counts.astype(float))
    if inner.function in ("max", "min"):
        out = np.full(n, np.nan)
        name = "hi" if inner.function == "max" else "lo"
        for (_, r), j in zip(keyed, pos, strict=True):
            if r[name] is not None:
                out[j] = float(r[name])
        return SliceValues(counts == 0, values=out)
    exact: list[Fraction] = [Fraction(0)] * n
    source = res.sums if inner.function in ("sum", "mean") else res.percentiles
    for j, k in enumerate(slices):
        v = source.get((i, int(k)))
        if v is not None:
            exact[j] = v / int(counts[j]) if inner.function == "mean" else v
    values = np.array([float(v) for v in exact], dtype=float)
    empty = rows == 0 if inner.function == "sum" else counts == 0
    if inner.function != "sum":
        values[counts == 0] = np.nan
    if inner.function == "percentile" and inner.method == "nearest":
        return SliceValues(empty, values=values)  # order statistics: doubles, exact already
    group = ExactSlices(exact, np.full(n, np.inf))
    return SliceValues(empty, values=values, group=group)  # type: ignore[arg-type]
