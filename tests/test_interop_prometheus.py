"""`slang export prometheus`: burn-rate rules that Prometheus can load, with factors derived
from each agreement's own period."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import promql_parser
import pytest
import yaml
from click.testing import CliRunner

import slang
from slang.cli import main as cli_main
from slang.interop.prometheus import DEFAULT_WINDOWS, export_prometheus, factor, number
from slang.semantics import model as m

REPO = Path(__file__).resolve().parent.parent
RULE_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_]+:[a-zA-Z0-9_]+$")
ALERT_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

POLICY = '''
catalogue { service payments { title "Payments" key "payments-v2" } }

events requests from "requests" {
  key service
  prometheus {
    total "http_requests_total{service=\\"{{service}}\\"}"
    bad   "sum(rate(http_requests_total{service=\\"{{service}}\\", code=~\\"5..\\"}[{{window}}]))"
  }
}

agreement payments_weekly {
  service payments
  status  agreed
  period  weekly
  objective availability {
    indicator ratio(requests where status < 500)
    target    >= 99.5%
  }
}
'''


def _rules(text: str) -> list[dict]:
    return [r for g in yaml.safe_load(text)["groups"] for r in g["rules"]]


@pytest.fixture(scope="module")
def estate_export() -> str:
    model = slang.load([str(REPO / "policies")])
    assert model.ok
    return export_prometheus(model).text


def test_every_expression_of_the_example_estate_parses(estate_export: str) -> None:
    rules = _rules(estate_export)
    assert len(rules) > 10
    for rule in rules:
        promql_parser.parse(rule["expr"])  # raises on a syntax error
        name = rule.get("record") or rule["alert"]
        assert (RULE_NAME if "record" in rule else ALERT_NAME).match(name), name
        for label in rule["labels"]:
            assert LABEL_NAME.match(label), label


def test_the_estate_uses_the_prometheus_block(estate_export: str) -> None:
    doc = yaml.safe_load(estate_export)
    names = [g["name"] for g in doc["groups"]]
    assert "slang-checkout_retail-availability" in names
    rules = {(r.get("record") or r["alert"], r["labels"].get("slang_window"),
              r["labels"].get("severity")): r
             for r in doc["groups"][names.index("slang-checkout_retail-availability")]["rules"]}
    five = rules[("slo:sli_error:ratio_rate5m", "5m", None)]
    assert five["expr"] == (
        '((sum(rate(edge_requests_total{service="checkout"}[5m]))) - '
        '(sum(rate(edge_requests_total{service="checkout", code!~"5.."}[5m])))) / '
        '(sum(rate(edge_requests_total{service="checkout"}[5m])))'
    )
    assert five["labels"]["team"] == "platform"
    assert rules[("slo:error_budget:ratio", None, None)]["expr"] == "vector(0.001)"
    page = rules[("CheckoutRetailAvailabilityErrorBudgetBurn", None, "page")]
    # A monthly period: 2 % in 1 h is 14.4, 5 % in 6 h is 6 (the SRE workbook figures).
    assert "> (14.4 * 0.001)" in page["expr"] and "> (6 * 0.001)" in page["expr"]
    ticket = rules[("CheckoutRetailAvailabilityErrorBudgetBurn", None, "ticket")]
    assert "ratio_rate3d" in ticket["expr"] and "> (1 * 0.001)" in ticket["expr"]


def test_factors_follow_the_agreements_period(tmp_path: Path) -> None:
    (tmp_path / "p.sla").write_text(POLICY, encoding="utf-8")
    text = export_prometheus(slang.load([str(tmp_path)])).text
    rules = _rules(text)
    page = next(r for r in rules if r.get("labels", {}).get("severity") == "page")
    # Weekly: 2 % x 168 h / 1 h = 3.36; 5 % x 168 / 6 = 1.4; 10 % x 168 / 72 = 0.2333...
    assert "> (3.36 * 0.005)" in page["expr"] and "> (1.4 * 0.005)" in page["expr"]
    ticket = next(r for r in rules if r.get("labels", {}).get("severity") == "ticket")
    assert f"> ({float(Fraction(7, 30))!r} * 0.005)" in ticket["expr"]
    # `bad` queries are the error ratio directly; the service key replaces {{service}}.
    one_hour = next(r for r in rules if r.get("record") == "slo:sli_error:ratio_rate1h")
    assert one_hour["expr"] == (
        '(sum(rate(http_requests_total{service="payments-v2", code=~"5.."}[1h]))) / '
        '(sum(rate(http_requests_total{service="payments-v2"}[1h])))'
    )
    for r in rules:
        promql_parser.parse(r["expr"])


def test_factor_is_the_engine_function() -> None:
    monthly, rolling = m.Period("monthly"), m.Period("rolling", 28 * 86400)
    assert [factor(w, monthly) for w in DEFAULT_WINDOWS] == [Fraction(72, 5), 6, 1]
    assert factor(DEFAULT_WINDOWS[0], rolling) == Fraction(2, 100) * 672
    assert number(Fraction(72, 5)) == "14.4" and number(Fraction(1, 3)) == repr(1 / 3)


def test_the_output_is_deterministic_and_the_command_writes_it(tmp_path: Path) -> None:
    out = tmp_path / "rules.yaml"
    runner = CliRunner()
    res = runner.invoke(cli_main, ["export", "prometheus", str(REPO / "policies"), "-o",
                                   str(out)])
    assert res.exit_code == 0, res.output
    again = runner.invoke(cli_main, ["export", "prometheus", str(REPO / "policies")])
    assert again.stdout == out.read_text(encoding="utf-8")
    assert "SLG1031" in res.stderr  # the estate's latency objectives are not ratios


def test_an_agreements_own_burn_rate_lines_set_the_windows(tmp_path: Path) -> None:
    policy = POLICY.replace("  period  weekly\n", "  period  rolling 28d\n  burn_rate {\n"
                            "    page 4% in 2h / 10m\n  }\n")
    (tmp_path / "p.sla").write_text(policy, encoding="utf-8")
    model = slang.load([str(tmp_path)])
    assert model.ok, model.diagnostics
    rules = _rules(export_prometheus(model).text)
    assert [r["record"] for r in rules if "record" in r] == [
        "slo:sli_error:ratio_rate10m", "slo:sli_error:ratio_rate2h", "slo:objective:ratio",
        "slo:error_budget:ratio"]
    alerts = [r for r in rules if "alert" in r]
    assert [a["labels"]["severity"] for a in alerts] == ["page"]
    # 4 % of a 28-day (672 h) budget in 2 h: 0.04 x 672 / 2 = 13.44.
    assert "> (13.44 * 0.005)" in alerts[0]["expr"]
