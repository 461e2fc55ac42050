"""`slang audit`, `slang plan` and `slang demo` end to end on the bundled example estate."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import slang
from slang.cli import main

AS_OF = "2026-11-15T00:00:00Z"
SCHEMAS = Path(slang.__file__).parent / "schemas"


@pytest.fixture(scope="module")
def bindings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(main, ["demo", str(out)])
    assert result.exit_code == 0, result.output
    return out / "bindings.yaml"


def audit(bindings: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main, ["audit", "policies/", "--bind", str(bindings), "--as-of", AS_OF, *args]
    )
    return result.exit_code, result.stdout, result.stderr


def test_demo_writes_a_bindings_file(bindings: Path) -> None:
    text = bindings.read_text()
    assert "version: 1" in text
    assert "edge_requests: edge_requests.parquet" in text
    assert (bindings.parent / "edge_requests.parquet").is_file()


def test_october_audit_json(bindings: Path) -> None:
    code, out, _ = audit(bindings, "--period", "2026-10", "--format", "json")
    assert code == 1  # checkout_retail is breached: exit 1 at the default --fail-on breach
    doc = json.loads(out)
    schema = json.loads((SCHEMAS / "audit-report.schema.json").read_text())
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    assert doc["as_of"] == AS_OF
    by_key = {(r["agreement"], r["objective"], r["period"]): r for r in doc["results"]}
    availability = by_key[("checkout_retail", "availability", "2026-10")]
    assert availability["period_start"] == "2026-09-30T23:00:00Z"  # London October: 745 h
    assert availability["period_end"] == "2026-11-01T00:00:00Z"
    assert availability["status"] == "breached"
    assert availability["credit_percent"] == 10
    assert availability["credit_amount"] == "1200.00"  # 10 % of 12000.00 GBP
    assert availability["good"] / availability["total"] == availability["measured"]
    assert doc["summary"]["breached"] >= 2
    assert {"currency": "GBP", "amount": "3000.00"} in doc["summary"]["credits"]
    tables = {d["name"] for d in doc["evidence"]["data"]}
    assert "edge_requests" in tables
    assert all(len(p["sha256"]) == 64 for p in doc["evidence"]["policies"])


def test_same_inputs_same_bytes(bindings: Path) -> None:
    first = audit(bindings, "--period", "2026-10", "--format", "json")[1]
    second = audit(bindings, "--period", "2026-10", "--format", "json")[1]
    assert first == second


def test_running_month_is_at_risk_and_fail_levels(bindings: Path) -> None:
    code, out, _ = audit(bindings, "--period", "2026-11", "--format", "json")
    doc = json.loads(out)
    statuses = {(r["agreement"], r["objective"]): r["status"] for r in doc["results"]}
    assert statuses[("partner_api_us", "availability")] == "at_risk"
    assert all(not r["complete"] for r in doc["results"] if r["period"] == "2026-11")
    assert code == 0  # nothing breached in November so far
    assert audit(bindings, "--period", "2026-11", "--fail-on", "at_risk")[0] == 1
    assert audit(bindings, "--period", "2026-10", "--no-fail")[0] == 0


def test_text_markdown_and_junit(bindings: Path) -> None:
    _, text, _ = audit(bindings, "--period", "2026-10")
    assert "checkout_retail        availability" in text
    assert "breached  10% = 1200.00 GBP" in text
    assert text.rstrip().splitlines()[-1].startswith("31 results for 6 agreements")
    _, md, _ = audit(bindings, "--period", "2026-10", "--format", "markdown")
    assert md.startswith("# Service level audit as of 2026-11-15T00:00:00Z")
    assert "| checkout_retail | availability | 2026-10 |" in md
    _, xml, _ = audit(bindings, "--period", "2026-10", "--format", "junit")
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    failures = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert {c.get("classname") for c in failures} == {"checkout_retail"}


def test_output_file(bindings: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    code, out, _ = audit(bindings, "--period", "2026-10", "--format", "json", "-o", str(target))
    assert code == 1 and out == ""
    assert json.loads(target.read_text())["schema_version"] == 1


def test_unbound_table_is_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["audit", "policies/", "--as-of", AS_OF,
                                       "--data", "edge_requests=nowhere.parquet"])
    assert result.exit_code == 2
    assert "error[SLG0609]: no data bound for table `synthetic_checks`" in result.stderr


def test_a_misspelt_data_override_is_exit_2(bindings: Path) -> None:
    code, _, err = audit(bindings, "--period", "2026-10", "--data", "edge_request=x.parquet")
    assert code == 2
    assert ("<command line>: error[SLG0601]: --data `edge_request=...`: no source reads table "
            "`edge_request`") in err
    assert "did you mean `edge_requests`?" in err


def test_bad_period_is_exit_2(bindings: Path) -> None:
    code, _, err = audit(bindings, "--period", "2026-13")
    assert code == 2
    assert "<command line>: error[SLG0010]: `2026-13` is not a period label" in err
    code, _, err = audit(bindings, "--from", "2026-10-01")
    assert code == 2 and "<command line>: error[SLG0010]: --from and --to go together" in err
    code, _, err = audit(bindings, "--from", "yesterday", "--to", "2026-10-01")
    assert code == 2 and "SLG0004" in err


def test_invalid_policies_are_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.sla").write_text("agreement a { service nowhere }\n")
    result = CliRunner().invoke(main, ["audit", str(tmp_path), "--as-of", AS_OF,
                                       "--format", "json"])
    assert result.exit_code == 2
    codes = {d["code"] for d in json.loads(result.stderr)["diagnostics"]}
    assert "SLG0203" in codes


def test_plan_command() -> None:
    result = CliRunner().invoke(main, ["plan", "policies/", "--format", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    schema = json.loads((SCHEMAS / "plan.schema.json").read_text())
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    assert "requests" in {s["id"] for s in doc["scans"]}
    text = CliRunner().invoke(main, ["plan", "policies/"]).stdout
    assert text.startswith("scans (")


@pytest.mark.parametrize("command", ["audit", "plan", "demo"])
def test_help_has_an_example(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output


@pytest.mark.parametrize("command", ["whatif", "diagnose", "report", "status", "audit"])
def test_help_examples_name_the_example_estates_agreements(command: str) -> None:
    """An example copied from --help onto policies/ names agreements that exist there
    (`--agreement NAME`, `--set NAME.OBJECTIVE=...`), so it runs rather than failing SLG0014."""
    import re

    agreements = set(slang.load(["policies/"]).agreements)
    epilog = CliRunner().invoke(main, [command, "--help"]).output.split("Example")[1]
    named = re.findall(r"--agreement (\w+)|--set '?(\w+)\.", epilog)
    assert {a or b for a, b in named} <= agreements
