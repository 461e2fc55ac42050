"""`slang audit --engine duckdb` and `slang plan --sql` on the bundled example estate.

The example estate's data mixes Parquet, Arrow IPC, CSV and JSON Lines, so this also covers the
SQL engine's handover of non-Parquet sources to the Arrow reader.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import sqlglot
from click.testing import CliRunner

from slang.cli import main

pytest.importorskip("duckdb", reason="the duckdb extra (pip install 'slang[duckdb]') is absent")

AS_OF = "2026-11-15T00:00:00Z"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("engines")
    result = CliRunner().invoke(main, ["demo", str(out / "data")])
    assert result.exit_code == 0, result.output
    shutil.copytree(REPO / "policies", out / "policies")
    (out / "policies" / "agreements" / "support.sla").unlink()
    return out / "policies", out / "data" / "bindings.yaml"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_duckdb_audit_is_byte_identical_to_arrow(estate: tuple[Path, Path]) -> None:
    policies, bindings = estate
    common = ["audit", str(policies), "--bind", str(bindings), "--as-of", AS_OF,
              "--period", "2026-10", "--format", "json"]
    code_a, arrow, _ = run(*common)
    code_d, duck, err = run(*common, "--engine", "duckdb", "--memory-limit", "512MB",
                            "--threads", "1")
    assert (code_a, code_d) == (1, 1), err  # a breach in October: exit 1 for both
    assert duck == arrow


def test_the_whole_example_estate_is_byte_identical(estate: tuple[Path, Path]) -> None:
    """policies/ as shipped, business_duration conditions included."""
    _, bindings = estate
    common = ["audit", str(REPO / "policies"), "--bind", str(bindings), "--as-of", AS_OF,
              "--period", "2026-10", "--format", "json"]
    code_a, arrow, _ = run(*common)
    code_d, duck, err = run(*common, "--engine", "duckdb")
    assert code_a == code_d, err
    assert duck == arrow


def test_a_bad_memory_limit_is_slg1103(estate: tuple[Path, Path]) -> None:
    policies, bindings = estate
    code, _, err = run("audit", str(policies), "--bind", str(bindings), "--as-of", AS_OF,
                       "--engine", "duckdb", "--memory-limit", "lots")
    assert code == 2
    assert "<command line>: error[SLG1103]: the duckdb engine failed" in err


def test_a_missing_engine_package_is_slg1101(estate: tuple[Path, Path],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    policies, bindings = estate
    monkeypatch.setitem(sys.modules, "duckdb", None)  # `import duckdb` raises ImportError
    code, _, err = run("audit", str(policies), "--bind", str(bindings), "--as-of", AS_OF,
                       "--engine", "duckdb")
    assert code == 2
    assert "error[SLG1101]: --engine duckdb needs the Python package `duckdb`" in err
    assert "pip install 'slang[duckdb]'" in err


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_plan_sql_prints_queries_sqlglot_parses(estate: tuple[Path, Path], dialect: str) -> None:
    policies, _ = estate
    code, out, err = run("plan", str(policies), "--sql", dialect)
    assert code == 0, err
    assert out.startswith(f"-- slang plan --sql {dialect}\n")
    assert "UNTESTED" not in out
    statements = [s for s in sqlglot.parse(out, read=dialect) if s is not None]
    views = [s for s in statements if isinstance(s, sqlglot.exp.Create)]
    assert len(views) == out.count("-- scan ")
    assert len(statements) > len(views)  # and the evaluations' queries
    assert "slang_counted" in out


def test_plan_sql_labels_untested_dialects(estate: tuple[Path, Path]) -> None:
    policies, _ = estate
    code, out, _ = run("plan", str(policies), "--sql", "trino")
    assert code == 0
    assert out.splitlines()[1].startswith("-- UNTESTED: sqlglot's transpilation to trino")


def test_plan_sql_the_duckdb_query_runs(tmp_path: Path) -> None:
    """The printed SQL is the SQL that runs: bound to a table and a counted-time table, DuckDB
    executes it and counts the good rows."""
    import duckdb

    policy = tmp_path / "p.sla"
    policy.write_text((REPO / "tests" / "diagnostics" / "SLG1104.sla").read_text())
    code, out, _ = run("plan", str(policy), "--sql", "duckdb")
    assert code == 0
    con = duckdb.connect()
    con.execute("CREATE TABLE requests AS SELECT * FROM (VALUES "
                "(TIMESTAMPTZ '2026-10-05 10:00:00+00', 'checkout', 200), "
                "(TIMESTAMPTZ '2026-10-05 11:00:00+00', 'checkout', 503), "
                "(TIMESTAMPTZ '2026-10-05 12:00:00+00', 'other', 200)) t(ts, service, status)")
    # evaluation 0 of the batch, service checkout, period 0: the day 2026-10-05 (UTC bucket
    # 20731 of the plan's day buckets from the epoch), counted from 10:30 to midnight
    day = 20731 * 86_400_000_000
    con.execute("CREATE TABLE slang_counted AS SELECT * FROM (VALUES "
                f"(0, 'checkout', 20731, 0, {day}, {day + 37_800_000_000}, "
                f"{day + 86_400_000_000}, false)) t(i, key, w, p, ps, s, e, a)")
    statements = [s for s in out.split(";\n") if "SELECT" in s]
    for s in statements[:-1]:
        con.execute(s)
    # 10:00 is before the counted time; 11:00 (503) and 12:00 (another service) are not good
    assert con.execute(statements[-1]).fetchall() == [(0, 0, 1, 0)]


@pytest.mark.slow
@pytest.mark.usefixtures("spark_session")
def test_spark_audit_is_byte_identical_to_arrow(tmp_path: Path) -> None:
    """`--engine spark` on the test run's shared local session (reused, not stopped)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    policy = tmp_path / "p.sla"
    policy.write_text((REPO / "tests" / "diagnostics" / "SLG1104.sla").read_text())
    stamps = pa.array([1_791_194_400_000_000 + i * 600_000_000 for i in range(30)],
                      pa.timestamp("us", tz="UTC"))  # 2026-10-05 from 10:00, every 10 min
    pq.write_table(pa.table({"ts": stamps, "service": ["checkout"] * 30,
                             "status": [500 if i % 7 == 0 else 200 for i in range(30)]}),
                   tmp_path / "requests.parquet")
    common = ["audit", str(policy), "--data", f"requests={tmp_path / 'requests.parquet'}",
              "--period", "2026-10", "--as-of", AS_OF, "--format", "json"]
    code_a, arrow, _ = run(*common)
    code_s, spark, err = run(*common, "--engine", "spark", "--spark-master", "local[1]")
    assert code_s == code_a == 1, err  # 5 errors in 30: 83.3 %, breached
    assert spark == arrow
