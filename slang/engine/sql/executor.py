"""The SQL executor: the Arrow executor's measures, with the per-row work done by a backend.

It subclasses the Arrow `Executor` and replaces only what touches rows: `intervals_of` (the
rows of an intervals source, filtered in SQL for every service at once, then merged by the
shared interval algebra) and `_events`. Events are measured in batches: the evaluations of the
plan whose rows have the same shape (`batch_signature`: same scan, same lowered conditions and
column, same aggregate; typically one objective template repeated for many services) run as
ONE grouped query per aggregate, over all their periods, grouped by (evaluation, period) and by
slice for slice indicators; what differs between them (key, periods, hours, exclusions) is the
counted-time table, registered with the backend as an Arrow table. Counted time, uptime's
interval algebra, slices' `empty:` and `as available` rules and everything after (`Measure` ->
status and money) are the Arrow engine's own code, so the two engines cannot drift apart there.

Exactness, as in the Arrow engine: counts are integers; minima, maxima and order statistics are
the doubles themselves; sums and means are exact from integer mantissas per binary exponent
(`EventQuery.exact_sums`), and percentiles interpolate exactly between the two order statistics.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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
    COUNTED_COLUMNS,
    ConditionLowering,
    EventQuery,
    aggregate_of,
    batch_signature,
    inner_indicator,
    interval_rows,
    ts_columns,
)
from slang.engine.sql.sources import BoundScan, materialized
from slang.plan.plan import Evaluation, selection_of
from slang.semantics import model as m
from slang.syntax.formatter import format_expr

US = 1_000_000
DAY_US = 86_400 * US
MAX_PIECES = 2_000_000  # counted-time rows per batch before the join's buckets widen
MATERIALIZE_AFTER = 8  # queries reading one events scan before it is written as a table


@dataclass
class SqlExecutor(Executor):
    backend: Backend | None = None
    bound: dict[str, BoundScan] = field(default_factory=dict)
    periods: dict[str, list[PeriodInstance]] = field(default_factory=dict)
    evaluations: list[Evaluation] = field(default_factory=list)  # the plan's, for batching
    _measures: dict[tuple[str, int], Measure] = field(default_factory=dict)
    _batches: dict[str, list[Evaluation]] | None = None  # evaluation id -> its batch
    _templates: dict[str, EventQuery] = field(default_factory=dict)
    _counted: dict[tuple[str, int, int], CountedTime] = field(default_factory=dict)
    _intervals: dict[tuple[str, str], dict[str | None, iv.Intervals]] = field(
        default_factory=dict)
    _hours: dict[tuple[int, str, str], iv.Intervals] = field(default_factory=dict)
    _batch_count: int = 0

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
        scan: from its earliest start to its latest end (open ends: as_of). Asked once per
        calendar and pair of expressions, however many evaluations lower the call."""
        from slang.engine.calendar_time import hours_intervals

        assert self.backend is not None
        render = self.backend.dialect.render
        cache = (id(cal), render(b.relation), f"{render(start)}\0{render(end)}")
        if cache in self._hours:
            return self._hours[cache]
        q = exp.select(exp.alias_(exp.Min(this=start), "lo"),
                       exp.alias_(exp.Max(this=end), "hi")).from_(b.relation)
        row = self.backend.fetch(q).to_pylist()[0]
        if row["lo"] is None:
            hours = iv.Intervals.empty()
        else:
            lo, hi = int(row["lo"]), max(int(row["hi"] if row["hi"] is not None else 0),
                                         int(row["lo"]) + 1)
            hours = hours_intervals(cal, lo, hi + 1)
        self._hours[cache] = hours
        return hours

    def counted(self, ev: Evaluation, p: PeriodInstance, until_us: int) -> CountedTime:
        """The Arrow executor's counted time, kept: a batch computes it for every member's
        periods before its query, and `measure` asks for it again."""
        cache = (ev.id, p.start_us, until_us)
        got = self._counted.get(cache)
        if got is None:
            got = self._counted[cache] = super().counted(ev, p, until_us)
        return got

    # ----------------------------------------------------------------- intervals sources

    def intervals_of(self, sel: m.Selection, key: str, a: m.Agreement) -> iv.Intervals:
        """One query per (source, condition, zone) for every service: the rows come back
        with their key and are merged per key here."""
        src = sel.source
        text = "" if sel.condition is None else format_expr(sel.condition)
        cache = (src.id, f"{a.timezone}\0{text}")
        if cache not in self._intervals:
            assert self.backend is not None
            cond = self.lowering(sel, a).condition(sel.condition)
            keyed = src.key_column is not None
            rows = self.backend.fetch(interval_rows(
                self.backend.dialect, self.bound[src.id].relation, keyed, cond))
            self._intervals[cache] = self._merge_by_key(rows, keyed)
        return self._intervals[cache].get(key if src.key_column else None,
                                          iv.Intervals.empty())

    def _merge_by_key(self, rows: pa.Table, keyed: bool) -> dict[str | None, iv.Intervals]:
        starts = _ints(rows.column("__start"))
        ends = _ints(rows.column("__end").cast(pa.int64()).fill_null(self.as_of_us))
        ends = np.minimum(ends, max(self.as_of_us, 0))
        keep = ends > starts
        if not keyed:
            return {None: iv.normalize(starts[keep], ends[keep])}
        keys = np.asarray(rows.column("__key").to_pylist(), dtype=object)
        out: dict[str | None, iv.Intervals] = {}
        for k in sorted(set(keys[keep].tolist())):
            mine = keep & (keys == k)
            out[k] = iv.normalize(starts[mine], ends[mine])
        return out

    # --------------------------------------------------------------------- events sources

    def _events(self, ev: Evaluation, ind: m.Indicator, p: PeriodInstance,
                time: CountedTime, until: int) -> Measure:
        if (ev.id, p.start_us) not in self._measures:
            self._measure_batch(self._batch_of(ev))
        return self._measures.pop((ev.id, p.start_us))

    def _batch_of(self, ev: Evaluation) -> list[Evaluation]:
        """The evaluations measured with `ev` in one query: the plan's events evaluations
        with the same `batch_signature`, in plan order."""
        if self._batches is None:
            self._batches = {}
            groups: dict[str, list[Evaluation]] = {}
            for e in self.evaluations:
                if isinstance(e.objective.indicator, m.UptimeIndicator):
                    continue
                groups.setdefault(self._signature(e), []).append(e)
            for members in groups.values():
                for e in members:
                    self._batches[e.id] = members
            self._materialize_busy_scans(groups.values())
        return self._batches.get(ev.id) or [ev]

    def _materialize_busy_scans(self, batches: Iterable[list[Evaluation]]) -> None:
        """Scans that many queries will read are written once as a table ordered by (key,
        time) (`sources.materialized`); the others stay views over the Parquet files, read
        once per query: with batching, a sort of every row costs more than the few scans it
        saves (1 M rows: ~0.8 s of CPU against ~0.1 s per extra Parquet pass)."""
        queries: dict[str, int] = defaultdict(int)
        for members in batches:
            inner = inner_indicator(members[0].objective.indicator)
            source = selection_of(inner).source.id
            two = isinstance(inner, m.ValueIndicator) and \
                inner.function in ("sum", "mean", "percentile")
            queries[source] += 2 if two else 1
        assert self.backend is not None
        for source, n in queries.items():
            if n >= MATERIALIZE_AFTER:
                self.bound[source] = materialized(self.backend, self.bound[source])

    def _signature(self, ev: Evaluation) -> str:
        ind = ev.objective.indicator
        inner = inner_indicator(ind)
        assert self.backend is not None
        return batch_signature(self.backend.dialect, self._template(ev), aggregate_of(inner))

    def _template(self, ev: Evaluation) -> EventQuery:
        """The evaluation's query shape (its conditions lowered in its agreement's zone),
        before the batch's keys and time range are filled in."""
        if ev.id not in self._templates:
            ind = ev.objective.indicator
            inner = inner_indicator(ind)
            sel = selection_of(inner)
            a = ev.agreement
            assert self.backend is not None
            column = inner.column if isinstance(inner, m.ValueIndicator) and \
                inner.function != "count" else None
            sliced = isinstance(ind, m.TimeslicesIndicator | m.SliceMeanIndicator)
            self._templates[ev.id] = EventQuery(
                self.backend.dialect, self.bound[sel.source.id].relation,
                () if sel.source.key_column else None, self.lowering(sel, a), sel.condition,
                inner.good if isinstance(inner, m.RatioIndicator) else None, column, None,
                ind.slice_seconds * US if sliced else None)
        return self._templates[ev.id]

    def _measure_batch(self, batch: list[Evaluation]) -> None:
        """For every period of every evaluation of the batch: one query per aggregate (the
        ratio or the values; then the exact sums, or the two percentile passes)."""
        first = batch[0]
        ind = first.objective.indicator
        inner = inner_indicator(ind)
        sliced = isinstance(ind, m.TimeslicesIndicator | m.SliceMeanIndicator)
        pieces = _Pieces()
        times: dict[tuple[int, int], CountedTime] = {}
        lo = hi = None
        for i, ev in enumerate(batch):
            key = ev.agreement.service.key
            for j, p in enumerate(self.periods[ev.agreement.name]):
                until = min(p.end_us, self.as_of_us)
                time = self.counted(ev, p, until)
                times[(i, j)] = time
                pieces.add(i, key, j, p.start_us, iv.subtract(time.counted, time.available),
                           False)
                pieces.add(i, key, j, p.start_us, time.available, True)
                lo = p.start_us if lo is None else min(lo, p.start_us)
                hi = until if hi is None else max(hi, until)
        template = self._template(first)
        results = _Results.empty()
        if len(pieces) and lo is not None and hi is not None:
            keys = None if template.keys is None else \
                tuple(sorted({e.agreement.service.key for e in batch}))
            bucket = pieces.bucket_width(lo)
            scan = self.bound[selection_of(inner).source.id].relation
            query = dataclasses.replace(template, scan=scan, keys=keys,
                                        time_range=(lo, max(lo, hi)), bucket_us=bucket)
            results = self._run(query, inner, pieces.table(lo, bucket, keys is not None))
        for i, ev in enumerate(batch):
            for j, p in enumerate(self.periods[ev.agreement.name]):
                if not sliced:
                    measure = _plain_measure(inner, results, (i, j))
                else:
                    assert isinstance(ind, m.TimeslicesIndicator | m.SliceMeanIndicator)
                    measure = _sliced_measure(ev.objective.indicator,  # type: ignore[arg-type]
                                              results, (i, j), p, times[(i, j)])
                self._measures[(ev.id, p.start_us)] = measure

    def _run(self, q: EventQuery, inner: m.Indicator, counted: pa.Table) -> _Results:
        with self._bound(counted) as relation:
            return self._aggregates(q, inner, relation, counted)

    def _aggregates(self, q: EventQuery, inner: m.Indicator, counted: exp.Expression,
                    table: pa.Table) -> _Results:
        assert self.backend is not None
        fetch = self.backend.fetch
        if isinstance(inner, m.RatioIndicator):
            return _Results(counts=_rows_by_group(fetch(q.ratio(counted))))
        assert isinstance(inner, m.ValueIndicator)
        if inner.function == "percentile":
            return self._percentiles(q, inner, counted, table)
        out = _Results(counts=_rows_by_group(fetch(q.values(counted))))
        if inner.function in ("sum", "mean"):
            out.sums = _exact_sums(fetch(q.exact_sums(counted)))
        return out

    def _percentiles(self, q: EventQuery, ind: m.ValueIndicator, counted: exp.Expression,
                     table: pa.Table) -> _Results:
        """Exact order statistics in two hash-aggregate passes over the joined rows, without
        sorting rows: the counts per bucket of a grid over the batch's values (its range
        from `EventQuery.column_range`, answered from the files' statistics where the
        backend can; `value_range`, a pass without the join, when the column holds
        infinities or NaN) locate the bucket of each
        wanted rank, and give each group's `values` numbers (rows, n, skipped, minimum,
        maximum) too; the distinct values inside those buckets only (`bucket_values`) give
        the value. The grid and the wanted ranges ride along the counted-time table (one
        join per pass, as for every aggregate); slices, whose groups are finer than a piece,
        join a table of wanted ranges."""
        assert self.backend is not None and ind.q is not None
        span = self.backend.fetch(q.column_range()).to_pylist()[0]
        if not all(span[c] is not None and math.isfinite(span[c]) for c in ("lo", "hi")):
            span = self.backend.fetch(q.value_range()).to_pylist()[0]  # NaN, infinities
        groups = len(np.unique(_ints(table.column("i")) * (1 << 32) + _ints(table.column("p"))))
        lo, sc = _grid(span["lo"], span["hi"], int(span["n"] or 0), groups)
        with self._bound(_carrying(table, {"lo": ({}, lo), "sc": ({}, sc)})) as relation:
            buckets = _Buckets(self.backend.fetch(q.order_buckets(relation)),
                               len(q.group_keys()))
        out = _Results(counts=buckets.group_values())
        ranks = _wanted_ranks(out.counts, ind)
        if not ranks:
            return out
        wanted, where = buckets.locate(ranks)
        vlo, vhi = wanted.column("vlo").to_numpy(), wanted.column("vhi").to_numpy()
        within = (float(vlo.min()), float(vhi.max()))
        if q.slice_us is None:
            ranges: dict[str, dict[tuple[int, int], float]] = defaultdict(dict)
            for row in wanted.to_pylist():
                key = (int(row["i"]), int(row["p"]))
                n = "1" if key not in ranges["vlo1"] else "2"
                ranges[f"vlo{n}"][key], ranges[f"vhi{n}"][key] = row["vlo"], row["vhi"]
            carried = {c: (ranges[c], None) for c in ("vlo1", "vhi1", "vlo2", "vhi2")}
            with self._bound(_carrying(table, carried)) as relation:
                values = self.backend.fetch(q.bucket_values(relation, within=within))
        else:
            with self._bound(wanted) as relation:
                values = self.backend.fetch(q.bucket_values(counted, relation, within))
        out.percentiles = _order_statistics(ranks, where, values, buckets.keys, ind)
        return out

    @contextlib.contextmanager
    def _bound(self, table: pa.Table) -> Iterator[exp.Expression]:
        """A small Arrow table registered with the backend for one query."""
        assert self.backend is not None
        self._batch_count += 1
        name = f"slang_batch_{self._batch_count}"
        relation = self.backend.bind_arrow(name, table)
        try:
            yield relation
        finally:
            self.backend.unbind(name)


