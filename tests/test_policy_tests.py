"""Policy tests (`slang test`): the runner against hand-computed results, the exact failure
messages, data problems located at the test, and the command line in every format and exit
code."""

from __future__ import annotations

import json
import os
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import slang
from slang.cli import main
from slang.testing import run_tests
from slang.testing.render import render_text
from slang.testing.runner import describe_measured
from slang.testing.tables import inline_table

ESTATE = """\
catalogue "Kestrel" { service checkout { title "Checkout" } }

events requests from "requests" {
  time  ts
  key   service
  units { latency_ms: ms }
}

intervals maintenance from "maintenance" {
  start start
  end   end
  key   service
}

agreement checkout_retail {
  service    checkout
  customer   "Retail BU"
  status     agreed
  timezone   "Europe/London"
  period     monthly
  fee        12000.00 GBP
  credit_cap 30%

  exclude maintenance

  objective availability {
    indicator ratio(requests where status < 500)
    target    >= 99.9%
  }
  objective latency {
    indicator p95(requests.latency_ms)
    target    <= 300ms
  }

  credit availability {
    below 99.9% => 10%
    below 99.0% => 25%
  }
  credit latency {
    above 300ms => 10%
  }
}

agreement checkout_draft {
  service checkout
  status  draft
  period  rolling 7d
  objective availability {
    indicator ratio(requests where status < 500)
    target    >= 99%
  }
}
"""

# Four requests in October 2026 (London), one a 503: availability 3/4 = 75 %, below 99.0 %, so
# 25 % of 12 000 = 3000.00; p95 (nearest rank: ceil(0.95 x 4) = 4th of 100, 120, 250, 400) is
# 400 ms, above 300 ms: 10 % = 1200.00. Total 4200.00, capped at 30 % = 3600.00.
REQUESTS = """\
  data requests {
    columns ts,                   service,    status, latency_ms
    row     2026-10-01T10:00:00Z, "checkout", 200,    100
    row     2026-10-02T10:00:00Z, "checkout", 503,    400
    row     2026-10-03T10:00:00Z, "checkout", 200,    250
    row     2026-10-31T23:30:00Z, "checkout", 200,    120
    row     2026-11-01T00:30:00Z, "checkout", 503,    120
  }
  data maintenance {}
"""


def write_estate(root: Path, tests: dict[str, str]) -> None:
    (root / "slang.toml").write_text("")
    (root / "estate.sla").write_text(ESTATE)
    for name, text in tests.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def run_in(root: Path, monkeypatch: pytest.MonkeyPatch, pattern: str | None = None):
    monkeypatch.chdir(root)
    model = slang.load(["."])
    assert model.errors == [], model.errors
    return run_tests(model, pattern)


def a_test(name: str, body: str, as_of: str = "2026-11-01T00:00:00Z") -> str:
    return f"test {name} {{\n  as_of {as_of}\n{REQUESTS}{body}}}\n"


# ------------------------------------------------------------------------------- passing


def test_hand_computed_october_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_estate(tmp_path, {"checkout_test.sla": a_test("october", """\
  expect checkout_retail.availability 2026-10 { status breached  measured 75%  credit 25% }
  expect checkout_retail.latency 2026-10 { status breached  measured 400ms  credit 1200.00 GBP }
  expect checkout_retail 2026-10 { credit 3600.00 GBP }
""")})
    run = run_in(tmp_path, monkeypatch)
    assert [(r.case.id, r.status) for r in run.results] == [("checkout_test.sla::october",
                                                              "passed")]
    assert render_text(run) == "PASS checkout_test.sla::october\n\n1 passed, 0 failed\n"


