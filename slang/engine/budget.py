"""The Arrow engine's memory budget (`--memory-limit`): whether an audit holds its data in
memory or streams it through spill files partitioned by key (slang.engine.streaming).

The choice is made before anything is read, from metadata (Parquet footers: the rows of the
row groups the audited periods keep, times each column's width in memory), so that an audit of
data far larger than memory never starts reading it into memory. The figures below come from
measurements of whole audits (benchmarks/results/streaming.md): an in-memory audit peaks at
about 1.1-1.5x the bytes of the columns it reads, above the interpreter and its libraries.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from slang.diagnostics import SlangError, error
from slang.syntax.span import COMMAND_LINE_SPAN

# The default budget: a quarter of physical memory, so that an audit of large data leaves the
# rest of a shared machine alone and never runs it out of memory; data whose estimate fits
# is audited in memory as before (the fastest way).
DEFAULT_FRACTION = 0.25
# Peak resident memory of an audit over the estimated column bytes it holds (measured 1.1-1.5x:
# the prepared table, per-condition masks, one period's working arrays; 2x leaves a margin).
HOLD_FACTOR = 2.0
# What the process takes before data: the interpreter, pyarrow, numpy and the policies.
BASELINE_BYTES = 200 * 1000**2
# The least a bucket may be planned to take, so that a budget below the baseline still streams
# (in as many buckets as there are keys) rather than failing.
MIN_BUCKET_BYTES = 16 * 1000**2
# At most this many bucket files per source: open file handles, and pieces too small to pay
# for their per-batch overhead.
MAX_BUCKETS = 256

_UNITS = {
    "": 1, "b": 1, "byte": 1, "bytes": 1,
    "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
    "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """`2GB`, `1.5 GiB`, `512MB`, `800000000` -> bytes (KB, MB, GB, TB are powers of 1000, as
    DuckDB reads them; KiB, MiB, GiB, TiB powers of 1024). Raises ValueError."""
    hit = _SIZE.match(text)
    if hit is None or hit.group(2).lower() not in _UNITS:
        raise ValueError(text)
    size = float(hit.group(1)) * _UNITS[hit.group(2).lower()]
    if not math.isfinite(size) or size < 1:
        raise ValueError(text)
    return int(size)


# Where a container's memory limit is (cgroup v2, then v1): a process in a container with a
# 4 GB limit on a 64 GB host sees 64 GB of physical memory.
CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def cgroup_limit_bytes() -> int | None:
    """The memory limit of this process's control group, None when there is none."""
    for path in CGROUP_LIMITS:
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:  # v1 writes "no limit" as ~2**63
            return int(text)
        return None
    return None


def memory_budget(memory_limit: str | None) -> int:
    """The Arrow engine's budget in bytes: `--memory-limit`, else a quarter of the memory this
    process may have (physical memory, or the container's limit when lower; 4 GB where neither
    is known). A limit that is not a size is SLG0610."""
    if memory_limit is None:
        from slang.engine.data import physical_memory_bytes

        known = [n for n in (physical_memory_bytes(), cgroup_limit_bytes()) if n]
        return int(min(known) * DEFAULT_FRACTION) if known else 4 * 1000**3
    try:
        return parse_size(memory_limit)
    except ValueError:
        raise SlangError([error(
            "SLG0610", f"--memory-limit `{memory_limit}` is not a size", COMMAND_LINE_SPAN,
            "give bytes with a unit, e.g. 2GB, 512MB or 1.5GiB")]) from None


def fits_in_memory(estimated_bytes: int, budget: int) -> bool:
    """Whether an audit holding `estimated_bytes` of columns stays within `budget`."""
    return BASELINE_BYTES + HOLD_FACTOR * estimated_bytes <= budget


def bucket_count(partitioned_bytes: int, held_bytes: int, budget: int, keys: int) -> int:
    """How many buckets to split the partitioned sources' `partitioned_bytes` into, so that one
    bucket's prepared rows, beside the `held_bytes` kept whole in memory, stay within `budget`.
    A quarter more than the even split absorbs keys of unequal sizes; never more buckets than
    keys (a key is never split). A budget below what the process takes before any data
    (`BASELINE_BYTES`) cannot be met: each key then gets its own bucket, the least memory a
    streamed audit can take."""
    room = budget - BASELINE_BYTES - HOLD_FACTOR * held_bytes
    if budget < BASELINE_BYTES:
        return max(1, min(keys, MAX_BUCKETS))
    even = HOLD_FACTOR * partitioned_bytes / max(room, MIN_BUCKET_BYTES)
    return max(1, min(math.ceil(even * 1.25), keys, MAX_BUCKETS))
