"""`slang audit` at scale: 200 M request rows in a directory of Parquet files, bounded memory.

The question a team with a data lake asks: does the same audit run over data far larger than
the columns one machine would want to hold, in bounded memory, and at what cost per engine?
This script

1. generates, once and cached (`$SLANG_BENCH_CACHE`, default `~/.cache/slang-bench/scale`),
   request logs like `audit_bench.py`'s (50 services, 90 days from 2026-01-01 UTC, `ts`
   `timestamp[us, tz=UTC]` sorted within each file, `service` dictionary-encoded, `status`
   int16, `latency_ms` float64, `method`) as *shards*: `lb-00/`, `lb-01/`, ... as if each were
   one load balancer's logs, each shard one Parquet file per UTC month with ~1 M-row row
   groups. Every shard covers the whole 90 days, so the first shard alone (the Spark subset)
   is a complete, smaller estate's data. Generation is vectorised numpy, one row group at a
   time (bounded memory), deterministic (seed per shard), and shard k never depends on how
   many shards a run uses: 100 M rows are the first five shards of 200 M;
2. binds `--data edge_requests=VIEW` where VIEW is a directory of symbolic links to the
   first N shards' files (a directory dataset, as `slang audit --data` reads one);
3. writes audit_bench's estate: 50 agreements x (availability ratio, p95 latency, p95 in
   London business hours), monthly in Europe/London, audited January to March 2026;
4. runs whole processes under `/usr/bin/time -v`, with the process tree's RSS and CPU polled
   from /proc (Spark's JVM is a child of the Python driver): `slang audit` with the Arrow
   engine (with `--memory-limit`, its streaming mode, when this slang has one) and
   `slang audit --engine duckdb --memory-limit ...` over all rows; then `--engine spark`
   (`local[2]`) and the Arrow engine over the first shard(s) (`--spark-rows`);
5. checks that the engines' JSON reports agree exactly (every result's measured value,
   counts, status, budget, credits; the whole document), reports wall time, CPU time, peak
   RSS and the ratios, and prints PASS/FAIL for the bound: peak RSS under 2 GB for the Arrow
   and DuckDB runs over all rows.

Usage:

    python benchmarks/scale_bench.py --quick                # 4 M rows, Spark on 2 M
    python benchmarks/scale_bench.py                        # 200 M rows, Spark on 20 M
    python benchmarks/scale_bench.py --rows 100M --no-spark --markdown /tmp/scale.md
    python benchmarks/scale_bench.py --generate-only        # just build the cached data

Exit status: 0 when every report agrees and the memory bound holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import audit_bench as ab  # the estate and the request-log model are shared

GEN_VERSION = 1  # bump when the generated data changes, so cached shards are rewritten
SEED = 20261128
ROW_GROUP = 1 << 20
MONTHS = [(dt.datetime(2026, m, 1, tzinfo=dt.UTC), dt.datetime(2026, m + 1, 1, tzinfo=dt.UTC))
          for m in (1, 2, 3)]  # UTC months: 31 + 28 + 31 = ab.DAYS days
BOUND_BYTES = 2 * 1000**3  # the bound on peak memory: 2 GB
BYTES_PER_ROW_ON_DISK = 9.5  # snappy Parquet of these columns (measured: 8.8 B/row)
SPILL_BYTES_PER_ROW = 32  # temporary files of a streamed audit (measured: ~30 B/row, arrow)
DEFAULT_CACHE = Path(os.environ.get("SLANG_BENCH_CACHE",
                                    Path.home() / ".cache" / "slang-bench" / "scale"))
US = ab.US
HOUR_US = ab.HOUR_US


# ------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class Model:
    """What every shard shares: each service's traffic share, 5xx rate and median latency,
    and the hourly traffic curve (busier in the European day, quieter at weekends)."""

    share: Any  # float64[SERVICES], sums to 1
    fail_rate: Any
    median_ms: Any
    hour_weight: Any  # float64[DAYS * 24], sums to 1


def model(seed: int = SEED) -> Model:
    import numpy as np

    rng = np.random.default_rng(seed)
    h = np.arange(ab.DAYS * 24)
    weekday = (h // 24 + ab.START.weekday()) % 7
    weight = 1.0 + 0.8 * np.sin((h % 24 - 6) / 24 * 2 * np.pi)
    weight *= np.where(weekday >= 5, 0.6, 1.0)
    share = 1.0 / np.arange(1, ab.SERVICES + 1) ** 0.7
    return Model(
        share=rng.permutation(share / share.sum()),
        fail_rate=rng.uniform(0.0001, 0.0016, ab.SERVICES),  # about a third breach 99.9 %
        median_ms=rng.uniform(70, 150, ab.SERVICES),  # p95 ~ 2.3 x median: some above 300 ms
        hour_weight=weight / weight.sum(),
    )


def schema() -> Any:
    import pyarrow as pa

    return pa.schema([
        ("ts", pa.timestamp("us", tz="UTC")),
        ("service", pa.dictionary(pa.int32(), pa.string())),
        ("status", pa.int16()),
        ("latency_ms", pa.float64()),
        ("method", pa.dictionary(pa.int32(), pa.string())),
    ])


def _chunks(per_hour: Any, h0: int, h1: int, target: int) -> Iterator[tuple[int, int]]:
    """[a, b) hour ranges within [h0, h1) of about `target` rows each (whole hours)."""
    import numpy as np

    cum = np.cumsum(per_hour[h0:h1])
    cuts = np.searchsorted(cum, np.arange(target, int(cum[-1]) if len(cum) else 0, target))
    bounds = sorted({h0, *(h0 + int(c) + 1 for c in cuts if h0 + c + 1 < h1), h1})
    yield from itertools.pairwise(bounds)


def rows_batch(m: Model, rng: Any, hours: Any, counts: Any) -> Any:
    """One row group: `counts[i]` requests in hour `hours[i]` (hours since START), sorted by
    time. All per-row work is numpy."""
    import numpy as np
    import pyarrow as pa

    n = int(counts.sum())
    start_us = int(ab.START.timestamp()) * US
    dst_us = int(dt.datetime(2026, 3, 29, 1, tzinfo=dt.UTC).timestamp()) * US
    hour = np.repeat(hours.astype(np.int64), counts)
    ts = start_us + hour * HOUR_US + rng.integers(0, HOUR_US, n)
    ts.sort()
    svc = rng.choice(ab.SERVICES, n, p=m.share).astype(np.int32)
    u = rng.random(n)
    status = np.where(u < m.fail_rate[svc], 500 + (u * 1e6).astype(np.int64) % 5,
                      np.where(u < m.fail_rate[svc] + 0.03, 404, 200)).astype(np.int16)
    local_hour = ((ts + np.where(ts >= dst_us, HOUR_US, 0)) // HOUR_US) % 24
    busy = (local_hour >= 9) & (local_hour < 18)
    latency = m.median_ms[svc] * np.exp(rng.normal(0.0, 0.5, n)) * np.where(busy, 1.2, 1.0)
    latency = np.round(latency, 1)  # logged to 0.1 ms: ties, as in real logs
    meth = np.minimum(rng.geometric(0.6, n) - 1, len(ab.METHODS) - 1).astype(np.int32)
    names = pa.array([ab.service_name(i) for i in range(ab.SERVICES)])
    return pa.table({
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "service": pa.DictionaryArray.from_arrays(pa.array(svc), names),
        "status": pa.array(status),
        "latency_ms": pa.array(latency),
        "method": pa.DictionaryArray.from_arrays(pa.array(meth), pa.array(ab.METHODS)),
    }, schema=schema())


def write_shard(directory: Path, shard: int, rows: int, seed: int = SEED,
                row_group: int = ROW_GROUP) -> None:
    """Shard `shard` of `rows` rows: one Parquet file per UTC month, row groups of whole hours
    and about `row_group` rows. Written to a hidden temporary directory, then renamed, so a
    half-written shard is never read as data."""
    import numpy as np
    import pyarrow.parquet as pq

    m = model(seed)
    rng = np.random.default_rng([seed, shard])
    per_hour = rng.multinomial(rows, m.hour_weight)
    tmp = directory.parent / f".{directory.name}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    for lo, hi in MONTHS:
        h0 = int((lo - ab.START).total_seconds()) // 3600
        h1 = int((hi - ab.START).total_seconds()) // 3600
        with pq.ParquetWriter(tmp / f"{lo:%Y-%m}.parquet", schema(),
                              compression="snappy") as writer:
            for a, b in _chunks(per_hour, h0, h1, row_group):
                counts = per_hour[a:b]
                if counts.sum():
                    table = rows_batch(m, rng, np.arange(a, b), counts)
                    writer.write_table(table, row_group_size=table.num_rows)
    if directory.exists():
        shutil.rmtree(directory)
    tmp.rename(directory)


def shard_name(k: int) -> str:
    return f"lb-{k:02d}"


def shards_root(cache: Path, shard_rows: int, seed: int = SEED) -> Path:
    return cache / f"shards-{ab.human_rows(shard_rows)}-v{GEN_VERSION}-s{seed}"


def ensure_shards(cache: Path, shard_rows: int, count: int, seed: int = SEED,
                  row_group: int = ROW_GROUP, say: Any = print) -> Path:
    """The first `count` shards of `shard_rows` rows under the cache, generating the missing
    ones (each is complete once its directory exists)."""
    root = shards_root(cache, shard_rows, seed)
    root.mkdir(parents=True, exist_ok=True)
    for k in range(count):
        target = root / shard_name(k)
        if target.exists():
            continue
        say(f"generating shard {k + 1}/{count}: {shard_rows:,} rows into {target} ...")
        t0 = time.perf_counter()
        write_shard(target, k, shard_rows, seed, row_group)
        say(f"  done in {time.perf_counter() - t0:.1f} s, {gb(dir_bytes(target))}")
    return root


def dataset_view(cache: Path, shard_rows: int, count: int, seed: int = SEED) -> Path:
    """A directory dataset of the first `count` shards: `lb-XX/MONTH.parquet` symbolic links
    to the shards' files (file links only: a directory is read recursively)."""
    root = shards_root(cache, shard_rows, seed)
    view = cache / f"view-{ab.human_rows(shard_rows * count)}-of-{root.name}"
    links = {Path(shard_name(k)) / f.name: f for k in range(count)
             for f in sorted((root / shard_name(k)).glob("*.parquet"))}
    if view.exists() and {p.relative_to(view): p.resolve() for p in view.rglob("*.parquet")} \
            == {rel: f.resolve() for rel, f in links.items()}:
        return view  # left as it is: another run may be reading it
    tmp = cache / f".{view.name}.partial"
    for old in (tmp, view):
        if old.exists():
            shutil.rmtree(old)
    for rel, f in links.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).symlink_to(f)
    tmp.rename(view)
    return view


