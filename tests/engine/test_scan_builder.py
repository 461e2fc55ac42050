"""`ScanBuilder` orders a scan by (key, time) piece by piece, as `read_source` reads row
groups: whatever the pieces, it must give exactly the order of one `np.lexsort((time, key))`
over the whole table (ties in reading order), the same key ranges, and the same evidence."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from slang.engine.arrow import ScanBuilder, prepare
from slang.engine.data import read_source
from slang.semantics import model as m

SOURCE = m.Source(id="requests", name="requests", kind="events", table="requests",
                  time_column="ts", time_form="aware", start_column="start", end_column="end",
                  key_column="service", units={})
UNKEYED = m.Source(**{**SOURCE.__dict__, "key_column": None})
S = 1_000_000
T0 = 1_790_812_800 * S  # 2026-10-01T00:00:00Z


def _table(t: list[int], keys: list[str] | None) -> pa.Table:
    cols = {"__t": pa.array(t, pa.int64())}
    if keys is not None:
        cols["__key"] = pa.array(keys, pa.string()).dictionary_encode()
    cols["row"] = pa.array(np.arange(len(t)))
    return pa.table(cols)


def _expected(t: list[int], keys: list[str] | None) -> dict[str | None, list[int]]:
    """Row numbers per key in (key, time) order, ties in reading order: the reference."""
    out: dict[str | None, list[int]] = {}
    names = keys if keys is not None else [None] * len(t)
    for i in sorted(range(len(t)), key=lambda i: (t[i], i)):  # stable by time
        out.setdefault(names[i], []).append(i)
    return out


def _built(table: pa.Table, cuts: list[int], source: m.Source = SOURCE,
           keep_key: bool = True) -> ScanBuilder:
    builder = ScanBuilder(source, keep_key=keep_key)
    bounds = [0, *sorted(c for c in cuts if 0 < c < table.num_rows), table.num_rows]
    for lo, hi in itertools.pairwise(bounds):
        builder.add(table.slice(lo, hi - lo))
    builder.finish()
    return builder


def _rows_by_key(builder: ScanBuilder) -> dict[str | None, list[int]]:
    p = builder.prepared
    assert p is not None
    rows = p.table.column("row").to_numpy()
    assert (p.table.column("__t").to_numpy() == p.time).all()
    return {k: rows[lo:hi].tolist() for k, (lo, hi) in p.key_ranges.items() if hi > lo}


def test_pieces_with_late_keys_and_backward_times() -> None:
    # key a: in order; b first appears in the 2nd piece; c goes back in time across pieces
    # (40 after 50), d goes back within a piece (7 after 9), e has ties across pieces
    t = [10, 50, 3, 20, 9, 7, 60, 5, 40, 70, 80, 5]
    keys = ["a", "c", "e", "a", "d", "d", "b", "e", "c", "a", "b", "e"]
    builder = _built(_table(t, keys), [3, 6, 9])
    assert _rows_by_key(builder) == _expected(t, keys)
    assert _rows_by_key(builder) == {"a": [0, 3, 9], "c": [8, 1], "e": [2, 7, 11],
                                     "d": [5, 4], "b": [6, 10]}
    assert builder.prepared is not None
    assert list(builder.prepared.key_ranges) == ["a", "c", "e", "d", "b"]  # first appearance
    times = builder.prepared.time
    for lo, hi in builder.prepared.key_ranges.values():
        assert (np.diff(times[lo:hi]) >= 0).all()


def test_the_key_column_can_be_dropped() -> None:
    builder = _built(_table([1, 2, 3], ["a", "b", "a"]), [1], keep_key=False)
    assert builder.prepared is not None
    assert builder.prepared.table.column_names == ["__t", "row"]
    assert _rows_by_key(builder) == {"a": [0, 2], "b": [1]}


def test_unkeyed_pieces_out_of_order_are_sorted_stably() -> None:
    t = [5, 1, 5, 0, 3, 1]
    builder = _built(_table(t, None), [2, 4], source=UNKEYED)
    assert _rows_by_key(builder) == {None: [3, 1, 5, 4, 0, 2]}


def test_empty_pieces_and_no_rows() -> None:
    table = _table([], [])
    builder = _built(table, [])
    assert builder.prepared is not None
    assert builder.prepared.table.num_rows == 0
    assert builder.prepared.key_ranges == {}
    assert builder.prepared.rows("a") == (0, 0)
    builder = ScanBuilder(SOURCE)
    full = _table([4, 2], ["x", "x"])
    builder.add(full.slice(0, 0))
    builder.add(full)
    builder.add(full.slice(2, 0))
    builder.finish()
    assert _rows_by_key(builder) == {"x": [1, 0]}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.sampled_from("abcd")), max_size=60),
       st.lists(st.integers(0, 60), max_size=6))
def test_any_pieces_give_the_lexsort_order(rows: list[tuple[int, str]],
                                           cuts: list[int]) -> None:
    t = [r[0] for r in rows]
    keys = [r[1] for r in rows]
    table = _table(t, keys)
    assert _rows_by_key(_built(table, cuts)) == _expected(t, keys)
    whole = prepare(SOURCE, table)
    codes = np.array([ord(k) for k in keys], dtype=np.int64)
    order = np.lexsort((np.array(t, dtype=np.int64), codes))
    for key, (lo, hi) in whole.key_ranges.items():
        assert whole.table.column("row").to_numpy()[lo:hi].tolist() == \
            [int(i) for i in order if keys[i] == key]


def test_read_source_by_row_group_matches_the_whole_table(tmp_path: Path) -> None:
    """A Parquet file read row group by row group into a ScanBuilder gives the rows, the
    evidence and the key order of reading it whole and sorting afterwards: the range filter
    and the skipped rows per piece, coverage across pieces."""
    rng = np.random.default_rng(7)
    n = 2000
    t = T0 + np.sort(rng.integers(0, 3600 * S, n))
    t[1500:1510] = t[1500:1510][::-1]  # one key will go back in time, coverage must sort
    keys = rng.choice(["a", "b", "c"], n).astype(object)
    keys[1000] = None  # skipped: null key (inside the window)
    ts = pa.array(t, pa.timestamp("us", tz="UTC"))
    ts = pa.array([None if i == 20 else v for i, v in enumerate(ts.to_pylist())],
                  pa.timestamp("us", tz="UTC"))  # skipped: null time
    path = tmp_path / "r.parquet"
    pq.write_table(pa.table({"ts": ts, "service": pa.array(keys, pa.string()),
                             "v": np.arange(n)}), path, row_group_size=300)
    window = (T0 + 600 * S, T0 + 3000 * S)  # straddles row groups: filtered per piece
    whole = read_source(SOURCE, str(path), {"v"}, as_of_us=T0, time_range_us=window)
    builder = ScanBuilder(SOURCE, keep_key=False)
    piecewise = read_source(SOURCE, str(path), {"v"}, as_of_us=T0, time_range_us=window,
                            sink=builder)
    assert piecewise.evidence == whole.evidence
    assert piecewise.evidence.rows_skipped == {"null_key": 1, "null_time": 1}
    assert piecewise.scan == whole.scan
    assert builder.prepared is not None
    assert builder.prepared.table.column("v").num_chunks > 1  # chunks, not a copy
    reference = prepare(SOURCE, whole.table)
    assert builder.prepared.key_ranges == reference.key_ranges
    assert (builder.prepared.time == reference.time).all()
    assert builder.prepared.table.column("v").to_pylist() == \
        reference.table.column("v").to_pylist()
