"""The scale benchmark's harness (benchmarks/scale_bench.py) at a tiny size: its generator
writes what the audit reads, its dataset view is a directory dataset, and its agreement check
finds every difference between two engines' reports (so a PASS at 200 M rows means something).
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import slang
from slang.engine.audit import PeriodChoice, audit
from slang.report.render import RENDERERS

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load() -> Any:
    spec = importlib.util.spec_from_file_location("scale_bench", BENCHMARKS / "scale_bench.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["scale_bench"] = module
    spec.loader.exec_module(module)
    return module


sb = _load()
ab = sb.ab
SHARD = 25_000


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two shards of 25 k rows (row groups of ~4 k rows) and the benchmark's estate."""
    root = tmp_path_factory.mktemp("scale")
    sb.ensure_shards(root / "cache", SHARD, 2, row_group=4_000, say=lambda _: None)
    return {
        "cache": root / "cache",
        "view": sb.dataset_view(root / "cache", SHARD, 2),
        "first": sb.dataset_view(root / "cache", SHARD, 1),
        "estate": ab.write_estate(root / "estate"),
    }


def audit_json(estate: Path, data: Path, engine: str = "arrow") -> dict[str, Any]:
    """What `slang audit ESTATE --data edge_requests=DATA --format json` writes."""
    report = audit(slang.load([estate]), {"edge_requests": str(data)},
                   choice=PeriodChoice(None, ab.DATE_FROM, ab.DATE_TO),
                   as_of=dt.datetime.fromisoformat(ab.AS_OF.replace("Z", "+00:00")),
                   engine=engine)
    return json.loads(RENDERERS["json"](report))


def test_shards_hold_the_rows_sorted_in_files_of_months(bench: dict[str, Path]) -> None:
    facts = sb.dataset_facts(bench["view"])
    assert facts["rows"] == 2 * SHARD
    assert facts["files"] == 6  # 2 shards x 3 UTC months
    assert facts["row_groups"] > 6  # ~4 k-row groups
    assert sb.dataset_facts(bench["first"])["rows"] == SHARD
    for f in sorted(bench["view"].rglob("*.parquet")):
        table = pq.read_table(f)
        assert table.schema == sb.schema()
        ts = table.column("ts").cast(pa.int64()).to_numpy()
        assert (ts[1:] >= ts[:-1]).all(), f
        month = dt.datetime.strptime(f.stem, "%Y-%m").replace(tzinfo=dt.UTC)
        assert ts.min() >= int(month.timestamp()) * 1_000_000


def test_a_shard_is_the_same_whoever_generates_it(bench: dict[str, Path],
                                                  tmp_path: Path) -> None:
    sb.write_shard(tmp_path / "lb-01", 1, SHARD, row_group=4_000)
    for f in sorted((tmp_path / "lb-01").glob("*.parquet")):
        cached = sb.shards_root(bench["cache"], SHARD) / "lb-01" / f.name
        assert pq.read_table(f).equals(pq.read_table(cached))


def test_agreement_finds_every_changed_field(bench: dict[str, Path]) -> None:
    doc = audit_json(bench["estate"], bench["view"])
    assert len(doc["results"]) == 450  # 50 agreements x 3 objectives x 3 months
    same = sb.agreement(doc, copy.deepcopy(doc))
    assert same.ok and same.results == 450
    assert sum(same.statuses.values()) == 450

    other = copy.deepcopy(doc)
    other["results"][7]["status"] = "met" if doc["results"][7]["status"] != "met" else "breached"
    other["results"][123]["total"] = doc["results"][123]["total"] + 1
    other["results"][300].pop("measured")
    found = sb.agreement(doc, other)
    assert not found.ok
    assert [p.split(":")[0] for p in found.problems] == [
        "$.results[7].status", "$.results[123].total", "$.results[300].measured"]

    one = sb.agreement({"results": [{"total": 1}]}, {"results": [{"total": 1.0}]})
    assert one.problems == ["$.results[0].total: 1 != 1.0"]  # an integer count is not a float
    shorter = sb.agreement(doc, {**doc, "results": doc["results"][:-1]})
    assert shorter.problems == ["$.results: 450 items != 449 items"]


def test_arrow_and_duckdb_agree_on_the_benchmark_data(bench: dict[str, Path]) -> None:
    pytest.importorskip("duckdb", reason="the duckdb extra (pip install 'slang[duckdb]') is absent")
    arrow = audit_json(bench["estate"], bench["view"])
    duck = audit_json(bench["estate"], bench["view"], engine="duckdb")
    found = sb.agreement(arrow, duck)
    assert found.ok, found.problems[:10]
    assert found.statuses.get("breached", 0) > 0 and found.statuses.get("met", 0) > 0


def test_peak_memory_counts_the_children_nobody_waits_for(tmp_path: Path) -> None:
    """Spark's JVM is a child of the Python driver that GNU time does not see: the harness
    sums the RSS of the whole process tree. Here a parent of ~10 MB leaves a child holding
    ~150 MB running when it exits, as a driver leaves its JVM to die."""
    child = "import time; x = bytearray(150_000_000); time.sleep(1.5)"
    parent = (f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]);"
              " time.sleep(1.0)")
    m = sb.run_measured([sys.executable, "-c", parent], tmp_path / "run.stderr")
    assert m.processes >= 2
    assert m.tree_peak >= 150_000_000  # the child's bytes, which the parent's own peak lacks
    assert m.peak >= m.tree_peak and m.peak >= m.largest
    if os.access(ab.TIME_V, os.X_OK):  # GNU time sees the parent alone
        assert m.largest < 100_000_000
    assert m.wall >= 1.0 and m.cpu >= 0
