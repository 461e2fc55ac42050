"""Trends: the shared rule (`slang.report.trend`) and `slang ledger trend` over a real ledger.

Four hand-made months of 400 requests each, against `>= 99%`: January 0 errors (100 %),
February 1 (399/400 = 99.75 %), March 2 (99.5 %), April 3 (99.25 %). Margins 1/100, 3/400,
1/200, 1/400: shrank three periods in a row, so the objective is worsening. A re-audit of March
with its errors corrected away (400/400, margin 1/100) supersedes March's entry: the margins
become 1/100, 3/400, 1/100, 1/400 and the run is broken (worse, better, worse).
"""

from __future__ import annotations

import json
from fractions import Fraction as F
from itertools import pairwise
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from slang.cli import main
from slang.evidence.trends import exact_measured
from slang.report.trend import TrendPoint, trend

POLICY = """\
catalogue "Acme" {
  service checkout { title "Checkout API" owner "payments-team" }
}

events requests from "requests" {
  time ts
  key  service
}

agreement checkout_retail {
  service   checkout
  customer  "Retail BU"
  status    agreed
  effective 2026-01-01 .. 2026-12-31
  timezone  "UTC"
  period    monthly

  objective availability {
    indicator ratio(requests where status < 500)
    target    >= 99%
  }
}
"""
AS_OF = "2026-05-15T00:00:00Z"


def month_csv(month: int, bad: int) -> list[str]:
    return [f"2026-{month:02d}-{1 + i % 28:02d}T{(i * 7) % 24:02d}:{i % 60:02d}:00Z,checkout,"
            f"{500 if i < bad else 200}" for i in range(400)]


def write_data(path: Path, bad: dict[int, int]) -> None:
    rows = ["ts,service,status"]
    for month, n in sorted(bad.items()):
        rows += month_csv(month, n)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def audit(period: str) -> None:
    code, out, err = run("audit", "policies", "--data", "requests=data/requests.csv",
                         "--period", period, "--as-of", AS_OF, "--ledger", "ledger.jsonl")
    assert code == 0, out + err


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "checkout.sla").write_text(POLICY, encoding="utf-8")
    (tmp_path / "data").mkdir()
    write_data(tmp_path / "data" / "requests.csv", {1: 0, 2: 1, 3: 2, 4: 3})
    monkeypatch.chdir(tmp_path)
    for period in ("2026-01", "2026-02", "2026-03", "2026-04"):
        audit(period)
    return tmp_path / "ledger.jsonl"


def trend_json(*extra: str) -> dict:
    code, out, err = run("ledger", "trend", "ledger.jsonl", "--format", "json", *extra)
    assert code == 0, out + err
    return json.loads(out)


# ------------------------------------------------------------------------------ the rule


def points(*measured: F | None, op: str = ">=", target: F = F(99, 100)) -> list[TrendPoint]:
    return [TrendPoint(m, op, target) for m in measured]


def test_three_shrinking_margins_in_a_row_are_worsening() -> None:
    t = trend(points(F(1), F(399, 400), F(398, 400), F(397, 400)))
    assert t.margins == (F(1, 100), F(3, 400), F(1, 200), F(1, 400))
    assert t.changes == ("", "worse", "worse", "worse")
    assert (t.shrinking, t.worsening) == (3, True)
    assert t.text == "worsening: the margin shrank 3 periods in a row"


def test_two_shrinking_margins_are_not_worsening() -> None:
    t = trend(points(F(399, 400), F(398, 400), F(397, 400)))
    assert (t.shrinking, t.worsening, t.text) == (2, False, "worse than the period before")


def test_an_unchanged_margin_breaks_the_run() -> None:
    t = trend(points(F(1), F(399, 400), F(399, 400), F(398, 400), F(397, 400)))
    assert t.changes == ("", "worse", "same", "worse", "worse")
    assert (t.shrinking, t.worsening) == (2, False)


def test_a_period_without_data_is_skipped_not_a_break() -> None:
    t = trend(points(F(1), F(399, 400), None, F(398, 400), F(397, 400)))
    assert t.margins[2] is None and t.changes[2] == "" and t.changes[3] == "worse"
    assert (t.shrinking, t.worsening) == (3, True)


def test_an_upper_bound_shrinks_as_the_value_rises() -> None:
    t = trend(points(F(200), F(210), F(220), F(230), op="<=", target=F(250)))
    assert t.margins == (F(50), F(40), F(30), F(20))
    assert t.worsening


def test_one_period_has_no_trend() -> None:
    t = trend(points(F(1)))
    assert (t.text, t.worsening, t.changes) == ("too few complete periods for a trend", False,
                                                ("",))


