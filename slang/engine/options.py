"""What an audit may use, whichever engine runs it: the memory limit is the Arrow engine's
budget as much as DuckDB's, so it is not a SQL setting."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineOptions:
    """Knobs of the engines: the memory limit (e.g. `2GB`: DuckDB's, and the Arrow engine's
    budget, beyond which it streams, slang.engine.budget) and DuckDB's threads; the Spark
    master URL (`local[2]`, `spark://host:7077`)."""

    memory_limit: str | None = None
    threads: int | None = None
    spark_master: str = "local[2]"
