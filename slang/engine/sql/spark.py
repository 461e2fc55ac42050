"""Spark: the dialect and a backend through PySpark (a session from `--spark-master`).

Spark reads the Parquet files itself (distributed on a cluster, `local[N]` on one machine). The
session's time zone is set to UTC so that naive Parquet timestamps (`utc` sources) convert
without a local offset. Nanosecond timestamps are refused (SLG1102): Spark reads them only as
raw integers, with a legacy flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import sqlglot.expressions as exp

from slang.engine.sql.backend import engine_failed, missing_extra
from slang.engine.sql.compiler import Dialect, double, ident


class SparkDialect(Dialect):
    name = "spark"
    sqlglot = "spark"
    tested = True
    FUNCTIONS: ClassVar[dict[str, str]] = {
        "EpochMicros": "UNIX_MICROS",
        "IsNan": "ISNAN",
        "Log2": "LOG2",
    }

    def visit_IsFinite(self, x: exp.Expression) -> exp.Expression:
        inf = exp.cast(exp.Literal.string("Infinity"), exp.DataType.Type.DOUBLE)
        return exp.Paren(this=exp.and_(
            exp.Not(this=exp.Anonymous(this="ISNAN", expressions=[x])),
            exp.NEQ(this=exp.Abs(this=x.copy()), expression=inf)))

    def visit_Pow2(self, k: exp.Expression) -> exp.Expression:
        return exp.Pow(this=double(2.0), expression=k)

    def visit_EpochMicros(self, x: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="UNIX_MICROS", expressions=[
            exp.cast(x, exp.DataType.Type.TIMESTAMP)])


class SparkBackend:
    """Temporary views in a Spark session; results come back to the driver as Arrow (they
    are small: one row per period, slice or exponent)."""

    dialect = SparkDialect()

    def __init__(self, master: str = "local[2]"):
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise missing_extra("spark", "pyspark", "spark") from None
        self._owned = SparkSession.getActiveSession() is None
        try:
            self.spark = (SparkSession.builder.master(master).appName("slang audit")
                          .config("spark.sql.session.timeZone", "UTC")
                          .config("spark.ui.enabled", "false")
                          .config("spark.ui.showConsoleProgress", "false")
                          .config("spark.sql.shuffle.partitions", "4")
                          .getOrCreate())
            self.spark.sparkContext.setLogLevel("ERROR")
        except Exception as exc:  # py4j and Java errors carry no common base
            raise engine_failed("spark", f"cannot start a session on {master}: "
                                f"{str(exc).splitlines()[0]}",
                                "check --spark-master and that Java 17 or later is on PATH"
                                ) from None
        self.spark.conf.set("spark.sql.session.timeZone", "UTC")
        self._views: list[str] = []

    def bind_parquet(self, name: str, files: Sequence[Path]) -> exp.Expression:
        try:
            df = self.spark.read.option("mergeSchema", "true").parquet(*[str(f) for f in files])
        except Exception as exc:
            raise engine_failed("spark", str(exc).splitlines()[0]) from None
        df.createOrReplaceTempView(name)
        self._views.append(name)
        return exp.Table(this=ident(name))

    def bind_arrow(self, name: str, table: pa.Table) -> exp.Expression:
        try:
            df = self.spark.createDataFrame(table)
        except Exception as exc:
            raise engine_failed("spark", str(exc).splitlines()[0]) from None
        df.createOrReplaceTempView(name)
        self._views.append(name)
        return exp.Table(this=ident(name))

    def unbind(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)
        self._views.remove(name)

    def define(self, name: str, query: exp.Select) -> exp.Expression:
        self._sql(query).createOrReplaceTempView(name)
        self._views.append(name)
        return exp.Table(this=ident(name))

    def fetch(self, query: exp.Expression) -> pa.Table:
        df = self._sql(query)
        try:
            return df.toArrow()  # type: ignore[no-any-return]
        except Exception as exc:
            raise engine_failed("spark", str(exc).splitlines()[0]) from None

    def _sql(self, query: exp.Expression) -> Any:
        try:
            return self.spark.sql(self.dialect.render(query))
        except Exception as exc:
            raise engine_failed("spark", str(exc).splitlines()[0]) from None

    def close(self) -> None:
        for v in self._views:
            self.spark.catalog.dropTempView(v)
        if self._owned:
            self.spark.stop()
