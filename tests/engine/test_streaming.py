"""A streamed Arrow audit (data partitioned by key into spill files, bucket by bucket) gives
the report of an in-memory audit, byte for byte.

A budget below what the process takes anyway (`--memory-limit 1MB`) streams every keyed
events source with each key in its own bucket: the finest split, so every test here that
forces streaming exercises the partitioning as hard as it can be.
"""

from __future__ import annotations

import datetime as dt
import errno
import gc
import os
import random
import signal
import tempfile
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import slang
from slang.diagnostics import SlangError
from slang.engine import budget, spill, streaming
from slang.engine.arrow import Executor
from slang.engine.audit import PeriodChoice, audit
from slang.engine.budget import bucket_count, fits_in_memory, memory_budget, parse_size
from slang.engine.data import estimate_source
from slang.engine.options import EngineOptions
from slang.engine.spill import merged_extent

from .test_reference import (
    EVENT_SCHEMA,
    INCIDENT_SCHEMA,
    MAINTENANCE_SCHEMA,
    SETTINGS,
    Case,
    cases,
    write_table,
)

STREAM = EngineOptions(memory_limit="1MB")
US = 1_000_000


def both(model: slang.Model, data: dict[str, Any], **kw: Any) -> tuple[str, str]:
    """The JSON report in memory and streamed."""
    memory = audit(model, data, **kw).to_json()
    streamed = audit(model, data, engine_options=STREAM, **kw).to_json()
    return memory, streamed


# ------------------------------------------------------------------------- drawn estates


def case_data(case: Case, d: Path) -> tuple[slang.Model, dict[str, Any]]:
    (d / "policy.sla").write_text(case.text())
    write_table(case.events, EVENT_SCHEMA, d / "requests.parquet")
    write_table(case.incidents, INCIDENT_SCHEMA, d / "incidents.parquet")
    write_table(case.maintenance, MAINTENANCE_SCHEMA, d / "maintenance.parquet")
    model = slang.load([str(d / "policy.sla")])
    assert not model.errors, [str(e) for e in model.errors]
    return model, {t: d / f"{t}.parquet" for t in ("requests", "incidents", "maintenance")}


@settings(parent=SETTINGS, max_examples=25)
@given(cases("events") | cases("slices") | cases("uptime"))
def test_reference_cases_stream_to_the_same_report(case: Case) -> None:
    """The reference tests' drawn agreements (every indicator kind, exclusions, hours, DST),
    with rows of another service and rows without a key or a time."""
    with tempfile.TemporaryDirectory() as tmp:
        model, data = case_data(case, Path(tmp))
        choice = PeriodChoice(date_from=case.date_from, date_to=case.date_to)
        memory, streamed = both(model, data, choice=choice, as_of=case.as_of)
        assert streamed == memory, case.describe()


SERVICES = ["alpha", "beta", "gamma", "delta"]
KEYS = [*SERVICES, "unaudited", None]  # rows of an unaudited service, rows without a key


def estate_text(services: list[str]) -> str:
    catalogue = " ".join(f'service {s} {{ title "{s}" }}' for s in SERVICES)
    out = [f'catalogue "Keys" {{ {catalogue} }}',
           'events requests from "requests" { time ts key service units { latency_ms: ms } }',
           'intervals incidents from "incidents" { start start end end key service }']
    for s in services:
        out.append(f"""agreement {s}_sla {{
  service {s}
  status agreed
  timezone "Europe/London"
  period monthly
  exclude incidents where severity == "planned"
  objective ok {{ indicator ratio(requests where status < 500)  target >= 99% }}
  objective fast {{ indicator p90(requests.latency_ms)  target <= 200ms }}
  objective mean {{ indicator mean(requests.latency_ms)  target <= 150ms }}
  objective slices {{
    indicator timeslices(6h, p50(requests.latency_ms) <= 120ms, empty: skip)
    target >= 50%
  }}
}}""")
    return "\n".join(out) + "\n"


