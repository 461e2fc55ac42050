"""The Arrow executor: runs an evaluation plan over bound tables, vectorised.

Per scan, the table is ordered once by (key, time) so that one service's rows are a contiguous
slice and one period's rows a sub-slice found by binary search. Time restrictions (period,
effective range, hours, holidays, exclusions) are turned into one sorted set of counted-time
intervals per period, and a row counts when its time falls in that set (`np.searchsorted`).
Loops run per agreement, objective and period, never per row; per slice only to recompute
exactly the few floating-point per-slice values near a threshold, and for `slice_mean` of means,
sums and interpolated percentiles.

`exclude ... as available` (spec §4.3): its time stays in the counted time. Uptime leaves the
downtime inside it out of D, `(T - D) / T`. For events the spec is silent; our reading, as an
auditor would take "available": a ratio counts the rows inside as good (they still need the
total's condition and the key), value indicators leave them out (no value can be "available"),
and a slice whose counted time lies wholly inside is good (timeslices) or 1.0 (slice_mean of a
ratio). Where an ordinary exclusion overlaps it, the time is excluded.
"""

from __future__ import annotations

import dataclasses
import math
import mmap
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slang.engine import intervals as iv
from slang.engine.calendar_time import hours_intervals, local_windows
from slang.engine.conditions import ConditionCompiler
from slang.engine.outcome import exact, satisfies
from slang.engine.periods import PeriodInstance
from slang.plan.plan import Evaluation, selection_of
from slang.semantics import model as m

US = 1_000_000


# ------------------------------------------------------------------------------ prepared scans


@dataclass
class PreparedScan:
    """A source's rows ordered by (key, time), with the slice of rows of each key."""

    source: m.Source
    table: pa.Table
    key_ranges: dict[str | None, tuple[int, int]]
    time: np.ndarray  # int64 us: __t for events, __start for intervals, in table order
    masks: dict[tuple[str | None, str], np.ndarray] = field(default_factory=dict)

    def rows(self, key: str | None) -> tuple[int, int]:
        if self.source.key_column is None:
            return 0, self.table.num_rows
        return self.key_ranges.get(key, (0, 0))


def prepare(source: m.Source, table: pa.Table) -> PreparedScan:
    """Order the rows of a whole table once by (key, time), shared by every objective on this
    scan (see `ScanBuilder`; `read_source` can feed one piece by piece instead)."""
    if source.key_column is None or "__key" not in table.column_names:
        t = _ints(table.column(_time_column(source)))
        if len(t) < 2 or bool((t[1:] >= t[:-1]).all()):
            return PreparedScan(source, table, {None: (0, table.num_rows)}, t)
    builder = ScanBuilder(source, keyed="__key" in table.column_names)
    builder.add(table)
    builder.finish()
    assert builder.prepared is not None
    return builder.prepared


def _time_column(source: m.Source) -> str:
    return "__t" if source.kind == "events" else "__start"


@dataclass
class _Piece:
    """One piece's rows, ordered by key code (stably): the time as int64 and the other
    columns, with the number of rows of each key code."""

    rest: pa.Table
    time: np.ndarray | None
    counts: np.ndarray


