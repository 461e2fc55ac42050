"""SQL engines: the evaluation plan lowered to SQL (sqlglot expressions) and run where the data
lives, on DuckDB (embedded, streaming Parquet from disk) or Spark (through PySpark).

What runs in SQL is the per-row work: the key, the `where` conditions, whether a row's instant
falls in the counted time, and the aggregates (counts, minima and maxima, exact sums as integer
mantissas per binary exponent, order statistics by row number). What is per period rather than
per row stays in Python and is shared with the Arrow engine: the periods, the counted time (hours,
holidays, exclusions in local time across DST), which reaches SQL as a small literal table of UTC
intervals, the interval algebra of uptime over the (few) filtered interval rows, and everything
from measured numbers to status and money (`slang.engine.outcome`).

Layout, like ibis: `compiler.py` holds the shared lowering and a table of simple operations per
dialect; `duckdb.py` and `spark.py` hold each backend's table, its `visit_<Op>` methods, and how it
binds data. `executor.py` measures evaluations through a backend; `sources.py` validates the bound
files and records the evidence.
"""