@st.composite
def keyed_estates(draw: st.DrawFn) -> dict[str, Any]:
    """Several services' request logs over two London months, in 1-3 files of several row
    groups, in time order or not, with unaudited keys, null keys and null times."""
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(0, 400))
    ordered = draw(st.booleans())
    start = int(dt.datetime(2026, 10, 1, tzinfo=dt.UTC).timestamp()) * US
    span = 61 * 86400 * US
    times = [start - 3600 * US + rnd.randrange(span) for _ in range(n)]
    if ordered:
        times.sort()
    rows = [{
        "ts": None if rnd.random() < 0.03 else dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        + dt.timedelta(microseconds=t),
        "service": rnd.choices(KEYS, weights=(40, 25, 15, 5, 10, 5))[0],
        "status": rnd.choice([200, 200, 200, 404, 500, None]),
        "latency_ms": rnd.choice([rnd.uniform(1, 400), 100.0, float("nan"), None]),
        "method": "GET",
    } for t in times]
    files = draw(st.integers(1, 3))
    cuts = sorted(rnd.randrange(n + 1) for _ in range(files - 1))
    parts = [rows[a:b] for a, b in zip([0, *cuts], [*cuts, n], strict=True)]
    audited = draw(st.lists(st.sampled_from(SERVICES), min_size=1, max_size=4, unique=True))
    incidents = [{"start": dt.datetime(2026, 10, 3, tzinfo=dt.UTC),
                  "end": dt.datetime(2026, 10, 3, 6, tzinfo=dt.UTC),
                  "service": s, "severity": "planned"} for s in audited[:2]]
    return {"parts": parts, "services": audited, "incidents": incidents,
            "row_group": draw(st.integers(1, 64))}


@settings(parent=SETTINGS, max_examples=30)
@given(keyed_estates())
def test_several_keys_stream_to_the_same_report(drawn: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "estate.sla").write_text(estate_text(drawn["services"]))
        (d / "requests").mkdir()
        for i, part in enumerate(drawn["parts"]):
            pq.write_table(pa.Table.from_pylist(part, schema=EVENT_SCHEMA),
                           d / "requests" / f"part-{i}.parquet",
                           row_group_size=drawn["row_group"])
        pq.write_table(pa.Table.from_pylist(drawn["incidents"], schema=INCIDENT_SCHEMA),
                       d / "incidents.parquet")
        model = slang.load([str(d / "estate.sla")])
        assert not model.errors, [str(e) for e in model.errors]
        data = {"requests": d / "requests", "incidents": d / "incidents.parquet"}
        memory, streamed = both(model, data, choice=PeriodChoice(period="2026-10"),
                                as_of=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
        assert streamed == memory


# ------------------------------------------------------------------------- evidence


def test_skipped_rows_and_evidence_are_unchanged(tmp_path: Path) -> None:
    """Rows without a time or a key, rows of a service no agreement audits, rows outside the
    audited range, out of time order across files: the same rows, skipped rows per reason
    and coverage (first, last, largest gap) as in memory."""
    (tmp_path / "estate.sla").write_text(estate_text(["alpha", "beta"]))
    (tmp_path / "requests").mkdir()
    later = [("2026-10-20T00:00:00", "alpha"), ("2026-10-21T00:00:00", "unaudited"),
             ("2026-10-22T00:00:00", None), (None, "beta"), ("2026-12-05T00:00:00", "alpha")]
    earlier = [("2026-10-02T00:00:00", "beta"), ("2026-10-09T00:00:00", "alpha"),
               (None, None), ("2026-10-30T00:00:00", "unaudited")]
    for name, rows in (("a.parquet", later), ("b.parquet", earlier)):
        pq.write_table(pa.table({
            "ts": pa.array([None if t is None else dt.datetime.fromisoformat(t + "+00:00")
                            for t, _ in rows], pa.timestamp("us", tz="UTC")),
            "service": [s for _, s in rows], "status": [200] * len(rows),
            "latency_ms": [100.0] * len(rows), "method": ["GET"] * len(rows)}),
            tmp_path / "requests" / name)
    pq.write_table(pa.Table.from_pylist([], schema=INCIDENT_SCHEMA),
                   tmp_path / "incidents.parquet")
    model = slang.load([str(tmp_path / "estate.sla")])
    data = {"requests": tmp_path / "requests", "incidents": tmp_path / "incidents.parquet"}
    kw: dict[str, Any] = {"choice": PeriodChoice(period="2026-10"),
                          "as_of": dt.datetime(2026, 12, 1, tzinfo=dt.UTC)}
    memory = audit(model, data, **kw).to_dict()
    streamed = audit(model, data, engine_options=STREAM, **kw).to_dict()
    assert streamed == memory
    requests = next(d for d in streamed["evidence"]["data"] if d["name"] == "requests")
    assert requests["rows"] == 8  # 2026-12-05 lies outside October
    assert requests["rows_skipped"] == {"null_key": 1, "null_time": 2}  # (None, None): time first
    assert requests["coverage"] == {"first": "2026-10-02T00:00:00Z",
                                    "last": "2026-10-30T00:00:00Z",
                                    "largest_gap_s": 11 * 86400}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(-10**6, 10**6), max_size=40), max_size=6),
       st.integers(1, 7))
