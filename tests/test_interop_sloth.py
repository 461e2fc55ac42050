"""`slang import sloth`: Sloth's example specs, and the rules slang exports from them compared
with the rules Sloth itself generated for the same spec."""

from __future__ import annotations

import re
from pathlib import Path

import promql_parser
import yaml
from click.testing import CliRunner

import slang
from slang.cli import main as cli_main
from slang.interop.prometheus import export_prometheus
from slang.interop.sloth import import_sloth

FIXTURES = Path(__file__).parent / "fixtures" / "sloth"
NOT_SPECS = {
    "default-windows__google-28d.yaml", "default-windows__google-30d.yaml",
    "gen__getting-started.yml", "gen__kubernetes-apiserver.yml", "openslo-getting-started.yml",
    "openslo-kubernetes-apiserver.yml", "windows__7d.yaml", "windows__custom-30d.yaml",
}


def _load(result, tmp_path: Path) -> slang.Model:
    for source, text in result.files:
        (tmp_path / (Path(source).stem + ".sla")).write_text(text, encoding="utf-8")
    return slang.load([str(tmp_path)])


def test_every_example_imports_or_is_explained(tmp_path: Path) -> None:
    files = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".yml", ".yaml"))
    result = import_sloth([str(p) for p in files])
    model = _load(result, tmp_path)
    assert model.errors == []
    skipped = {Path(d.span.file).name for d in result.diagnostics if d.code == "SLG1003"}
    assert skipped == NOT_SPECS
    assert {Path(s).name for s, _ in result.files} == {p.name for p in files} - NOT_SPECS
    assert all(d.severity.value == "warning" for d in result.diagnostics)
    # getting-started 1, home-wifi 2, k8s 1, kubernetes-apiserver 2, multifile 2, no-alerts 1
    assert len(model.agreements) == 9


def test_getting_started_becomes_an_agreement_with_sloths_windows() -> None:
    result = import_sloth([str(FIXTURES / "getting-started.yml")])
    text = re.sub(r" +", " ", result.combined())
    assert "agreement myservice_requests_availability {" in text
    assert "period rolling 30d" in text
    assert ("burn_rate {\n page 2% in 1h / 5m\n page 5% in 6h / 30m\n"
            " ticket 10% in 1d / 2h\n ticket 10% in 3d / 6h\n }") in text
    assert "target >= 99.9%" in text
    assert ('bad "sum(rate(http_request_duration_seconds_count{job=\\"myservice\\",'
            'code=~\\"(5..|429)\\"}[{{window}}]))"') in text
    assert 'labels { owner: "myteam", repo: "myorg/myservice", tier: "2" }' in text
    assert [(d.code, d.span.line) for d in result.diagnostics] == [
        ("SLG1004", 17), ("SLG1004", 18), ("SLG1004", 20), ("SLG1004", 24), ("SLG1004", 28)]


def _sloth_rules(name: str) -> list[dict]:
    doc = yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))
    return [r for g in doc["groups"] for r in g["rules"]]


def test_exported_rules_match_the_rules_sloth_generated(tmp_path: Path) -> None:
    """Sloth's own output for getting-started.yml: the same error ratio per window and the
    burn-rate factors 14.4, 6, 3 and 1 of a 30-day period."""
    model = _load(import_sloth([str(FIXTURES / "getting-started.yml")]), tmp_path)
    ours = yaml.safe_load(export_prometheus(model).text)["groups"][0]["rules"]
    theirs = _sloth_rules("gen__getting-started.yml")
    for window in ("5m", "30m", "1h", "2h", "6h", "1d", "3d"):
        mine = next(r for r in ours if r.get("record") == f"slo:sli_error:ratio_rate{window}")
        sloth = next(r for r in theirs if r.get("record") == f"slo:sli_error:ratio_rate{window}")
        assert str(promql_parser.parse(mine["expr"])) == str(
            promql_parser.parse(sloth["expr"].strip())), window
    factors = sorted(float(f) for r in ours if "alert" in r
                     for f in re.findall(r"> \(([\d.]+) \* 0\.001\)", r["expr"]))
    sloth_factors = sorted(float(f) for r in theirs if "alert" in r
                           for f in re.findall(r"> \(([\d.]+) \* 0\.000999", r["expr"]))
    assert factors == sloth_factors == [1, 1, 3, 3, 6, 6, 14.4, 14.4]


def test_disabled_alerts_give_an_empty_burn_rate_block(tmp_path: Path) -> None:
    result = import_sloth([str(FIXTURES / "no-alerts.yml")])
    assert "burn_rate {}" in result.combined()
    model = _load(result, tmp_path)
    assert model.agreements["myapp_http_availability"].burn_rates == ()
    rules = yaml.safe_load(export_prometheus(model).text)["groups"][0]["rules"]
    assert not [r for r in rules if "alert" in r]


def test_the_command(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli_main, ["import", "sloth", str(FIXTURES / "home-wifi.yml"),
                                        "-o", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "home-wifi.sla").exists()
    assert "SLG1004" in res.stderr