def dir_bytes(path: Path) -> int:
    """Bytes of the files under `path`, following file links (a view's size is its data's)."""
    return sum(f.stat().st_size for f in path.rglob("*.parquet"))


def dataset_facts(view: Path) -> dict[str, int]:
    """Files, row groups, rows and bytes, from the Parquet footers."""
    import pyarrow.parquet as pq

    files = sorted(view.rglob("*.parquet"))
    groups = rows = 0
    for f in files:
        meta = pq.ParquetFile(f).metadata
        groups += meta.num_row_groups
        rows += meta.num_rows
    return {"files": len(files), "row_groups": groups, "rows": rows, "bytes": dir_bytes(view)}


def gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB"


def check_disk(cache: Path, rows_missing: int, spill_rows: int) -> None:
    """Refuse to start when the disk cannot hold the missing shards and the engines' spill
    files in the temporary directory (measured: the Arrow engine's ~30 B/row, DuckDB's sorted
    copy of the scan less) with 2 GB to spare."""
    cache.mkdir(parents=True, exist_ok=True)
    need = int(rows_missing * BYTES_PER_ROW_ON_DISK)
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    free_cache = shutil.disk_usage(cache).free
    free_tmp = shutil.disk_usage(tmp).free
    spill = spill_rows * SPILL_BYTES_PER_ROW
    same = os.stat(cache).st_dev == os.stat(tmp).st_dev
    print(f"disk: {gb(free_cache)} free at {cache}" +
          ("" if same else f", {gb(free_tmp)} free at {tmp}") +
          f"; new data needs ~{gb(need)}, the engines may spill up to ~{gb(spill)}")
    short = free_cache < need + spill + 2e9 if same else \
        free_cache < need + 2e9 or free_tmp < spill + 2e9
    if short:
        raise SystemExit("not enough disk space for the benchmark (see above)")


