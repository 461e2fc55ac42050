"""`slang plan --sql DIALECT`: the SQL an audit runs, per scan and per evaluation.

Two things are bound only at run time and appear here by name: each scan's raw relation (the
logical table, e.g. "requests"; DuckDB binds it to `read_parquet([...])`, Spark to a temporary
view over the files) and `slang_counted`, the counted time of the periods audited (columns `i`
the evaluation within its batch, `key` its service, `w` the day bucket, `p` period index, `ps`
its start, `s`/`e` UTC microseconds, `a` inside an `as available` exclusion), which the engine
computes from --period/--from/--to/--as-of and registers as a table. Evaluations whose rows
have the same shape share one query (a batch), as they do when the audit runs. Column types
come from the data at run time; here timestamps are assumed only in the
declared time columns.
"""

from __future__ import annotations

import dataclasses

from slang.diagnostics import SlangError, error
from slang.engine.sql.compiler import (
    ConditionLowering,
    Dialect,
    EventQuery,
    ScanShape,
    aggregate_of,
    batch_signature,
    counted_placeholder,
    ident,
    inner_indicator,
    interval_rows,
    scan_select,
    ts_columns,
)
from slang.plan.plan import Evaluation, Plan, selection_of
from slang.semantics import model as m
from slang.syntax.span import NO_SPAN, Span

TESTED = ("duckdb", "spark")
UNTESTED = ("trino", "bigquery", "snowflake")
DIALECTS = TESTED + UNTESTED


def dialect_named(name: str, span: Span = NO_SPAN) -> Dialect:
    try:
        import sqlglot  # noqa: F401
    except ImportError:
        from slang.engine.sql.backend import missing_extra

        raise missing_extra("duckdb", "sqlglot", "duckdb") from None
    from slang.engine.sql.duckdb import DuckDBDialect
    from slang.engine.sql.spark import SparkDialect

    if name == "duckdb":
        return DuckDBDialect()
    if name == "spark":
        return SparkDialect()
    if name in UNTESTED:
        # sqlglot's transpilation of the DuckDB lowering: offered, never run by the tests
        d = DuckDBDialect()
        d.name, d.sqlglot, d.tested = name, name, False
        return d
    raise SlangError([error("SLG1104", f"unknown SQL dialect `{name}`", span,
                            hint=f"dialects: {', '.join(DIALECTS)}")])


def explain_sql(plan: Plan, dialect: Dialect) -> str:
    r = dialect.render
    out = [f"-- slang plan --sql {dialect.name}"]
    if not dialect.tested:
        out.append(f"-- UNTESTED: sqlglot's transpilation to {dialect.name}; no test runs it "
                   "against a real engine. Review before use.")
    out.append("-- bound at run time: each scan's raw table, and slang_counted(i, key, w, p, ps, "
               "s, e, a), the counted time of each batched evaluation's audited periods in UTC "
               "microseconds, cut at day buckets")
    scans = {}
    shapes = {}
    for i, scan in enumerate(plan.scans):
        shape = ScanShape(scan.columns)
        select = scan_select(dialect, scan.source, shape, dialect.raw_relation(scan.source.table))
        name = f"slang_scan_{i}"
        out.append(f"\n-- scan {scan.id}: table \"{scan.source.table}\" in canonical form")
        out.append(f"CREATE VIEW {r(ident(name))} AS\n{r(select, pretty=True)};")
        from sqlglot import expressions as exp

        scans[scan.id] = exp.Table(this=ident(name))
        shapes[scan.id] = shape
    counted = counted_placeholder()
    batches: dict[str, list[tuple[Evaluation, EventQuery]]] = {}
    for ev in plan.evaluations:
        a, ind = ev.agreement, ev.objective.indicator
        sel = selection_of(ind)
        src = sel.source
        # column types are unknown here: columns with a declared unit may be floating point
        low = ConditionLowering(dialect, src, a.timezone, ts_columns(src, shapes[src.id]),
                                frozenset(src.units))
        try:
            if isinstance(ind, m.UptimeIndicator):
                q = interval_rows(dialect, scans[src.id], src.key_column is not None,
                                  low.condition(sel.condition))
                out += [f"\n-- evaluation {ev.id}",
                        "-- downtime rows of every service; uptime's interval algebra runs on "
                        "them per service and period", r(q, pretty=True) + ";"]
                continue
            query = _event_query(dialect, ind, sel, scans[src.id], low)
            batches.setdefault(batch_signature(dialect, query, aggregate_of(inner_indicator(ind))),
                               []).append((ev, query))
        except SlangError as exc:
            out += [f"\n-- evaluation {ev.id}", f"-- not lowered: {exc.diagnostics[0].code} "
                    f"{exc.diagnostics[0].message}"]
    for members in batches.values():
        ev, query = members[0]
        keys = None if query.keys is None else \
            tuple(sorted({e.agreement.service.key for e, _ in members}))
        names = ", ".join(e.id for e, _ in members)
        out.append(f"\n-- evaluation{'s' if len(members) > 1 else ''} {names}"
                   + (" (one batch: i numbers them in this order)" if len(members) > 1 else ""))
        try:
            out += _queries(dialect, ev.objective.indicator,
                            dataclasses.replace(query, keys=keys), counted)
        except SlangError as exc:
            out.append(f"-- not lowered: {exc.diagnostics[0].code} "
                       f"{exc.diagnostics[0].message}")
    return "\n".join(out) + "\n"


def _event_query(dialect: Dialect, ind: m.Indicator, sel: m.Selection, scan: object,
                 low: ConditionLowering) -> EventQuery:
    sliced = isinstance(ind, m.TimeslicesIndicator | m.SliceMeanIndicator)
    inner = inner_indicator(ind)
    column = inner.column if isinstance(inner, m.ValueIndicator) and \
        inner.function != "count" else None
    return EventQuery(dialect, scan, () if sel.source.key_column else None,  # type: ignore[arg-type]
                      low, sel.condition,
                      inner.good if isinstance(inner, m.RatioIndicator) else None, column,
                      None, ind.slice_seconds * 1_000_000 if sliced else None)


def _queries(dialect: Dialect, ind: m.Indicator, q: EventQuery, counted: object) -> list[str]:
    r = dialect.render
    inner = inner_indicator(ind)
    if isinstance(inner, m.RatioIndicator):
        return [r(q.ratio(counted), pretty=True) + ";"]  # type: ignore[arg-type]
    assert isinstance(inner, m.ValueIndicator)
    if inner.function == "percentile":
        return ["-- exact percentile, 0: the column's range (from file statistics where the "
                "engine can; if it holds infinities or NaN, the finite values of the rows instead)",
                r(q.column_range(), pretty=True) + ";",
                "-- exact percentile, 1: rows, values and skipped values per group, per bucket "
                "of a grid over that range (slang_counted carries lo, sc)",
                r(q.order_buckets(counted), pretty=True) + ";",  # type: ignore[arg-type]
                "-- exact percentile, 2: the distinct values inside the buckets that hold the "
                "wanted ranks (slang_counted carries vlo1, vhi1, vlo2, vhi2: from the counts "
                "above)",
                r(q.bucket_values(counted), pretty=True) + ";"]  # type: ignore[arg-type]
    out = [r(q.values(counted), pretty=True) + ";"]  # type: ignore[arg-type]
    if inner.function in ("sum", "mean"):
        out += ["-- exact sum: integer mantissas per binary exponent",
                r(q.exact_sums(counted), pretty=True) + ";"]  # type: ignore[arg-type]
    return out
