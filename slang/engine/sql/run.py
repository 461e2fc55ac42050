"""Choosing and starting a SQL engine for an audit: the backend, its scans and its executor."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from slang.diagnostics import Diagnostic, SlangError
from slang.engine.options import EngineOptions

if TYPE_CHECKING:  # the backends' packages (sqlglot, duckdb, pyspark) load only when chosen
    from slang.engine.periods import PeriodInstance
    from slang.engine.sql.backend import Backend
    from slang.plan.plan import Plan

ENGINES = ("arrow", "duckdb", "spark")


def open_backend(engine: str, options: EngineOptions) -> Backend:
    """The backend for `engine`; its Python package is imported only now."""
    try:
        import sqlglot  # noqa: F401
    except ImportError:
        from slang.engine.sql.backend import missing_extra

        raise missing_extra(engine, "sqlglot", engine) from None
    if engine == "duckdb":
        from slang.engine.sql.duckdb import DuckDBBackend

        return DuckDBBackend(options.memory_limit, options.threads)
    if engine == "spark":
        from slang.engine.sql.spark import SparkBackend

        return SparkBackend(options.spark_master)
    raise ValueError(engine)


def sql_executor(
    backend: Backend,
    plan: Plan,
    data: Mapping[str, str | os.PathLike[str]],
    periods: Mapping[str, list[PeriodInstance]],
    as_of_us: int,
) -> tuple[object, list[object]]:
    """Bind every scan of the plan to the backend (validating and recording evidence as the
    Arrow reader does) and return the executor and the evidence."""
    from slang.engine.audit import scan_time_range, unbound_table
    from slang.engine.sql.executor import SqlExecutor
    from slang.engine.sql.sources import bind_source

    diags: list[Diagnostic] = []
    bound = {}
    evidence: list[object] = []
    for index, scan in enumerate(plan.scans):
        src = scan.source
        if src.table not in data:
            diags.append(unbound_table(src, "Parquet for the SQL engines"))
            continue
        time_range = scan_time_range(plan, src, periods)
        try:
            b = bind_source(backend, index, src, data[src.table], scan.columns,
                            as_of_us=as_of_us, time_range_us=time_range)
        except SlangError as exc:
            diags.extend(exc.diagnostics)
            continue
        bound[src.id] = b
        evidence.append(b.evidence)
    if diags:
        raise SlangError(diags)
    executor = SqlExecutor({}, as_of_us, backend=backend, bound=bound,
                           periods=dict(periods), evaluations=list(plan.evaluations))
    return executor, evidence
