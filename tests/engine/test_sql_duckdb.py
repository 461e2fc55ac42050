"""The DuckDB engine against the Arrow engine: the same report, field for field.

Differential tests reuse the reference tests' strategies (test_reference.py): hypothesis draws
tables (events around a DST change, with nulls, NaN and inexact decimals; overlapping, open and
backwards incidents; maintenance windows) and agreements (every period kind, time zones, hours
with holidays, every exclusion form including `as available`, every indicator kind). Both
engines audit the same Parquet files; the whole report (results, money, cap adjustments and
the evidence: hashes, rows, rows skipped per reason, coverage) must be equal.

Pinned cases check what the differential tests cannot see: exactness against hand-computed
values, and the refusal of what the SQL engines cannot compute exactly (SLG1102).
"""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings

import slang
from slang.diagnostics import SlangError
from slang.engine.audit import PeriodChoice, audit

from .conftest import HEADER, Estate, agreement, table, ts
from .test_reference import (
    EVENT_SCHEMA,
    INCIDENT_SCHEMA,
    KNOWN_AS_AVAILABLE_RATIO,
    KNOWN_AS_AVAILABLE_SLICES,
    KNOWN_SLICE_MEAN_OF_MEAN,
    KNOWN_SLICE_MEAN_OF_SUM,
    KNOWN_TIMESLICES_LINEAR,
    MAINTENANCE_SCHEMA,
    SETTINGS,
    Case,
    cases,
    write_table,
)

pytest.importorskip("duckdb", reason="the duckdb extra (pip install 'slang[duckdb]') is absent")

# each example audits twice; the reference tests already run 100 per family against the
# reference evaluator, so fewer here keep the suite fast
DIFF = settings(parent=SETTINGS, max_examples=40)


def run_both(case: Case, engine: str = "duckdb") -> tuple[dict[str, Any], dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "policy.sla").write_text(case.text())
        write_table(case.events, EVENT_SCHEMA, d / "requests.parquet")
        write_table(case.incidents, INCIDENT_SCHEMA, d / "incidents.parquet")
        write_table(case.maintenance, MAINTENANCE_SCHEMA, d / "maintenance.parquet")
        model = slang.load([str(d / "policy.sla")])
        assert not model.errors, [str(e) for e in model.errors]
        data = {t: d / f"{t}.parquet" for t in ("requests", "incidents", "maintenance")}
        choice = PeriodChoice(date_from=case.date_from, date_to=case.date_to)
        arrow = audit(model, data, choice=choice, as_of=case.as_of).to_dict()
        other = audit(model, data, choice=choice, as_of=case.as_of, engine=engine).to_dict()
        return arrow, other


def assert_same(case: Case, engine: str = "duckdb") -> None:
    arrow, other = run_both(case, engine)
    for a, b in zip(arrow["results"], other["results"], strict=True):
        assert a == b, (case.describe(), {k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)})
    assert arrow == other


@DIFF
@given(cases("events"))
def test_ratios_and_aggregates_equal_the_arrow_engine(case: Case) -> None:
    assert_same(case)


@DIFF
@given(cases("uptime"))
def test_uptime_equals_the_arrow_engine(case: Case) -> None:
    assert_same(case)


@DIFF
@given(cases("slices"))
def test_slices_equal_the_arrow_engine(case: Case) -> None:
    assert_same(case)


@pytest.mark.parametrize("case", [KNOWN_AS_AVAILABLE_RATIO, KNOWN_AS_AVAILABLE_SLICES,
                                  KNOWN_SLICE_MEAN_OF_MEAN, KNOWN_SLICE_MEAN_OF_SUM,
                                  KNOWN_TIMESLICES_LINEAR])
def test_known_exactness_cases_equal_the_arrow_engine(case: Case) -> None:
    assert_same(case)


# ------------------------------------------------------------------ hand-computed values


def _duck(estate: Estate, policy: str, tables: dict[str, Any], **kw: Any) -> dict[str, Any]:
    estate.root.mkdir(parents=True, exist_ok=True)
    path = estate.root / "estate.sla"
    path.write_text(HEADER + "\n" + policy)
    data = {}
    for name, cols in tables.items():
        out = estate.root / f"{name}.parquet"
        pq.write_table(cols if isinstance(cols, pa.Table) else table(cols), out)
        data[name] = str(out)
    model = slang.load([path])
    assert not model.errors
    report = audit(model, data, choice=PeriodChoice(period=kw.get("period", "2026-10")),
                   as_of=ts(kw.get("as_of", "2026-11-02T00:00:00Z")), engine="duckdb")
    return {r["objective"]: r for r in report.to_dict()["results"]}


