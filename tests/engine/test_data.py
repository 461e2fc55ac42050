"""Reading measurement data: every format, every time form, every refusal, with real files.

Expected instants are computed by hand, not by the code under test:

    2026-01-01T00:00:00Z is day 56 * 365 + 14 leap days = 20454 since 1970-01-01;
    2026-10-01 is 273 days later (Jan..Sep of a common year), day 20727;
    20727 * 86400 = 1_790_812_800 s, so 2026-10-01T00:00:00Z = 1_790_812_800_000_000 us and
    2026-10-01T00:00:00+01:00 (an hour earlier in UTC) = 1_790_809_200_000_000 us.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from slang.diagnostics import SlangError
from slang.engine.bindings import Binding
from slang.engine.data import (
    SourceData,
    coverage,
    listing_sha256,
    read_source,
    rfc3339_us,
    sha256_file,
)
from slang.semantics import model as m

S = 1_000_000  # microseconds per second
T0 = 1_790_812_800 * S  # 2026-10-01T00:00:00Z
T0_BST = T0 - 3600 * S  # 2026-10-01T00:00:00+01:00
MS_T0 = 1_790_812_800_000  # the same instant in epoch milliseconds
AS_OF = T0 + 86_400 * S


def source(kind: str = "events", time_form: str = "aware", key: str | None = "service",
           units: dict[str, str] | None = None, time_column: str = "ts") -> m.Source:
    return m.Source(
        id="requests", name="requests", kind=kind,  # type: ignore[arg-type]
        table="edge_requests", time_column=time_column,
        time_form=time_form,  # type: ignore[arg-type]
        start_column="started_at", end_column="resolved_at", key_column=key,
        units=units if units is not None else {"latency_ms": "ms"},
    )


def intervals(key: str | None = "service") -> m.Source:
    return source(kind="intervals", key=key, units={})


def read(src: m.Source, path: Path | str, columns: set[str] | None = None,
         **kw: Any) -> SourceData:
    return read_source(src, str(path), columns or set(), as_of_us=kw.pop("as_of_us", AS_OF),
                       **kw)


def fails(src: m.Source, path: Path | str, columns: set[str] | None = None,
          **kw: Any) -> list[Any]:
    with pytest.raises(SlangError) as info:
        read(src, path, columns, **kw)
    return info.value.diagnostics


def ts_array(values: list[int | None], unit: str = "us", tz: str | None = "UTC") -> pa.Array:
    return pa.array(values, pa.timestamp(unit, tz=tz))


def col(data: SourceData, name: str) -> list[Any]:
    return data.table.column(name).to_pylist()


# ----------------------------------------------------------------------------- formats


def test_csv_offsets_utc_and_fractions_become_exact_microseconds(tmp_path: Path) -> None:
    p = tmp_path / "requests.csv"
    p.write_text(
        "ts,service,latency_ms,status\n"
        "2026-10-01T00:00:00+01:00,checkout,12.5,200\n"
        "2026-10-01T00:00:00Z,payments-v2,3,503\n"
        "2026-10-01T00:00:00.250-05:30,checkout,7,200\n"
    )
    data = read(source(), p, {"latency_ms", "status"})
    assert col(data, "__t") == [T0_BST, T0, T0 + (5 * 3600 + 1800) * S + 250_000]
    assert data.table.column("__t").type == pa.int64()
    assert data.table.column("__key").type == pa.dictionary(pa.int32(), pa.string())
    assert col(data, "__key") == ["checkout", "payments-v2", "checkout"]
    assert col(data, "latency_ms") == [12.5, 3.0, 7.0]
    assert col(data, "status") == [200, 503, 200]
    assert data.table.column_names == ["__t", "__key", "latency_ms", "status"]


def test_csv_mixed_offsets_come_as_strings_and_still_parse(tmp_path: Path) -> None:
    # One value with a space separator and one with a `+0100` offset: pyarrow's CSV inference
    # gives up on a timestamp type and returns strings, which the normaliser parses itself.
    p = tmp_path / "r.csv"
    p.write_text("ts,service\n2026-10-01 00:00:00+0100,a\n2026-10-01T00:00:01Z,b\n")
    data = read(source(), p)
    assert col(data, "__t") == [T0_BST, T0 + 1 * S]


def test_csv_numeric_looking_keys_are_text(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("ts,service\n2026-10-01T00:00:00Z,0042\n")
    assert col(read(source(), p), "__key") == ["0042"]


def test_parquet_any_unit_and_zone_converts_to_utc_microseconds(tmp_path: Path) -> None:
    p = tmp_path / "r.parquet"
    pq.write_table(pa.table({
        "ts": ts_array([T0 // 1000, T0 // 1000 + 1], "ms", "Europe/London"),
        "service": ["checkout", "checkout"],
    }), p)
    assert col(read(source(), p), "__t") == [T0, T0 + 1000]


def test_parquet_nanoseconds_floor_to_the_microsecond(tmp_path: Path) -> None:
    p = tmp_path / "r.parquet"
    pq.write_table(pa.table({
        "ts": ts_array([T0 * 1000 + 999, -1_500], "ns"),
        "service": ["a", "a"],
    }), p)
    # -1500 ns is 1.5 us before the epoch: the microsecond containing it starts at -2 us.
    assert col(read(source(), p), "__t") == [T0, -2]


def test_feather_reads_only_requested_columns(tmp_path: Path) -> None:
    p = tmp_path / "r.feather"
    feather.write_feather(pa.table({
        "ts": ts_array([T0, T0 + S]),
        "service": ["a", "b"],
        "status": [200, 500],
        "payload": ["x" * 10, "y" * 10],
    }), str(p))
    data = read(source(), p, {"status"})
    assert data.table.column_names == ["__t", "__key", "status"]
    assert col(data, "__t") == [T0, T0 + S]
    assert col(data, "status") == [200, 500]


def test_arrow_ipc_stream_file(tmp_path: Path) -> None:
    p = tmp_path / "r.arrow"
    table = pa.table({"ts": ts_array([T0]), "service": ["a"]})
    with pa.OSFile(str(p), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    assert col(read(source(), p), "__t") == [T0]


def test_jsonl_offsets_are_not_silently_made_naive(tmp_path: Path) -> None:
    # pyarrow.json would infer timestamp[s] *without* a zone here, dropping the offset.
    p = tmp_path / "r.jsonl"
    p.write_text(
        '{"ts": "2026-10-01T00:00:00+01:00", "service": "a", "latency_ms": 5}\n'
        '{"ts": "2026-10-01T00:00:00Z", "service": "b", "latency_ms": 6.5}\n'
        '{"ts": null, "service": "b", "latency_ms": 1}\n'
    )
    data = read(source(), p, {"latency_ms"})
    assert col(data, "__t") == [T0_BST, T0]
    assert col(data, "latency_ms") == [5.0, 6.5]
    assert data.evidence.rows == 3
    assert data.evidence.rows_skipped == {"null_key": 0, "null_time": 1}


def test_jsonl_other_timestamp_columns_are_parsed_strictly(tmp_path: Path) -> None:
    p = tmp_path / "tickets.ndjson"
    p.write_text(
        '{"ts": "2026-10-01T00:00:00Z", "service": "a", "closed": "2026-10-01T02:00:00+01:00"}\n'
    )
    data = read(source(), p, {"closed", "ts"})
    assert data.table.column("closed").type == pa.timestamp("us", tz="UTC")
    assert data.table.column("closed").cast(pa.int64()).to_pylist() == [T0 + 3600 * S]
    # a requested time column passes through as timestamp[us, UTC] too
    assert data.table.column("ts").cast(pa.int64()).to_pylist() == [T0]


def test_strings_with_nanoseconds_and_empty_strings(tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    p.write_text(
        '{"ts": "2026-10-01T00:00:00.1234567Z", "service": "a"}\n'
        '{"ts": "", "service": "a"}\n'
        '{"ts": "2026-10-01T01:00:00.000001+01:00", "service": "a"}\n'
    )
    data = read(source(), p)
    assert col(data, "__t") == [T0 + 123_456, T0 + 1]
    assert data.evidence.rows_skipped["null_time"] == 1


def test_jsonl_naive_strings_are_refused(tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    p.write_text('{"ts": "2026-10-01T00:00:00", "service": "a"}\n')
    [d] = fails(source(), p)
    assert d.code == "SLG0607"
    assert "time column `ts`" in d.message and "r.jsonl" in d.message
    assert "2026-10-01T00:00:00" in d.message and "source `requests`" in d.message
    assert "declare `time ts utc`" in (d.hint or "")


# ----------------------------------------------------------------------------- time forms


def test_utc_form_reads_naive_timestamps_as_utc(tmp_path: Path) -> None:
    p = tmp_path / "r.parquet"
    pq.write_table(pa.table({"ts": ts_array([T0, T0 + S], tz=None), "service": ["a", "a"]}), p)
    assert col(read(source(time_form="utc"), p), "__t") == [T0, T0 + S]


def test_utc_form_reads_naive_and_aware_strings(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("ts,service\n2026-10-01T00:00:00,a\n2026-10-01T00:00:00+01:00,a\n")
    assert col(read(source(time_form="utc"), p), "__t") == [T0, T0_BST]


def test_epoch_ms_and_epoch_s(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text(f"ts,service\n{MS_T0},a\n{MS_T0 + 1},a\n,a\n")
    data = read(source(time_form="epoch_ms"), p)
    assert col(data, "__t") == [T0, T0 + 1000]
    assert data.evidence.rows_skipped["null_time"] == 1
    q = tmp_path / "s.parquet"
    pq.write_table(pa.table({"ts": pa.array([1_790_812_800, 1_790_812_801], pa.int32()),
                             "service": ["a", "a"]}), q)
    assert col(read(source(time_form="epoch_s"), q), "__t") == [T0, T0 + S]


def test_epoch_ms_from_jsonl_integers(tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    p.write_text(f'{{"ts": {MS_T0}, "service": "a"}}\n')
    assert col(read(source(time_form="epoch_ms"), p), "__t") == [T0]


# ----------------------------------------------------------------------------- datasets


def _parquet_dir(root: Path) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, name in enumerate(["part-1.parquet", "sub/part-0.parquet"]):
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"ts": ts_array([T0 + i * S]), "service": [f"s{i}"],
                                 "status": [200 + i]}), p)
        paths.append(p)
    (root / "_SUCCESS").write_text("")
    (root / ".part-1.parquet.crc").write_text("junk")
    return paths


def test_directory_of_parquet_files_is_one_dataset(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    one, two = _parquet_dir(tmp_path / "data" / "edge")
    data = read(source(), "data/edge", {"status"})
    assert sorted(col(data, "__t")) == [T0, T0 + S]
    assert sorted(col(data, "status")) == [200, 201]
    ev = data.evidence
    assert ev.path == "data/edge"
    files = [("part-1.parquet", hashlib.sha256(one.read_bytes()).hexdigest()),
             ("sub/part-0.parquet", hashlib.sha256(two.read_bytes()).hexdigest())]
    assert ev.files == files
    listing = "".join(f"{rel}\t{sha}\n" for rel, sha in files)
    assert ev.sha256 == hashlib.sha256(listing.encode()).hexdigest()
    assert ev.sha256 == listing_sha256(reversed(files))
    assert data.scan is not None and data.scan.files == 2


def test_glob_selects_files_relative_to_its_directory(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    _parquet_dir(tmp_path / "data" / "edge")
    (tmp_path / "data" / "edge" / "notes.txt").write_text("not data")
    data = read(source(), "data/edge/*.parquet")
    assert col(data, "__t") == [T0]
    assert data.evidence.path == "data/edge/*.parquet"
    assert [rel for rel, _ in data.evidence.files or []] == ["part-1.parquet"]
    deep = read(source(), "data/**/*.parquet")
    assert [rel for rel, _ in deep.evidence.files or []] == ["edge/part-1.parquet",
                                                            "edge/sub/part-0.parquet"]


def test_directory_of_csv_files_promotes_int_and_float(tmp_path: Path) -> None:
    d = tmp_path / "csv"
    d.mkdir()
    (d / "a.csv").write_text("ts,service,latency_ms\n2026-10-01T00:00:00Z,a,5\n")
    (d / "b.csv").write_text("ts,service,latency_ms\n2026-10-01T00:00:01Z,a,5.5\n")
    data = read(source(), d, {"latency_ms"})
    assert col(data, "__t") == [T0, T0 + S]
    assert col(data, "latency_ms") == [5.0, 5.5]


def test_single_file_evidence(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    p = tmp_path / "r.csv"
    p.write_text("ts,service\n2026-10-01T00:00:00Z,a\n2026-10-01T00:00:41Z,a\n")
    ev = read(source(), str(p.absolute())).evidence  # absolute, below cwd: shown relative
    assert ev.path == "r.csv"
    assert ev.sha256 == hashlib.sha256(p.read_bytes()).hexdigest() == sha256_file(p)
    assert ev.files is None
    assert ev.name == "edge_requests" and ev.source == "requests"
    assert ev.to_dict() == {
        "name": "edge_requests", "source": "requests", "path": "r.csv", "sha256": ev.sha256,
        "rows": 2, "rows_skipped": {"null_key": 0, "null_time": 0},
        "coverage": {"first": "2026-10-01T00:00:00Z", "last": "2026-10-01T00:00:41Z",
                     "largest_gap_s": 41},
        "files": None,
    }


def test_evidence_matches_the_audit_report_schema(tmp_path: Path) -> None:
    schema = json.loads((Path(__file__).parents[2] / "slang" / "schemas" /
                         "audit-report.schema.json").read_text())
    item = schema["properties"]["evidence"]["properties"]["data"]["items"]
    validator = jsonschema.Draft202012Validator({**item, "$defs": schema["$defs"]})
    _parquet_dir(tmp_path / "d")
    for path in (tmp_path / "d", tmp_path / "d" / "part-1.parquet"):
        doc = json.loads(json.dumps(read(source(), path).evidence.to_dict()))
        validator.validate(doc)


def test_binding_format_reads_an_unusual_extension(tmp_path: Path) -> None:
    p = tmp_path / "export.txt"
    p.write_text("ts,service\n2026-10-01T00:00:00Z,a\n")
    data = read_source(source(), Binding(str(p), "csv"), set(), as_of_us=AS_OF)
    assert col(data, "__t") == [T0]
    assert col(read(source(), p, fmt="csv"), "__t") == [T0]


# ----------------------------------------------------------------------------- skipping


def test_events_skip_null_time_then_null_key(tmp_path: Path) -> None:
    p = tmp_path / "r.parquet"
    pq.write_table(pa.table({
        "ts": ts_array([T0, None, T0 + S, None, T0 + 2 * S]),
        "service": ["a", "a", None, None, "b"],
        "latency_ms": [1.0, 2.0, float("nan"), 4.0, None],
    }), p)
    data = read(source(), p, {"latency_ms"})
    assert data.evidence.rows == 5
    # the row with neither time nor key counts once, under its first reason
    assert data.evidence.rows_skipped == {"null_key": 1, "null_time": 2}
    assert col(data, "__t") == [T0, T0 + 2 * S]
    assert col(data, "latency_ms") == [1.0, None]  # NaN and null values are not dropped here


def test_events_without_key_count_only_null_time(tmp_path: Path) -> None:
    p = tmp_path / "r.parquet"
    pq.write_table(pa.table({"ts": ts_array([T0, None])}), p)
    data = read(source(key=None), p)
    assert data.evidence.rows_skipped == {"null_time": 1}
    assert data.table.column_names == ["__t"]


def test_intervals_skip_and_keep_ongoing(tmp_path: Path) -> None:
    p = tmp_path / "incidents.csv"
    p.write_text(
        "started_at,resolved_at,service,severity\n"
        "2026-10-01T00:00:00Z,2026-10-01T00:10:00Z,a,sev1\n"  # kept
        ",2026-10-01T00:10:00Z,a,sev1\n"                      # null_start
        "2026-10-01T00:20:00Z,2026-10-01T00:15:00Z,a,sev2\n"  # end_before_start
        "2026-10-01T00:30:00Z,,,sev1\n"                       # null_key
        "2026-10-01T01:00:00Z,,a,sev1\n"                      # ongoing: kept, end stays null
        "2026-10-01T02:00:00Z,2026-10-01T02:00:00Z,a,sev3\n"  # empty: kept
    )
    data = read(intervals(), p, {"severity"})
    assert data.evidence.rows == 6
    assert data.evidence.rows_skipped == {"end_before_start": 1, "null_key": 1,
                                          "null_start": 1}
    assert col(data, "__start") == [T0, T0 + 3600 * S, T0 + 7200 * S]
    assert col(data, "__end") == [T0 + 600 * S, None, T0 + 7200 * S]
    assert col(data, "severity") == ["sev1", "sev1", "sev3"]


# ----------------------------------------------------------------------------- coverage


def _events(times_s: list[int]) -> pa.Table:
    return pa.table({"__t": pa.array([T0 + t * S for t in times_s], pa.int64())})


def test_coverage_of_unsorted_events() -> None:
    cov = coverage(_events([0, 50, 10, 20, 41]), source(key=None), AS_OF)
    # sorted: 0 10 20 41 50 -> gaps 10 10 21 9
    assert (cov.first, cov.last, cov.largest_gap_s) == (
        "2026-10-01T00:00:00Z", "2026-10-01T00:00:50Z", 21)


def test_coverage_of_sorted_events_with_fractional_gap() -> None:
    t = pa.table({"__t": pa.array([T0, T0 + 1_500_000, T0 + 2_000_000], pa.int64())})
    cov = coverage(t, source(key=None), AS_OF)
    assert cov.largest_gap_s == 1.5
    assert cov.last == "2026-10-01T00:00:02Z"


def test_coverage_single_and_no_rows() -> None:
    assert coverage(_events([7]), source(key=None), AS_OF).largest_gap_s == 0
    empty = pa.table({"__t": pa.array([], pa.int64())})
    assert coverage(empty, source(key=None), AS_OF) == (
        coverage(empty, source(key=None), AS_OF).__class__(None, None, None))


def _spans(pairs: list[tuple[int, int | None]]) -> pa.Table:
    return pa.table({
        "__start": pa.array([T0 + s * S for s, _ in pairs], pa.int64()),
        "__end": pa.array([None if e is None else T0 + e * S for _, e in pairs], pa.int64()),
    })


def test_coverage_of_intervals_is_the_longest_uncovered_stretch() -> None:
    # [0,100) and [50,120) overlap; [300,300) is empty and covers nothing; [400,500).
    # Uncovered between first (0) and last (500): 120..400 = 280 s.
    cov = coverage(_spans([(400, 500), (0, 100), (300, 300), (50, 120)]), intervals(), AS_OF)
    assert (cov.first, cov.last, cov.largest_gap_s) == (
        "2026-10-01T00:00:00Z", "2026-10-01T00:08:20Z", 280)


def test_coverage_of_intervals_with_ongoing_and_empty_edges() -> None:
    # ongoing from 100 runs to as_of, which is after everything: no gap after it; the empty
    # interval at 0 opens the range, leaving 0..100 uncovered.
    cov = coverage(_spans([(0, 0), (100, None), (200, 250)]), intervals(), T0 + 1000 * S)
    assert (cov.first, cov.last, cov.largest_gap_s) == (
        "2026-10-01T00:00:00Z", "2026-10-01T00:04:10Z", 100)
    only_empty = coverage(_spans([(10, 10), (70, 70)]), intervals(), AS_OF)
    assert only_empty.largest_gap_s == 60


def test_rfc3339_with_fraction() -> None:
    assert rfc3339_us(T0 + 250_000) == "2026-10-01T00:00:00.25Z"
    assert rfc3339_us(0) == "1970-01-01T00:00:00Z"


# ----------------------------------------------------------------------------- pushdown


def _row_groups(tmp_path: Path, name: str, ts: pa.Array, n: int = 1000) -> Path:
    p = tmp_path / name
    pq.write_table(pa.table({"ts": ts, "service": ["a"] * n, "v": list(range(n))}), p,
                   row_group_size=100)
    return p


def test_pushdown_prunes_row_groups_and_keeps_the_exact_result(tmp_path: Path) -> None:
    n = 1000
    times = [T0 + i * S for i in range(n)]
    times[5] = None  # a null time in row group 0: kept by the scan, counted as skipped
    millis = [None if t is None else t // 1000 for t in times]
    p = _row_groups(tmp_path, "r.parquet", ts_array(millis, "ms"), n)
    lo, hi = T0 + 450 * S, T0 + 650 * S
    full = read(source(), p, {"v"})
    part = read(source(), p, {"v"}, time_range_us=(lo, hi))
    assert full.scan is not None and part.scan is not None
    assert (full.scan.row_groups_total, full.scan.row_groups_read) == (10, 10)
    # groups 4, 5 and 6 hold the range; group 0 may hold null times
    assert (part.scan.row_groups_total, part.scan.row_groups_read) == (10, 4)
    assert part.scan.rows_scanned == 400 < full.scan.rows_scanned == 1000
    assert col(part, "v") == list(range(450, 650))
    expected = [v for t, v in zip(col(full, "__t"), col(full, "v"), strict=True)
                if lo <= t < hi]
    assert col(part, "v") == expected
    assert part.evidence.rows == 201
    assert part.evidence.rows_skipped == {"null_key": 0, "null_time": 1}
    assert part.evidence.coverage.first == "2026-10-01T00:07:30Z"


@pytest.mark.parametrize("form, values", [
    ("epoch_ms", pa.array([MS_T0 + i * 1000 for i in range(1000)], pa.int64())),
    ("epoch_s", pa.array([T0 // S + i for i in range(1000)], pa.int64())),
    ("utc", ts_array([T0 // S + i for i in range(1000)], "s", None)),
    ("aware", ts_array([T0 * 1000 + i * S * 1000 for i in range(1000)], "ns")),
])
def test_pushdown_in_every_time_form(tmp_path: Path, form: str, values: pa.Array) -> None:
    p = _row_groups(tmp_path, "r.parquet", values)
    lo, hi = T0 + 450 * S + 1, T0 + 650 * S + 1  # not on a unit boundary: rounding matters
    data = read(source(time_form=form), p, {"v"}, time_range_us=(lo, hi))
    assert col(data, "v") == list(range(451, 651))
    assert data.scan is not None and data.scan.row_groups_read == 3


def test_string_times_are_filtered_exactly_without_pushdown(tmp_path: Path) -> None:
    strings = pa.array([f"2026-10-01T00:{i // 60:02d}:{i % 60:02d}Z" for i in range(1000)
                        if i < 3600])
    p = _row_groups(tmp_path, "r.parquet", strings)
    data = read(source(), p, {"v"}, time_range_us=(T0 + 450 * S, T0 + 650 * S))
    assert col(data, "v") == list(range(450, 650))
    assert data.scan is not None and data.scan.row_groups_read == 10


def test_intervals_pushdown_keeps_overlaps(tmp_path: Path) -> None:
    p = tmp_path / "i.parquet"
    starts = [T0 + i * 10 * S for i in range(100)]
    ends = [s + 15 * S for s in starts]
    ends[0] = None
    pq.write_table(pa.table({"started_at": ts_array(starts), "resolved_at": ts_array(ends),
                             "service": ["a"] * 100, "n": list(range(100))}), p,
                   row_group_size=10)
    data = read(intervals(), p, {"n"}, time_range_us=(T0 + 500 * S, T0 + 600 * S))
    # overlapping [500 s, 600 s): starts 490..590 (ends 505..605), plus the ongoing first one
    assert col(data, "n") == [0, *range(49, 60)]
    assert data.scan is not None and data.scan.row_groups_read == 3


def test_projection_estimate_counts_only_needed_columns(tmp_path: Path) -> None:
    p = tmp_path / "r.parquet"
    n = 5000
    pq.write_table(pa.table({
        "ts": ts_array([T0 + i for i in range(n)]),
        "service": ["a"] * n,
        "payload": [f"{i:0100d}" for i in range(n)],
    }), p, row_group_size=1000, compression="none")
    meta = pq.ParquetFile(p).metadata
    sizes = {name: 0 for name in ("ts", "service", "payload")}
    for rg in range(meta.num_row_groups):
        for i in range(meta.num_columns):
            c = meta.row_group(rg).column(i)
            sizes[c.path_in_schema] += c.total_uncompressed_size
    data = read(source(), p)
    assert data.table.column_names == ["__t", "__key"]
    assert data.scan is not None
    assert data.scan.bytes_estimated == sizes["ts"] + sizes["service"]
    assert sizes["payload"] > 10 * data.scan.bytes_estimated


# ----------------------------------------------------------------------------- refusals


def test_slg0603_mixed_formats(tmp_path: Path) -> None:
    d = tmp_path / "mixed"
    d.mkdir()
    pq.write_table(pa.table({"ts": ts_array([T0]), "service": ["a"]}), d / "a.parquet")
    (d / "b.csv").write_text("ts,service\n2026-10-01T00:00:00Z,a\n")
    [diag] = fails(source(), d)
    assert diag.code == "SLG0603"
    assert "mixes formats: csv (b.csv), parquet (a.parquet)" in diag.message
    assert "source `requests`" in diag.message and "mixed" in diag.message
    assert "*.csv" in (diag.hint or "")


def test_slg0603_unknown_extension_and_inconsistent_types(tmp_path: Path) -> None:
    d = tmp_path / "d"
    d.mkdir()
    (d / "a.csv").write_text("ts,service\n2026-10-01T00:00:00Z,a\n")
    (d / "README.md").write_text("about this data")
    [diag] = fails(source(), d)
    assert diag.code == "SLG0603" and "unknown format: README.md" in diag.message
    (d / "README.md").unlink()
    (d / "b.csv").write_text("ts,service,status\n2026-10-01T00:00:00Z,a,oops\n")
    (d / "a.csv").write_text("ts,service,status\n2026-10-01T00:00:00Z,a,200\n")
    [diag] = fails(source(), d, {"status"})
    assert diag.code == "SLG0603"
    assert "`status` is int64 in " in diag.message and "string in " in diag.message
    assert "a.csv" in diag.message and "b.csv" in diag.message


def test_slg0604_missing_corrupt_and_empty(tmp_path: Path) -> None:
    [d] = fails(source(), tmp_path / "nope.parquet")
    assert d.code == "SLG0604" and "nope.parquet does not exist" in d.message
    assert "--data edge_requests=PATH" in (d.hint or "")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"this is not parquet at all")
    [d] = fails(source(), bad)
    assert d.code == "SLG0604"
    assert "cannot read" in d.message and "bad.parquet as parquet" in d.message
    assert "source `requests`" in d.message
    empty = tmp_path / "empty"
    empty.mkdir()
    [d] = fails(source(), empty)
    assert d.code == "SLG0604" and "holds no data files" in d.message
    [d] = fails(source(), tmp_path / "none" / "*.parquet")
    assert d.code == "SLG0604"
    trunc = tmp_path / "t.csv"
    trunc.write_text("")
    [d] = fails(source(), trunc)
    assert d.code == "SLG0604" and "t.csv as csv" in d.message


def test_slg0605_missing_column_with_did_you_mean(tmp_path: Path) -> None:
    p = tmp_path / "r.parquet"
    pq.write_table(pa.table({"ts": ts_array([T0]), "service": ["a"], "latency_ms": [1.0]}), p)
    [d] = fails(source(), p, {"latency"})
    assert d.code == "SLG0605"
    assert d.message == ("source `requests` (table `edge_requests`): column `latency` not "
                         f"found in {p.as_posix()}")
    assert d.hint == "did you mean `latency_ms`? columns there: ts, service, latency_ms"


def test_slg0605_names_the_files_of_a_dataset_that_lack_it(tmp_path: Path) -> None:
    d = tmp_path / "ds"
    d.mkdir()
    pq.write_table(pa.table({"ts": ts_array([T0]), "service": ["a"], "status": [1]}),
                   d / "a.parquet")
    pq.write_table(pa.table({"ts": ts_array([T0]), "service": ["a"]}), d / "b.parquet")
    [diag] = fails(source(), d, {"status"})
    assert diag.code == "SLG0605"
    assert "column `status` not found in" in diag.message and "b.parquet" in diag.message
    assert "a.parquet" not in diag.message
    jl = tmp_path / "r.jsonl"
    jl.write_text('{"ts": "2026-10-01T00:00:00Z", "service": "a"}\n')
    [diag] = fails(source(), jl, {"status"})
    assert diag.code == "SLG0605" and "r.jsonl" in diag.message


def test_slg0605_misspelt_time_column_in_jsonl_is_missing_not_null(tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    p.write_text('{"timestamp": "2026-10-01T00:00:00Z", "service": "a"}\n')
    [d] = fails(source(), p)
    assert d.code == "SLG0605" and "column `ts` not found in" in d.message
    assert (d.hint or "").startswith("columns there: timestamp, service")
    q = tmp_path / "nulls.jsonl"
    q.write_text('{"ts": null, "service": "a"}\n')
    assert read(source(), q).evidence.rows_skipped["null_time"] == 1


def test_jsonl_one_bad_interval_column_does_not_unparse_the_other(tmp_path: Path) -> None:
    p = tmp_path / "i.jsonl"
    p.write_text('{"started_at": "2026-10-01T00:00:00+01:00", "resolved_at": 5, '
                 '"service": "a"}\n')
    [d] = fails(intervals(), p)
    assert d.code == "SLG0606" and "end column `resolved_at`" in d.message
    assert "is int64, not a timestamp" in d.message


def test_slg0606_time_strings_that_are_not_iso(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("ts,service\n2026-10-01T00:00:00Z,a\nyesterday,a\nsoon,a\n")
    [d] = fails(source(), p)
    assert d.code == "SLG0606"
    assert "time column `ts`" in d.message and "r.csv" in d.message
    assert "(string) has 2 values that are not an ISO 8601 timestamp" in d.message
    assert "`yesterday` (row 2)" in d.message


def test_values_with_braces_are_quoted_safely(tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    p.write_text('{"ts": "{where} {0}", "service": "a"}\n')
    [d] = fails(source(), p)
    assert d.code == "SLG0606" and "e.g. `{where} {0}` (row 1)" in d.message


def test_slg0607_naive_interval_starts(tmp_path: Path) -> None:
    p = tmp_path / "i.csv"
    p.write_text("started_at,resolved_at,service\n2026-10-01T00:00:00,,a\n")
    [d] = fails(intervals(), p)
    assert d.code == "SLG0607" and "start column `started_at`" in d.message
    assert "an intervals source reads time-zone aware timestamps" in (d.hint or "")


def test_slg0606_invalid_calendar_date(tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    p.write_text('{"ts": "2026-02-30T00:00:00Z", "service": "a"}\n')
    [d] = fails(source(), p)
    assert d.code == "SLG0606" and "invalid timestamp `2026-02-30T00:00:00Z`" in d.message


def test_slg0606_integers_without_an_epoch_form(tmp_path: Path) -> None:
    p = tmp_path / "r.parquet"
    pq.write_table(pa.table({"ts": [MS_T0], "service": ["a"]}), p)
    [d] = fails(source(), p)
    assert d.code == "SLG0606"
    assert "time column `ts` in " in d.message and "is int64, not a timestamp" in d.message
    assert "declare `time ts epoch_ms`" in (d.hint or "")
    jl = tmp_path / "r.jsonl"
    jl.write_text(f'{{"ts": {MS_T0}, "service": "a"}}\n')
    [d] = fails(source(), jl)
    assert d.code == "SLG0606" and "is int64, not a timestamp" in d.message


def test_slg0606_epoch_forms_need_integers(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text(f"ts,service\n{MS_T0}.5,a\n")
    [d] = fails(source(time_form="epoch_ms"), p)
    assert d.code == "SLG0606" and "is double, but `epoch_ms` needs integers" in d.message
    q = tmp_path / "r.parquet"
    pq.write_table(pa.table({"ts": ts_array([T0]), "service": ["a"]}), q)
    [d] = fails(source(time_form="epoch_s"), q)
    assert d.code == "SLG0606"
    assert "is timestamp[us, tz=UTC], but `epoch_s` needs integers" in d.message


def test_slg0606_key_and_units_types_all_reported_together(tmp_path: Path) -> None:
    p = tmp_path / "r.parquet"
    pq.write_table(pa.table({"ts": ts_array([T0]), "service": [7], "latency_ms": ["slow"]}), p)
    diags = fails(source(), p, {"latency_ms", "method"})
    assert sorted(d.code for d in diags) == ["SLG0605", "SLG0606", "SLG0606"]
    messages = " | ".join(d.message for d in diags)
    assert "key column `service` in" in messages and "is int64, not a string" in messages
    assert ("column `latency_ms` in" in messages
            and "is string, but the source declares it in `ms`" in messages)
    assert "column `method` not found" in messages


def test_slg0606_epoch_out_of_range(tmp_path: Path) -> None:
    p = tmp_path / "r.parquet"
    pq.write_table(pa.table({"ts": [2**62], "service": ["a"]}), p)
    [d] = fails(source(time_form="epoch_s"), p)
    assert d.code == "SLG0606" and "out of range" in d.message


def test_slg0607_naive_parquet_and_csv(tmp_path: Path) -> None:
    p = tmp_path / "r.parquet"
    pq.write_table(pa.table({"ts": ts_array([T0], tz=None), "service": ["a"]}), p)
    [d] = fails(source(), p)
    assert d.code == "SLG0607"
    assert d.message == ("source `requests` (table `edge_requests`): time column `ts` in "
                         f"{p.as_posix()} holds naive timestamps (timestamp[us], no time zone)")
    assert d.hint == ("declare `time ts utc` in the source if they are UTC, or write them with "
                      "an offset")
    c = tmp_path / "r.csv"
    c.write_text("ts,service\n2026-10-01T00:00:00,a\n")
    [d] = fails(source(), c)
    assert d.code == "SLG0607" and "r.csv" in d.message and "timestamp[s]" in d.message


def test_slg0607_other_naive_timestamp_columns(tmp_path: Path) -> None:
    p = tmp_path / "r.parquet"
    pq.write_table(pa.table({"ts": ts_array([T0]), "service": ["a"],
                             "closed": ts_array([T0], tz=None)}), p)
    [d] = fails(source(), p, {"closed"})
    assert d.code == "SLG0607" and "column `closed`" in d.message


def test_slg0608_memory_budget(tmp_path: Path) -> None:
    p = tmp_path / "r.parquet"
    pq.write_table(pa.table({"ts": ts_array([T0 + i for i in range(1000)]),
                             "service": ["a"] * 1000}), p)
    [d] = fails(source(), p, memory_budget_bytes=100)
    assert d.code == "SLG0608"
    assert "will not fit in memory" in d.message and "r.parquet" in d.message
    assert "columns ts, service" in d.message and "the budget is 100 B" in d.message
    assert "--engine duckdb" in (d.hint or "") and "--from/--to" in (d.hint or "")
    assert read(source(), p, memory_budget_bytes=10**9).evidence.rows == 1000


def test_default_budget_is_a_fraction_of_physical_memory() -> None:
    from slang.engine.data import default_memory_budget, physical_memory_bytes

    total = physical_memory_bytes()
    assert total is not None and total > 0
    assert default_memory_budget() == int(total * 0.6)


def test_hash_chunks_match_whole_file(tmp_path: Path) -> None:
    p = tmp_path / "big.bin"
    blob = os.urandom(3 * (1 << 20) + 17)
    p.write_bytes(blob)
    assert sha256_file(p) == hashlib.sha256(blob).hexdigest()