def test_the_row_at_the_period_end_belongs_to_the_next_month(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2026-11-01T00:30Z is 00:30 GMT on 1 November: November's, and November is running at
    as_of 2026-11-02, so it is at risk (1 of 1 requests failed), not breached."""
    write_estate(tmp_path, {"n_test.sla": a_test("november", """\
  expect checkout_retail.availability 2026-11 { status at_risk  measured 0%  credit 0% }
  expect checkout_retail 2026-11 { credit 0 GBP }
""", as_of="2026-11-02T00:00:00Z")})
    assert [r.status for r in run_in(tmp_path, monkeypatch).results] == ["passed"]


def test_a_draft_rolling_agreement_is_evaluated_when_a_test_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rolling 7d at as_of 2026-10-04: 2026-09-27 .. 2026-10-04, the first three requests."""
    write_estate(tmp_path, {"d_test.sla": a_test("draft", """\
  expect checkout_draft.availability rolling-7d { status breached  measured 66.67% within 0.01% }
""", as_of="2026-10-04T00:00:00Z")})
    assert [r.status for r in run_in(tmp_path, monkeypatch).results] == ["passed"]


def test_fixtures_are_read_relative_to_the_test_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Maintenance from 09:00 to 11:00 UTC on 2 October removes the 503 at 10:00: 3 of 3 good."""
    write_estate(tmp_path, {
        "tests/fixtures/maintenance.csv": "start,end,service\n"
        "2026-10-02T09:00:00Z,2026-10-02T11:00:00Z,checkout\n",
        "tests/m_test.sla": a_test("maintained", """\
  expect checkout_retail.availability 2026-10 { status met  measured 100% }
""").replace("data maintenance {}", 'data maintenance from "fixtures/maintenance.csv"'),
    })
    assert [r.status for r in run_in(tmp_path, monkeypatch).results] == ["passed"]


# ------------------------------------------------------------------------------- failing


def test_failures_say_what_was_expected_and_what_was_measured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_estate(tmp_path, {"checkout_test.sla": a_test("wrong", """\
  expect checkout_retail.availability 2026-10 { status met  measured 99.5%  credit 10% }
  expect checkout_retail.latency 2026-10 { measured 250ms  credit 0 GBP }
  expect checkout_retail 2026-10 { credit 4200.00 GBP }
  expect checkout_retail 2026-12 { credit 0 GBP }
""")})
    run = run_in(tmp_path, monkeypatch)
    (result,) = run.results
    assert result.status == "failed"
    assert [(f.span.line, f.span.col, f.message) for f in result.failures] == [
        (12, 49, "checkout_retail.availability 2026-10: status expected met, actual breached"),
        (12, 61, "checkout_retail.availability 2026-10: measured expected 99.5%, actual 75%"),
        (12, 77, "checkout_retail.availability 2026-10: credit expected 10%, actual 25%"),
        (13, 44, "checkout_retail.latency 2026-10: measured expected 250ms, actual 400ms"),
        (13, 60, "checkout_retail.latency 2026-10: credit expected 0 GBP, actual 1200.00 GBP"),
        (14, 36, "checkout_retail 2026-10: credit expected 4200.00 GBP, actual 3600.00 GBP"),
        (15, 3, "checkout_retail 2026-12: no result for this period at as_of "
                "2026-11-01T00:00:00Z (it starts at or after as_of, or lies outside the "
                "agreement's `effective` range)"),
    ]
    text = render_text(run)
    assert text.startswith("FAIL checkout_test.sla::wrong\ncheckout_test.sla:12:49: ")
    assert (
        "checkout_test.sla:12:61: checkout_retail.availability 2026-10: measured expected "
        "99.5%, actual 75%\n"
        "  12 |   expect checkout_retail.availability 2026-10 { status met  measured 99.5%  "
        "credit 10% }\n"
        "     |                                                             ^^^^^^^^^^^^^^\n"
    ) in text
    assert text.endswith("\n\n0 passed, 1 failed\n")


def test_measured_values_are_compared_exactly_unless_a_tolerance_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three requests, one bad: 2/3, which no decimal writes. 66.67% is not it; within 0.01%
    it is (|2/3 - 0.6667| = 1/30000 <= 0.0001)."""
    body = """\
  data requests {
    columns ts,                   service,    status, latency_ms
    row     2026-10-01T10:00:00Z, "checkout", 200,    1
    row     2026-10-01T10:00:01Z, "checkout", 500,    1
    row     2026-10-01T10:00:02Z, "checkout", 200,    1
  }
  data maintenance {}
"""
    write_estate(tmp_path, {
        "exact_test.sla": f"test exact {{\n  as_of 2026-11-01T00:00:00Z\n{body}"
        "  expect checkout_retail.availability 2026-10 { measured 66.67% }\n}\n",
        "within_test.sla": f"test within {{\n  as_of 2026-11-01T00:00:00Z\n{body}"
        "  expect checkout_retail.availability 2026-10 { measured 66.67% within 0.01% }\n"
        "  expect checkout_retail.availability 2026-10 { measured 66.66% within 0.006% }\n}\n",
    })
    exact, within = run_in(tmp_path, monkeypatch).results
    assert [f.message for f in exact.failures] == [
        "checkout_retail.availability 2026-10: measured expected 66.67%, actual "
        "66.66666667…% (exactly 2/3)"]
    # 66.66% within 0.006%: |2/3 - 0.6666| = 0.0000666… > 0.00006
    assert [f.message for f in within.failures] == [
        "checkout_retail.availability 2026-10: measured expected 66.66% within 0.006%, actual "
        "66.66666667…% (exactly 2/3)"]


def test_no_data_has_no_measured_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_estate(tmp_path, {"e_test.sla": """\
test empty {
  as_of 2026-11-01T00:00:00Z
  data requests {}
  data maintenance {}
  expect checkout_retail.availability 2026-10 { status no_data  credit 0% }
  expect checkout_retail.latency 2026-10 { measured 0ms }
}
"""})
    (result,) = run_in(tmp_path, monkeypatch).results
    assert [f.message for f in result.failures] == [
        "checkout_retail.latency 2026-10: measured expected 0ms, actual no value (no data)"]


def test_data_problems_are_located_at_the_tests_data_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_estate(tmp_path, {"x_test.sla": """\
test no_status_column {
  as_of 2026-11-01T00:00:00Z
  data requests {
    columns ts,                   service,    latency_ms
    row     2026-10-01T10:00:00Z, "checkout", 100
  }
  data maintenance {}
  expect checkout_retail.availability 2026-10 { status met }
}
"""})
    (result,) = run_in(tmp_path, monkeypatch).results
    assert result.status == "error"
    (d,) = result.diagnostics
    assert (d.code, d.span.file, d.span.line, d.span.col) == ("SLG0605", "x_test.sla", 3, 3)
    assert d.message == ("source `requests` (table `requests`): column `status` not found in "
                         "the inline table for `requests`")


def test_run_selects_tests_by_name_or_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    ok = "  expect checkout_retail.availability 2026-10 { status breached }\n"
    write_estate(tmp_path, {"a_test.sla": a_test("alpha", ok) + "\n" + a_test("beta", ok),
                            "b_test.sla": a_test("gamma", ok)})
    assert [r.case.name for r in run_in(tmp_path, monkeypatch, "^(alpha|gamma)$").results] == [
        "alpha", "gamma"]
    run = run_in(tmp_path, monkeypatch, "b_test")
    assert ([r.case.id for r in run.results], run.found) == (["b_test.sla::gamma"], 3)


# ---------------------------------------------------------------------------- inline data


def test_inline_tables_take_their_types_from_the_literals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_estate(tmp_path, {"t_test.sla": """\
test types {
  as_of 2026-11-01T00:00:00Z
  data requests {
    columns ts,                        service,    status, latency_ms, day,        ok,    note
    row     2026-10-01T11:00:00+01:00, "checkout", 200,    -1,         2026-10-01, true,  null
    row     null,                      null,       503,    2.5,        null,       false, null
  }
  data maintenance {}
  expect checkout_retail.availability 2026-10 { status met }
}
"""})
    monkeypatch.chdir(tmp_path)
    (case,) = slang.load(["."]).tests
    table = inline_table(case.data[0])
    assert table.schema == pa.schema([
        ("ts", pa.timestamp("us", tz="UTC")), ("service", pa.string()), ("status", pa.int64()),
        ("latency_ms", pa.float64()), ("day", pa.date32()), ("ok", pa.bool_()),
        ("note", pa.null()),
    ])
    assert table.column("ts")[0].as_py().isoformat() == "2026-10-01T10:00:00+00:00"
    assert table.column("latency_ms").to_pylist() == [-1.0, 2.5]
    empty = inline_table(case.data[1])
    assert empty.num_rows == 0
    assert empty.schema.names == ["start", "end", "service"]


def test_measured_values_are_described_in_the_objectives_units() -> None:
    from fractions import Fraction

    model = slang.load([_estate_file()])
    a = model.agreements["checkout_retail"]
    availability, latency = a.objectives
    assert describe_measured(Fraction(995, 1000), availability) == "99.5%"
    assert describe_measured(Fraction(1, 3), availability) == \
        "33.33333333…% (exactly 1/3)"
    assert describe_measured(Fraction(501, 2), latency) == "250.5ms"


def _estate_file() -> str:
    import tempfile

    directory = Path(tempfile.mkdtemp())
    (directory / "slang.toml").write_text("")
    (directory / "estate.sla").write_text(ESTATE)
    return str(directory / "estate.sla")


# ---------------------------------------------------------------------------- command line


def cli(root: Path, *args: str) -> tuple[int, str, str]:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(main, ["test", *args])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stdout, result.stderr


OK = "  expect checkout_retail.availability 2026-10 { status breached  credit 25% }\n"
BAD = "  expect checkout_retail.availability 2026-10 { status met }\n"


def test_cli_exit_0_when_every_test_passes(tmp_path: Path) -> None:
    write_estate(tmp_path, {"a_test.sla": a_test("good", OK)})
    assert cli(tmp_path, ".") == (0, "PASS a_test.sla::good\n\n1 passed, 0 failed\n", "")


def test_cli_exit_1_when_a_test_fails(tmp_path: Path) -> None:
    write_estate(tmp_path, {"a_test.sla": a_test("good", OK) + "\n" + a_test("bad", BAD)})
    code, out, _ = cli(tmp_path, ".")
    assert code == 1
    assert out == (
        "PASS a_test.sla::good\n"
        "FAIL a_test.sla::bad\n"
        "a_test.sla:26:49: checkout_retail.availability 2026-10: status expected met, actual "
        "breached\n"
        "  26 |   expect checkout_retail.availability 2026-10 { status met }\n"
        "     |                                                 ^^^^^^^^^^\n"
        "\n"
        "1 passed, 1 failed\n"
    )


def test_cli_no_tests_is_fine_unless_required(tmp_path: Path) -> None:
    write_estate(tmp_path, {})
    code, out, _ = cli(tmp_path, ".")
    assert (code, out) == (0, "no tests found: tests are `test` blocks in files whose names end "
                              "in `_test.sla` (see docs/language.md, section 4.7)\n")
    assert cli(tmp_path, ".", "--require-tests")[0] == 1
    write_estate(tmp_path, {"a_test.sla": a_test("good", OK)})
    assert cli(tmp_path, ".", "--run", "nothing") == (
        0, "no test matches --run 'nothing' (1 found)\n", "")
    assert cli(tmp_path, ".", "--run", "nothing", "--require-tests")[0] == 1


def test_cli_exit_2_for_invalid_tests_data_or_options(tmp_path: Path) -> None:
    write_estate(tmp_path, {"a_test.sla": a_test("good", OK.replace("breached", "breachd"))})
    code, out, err = cli(tmp_path, ".")
    assert (code, out) == (2, "")
    assert err.startswith("a_test.sla:12:56: error[SLG0811]: `breachd` is not a status\n")
    write_estate(tmp_path, {"a_test.sla": a_test("good", OK).replace("status, latency_ms",
                                                                     "code, latency_ms")})
    code, out, err = cli(tmp_path, ".")
    assert code == 2
    assert "ERROR a_test.sla::good\n" in out and "error[SLG0605]" in out
    assert out.endswith("0 passed, 0 failed, 1 could not run\n")
    code, _, err = cli(tmp_path, ".", "--run", "(")
    assert code == 2 and "error[SLG0004]: invalid --run" in err


def test_cli_json(tmp_path: Path) -> None:
    write_estate(tmp_path, {"a_test.sla": a_test("good", OK) + "\n" + a_test("bad", BAD)})
    code, out, _ = cli(tmp_path, ".", "--format", "json")
    doc = json.loads(out)
    assert code == 1
    assert doc["summary"] == {"tests": 2, "passed": 1, "failed": 1, "errors": 0, "found": 2}
    good, bad = doc["tests"]
    assert (good["name"], good["status"], good["failures"]) == ("good", "passed", [])
    assert bad["failures"] == [{
        "agreement": "checkout_retail", "objective": "availability", "period": "2026-10",
        "what": "status", "expected": "met", "actual": "breached",
        "message": "checkout_retail.availability 2026-10: status expected met, actual breached",
        "file": "a_test.sla", "line": 26, "col": 49,
    }]


def test_cli_junit_parses_with_the_right_counts(tmp_path: Path) -> None:
    write_estate(tmp_path, {"a_test.sla": a_test("good", OK) + "\n" + a_test("bad", BAD)})
    code, out, _ = cli(tmp_path, ".", "--format", "junit", "--output", "r.xml")
    assert (code, out) == (1, "")
    root = ET.parse(tmp_path / "r.xml").getroot()
    assert (root.tag, root.get("tests"), root.get("failures"), root.get("errors")) == (
        "testsuites", "2", "1", "0")
    cases = root.findall("./testsuite/testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("a_test.sla", "good"), ("a_test.sla", "bad")]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.get("message") == ("checkout_retail.availability 2026-10: status expected "
                                      "met, actual breached")
    assert "a_test.sla:26:49" in (failure.text or "")


def test_cli_junit_reports_a_test_that_could_not_run_as_an_error(tmp_path: Path) -> None:
    write_estate(tmp_path, {"a_test.sla": a_test("good", OK).replace("status, latency_ms",
                                                                     "code, latency_ms")})
    code, out, _ = cli(tmp_path, ".", "--format", "junit")
    assert code == 2
    root = ET.fromstring(out)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "1")
    error = root.find("./testsuite/testcase/error")
    assert error is not None and error.get("type") == "SLG0605"


