"""Binding data to a SQL backend: the same checks and the same evidence as the Arrow reader.

The files behind a bound path are resolved and hashed exactly as `slang.engine.data` does
(same paths, same SHA-256 listing), and their schemas are checked by the same function from the
Parquet footers, so a missing column or a naive timestamp is the same diagnostic whatever the
engine. The rows are then read by the backend itself, streaming; the evidence's counts (rows
read, rows skipped per reason) and coverage (first, last, largest gap) are SQL aggregates over the
canonical scan, computed as the Arrow reader computes them.

The engine streams Parquet files whose time columns are timestamps or epoch integers. Other
data (CSV, JSON Lines, Arrow IPC, or time written as text) means the Arrow reader's own inference
and parsing rules, which no SQL engine reproduces exactly: such a source is read by the Arrow
reader (`slang.engine.data.read_source`, same checks, same evidence) and its canonical table is
handed to the backend. That is meant for the small tables (incidents, maintenance windows,
tickets); a large one should be Parquet to stream.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot.expressions as exp

from slang.diagnostics import Diagnostic, SlangError
from slang.engine.bindings import Binding
from slang.engine.data import (
    MAX_US,
    MIN_US,
    Coverage,
    DataEvidence,
    _check_schema,
    _Ctx,
    _EventCoverage,
    _needed,
    _seconds,
    _value_type,
    coverage,
    listing_sha256,
    resolve_data_path,
    rfc3339_us,
    sha256_file,
)
from slang.engine.sql.backend import Backend
from slang.engine.sql.compiler import (
    ScanShape,
    canonical_select,
    col,
    ident,
    integer,
    micros_of,
    scan_select,
    time_roles,
)
from slang.semantics import model as m


@dataclass(frozen=True)
class BoundScan:
    source: m.Source
    relation: exp.Expression  # the canonical scan (a view in the backend)
    shape: ScanShape
    evidence: DataEvidence
    # the rows a materialised table would hold (`materialized`); None: not offered
    inside: exp.Select | None = None
    table_name: str = ""


def bind_source(backend: Backend, index: int, source: m.Source,
                path: str | os.PathLike[str], columns: Iterable[str], *, as_of_us: int,
                time_range_us: tuple[int, int] | None) -> BoundScan:
    fmt = path.format if isinstance(path, Binding) else None
    data_path = resolve_data_path(source, path, fmt)
    ctx = _Ctx(source, data_path.shown)
    if any(f.fmt != "parquet" for f in data_path.files):
        return _bind_via_arrow(backend, index, source, path, columns, as_of_us=as_of_us,
                               time_range_us=time_range_us)
    via_arrow = False
    wanted = sorted({c for c in columns if c and not c.startswith("__")})
    needed = _needed(source, wanted)
    diags: list[Diagnostic] = []
    stamps: set[str] = set()
    nanos: set[str] = set()
    floats: set[str] = set()
    time_cols = {c for c, _ in time_roles(source)}
    for f in data_path.files:
        try:
            schema = pq.read_schema(f.path)
        except (OSError, pa.ArrowException) as exc:
            diags.append(ctx.diag("SLG0604", f"cannot read {f.shown} as parquet: {exc}",
                                  "check that the file is complete and really is parquet"))
            continue
        _check_schema(schema, source, needed, f, ctx)
        for c in needed:
            if c not in schema.names:
                continue
            t = _value_type(schema.field(c).type)
            if pa.types.is_floating(t):
                floats.add(c)
            if pa.types.is_timestamp(t):
                stamps.add(c)
                if t.unit == "ns":
                    nanos.add(c)
            elif c in time_cols and not (pa.types.is_integer(t) or pa.types.is_null(t)):
                via_arrow = True  # instants written as text: the Arrow reader's parser
    diags += ctx.diagnostics(len(data_path.files))
    if diags:
        raise SlangError(diags)
    if nanos and not backend.dialect.supports("EpochNanos"):
        from slang.engine.sql.compiler import unsupported

        raise unsupported(f"source `{source.name}`: {', '.join(sorted(nanos))} "
                          f"{'holds' if len(nanos) == 1 else 'hold'} nanosecond timestamps, "
                          f"which {backend.dialect.name} cannot read exactly", source.span,
                          "write microsecond timestamps, or use --engine duckdb or arrow")
    if via_arrow:
        return _bind_via_arrow(backend, index, source, path, columns, as_of_us=as_of_us,
                               time_range_us=time_range_us)
    # the files are hashed while the engine computes the evidence (both release the GIL)
    pool = ThreadPoolExecutor(max_workers=min(4, len(data_path.files)))
    hashing = [pool.submit(sha256_file, f.path) for f in data_path.files]
    pool.shutdown(wait=False)
    shape = ScanShape(tuple(wanted), frozenset(stamps - time_cols), frozenset(nanos),
                      frozenset(floats))
    raw = backend.bind_parquet(f"slang_raw_{index}", [f.path for f in data_path.files])
    select = scan_select(backend.dialect, source, shape, raw)
    relation = backend.define(f"slang_scan_{index}", select)
    rows, skipped, cov = _evidence(backend, source, relation, as_of_us, time_range_us, ctx)
    digests = list(zip([f.rel for f in data_path.files], [h.result() for h in hashing],
                       strict=True))
    evidence = DataEvidence(
        name=source.table, source=source.name, path=data_path.shown,
        sha256=listing_sha256(digests) if data_path.is_dataset else digests[0][1],
        rows=rows, rows_skipped=skipped, coverage=cov,
        files=digests if data_path.is_dataset else None,
    )
    inside = None
    if getattr(backend, "materialize", None) is not None and source.kind == "events":
        inside = select
        if time_range_us is not None:
            t = micros_of(backend.dialect, source, shape)
            inside = select.where(exp.and_(
                exp.GTE(this=t, expression=integer(time_range_us[0])),
                exp.LT(this=t.copy(), expression=integer(time_range_us[1]))), copy=True)
    return BoundScan(source, relation, shape, evidence, inside, f"slang_sorted_{index}")


def materialized(backend: Backend, b: BoundScan) -> BoundScan:
    """The scan with its rows inside the audited time range written, ordered by (key, time),
    into a table of the backend's database file (an external sort beyond the memory limit):
    worth its one sort when many queries read the scan, since each then reads only the row
    groups of its services and periods (min/max zone maps) instead of decoding every Parquet
    file again. Backends without tables (Spark) and scans already in memory keep the view."""
    materialize = getattr(backend, "materialize", None)
    if materialize is None or b.inside is None:
        return b
    order = ["__key", "__t"] if b.source.key_column is not None else ["__t"]
    return dataclasses.replace(b, relation=materialize(b.table_name, b.inside, order),
                               inside=None)


def _bind_via_arrow(backend: Backend, index: int, source: m.Source,
                    path: str | os.PathLike[str], columns: Iterable[str], *, as_of_us: int,
                    time_range_us: tuple[int, int] | None) -> BoundScan:
    """Read with the Arrow reader (its checks, parsing and evidence), then hand the canonical
    table to the backend: `__t`/`__start`/`__end` already in microseconds."""
    from slang.engine.data import read_source

    data = read_source(source, path, set(columns), as_of_us=as_of_us,
                       time_range_us=time_range_us)
    table = data.table
    if "__key" in table.column_names:
        i = table.column_names.index("__key")
        table = table.set_column(i, "__key", table.column("__key").cast(pa.string()))
    stamps = frozenset(f.name for f in table.schema
                       if pa.types.is_timestamp(f.type) and not f.name.startswith("__"))
    floats = frozenset(f.name for f in table.schema if pa.types.is_floating(f.type))
    wanted = tuple(sorted({c for c in columns if c and not c.startswith("__")}))
    shape = ScanShape(wanted, stamps, frozenset(), floats)
    raw = backend.bind_arrow(f"slang_raw_{index}", table)
    relation = backend.define(f"slang_scan_{index}",
                              canonical_select(backend.dialect, source, shape, raw))
    return BoundScan(source, relation, shape, data.evidence)


def _count_if(backend: Backend, cond: exp.Expression, name: str) -> exp.Expression:
    return exp.alias_(backend.dialect.op("CountIf", cond), ident(name))


def _isnull(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=e, expression=exp.Null())


def _evidence(backend: Backend, source: m.Source, relation: exp.Expression, as_of_us: int,
              time_range: tuple[int, int] | None, ctx: _Ctx
              ) -> tuple[int, dict[str, int], Coverage]:
    if source.kind == "events":
        return _event_evidence(backend, source, relation, time_range, ctx)
    return _interval_evidence(backend, source, relation, as_of_us, ctx)


def _check_range(lo: int | None, hi: int | None, source: m.Source, ctx: _Ctx) -> None:
    if lo is not None and hi is not None and (lo < MIN_US or hi > MAX_US):
        raise SlangError([ctx.diag(
            "SLG0606", f"time column `{time_roles(source)[0][0]}` holds instants out of range "
            "(years 0001-9999)", "check the unit: `epoch_ms` for milliseconds, `epoch_s` for "
            "seconds")])


def _event_evidence(backend: Backend, source: m.Source, relation: exp.Expression,
                    time_range: tuple[int, int] | None, ctx: _Ctx
                    ) -> tuple[int, dict[str, int], Coverage]:
    t, k = col("__t"), col("__key")
    has_t = exp.Not(this=_isnull(t))
    in_range: exp.Expression = has_t
    if time_range is not None:
        in_range = exp.and_(has_t, exp.GTE(this=t.copy(), expression=integer(time_range[0])),
                            exp.LT(this=t.copy(), expression=integer(time_range[1])))
    kept = in_range if source.key_column is None else exp.and_(
        in_range, exp.Not(this=_isnull(k)))
    first = exp.Min(this=exp.Case(ifs=[exp.If(this=kept, true=t.copy())]))
    last = exp.Max(this=exp.Case(ifs=[exp.If(this=kept.copy(), true=t.copy())]))
    aggs = [
        _count_if(backend, exp.or_(_isnull(t.copy()), in_range.copy()), "rows"),
        _count_if(backend, _isnull(t.copy()), "null_time"),
        _count_if(backend, kept.copy(), "kept"),
        exp.alias_(first, ident("first")), exp.alias_(last, ident("last")),
        exp.alias_(exp.Min(this=t.copy()), ident("tmin")),
        exp.alias_(exp.Max(this=t.copy()), ident("tmax")),
    ]
    if source.key_column is not None:
        aggs.append(_count_if(backend, exp.and_(in_range.copy(), _isnull(k.copy())),
                              "null_key"))
    row = backend.fetch(exp.select(*aggs).from_(relation)).to_pylist()[0]
    _check_range(row["tmin"], row["tmax"], source, ctx)
    skipped = {"null_time": int(row["null_time"] or 0)}
    if source.key_column is not None:
        skipped["null_key"] = int(row["null_key"] or 0)
    kept_n = int(row["kept"] or 0)
    if kept_n == 0:
        cov = Coverage(None, None, None)
    elif kept_n == 1:
        cov = Coverage(rfc3339_us(row["first"]), rfc3339_us(row["last"]), 0)
    else:
        gap = _gap_in_file_order(backend, relation, kept.copy())
        if gap is None:
            prev = exp.Window(this=exp.Anonymous(this="LAG", expressions=[t.copy()]),
                              order=exp.Order(expressions=[exp.Ordered(this=t.copy())]))
            steps = exp.select(exp.alias_(exp.Sub(this=t.copy(), expression=prev),
                                          ident("step"))).from_(relation).where(kept.copy())
            got = backend.fetch(exp.select(exp.alias_(exp.Max(this=col("step")), ident("gap")))
                                .from_(exp.alias_(exp.Subquery(this=steps), ident("steps"))))
            gap = int(got.column("gap")[0].as_py())
        cov = Coverage(rfc3339_us(row["first"]), rfc3339_us(row["last"]), _seconds(gap))
    return int(row["rows"] or 0), dict(sorted(skipped.items())), cov


def _gap_in_file_order(backend: Backend, relation: exp.Expression, kept: exp.Expression
                       ) -> int | None:
    """The largest gap between consecutive kept instants when the files hold them in time
    order (the usual case for logs): one streaming pass, as the Arrow reader checks it
    (`_EventCoverage`), instead of sorting every instant. None when the backend cannot stream
    in file order or the instants are not in order: the caller sorts."""
    scan = getattr(backend, "scan_in_order", None)
    if scan is None:
        return None
    seen = _EventCoverage()

    def sink(batch: pa.RecordBatch) -> bool:
        seen.add(pa.chunked_array([batch.column(0).cast(pa.int64())]))
        return seen.in_order

    scan(exp.select(col("__t")).from_(relation).where(kept), sink)
    return seen.gap if seen.in_order else None


def _interval_evidence(backend: Backend, source: m.Source, relation: exp.Expression,
                       as_of_us: int, ctx: _Ctx) -> tuple[int, dict[str, int], Coverage]:
    s, e, k = col("__start"), col("__end"), col("__key")
    null_start = _isnull(s)
    backwards = exp.and_(exp.Not(this=_isnull(s.copy())),
                         exp.Coalesce(this=exp.LT(this=e, expression=s.copy()),
                                      expressions=[exp.false()]))
    dropped = exp.or_(null_start.copy(), backwards.copy())
    aggs = [
        exp.alias_(exp.Count(this=exp.Star()), ident("rows")),
        _count_if(backend, null_start, "null_start"),
        _count_if(backend, backwards, "end_before_start"),
        exp.alias_(exp.Min(this=s.copy()), ident("tmin")),
        exp.alias_(exp.Max(this=exp.Coalesce(this=e.copy(), expressions=[s.copy()])),
                   ident("tmax")),
    ]
    kept: exp.Expression = exp.Not(this=exp.Paren(this=dropped))
    if source.key_column is not None:
        aggs.append(_count_if(backend, exp.and_(kept.copy(), _isnull(k)), "null_key"))
        kept = exp.and_(kept, exp.Not(this=_isnull(k.copy())))
    row = backend.fetch(exp.select(*aggs).from_(relation)).to_pylist()[0]
    _check_range(row["tmin"], row["tmax"], source, ctx)
    skipped = {"null_start": int(row["null_start"] or 0),
               "end_before_start": int(row["end_before_start"] or 0)}
    if source.key_column is not None:
        skipped["null_key"] = int(row["null_key"] or 0)
    # interval sources (incidents, maintenance) are small: their coverage is the Arrow
    # reader's own function over the kept rows
    rows = backend.fetch(exp.select(s.copy(), e.copy()).from_(relation).where(kept))
    table = pa.table({"__start": rows.column("__start").cast(pa.int64()),
                      "__end": rows.column("__end").cast(pa.int64())})
    return int(row["rows"] or 0), dict(sorted(skipped.items())), coverage(table, source, as_of_us)