def test_merged_extent_is_that_of_the_sorted_union(runs: list[list[int]], block: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, r in enumerate(runs):
            p = Path(tmp) / f"{i}.i64"
            np.sort(np.array(r, np.int64)).tofile(p)
            paths.append(p)
        got = merged_extent(paths, block=block)
    values = np.sort(np.array([v for r in runs for v in r], np.int64))
    if len(values) == 0:
        assert got is None
    else:
        gap = int(np.diff(values).max()) if len(values) > 1 else 0
        assert got == (int(values[0]), int(values[-1]), gap)


def test_files_whose_types_differ_are_promoted_as_in_memory(tmp_path: Path) -> None:
    """`status` int16 in one file and int64 in the other: each bucket's rows take the type
    the whole source promotes to, as the table in memory does."""
    (tmp_path / "estate.sla").write_text(estate_text(["alpha", "beta"]))
    (tmp_path / "requests").mkdir()
    for name, svc, typ in (("a.parquet", "alpha", pa.int16()), ("b.parquet", "beta",
                                                                 pa.int64())):
        pq.write_table(pa.table({
            "ts": pa.array([dt.datetime(2026, 10, 5, tzinfo=dt.UTC)] * 3,
                           pa.timestamp("us", tz="UTC")),
            "service": [svc] * 3, "status": pa.array([200, 503, 200], typ),
            "latency_ms": [10.0, 20.0, 30.0], "method": ["GET"] * 3}),
            tmp_path / "requests" / name)
    pq.write_table(pa.Table.from_pylist([], schema=INCIDENT_SCHEMA),
                   tmp_path / "incidents.parquet")
    model = slang.load([str(tmp_path / "estate.sla")])
    data = {"requests": tmp_path / "requests", "incidents": tmp_path / "incidents.parquet"}
    memory, streamed = both(model, data, choice=PeriodChoice(period="2026-10"),
                            as_of=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    assert streamed == memory


# ------------------------------------------------------------------------- spill files


@pytest.fixture
def keyed(tmp_path: Path) -> tuple[slang.Model, dict[str, Any]]:
    (tmp_path / "estate.sla").write_text(estate_text(["alpha", "beta", "gamma"]))
    rows = [{"ts": dt.datetime(2026, 10, 1 + i % 28, tzinfo=dt.UTC), "service": s,
             "status": 200, "latency_ms": 50.0, "method": "GET"}
            for i, s in enumerate(["alpha", "beta", "gamma"] * 20)]
    pq.write_table(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA), tmp_path / "r.parquet")
    pq.write_table(pa.Table.from_pylist([], schema=INCIDENT_SCHEMA), tmp_path / "i.parquet")
    model = slang.load([str(tmp_path / "estate.sla")])
    return model, {"requests": tmp_path / "r.parquet", "incidents": tmp_path / "i.parquet"}


KW: dict[str, Any] = {"choice": PeriodChoice(period="2026-10"),
                      "as_of": dt.datetime(2026, 12, 1, tzinfo=dt.UTC)}


def spill_dirs(root: Path) -> list[Path]:
    return sorted(root.glob("slang-spill-*"))


def test_each_key_is_measured_from_its_own_bucket(keyed: tuple[slang.Model, dict[str, Any]],
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    model, data = keyed
    spills = tmp_path / "spill"
    spills.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spills))
    seen: list[tuple[int | None, int, list[str]]] = []
    built: list[weakref.ref[Any]] = []
    real = spill.PartitionSink.bucket_scan

    def bucket_scan(self: spill.PartitionSink, b: int | None) -> Any:
        gc.collect()
        assert all(r() is None for r in built)  # one bucket in memory at a time
        scan = real(self, b)
        built.append(weakref.ref(scan))
        held = sorted(k for k, (lo, hi) in scan.key_ranges.items() if hi > lo)
        seen.append((b, scan.table.num_rows, held))
        assert len(spill_dirs(spills)) == 1  # the bucket files exist while measuring
        return scan

    monkeypatch.setattr(spill.PartitionSink, "bucket_scan", bucket_scan)
    audit(model, data, engine_options=STREAM, **KW)
    assert sorted(rows for _, rows, _ in seen) == [20, 20, 20]
    assert sorted(keys[0] for _, _, keys in seen) == ["alpha", "beta", "gamma"]
    assert spill_dirs(spills) == []  # removed when the audit is done


