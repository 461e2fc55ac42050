"""The impact of a change: `slang diff --impact`, `slang whatif` and `slang.diff.impact`.

Everything runs on the example estate (`policies/`) with the demo data, October 2026, as of
15 November 2026. There checkout_retail breaches availability (99.7162% against >= 99.9%,
credit 10% of 12000.00 GBP = 1200.00 GBP) and uptime (99.7761% against >= 99.95%, credit 15% =
1800.00 GBP); partner_api_us meets availability with 99.9872% against >= 99.9%.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import slang
from slang.cli import main
from slang.diagnostics import SlangError
from slang.diff.impact import compare, impact, parse_edit, whatif
from slang.engine.audit import PeriodChoice, audit
from slang.engine.bindings import load_bindings_file

REPO = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-15T00:00:00Z"
WHEN = dt.datetime(2026, 11, 15, tzinfo=dt.UTC)
OCTOBER = ["--period", "2026-10", "--as-of", AS_OF]


@pytest.fixture(scope="module")
def bindings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(main, ["demo", str(out)])
    assert result.exit_code == 0, result.output
    return out / "bindings.yaml"


@pytest.fixture(scope="module")
def estate() -> slang.Model:
    model = slang.load([str(REPO / "policies")])
    assert not model.errors
    return model


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


# ---------------------------------------------------------------------------- the library


def test_loosening_checkout_availability_turns_the_breach_into_met(
        estate: slang.Model, bindings: Path) -> None:
    edited = whatif(estate, ["checkout_retail.availability=99.5%"])
    result = impact(estate, edited, load_bindings_file(str(bindings)),
                    choice=PeriodChoice("2026-10"), as_of=WHEN)

    (row,) = result.periods
    assert (row.agreement, row.objective, row.period) == ("checkout_retail", "availability",
                                                          "2026-10")
    assert (row.old_status, row.new_status) == ("breached", "met")
    assert (row.old_credit, row.new_credit) == (Decimal("1200.00"), Decimal("0.00"))
    assert row.old_credit_percent == Decimal(10) and row.new_credit_percent == 0
    assert row.difference == Decimal("-1200.00") and row.currency == "GBP"
    gbp = {t.currency: t for t in result.totals}["GBP"]
    assert (gbp.old, gbp.new, gbp.difference) == (
        Decimal("3000.00"), Decimal("1800.00"), Decimal("-1200.00"))
    assert result.only_old == result.only_new == ()
    assert result.evaluated == 31
    # the model given is not changed
    target = {o.name: o for o in estate.agreements["checkout_retail"].objectives}
    assert target["availability"].target.value == Decimal("0.999")


def test_the_edit_keeps_the_operator_unless_given_and_converts_like_the_checker(
        estate: slang.Model) -> None:
    e = parse_edit(estate, "checkout_retail.latency=0.25s")
    assert (e.old.op, e.old.value) == ("<=", Decimal(300))
    assert (e.new.op, e.new.value) == ("<=", Decimal(250))  # ms, the column's unit
    e = parse_edit(estate, "checkout_retail.availability=>99.95%")
    assert (e.new.op, e.new.value) == (">", Decimal("0.9995"))


def test_a_stricter_target_on_another_agreement_creates_a_breach(
        estate: slang.Model, bindings: Path) -> None:
    edited = whatif(estate, ["partner_api_us.availability=99.99%"])
    result = impact(estate, edited, load_bindings_file(str(bindings)),
                    choice=PeriodChoice("2026-10"), as_of=WHEN)

    (row,) = result.periods
    assert (row.agreement, row.objective, row.period) == ("partner_api_us", "availability",
                                                          "2026-10")
    assert (row.old_status, row.new_status) == ("met", "breached")
    # 99.9872% stays above every tier of the schedule (its first step is below 99.9%)
    assert row.new_credit == Decimal("0.00") and row.difference == Decimal("0.00")
    assert row.currency == "USD"


def test_identical_models_have_no_impact(estate: slang.Model, bindings: Path) -> None:
    result = impact(estate, estate, load_bindings_file(str(bindings)),
                    choice=PeriodChoice("2026-10"), as_of=WHEN)
    assert result.periods == () and not result.changed
    assert [(t.currency, t.old, t.new) for t in result.totals] == [
        ("EUR", Decimal("0.00"), Decimal("0.00")),
        ("GBP", Decimal("3000.00"), Decimal("3000.00")),
        ("USD", Decimal("0.00"), Decimal("0.00")),
    ]


def test_credit_cap_cuts_are_compared_and_counted_in_the_totals(
        estate: slang.Model, bindings: Path) -> None:
    """With a cap of 20% (2400.00 GBP) the October credits of 3000.00 GBP are cut by 600.00."""
    data = load_bindings_file(str(bindings))
    capped = dataclasses.replace(estate, agreements={
        **estate.agreements,
        "checkout_retail": dataclasses.replace(estate.agreements["checkout_retail"],
                                               credit_cap=Decimal("0.2")),
    })
    before = audit(estate, data, choice=PeriodChoice("2026-10"), as_of=WHEN,
                   include_drafts=True)
    after = audit(capped, data, choice=PeriodChoice("2026-10"), as_of=WHEN,
                  include_drafts=True)
    result = compare(before, after)
    (row,) = result.periods
    assert (row.agreement, row.objective, row.period) == ("checkout_retail", None, "2026-10")
    assert (row.old_credit, row.new_credit) == (None, Decimal("-600.00"))
    assert row.difference == Decimal("-600.00")
    gbp = {t.currency: t for t in result.totals}["GBP"]
    assert (gbp.old, gbp.new) == (Decimal("3000.00"), Decimal("2400.00"))


def test_unknown_objective_is_slg0014_with_a_hint(estate: slang.Model) -> None:
    with pytest.raises(SlangError) as caught:
        whatif(estate, ["checkout_retail.availabilty=99.5%"])
    (d,) = caught.value.diagnostics
    assert d.code == "SLG0014"
    assert d.message == ("`--set checkout_retail.availabilty=99.5%`: agreement "
                         "`checkout_retail` has no objective `availabilty`")
    assert d.hint == "did you mean `availability`?"
    with pytest.raises(SlangError) as caught:
        whatif(estate, ["checkout_retal.availability=99.5%"])
    assert [(d.code, d.hint) for d in caught.value.diagnostics] == [
        ("SLG0014", "did you mean `checkout_retail`?")]


@pytest.mark.parametrize(("edit", "message"), [
    ("checkout_retail.availability", "is not AGREEMENT.OBJECTIVE=TARGET"),
    ("checkout_retail.availability=high", "`high` is not a target value"),
    ("checkout_retail.latency=250min", "`min` is not a duration unit"),
    ("checkout_retail.availability=250ms", "its target must be a percentage"),
    ("checkout_retail.availability=120%", "120% is not between 0% and 100%"),
    ("checkout_retail.latency=250", "write the target with a unit"),
])
def test_malformed_or_ill_typed_values_are_slg0013(estate: slang.Model, edit: str,
                                                   message: str) -> None:
    with pytest.raises(SlangError) as caught:
        whatif(estate, [edit])
    (d,) = caught.value.diagnostics
    assert d.code == "SLG0013"
    assert message in d.message
    assert d.hint


# ---------------------------------------------------------------------------- the command line


def test_whatif_text(bindings: Path) -> None:
    code, out, err = cli("whatif", "policies/", "--set", "checkout_retail.availability=99.5%",
                         "--bind", str(bindings), *OCTOBER)
    assert code == 0, err
    assert "loosened   availability: target 99.9% -> 99.5% (-0.4 points)" in out
    assert "impact as of 2026-11-15T00:00:00Z: 1 period changed" in out
    row = next(line for line in out.splitlines() if line.startswith("checkout_retail  "))
    assert row.split() == ["checkout_retail", "availability", "2026-10", "breached", "->",
                           "met", "1200.00", "GBP", "->", "0.00", "GBP", "-1200.00", "GBP"]
    assert "GBP 3000.00 -> 1800.00 (-1200.00)" in out


def test_whatif_json_shape(bindings: Path) -> None:
    code, out, _ = cli("whatif", "policies/", "--set", "checkout_retail.availability=99.5%",
                       "--bind", str(bindings), *OCTOBER, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert list(doc) == ["edits", "changes", "impact"]
    assert doc["edits"] == [{
        "set": "checkout_retail.availability=99.5%", "agreement": "checkout_retail",
        "objective": "availability", "old": {"op": ">=", "value": "0.999"},
        "new": {"op": ">=", "value": "0.995"},
    }]
    assert [(c["agreement"], c["objective"], c["kind"], c["classification"])
            for c in doc["changes"]] == [("checkout_retail", "availability", "target",
                                          "loosened")]
    assert doc["impact"]["periods"] == [{
        "agreement": "checkout_retail", "objective": "availability", "period": "2026-10",
        "old_status": "breached", "new_status": "met",
        "old_credit_percent": "10", "new_credit_percent": "0",
        "old_credit": "1200.00", "new_credit": "0.00", "difference": "-1200.00",
        "currency": "GBP",
    }]
    assert {"currency": "GBP", "old": "3000.00", "new": "1800.00",
            "difference": "-1200.00"} in doc["impact"]["totals"]
    assert doc["impact"]["as_of"] == AS_OF
    assert (doc["impact"]["only_old"], doc["impact"]["only_new"]) == ([], [])


def test_whatif_markdown_and_fail_on_change(bindings: Path) -> None:
    code, out, _ = cli("whatif", "policies/", "--set", "partner_api_us.availability=99.99%",
                       "--bind", str(bindings), *OCTOBER, "--format", "markdown",
                       "--fail-on", "change")
    assert code == 1
    assert ("| `partner_api_us` | `availability` | 2026-10 | met -> breached | "
            "0.00 USD -> 0.00 USD | 0.00 USD |") in out
    # an edit that changes no outcome does not fail
    code, _, _ = cli("whatif", "policies/", "--set", "partner_api_us.availability=99.8%",
                     "--bind", str(bindings), *OCTOBER, "--fail-on", "change")
    assert code == 0


def test_whatif_errors_exit_2(bindings: Path) -> None:
    code, out, err = cli("whatif", "policies/", "--set", "checkout_retail.availabilty=99.5%",
                         "--bind", str(bindings), *OCTOBER)
    assert code == 2 and out == ""
    assert "error[SLG0014]" in err and "did you mean `availability`?" in err
    code, _, err = cli("whatif", "policies/", "--set", "checkout_retail.availability=99.5%",
                       "--data", "nonsense", *OCTOBER)
    assert code == 2 and "SLG0601" in err


@pytest.fixture
def versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The estate, and a copy whose checkout uptime credit pays 20% below 99.9% (was 15%)."""
    for side in ("old", "new"):
        shutil.copytree(REPO / "policies", tmp_path / side)
    (tmp_path / "slang.toml").write_text("")
    checkout = tmp_path / "new" / "agreements" / "checkout.sla"
    text = checkout.read_text()
    assert "below 99.9% => 15%" in text
    checkout.write_text(text.replace("below 99.9% => 15%", "below 99.9% => 20%"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_diff_impact_shows_the_money_of_a_credit_tier(versions: Path, bindings: Path) -> None:
    code, out, err = cli("diff", "old", "new", "--impact", "--bind", str(bindings), *OCTOBER,
                         "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert [(c["objective"], c["kind"], c["classification"]) for c in doc["changes"]] == [
        ("uptime", "credit_tiers", "tightened")]
    # uptime 99.7761% is below 99.9%: 20% instead of 15% of 12000.00 GBP
    assert doc["impact"]["periods"] == [{
        "agreement": "checkout_retail", "objective": "uptime", "period": "2026-10",
        "old_status": "breached", "new_status": "breached",
        "old_credit_percent": "15", "new_credit_percent": "20",
        "old_credit": "1800.00", "new_credit": "2400.00", "difference": "600.00",
        "currency": "GBP",
    }]
    assert {"currency": "GBP", "old": "3000.00", "new": "3600.00",
            "difference": "600.00"} in doc["impact"]["totals"]


def test_diff_impact_text_and_fail_on(versions: Path, bindings: Path) -> None:
    code, out, _ = cli("diff", "old", "new", "--impact", "--bind", str(bindings), *OCTOBER,
                       "--fail-on", "change")
    assert code == 1
    assert "1 change: 1 tightened, 0 loosened, 0 neutral" in out
    assert "breached -> breached  1800.00 GBP -> 2400.00 GBP  +600.00 GBP" in out
    code, out, _ = cli("diff", "old", "old", "--impact", "--bind", str(bindings), *OCTOBER,
                       "--fail-on", "change")
    assert code == 0
    assert "impact as of 2026-11-15T00:00:00Z: no periods change status or credit" in out


def test_diff_data_options_need_impact(versions: Path, bindings: Path) -> None:
    code, _, err = cli("diff", "old", "new", "--bind", str(bindings))
    assert code == 2 and "SLG0004" in err and "--impact" in err
