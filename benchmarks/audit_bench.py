"""`slang audit` against a hand-written DuckDB query, on generated request logs.

The question an adopter asks: is slang's audit as fast as the SQL a data engineer would write
for the same numbers? This script

1. generates request logs like a load balancer's (50 services, 90 days from 2026-01-01 UTC, `ts`
   sorted `timestamp[us, tz=UTC]`, `service` dictionary-encoded, `status` int16, `latency_ms`
   float64, `method`), 10 M and 50 M rows, as one Parquet file each with ~1 M-row row groups, in
   a cache directory reused across runs (generation is vectorised numpy, chunk by chunk);
2. writes an estate of 50 agreements, one per service, each with three objectives: availability
   `ratio(requests where status < 500) >= 99.9%`, `p95(requests.latency_ms) <= 300ms`, and the
   same p95 in London business hours (a mon-fri 09:00-17:30 calendar with four holidays), monthly
   in Europe/London; the audit selects January to March 2026 with `--from/--to`;
3. runs `slang audit ... --format json` and hand-written DuckDB queries as whole processes,
   alternating: `duckdb-plain`, the straightforward SQL (every row converted to London time,
   p95 by `row_number()` over the partition at rank `ceil(0.95 n)`), `duckdb-tuned` (no
   per-row time-zone work, p95 by `list_sort(list(...))[rank]`) and optionally
   `duckdb-lookup` (a calendar table of UTC half-hours); it checks that every count and every
   p95 agrees exactly with slang's JSON report and fails loudly if not (DuckDB's
   `quantile_disc` is floor(q (n - 1)), not nearest rank, so it is not used);
4. reports min/median/max wall time, CPU time, the slang/DuckDB ratios, and each process's
   peak RSS (`/usr/bin/time -v`, else VmHWM polled from /proc) against the bytes of the columns
   the plan reads;
5. runs slang once more in process with timers around its phases (hashing, reading, prepare,
   evaluation by objective) and per-phase memory, and once under cProfile;
6. with `--experiments`, measures what the suggested engine changes would save: the pieces
   beside their alternatives, whole audits with prototypes patched in at run time (reports
   checked byte-identical), and Arrow's memory pools. Nothing under `slang/` is modified.
   (These prototypes target the engine before the row-group ScanBuilder, 6cc1907; its
   `prepare` variants no longer change what an audit runs.)
7. with polars installed (and not `--no-polars`), runs the same numbers as a lazy Polars
   query too, checked the same way, and reports slang's ratio to it.

Usage:

    python benchmarks/audit_bench.py --quick            # 1 M rows, 2 runs: a smoke test
    python benchmarks/audit_bench.py --rows 10M         # 5 runs
    python benchmarks/audit_bench.py                    # 10 M (5 runs) and 50 M (3 runs)
    python benchmarks/audit_bench.py --rows 10M --experiments --markdown /tmp/audit.md
    python benchmarks/audit_bench.py --rows 10M --engine-duckdb  # also slang --engine duckdb

The interpreter running it needs duckdb and slang installed (pyarrow, numpy come with slang).
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
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

GEN_VERSION = 1  # bump when the generated data changes, so cached files are rewritten
SEED = 20260101
SERVICES = 50
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DAYS = 90
ZONE = "Europe/London"
HOLIDAYS = ["2026-01-01", "2026-01-02", "2026-02-16", "2026-03-30"]
BUSINESS = ("09:00", "17:30")  # mon-fri, local
DATE_FROM, DATE_TO = dt.date(2026, 1, 1), dt.date(2026, 3, 31)  # three full London months
AS_OF = "2026-06-01T00:00:00Z"
ROW_GROUP = 1 << 20
METHODS = ["GET", "POST", "PUT", "DELETE"]
GOAL_TIME_RATIO = 1.5
GOAL_MEMORY_RATIO = 2.0
US = 1_000_000
HOUR_US = 3600 * US


def service_name(i: int) -> str:
    return f"svc_{i:02d}"


def parse_rows(text: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a row count: {text}")
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


def human_rows(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else str(n)


def gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB"


# ------------------------------------------------------------------------------ data


def generate(path: Path, rows: int, seed: int = SEED) -> None:
    """Request logs, sorted by time, written chunk by chunk (~1 M rows per row group).

    Traffic follows a daily curve (busier in the European day, quieter at weekends); services
    have Zipf-like shares; each service has its own 5xx rate (some above 0.1 %) and median
    latency (lognormal, slower in business hours, some with p95 above 300 ms). All per-row work
    is numpy; Python loops run over chunks only."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    hours = DAYS * 24
    h = np.arange(hours)
    hour_of_day = h % 24
    weekday = (h // 24 + START.weekday()) % 7
    weight = 1.0 + 0.8 * np.sin((hour_of_day - 6) / 24 * 2 * np.pi)
    weight *= np.where(weekday >= 5, 0.6, 1.0)
    per_hour = rng.multinomial(rows, weight / weight.sum())
    cum = np.cumsum(per_hour)
    cuts = np.unique(np.searchsorted(cum, np.arange(ROW_GROUP, rows, ROW_GROUP)) + 1)
    bounds = [0, *[int(c) for c in cuts if c < hours], hours]

    share = 1.0 / np.arange(1, SERVICES + 1) ** 0.7
    share = rng.permutation(share / share.sum())
    fail_rate = rng.uniform(0.0001, 0.0016, SERVICES)  # 5xx: about a third breach 99.9 %
    median_ms = rng.uniform(70, 150, SERVICES)  # p95 = median * e^(1.645*0.5) ~ 2.3 median
    names = pa.array([service_name(i) for i in range(SERVICES)])
    methods = pa.array(METHODS)
    start_us = int(START.timestamp()) * US
    dst_us = int(dt.datetime(2026, 3, 29, 1, tzinfo=dt.UTC).timestamp()) * US
    schema = pa.schema([
        ("ts", pa.timestamp("us", tz="UTC")),
        ("service", pa.dictionary(pa.int32(), pa.string())),
        ("status", pa.int16()),
        ("latency_ms", pa.float64()),
        ("method", pa.dictionary(pa.int32(), pa.string())),
    ])
    tmp = path.with_suffix(".partial")
    with pq.ParquetWriter(tmp, schema, compression="snappy") as writer:
        for h0, h1 in itertools.pairwise(bounds):  # per chunk (row group)
            n = int(per_hour[h0:h1].sum())
            if n == 0:
                continue
            hour = np.repeat(np.arange(h0, h1, dtype=np.int64), per_hour[h0:h1])
            ts = start_us + hour * HOUR_US + rng.integers(0, HOUR_US, n)
            ts.sort()
            svc = rng.choice(SERVICES, n, p=share).astype(np.int32)
            u = rng.random(n)
            status = np.where(u < fail_rate[svc], 500 + (u * 1e6).astype(np.int64) % 5,
                              np.where(u < fail_rate[svc] + 0.03, 404, 200)).astype(np.int16)
            local_hour = ((ts + np.where(ts >= dst_us, HOUR_US, 0)) // HOUR_US) % 24
            busy = (local_hour >= 9) & (local_hour < 18)
            latency = median_ms[svc] * np.exp(rng.normal(0.0, 0.5, n)) * np.where(busy, 1.2, 1.0)
            latency = np.round(latency, 1)  # logged to 0.1 ms: ties, as in real logs
            meth = np.minimum(rng.geometric(0.6, n) - 1, len(METHODS) - 1).astype(np.int32)
            batch = pa.table({
                "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
                "service": pa.DictionaryArray.from_arrays(pa.array(svc), names),
                "status": pa.array(status),
                "latency_ms": pa.array(latency),
                "method": pa.DictionaryArray.from_arrays(pa.array(meth), methods),
            }, schema=schema)
            writer.write_table(batch, row_group_size=n)
    tmp.replace(path)


def data_file(cache: Path, rows: int) -> Path:
    """The cached Parquet file of `rows` rows, generated when missing or outdated."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"requests-{human_rows(rows)}-v{GEN_VERSION}-s{SEED}.parquet"
    if not path.exists():
        print(f"generating {rows:,} rows into {path} ...", flush=True)
        t0 = time.perf_counter()
        generate(path, rows)
        print(f"  done in {time.perf_counter() - t0:.1f} s, "
              f"{path.stat().st_size / 1e6:.0f} MB", flush=True)
    return path


# ------------------------------------------------------------------------------ estate

SOURCE = """\
events requests from "edge_requests" {
  time  ts
  key   service
  units { latency_ms: ms }
}
"""


def calendar_text() -> str:
    return textwrap.dedent(f"""\
        calendar london_hours {{
          timezone "{ZONE}"
          hours    mon-fri {BUSINESS[0]}-{BUSINESS[1]}
          holidays {", ".join(HOLIDAYS)}
        }}
        """)


def agreement_text(i: int) -> str:
    s = service_name(i)
    return textwrap.dedent(f"""\
        agreement {s}_sla {{
          service   {s}
          customer  "Customer {i}"
          provider  "Platform Operations"
          status    agreed
          effective 2026-01-01 .. 2026-12-31
          timezone  "{ZONE}"
          period    monthly

          objective availability {{
            indicator ratio(requests where status < 500)
            target    >= 99.9%
          }}

          objective latency {{
            indicator p95(requests.latency_ms)
            target    <= 300ms
          }}

          objective business_latency {{
            indicator p95(requests.latency_ms)
            target    <= 300ms
            hours     london_hours
          }}
        }}
        """)


def write_estate(root: Path) -> Path:
    """One catalogue, one source, one calendar and 50 agreements (5 files of 10)."""
    if root.exists():
        shutil.rmtree(root)
    (root / "agreements").mkdir(parents=True)
    (root / "slang.toml").write_text("")
    services = "\n".join(
        f'  service {service_name(i)} {{ title "Service {i}"  owner "team-{i % 7}" }}'
        for i in range(SERVICES))
    (root / "catalogue.sla").write_text(f'catalogue "Bench" {{\n{services}\n}}\n')
    (root / "sources.sla").write_text(SOURCE)
    (root / "calendars.sla").write_text(calendar_text())
    for f in range(5):
        text = "\n".join(agreement_text(i) for i in range(f * 10, f * 10 + 10))
        (root / "agreements" / f"part{f}.sla").write_text(text)
    return root


# ------------------------------------------------------------------------------ duckdb

def utc_bounds() -> tuple[str, str]:
    """The audited range, [first London midnight, last London midnight), in UTC."""
    z = ZoneInfo(ZONE)
    lo = dt.datetime.combine(DATE_FROM, dt.time(), z).astimezone(dt.UTC)
    hi = dt.datetime.combine(DATE_TO + dt.timedelta(days=1), dt.time(), z).astimezone(dt.UTC)
    return lo.strftime("%Y-%m-%d %H:%M:%S+00"), hi.strftime("%Y-%m-%d %H:%M:%S+00")


def _holiday_list() -> str:
    return ", ".join(f"DATE '{d}'" for d in HOLIDAYS)


def offset_pieces() -> list[tuple[int, int]]:
    """(UTC start in µs, London offset in µs) of each constant-offset piece of the audited
    range, from zoneinfo (hour by hour: London changes on the hour)."""
    z = ZoneInfo(ZONE)
    lo, hi = (int(dt.datetime.fromisoformat(b).timestamp()) for b in utc_bounds())
    pieces: list[tuple[int, int]] = []
    for s in range(lo, hi, 3600):
        off = int(dt.datetime.fromtimestamp(s, z).utcoffset().total_seconds()) * US
        if not pieces or pieces[-1][1] != off:
            pieces.append((s * US, off))
    return pieces


def month_starts_us() -> list[tuple[int, str]]:
    """(UTC µs, label) of each London month start in the audited range."""
    z = ZoneInfo(ZONE)
    out = []
    d = DATE_FROM.replace(day=1)
    while d <= DATE_TO:
        out.append((int(dt.datetime.combine(d, dt.time(), z).timestamp()) * US,
                    d.strftime("%Y-%m")))
        d = (d + dt.timedelta(days=32)).replace(day=1)
    return out


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _duckdb_tuned(scan: str) -> str:
    day = 86_400 * US
    months = month_starts_us()
    month = "CASE " + " ".join(f"WHEN t >= {s} THEN '{label}'" for s, label in reversed(months)) \
        + " END"
    offset = "CASE " + " ".join(f"WHEN t >= {s} THEN {o}" for s, o in reversed(offset_pieces())) \
        + " END"
    holidays = ", ".join(str((dt.date.fromisoformat(d) - dt.date(1970, 1, 1)).days)
                         for d in HOLIDAYS)
    b0, b1 = (_minutes(x) * 60 * US for x in BUSINESS)
    # 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays
    return f"""
    WITH r AS (
      SELECT service, status, latency_ms, {month} AS month, t + {offset} AS lt
      FROM (SELECT service, status, latency_ms, epoch_us(ts) AS t FROM ({scan}))
    ),
    b AS (
      SELECT service, status, latency_ms, month,
             (lt // {day} + 3) % 7 < 5 AND lt % {day} >= {b0} AND lt % {day} < {b1}
               AND lt // {day} NOT IN ({holidays}) AS business
      FROM r
    ),
    g AS (
      SELECT service, month, count(*) FILTER (WHERE status < 500) AS good, count(*) AS n,
             list(latency_ms) AS v, count(*) FILTER (WHERE business) AS bn,
             list(latency_ms) FILTER (WHERE business) AS bv
      FROM b GROUP BY ALL
    )
    SELECT service::VARCHAR, month, good, n, n, list_sort(v)[(95 * n + 99) // 100],
           bn, list_sort(bv)[(95 * bn + 99) // 100]
    FROM g ORDER BY 1, 2
    """


def duckdb_sql(path: Path, variant: str) -> str:
    """Per service and London month: good/total, the exact nearest-rank p95 of all rows and of
    the rows in business hours. The rank is ceil(0.95 n), written in integers as
    (95 n + 99) // 100 so that no binary 0.95 is involved. Three ways a person would write it:

    `plain`: every row converted to London time (`timezone()`, ~185 ns/row), month by
    `date_trunc`, business hours by `isodow` and `::TIME`, p95 by `row_number()` over
    (service, month) ordered by latency, once for all rows and once for business hours.

    `lookup`: the same windows, but the calendar folded into a table of the range's UTC
    half-hours (4,320 rows: London's offsets are whole hours and the window edges are on the
    half hour) with each one's month and business flag, joined by `epoch_us(ts) // 1800e6`.

    `tuned`: no time-zone work per row: month starts and the DST switch are constants computed
    in Python from zoneinfo (as slang computes its intervals), local time is `epoch_us(ts)` plus
    the piece's offset, business hours are integer arithmetic on it, and p95 is one hash
    aggregation with `list_sort(list(latency_ms))[rank]` (exact; 2-3x faster than the windows).
    """
    lo, hi = utc_bounds()
    scan = (f"SELECT service, status, latency_ms, ts FROM read_parquet('{path}') "
            f"WHERE ts >= TIMESTAMPTZ '{lo}' AND ts < TIMESTAMPTZ '{hi}'")
    bstart, bend = BUSINESS
    if variant == "tuned":
        return _duckdb_tuned(scan)
    if variant == "plain":
        rows = f"""
        local AS (SELECT service, status, latency_ms, timezone('{ZONE}', ts) AS lt FROM ({scan})),
        r AS (
          SELECT service, status, latency_ms, date_trunc('month', lt) AS month,
                 isodow(lt) <= 5 AND lt::TIME >= TIME '{bstart}' AND lt::TIME < TIME '{bend}'
                   AND lt::DATE NOT IN ({_holiday_list()}) AS business
          FROM local
        )"""
    else:
        rows = f"""
        slots AS (
          SELECT s AS slot, timezone('{ZONE}', to_timestamp(s * 1800)) AS lt
          FROM range(epoch(TIMESTAMPTZ '{lo}')::BIGINT // 1800,
                     epoch(TIMESTAMPTZ '{hi}')::BIGINT // 1800) t(s)
        ),
        cal AS (
          SELECT slot, date_trunc('month', lt) AS month,
                 isodow(lt) <= 5 AND lt::TIME >= TIME '{bstart}' AND lt::TIME < TIME '{bend}'
                   AND lt::DATE NOT IN ({_holiday_list()}) AS business
          FROM slots
        ),
        r AS (
          SELECT q.service, q.status, q.latency_ms, cal.month, cal.business
          FROM ({scan}) q JOIN cal ON cal.slot = epoch_us(q.ts) // 1800000000
        )"""
    return f"""
    WITH {rows.strip()},
    counts AS (
      SELECT service, month, count(*) FILTER (WHERE status < 500) AS good, count(*) AS total
      FROM r GROUP BY ALL
    ),
    ranked_all AS (
      SELECT service, month, latency_ms,
             row_number() OVER (PARTITION BY service, month ORDER BY latency_ms) AS rn,
             count(*) OVER (PARTITION BY service, month) AS n
      FROM r
    ),
    p_all AS (
      SELECT service, month, any_value(n) AS n, any_value(latency_ms) AS p95
      FROM ranked_all WHERE rn = (95 * n + 99) // 100 GROUP BY ALL
    ),
    ranked_biz AS (
      SELECT service, month, latency_ms,
             row_number() OVER (PARTITION BY service, month ORDER BY latency_ms) AS rn,
             count(*) OVER (PARTITION BY service, month) AS n
      FROM r WHERE business
    ),
    p_biz AS (
      SELECT service, month, any_value(n) AS n, any_value(latency_ms) AS p95
      FROM ranked_biz WHERE rn = (95 * n + 99) // 100 GROUP BY ALL
    )
    SELECT c.service::VARCHAR, strftime(c.month, '%Y-%m'), c.good, c.total,
           a.n, a.p95, b.n, b.p95
    FROM counts c JOIN p_all a USING (service, month) LEFT JOIN p_biz b USING (service, month)
    ORDER BY 1, 2
    """


# The DuckDB child: argv = sql file, output JSON file. Same shape as the comparison needs.
DUCKDB_CHILD = """\
import json, sys
import duckdb
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
rows = con.execute(open(sys.argv[1]).read()).fetchall()
out = [{"service": r[0], "period": r[1], "good": r[2], "total": r[3], "n": r[4], "p95": r[5],
        "biz_n": r[6], "biz_p95": r[7]} for r in rows]
json.dump(out, open(sys.argv[2], "w"))
"""


def polars_script(path: Path) -> str:
    """The same numbers with Polars (lazy, from the Parquet file), written like duckdb-tuned:
    month starts and London's offsets as constants from zoneinfo, business hours by integer
    arithmetic on local microseconds, and the exact nearest-rank p95 as the sorted group's
    element at (95 n + 99) // 100 (one-based). The child writes the JSON rows the comparison
    reads; argv: output file."""
    day = 86_400 * US
    lo, hi = utc_bounds()
    b0, b1 = (_minutes(x) * 60 * US for x in BUSINESS)
    holidays = [(dt.date.fromisoformat(d) - dt.date(1970, 1, 1)).days for d in HOLIDAYS]
    return textwrap.dedent(f"""\
        import datetime as dt, json, sys
        import polars as pl

        def piecewise(t, pieces):
            expr = None
            for start, value in pieces:
                expr = (pl.when(t >= start).then(pl.lit(value)) if expr is None
                        else pl.when(t >= start).then(pl.lit(value)).otherwise(expr))
            return expr

        lo = dt.datetime.fromisoformat({lo!r} + ":00")
        hi = dt.datetime.fromisoformat({hi!r} + ":00")
        t = pl.col("t")
        lt = pl.col("lt")
        biz = (((lt // {day} + 3) % 7 < 5) & (lt % {day} >= {b0}) & (lt % {day} < {b1})
               & ~(lt // {day}).is_in({holidays!r}))
        b = pl.col("business")
        rank = lambda n: (n * 95 + 99) // 100 - 1
        out = (
            pl.scan_parquet({str(path)!r})
            .select("ts", "service", "status", "latency_ms")
            .filter((pl.col("ts") >= lo) & (pl.col("ts") < hi))
            .with_columns(t=pl.col("ts").dt.epoch("us"))
            .with_columns(month=piecewise(t, {month_starts_us()!r}),
                          lt=t + piecewise(t, {offset_pieces()!r}))
            .with_columns(business=biz)
            .group_by("service", "month")
            .agg(good=(pl.col("status") < 500).sum(), n=pl.len(),
                 p95=pl.col("latency_ms").sort().get(rank(pl.len())),
                 bn=b.sum(),
                 bp95=pl.col("latency_ms").filter(b).sort().get(rank(b.sum())))
            .sort("service", "month")
            .collect()
        )
        rows = [{{"service": str(r["service"]), "period": r["month"], "good": r["good"],
                  "total": r["n"], "n": r["n"], "p95": r["p95"], "biz_n": r["bn"],
                  "biz_p95": r["bp95"]}} for r in out.iter_rows(named=True)]
        json.dump(rows, open(sys.argv[1], "w"))
        """)


# ------------------------------------------------------------------------------ processes


def slang_command() -> list[str]:
    """The installed `slang` script next to this interpreter, else `python -m slang`."""
    script = Path(sys.executable).parent / "slang"
    if script.exists():
        return [str(script)]
    found = shutil.which("slang")
    return [found] if found else [sys.executable, "-m", "slang"]


def slang_audit_args(estate: Path, data: Path, out: Path) -> list[str]:
    return ["audit", str(estate), "--data", f"edge_requests={data}",
            "--from", DATE_FROM.isoformat(), "--to", DATE_TO.isoformat(), "--as-of", AS_OF,
            "--format", "json", "--output", str(out), "--no-fail"]


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds of the child
    peak: int  # the child's peak RSS, bytes


TIME_V = "/usr/bin/time"


def run_measured(cmd: Sequence[str], scratch: Path, env: dict[str, str] | None = None) -> Run:
    """Run one child process and measure its own resources, not the cumulative
    getrusage(RUSAGE_CHILDREN). With GNU time (`/usr/bin/time -v`): its `Maximum resident set
    size` and user + system time. Without it: VmHWM polled from /proc while the child runs,
    and CPU from `os.wait4`. (`os.wait4`'s `ru_maxrss` alone would be wrong: Linux carries the
    forking parent's RSS high-water mark across exec into the child's.)"""
    err = scratch / "stderr.txt"
    report = scratch / "time-v.txt"
    gnu_time = os.access(TIME_V, os.X_OK)
    argv = [TIME_V, "-v", "-o", str(report), *cmd] if gnu_time else list(cmd)
    peak = 0
    with open(err, "wb") as stderr:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
        if gnu_time:
            _, status, usage = os.wait4(proc.pid, 0)
        else:
            status_file = Path(f"/proc/{proc.pid}/status")
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                try:
                    hit = re.search(r"VmHWM:\s+(\d+) kB", status_file.read_text())
                    peak = max(peak, int(hit.group(1)) * 1024 if hit else 0)
                except OSError:
                    pass
                time.sleep(0.002)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = err.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(cmd[:3])} ... failed ({proc.returncode}):\n{tail}")
    if not gnu_time:
        return Run(wall, usage.ru_utime + usage.ru_stime, peak)
    text = report.read_text()

    def field(name: str) -> float:
        hit = re.search(rf"{re.escape(name)}: ([\d.]+)", text)
        return float(hit.group(1)) if hit else 0.0

    cpu = field("User time (seconds)") + field("System time (seconds)")
    return Run(wall, cpu, int(field("Maximum resident set size (kbytes)")) * 1024)


# ------------------------------------------------------------------------------ agreement


def slang_numbers(report: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """{(service, period): good/total/n/p95/biz_n/biz_p95} from slang's JSON report."""
    doc = json.loads(report.read_text())
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in doc["results"]:
        row = out.setdefault((r["service"], r["period"]), {})
        if r["objective"] == "availability":
            row["good"], row["total"] = r["good"], r["total"]
        elif r["objective"] == "latency":
            row["n"], row["p95"] = r["total"], r["measured"]
        elif r["objective"] == "business_latency":
            row["biz_n"], row["biz_p95"] = r["total"], r["measured"]
    return out


def duck_numbers(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["service"], r["period"]): {k: r[k] for k in
                                         ("good", "total", "n", "p95", "biz_n", "biz_p95")}
            for r in json.loads(path.read_text())}


def check_agreement(cmds: dict[str, list[str]], scratch: Path, out: Out | None
                    ) -> dict[str, list[str]]:
    """Compare every DuckDB query's numbers with slang's report; print any difference."""
    ours = slang_numbers(scratch / "slang.json")
    found = {}
    for name in cmds:
        if name == "slang":
            continue
        numbers = slang_numbers if name.startswith("slang-") else duck_numbers
        problems = compare(ours, numbers(scratch / f"{name}.json"))
        found[name] = problems
        if problems:
            say = out or print
            say(f"\n**DISAGREEMENT slang vs {name}: {len(problems)} differences**")
            for p in problems[:20]:
                say(f"    {p}")
    return found


def compare(a: dict[Any, dict[str, Any]], b: dict[Any, dict[str, Any]]) -> list[str]:
    """Differences between two engines' numbers: missing rows and any unequal value (counts
    as integers, p95 as exact doubles)."""
    problems = [f"only in slang: {k}" for k in sorted(set(a) - set(b))]
    problems += [f"only in DuckDB: {k}" for k in sorted(set(b) - set(a))]
    for k in sorted(set(a) & set(b)):
        for field_ in ("good", "total", "n", "p95", "biz_n", "biz_p95"):
            x, y = a[k].get(field_), b[k].get(field_)
            if x != y:
                problems.append(f"{k} {field_}: slang {x!r} != DuckDB {y!r}")
    return problems


# ------------------------------------------------------------------------------ in process


def _proc_status() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            k, v = line.split(":")
            out[k] = int(v.split()[0]) * 1024
    return out


def _reset_hwm() -> bool:
    """Reset this process's peak RSS (Linux: write 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def phases_child(estate: Path, data: Path) -> dict[str, Any]:
    """Run `slang.audit` once in this process with timers (and peak-RSS probes) around its
    phases, by wrapping module functions; nothing in slang is modified on disk."""
    import pyarrow as pa

    import slang
    import slang.engine.arrow as ar
    import slang.engine.audit as au
    import slang.engine.data as dm
    import slang.engine.intervals as iv
    from slang.report.render import RENDERERS

    times: dict[str, float] = {}
    calls: dict[str, int] = {}
    memory: dict[str, dict[str, int]] = {}
    captured: dict[str, Any] = {}  # what the first read_source returned (sizes only)
    hwm_ok = _reset_hwm()

    def wrap(owner: Any, name: str, label: str, track_memory: bool = False,
             by: Callable[..., str] | None = None) -> None:
        fn = getattr(owner, name, None)
        if fn is None:  # the engine changed under the benchmark: time what still exists
            times[label + " (not found)"] = 0.0
            return

        def timed(*args: Any, **kwargs: Any) -> Any:
            key = label + (by(*args) if by else "")
            if track_memory:
                _reset_hwm()
            t0 = time.perf_counter()
            try:
                result = fn(*args, **kwargs)
                if label == "read_source" and label not in captured:  # not the table itself
                    t = result.table
                    captured[label] = (t.column_names, t.nbytes, t.num_rows)
                return result
            finally:
                times[key] = times.get(key, 0.0) + time.perf_counter() - t0
                calls[key] = calls.get(key, 0) + 1
                if track_memory:
                    st = _proc_status()
                    memory[key] = {"rss_after": st.get("VmRSS", 0),
                                   "peak": st.get("VmHWM", 0),
                                   "arrow_allocated": pa.total_allocated_bytes()}
        setattr(owner, name, timed)

    wrap(dm, "read_source", "read_source", track_memory=True)
    wrap(dm, "sha256_file", "read_source > sha256 (thread, overlaps reading)")
    wrap(dm, "_read_all", "read_source > decode, normalise, filter, key order (per row group)")
    wrap(dm, "_range_mask", "read_source > time-range mask")
    wrap(dm, "_skip", "read_source > null checks (_skip)")
    wrap(dm._EventCoverage, "add", "read_source > coverage (per row group)")
    wrap(ar.ScanBuilder, "add", "read_source > ScanBuilder.add (radix sort of a row group by key)")
    wrap(ar.ScanBuilder, "finish", "prepare: ScanBuilder.finish (key slices, time array)",
         track_memory=True)
    wrap(ar.Executor, "measure", "measure: ", by=lambda self, ev, p: ev.objective.name)
    wrap(ar.Executor, "counted", "measure > counted time (hours, exclusions)")
    wrap(ar.Executor, "mask", "measure > condition masks (cached per key)")
    wrap(iv, "contains", "measure > iv.contains (searchsorted of ts)")
    wrap(ar, "_column_values", "measure > _column_values (slice to float64)")
    wrap(ar, "_percentile", "measure > _percentile (np.partition)")
    wrap(au, "evaluate_result", "evaluate_result (status, budget)")

    base = _proc_status()
    t0 = time.perf_counter()
    model = slang.load([estate])
    times["load estate (parse, check)"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    _reset_hwm()
    report = au.audit(model, {"edge_requests": str(data)},
                      choice=au.PeriodChoice(None, DATE_FROM, DATE_TO),
                      as_of=dt.datetime.fromisoformat(AS_OF.replace("Z", "+00:00")))
    times["audit (total)"] = time.perf_counter() - t1
    st = _proc_status()
    memory["audit (total)"] = {"rss_after": st["VmRSS"], "peak": st["VmHWM"],
                               "arrow_allocated": pa.total_allocated_bytes()}
    t2 = time.perf_counter()
    RENDERERS["json"](report)
    times["render JSON"] = time.perf_counter() - t2
    names, nbytes, nrows = captured["read_source"]
    return {
        "times": times, "calls": calls, "memory": memory, "hwm_reset": hwm_ok,
        "baseline_rss": base.get("VmRSS", 0), "results": len(report.results),
        "columns": names, "column_bytes": nbytes, "rows": nrows,
        "arrow_pool": pa.default_memory_pool().backend_name,
    }


def profile_child(estate: Path, data: Path, top: int) -> str:
    """cProfile of `slang.audit` (not the load), top functions by own time."""
    import cProfile
    import io
    import pstats

    import slang
    import slang.engine.audit as au
    import slang.engine.data  # imported lazily by audit: keep the imports out of the profile

    model = slang.load([estate])
    prof = cProfile.Profile()
    prof.enable()
    au.audit(model, {"edge_requests": str(data)}, choice=au.PeriodChoice(None, DATE_FROM, DATE_TO),
             as_of=dt.datetime.fromisoformat(AS_OF.replace("Z", "+00:00")))
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# ------------------------------------------------------------------------------ experiments
#
# What the suggestions in the report would save, measured on the same data, so that the engine
# owner can check them. Nothing here changes slang: the alternatives are prototypes that live in
# this file, and each whole-audit variant runs in a fresh process whose report must be
# byte-identical to the unmodified audit's.


def _as_of() -> dt.datetime:
    return dt.datetime.fromisoformat(AS_OF.replace("Z", "+00:00"))


def _prepare_radix(source: Any, table: Any) -> Any:
    """A prototype of `prepare` for time-sorted logs: when `__t` is already non-decreasing
    (the usual case, checked in one pass), a *stable* sort by the key code alone gives the same
    order as `lexsort((t, codes))`, and numpy sorts 8/16-bit integers by radix in O(n). The key
    ranges come from `bincount`, so `codes[order]` is not needed; `__key` is not copied (the
    ranges say it)."""
    import numpy as np
    import pyarrow as pa

    import slang.engine.arrow as ar

    if source.key_column is None or "__key" not in table.column_names:
        return ar.prepare(source, table)
    t = ar._ints(table.column("__t" if source.kind == "events" else "__start"))
    keys = table.column("__key").combine_chunks()
    dictionary = keys.dictionary.to_pylist()
    codes = keys.indices.to_numpy(zero_copy_only=False)
    if len(t) > 1 and not bool((t[1:] >= t[:-1]).all()):
        return ar.prepare(source, table)
    narrow = np.uint8 if len(dictionary) <= 1 << 8 else np.uint16 if len(dictionary) <= 1 << 16 \
        else codes.dtype
    order = np.argsort(codes.astype(narrow, copy=False), kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(dictionary)))])
    ranges = {d: (int(bounds[i]), int(bounds[i + 1])) for i, d in enumerate(dictionary)}
    sorted_table = table.drop_columns(["__key"]).take(pa.array(order))
    return ar.PreparedScan(source, sorted_table, ranges, t[order])


VARIANTS = {
    "as is": "the unmodified audit",
    "release": "pa.default_memory_pool().release_unused() after read_source and after prepare",
    "radix": "prepare by stable radix argsort of the key code (time already sorted), no __key "
             "copy",
    "radix+release": "both",
}


def variant_child(estate: Path, data: Path, variant: str) -> dict[str, Any]:
    """One whole audit in this fresh process, with a prototype patched in; its time, peak RSS
    and the SHA-256 of its JSON report."""
    import hashlib

    import pyarrow as pa

    import slang
    import slang.engine.audit as au
    import slang.engine.data as dm
    from slang.report.render import RENDERERS

    pool = pa.default_memory_pool()
    if "radix" in variant:
        au.prepare = _prepare_radix  # type: ignore[assignment]
    if "release" in variant:
        def released(fn: Callable[..., Any]) -> Callable[..., Any]:
            def call(*args: Any, **kwargs: Any) -> Any:
                result = fn(*args, **kwargs)
                pool.release_unused()
                return result
            return call
        dm.read_source = released(dm.read_source)  # type: ignore[assignment]
        au.prepare = released(au.prepare)  # type: ignore[assignment]
    model = slang.load([estate])
    _reset_hwm()
    t0 = time.perf_counter()
    report = au.audit(model, {"edge_requests": str(data)},
                      choice=au.PeriodChoice(None, DATE_FROM, DATE_TO), as_of=_as_of())
    seconds = time.perf_counter() - t0
    peak = _proc_status()["VmHWM"]
    text = RENDERERS["json"](report)
    return {"seconds": seconds, "peak": peak, "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "pool": pool.backend_name}


def kernels_child(estate: Path, data: Path) -> list[list[str]]:
    """The pieces of the audit and their alternatives, timed one by one (best of 3) on the
    canonical table: [what, seconds, note]."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    import slang
    import slang.engine.arrow as ar
    import slang.engine.audit as au
    import slang.engine.data as dm
    import slang.engine.intervals as iv
    from slang.engine.calendar_time import to_us
    from slang.engine.periods import select_periods

    rows: list[list[str]] = []

    def timed(what: str, fn: Callable[[], Any], note: str = "", best_of: int = 3) -> Any:
        """Best time of a few runs, and the most RSS grew above where it started."""
        best, extra, result = float("inf"), 0, None
        for _ in range(best_of):
            result = None
            before = _proc_status()["VmRSS"]
            _reset_hwm()
            t0 = time.perf_counter()
            result = fn()
            best = min(best, time.perf_counter() - t0)
            extra = max(extra, _proc_status()["VmHWM"] - before)
        rows.append([what, f"{best:.3f}", gb(extra), note])
        return result

    model = slang.load([estate])
    agreements = au.audited_agreements(model, False)
    plan = au.build_plan(model, agreements)
    scan = plan.scans[0]
    src = scan.source
    as_of_us = to_us(_as_of())
    periods = {a.name: select_periods(a, as_of=_as_of(), date_from=DATE_FROM, date_to=DATE_TO)
               for a in agreements}
    spans = [p for ps in periods.values() for p in ps]
    time_range = (min(p.start_us for p in spans), max(p.end_us for p in spans))
    columns = set(scan.columns)

    # reading
    bound = timed("read_source as is (decode, checks, filter, coverage, sha256 in a thread)",
                  lambda: dm.read_source(src, str(data), columns, as_of_us=as_of_us,
                                         time_range_us=time_range), best_of=2)
    table = bound.table
    size = data.stat().st_size
    names = [src.time_column, src.key_column, *sorted(columns)]
    timed("  pq.read_table of the 4 columns: the decode floor", lambda: pq.read_table(
        data, columns=names), best_of=2)
    pf = pq.ParquetFile(data, read_dictionary=[src.key_column])
    timed("  ... row group by row group (ParquetFile.read_row_group, concat_tables)",
          lambda: pa.concat_tables([pf.read_row_group(i, columns=names)
                                    for i in range(pf.num_row_groups)]), best_of=2)
    sha = timed("  sha256 of the file alone", lambda: dm.sha256_file(data), best_of=1)
    rows[-1][3] = f"{size / float(rows[-1][1]) / 1e6:.0f} MB/s; {sha[:12]}..."
    mask = dm._range_mask(table, src, time_range)
    timed("  time-range filter: table.filter(mask) as is", lambda: table.filter(mask),
          "a full copy of the table, though the Parquet scan applied the same filter")
    timed("  ... alternative: pc.all(mask) first, filter only when false", lambda: pc.all(mask),
          f"all true here: {pc.all(mask).as_py()}")
    timed("  coverage as is (concatenate __t, np.diff)", lambda: dm.coverage(table, src, as_of_us))

    # prepare
    timed("prepare as is", lambda: ar.prepare(src, table), best_of=2)
    t = ar._ints(table.column("__t"))
    keys = table.column("__key").combine_chunks()
    codes = keys.indices.to_numpy(zero_copy_only=False)
    order = timed("  np.lexsort((t, codes))", lambda: np.lexsort((t, codes)), best_of=2)
    timed("  is __t already sorted? (t[1:] >= t[:-1]).all()", lambda: (t[1:] >= t[:-1]).all())
    small = codes.astype(np.uint8)
    radix = timed("  np.argsort(codes as uint8, kind='stable'): radix sort",
                  lambda: np.argsort(small, kind="stable"))
    rows[-1][3] = f"same permutation as lexsort: {np.array_equal(order, radix)}"
    timed("  table.take(order): 4 columns (as is)", lambda: table.take(pa.array(order)), best_of=2)
    timed("  table.take(order) without __key", lambda: table.drop_columns(["__key"]).take(
        pa.array(order)), best_of=2)
    timed("  prototype prepare (radix, no __key copy)", lambda: _prepare_radix(src, table),
          best_of=2)

    # evaluation
    prepared = ar.prepare(src, table)
    ex = ar.Executor({src.id: prepared}, as_of_us)
    pairs = [(ev, p) for ev in plan.evaluations for p in periods[ev.agreement.name]]
    timed(f"Executor.counted for all {len(pairs)} (objective, period)",
          lambda: [ex.counted(ev, p, p.end_us) for ev, p in pairs])
    distinct = {(ev.objective.hours.id if ev.objective.hours else None, p.start_us): (ev, p)
                for ev, p in pairs}
    timed(f"  ... once per distinct (hours, period): {len(distinct)}",
          lambda: [ex.counted(ev, p, p.end_us) for ev, p in distinct.values()])
    ev, p = pairs[0]
    lo, hi = prepared.rows(ev.agreement.service.key)
    t_key = prepared.time[lo:hi]
    a = int(np.searchsorted(t_key, p.start_us))
    b = int(np.searchsorted(t_key, p.end_us))
    one = iv.Intervals.span(p.start_us, p.end_us)
    n = len(pairs)
    timed(f"iv.contains on one service-month, one interval, x {n} calls",
          lambda: [iv.contains(one, t_key[a:b]) for _ in range(n)],
          f"{b - a:,} rows per call")
    timed("  ... fast path: a single interval covering the slice -> np.ones",
          lambda: [np.ones(b - a, bool) for _ in range(n)])
    vals = prepared.table.column("latency_ms").slice(lo, hi - lo).combine_chunks().to_numpy()
    timed(f"np.partition of one service-month's latencies x {n}",
          lambda: [np.partition(vals[a:b], (b - a) * 95 // 100) for _ in range(n)])
    return rows


# ------------------------------------------------------------------------------ reporting


IMPORTED = ["slang.cli", "slang.engine.audit", "slang.engine.data", "slang.report.render"]


def import_times(top: int = 10) -> list[tuple[str, float]]:
    """The slowest imports (cumulative, seconds) of what `slang audit` loads, from
    `python -X importtime`."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           "import " + ", ".join(IMPORTED)], capture_output=True, text=True)
    rows = []
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|(\s*)(\S+)", line)
        if m and len(m.group(2)) <= 3:  # top-level and first-level imports
            rows.append((m.group(3), int(m.group(1)) / 1e6))
    return sorted(rows, key=lambda r: -r[1])[:top]


def summary(values: Sequence[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


class Out:
    """Prints and keeps the lines for the optional markdown file."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)


def column_bytes_estimate(data: Path, columns: Sequence[str]) -> int:
    """Arrow bytes of the plan's columns as read (fixed-width: rows x width; dictionary columns
    by their index width), from the Parquet schema without reading data."""
    import pyarrow.parquet as pq

    f = pq.ParquetFile(data)
    schema = f.schema_arrow
    width = 0
    for c in columns:
        t = schema.field(c).type
        t = t.index_type if hasattr(t, "index_type") else t
        width += t.bit_width // 8
    return f.metadata.num_rows * width


def bench_size(rows: int, runs: int, cache: Path, scratch: Path, estate: Path, out: Out,
               variants: Sequence[str], profile_top: int, experiments: bool = False,
               engines: bool = False,
               with_polars: bool = False) -> dict[str, Any]:
    data = data_file(cache, rows)
    sql_files = {}
    for v in variants:
        sql_files[v] = scratch / f"q-{v}.sql"
        sql_files[v].write_text(duckdb_sql(data, v))
    child = scratch / "duck_child.py"
    child.write_text(DUCKDB_CHILD)
    cmds: dict[str, list[str]] = {
        "slang": [*slang_command(), *slang_audit_args(estate, data, scratch / "slang.json")]}
    if engines:  # slang's SQL engine on DuckDB: the same report, read from disk by DuckDB
        cmds["slang-duckdb"] = [*slang_command(), *slang_audit_args(
            estate, data, scratch / "slang-duckdb.json"), "--engine", "duckdb"]
    for v in variants:
        name = f"duckdb-{v}"
        cmds[name] = [sys.executable, str(child), str(sql_files[v]), str(scratch / f"{name}.json")]
    if with_polars:
        script = scratch / "polars_child.py"
        script.write_text(polars_script(data))
        cmds["polars"] = [sys.executable, str(script), str(scratch / "polars.json")]

    out(f"\n## {rows:,} rows ({data.stat().st_size / 1e6:.0f} MB Parquet, {runs} runs each, "
        "alternating)\n")
    load_before = os.getloadavg()
    # one warm-up each (page cache, imports' .pyc), not counted; its numbers are checked now
    for cmd in cmds.values():
        run_measured(cmd, scratch)
    agreement = check_agreement(cmds, scratch, out)
    if any(agreement.values()):
        return {"agreement": agreement}
    runs_of: dict[str, list[Run]] = {k: [] for k in cmds}
    loads: list[float] = []
    for _ in range(runs):
        for name, cmd in cmds.items():
            runs_of[name].append(run_measured(cmd, scratch))
            loads.append(os.getloadavg()[0])
    load_after = os.getloadavg()
    agreement = check_agreement(cmds, scratch, None)  # the last run's reports too

    # baselines: interpreter + imports only
    base = {"slang": run_measured([sys.executable, "-c", "import " + ", ".join(IMPORTED)],
                                  scratch),
            "duckdb": run_measured([sys.executable, "-c", "import duckdb"], scratch)}
    if with_polars:
        base["polars"] = run_measured([sys.executable, "-c", "import polars"], scratch)

    import slang
    from slang.engine.audit import audited_agreements
    from slang.plan.plan import build_plan

    model = slang.load([estate])
    plan = build_plan(model, audited_agreements(model, False))
    scan = plan.scans[0]
    src = scan.source
    plan_columns = [src.time_column, src.key_column, *scan.columns]
    col_bytes = column_bytes_estimate(data, plan_columns)

    walls = {k: [r.wall for r in v] for k, v in runs_of.items()}
    out("| process | wall median s | min | max | slang / it | CPU median s | slang / it | "
        "peak RSS | peak - imports | peak / column bytes |")
    out("|---|---|---|---|---|---|---|---|---|---|")
    med_slang = statistics.median(walls["slang"])
    cpu_slang = statistics.median(r.cpu for r in runs_of["slang"])
    peak_slang = max(r.peak for r in runs_of["slang"])
    for name, rs in runs_of.items():
        lo, med, hi = summary(walls[name])
        cpu = statistics.median(r.cpu for r in rs)
        peak = max(r.peak for r in rs)
        b = base["slang" if name.startswith("slang") else
                 name if name == "polars" else "duckdb"].peak
        ratio, cratio = ("", "") if name == "slang" else (f"{med_slang / med:.2f}",
                                                        f"{cpu_slang / cpu:.2f}")
        out(f"| {name} | {med:.3f} | {lo:.3f} | {hi:.3f} | {ratio} | {cpu:.3f} | {cratio} | "
            f"{gb(peak)} | {gb(peak - b)} | {peak / col_bytes:.2f} "
            f"({(peak - b) / col_bytes:.2f} net) |")
    for name, r in base.items():
        out(f"| (imports only: {name}) | {r.wall:.3f} | | | | {r.cpu:.3f} | | {gb(r.peak)} | | |")
    out()
    out(f"columns the plan reads: {', '.join(plan_columns)} = {col_bytes / rows:.0f} B/row, "
        f"{gb(col_bytes)} in Arrow")
    out(f"load average (1/5/15 min) before: {load_before[0]:.2f} {load_before[1]:.2f} "
        f"{load_before[2]:.2f}; during runs (1 min): {min(loads):.2f}-{max(loads):.2f}; after: "
        f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} "
        f"({os.cpu_count()} CPUs; each engine itself uses up to 2)")
    keys = len(slang_numbers(scratch / "slang.json"))
    for name, problems in agreement.items():
        if not problems:
            out(f"numbers: slang and {name} agree exactly on {keys} (service, month) rows: good, "
                "total, n and p95 of all rows and of business hours")
    duck = {name: statistics.median(walls[name]) for name in cmds if name.startswith("duckdb")}
    fastest = min(duck, key=duck.__getitem__)
    goals = {
        "time": med_slang / duck[fastest],
        "memory": peak_slang / col_bytes,
        "memory_net": (peak_slang - base["slang"].peak) / col_bytes,
    }
    out(f"goal slang within {GOAL_TIME_RATIO}x of DuckDB's time (its fastest exact query, "
        f"{fastest}): {'met' if goals['time'] <= GOAL_TIME_RATIO else 'MISSED'} "
        f"({goals['time']:.2f}x; " + ", ".join(
            f"{med_slang / v:.2f}x of {k}" for k, v in duck.items()) + ")")
    if "polars" in walls:
        pol = statistics.median(walls["polars"])
        pol_cpu = statistics.median(r.cpu for r in runs_of["polars"])
        out(f"slang against Polars (the same numbers, lazy from Parquet): {med_slang / pol:.2f}x "
            f"wall, {cpu_slang / pol_cpu:.2f}x CPU")
    out(f"goal slang peak memory under {GOAL_MEMORY_RATIO}x the column bytes: "
        f"{'met' if goals['memory'] <= GOAL_MEMORY_RATIO else 'MISSED'} "
        f"({goals['memory']:.2f}x; {goals['memory_net']:.2f}x above the imports)")

    # in-process phases and profile, each in a fresh process
    me = [sys.executable, str(Path(__file__).resolve())]
    done = subprocess.run([*me, "--child-phases", str(estate), str(data)], capture_output=True,
                          text=True)
    if done.returncode != 0:  # e.g. the engine changed under the wrappers: say so, go on
        out(f"\n(in-process phases failed: {done.stderr.strip().splitlines()[-1:]})")
        return {"runs": runs_of, "agreement": agreement, "goals": goals}
    ph = json.loads(done.stdout)
    out("\n### slang in process: where the time goes\n")
    total = ph["times"]["audit (total)"]
    out(f"`slang.audit` took {total:.3f} s in process (the whole process: "
        f"{med_slang:.3f} s; imports and interpreter: {base['slang'].wall:.3f} s).\n")
    out("| phase | seconds | share of audit | calls |")
    out("|---|---|---|---|")
    for k in sorted(ph["times"], key=_phase_rank):
        v = ph["times"][k]
        share = f"{v / total:.0%}" if k not in ("load estate (parse, check)", "render JSON") \
            else "(outside)"
        out(f"| {k} | {v:.3f} | {share} | {ph['calls'].get(k, 1)} |")
    out(f"\n(Arrow memory pool: {ph['arrow_pool']}; the sha256 thread runs while the "
        "Parquet file is decoded, so its time overlaps `read_source`'s)")
    out("\n### slang in process: memory (peak RSS within each phase; HWM reset "
        f"{'works' if ph['hwm_reset'] else 'UNAVAILABLE: peaks are since start'})\n")
    out(f"baseline RSS after imports: {gb(ph['baseline_rss'])}; canonical table "
        f"({', '.join(ph['columns'])}): {gb(ph['column_bytes'])} for {ph['rows']:,} rows")
    out("| phase | peak RSS | RSS after | Arrow allocated after |")
    out("|---|---|---|---|")
    for k, v in ph["memory"].items():
        out(f"| {k} | {gb(v['peak'])} | {gb(v['rss_after'])} | {gb(v['arrow_allocated'])} |")
    prof = ""
    if profile_top:
        done = subprocess.run([*me, "--child-profile", str(estate), str(data),
                               str(profile_top)], capture_output=True, text=True)
        prof = done.stdout
        out("\n### cProfile of slang.audit (top by own time, then cumulative)\n")
        out("```")
        for line in _trim_profile(prof):
            out(line)
        out("```")
    if experiments:
        run_experiments(me, estate, data, cmds["slang"], scratch, out)
    return {"runs": runs_of, "agreement": agreement, "phases": ph,
            "column_bytes": col_bytes, "goals": goals}


PHASE_ORDER = ["load estate", "audit (total)", "read_source", "prepare", "measure:",
               "measure >", "evaluate_result", "render"]


def _phase_rank(label: str) -> tuple[int, str]:
    rank = next((i for i, p in enumerate(PHASE_ORDER) if label.startswith(p)), len(PHASE_ORDER))
    sub = 0 if label == "read_source" else 1
    return rank, f"{sub}{label}"


def run_experiments(me: list[str], estate: Path, data: Path, slang_cmd: list[str],
                    scratch: Path, out: Out) -> None:
    """What the suggestions would save: kernels one by one, whole audits with prototypes
    patched in (each in a fresh process, report checked byte-identical), and `slang audit`
    under Arrow's other memory pools."""
    def child(*argv: str) -> Any:
        """A child's JSON answer; None (and its error shown) when it failed, e.g. because an
        engine function these prototypes lean on has changed."""
        done = subprocess.run([*me, *argv], capture_output=True, text=True)
        if done.returncode != 0:
            out(f"\n(experiment {argv[0]} failed: {done.stderr.strip().splitlines()[-1:]})")
            return None
        return json.loads(done.stdout)

    kernels = child("--child-kernels", str(estate), str(data))
    out("\n### Experiments: the pieces and their alternatives (in process, best of 2-3)\n")
    out("Peak RSS growth is a lower bound: memory the Arrow pool kept from an earlier step is "
        "reused without growing RSS.\n")
    out("| what | seconds | peak RSS growth | note |")
    out("|---|---|---|---|")
    for what, sec, extra, note in kernels or []:
        out(f"| {what} | {sec} | {extra} | {note} |")
    out("\n### Experiments: whole audits with a prototype patched in (fresh process each, "
        "3 runs interleaved)\n")
    out("| variant | audit s, min | median | peak RSS, min | report identical | what |")
    out("|---|---|---|---|---|---|")
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in VARIANTS}
    for _ in range(3):  # interleaved, as the engines are
        for name in VARIANTS:
            answer = child("--child-variant", str(estate), str(data), name)
            if answer is not None:
                results[name].append(answer)
    reference = results["as is"][0]["sha256"] if results["as is"] else None
    for name, what in VARIANTS.items():
        rs = results[name]
        if not rs:
            continue
        same = "yes" if all(r["sha256"] == reference for r in rs) else "**NO**"
        secs = [r["seconds"] for r in rs]
        out(f"| {name} | {min(secs):.3f} | {statistics.median(secs):.3f} | "
            f"{gb(min(r['peak'] for r in rs))} | {same} | {what} |")
    out("\n`slang audit` (whole process, unmodified) under each Arrow memory pool, best of 2:\n")
    out("| ARROW_DEFAULT_MEMORY_POOL | wall s | CPU s | peak RSS |")
    out("|---|---|---|---|")
    for pool in ("mimalloc", "jemalloc", "system"):
        env = {**os.environ, "ARROW_DEFAULT_MEMORY_POOL": pool}
        try:
            runs = [run_measured(slang_cmd, scratch, env) for _ in range(2)]
        except RuntimeError as exc:
            out(f"| {pool} | failed: {str(exc).splitlines()[0]} | | |")
            continue
        out(f"| {pool} | {min(r.wall for r in runs):.3f} | {min(r.cpu for r in runs):.3f} | "
            f"{gb(min(r.peak for r in runs))} |")


def _trim_profile(text: str) -> list[str]:
    """pstats output without its path prefixes, to keep lines readable."""
    lines = []
    for line in text.splitlines():
        line = re.sub(r"/\S*/(site-packages|lib/python3\.\d+)/", "", line)
        line = line.replace(str(Path(__file__).resolve().parents[1]) + "/", "")
        if line.strip():
            lines.append(line.rstrip())
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=parse_rows, action="append",
                        help="rows to generate and audit (10M, 50M, 1.5M, 200k); repeatable; "
                        "default 10M and 50M")
    parser.add_argument("--runs", type=int, help="runs per engine (default 5 up to 10 M rows, "
                        "3 above)")
    parser.add_argument("--quick", action="store_true", help="1 M rows, 2 runs: a smoke test")
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "slang-audit-bench",
                        help="where generated Parquet files are kept between runs")
    parser.add_argument("--duckdb", default="plain,tuned",
                        help="comma-separated DuckDB queries to run: plain, lookup, tuned "
                        "(default plain,tuned; see duckdb_sql)")
    parser.add_argument("--no-polars", action="store_true",
                        help="leave out the Polars query (run when polars is installed)")
    parser.add_argument("--profile-top", type=int, default=25,
                        help="functions shown from cProfile (0: no profile run)")
    parser.add_argument("--markdown", type=Path, help="also write the figures to this file")
    parser.add_argument("--child-phases", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--engine-duckdb", dest="engines", action="store_true",
                        help="also time `slang audit --engine duckdb` (its report is checked "
                        "against the Arrow engine's numbers)")
    parser.add_argument("--experiments", action="store_true",
                        help="also measure the alternatives the report suggests (prototypes "
                        "patched in at run time, memory pools); adds a few minutes")
    parser.add_argument("--child-profile", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--child-kernels", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-variant", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child_phases:
        print(json.dumps(phases_child(*args.child_phases)))
        return 0
    if args.child_kernels:
        print(json.dumps(kernels_child(*args.child_kernels)))
        return 0
    if args.child_variant:
        estate, data, name = args.child_variant
        print(json.dumps(variant_child(Path(estate), Path(data), name)))
        return 0
    if args.child_profile:
        estate, data, top = args.child_profile
        print(profile_child(Path(estate), Path(data), int(top)))
        return 0

    try:
        import duckdb
    except ImportError:
        print("duckdb is not installed for this interpreter: pip install duckdb", file=sys.stderr)
        return 2
    sizes = [1_000_000] if args.quick else (args.rows or [10_000_000, 50_000_000])
    variants = [v.strip() for v in args.duckdb.split(",") if v.strip()]
    if not variants or set(variants) - {"plain", "lookup", "tuned"}:
        parser.error("--duckdb takes plain, lookup and/or tuned")
    import numpy
    import pyarrow

    try:
        import polars
        with_polars = not args.no_polars
    except ImportError:
        polars = None
        with_polars = False

    out = Out()
    out("# slang audit vs DuckDB\n")
    out(f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"pyarrow {pyarrow.__version__}, numpy {numpy.__version__}, duckdb {duckdb.__version__}"
        + (f", polars {polars.__version__}" if with_polars and polars else "")
        + f"; {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    out(f"estate: {SERVICES} agreements x 3 objectives (availability, p95, business-hours p95), "
        f"monthly in {ZONE}, {DATE_FROM} .. {DATE_TO}: {SERVICES * 9} results")
    out("\nslowest imports of `slang audit` (python -X importtime, cumulative): " + ", ".join(
        f"{name} {sec:.3f} s" for name, sec in import_times()))
    status = 0
    with tempfile.TemporaryDirectory(prefix="slang-audit-bench-") as tmp:
        scratch = Path(tmp)
        estate = write_estate(scratch / "estate")
        for rows in sizes:
            runs = args.runs or (2 if args.quick else 5 if rows <= 10_000_000 else 3)
            res = bench_size(rows, runs, args.cache, scratch, estate, out, variants,
                             args.profile_top, args.experiments, args.engines, with_polars)
            if any(res["agreement"].values()):
                status = 1
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text("\n".join(out.lines) + "\n")
    if status:
        print("\nFAILED: slang and DuckDB disagree (see above)", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