def test_spill_files_are_removed_on_errors_and_ctrl_c(
        keyed: tuple[slang.Model, dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    model, data = keyed
    spills = tmp_path / "spill"
    spills.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spills))

    def interrupted(self: Executor, ev: Any, p: Any) -> Any:
        assert len(spill_dirs(spills)) == 1
        raise KeyboardInterrupt

    monkeypatch.setattr(Executor, "measure", interrupted)
    with pytest.raises(KeyboardInterrupt):
        audit(model, data, engine_options=STREAM, **KW)
    assert spill_dirs(spills) == []


def test_spill_files_are_removed_on_sigterm(keyed: tuple[slang.Model, dict[str, Any]],
                                           monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    """SIGTERM (a CI job cancelled, `kill`) ends the audit through SystemExit, so that the
    spill directory is removed; the previous handler is back afterwards."""
    model, data = keyed
    spills = tmp_path / "spill"
    spills.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spills))
    before = signal.getsignal(signal.SIGTERM)

    def terminated(self: Executor, ev: Any, p: Any) -> Any:
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM did not stop the audit")

    monkeypatch.setattr(Executor, "measure", terminated)
    with pytest.raises(SystemExit) as exc:
        audit(model, data, engine_options=STREAM, **KW)
    assert exc.value.code == 128 + signal.SIGTERM
    assert spill_dirs(spills) == []
    assert signal.getsignal(signal.SIGTERM) is before


def test_an_unwritable_spill_directory_is_slg0611(keyed: tuple[slang.Model, dict[str, Any]],
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    model, data = keyed
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    with pytest.raises(SlangError) as exc:
        audit(model, data, engine_options=STREAM, **KW)
    [d] = exc.value.diagnostics
    assert d.code == "SLG0611"
    assert f"cannot write spill files under {tmp_path / 'missing'}" in d.message


def test_a_full_disk_is_slg0611(keyed: tuple[slang.Model, dict[str, Any]],
                                monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    model, data = keyed
    spills = tmp_path / "spill"
    spills.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spills))

    def full(path: str, mode: str) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(spill.pa, "OSFile", full)
    with pytest.raises(SlangError) as exc:
        audit(model, data, engine_options=STREAM, **KW)
    assert {d.code for d in exc.value.diagnostics} == {"SLG0611"}
    assert "No space left on device" in exc.value.diagnostics[0].message
    assert spill_dirs(spills) == []