# ------------------------------------------------------------------------------ agreement


def differences(a: Any, b: Any, path: str = "$") -> Iterator[str]:
    """Every place where two JSON documents differ, as `path: a != b`. Numbers compare by
    type and value (1 and 1.0 differ: the report's counts are integers), lists item by item,
    objects key by key, so a reordered result or a missing credit is a difference too."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                yield f"{path}.{k}: {'missing' if k not in a else 'present'} != " \
                      f"{'missing' if k not in b else 'present'}"
            else:
                yield from differences(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{path}: {len(a)} items != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            yield from differences(x, y, f"{path}[{i}]")
    elif type(a) is not type(b) or a != b:
        yield f"{path}: {a!r} != {b!r}"


@dataclass
class Agreement:
    """How two engines' reports compare: the results counted by status, and the differences
    (empty when the documents are equal in every field)."""

    results: int
    statuses: dict[str, int]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def agreement(a: dict[str, Any], b: dict[str, Any]) -> Agreement:
    statuses: dict[str, int] = {}
    for r in a.get("results", []):
        statuses[r.get("status", "?")] = statuses.get(r.get("status", "?"), 0) + 1
    return Agreement(len(a.get("results", [])), dict(sorted(statuses.items())),
                     list(differences(a, b)))


# ------------------------------------------------------------------------------ processes


@dataclass
class Measured:
    """One whole process: wall and CPU seconds, peak RSS, and how the peak was found."""

    wall: float
    cpu: float
    peak: int  # bytes: the larger of the largest process's peak and the polled tree sum
    largest: int  # bytes: GNU time's maximum resident set size (the largest one process)
    tree_peak: int  # bytes: the largest sum of the tree's RSS seen while polling
    temp_disk: int  # bytes: how far the free space of $TMPDIR's file system fell (approx.)
    processes: int  # processes seen in the tree (Spark: Python driver, JVM, ...)
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average at the start and the end


class TreeSampler(threading.Thread):
    """Polls the process tree under `root` every `interval` s: the sum of its processes'
    RSS (its maximum is the tree's peak, which no single process's high-water mark shows
    when Python drives a JVM) and each process's CPU time (for children nobody waits for)."""

    def __init__(self, root: int, skip_root: bool, interval: float = 0.05):
        super().__init__(daemon=True)
        self.root, self.skip_root, self.interval = root, skip_root, interval
        self.stop = threading.Event()
        self.peak = 0
        self.hwm = 0  # the largest VmHWM of one process (without GNU time: the largest one)
        self.cpu: dict[int, float] = {}
        self.seen: set[int] = set()
        self.tick = os.sysconf("SC_CLK_TCK")
        self.tmp = os.environ.get("TMPDIR", "/tmp")
        self.free0 = shutil.disk_usage(self.tmp).free
        self.least_free = self.free0

    def _children(self) -> dict[int, list[int]]:
        """Every process's children: from /proc/PID/task/TID/children where the kernel has
        them (CONFIG_PROC_CHILDREN), else from the parent field of every /proc/PID/stat."""
        if os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children"):
            return {}
        kids: dict[int, list[int]] = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    ppid = int(Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                kids.setdefault(ppid, []).append(int(name))
        return kids

    def _tree(self) -> list[int]:
        scanned = self._children()
        out, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            out.append(pid)
            if not scanned:
                try:
                    for task in os.listdir(f"/proc/{pid}/task"):
                        text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                        todo.extend(int(c) for c in text.split())
                except OSError:
                    continue
            else:
                todo.extend(scanned.get(pid, []))
        return out

    def run(self) -> None:
        while not self.stop.is_set():
            total = 0
            for pid in self._tree():
                if pid == self.root and self.skip_root:
                    continue
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                    stat = Path(f"/proc/{pid}/stat").read_text()
                except OSError:
                    continue
                hit = re.search(r"VmRSS:\s+(\d+) kB", status)
                total += int(hit.group(1)) * 1024 if hit else 0
                hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
                self.hwm = max(self.hwm, int(hwm.group(1)) * 1024 if hwm else 0)
                fields = stat.rsplit(")", 1)[1].split()
                self.cpu[pid] = (int(fields[11]) + int(fields[12])) / self.tick
                self.seen.add(pid)
            self.peak = max(self.peak, total)
            self.least_free = min(self.least_free, shutil.disk_usage(self.tmp).free)
            self.stop.wait(self.interval)


def run_measured(cmd: Sequence[str], log: Path, env: dict[str, str] | None = None) -> Measured:
    """Run `cmd` under GNU time (`-v`) with its tree polled; raise with the tail of its
    stderr if it fails (exit 1, violations, is not a failure: audits run with --no-fail)."""
    gnu = os.access(ab.TIME_V, os.X_OK)
    report = log.with_suffix(".time")
    argv = [ab.TIME_V, "-v", "-o", str(report), *cmd] if gnu else list(cmd)
    load0 = os.getloadavg()[0]
    with open(log, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env=env)
        sampler = TreeSampler(proc.pid, skip_root=gnu)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        sampler.stop.set()
        sampler.join()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed ({code}):\n{tail}")
    # Without GNU time: not wait4's ru_maxrss, which Linux carries over from the forking
    # parent across exec, but the largest VmHWM polled
    cpu = usage.ru_utime + usage.ru_stime
    largest = sampler.hwm
    if gnu:
        text = report.read_text()

        def field_(name: str) -> float:
            hit = re.search(rf"{re.escape(name)}: ([\d.]+)", text)
            return float(hit.group(1)) if hit else 0.0

        cpu = field_("User time (seconds)") + field_("System time (seconds)")
        largest = int(field_("Maximum resident set size (kbytes)")) * 1024
    cpu = max(cpu, sum(sampler.cpu.values()))
    return Measured(wall, cpu, max(largest, sampler.peak), largest, sampler.peak,
                    sampler.free0 - sampler.least_free, len(sampler.seen),
                    (load0, os.getloadavg()[0]))


def slang_streams() -> bool:
    """Whether this slang's Arrow engine takes `--memory-limit` (its bounded-memory streaming
    mode): the option's help names the Arrow engine once it does."""
    out = subprocess.run([*ab.slang_command(), "audit", "--help"], capture_output=True,
                         text=True, check=True).stdout
    hit = re.search(r"--memory-limit SIZE(.*?)(?=\n  --)", out, re.S)
    return bool(hit and "arrow" in hit.group(1).lower())


def audit_argv(estate: Path, data: Path, out: Path, engine: str, memory_limit: str | None,
               spark_master: str = "local[2]") -> list[str]:
    argv = [*ab.slang_command(), "audit", str(estate), "--data", f"edge_requests={data}",
            "--from", ab.DATE_FROM.isoformat(), "--to", ab.DATE_TO.isoformat(),
            "--as-of", ab.AS_OF, "--format", "json", "--output", str(out), "--no-fail",
            "--engine", engine]
    if memory_limit:
        argv += ["--memory-limit", memory_limit]
    if engine == "spark":
        argv += ["--spark-master", spark_master]
    return argv


@dataclass
class Row:
    """One engine's runs over one dataset."""

    label: str
    engine: str
    rows: int
    runs: list[Measured] = field(default_factory=list)
    report: Path | None = None

    def median(self, attr: str) -> float:
        values = sorted(getattr(r, attr) for r in self.runs)
        return values[len(values) // 2]


def run_engine(label: str, engine: str, rows: int, estate: Path, data: Path, scratch: Path,
               memory_limit: str | None, runs: int, say: Any) -> Row:
    row = Row(label, engine, rows, report=scratch / f"{label}.json")
    for i in range(runs):
        say(f"  {label}: run {i + 1}/{runs} ({load()}) ...")
        m = run_measured(audit_argv(estate, data, row.report, engine, memory_limit),
                         scratch / f"{label}-{i}.stderr")
        say(f"    wall {m.wall:.1f} s, CPU {m.cpu:.1f} s, peak RSS {gb(m.peak)}"
            f" (largest process {gb(m.largest)}, tree {gb(m.tree_peak)}, "
            f"{m.processes} processes), temporary disk ~{gb(m.temp_disk)}")
        row.runs.append(m)
    return row


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


# ------------------------------------------------------------------------------ report


class Out:
    """Prints and keeps the Markdown lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)


def versions() -> dict[str, str]:
    """The software and machine the figures come from."""
    import importlib.metadata as md

    def version(name: str) -> str:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "not installed"

    where = subprocess.run(  # the slang the children import (PYTHONPATH may point elsewhere)
        [sys.executable, "-c", "import os, slang; print(os.path.dirname(slang.__file__))"],
        capture_output=True, text=True, cwd="/").stdout.strip()
    git = ["git", "-C", where or str(Path(__file__).resolve().parent)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "?"
    dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no", "--", "."],
                           capture_output=True, text=True).stdout.strip()
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "slang": f"{where}, commit {commit}{' with local changes' if dirty else ''}",
        "python": platform.python_version(),
        "pyarrow": version("pyarrow"), "numpy": version("numpy"), "duckdb": version("duckdb"),
        "pyspark": version("pyspark"), "java": java.splitlines()[0] if java else "?",
        "machine": f"{os.cpu_count()} CPUs ({cpu}), {gb(memory)} RAM, "
                   f"Linux {platform.release()}",
    }


def table(rows: Sequence[Row], out: Out) -> None:
    out("| process | rows | runs | wall (median) | CPU (median) | peak RSS (max) | "
        "largest process | tree sum | temp disk | load at start -> end |")
    out("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        loads = ", ".join(f"{m.load[0]:.1f} -> {m.load[1]:.1f}" for m in r.runs)
        out(f"| `{r.label}` | {r.rows / 1e6:g} M | {len(r.runs)} | {r.median('wall'):.1f} s | "
            f"{r.median('cpu'):.1f} s | {gb(max(m.peak for m in r.runs))} | "
            f"{gb(max(m.largest for m in r.runs))} | {gb(max(m.tree_peak for m in r.runs))} | "
            f"~{gb(max(m.temp_disk for m in r.runs))} | {loads} |")


def ratio_line(a: Row, b: Row, out: Out) -> None:
    out(f"- `{a.label}` / `{b.label}`: wall {a.median('wall') / b.median('wall'):.2f}x, "
        f"CPU {a.median('cpu') / b.median('cpu'):.2f}x, "
        f"peak RSS {max(m.peak for m in a.runs) / max(m.peak for m in b.runs):.2f}x")


def agreement_line(a: Row, b: Row, out: Out) -> bool:
    assert a.report and b.report
    found = agreement(json.loads(a.report.read_text()), json.loads(b.report.read_text()))
    same = a.report.read_bytes() == b.report.read_bytes()
    states = ", ".join(f"{k} {v}" for k, v in found.statuses.items())
    if found.ok:
        out(f"- `{a.label}` and `{b.label}` agree exactly: {found.results} results ({states}), "
            f"every field of the JSON report equal"
            f"{' (byte-identical files)' if same else ''}")
    else:
        out(f"- **DISAGREEMENT `{a.label}` vs `{b.label}`: {len(found.problems)} differences** "
            f"(first 20):")
        for p in found.problems[:20]:
            out(f"    - `{p}`")
    return found.ok


def bound_line(r: Row, out: Out) -> bool:
    peak = max(m.peak for m in r.runs)
    ok = peak < BOUND_BYTES
    out(f"- {'PASS' if ok else 'FAIL'}: `{r.label}` peak RSS {gb(peak)} "
        f"{'<' if ok else '>='} {gb(BOUND_BYTES)}")
    return ok


# ------------------------------------------------------------------------------ main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=ab.parse_rows, default=200_000_000,
                   help="rows audited by arrow and duckdb (default 200M)")
    p.add_argument("--spark-rows", type=ab.parse_rows, default=20_000_000,
                   help="rows of the Spark subset, the first shards (default 20M)")
    p.add_argument("--shard-rows", type=ab.parse_rows,
                   help="rows per shard directory (default: --spark-rows); --rows and "
                        "--spark-rows must be multiples of it")
    p.add_argument("--quick", action="store_true", help="4M rows, Spark on 2M: a smoke run")
    p.add_argument("--runs", type=int, default=1, help="runs per process (default 1)")
    p.add_argument("--engines", default="arrow,duckdb",
                   help="engines over all rows, comma-separated (default arrow,duckdb)")
    p.add_argument("--memory-limit", default="1.5GB",
                   help="--memory-limit for duckdb, and for arrow when it streams (default "
                        "1.5GB: the process's peak must stay under 2 GB)")
    p.add_argument("--no-spark", action="store_true", help="skip the Spark subset")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                   help="where the shards live ($SLANG_BENCH_CACHE, default "
                        "~/.cache/slang-bench/scale)")
    p.add_argument("--scratch", type=Path, help="keep reports and logs in this directory")
    p.add_argument("--markdown", type=Path, help="also write the figures to this file")
    p.add_argument("--generate-only", action="store_true",
                   help="generate the shards (and print the dataset's size), run nothing")
    args = p.parse_args(argv)
    if args.quick:
        args.rows, args.spark_rows = 4_000_000, 2_000_000
    args.shard_rows = args.shard_rows or args.spark_rows
    if args.rows % args.shard_rows or args.spark_rows % args.shard_rows \
            or args.spark_rows > args.rows:
        p.error("--rows and --spark-rows must be multiples of --shard-rows, "
                "and --spark-rows at most --rows")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    out = Out()
    count = args.rows // args.shard_rows
    root = shards_root(args.cache, args.shard_rows)
    missing = sum(not (root / shard_name(k)).exists() for k in range(count))
    check_disk(args.cache, missing * args.shard_rows, args.rows)
    ensure_shards(args.cache, args.shard_rows, count)
    view = dataset_view(args.cache, args.shard_rows, count)
    facts = dataset_facts(view)
    print(f"dataset {view}: {facts['rows']:,} rows, {facts['files']} files, "
          f"{facts['row_groups']} row groups, {gb(facts['bytes'])} of Parquet")
    if args.generate_only:
        return 0
    subset = dataset_view(args.cache, args.shard_rows, args.spark_rows // args.shard_rows)
    if args.scratch:
        scratch = args.scratch
        scratch.mkdir(parents=True, exist_ok=True)
    else:
        import tempfile
        scratch = Path(tempfile.mkdtemp(prefix="slang-scale-bench-"))
    estate = ab.write_estate(scratch / "estate")
    streams = slang_streams()
    arrow_limit = args.memory_limit if streams else None

    out(f"# `slang audit` at scale: {args.rows / 1e6:g} M rows in Parquet, bounded memory")
    out()
    out(f"Measured with `benchmarks/scale_bench.py` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} "
        f"UTC ({load()} at the start).")
    out()
    for k, v in versions().items():
        out(f"- {k}: {v}")
    out(f"- dataset: {facts['rows']:,} rows in {facts['files']} Parquet files "
        f"({count} shards of {args.shard_rows / 1e6:g} M rows, one file per UTC month), "
        f"{facts['row_groups']} row groups, {gb(facts['bytes'])}; the Spark subset is the "
        f"first {args.spark_rows // args.shard_rows} shard(s), {args.spark_rows / 1e6:g} M rows")
    out(f"- estate: {ab.SERVICES} agreements x 3 objectives, monthly in {ab.ZONE}, "
        f"{ab.DATE_FROM} to {ab.DATE_TO}, --as-of {ab.AS_OF}")
    out("- arrow: " + (f"streaming, `--memory-limit {arrow_limit}`" if streams else
                       "in memory (this slang's Arrow engine has no streaming mode: "
                       "`--memory-limit` names only duckdb)"))
    out(f"- duckdb: `--memory-limit {args.memory_limit}`")
    out()

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    full: dict[str, Row] = {}
    print(f"\nall {args.rows:,} rows:")
    for engine in engines:
        limit = arrow_limit if engine == "arrow" else args.memory_limit
        full[engine] = run_engine(engine, engine, args.rows, estate, view, scratch, limit,
                                  args.runs, print)
    sub: dict[str, Row] = {}
    if not args.no_spark:
        print(f"\nthe first {args.spark_rows:,} rows:")
        sub["arrow"] = run_engine("arrow-subset", "arrow", args.spark_rows, estate, subset,
                                  scratch, arrow_limit, args.runs, print)
        sub["spark"] = run_engine("spark-subset", "spark", args.spark_rows, estate, subset,
                                  scratch, None, args.runs, print)

    out("## Figures")
    out()
    table([*full.values(), *sub.values()], out)
    out()
    ok = True
    if "arrow" in full and "duckdb" in full:
        ratio_line(full["arrow"], full["duckdb"], out)
        ok &= agreement_line(full["arrow"], full["duckdb"], out)
    if sub:
        ratio_line(sub["spark"], sub["arrow"], out)
        ok &= agreement_line(sub["arrow"], sub["spark"], out)
    out()
    out(f"## Bound: peak memory under {gb(BOUND_BYTES)} over all rows")
    out()
    for engine in ("arrow", "duckdb"):
        if engine in full:
            ok &= bound_line(full[engine], out)
    out()
    out("Peak RSS is the larger of GNU time's maximum resident set size (the largest single "
        "process) and the largest sum of the process tree's RSS polled every 50 ms (Spark's "
        "JVM is a child of the Python driver). CPU is user + system time of the tree. Temp "
        "disk is how far the free space of $TMPDIR's file system fell during the run (spill "
        "files; approximate on a shared machine).")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text("\n".join(out.lines) + "\n")
        print(f"\nwrote {args.markdown}")
    if not args.scratch:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
