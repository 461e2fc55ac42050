"""`prepare` orders a scan by (key, time): the radix path for time-ordered logs and the
lexsort path for anything else must give the same order."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from slang.engine.arrow import prepare
from slang.semantics import model as m

SOURCE = m.Source(id="requests", name="requests", kind="events", table="requests",
                  time_column="ts", time_form="aware", start_column="start", end_column="end",
                  key_column="service", units={})


def _table(t: np.ndarray, keys: list[str]) -> pa.Table:
    return pa.table({"__t": pa.array(t, pa.int64()),
                     "__key": pa.array(keys).dictionary_encode(),
                     "row": pa.array(np.arange(len(t)))})


def test_time_ordered_and_shuffled_logs_prepare_alike() -> None:
    rng = np.random.default_rng(3)
    n = 1000
    t = np.sort(rng.integers(0, 10_000, n))  # ties included
    keys = [f"s{k}" for k in rng.integers(0, 7, n)]
    ordered = prepare(SOURCE, _table(t, keys))
    shuffle = rng.permutation(n)
    shuffled = prepare(SOURCE, _table(t[shuffle], [keys[i] for i in shuffle]))
    # The blocks' positions follow the dictionary (first appearance), their content does not.
    assert ordered.key_ranges.keys() == shuffled.key_ranges.keys()
    for key, (lo, hi) in ordered.key_ranges.items():
        slo, shi = shuffled.key_ranges[key]
        assert (ordered.time[lo:hi] == shuffled.time[slo:shi]).all()
    for lo, hi in ordered.key_ranges.values():
        block = ordered.table.slice(lo, hi - lo)
        assert len(set(block.column("__key").to_pylist())) == 1
        assert (np.diff(ordered.time[lo:hi]) >= 0).all()
    # Time-ordered input keeps the original order of equal timestamps within a key (stable).
    for lo, hi in ordered.key_ranges.values():
        rows = ordered.table.column("row").to_numpy()[lo:hi]
        assert (np.diff(rows) > 0).all()


def test_a_scan_without_key_in_time_order_is_not_copied() -> None:
    source = m.Source(**{**SOURCE.__dict__, "key_column": None})
    table = pa.table({"__t": pa.array([1, 2, 2, 5], pa.int64())})
    prepared = prepare(source, table)
    assert prepared.table is table
    assert prepared.key_ranges == {None: (0, 4)}