def test_audit_ignores_test_files(tmp_path: Path) -> None:
    """A broken test file does not stop `slang audit`, and is not in its evidence."""
    write_estate(tmp_path, {"a_test.sla": "test broken {"})
    (tmp_path / "requests.csv").write_text("ts,service,status,latency_ms\n")
    (tmp_path / "maintenance.csv").write_text("start,end,service\n")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(main, [
            "audit", ".", "--data", "requests=requests.csv", "--data",
            "maintenance=maintenance.csv", "--period", "2026-10", "--as-of",
            "2026-11-01T00:00:00Z", "--format", "json"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [p["path"] for p in doc["evidence"]["policies"]] == ["estate.sla"]


# ---------------------------------------------------------------------- the example estate

REPO = Path(__file__).resolve().parent.parent


def test_the_example_estates_tests_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    code, out, err = cli(REPO, "policies/")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "4 passed, 0 failed"


def test_the_checkout_uptime_is_exactly_the_hand_computed_fraction(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """(44 220 - 90) / 44 220 minutes: the test file says `99.7965% within 0.0001%`; the engine
    must give exactly 1471/1474."""
    from fractions import Fraction

    from slang.testing.runner import run_test

    monkeypatch.chdir(REPO)
    model = slang.load(["policies/"])
    case = next(t for t in model.tests if t.name == "checkout_breached_in_october")
    assert run_test(model, case).failures == ()
    uptime = next(e for e in case.expectations
                  if e.objective is not None and e.objective.name == "uptime")
    measured = next(c for c in uptime.checks if c.what == "measured")
    assert abs(Fraction(1471, 1474) - Fraction(measured.value)) <= Fraction(1, 10**6)
    restricted = {"checkout_retail": model.agreements["checkout_retail"]}
    import dataclasses

    from slang.engine.audit import PeriodChoice, audit
    from slang.testing.runner import columns_read
    from slang.testing.tables import bind

    with __import__("tempfile").TemporaryDirectory() as scratch:
        data = bind(case.data, Path(scratch), columns_read(model, case))
        report = audit(dataclasses.replace(model, agreements=restricted), data,
                       choice=PeriodChoice(period="2026-10"), as_of=case.as_of)
    (result,) = [r for r in report.results if r.objective.name == "uptime"]
    assert result.measure.measured == Fraction(1471, 1474)


# -------------------------------------------------------------------------------- checking

CHECKS = [
    # (test body, code, line, col, message)
    ('  data requests from "/etc/requests.csv"\n', "SLG0808", 3, 22,
     "fixture `/etc/requests.csv` is an absolute path"),
    ('  data requests from "requests.txt"\n', "SLG0808", 3, 22,
     "cannot tell the format of fixture `requests.txt` from its extension"),
    ("  data requests { columns ts, service, status, latency_ms\n"
     '    row 2026-10-01T10:00:00Z, "checkout", 200, 120ms }\n', "SLG0806", 4, 48,
     "a value in column `latency_ms` is a duration, which data never holds"),
    ("  data requests { columns ts, service, status, latency_ms\n"
     '    row 2026-10-01T10:00:00Z, 5, 200, 120 }\n', "SLG0807", 3, 31,
     "`service` is the key column of `requests`, so it holds strings, not integers"),
    ("  data requests { columns ts, service, status, latency_ms\n"
     '    row 2026-10-01T10:00:00Z, "checkout", 200, "slow" }\n', "SLG0807", 3, 48,
     "`requests` measures `latency_ms` in ms, so it holds numbers, not strings"),
    ("  data requests { columns service, status\n"
     '    row "checkout", 200 }\n', "SLG0807", 3, 27,
     "the table for `requests` has no column `ts`, the source's time column"),
    ("  data requests { row 1 }\n", "SLG0805", 3, 19, "rows without a `columns` header"),
    ("  data requests { columns a, a }\n", "SLG0805", 3, 30, "column `a` is named twice"),
    ("  data nope {}\n", "SLG0202", 3, 8, "unknown source `nope`"),
    ("  expect checkout_draft.availability 2026-10 { status met }\n", "SLG0804", 3, 38,
     "`checkout_draft` is measured over a rolling window, labelled `rolling-7d`, not `2026-10`"),
    ("  expect checkout_retail.availability 2026-W54 { status met }\n", "SLG0804", 3, 39,
     "`2026-W54` is not a period: invalid week: 54"),
    ("  expect checkout_retail.availability.x 2026-10 { status met }\n", "SLG0803", 3, 10,
     "`checkout_retail.availability.x` is not an agreement or `agreement.objective`"),
    ("  expect checkout_retail.availability 2026-10 { measured 300ms }\n", "SLG0301", 3, 58,
     "a ratio is a fraction: its expected value must be a percentage"),
    ("  expect checkout_retail.availability 2026-10 { credit 120% }\n", "SLG0302", 3, 56,
     "a credit of 120% is out of range"),
    ("  expect checkout_draft rolling-7d { credit 5.00 GBP }\n", "SLG0812", 3, 45,
     "`checkout_draft` has no `fee`, so its credits have no amount"),
    ("  expect checkout_retail.latency 2026-10 {}\n", "SLG0812", 3, 3,
     "this expectation of `checkout_retail.latency` expects nothing"),
    ("  expect checkout_retail.availability 2026-10 { status met  status breached }\n",
     "SLG0410", 3, 61, "`status` is given twice in this expectation"),
]


@pytest.mark.parametrize(("body", "code", "line", "col", "message"), CHECKS)
def test_the_checker_locates_what_is_wrong_in_a_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, code: str, line: int, col: int,
    message: str,
) -> None:
    write_estate(tmp_path, {"c_test.sla": "test t {\n  as_of 2026-11-01T00:00:00Z\n" + body
                            + "}\n"})
    (tmp_path / "requests.txt").write_text("ts,service,status,latency_ms\n")
    monkeypatch.chdir(tmp_path)
    model = slang.load(["."])
    found = [(d.code, d.span.file, d.span.line, d.span.col, d.message)
             for d in model.errors if d.code != "SLG0813"]
    assert found == [(code, "c_test.sla", line, col, message)]
    assert model.tests == []


def test_a_broken_agreement_is_not_an_unknown_name_in_its_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agreement whose `period` is invalid does not resolve; its test reports nothing of its
    own (the agreement's error says what is wrong) and is not run."""
    write_estate(tmp_path, {"c_test.sla": a_test("t", OK)})
    (tmp_path / "estate.sla").write_text(ESTATE.replace("period     monthly",
                                                        "period     monthy"))
    monkeypatch.chdir(tmp_path)
    model = slang.load(["."])
    assert [d.code for d in model.errors] == ["SLG0412"]
    assert model.tests == []


# -------------------------------------------------------------------------------- property

@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.sampled_from([1, 2, 4, 5, 8, 10, 16, 20, 25]).flatmap(
    lambda n: st.lists(st.sampled_from([200, 404, 500, 503]), min_size=n, max_size=n)))
def test_an_inline_table_measures_exactly_what_counting_its_rows_gives(
    tmp_path_factory: pytest.TempPathFactory, statuses: list[int]
) -> None:
    """For any statuses, `measured` written as the hand count good / total (a terminating
    decimal, since the row counts divide a power of ten) passes, and one step of 0.01 % off
    fails: the comparison is exact."""
    from decimal import Decimal

    good = sum(s < 500 for s in statuses)
    percent = Decimal(good * 100) / Decimal(len(statuses))
    rows = "".join(f'    row 2026-10-01T10:{i // 60:02}:{i % 60:02}Z, "checkout", {s}, 100\n'
                   for i, s in enumerate(statuses))
    table = ("  data requests {\n    columns ts, service, status, latency_ms\n" + rows
             + "  }\n  data maintenance {}\n")
    exact = f"{percent.normalize():f}%"
    step = Decimal("0.01") if percent < 100 else Decimal("-0.01")
    off = f"{(percent + step).normalize():f}%"
    root = tmp_path_factory.mktemp("prop")
    write_estate(root, {"p_test.sla": (
        f"test exact {{\n  as_of 2026-11-01T00:00:00Z\n{table}"
        f"  expect checkout_retail.availability 2026-10 {{ measured {exact} }}\n}}\n"
        f"test off {{\n  as_of 2026-11-01T00:00:00Z\n{table}"
        f"  expect checkout_retail.availability 2026-10 {{ measured {off} }}\n}}\n")})
    cwd = os.getcwd()
    os.chdir(root)
    try:
        run = run_tests(slang.load(["."]))
    finally:
        os.chdir(cwd)
    assert [r.status for r in run.results] == ["passed", "failed"]


def test_the_language_reference_example_passes(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/language.md 4.7: its tests, against section 1's agreement, with the fixture the
    comment describes (1000 GETs on 15 October at 120 ms, every 200th a 503: 995 / 1000)."""
    import datetime as dt
    import re

    doc = (REPO / "docs" / "language.md").read_text(encoding="utf-8")
    estate = re.search(r"## 1\. A first example\n\n```\n(.*?)```", doc, re.S)
    section = doc[doc.index("### 4.7 Tests"):]
    tests = re.search(r"```\n(test .*?)```", section, re.S)
    assert estate is not None and tests is not None
    (tmp_path / "slang.toml").write_text("")
    (tmp_path / "estate.sla").write_text(estate.group(1))
    (tmp_path / "checkout_test.sla").write_text(tests.group(1))
    (tmp_path / "fixtures").mkdir()
    start = dt.datetime(2026, 10, 15, 10, tzinfo=dt.UTC)
    rows = [f"{(start + dt.timedelta(seconds=i)):%Y-%m-%dT%H:%M:%SZ},checkout,"
            f"{503 if i % 200 == 0 else 200},GET,120" for i in range(1000)]
    (tmp_path / "fixtures" / "october_requests.csv").write_text(
        "ts,service,status,method,latency_ms\n" + "\n".join(rows) + "\n")
    run = run_in(tmp_path, monkeypatch)
    assert [(r.case.name, r.status) for r in run.results] == [
        ("checkout_breached_in_october", "passed"), ("checkout_has_no_data_in_november", "passed")]