# ------------------------------------------------------------------------- the budget


def test_sizes() -> None:
    assert parse_size("2GB") == 2_000_000_000
    assert parse_size("1.5 GiB") == 3 * 2**29
    assert parse_size("512mb") == 512_000_000
    assert parse_size("800") == 800
    for bad in ("lots", "", "-1GB", "2 GBs", "0"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_a_bad_memory_limit_is_slg0610() -> None:
    with pytest.raises(SlangError) as exc:
        memory_budget("lots")
    [d] = exc.value.diagnostics
    assert (d.code, d.message) == ("SLG0610", "--memory-limit `lots` is not a size")


def test_the_default_budget_is_a_quarter_of_physical_memory(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from slang.engine.data import physical_memory_bytes

    total = physical_memory_bytes()
    assert total is not None
    monkeypatch.setattr(budget, "CGROUP_LIMITS", ())
    assert memory_budget(None) == total // 4


@pytest.mark.parametrize(("text", "limit"), [
    ("4000000000\n", 4_000_000_000),  # cgroup v2 memory.max, or v1 memory.limit_in_bytes
    ("max\n", None),  # v2 without a limit
    ("9223372036854771712\n", None),  # v1 without a limit
])
def test_a_containers_limit_lowers_the_default_budget(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str, limit: int | None) -> None:
    from slang.engine.data import physical_memory_bytes

    (tmp_path / "memory.max").write_text(text)
    monkeypatch.setattr(budget, "CGROUP_LIMITS", (str(tmp_path / "missing"),
                                                 str(tmp_path / "memory.max")))
    assert budget.cgroup_limit_bytes() == limit
    total = physical_memory_bytes()
    assert total is not None
    assert memory_budget(None) == min(total, limit or total) // 4


def test_in_memory_or_streamed_and_how_many_buckets() -> None:
    gb = 1000**3
    assert fits_in_memory(1 * gb, 3 * gb)  # 0.2 + 2 x 1 <= 3
    assert not fits_in_memory(2 * gb, 3 * gb)
    # 4 GB of keyed events in a 1 GB budget: 2 x 4 / 0.8 = 10 even buckets, a quarter more
    assert bucket_count(4 * gb, 0, 1 * gb, 50) == 13
    assert bucket_count(4 * gb, 0, 1 * gb, 5) == 5  # never more buckets than keys
    assert bucket_count(4 * gb, 0, 1000, 50) == 50  # below the baseline: a bucket per key


def test_the_estimate_is_rows_times_widths_from_the_footer(tmp_path: Path) -> None:
    (tmp_path / "estate.sla").write_text(estate_text(["alpha"]))
    model = slang.load([str(tmp_path / "estate.sla")])
    src = model.sources["requests"]
    rows = 1000
    pq.write_table(pa.table({
        "ts": pa.array(np.arange(rows) * US, pa.timestamp("us", tz="UTC")),
        "service": pa.array(["alpha"] * rows).dictionary_encode(),
        "status": pa.array(np.full(rows, 200, np.int16)),
        "latency_ms": np.ones(rows)}), tmp_path / "r.parquet")
    # time 8, key index 4, status 2, latency 8 bytes per row
    assert estimate_source(src, tmp_path / "r.parquet", ["status", "latency_ms"]) == 22 * rows
    assert estimate_source(src, tmp_path / "missing.parquet", ["status"]) is None


def test_the_layout_streams_only_keyed_events(keyed: tuple[slang.Model, dict[str, Any]]
                                              ) -> None:
    from slang.engine.audit import _prepare

    model, data = keyed
    _, plan, periods = _prepare(model, PeriodChoice(period="2026-10"),
                                dt.datetime(2026, 12, 1, tzinfo=dt.UTC), False)
    assert streaming.layout(plan, data, periods, 10**10) is None
    lay = streaming.layout(plan, data, periods, 10**6)
    assert lay is not None
    assert lay.partitioned == {"requests"}
    assert lay.buckets == 3


# ------------------------------------------------------------------------- the example estate


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from click.testing import CliRunner

    from slang.cli import main

    out = tmp_path_factory.mktemp("example")
    result = CliRunner().invoke(main, ["demo", str(out / "data")])
    assert result.exit_code == 0, result.output
    return out / "data" / "bindings.yaml"


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_the_example_estate_streams_to_the_same_bytes(example: Path, fmt: str) -> None:
    """policies/ as shipped over the demo data (Parquet, IPC, CSV and JSON Lines sources,
    keyed and not, events and intervals), by `slang audit` in memory and streamed."""
    from click.testing import CliRunner

    from slang.cli import main

    repo = Path(__file__).resolve().parents[2]
    common = ["audit", str(repo / "policies"), "--bind", str(example), "--as-of",
              "2026-11-15T00:00:00Z", "--period", "2026-10", "--format", fmt]
    memory = CliRunner().invoke(main, common)
    streamed = CliRunner().invoke(main, [*common, "--memory-limit", "1MB"])
    assert memory.exit_code == streamed.exit_code == 1  # a breach in October
    assert streamed.stdout == memory.stdout


def test_what_is_held_in_memory_is_checked_against_the_limit(
        keyed: tuple[slang.Model, dict[str, Any]], tmp_path: Path) -> None:
    """Intervals sources are held whole when an audit streams: one larger than the limit is
    SLG0608 against that limit, as it would be in memory."""
    model, data = keyed
    n = 100_000  # distinct instants: about 1.6 MB of plain int64 in the Parquet pages
    start = int(dt.datetime(2026, 10, 2, tzinfo=dt.UTC).timestamp()) * US + np.arange(n) * US
    pq.write_table(pa.table({
        "start": pa.array(start, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "end": pa.array(start + 60 * US, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "service": ["alpha"] * n, "severity": ["planned"] * n}), tmp_path / "big.parquet")
    with pytest.raises(SlangError) as exc:
        audit(model, {**data, "incidents": tmp_path / "big.parquet"},
              engine_options=EngineOptions(memory_limit="1MB"), **KW)
    [d] = exc.value.diagnostics
    assert d.code == "SLG0608"
    assert "source `incidents`" in d.message and "the budget is 1.0 MB" in d.message


def test_data_errors_are_the_same_when_streamed(keyed: tuple[slang.Model, dict[str, Any]],
                                                tmp_path: Path) -> None:
    """A missing file (no estimate: the audit falls back to reading in memory, which says
    why) and a missing column (found while streaming) are the in-memory diagnostics."""
    model, data = keyed
    missing = {**data, "requests": tmp_path / "nowhere.parquet"}
    pq.write_table(pa.table({"ts": pa.array([dt.datetime(2026, 10, 5, tzinfo=dt.UTC)]),
                             "service": ["alpha"]}), tmp_path / "narrow.parquet")
    narrow = {**data, "requests": tmp_path / "narrow.parquet"}
    for bound in (missing, narrow):
        errors = []
        for options in (None, STREAM):
            with pytest.raises(SlangError) as exc:
                audit(model, bound, engine_options=options, **KW)
            errors.append([(d.code, d.message) for d in exc.value.diagnostics])
        assert errors[0] == errors[1]
    assert errors[0][0][0] == "SLG0605"


def test_other_formats_are_estimated_by_their_size(tmp_path: Path) -> None:
    (tmp_path / "estate.sla").write_text(estate_text(["alpha"]))
    model = slang.load([str(tmp_path / "estate.sla")])
    (tmp_path / "r.csv").write_text("ts,service,status\n2026-10-01T00:00:00Z,alpha,200\n")
    size = (tmp_path / "r.csv").stat().st_size
    assert estimate_source(model.sources["requests"], tmp_path / "r.csv", ["status"]) == size