class ScanBuilder:
    """Builds a PreparedScan from canonical pieces (files or Parquet row groups) as they are
    read, so that the whole unsorted table and its sorted copy never exist together: each
    piece is ordered by key on arrival (a stable radix sort of its small key codes, numpy's
    for 8- and 16-bit integers), and at the end the pieces' rows of one key become one
    contiguous slice (the table's chunks, not a copy) and their times one int64 array, filled
    piece by piece while each piece's times are released.

    A stable sort by key of rows in reading order gives (key, time) order for every key whose
    times arrive in order (logs are written so). A key whose times do not is sorted on its own
    (stably, so ties keep reading order): the same order as `np.lexsort((time, key))`.

    `keep_key=False` drops `__key` (the engine finds a key's rows by `key_ranges`). Pieces
    must hold no null keys or times (`read_source` skips those rows).

    `keys` fixes the key of each code in advance, for pieces that come with their codes and
    times (`add(table, codes, times)`, the table without `__key` and time: a streamed audit's
    bucket files; `columns` then gives the table's column order). A piece whose rows are
    already ordered by code is kept as it is, without sorting or copying it."""

    def __init__(self, source: m.Source, keep_key: bool = True, keyed: bool = True,
                 keys: list[str] | None = None) -> None:
        self.source = source
        self.keep_key = keep_key
        self.time_col = _time_column(source)
        self.keyed = keyed and source.key_column is not None
        self.keys: list[str | None] = [] if self.keyed else [None]
        self.code_of: dict[str, int] = {}
        self.pieces: list[_Piece] = []
        self.columns: list[str] | None = None
        self.last: list[int] = [] if self.keyed else [np.iinfo(np.int64).min]
        self.unsorted: list[bool] = [] if self.keyed else [False]
        self.prepared: PreparedScan | None = None
        for key in keys or ():
            self._code(key)

    def add(self, table: pa.Table, codes: np.ndarray | None = None,
            times: np.ndarray | None = None) -> None:
        """Add a piece; `codes` (each row's code in `keys`) and `times` (int64, handed over,
        in an `unmappable` array) when the table has no `__key` and time columns."""
        if self.columns is None:
            self.columns = [c for c in table.column_names
                            if self.keep_key or c != "__key"]
        if self.keyed and codes is None and "__key" not in table.column_names:
            raise ValueError("ScanBuilder: a keyed source's pieces need `__key`")
        t = _ints(table.column(self.time_col)) if times is None else times
        drop = [c for c in (self.time_col, "__key") if c in table.column_names]
        own_time = [c for c in drop if c == self.time_col]
        if not self.keyed:
            counts = np.array([len(t)])
            rest = table.drop_columns(drop) if not self.keep_key else \
                table.drop_columns(own_time)
            self._check_order(t, counts)
            self.pieces.append(_Piece(rest, t, counts))
            return
        if codes is None:
            codes = self._codes(table.column("__key"))
        counts = np.bincount(codes, minlength=len(self.keys))
        keep = table.drop_columns(own_time if self.keep_key else drop)
        del table
        if len(codes) < 2 or bool((codes[1:] >= codes[:-1]).all()):  # grouped already
            rest = keep
            t = _copy_unmappable(t) if times is None else t
        else:
            order = np.argsort(codes, kind="stable")
            rest = keep.take(pa.array(order))
            t = np.take(t, order, out=unmappable(len(order), np.int64), mode="clip")
            del order
        del codes, keep
        self._check_order(t, counts)
        self.pieces.append(_Piece(rest, t, counts))

    def _codes(self, keys: pa.ChunkedArray) -> np.ndarray:
        """Each row's key as a code shared by all pieces (codes by first appearance), in the
        narrowest unsigned type: numpy sorts 8- and 16-bit integers by radix."""
        parts = []
        for chunk in keys.chunks:
            if chunk.null_count:
                raise ValueError("ScanBuilder: rows without a key must be skipped first")
            if not pa.types.is_dictionary(chunk.type):
                chunk = pc.dictionary_encode(chunk)
            lookup = [self._code(v) for v in chunk.dictionary.to_pylist()] or [0]
            parts.append((np.array(lookup), chunk.indices.to_numpy(zero_copy_only=False)))
        narrow = (np.uint8 if len(self.keys) <= 1 << 8
                  else np.uint16 if len(self.keys) <= 1 << 16 else np.int64)
        codes = [lookup.astype(narrow)[indices] for lookup, indices in parts]
        if not codes:
            return np.zeros(0, narrow)
        return codes[0] if len(codes) == 1 else np.concatenate(codes)

    def _code(self, key: str) -> int:
        if key not in self.code_of:
            self.code_of[key] = len(self.keys)
            self.keys.append(key)
            self.last.append(np.iinfo(np.int64).min)
            self.unsorted.append(False)
        return self.code_of[key]

    def _check_order(self, t: np.ndarray, counts: np.ndarray) -> None:
        """Note the keys whose times go backwards, within this piece or since the last."""
        bounds = np.concatenate([[0], np.cumsum(counts)])
        back = np.flatnonzero(t[1:] < t[:-1])  # row i+1 before row i
        if len(back):
            k = np.searchsorted(bounds, back, side="right") - 1
            for code in np.unique(k[back + 1 < bounds[k + 1]]):
                self.unsorted[int(code)] = True
        for code in np.flatnonzero(counts):
            first, last = int(t[bounds[code]]), int(t[bounds[code + 1] - 1])
            if first < self.last[code]:
                self.unsorted[code] = True
            self.last[code] = last

    def finish(self) -> pa.Table:
        """The table ordered by (key, time); `self.prepared` is its PreparedScan."""
        n_keys = len(self.keys)
        totals = np.zeros(n_keys, np.int64)
        for piece in self.pieces:
            totals[:len(piece.counts)] += piece.counts
        bounds = np.concatenate([[0], np.cumsum(totals)]).astype(np.int64)
        times = unmappable(int(bounds[-1]), np.int64)  # 4 KB pages: see unmappable
        pos = bounds[:-1].copy()
        by_key: list[list[pa.Table]] = [[] for _ in range(n_keys)]
        empty = self.pieces[0].rest.slice(0, 0) if self.pieces else None
        for piece in self.pieces:
            off = 0
            assert piece.time is not None
            for code in np.flatnonzero(piece.counts):
                c = int(piece.counts[code])
                times[pos[code]:pos[code] + c] = piece.time[off:off + c]
                by_key[code].append(piece.rest.slice(off, c))
                pos[code] += c
                off += c
            piece.time = None  # released as soon as copied: one piece's times extra at most
        self.pieces = []
        for code in np.flatnonzero(self.unsorted):
            lo, hi = int(bounds[code]), int(bounds[code + 1])
            order = np.argsort(times[lo:hi], kind="stable")
            times[lo:hi] = times[lo:hi][order]
            rows = _concat(by_key[code])
            by_key[code] = [rows.take(pa.array(order))]
        parts = [p for pieces in by_key for p in pieces]
        if not parts and empty is not None:
            parts = [empty]
        rest = _concat(parts) if parts else pa.table({})
        columns = {c: rest.column(c) for c in rest.column_names}
        columns[self.time_col] = pa.chunked_array([pa.array(times)])  # zero-copy
        order_names = self.columns or [self.time_col]
        table = pa.table({c: columns[c] for c in order_names if c in columns})
        if any(pa.types.is_dictionary(f.type) for f in table.schema):
            table = table.unify_dictionaries()
        ranges = {key: (int(bounds[i]), int(bounds[i + 1])) for i, key in enumerate(self.keys)}
        if not self.keyed:
            ranges = {None: (0, table.num_rows)}
        self.prepared = PreparedScan(self.source, table, ranges, times)
        return table


