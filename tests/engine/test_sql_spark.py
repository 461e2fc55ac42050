"""The Spark engine against the Arrow engine: the same report, field for field (slow: Spark).

The same differential tests as test_sql_duckdb.py, with fewer examples (each audit runs a few
Spark jobs), on one local Spark session shared by the test run (`spark_session` in
tests/conftest.py). Java 17 or later must be on PATH; CI has it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings

import slang
from slang.diagnostics import SlangError
from slang.engine.audit import PeriodChoice, audit

from .conftest import HEADER, Estate, agreement, ts
from .test_reference import (
    KNOWN_SLICE_MEAN_OF_MEAN,
    KNOWN_SLICE_MEAN_OF_SUM,
    KNOWN_TIMESLICES_LINEAR,
    SETTINGS,
    Case,
    cases,
)
from .test_sql_duckdb import assert_same

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("spark_session")]
SPARK = settings(parent=SETTINGS, max_examples=3)


@SPARK
@given(cases("events"))
def test_ratios_and_aggregates_equal_the_arrow_engine(case: Case) -> None:
    assert_same(case, "spark")


@SPARK
@given(cases("uptime"))
def test_uptime_equals_the_arrow_engine(case: Case) -> None:
    assert_same(case, "spark")


@SPARK
@given(cases("slices"))
def test_slices_equal_the_arrow_engine(case: Case) -> None:
    assert_same(case, "spark")


@pytest.mark.parametrize("case", [KNOWN_SLICE_MEAN_OF_MEAN, KNOWN_SLICE_MEAN_OF_SUM,
                                  KNOWN_TIMESLICES_LINEAR])
def test_known_exactness_cases_equal_the_arrow_engine(case: Case) -> None:
    assert_same(case, "spark")


def _run(estate: Estate, policy: str, tables: dict[str, pa.Table], engine: str
         ) -> dict[str, Any]:
    estate.root.mkdir(parents=True, exist_ok=True)
    (estate.root / "estate.sla").write_text(HEADER + policy)
    data = {}
    for name, t in tables.items():
        pq.write_table(t, estate.root / f"{name}.parquet")
        data[name] = str(estate.root / f"{name}.parquet")
    model = slang.load([estate.root / "estate.sla"])
    return audit(model, data, choice=PeriodChoice(period="2026-10"),
                 as_of=ts("2026-11-02T00:00:00Z"), engine=engine).to_dict()


def test_exact_sum_on_spark(estate: Estate) -> None:
    values = [0.1, 0.2, 0.3, 5e-324, 1e300]
    t = pa.table({"ts": pa.array([ts(f"2026-10-05T10:00:0{i}Z") for i in range(5)],
                                 pa.timestamp("us", tz="UTC")),
                  "service": ["svc"] * 5, "latency_ms": values})
    doc = _run(estate, agreement("objective s { indicator sum(requests.latency_ms) "
                                 "target <= 1ms }"), {"requests": t}, "spark")
    from fractions import Fraction

    assert doc["results"][0]["measured"] == float(sum(map(Fraction, values), Fraction(0)))


def test_nanosecond_timestamps_are_refused_on_spark(estate: Estate, tmp_path: Path) -> None:
    t = pa.table({"ts": pa.array([ts("2026-10-05T10:00:00Z")], pa.timestamp("ns", tz="UTC")),
                  "service": ["svc"]})
    with pytest.raises(SlangError) as exc:
        _run(estate, agreement("objective n { indicator count(requests) target >= 1 }"),
             {"requests": t}, "spark")
    assert [d.code for d in exc.value.diagnostics] == ["SLG1102"]
    # DuckDB reads them, rounding down to the microsecond as the Arrow reader does
    assert _run(estate, agreement("objective n { indicator count(requests) target >= 1 }"),
                {"requests": t}, "duckdb")["results"][0]["measured"] == 1


def test_business_duration_on_spark(estate: Estate) -> None:
    cal = 'calendar office { timezone "UTC" hours mon-fri 09:00-17:00 }\n'
    policy = cal + agreement("""
  objective fast {
    indicator ratio(tickets where business_duration(opened_at, resolved_at, office) <= 2h)
    target >= 50%
  }""")
    stamps = pa.timestamp("us", tz="UTC")
    t = pa.table({"opened_at": pa.array([ts("2026-10-09T16:00:00Z"), ts("2026-10-09T16:00:00Z"),
                                         ts("2026-10-20T09:00:00Z")], stamps),
                  "resolved_at": pa.array([ts("2026-10-12T10:00:00Z"),
                                           ts("2026-10-12T10:00:01Z"), None], stamps),
                  "service": ["svc"] * 3})
    spark = _run(estate, policy, {"tickets": t}, "spark")
    arrow = _run(estate, policy, {"tickets": t}, "arrow")
    assert (spark["results"][0]["good"], spark["results"][0]["total"]) == (1, 3)
    assert spark["results"] == arrow["results"]
