"""Which Arrow memory pool an audit allocates from.

An audit decodes Parquet row group by row group, keeping what it needs and freeing the rest.
Arrow's default pool in the wheels (mimalloc) keeps much of what is freed resident; jemalloc
returns it to the system soon after. Measured on the benchmark (benchmarks/results/
audit-bench.md): peak RSS 0.40 -> 0.37 GiB at 10 M rows and 1.24 -> 1.12 GiB at 50 M, the same
reports byte for byte, no slower. The choice is the process's, so a person who set
`ARROW_DEFAULT_MEMORY_POOL` keeps theirs, and builds without jemalloc keep the default.
"""

from __future__ import annotations

import os

import pyarrow as pa


def prefer_jemalloc() -> str:
    """Make jemalloc Arrow's default pool unless the environment chose one or this pyarrow
    lacks it; returns the pool in use."""
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        try:
            pool = pa.jemalloc_memory_pool()
        except (NotImplementedError, pa.ArrowNotImplementedError):
            pool = None
        if pool is not None and pa.default_memory_pool().backend_name != "jemalloc":
            pa.set_memory_pool(pool)
    return str(pa.default_memory_pool().backend_name)