@given(st.lists(st.one_of(st.none(), st.fractions(0, 1, max_denominator=1000)), max_size=8))
def test_worsening_is_the_last_four_known_margins_strictly_falling(
        measured: list[F | None]) -> None:
    t = trend(points(*measured))
    known = [m - F(99, 100) for m in measured if m is not None]
    last = known[-4:]
    assert t.worsening == (len(last) == 4 and all(b < a for a, b in pairwise(last)))
    assert [m for m in t.margins if m is not None] == known


def test_the_measured_value_is_recovered_exactly_from_good_and_total() -> None:
    assert exact_measured({"measured": 397 / 400, "good": 397, "total": 400}) == F(397, 400)
    assert exact_measured({"measured": 1 / 3, "good": 1, "total": 3}) == F(1, 3)
    # Not good/total (another indicator): the decimal the double prints as.
    assert exact_measured({"measured": 0.25, "good": 1, "total": 3}) == F(1, 4)
    assert exact_measured({"measured": 245.5, "good": None, "total": None}) == F(491, 2)
    assert exact_measured({"measured": None, "good": 0, "total": 0}) is None


# ------------------------------------------------------------------------------ the ledger


def test_four_months_with_a_shrinking_margin_are_worsening(ledger: Path) -> None:
    doc = trend_json()
    assert doc["worsening"] == 1
    (obj,) = doc["objectives"]
    assert (obj["agreement"], obj["objective"], obj["worsening"], obj["shrinking"]) == (
        "checkout_retail", "availability", True, 3)
    assert [(p["period"], p["measured"], p["target"], p["margin"], p["change"])
            for p in obj["periods"]] == [
        ("2026-01", "1/1", "99/100", "1/100", ""),
        ("2026-02", "399/400", "99/100", "3/400", "worse"),
        ("2026-03", "199/200", "99/100", "1/200", "worse"),
        ("2026-04", "397/400", "99/100", "1/400", "worse"),
    ]


def test_a_superseding_re_audit_breaks_the_run(ledger: Path) -> None:
    write_data(Path("data/requests.csv"), {1: 0, 2: 1, 3: 0, 4: 3})
    audit("2026-03")
    doc = trend_json()
    (obj,) = doc["objectives"]
    assert (obj["worsening"], obj["shrinking"], obj["trend"]) == (
        False, 1, "worse than the period before")
    assert [(p["period"], p["margin"], p["change"], p["seq"]) for p in obj["periods"]] == [
        ("2026-01", "1/100", "", 1), ("2026-02", "3/400", "worse", 2),
        ("2026-03", "1/100", "better", 5), ("2026-04", "1/400", "worse", 4)]
    assert doc["worsening"] == 0


def test_text_output_flags_the_worsening_objective(ledger: Path) -> None:
    code, out, _ = run("ledger", "trend", "ledger.jsonl")
    assert code == 0
    lines = out.splitlines()
    assert lines[3] == ("WORSENING checkout_retail / availability: worsening: the margin "
                        "shrank 3 periods in a row")
    assert lines[4].split() == ["PERIOD", "MEASURED", "TARGET", "MARGIN", "CHANGE", "STATUS",
                                "SEQ"]
    assert lines[6].split() == ["2026-01", "100%", "≥", "99%", "+1", "pp", "-", "met", "1"]
    assert lines[9].split() == ["2026-04", "99.25%", "≥", "99%", "+0.25", "pp", "worse",
                                "met", "4"]
    assert lines[-1] == "1 of 1 objective worsening (margin shrank 3 periods in a row)"


def test_markdown_and_period_filter(ledger: Path) -> None:
    code, out, _ = run("ledger", "trend", "ledger.jsonl", "--format", "markdown",
                       "--from", "2026-02-01")
    assert code == 0
    assert "## checkout_retail / availability\n" in out  # three periods: two shrinks only
    assert "Trend: worse than the period before." in out
    assert "| 2026-02 | 99.75% | ≥ 99% | +0.75 pp | - | met | 2 |" in out
    assert "2026-01" not in out


def test_an_unknown_agreement_shows_no_objectives(ledger: Path) -> None:
    assert trend_json("--agreement", "nope")["objectives"] == []


def test_a_broken_ledger_is_not_trended(ledger: Path) -> None:
    lines = ledger.read_text(encoding="utf-8").splitlines(keepends=True)
    ledger.write_text("".join([lines[0].replace("checkout", "Checkout", 1), *lines[1:]]),
                      encoding="utf-8")
    code, out, err = run("ledger", "trend", "ledger.jsonl")
    assert code == 2
    assert "SLG0921" in out + err
    code, _, err = run("ledger", "trend", "missing.jsonl")
    assert code == 2 and "SLG0920" in err
