"""DuckDB: the dialect (simple operations and visits) and the embedded backend.

DuckDB reads the Parquet files itself, streaming, with a memory limit and a spill directory, so
a dataset larger than memory is audited with bounded memory: the per-row work (filters, the join
with the counted-time table, aggregates) streams; only the sort behind exact percentiles
(row_number over the values) and the coverage gap (consecutive instants) materialise, and
DuckDB spills those to disk when they exceed `memory_limit`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import sqlglot.expressions as exp

from slang.engine.sql.backend import engine_failed, missing_extra
from slang.engine.sql.compiler import Dialect, double, ident
from slang.engine.termination import uninterrupted


class DuckDBDialect(Dialect):
    name = "duckdb"
    sqlglot = "duckdb"
    tested = True
    FUNCTIONS: ClassVar[dict[str, str]] = {
        "EpochMicros": "EPOCH_US",
        "IsFinite": "ISFINITE",
        "IsNan": "ISNAN",
        "Log2": "LOG2",
    }

    def visit_CountIf(self, cond: exp.Expression) -> exp.Expression:
        return exp.CountIf(this=cond)

    def visit_ExactInt(self, x: exp.Expression) -> exp.Expression:
        return exp.cast(x, exp.DataType.Type.INT128)

    def visit_EpochNanos(self, x: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="EPOCH_NS", expressions=[x])

    def visit_Pow2(self, k: exp.Expression) -> exp.Expression:
        return exp.Pow(this=double(2.0), expression=k)


class DuckDBBackend:
    """One in-memory DuckDB connection per audit, with bounded memory and threads."""

    dialect = DuckDBDialect()

    def __init__(self, memory_limit: str | None = None, threads: int | None = None):
        try:
            import duckdb
        except ImportError:
            raise missing_extra("duckdb", "duckdb", "duckdb") from None
        self._duckdb = duckdb
        self._spill = tempfile.mkdtemp(prefix="slang-duckdb-")
        # statistics propagation folds `isnan(x)` to false from Parquet min/max statistics,
        # which leave NaN out (DuckDB 1.x-2.0): exactness first, so it is off
        config: dict[str, Any] = {"temp_directory": self._spill,
                                  "preserve_insertion_order": False,
                                  "disabled_optimizers": "statistics_propagation"}
        if memory_limit:
            config["memory_limit"] = memory_limit
        if threads:
            config["threads"] = threads
        try:
            # a database file in the private spill directory: tables the engine materialises
            # live on disk under the buffer manager, so memory stays within memory_limit
            self.con = duckdb.connect(str(Path(self._spill) / "slang.duckdb"), config=config)
        except duckdb.Error as exc:
            self._remove_spill()
            raise engine_failed("duckdb", str(exc), "check --memory-limit (e.g. 2GB) and "
                                "--threads") from None
        except BaseException:  # SIGTERM or Ctrl-C while connecting
            self._remove_spill()
            raise

    def bind_parquet(self, name: str, files: Sequence[Path]) -> exp.Expression:
        paths = exp.Array(expressions=[exp.Literal.string(str(f)) for f in files])
        read = exp.Anonymous(this="READ_PARQUET", expressions=[
            paths, exp.PropertyEQ(this=exp.to_identifier("union_by_name"), expression=exp.true())])
        return self.define(name, exp.select(exp.Star()).from_(exp.Table(this=read)))

    def bind_arrow(self, name: str, table: pa.Table) -> exp.Expression:
        self.con.register(name, table)
        return exp.Table(this=ident(name))

    def unbind(self, name: str) -> None:
        self.con.unregister(name)

    def materialize(self, name: str, query: exp.Select, order: list[str]) -> exp.Expression:
        """A table of `query`'s rows ordered by `order`: every evaluation then reads only the
        row groups of its service and periods (DuckDB's min/max zone maps), instead of decoding
        every Parquet file again."""
        ordered = query.order_by(*[exp.Ordered(this=exp.column(ident(c))) for c in order],
                                 copy=True)
        self._run(exp.Create(this=exp.Table(this=ident(name)), kind="TABLE", replace=True,
                             expression=ordered))
        return exp.Table(this=ident(name))

    def define(self, name: str, query: exp.Select) -> exp.Expression:
        view = exp.Create(this=exp.Table(this=ident(name)), kind="VIEW", replace=True,
                          expression=query)
        self._run(view)
        return exp.Table(this=ident(name))

    def fetch(self, query: exp.Expression) -> pa.Table:
        sql = self.dialect.render(query)
        try:
            return self.con.sql(sql).to_arrow_table()  # type: ignore[no-any-return]
        except self._duckdb.Error as exc:
            raise engine_failed("duckdb", str(exc).splitlines()[0]) from None

    def scan_in_order(self, query: exp.Expression,
                      sink: Callable[[pa.RecordBatch], bool]) -> None:
        """Feed `query`'s rows to `sink` a batch at a time, in the order the files hold them
        (insertion order is kept for this query only); `sink` returns False to stop. Memory:
        one batch."""
        sql = self.dialect.render(query)
        try:
            self.con.execute("SET preserve_insertion_order = true")
            rel = self.con.sql(sql)
            # to_arrow_reader since DuckDB 1.4; fetch_record_batch before (now deprecated)
            reader = rel.to_arrow_reader(1 << 18) if hasattr(rel, "to_arrow_reader") \
                else rel.fetch_record_batch(1 << 18)
            for batch in reader:
                if not sink(batch):
                    break
            reader.close()
        except self._duckdb.Error as exc:
            raise engine_failed("duckdb", str(exc).splitlines()[0]) from None
        finally:
            self.con.execute("SET preserve_insertion_order = false")

    def _run(self, query: exp.Expression) -> Any:
        sql = self.dialect.render(query)
        try:
            return self.con.execute(sql)
        except self._duckdb.Error as exc:
            raise engine_failed("duckdb", str(exc).splitlines()[0]) from None

    def close(self) -> None:
        """Close and remove the spill directory, to the end even if SIGTERM arrives meanwhile
        (closing checkpoints the database file, which can take seconds at scale)."""
        with uninterrupted():
            try:
                self.con.close()
            finally:
                self._remove_spill()

    def _remove_spill(self) -> None:
        with uninterrupted():
            shutil.rmtree(self._spill, ignore_errors=True)
