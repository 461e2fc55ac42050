"""A streamed audit: the Arrow engine over data larger than its memory budget.

`layout` decides, before anything is read, from metadata (`estimate_source`): when the
columns the audit would hold fit the budget (slang.engine.budget), the audit runs in memory as
it always has. Otherwise each keyed events source is read once, through the same `read_source`
(validation, time-range pruning, skipped-row counts, evidence), into a `PartitionSink` that
spills its rows to bucket files by key in a private temporary directory; then, bucket by
bucket, every partitioned source's bucket is prepared as in memory and every evaluation of an
agreement whose service key lies in the bucket is measured (all its periods), and the bucket
is dropped. Intervals sources (incidents, maintenance: small as a rule) and sources without a
key column (every row counts for every agreement, so they cannot be split by key) are held
whole in memory, as in an in-memory audit.

The report is the same, byte for byte: a key's rows reach the `ScanBuilder` in the same order,
every measurement reads only its key's rows, and the results are sorted as always. The spill
directory is removed when the audit ends, also on errors and Ctrl-C.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from slang.diagnostics import Diagnostic, SlangError
from slang.engine.arrow import Executor, PreparedScan, ScanBuilder
from slang.engine.budget import bucket_count, fits_in_memory
from slang.engine.periods import PeriodInstance
from slang.engine.spill import BucketMap, PartitionSink, spill_failed
from slang.engine.termination import sigterm_exits, uninterrupted
from slang.plan.plan import Evaluation, Plan
from slang.semantics import model as m

# read_source's own in-memory check does not apply to rows that go to disk
_NO_LIMIT = 1 << 62


@dataclass(frozen=True)
class Layout:
    """How a streamed audit holds its data: which sources are partitioned, in how many
    buckets, and the budget the rest is checked against."""

    partitioned: frozenset[str]  # source ids
    buckets: int
    budget: int


def partitionable(src: m.Source) -> bool:
    return src.kind == "events" and src.key_column is not None


def layout(plan: Plan, data: Mapping[str, str | os.PathLike[str]],
           periods: Mapping[str, Sequence[PeriodInstance]], budget: int) -> Layout | None:
    """None when the audit's columns fit `budget` in memory (or cannot be estimated: the
    reader then reports why), else how to stream it."""
    from slang.engine.audit import scan_time_range
    from slang.engine.data import estimate_source

    sizes: dict[str, int] = {}
    for scan in plan.scans:
        src = scan.source
        if src.table not in data:
            continue
        est = estimate_source(src, data[src.table], scan.columns,
                              time_range_us=scan_time_range(plan, src, periods))
        if est is None:
            return None
        sizes[src.id] = est
    if fits_in_memory(sum(sizes.values()), budget):
        return None
    split = frozenset(s.source.id for s in plan.scans
                      if partitionable(s.source) and s.source.id in sizes)
    if not split:
        return None
    keys = {e.agreement.service.key for e in plan.evaluations}
    held = sum(n for sid, n in sizes.items() if sid not in split)
    buckets = bucket_count(sum(sizes[s] for s in split), held, budget, len(keys))
    return Layout(split, buckets, budget)


@dataclass
class Streamed:
    """The evidence of every scan (in plan order) and the measuring passes: one executor per
    bucket with the evaluations of the keys in it."""

    evidence: list[object]
    passes: Iterator[tuple[Executor, list[Evaluation]]]


def stream_scans(plan: Plan, data: Mapping[str, str | os.PathLike[str]],
                 periods: Mapping[str, list[PeriodInstance]], as_of_us: int, lay: Layout,
                 directory: Path) -> Streamed:
    """Read every scan once: partitioned sources into bucket files under `directory`, the
    others into memory. Raises SlangError with every source's problems, as `read_scans`."""
    from slang.engine.audit import scan_time_range, unbound_table
    from slang.engine.data import read_source
    from slang.engine.memory_pool import prefer_jemalloc

    prefer_jemalloc()
    buckets = BucketMap(lay.buckets)
    diags: list[Diagnostic] = []
    held: dict[str, PreparedScan] = {}
    sinks: dict[str, PartitionSink] = {}
    evidence: list[object] = []
    for index, scan in enumerate(plan.scans):
        src = scan.source
        if src.table not in data:
            diags.append(unbound_table(src, "Parquet, Arrow IPC, CSV or JSON Lines"))
            continue
        split = src.id in lay.partitioned
        sink: PartitionSink | ScanBuilder = (
            PartitionSink(src, buckets, directory, _keys_reading(plan, src), f"scan{index}")
            if split else ScanBuilder(src, keep_key=False))
        try:
            bound = read_source(src, data[src.table], scan.columns, as_of_us=as_of_us,
                                time_range_us=scan_time_range(plan, src, periods),
                                memory_budget_bytes=_NO_LIMIT if split else lay.budget,
                                sink=sink)
        except SlangError as exc:
            diags.extend(exc.diagnostics)
            continue
        if isinstance(sink, PartitionSink):
            sinks[src.id] = sink
        else:
            assert sink.prepared is not None
            held[src.id] = sink.prepared
        evidence.append(bound.evidence)
    if diags:
        raise SlangError(diags)
    return Streamed(evidence, _passes(plan, buckets, held, sinks, as_of_us))


def _keys_reading(plan: Plan, src: m.Source) -> set[str]:
    """The service keys of the evaluations that read `src`: the rows of other keys never
    count, so they are not spilled."""
    return {e.agreement.service.key for e in plan.evaluations if src.id in e.scans}


def _passes(plan: Plan, buckets: BucketMap, held: dict[str, PreparedScan],
            sinks: dict[str, PartitionSink], as_of_us: int
            ) -> Iterator[tuple[Executor, list[Evaluation]]]:
    """Per bucket, the bucket's prepared scans beside the held ones, and the evaluations of
    its keys; then the evaluations of keys no partitioned source holds (their rows are none)."""
    by_bucket: list[list[Evaluation]] = [[] for _ in range(buckets.buckets + 1)]
    for ev in plan.evaluations:
        b = buckets.bucket_of.get(ev.agreement.service.key, buckets.buckets)
        by_bucket[b].append(ev)
    for b, evs in enumerate(by_bucket):
        if not evs:
            continue
        last = b == buckets.buckets
        scans = {sid: sink.bucket_scan(None if last else b) for sid, sink in sinks.items()}
        executor = Executor({**held, **scans}, as_of_us)
        del scans
        yield executor, evs
        del executor  # the caller drops its reference too: one bucket in memory at a time


@contextmanager
def spill_directory() -> Iterator[str]:
    """A private directory for the bucket files under TMPDIR (SLG0611 when it cannot be
    made); removed with everything in it when the audit ends, however it ends: on errors,
    Ctrl-C, and SIGTERM (see termination.py)."""
    try:
        tmp = tempfile.TemporaryDirectory(prefix="slang-spill-", ignore_cleanup_errors=True)
    except OSError as exc:
        raise SlangError([spill_failed(tempfile.gettempdir(), exc)]) from None
    with sigterm_exits():
        try:
            yield tmp.name
        finally:
            with uninterrupted():
                tmp.cleanup()
