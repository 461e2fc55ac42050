"""`slang import openslo`: the OpenSLO example documents, what they become, what is reported."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

import slang
from slang.cli import main as cli_main
from slang.interop.openslo import import_openslo

FIXTURES = Path(__file__).parent / "fixtures" / "openslo"
EXAMPLES = sorted(FIXTURES.glob("*.yaml"))


def _fixture(name: str) -> str:
    return str(FIXTURES / name)


def _import(*names: str) -> tuple[str, list]:
    """The imported text with runs of spaces collapsed (alignment is the formatter's)."""
    result = import_openslo([_fixture(n) for n in names])
    return re.sub(r" +", " ", result.combined()), result.diagnostics


def _codes(diags: list, file: str | None = None) -> list[tuple[str, int, str]]:
    return [(d.code, d.span.line, d.message) for d in diags
            if file is None or d.span.file.endswith(file)]


def test_every_example_imports_into_slang_that_check_accepts(tmp_path: Path) -> None:
    result = import_openslo([str(p) for p in EXAMPLES])
    for source, text in result.files:
        (tmp_path / (Path(source).stem + ".sla")).write_text(text, encoding="utf-8")
    model = slang.load([str(tmp_path)])
    assert model.errors == []
    # What could not be imported is explained: the one invalid document. Nothing is skipped
    # for its version: v1, v1alpha and v2alpha all import.
    errors = [(d.code, Path(d.span.file).name, d.span.line) for d in result.diagnostics
              if d.severity.value == "error"]
    assert errors == [("SLG1002", "oslo__test__inputs__validate__v1.yaml", 59)]
    assert [d for d in result.diagnostics if d.code == "SLG1003"] == []
    # Every SLO document became an agreement: 9 SLO objects across the valid documents.
    assert len(model.agreements) == 9
    assert "web_availability" in model.agreements  # the v2alpha example


def test_occurrences_with_a_threshold_metric() -> None:
    text, diags = _import("openslo__budgeting-method__occurences-slo.yaml")
    assert "indicator ratio(search_latency where value < 500)" in text
    assert "target >= 99%" in text
    assert "period rolling 14d" in text
    assert 'events search_latency from "search-latency" {' in text
    assert ("SLG1004", 16, "`spec.indicator.spec.thresholdMetric.metricSource`: a Any metric "
            "source has no slang equivalent; the source has no metric mapping") in _codes(diags)


def test_timeslices_with_two_objectives_and_a_suspicious_month() -> None:
    text, diags = _import("openslo__budgeting-method__timeslices-slo.yaml")
    assert ("indicator timeslices(1m, ratio(web_availability where good == true) > 99%)"
            in text)
    assert "target >= 99.5%" in text
    # The second objective has no `op`: a slice is good at `>=` its target.
    assert "timeslices(1m, ratio(web_availability where good == true) >= 99%)" in text
    assert 'timezone "America/New_York"' in text
    assert "effective 2022-01-01 .." in text
    assert "period hourly" in text
    codes = _codes(diags)
    assert ("SLG1005", 27, "`spec.timeWindow[0].duration`: a calendar window of 1m has no slang "
            "period; imported as `hourly`") in codes
    hint = next(d.hint for d in diags if d.span.line == 27)
    assert "did you mean `1M`?" in hint


def test_ratio_timeslices_is_a_slice_mean() -> None:
    text, _ = _import("openslo__budgeting-method__ratio-timeslices.yaml")
    assert "indicator slice_mean(1m, ratio(response_code where good == true))" in text
    assert "target >= 99%" in text


def test_calendar_week_and_prometheus_queries_of_v1alpha_and_sloth_style() -> None:
    text, diags = _import("oslo__test__inputs__v1alpha__valid-slos-ratio.yaml")
    assert "period rolling 28d" in text
    assert ('total "latency_west_c7{code=\\"ALL\\",instance=\\"localhost:3000\\",'
            'job=\\"prometheus\\",service=\\"globalaccount\\"}"') in text
    assert [c for c, _, _ in _codes(diags)] == ["SLG1005", "SLG1005", "SLG1004"]


def test_composite_objectives_keep_their_own_indicators() -> None:
    text, diags = _import(
        "oslo__test__inputs__v1__slo__slo-composite-no-indicatorRef-rolling-no-alerts.yaml")
    assert "objective foo_total_errors {" in text
    assert "objective bar_total_errors {" in text
    # Both objectives inline the same SLI: one source.
    assert text.count("events foo_error") == 1
    assert "period rolling 30d" in text
    weights = [d for d in diags if "compositeWeight" in d.message]
    assert [d.span.line for d in weights] == [16, 38]


@pytest.mark.parametrize("name", [p.name for p in EXAMPLES])
def test_each_example_alone_gives_a_valid_estate_or_coded_reasons(name: str,
                                                                   tmp_path: Path) -> None:
    result = import_openslo([_fixture(name)])
    for d in result.diagnostics:
        assert d.code.startswith("SLG10"), d
        if d.code != "SLG1010":  # "nothing to import" is about the whole command line
            assert d.span.file.endswith(name) and d.span.line > 0, d
    if not result.files:
        # the reasons, then the error that makes the command exit 2
        assert [d.code for d in result.diagnostics].count("SLG1010") == 1
        assert len(result.diagnostics) > 1
        return
    assert "SLG1010" not in [d.code for d in result.diagnostics]
    (tmp_path / "x.sla").write_text(result.combined(), encoding="utf-8")
    assert slang.load([str(tmp_path)]).errors == []


def test_the_command_writes_one_file_per_input(tmp_path: Path) -> None:
    out = tmp_path / "out"
    runner = CliRunner()
    res = runner.invoke(cli_main, ["import", "openslo", str(FIXTURES), "-o", str(out)])
    assert res.exit_code == 2  # the invalid Service of validate/v1.yaml
    assert "SLG1002" in res.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(
        p.stem + ".sla" for p in EXAMPLES
        if p.name != "oslo__test__inputs__v1__alert-policy__alert-policy.yaml")
    check = runner.invoke(cli_main, ["check", str(out)])
    assert check.exit_code == 0, check.output


def test_stdout_is_the_formatted_slang() -> None:
    res = CliRunner().invoke(cli_main, ["import", "openslo",
                                        _fixture("openslo__budgeting-method__ratio-timeslices.yaml")])
    assert res.exit_code == 0
    from slang.syntax.formatter import format_text
    assert format_text(res.stdout) == res.stdout


def test_alert_policies_become_notify_and_burn_rate_lines(tmp_path: Path) -> None:
    path = Path(__file__).parent / "fixtures" / "openslo_alerts" / "alerting.yaml"
    result = import_openslo([str(path)])
    text = re.sub(r" +", " ", result.combined())
    assert 'notify "payments-oncall" on at_risk, no_data' in text
    # 14.4 over 1 h of a monthly (720 h) period: 14.4 x 1 / 720 = 2 % of the budget.
    assert "burn_rate {\n page 2% in 1h / 5m\n }" in text
    assert result.combined().endswith("}\n")
    (tmp_path / "x.sla").write_text(result.combined(), encoding="utf-8")
    model = slang.load([str(tmp_path)])
    assert model.errors == []
    (window,) = model.agreements["checkout_availability"].burn_rates
    assert (window.severity, window.budget_fraction) == ("page", Fraction(1, 50))
    assert [d.code for d in result.diagnostics] == ["SLG1005", "SLG1004"]


def test_an_unknown_time_zone_is_reported_not_written(tmp_path: Path) -> None:
    text = (FIXTURES.parent / "openslo_alerts" / "alerting.yaml").read_text(encoding="utf-8")
    path = tmp_path / "tz.yaml"
    path.write_text(text.replace("Europe/London", "Mars/Olympus_Mons"), encoding="utf-8")
    result = import_openslo([str(path)])
    assert "timezone" not in result.combined()
    (d,) = [d for d in result.diagnostics if "time zone" in d.message]
    assert (d.code, d.span.line) == ("SLG1005", 29)