def unmappable(n: int, dtype: type) -> np.ndarray:
    """An array in its own anonymous memory map: returned to the system as soon as it is
    freed (the C heap keeps freed blocks that lie below live ones), and in ordinary 4 KB
    pages (numpy asks for 2 MB transparent huge pages for large arrays, so that filling the
    time array key by key, a little of every key per piece, would make all of it resident at
    the first piece). Measured: either alone raised the peak of a 10 M-row audit by 60-80 MB,
    most of the time column."""
    size = n * np.dtype(dtype).itemsize
    if size == 0:
        return np.empty(0, dtype)
    return np.frombuffer(mmap.mmap(-1, size), dtype=dtype)


def _copy_unmappable(t: np.ndarray) -> np.ndarray:
    """`t` in its own anonymous map (see `unmappable`)."""
    out = unmappable(len(t), np.int64)
    out[:] = t
    return out


def _concat(tables: list[pa.Table]) -> pa.Table:
    """Tables of one source as one (chunks kept, no copy); column types that differ between
    files were checked to promote losslessly when they were read."""
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables,
                                                                promote_options="permissive")


def _ints(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    return arr.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


# ---------------------------------------------------------------------------------- measures


@dataclass
class Measure:
    """What one objective measured in one period, exactly, before status and money."""

    measured: Fraction | None
    good: Fraction | None = None
    total: Fraction | None = None
    values_skipped: int = 0
    counted_us: int = 0  # counted time so far
    full_us: int = 0  # counted time of the whole period (for projections)
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class CountedTime:
    """One period's time, up to as-of: `counted` (T - M: the hours minus the exclusions),
    `excluded` (M, within the hours) and `available` (the part of `counted` inside
    `as available` exclusions)."""

    counted: iv.Intervals
    excluded: iv.Intervals
    available: iv.Intervals


@dataclass(frozen=True)
class PeriodRows:
    """One key's rows of a scan within a period: table rows `[lo, hi)` (`table` is the key's
    slice), their times, which of them count (`base`) and which lie in `as available` time."""

    scan: PreparedScan
    table: pa.Table
    lo: int
    hi: int
    time: np.ndarray
    base: np.ndarray
    available: np.ndarray


@dataclass(frozen=True)
class IntervalRows:
    """One key's rows of an intervals source: `[starts, ends)` per row, and which count."""

    table: pa.Table
    starts: np.ndarray
    ends: np.ndarray
    keep: np.ndarray


@dataclass
class Executor:
    """Measures evaluations of a plan over its prepared scans (keyed by source id)."""

    scans: dict[str, PreparedScan]
    as_of_us: int

    # ---------------------------------------------------------------------- time restriction

    def counted(self, ev: Evaluation, p: PeriodInstance, until_us: int) -> CountedTime:
        """Counted, excluded and as-available time within [p.start, until): the hours minus
        the exclusions, what the exclusions removed, and the part of the counted time that
        `as available` exclusions cover. An instant in both an ordinary and an `as available`
        exclusion is excluded: removing time wins over counting it as up."""
        a, o = ev.agreement, ev.objective
        lo, hi = p.start_us, max(p.start_us, until_us)
        base = (hours_intervals(o.hours, lo, hi) if o.hours is not None
                else iv.normalize(np.array([lo]), np.array([hi])))
        excluded = self.exclusions(a, lo, hi, as_available=False)
        counted = iv.subtract(base, excluded)
        available = self.exclusions(a, lo, hi, as_available=True)
        return CountedTime(counted, iv.intersect(base, excluded),
                           iv.intersect(counted, available))

    def exclusions(self, a: m.Agreement, lo: int, hi: int, as_available: bool) -> iv.Intervals:
        starts: list[np.ndarray] = []
        ends: list[np.ndarray] = []
        for x in a.exclusions:
            if x.as_available != as_available:
                continue
            if x.kind == "window" and x.start is not None and x.end is not None:
                starts.append(np.array([_us(x.start)]))
                ends.append(np.array([_us(x.end)]))
            elif x.kind == "weekly" and x.weekly is not None:
                w = local_windows(a.timezone, lo, hi, [x.weekly])
                starts.append(w.starts)
                ends.append(w.ends)
            elif x.selection is not None:
                s = self.intervals_of(x.selection, a.service.key, a)
                starts.append(s.starts)
                ends.append(s.ends)
        if not starts:
            return iv.normalize(np.zeros(0, np.int64), np.zeros(0, np.int64))
        merged = iv.normalize(np.concatenate(starts), np.concatenate(ends))
        return iv.clip(merged, lo, hi)

    def intervals_of(self, sel: m.Selection, key: str, a: m.Agreement) -> iv.Intervals:
        """The (merged) intervals of an intervals source for one service; open ends run to
        as_of."""
        rows = self.interval_rows(sel, key, a)
        return iv.normalize(rows.starts[rows.keep], rows.ends[rows.keep])

    def interval_rows(self, sel: m.Selection, key: str, a: m.Agreement) -> IntervalRows:
        """One service's rows of an intervals source, each with its `[start, end)` (an open end
        runs to as_of) and whether it counts (the selection's condition, a positive length)."""
        scan = self.scans[sel.source.id]
        lo, hi = scan.rows(key)
        table = scan.table.slice(lo, hi - lo)
        mask = self.mask(scan, key, sel.condition, table, sel, a)
        starts = _ints(table.column("__start"))
        ends = np.minimum(_ints(pc.fill_null(table.column("__end"), self.as_of_us)),
                          max(self.as_of_us, 0))
        return IntervalRows(table, starts, ends, mask & (ends > starts))

    def mask(self, scan: PreparedScan, key: str | None, cond: object, table: pa.Table,
             sel: m.Selection, a: m.Agreement) -> np.ndarray:
        """A condition over one key's rows, computed once per (key, condition) and reused by
        every objective and period that needs it."""
        from slang.syntax.formatter import format_expr

        text = "" if cond is None else format_expr(cond)  # type: ignore[arg-type]
        # the agreement's zone is part of the meaning: date ranges are its local days
        cache_key = (key, f"{a.timezone}\0{text}")
        if cache_key not in scan.masks:
            compiler = ConditionCompiler(
                scan.source, self.as_of_us, a.timezone,
                lambda ref: sel.calendar(ref.dotted) if hasattr(ref, "dotted") else None,
            )
            arr = compiler.mask(cond, table)  # type: ignore[arg-type]
            scan.masks[cache_key] = arr.to_numpy(zero_copy_only=False).astype(bool)
        return scan.masks[cache_key]

    # --------------------------------------------------------------------------- evaluation

    def measure(self, ev: Evaluation, p: PeriodInstance) -> Measure:
        until = min(p.end_us, self.as_of_us)
        time = self.counted(ev, p, until)
        full = time.counted if until >= p.end_us else self.counted(ev, p, p.end_us).counted
        ind = ev.objective.indicator
        if isinstance(ind, m.UptimeIndicator):
            result = self._uptime(ev, ind, time)
        else:
            result = self._events(ev, ind, p, time, until)
        result.counted_us = iv.total(time.counted)
        result.full_us = iv.total(full)
        result.extra.setdefault("excluded_s", _seconds(iv.total(time.excluded)))
        if len(time.available):
            result.extra.setdefault("available_s", _seconds(iv.total(time.available)))
        if isinstance(ind, m.TimeslicesIndicator | m.SliceMeanIndicator):
            result.extra["slices_full"] = len(iv.slice_indices(
                full, p.start_us, ind.slice_seconds * US))
        return result

    def _key_rows(self, ev: Evaluation, sel: m.Selection) -> tuple[PreparedScan, pa.Table,
                                                                   np.ndarray]:
        scan = self.scans[sel.source.id]
        lo, hi = scan.rows(ev.agreement.service.key)
        return scan, scan.table.slice(lo, hi - lo), scan.time[lo:hi]

    def _events(self, ev: Evaluation, ind: m.Indicator, p: PeriodInstance,
                time: CountedTime, until: int) -> Measure:
        """Event rows that count. Rows inside `as available` exclusions (spec §4.3 leaves
        events open; our choice, as an auditor would read "available"): for a ratio they count
        as good (still subject to the total's condition and the key); a value indicator leaves
        them out, since no value of theirs can be "available"."""
        rows = self.period_rows(ev, p, time, until)
        scan, table, lo, hi = rows.scan, rows.table, rows.lo, rows.hi
        t_p, base, avail = rows.time, rows.base, rows.available
        if isinstance(ind, m.RatioIndicator):
            good = self.good_rows(ev, ind, rows)
            return _ratio(int(good.sum()), int(base.sum()))
        if isinstance(ind, m.ValueIndicator):
            return _value(ind, table, lo, hi, base & ~avail)
        assert isinstance(ind, m.TimeslicesIndicator | m.SliceMeanIndicator)
        size = ind.slice_seconds * US
        slices = iv.slice_indices(time.counted, p.start_us, size)
        k = (t_p - p.start_us) // size
        per_slice = self._per_slice(ev, ind.inner, scan, table, lo, hi, base, avail, k, slices)
        if len(time.available):
            # a slice whose counted time lies wholly in `as available` time is good
            partly = iv.slice_indices(iv.subtract(time.counted, time.available), p.start_us,
                                      size)
            per_slice.available = ~np.isin(slices, partly)
        return _sliced(ind, per_slice, len(slices))

    def period_rows(self, ev: Evaluation, p: PeriodInstance, time: CountedTime,
                    until: int) -> PeriodRows:
        """The rows of the objective's selection (its key, its condition) whose time lies in
        the counted time of `[p.start, until)`: the one place that decides which rows count,
        for `measure` and for the tools that look inside a measurement (`slang diagnose`)."""
        ind = ev.objective.indicator
        sel = selection_of(ind)
        scan, table, t = self._key_rows(ev, sel)
        a = ev.agreement
        lo = int(np.searchsorted(t, p.start_us, side="left"))
        hi = int(np.searchsorted(t, until, side="left"))
        t_p = t[lo:hi]
        in_time = _within(time.counted, t_p)
        avail = iv.contains(time.available, t_p)
        base = self.mask(scan, a.service.key, sel.condition, table, sel, a)[lo:hi] & in_time
        return PeriodRows(scan, table, lo, hi, t_p, base, avail)

    def good_rows(self, ev: Evaluation, ratio: m.RatioIndicator, rows: PeriodRows
                  ) -> np.ndarray:
        """The counted rows a ratio counts as good (rows in `as available` time included)."""
        a = ev.agreement
        good = self.mask(rows.scan, a.service.key, ratio.good, rows.table, ratio.total, a)
        return rows.base & (good[rows.lo:rows.hi] | rows.available)

    def downtime(self, ev: Evaluation, ind: m.UptimeIndicator, time: CountedTime
                 ) -> iv.Intervals:
        """D: the downtime inside the counted time, outside `as available` time, floored to
        the indicator's granularity."""
        down = self.intervals_of(ind.selection, ev.agreement.service.key, ev.agreement)
        pieces = iv.intersect(down, iv.subtract(time.counted, time.available))
        if ind.granularity_seconds:
            pieces = iv.floor_pieces(pieces, ind.granularity_seconds * US)
        return pieces

    def _per_slice(self, ev: Evaluation, inner: m.RatioIndicator | m.ValueIndicator,
                   scan: PreparedScan, table: pa.Table, lo: int, hi: int, base: np.ndarray,
                   avail: np.ndarray, k: np.ndarray, slices: np.ndarray) -> SliceValues:
        """Per-slice numerators and denominators (ratio) or values (aggregates), for the
        slices that exist; slices without rows are flagged empty."""
        pos = np.searchsorted(slices, k)
        pos_ok = (pos < len(slices)) & (slices[np.minimum(pos, len(slices) - 1)] == k) \
            if len(slices) else np.zeros(len(k), bool)
        base = base & pos_ok
        n = len(slices)
        if isinstance(inner, m.RatioIndicator):
            good_mask = base & (self.mask(scan, ev.agreement.service.key, inner.good, table,
                                          inner.total, ev.agreement)[lo:hi] | avail)
            total = np.bincount(pos[base], minlength=n).astype(np.int64)
            good = np.bincount(pos[good_mask], minlength=n).astype(np.int64)
            return SliceValues(total == 0, good=good, total=total)
        values, valid = _column_values(table, inner.column, lo, hi) if inner.column else (
            np.ones(hi - lo), np.ones(hi - lo, bool))
        rows = np.bincount(pos[base & ~avail], minlength=n)
        use = base & valid & ~avail
        return _slice_values(inner, pos[use], values[use], rows, n)

    def _uptime(self, ev: Evaluation, ind: m.UptimeIndicator, time: CountedTime) -> Measure:
        """(T - M - D) / (T - M): `time.counted` is T - M; D is the downtime in it, outside
        `as available` time (which stays in the measured time as up time)."""
        pieces = self.downtime(ev, ind, time)
        measured_us = iv.total(time.counted)
        down_us = iv.total(pieces)
        if measured_us == 0:
            return Measure(None, Fraction(0), Fraction(0))
        good = Fraction(measured_us - down_us, US)
        total = Fraction(measured_us, US)
        return Measure(good / total, good, total, extra={"downtime_s": _seconds(down_us)})


def _within(counted: iv.Intervals, t: np.ndarray) -> np.ndarray:
    """`iv.contains` for times in order: when one piece holds the first and the last, it
    holds them all (most objectives count the whole period)."""
    if len(counted) == 1 and len(t) and counted.starts[0] <= t[0] and t[-1] < counted.ends[0]:
        return np.ones(len(t), bool)
    return iv.contains(counted, t)


# ------------------------------------------------------------------------------ aggregations


@dataclass
class SliceValues:
    empty: np.ndarray
    good: np.ndarray | None = None
    total: np.ndarray | None = None
    values: np.ndarray | None = None
    available: np.ndarray | None = None  # slices wholly inside `as available` time
    group: GroupValues | None = None  # for exact comparisons of float per-slice values


def _ratio(good: int, total: int) -> Measure:
    if total == 0:
        return Measure(None, Fraction(0), Fraction(0))
    return Measure(Fraction(good, total), Fraction(good), Fraction(total))


def _column_values(table: pa.Table, column: str, lo: int, hi: int) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    col = table.column(column).slice(lo, hi - lo)
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_boolean(arr.type):
        arr = pc.cast(arr, pa.int8())
    values = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    # null (NaN after the cast), NaN and ±inf cannot be used: skipped and counted (an infinite
    # latency is a broken measurement, and has no exact value or JSON number)
    valid = np.isfinite(values)
    return values, valid


def column_values(table: pa.Table, column: str, lo: int, hi: int) -> tuple[np.ndarray,
                                                                         np.ndarray]:
    """Rows `[lo, hi)` of a column as doubles, and which of them are usable values."""
    return _column_values(table, column, lo, hi)


def values_satisfy(values: np.ndarray, op: str, threshold: Fraction) -> np.ndarray:
    """`value op threshold` for each double, decided exactly (`float_threshold`); NaN never
    satisfies."""
    fop, bound = float_threshold(op, threshold)
    with np.errstate(invalid="ignore"):
        return np.asarray(_NUMPY_CMP[fop](values, bound), dtype=bool)


def _value(ind: m.ValueIndicator, table: pa.Table, lo: int, hi: int, base: np.ndarray) -> Measure:
    if ind.function == "count":
        n = int(base.sum())
        return Measure(Fraction(n), Fraction(n), None)
    assert ind.column is not None
    values, valid = _column_values(table, ind.column, lo, hi)
    skipped = int((base & ~valid).sum())
    vals = values[base & valid]
    if ind.function == "sum":
        return Measure(_exact_sum(vals), None, Fraction(len(vals)), skipped)
    if len(vals) == 0:
        return Measure(None, None, Fraction(0), skipped)
    if ind.function == "mean":
        measured = _exact_sum(vals) / len(vals)
    elif ind.function == "max":
        measured = Fraction(float(vals.max()))
    elif ind.function == "min":
        measured = Fraction(float(vals.min()))
    else:
        measured = _percentile(vals, ind)
    return Measure(measured, None, Fraction(len(vals)), skipped)


def _exact_sum(vals: np.ndarray) -> Fraction:
    """The exact sum of finite doubles, vectorised: each double is an integer mantissa times a
    power of two (`np.frexp`); the mantissas are summed per exponent in int64 (split in two
    halves so that 2**36 values cannot overflow), then the few distinct exponents are combined
    as Python integers. (`math.fsum` is only correctly rounded: the mean of 0.3,
    0.6666666666666666 and 0.2 would come out one ulp low.)"""
    if len(vals) == 0:
        return Fraction(0)
    if np.all(vals == np.floor(vals)) and np.abs(vals).max() * len(vals) < 2.0**62:
        return Fraction(int(vals.astype(np.int64).sum()))
    mant, exp = np.frexp(vals)
    ints = (mant * 2.0**53).astype(np.int64)  # exact: |ints| < 2**53
    exp = exp.astype(np.int64) - 53
    order = np.argsort(exp, kind="stable")
    e_sorted = exp[order]
    firsts = np.flatnonzero(np.r_[True, e_sorted[1:] != e_sorted[:-1]])
    high = np.add.reduceat(ints[order] >> 26, firsts)
    low = np.add.reduceat(ints[order] & ((1 << 26) - 1), firsts)
    exps = e_sorted[firsts]
    base = int(exps[0])
    total = sum(((int(h) << 26) + int(lo)) << (int(e) - base)  # per distinct exponent
                for h, lo, e in zip(high, low, exps, strict=True))
    return Fraction(total) * Fraction(2) ** base


def _nearest_rank(n: int, q: Decimal) -> int:
    """max(1, ceil(q * n / 100)) computed in integers."""
    fq = Fraction(q)
    return max(1, math.ceil(fq * n / 100))


def _percentile(vals: np.ndarray, ind: m.ValueIndicator) -> Fraction:
    n = len(vals)
    assert ind.q is not None
    if ind.method == "nearest":
        r = _nearest_rank(n, ind.q)
        return Fraction(float(np.partition(vals, r - 1)[r - 1]))
    # linear: numpy's default, h = (n - 1) * q / 100 between the neighbouring order statistics
    h = Fraction(n - 1) * Fraction(ind.q) / 100
    lo = math.floor(h)
    hi = min(lo + 1, n - 1)
    part = np.partition(vals, [lo, hi])
    a, b = Fraction(float(part[lo])), Fraction(float(part[hi]))
    return a + (h - lo) * (b - a)


def _slice_values(inner: m.ValueIndicator, groups: np.ndarray, vals: np.ndarray,
                  rows: np.ndarray, n: int) -> SliceValues:
    """Per-slice aggregates of the values (`groups`: each value's slice), vectorised. A slice
    with no rows is empty (§3: the `empty:` rule decides it), and for mean, max, min and
    percentiles also one whose rows hold no value; `count` and `sum` of rows whose values are
    all NaN are 0. Means, sums and interpolated percentiles are computed in floating point and
    carry an error bound, so that comparisons near the threshold can be made exactly."""
    counts = np.bincount(groups, minlength=n)
    order = np.lexsort((vals, groups))
    group = GroupValues(vals[order], np.searchsorted(groups[order], np.arange(n)), counts,
                        inner)
    if inner.function == "count":
        return SliceValues(rows == 0, values=counts.astype(float))
    if inner.function == "sum":
        sums = np.bincount(groups, weights=vals, minlength=n)
        return SliceValues(rows == 0, values=sums, group=group.bounded(sums, groups, vals))
    out = np.full(n, np.nan)
    has = counts > 0
    if not has.any():
        return SliceValues(~has, values=out)
    starts, sv = group.starts, group.sorted_vals
    if inner.function == "mean":
        out[has] = np.bincount(groups, weights=vals, minlength=n)[has] / counts[has]
    elif inner.function == "max":
        out[has] = sv[starts[has] + counts[has] - 1]
    elif inner.function == "min":
        out[has] = sv[starts[has]]
    else:
        out[has] = _group_percentile(sv, starts[has], counts[has], inner)
    exact_already = inner.function in ("max", "min") or (
        inner.function == "percentile" and inner.method == "nearest")
    return SliceValues(~has, values=out,
                       group=None if exact_already else group.bounded(out, groups, vals))


@dataclass
class GroupValues:
    """The values of each slice, sorted within slices, to recompute one slice's aggregate
    exactly; `tol` bounds the floating-point error of the vectorised per-slice values."""

    sorted_vals: np.ndarray
    starts: np.ndarray
    counts: np.ndarray
    inner: m.ValueIndicator
    tol: np.ndarray | None = None

    def bounded(self, approx: np.ndarray, groups: np.ndarray, vals: np.ndarray
                ) -> GroupValues:
        """With an error bound for `approx`: summing n doubles sequentially errs by less than
        n·2⁻⁵³·Σ|x|; an interpolation by a few ulps of its end points."""
        n = len(self.counts)
        abs_sum = np.bincount(groups, weights=np.abs(vals), minlength=n)
        scale = abs_sum if self.inner.function == "sum" else abs_sum / np.maximum(self.counts, 1)
        tol = (self.counts + 8) * 2.0**-52 * scale + np.spacing(np.abs(approx))
        return dataclasses.replace(self, tol=np.nan_to_num(tol, nan=0.0))

    def exact(self, i: int) -> Fraction:
        vals = self.sorted_vals[self.starts[i]:self.starts[i] + self.counts[i]]
        if self.inner.function == "sum":
            return _exact_sum(vals)
        if self.inner.function == "mean":
            return _exact_sum(vals) / len(vals)
        return _percentile(vals, self.inner)


def _group_percentile(sorted_vals: np.ndarray, starts: np.ndarray, counts: np.ndarray,
                      ind: m.ValueIndicator) -> np.ndarray:
    """Per-group percentiles from values sorted within groups, vectorised over groups; ranks
    in integer arithmetic (q = num/den)."""
    q = Fraction(ind.q or 0)
    num, den = q.numerator, q.denominator * 100
    if ind.method == "nearest":
        ranks = np.maximum(1, -((-counts * num) // den))  # ceil(q n / 100)
        return sorted_vals[starts + ranks - 1]
    lo, rem = np.divmod((counts - 1) * num, den)  # h = (n - 1) q / 100 = lo + rem / den
    hi = np.minimum(lo + 1, counts - 1)
    a = sorted_vals[starts + lo]
    b = sorted_vals[starts + hi]
    return a + (rem / den) * (b - a)


def _sliced(ind: m.TimeslicesIndicator | m.SliceMeanIndicator, sv: SliceValues,
            n_slices: int) -> Measure:
    avail = sv.available if sv.available is not None else np.zeros(n_slices, bool)
    if isinstance(ind, m.TimeslicesIndicator):
        return _timeslices(ind, sv, avail)
    return _slice_mean(ind, sv, avail)


def _timeslices(ind: m.TimeslicesIndicator, sv: SliceValues, avail: np.ndarray) -> Measure:
    """Good slices / slices; an empty slice is good, bad or left out (`empty:`), and a slice
    wholly inside `as available` time is good whatever its rows."""
    empty = sv.empty & ~avail
    ok = (_slice_ok(ind, sv) & ~sv.empty) | avail
    considered = ~empty if ind.empty == "skip" else np.ones(len(empty), bool)
    good_slices = ok | (empty & (ind.empty == "good"))
    total = int(considered.sum())
    good = int((good_slices & considered).sum())
    if total == 0:
        return Measure(None, Fraction(0), Fraction(0))
    return Measure(Fraction(good, total), Fraction(good), Fraction(total),
                   extra={"empty_slices": int(empty.sum())})


def _slice_mean(ind: m.SliceMeanIndicator, sv: SliceValues, avail: np.ndarray) -> Measure:
    """The unweighted mean of the per-slice values. For a ratio an empty slice is 1.0 unless
    `empty: skip`, and a slice wholly inside `as available` time is 1.0 even when empty; other
    aggregates skip empty slices."""
    use = ~sv.empty
    if isinstance(ind.inner, m.RatioIndicator):
        assert sv.good is not None and sv.total is not None
        empty = sv.empty & ~avail
        ones = int((sv.empty & avail).sum()) + (int(empty.sum()) if ind.empty == "good" else 0)
        total_slices = int(use.sum()) + ones
        if total_slices == 0:
            return Measure(None, Fraction(0), Fraction(0))
        acc = _sum_of_ratios(sv.good[use], sv.total[use]) + ones
        return Measure(acc / total_slices, None, Fraction(total_slices),
                       extra={"empty_slices": int(empty.sum())})
    assert sv.values is not None
    vals = sv.values[use]
    if len(vals) == 0:
        return Measure(None, None, Fraction(0))
    g = sv.group
    if g is not None and g.tol is not None:  # means, sums, interpolations: exact per slice
        acc = sum((g.exact(int(i)) for i in np.flatnonzero(use)), Fraction(0))
    else:  # counts and observed values are exact already
        acc = _exact_sum(vals)
    return Measure(acc / len(vals), None, Fraction(len(vals)),
                   extra={"empty_slices": int(sv.empty.sum())})


def _sum_of_ratios(good: np.ndarray, total: np.ndarray) -> Fraction:
    """Σ good_i/total_i exactly: numerators summed per distinct denominator (vectorised), then
    one Fraction per distinct denominator."""
    if len(total) == 0:
        return Fraction(0)
    dens, inverse = np.unique(total, return_inverse=True)
    sums = np.bincount(inverse, weights=good.astype(np.float64), minlength=len(dens))
    # weights are integer counts below 2**53, so the float sums are exact integers
    return sum((Fraction(int(s), int(d)) for s, d in zip(sums, dens, strict=True)), Fraction(0))


def _slice_ok(ind: m.TimeslicesIndicator, sv: SliceValues) -> np.ndarray:
    """Exact per-slice comparison with the threshold. Values computed in floating point
    (means, sums, interpolated percentiles) are compared in floating point where they are
    clearly on one side, and recomputed exactly for the few slices within their error bound
    of the threshold."""
    t = exact(ind.threshold)
    if sv.good is not None and sv.total is not None:
        # good/total op num/den  <=>  good*den op num*total   (total > 0 where it matters)
        lhs = sv.good.astype(object) * t.denominator
        rhs = sv.total.astype(object) * t.numerator
        return np.asarray(_NUMPY_CMP[ind.op](lhs, rhs), dtype=bool)
    assert sv.values is not None
    op, bound = float_threshold(ind.op, t)
    with np.errstate(invalid="ignore"):
        ok = _NUMPY_CMP[op](sv.values, bound) & ~np.isnan(sv.values)
    g = sv.group
    if g is not None and g.tol is not None:
        d = float(t)
        near = ~sv.empty & (np.abs(sv.values - d) <= g.tol + np.spacing(abs(d)))
        for i in np.flatnonzero(near):  # per slice near the threshold: rare
            ok[i] = satisfies(g.exact(int(i)), ind.op, t)
    return ok


_NUMPY_CMP = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
              "==": np.equal}


def float_threshold(op: str, t: Fraction) -> tuple[str, float]:
    """An operator and a double such that `v op' d` equals `v op t` exactly for every double v."""
    d = float(t)
    fd = Fraction(d)
    if fd == t:
        return op, d
    if op == "==":
        return "==", math.nan
    above = fd > t
    table = {
        ("<=", True): "<", ("<", True): "<", (">=", True): ">=", (">", True): ">=",
        ("<=", False): "<=", ("<", False): "<=", (">=", False): ">", (">", False): ">",
    }
    return table[(op, above)], d


def _seconds(us: int) -> int | float:
    return us // US if us % US == 0 else us / US


def _us(t: object) -> int:
    from slang.engine.calendar_time import to_us

    return to_us(t)  # type: ignore[arg-type]