class _Pieces:
    """The rows of a batch's counted-time table, gathered as arrays and cut into buckets
    (`EventQuery`: the join is an equi-join on (key, bucket))."""

    def __init__(self) -> None:
        self.cols: dict[str, list[np.ndarray]] = defaultdict(list)
        self.keys: list[tuple[str, int]] = []  # (key, how many pieces) in order

    def add(self, i: int, key: str, p: int, ps: int, spans: iv.Intervals, a: bool) -> None:
        n = len(spans.starts)
        if n == 0:
            return
        self.cols["i"].append(np.full(n, i, np.int32))
        self.cols["p"].append(np.full(n, p, np.int32))
        self.cols["ps"].append(np.full(n, ps, np.int64))
        self.cols["s"].append(np.asarray(spans.starts, np.int64))
        self.cols["e"].append(np.asarray(spans.ends, np.int64))
        self.cols["a"].append(np.full(n, a, bool))
        self.keys.append((key, n))

    def __len__(self) -> int:
        return sum(n for _, n in self.keys)

    def bucket_width(self, lo: int) -> int:
        """A day, or wider when days would cut the counted time into more than MAX_PIECES
        rows (a long audit of many evaluations)."""
        s, e = np.concatenate(self.cols["s"]), np.concatenate(self.cols["e"])
        width = DAY_US
        while int(((e - 1 - lo) // width - (s - lo) // width + 1).sum()) > MAX_PIECES:
            width *= 2
        return width

    def table(self, lo: int, width: int, keyed: bool) -> pa.Table:
        """Each piece cut at multiples of `width` from `lo`, one row per (piece, bucket)."""
        cols = {k: np.concatenate(v) for k, v in self.cols.items()}
        s, e = cols["s"], cols["e"]
        first = (s - lo) // width
        count = (e - 1 - lo) // width - first + 1
        rep = np.repeat(np.arange(len(s)), count)
        # the bucket of each output row: its piece's first bucket plus its rank in the piece
        offset = np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)
        w = first[rep] + offset
        out: dict[str, Any] = {
            "i": cols["i"][rep], "w": w,
            "p": cols["p"][rep], "ps": cols["ps"][rep],
            "s": np.maximum(s[rep], lo + w * width),
            "e": np.minimum(e[rep], lo + (w + 1) * width),
            "a": cols["a"][rep],
        }
        if keyed:
            names = [k for k, _ in self.keys]
            codes = np.repeat(np.arange(len(names)), [n for _, n in self.keys])
            out["key"] = pa.DictionaryArray.from_arrays(
                pa.array(codes[rep], pa.int32()), pa.array(names, pa.string())
            ).cast(pa.string())
        return pa.table({c: out[c] for c in COUNTED_COLUMNS if c in out})


# ------------------------------------------------------------------------------- results


Group = tuple[int, ...]  # (evaluation, period) or (evaluation, period, slice)
Member = tuple[int, int]  # (evaluation of the batch, period index)


@dataclass
class _Results:
    counts: dict[Group, dict[str, Any]]
    sums: dict[Group, Fraction] = field(default_factory=dict)
    percentiles: dict[Group, Fraction] = field(default_factory=dict)

    _slices: dict[Member, list[tuple[int, dict[str, Any]]]] | None = None

    @classmethod
    def empty(cls) -> _Results:
        return cls({})

    def slices_of(self, member: Member) -> list[tuple[int, dict[str, Any]]]:
        """(slice index, row) of one period's groups, bucketed once for all periods."""
        if self._slices is None:
            self._slices = defaultdict(list)
            for (i, p, k), row in self.counts.items():  # type: ignore[misc]
                self._slices[(i, p)].append((k, row))
        return self._slices.get(member, [])


def _ints(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    return arr.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def _group(row: dict[str, Any]) -> Group:
    i, p = int(row["i"]), int(row["p"])
    return (i, p, int(row["k"])) if "k" in row else (i, p)


def _rows_by_group(t: pa.Table) -> dict[Group, dict[str, Any]]:
    return {_group(r): r for r in t.to_pylist()}


def _exact_sums(t: pa.Table) -> dict[Group, Fraction]:
    """Σ m · 2**(e - 52) per group, from the per-exponent integer mantissa sums."""
    acc: dict[Group, Fraction] = defaultdict(Fraction)
    for r in t.to_pylist():  # per group and distinct exponent
        acc[_group(r)] += Fraction(int(r["m"])) * Fraction(2) ** (int(r["e"]) - 52)
    return dict(acc)


Ranks = dict[Group, tuple[int, tuple[int, ...]]]  # group -> (n, the ranks it needs)
Bucket = tuple[float, float, int]  # a bucket's least and greatest value, a rank within it


def _wanted_ranks(counts: dict[Group, dict[str, Any]], ind: m.ValueIndicator) -> Ranks:
    """Per group with values, its count n and the ranks (1-based) its percentile needs:
    nearest rank max(1, ceil(q n / 100)); linear floor(h) + 1 and min(floor(h) + 2, n) for
    h = (n - 1) q / 100."""
    q = Fraction(ind.q or Decimal(0))
    out: Ranks = {}
    for g, row in counts.items():
        n = int(row.get("n") or 0)
        if n == 0:
            continue
        if ind.method == "nearest":
            out[g] = (n, (max(1, math.ceil(q * n / 100)),))
        else:
            lo = math.floor(Fraction(n - 1) * q / 100)
            out[g] = (n, (lo + 1, min(lo + 2, n)))
    return out


Grid = tuple[float, float]  # lo, sc


def _grid(lo: float | None, hi: float | None, n: int, groups: int) -> Grid:
    """The batch's grid over its finite values [lo, hi] (`EventQuery.value_range`, n of
    them over `groups` groups): nb = 4 sqrt(n / groups) buckets (at most 2**14; the groups'
    ranges are narrower than the batch's), so that the first pass returns about sqrt(n)
    buckets per group and the second about sqrt(n) values were they evenly spread; bucket
    numbers stay in [0, nb] (a little above through rounding). Any grid gives the same,
    exact result (only the passes' sizes depend on it): an overflowing range falls back to
    a grid through 0 ([-nb/2, nb/2]), a single value (or none) to one bucket."""
    if lo is None or hi is None or n == 0:
        return (0.0, 0.0)
    lo, hi = float(lo), float(hi)
    nb = max(1, min(1 << 14, 4 * math.isqrt(n // max(1, groups))))
    width = hi - lo
    if width == 0:
        return (lo, 0.0)
    if math.isinf(width):
        return (0.0, nb / 2 / max(abs(lo), abs(hi)))
    sc = nb / width
    return (lo, sc) if math.isfinite(sc) else (lo, 0.0)


def _carrying(counted: pa.Table, columns: dict[str, tuple[dict[tuple[int, int], float],
                                                            float | None]]) -> pa.Table:
    """The counted-time table with more DOUBLE columns, each given per (evaluation, period)
    with a default (None: null) for the others."""
    i, p = _ints(counted.column("i")), _ints(counted.column("p"))
    width = int(p.max()) + 1 if len(p) else 1
    code = i * width + p
    out = counted
    for name, (by, default) in columns.items():
        dense = np.full(int(code.max()) + 1 if len(code) else 1, np.nan)
        known = np.zeros(len(dense), bool)
        for (ki, kp), x in by.items():
            dense[ki * width + kp] = x
            known[ki * width + kp] = True
        have = known[code]
        vals = np.where(have, dense[code], 0.0 if default is None else default)
        out = out.append_column(name, pa.array(vals, pa.float64(),
                                               mask=~have if default is None else None))
    return out


class _Buckets:
    """The order buckets of every group (`EventQuery.order_buckets`), sorted in value order
    with running counts (vectorised: one lexsort, one cumsum)."""

    def __init__(self, t: pa.Table, width: int) -> None:
        self.width = width
        self.keys = list(("i", "p", "k")[:width])
        self.all = t
        t = t.filter(pc.greater(t.column("c"), 0))  # the buckets of usable values
        cols = {c: _ints(t.column(c)) for c in [*self.keys, "b", "c"]}
        order = np.lexsort((cols["b"], *reversed([cols[c] for c in self.keys])))
        self.cols = {c: v[order] for c, v in cols.items()}
        for c in ("vlo", "vhi"):
            self.cols[c] = t.column(c).to_numpy()[order]
        self.cum = np.cumsum(self.cols["c"])
        groups = np.stack([self.cols[c] for c in self.keys], axis=1)
        change = np.ones(len(order), bool)
        change[1:] = (groups[1:] != groups[:-1]).any(axis=1)
        # per group: how many values lie in the groups sorted before it
        self.base = {tuple(int(x) for x in groups[j]): int(self.cum[j] - self.cols["c"][j])
                     for j in np.flatnonzero(change)}

    def group_values(self) -> dict[Group, dict[str, Any]]:
        """Per group, the `values` query's numbers from all its buckets (that of the rows
        without a usable value included): rows counted, usable values n, values skipped,
        least and greatest usable value."""
        usable = pc.greater(self.all.column("c"), 0)
        t = self.all
        for c in ("vlo", "vhi"):  # the null bucket's are of values that cannot be used
            t = t.set_column(t.schema.get_field_index(c), c,
                             pc.if_else(usable, t.column(c), pa.scalar(None, pa.float64())))
        t = t.group_by(self.keys, use_threads=False).aggregate([
            ("rows", "sum"), ("c", "sum"), ("skipped", "sum"), ("vlo", "min"), ("vhi", "max")])
        t = t.rename_columns({"rows_sum": "rows", "c_sum": "n", "skipped_sum": "skipped",
                              "vlo_min": "lo", "vhi_max": "hi"})
        return _rows_by_group(t)

    def locate(self, ranks: Ranks) -> tuple[pa.Table, dict[tuple[Group, int], Bucket]]:
        """The buckets holding the wanted ranks (a table for `bucket_values` to join: group
        keys and the bucket's value range), and per (group, rank) its bucket and the rank
        within it."""
        pairs = [(g, r) for g, (_, rs) in ranks.items() for r in rs]
        targets = np.array([self.base[g] + r for g, r in pairs], dtype=np.int64)
        # the running counts strictly increase: the first bucket reaching the target
        at = np.searchsorted(self.cum, targets, side="left")
        where: dict[tuple[Group, int], Bucket] = {}
        for (g, r), j in zip(pairs, at.tolist(), strict=True):
            earlier = int(self.cum[j] - self.cols["c"][j])
            where[(g, r)] = (float(self.cols["vlo"][j]), float(self.cols["vhi"][j]),
                             self.base[g] + r - earlier)
        rows = np.unique(at)
        cols: dict[str, Any] = {c: pa.array(self.cols[c][rows], pa.int32()) for c in self.keys}
        cols["vlo"] = pa.array(self.cols["vlo"][rows], pa.float64())
        cols["vhi"] = pa.array(self.cols["vhi"][rows], pa.float64())
        return pa.table(cols), where


def _order_statistics(ranks: Ranks, where: dict[tuple[Group, int], Bucket], t: pa.Table,
                      keys: list[str], ind: m.ValueIndicator) -> dict[Group, Fraction]:
    """The wanted ranks' values from the distinct values of their buckets, then nearest rank
    (the one order statistic) or linear a + (h - floor h)(b - a), exactly."""
    held: dict[Group, list[tuple[float, int]]] = defaultdict(list)
    cols = [t.column(c).to_pylist() for c in [*keys, "v", "c"]]
    for row in zip(*cols, strict=True):
        held[tuple(int(x) for x in row[:-2])].append((float(row[-2]), int(row[-1])))
    for values in held.values():
        values.sort()

    def value(g: Group, r: int) -> Fraction:
        vlo, vhi, k = where[(g, r)]  # the bucket's range and the rank within it
        for v, c in held[g]:
            if v < vlo or v > vhi:
                continue
            if k <= c:
                return Fraction(v)
            k -= c
        raise AssertionError(f"rank {r} of group {g} is not in its bucket")

    out: dict[Group, Fraction] = {}
    q = Fraction(ind.q or Decimal(0))
    for g, (n, rs) in ranks.items():
        if ind.method == "nearest":
            out[g] = value(g, rs[0])
            continue
        h = Fraction(n - 1) * q / 100
        a, b = value(g, rs[0]), value(g, rs[1])
        out[g] = a + (h - math.floor(h)) * (b - a)
    return out


def _plain_measure(ind: m.Indicator, res: _Results, i: Member) -> Measure:
    """As `arrow._ratio` and `arrow._value`, from the grouped results of one evaluation's
    period i."""
    row = res.counts.get(i, {})
    if isinstance(ind, m.RatioIndicator):
        return _ratio(int(row.get("good") or 0), int(row.get("total") or 0))
    assert isinstance(ind, m.ValueIndicator)
    if ind.function == "count":
        n = int(row.get("rows") or 0)
        return Measure(Fraction(n), Fraction(n), None)
    n = int(row.get("n") or 0)
    skipped = int(row.get("skipped") or 0)
    if ind.function == "sum":
        return Measure(res.sums.get(i, Fraction(0)), None, Fraction(n), skipped)
    if n == 0:
        return Measure(None, None, Fraction(0), skipped)
    if ind.function == "mean":
        measured = res.sums.get(i, Fraction(0)) / n
    elif ind.function == "max":
        measured = Fraction(float(row["hi"]))
    elif ind.function == "min":
        measured = Fraction(float(row["lo"]))
    else:
        measured = res.percentiles[i]
    return Measure(measured, None, Fraction(n), skipped)


@dataclass
class ExactSlices:
    """Per-slice values known exactly: `tol` infinite sends every comparison and mean in
    `arrow._slice_ok`/`arrow._slice_mean` to `exact`."""

    values: list[Fraction]
    tol: np.ndarray

    def exact(self, i: int) -> Fraction:
        return self.values[i]


def _sliced_measure(ind: m.TimeslicesIndicator | m.SliceMeanIndicator, res: _Results, i: Member,
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


def _slice_values(inner: m.ValueIndicator, res: _Results, i: Member, slices: np.ndarray,
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
        v = source.get((*i, int(k)))
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