def test_sum_and_mean_are_exact_not_float_sums(estate: Estate) -> None:
    """0.1 + 0.2 + 0.3 in doubles is 0.6000000000000001; the exact sum of the three doubles
    is 0.6000000000000000055511151231257827..., whose nearest double is 0.6."""
    got = _duck(estate, agreement("""
  objective total { indicator sum(requests.latency_ms)  target <= 1ms }
  objective avg   { indicator mean(requests.latency_ms) target <= 1ms }
"""), {"requests": {"ts": ["2026-10-05T10:00:00Z", "2026-10-05T10:00:01Z",
                            "2026-10-05T10:00:02Z"], "latency_ms": [0.1, 0.2, 0.3]}})
    exact = Fraction(0.1) + Fraction(0.2) + Fraction(0.3)
    assert got["total"]["measured"] == float(exact) == 0.6
    assert got["avg"]["measured"] == float(exact / 3)


def test_sums_of_subnormal_and_huge_values_are_exact(estate: Estate) -> None:
    values = [5e-324, 1e308, -1e308, 2.5e-310, 3.0]
    got = _duck(estate, agreement("""
  objective total { indicator sum(requests.latency_ms) target <= 10ms }
"""), {"requests": {"ts": [f"2026-10-05T10:00:0{i}Z" for i in range(5)], "latency_ms": values}})
    assert got["total"]["measured"] == float(sum((Fraction(v) for v in values), Fraction(0)))


def test_nearest_rank_percentile_is_max_1_ceil_q_n_over_100(estate: Estate) -> None:
    """p90 of 1..10 is the 9th value; p91 the 10th (ceil(9.1)); p5 of 1..10 the 1st.
    DuckDB's quantile_disc is not used: the rank is computed in integers."""
    got = _duck(estate, agreement("""
  objective p90 { indicator percentile(requests.latency_ms, 90) target <= 1s }
  objective p91 { indicator percentile(requests.latency_ms, 91) target <= 1s }
  objective p5  { indicator percentile(requests.latency_ms, 5)  target <= 1s }
  objective l25 { indicator percentile(requests.latency_ms, 25, method: linear) target <= 1s }
"""), {"requests": {"ts": [f"2026-10-05T10:00:{i:02d}Z" for i in range(10)],
                    "latency_ms": [float(v) for v in (7, 3, 10, 1, 9, 2, 8, 4, 6, 5)]}})
    assert (got["p90"]["measured"], got["p91"]["measured"], got["p5"]["measured"]) == (9, 10, 1)
    assert got["l25"]["measured"] == 3.25  # h = 9 * 0.25 = 2.25: 3 + 0.25 * (4 - 3)


def _both(estate: Estate, policy: str, data: dict[str, str]) -> tuple[dict[str, Any], ...]:
    estate.root.mkdir(parents=True, exist_ok=True)
    (estate.root / "estate.sla").write_text(HEADER + policy)
    model = slang.load([estate.root / "estate.sla"])
    assert not model.errors
    kw: dict[str, Any] = {"choice": PeriodChoice(period="2026-10"),
                          "as_of": ts("2026-11-02T00:00:00Z")}
    return (audit(model, data, **kw).to_dict(),
            audit(model, data, engine="duckdb", **kw).to_dict())


def test_csv_and_text_instants_are_read_by_the_arrow_reader(estate: Estate,
                                                           tmp_path: Path) -> None:
    """CSV inference and ISO text parsing are the Arrow reader's rules: such sources are read
    by it and handed to DuckDB, so the report (evidence included) is the Arrow engine's."""
    csv = tmp_path / "requests.csv"
    csv.write_text("ts,service,status\n2026-10-05T10:00:00Z,svc,200\n"
                   "2026-10-05T11:00:00+01:00,svc,500\n,svc,200\n2026-10-06T00:00:00Z,,200\n")
    text = tmp_path / "text.parquet"
    pq.write_table(pa.table({"ts": ["2026-10-05T10:00:00Z", "2026-10-07T10:00:00Z"],
                             "service": ["svc", "svc"], "status": [200, 503]}), text)
    policy = agreement("objective ok { indicator ratio(requests where status < 500) "
                       "target >= 50% }")
    for path in (csv, text):
        arrow, duck = _both(estate, policy, {"requests": str(path)})
        assert arrow == duck
    arrow, _ = _both(estate, policy, {"requests": str(csv)})
    assert (arrow["results"][0]["good"], arrow["results"][0]["total"]) == (1, 2)


def test_an_unknown_column_is_the_same_diagnostic_as_arrow(estate: Estate) -> None:
    with pytest.raises(SlangError) as exc:
        _duck(estate, agreement("objective ok { indicator ratio(requests where status < 500) "
                                "target >= 50% }"),
              {"requests": {"ts": ["2026-10-05T10:00:00Z"], "code": [200]}})
    assert [d.code for d in exc.value.diagnostics] == ["SLG0605"]


def test_business_duration_equals_the_arrow_engine(estate: Estate) -> None:
    """Counted calendar time between two instants, in SQL: a ticket opened Friday 16:00 and
    resolved Monday 10:00 has 1 h + 1 h = 2 h of mon-fri 09:00-17:00 between them; an open
    ticket ages up to as_of; a ticket without an opening time is never good."""
    cal = 'calendar office { timezone "UTC" hours mon-fri 09:00-17:00 }\n'
    policy = cal + agreement("""
  objective fast {
    indicator ratio(tickets where business_duration(opened_at, resolved_at, office) <= 2h)
    target >= 50%
  }""")
    tables = {"tickets": {"opened_at": ["2026-10-09T16:00:00Z", "2026-10-09T16:00:00Z",
                                        "2026-10-20T09:00:00Z", "2026-10-21T09:00:00Z"],
                          "resolved_at": ["2026-10-12T10:00:00Z", "2026-10-12T10:00:01Z",
                                          None, "2026-10-21T09:30:00Z"]}}
    got = _duck(estate, policy, tables)["fast"]
    assert (got["good"], got["total"]) == (2, 4)
    assert got == estate.run(policy, tables, period="2026-10",
                             as_of="2026-11-02T00:00:00Z").r("fast")


def test_division_is_true_division_and_by_zero_is_null(estate: Estate) -> None:
    """`/` as the Arrow engine: 7 / 2 is 3.5, 5 / 0 is null (the condition is false)."""
    policy = agreement("""
  objective fast { indicator ratio(requests where bytes / n > 3) target >= 50% }""")
    tables = {"requests": {"ts": ["2026-10-05T10:00:00Z"] * 4,
                           "bytes": [7, 6, 5, 9], "n": [2, 2, 0, 4]}}
    got = _duck(estate, policy, tables)["fast"]
    assert (got["good"], got["total"]) == (1, 4)
    assert got == estate.run(policy, tables, period="2026-10",
                             as_of="2026-11-02T00:00:00Z").r("fast")


def test_nan_is_neither_greater_nor_less_even_with_parquet_statistics(estate: Estate) -> None:
    """IEEE, as Arrow: NaN > 200 and NaN < 200 are both false. SQL engines order NaN above every
    number, and DuckDB folded `isnan(x)` to false from Parquet statistics (which leave NaN
    out); both are guarded against."""
    got = _duck(estate, agreement("""
  objective slow { indicator ratio(requests where status < 500, requests where latency_ms > 0.2s)
                   target >= 0% }
  objective fast { indicator count(requests where latency_ms < 0.2s) target >= 0 }
"""), {"requests": {"ts": ["2026-10-05T10:00:00Z", "2026-10-05T10:00:01Z",
                            "2026-10-05T10:00:02Z"], "status": [200, 200, 200],
                    "latency_ms": [100.0, 300.0, float("nan")]}})
    assert (got["slow"]["good"], got["slow"]["total"]) == (1, 1)
    assert got["fast"]["measured"] == 1


def test_a_cancelled_audit_removes_duckdbs_spill_directory(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    """SIGTERM (a CI job cancelled) during a query ends the audit with status 143 (not
    DuckDB's `Query interrupted` error), and the backend is closed, so its database file and
    sort spill (gigabytes at scale) are removed."""
    import os
    import signal

    from slang.engine.sql.executor import SqlExecutor

    spills = tmp_path / "tmp"
    spills.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spills))
    before = signal.getsignal(signal.SIGTERM)

    def terminated(self: SqlExecutor, ev: Any, p: Any) -> Any:
        assert [d.name[:13] for d in spills.iterdir()] == ["slang-duckdb-"]
        try:
            os.kill(os.getpid(), signal.SIGTERM)
        except SystemExit:  # as DuckDB reports a signal that arrives during a query
            raise RuntimeError("Query interrupted") from None
        raise AssertionError("SIGTERM did not stop the audit")

    monkeypatch.setattr(SqlExecutor, "measure", terminated)
    case = KNOWN_AS_AVAILABLE_RATIO
    d = tmp_path / "estate"
    d.mkdir()
    (d / "policy.sla").write_text(case.text())
    for name, rows, schema in (("requests", case.events, EVENT_SCHEMA),
                               ("incidents", case.incidents, INCIDENT_SCHEMA),
                               ("maintenance", case.maintenance, MAINTENANCE_SCHEMA)):
        write_table(rows, schema, d / f"{name}.parquet")
    model = slang.load([str(d / "policy.sla")])
    data = {t: d / f"{t}.parquet" for t in ("requests", "incidents", "maintenance")}
    with pytest.raises(SystemExit) as exc:
        audit(model, data, choice=PeriodChoice(date_from=case.date_from, date_to=case.date_to),
              as_of=case.as_of, engine="duckdb")
    assert exc.value.code == 128 + signal.SIGTERM
    assert list(spills.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is before
