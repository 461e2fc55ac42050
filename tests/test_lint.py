"""Policy lint (`slang.lint`): each rule on a policy that triggers it and on one that does not,
inline suppressions, the configuration files, and the example estate linting clean.

Golden renderings of one case per code are in tests/diagnostics/SLG05xx.sla (`# lint: on`).
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from slang.diagnostics import Diagnostic, Severity, SlangError
from slang.lint import (
    CONFIGURABLE,
    RULES,
    LintConfig,
    apply_suppressions,
    check_model,
    find_config,
    lint,
    load_config,
)
from slang.lint.feasibility import dependencies, promised_availability
from slang.lint.rules import Context, percent
from slang.semantics import load
from slang.semantics.model import Model
from slang.syntax.formatter import needs_formatting

REPO = Path(__file__).resolve().parent.parent
POLICIES = REPO / "policies"
UTC = dt.UTC

CATALOGUE = """\
catalogue "Kestrel Retail" {
  service checkout { title "Checkout API" owner "payments-team" }
}
"""

SOURCES = """\
events requests from "requests" {
  key   service
  units { latency_ms: ms }
}
intervals incidents from "incidents" { key service }
"""

AVAILABILITY = """\
  objective availability {
    indicator ratio(requests where status < 500)
    target    >= 99.9%
  }
"""

LATENCY = """\
  objective latency {
    indicator p95(requests.latency_ms)
    target    <= 300ms
  }
"""


def agreement(
    name: str = "checkout_retail",
    *,
    service: str = "checkout",
    status: str = "agreed",
    customer: str = "Retail BU",
    body: str = "",
    objectives: str = AVAILABILITY,
    omit: tuple[str, ...] = (),
) -> str:
    """An agreement that every completeness rule is happy with, unless told to `omit` an
    attribute; `body` adds lines (fee, effective, exclusions, credits)."""
    attrs = {
        "service": service,
        "customer": f'"{customer}"',
        "provider": '"Platform Operations"',
        "status": status,
        "period": "monthly",
        "review": "every 3 months",
        "reviewed": "2026-10-01",
        "notify": '"ops@kestrel.example" on breach',
    }
    if "review" in omit:
        omit = (*omit, "reviewed")
    lines = [f"  {k:<9}{v}" for k, v in attrs.items() if k not in omit]
    extra = textwrap.indent(textwrap.dedent(body), "  ") if body else ""
    return f"agreement {name} {{\n" + "\n".join(lines) + "\n" + extra + objectives + "}\n"


def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *parts: str,
           catalogue: str = CATALOGUE, as_of: dt.datetime | None = None) -> Model:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "estate.sla").write_text(
        "\n".join([catalogue, SOURCES, *parts]), encoding="utf-8")
    model = load(["estate.sla"], as_of=as_of)
    assert not model.errors, [(d.code, d.message) for d in model.errors]
    return model


def line(needle: str, nth: int = 1) -> int:
    """The line of the `nth` occurrence of `needle` in the estate the last `estate()` wrote
    (the current directory is the test's own)."""
    lines = Path("estate.sla").read_text(encoding="utf-8").splitlines()
    hits = [n for n, text in enumerate(lines, 1) if needle in text]
    return hits[nth - 1]


def found(diags: list[Diagnostic]) -> list[tuple[str, int, str]]:
    return [(d.code, d.span.line, d.message) for d in diags]


def messages(diags: list[Diagnostic], code: str) -> list[str]:
    return [d.message for d in diags if d.code == code]


# ------------------------------------------------------------------------------ catalogue


def test_codes_are_in_the_lifecycle_and_hygiene_group() -> None:
    assert sorted(RULES) == [
        "SLG0510", "SLG0511", "SLG0512", "SLG0513", "SLG0514", "SLG0520", "SLG0530",
        "SLG0531", "SLG0532", "SLG0540", "SLG0541", "SLG0542", "SLG0543", "SLG0550",
    ]
    assert {"SLG0501", "SLG0502", "SLG0503"} < CONFIGURABLE
    assert {r.code for r in RULES.values() if r.clock} == {"SLG0530", "SLG0532"}


def test_every_rule_is_documented_in_lint_md() -> None:
    text = (REPO / "docs" / "lint.md").read_text(encoding="utf-8")
    for code, rule in RULES.items():
        assert f"## {code}: {rule.title}\n" in text, code


LINT_DOC = REPO / "docs" / "lint.md"
DOC_EXAMPLE = re.compile(
    r"<!-- lint-(preamble|example): ([^>]*?) -->\n```sla\n(.*?)```", re.DOTALL)


def _doc_examples() -> tuple[dict[str, str], list[tuple[str, str, str | None, str]]]:
    preambles: dict[str, str] = {}
    examples: list[tuple[str, str, str | None, str]] = []  # (fires|quiet, code, as-of, text)
    for kind, what, text in DOC_EXAMPLE.findall(LINT_DOC.read_text(encoding="utf-8")):
        if kind == "preamble":
            preambles[what] = text
            continue
        words = what.split()
        as_of = words[3] if len(words) == 4 and words[2] == "as-of" else None
        examples.append((words[0], words[1], as_of, text))
    return preambles, examples


def test_lint_doc_has_a_firing_and_a_quiet_example_per_rule() -> None:
    _, examples = _doc_examples()
    for code in RULES:
        kinds = {kind for kind, c, _, _ in examples if c == code}
        assert kinds == {"fires", "quiet"}, code


@pytest.mark.parametrize("index", range(len(_doc_examples()[1])))
def test_lint_doc_examples(index: int, tmp_path: Path, monkeypatch) -> None:
    """Each example of docs/lint.md does what the page says, with the page's preamble (its own
    catalogue replaces the preamble's)."""
    preambles, examples = _doc_examples()
    kind, code, as_of, text = examples[index]
    parts = [text, preambles["sources"]]
    if "catalogue " not in text:
        parts.insert(0, preambles["catalogue"])
    monkeypatch.chdir(tmp_path)
    (tmp_path / "example.sla").write_text("\n".join(parts), encoding="utf-8")
    when = None if as_of is None else dt.datetime.fromisoformat(as_of)
    model = load(["example.sla"], as_of=when)
    assert not model.errors, [(d.code, d.message) for d in model.errors]
    codes = {d.code for d in check_model(model, as_of=when)}
    assert (code in codes) == (kind == "fires"), (kind, code, codes)


def test_a_clean_estate_lints_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = estate(tmp_path, monkeypatch, agreement())
    assert lint(model) == []
    assert lint(model, as_of=dt.datetime(2026, 11, 1, tzinfo=UTC)) == []
    assert check_model(model, as_of=dt.datetime(2026, 11, 1, tzinfo=UTC)) == []


# --------------------------------------------------------------------------- completeness


def test_service_without_agreed_agreement(tmp_path: Path, monkeypatch) -> None:
    catalogue = """\
catalogue "Kestrel Retail" {
  service checkout { title "Checkout API" owner "payments-team" }
  service payments { title "Payments" owner "payments-team" }
  service search { title "Search" owner "discovery-team" }
  service data_platform { title "Data platform" owner "data-team" internal }
}
"""
    model = estate(tmp_path, monkeypatch, agreement(),
                   agreement("payments_ola", service="payments", status="proposed"),
                   catalogue=catalogue)
    diags = lint(model)
    assert found(diags) == [
        ("SLG0510", 3, "service `payments` has no agreed agreement (its agreements are "
                       "proposed)"),
        ("SLG0510", 4, "service `search` has no agreed agreement"),
    ]
    # The caret covers `service NAME`.
    assert (diags[0].span.col, diags[0].span.end_col) == (3, 19)
    assert "internal" in (diags[0].hint or "")


def test_internal_or_agreed_services_need_nothing_more(tmp_path: Path, monkeypatch) -> None:
    catalogue = CATALOGUE.replace("}\n}", "}\n  service data_platform { title \"D\" owner \"d\" "
                                          "internal }\n}")
    model = estate(tmp_path, monkeypatch, agreement(), catalogue=catalogue)
    assert set(model.services) == {"checkout", "data_platform"}
    assert lint(model) == []


@pytest.mark.parametrize(("omit", "code"), [
    ("customer", "SLG0511"), ("provider", "SLG0512"), ("notify", "SLG0513"),
    ("review", "SLG0514"),
])
def test_agreed_agreement_without(omit: str, code: str, tmp_path: Path, monkeypatch) -> None:
    model = estate(tmp_path, monkeypatch, agreement(omit=(omit,)))
    diags = lint(model)
    assert found(diags) == [(code, 1 + CATALOGUE.count("\n") + 1 + SOURCES.count("\n") + 1,
                             f"agreed agreement `checkout_retail` has no `{omit}`")]
    assert diags[0].severity is Severity.WARNING
    assert diags[0].hint and diags[0].hint.startswith("add ")


def test_completeness_is_for_agreed_agreements_only(tmp_path: Path, monkeypatch) -> None:
    every = ("customer", "provider", "notify", "review")
    model = estate(tmp_path, monkeypatch, agreement(),
                   agreement("draft_one", status="draft", omit=(*every, "reviewed")),
                   agreement("proposal", status="proposed", omit=every))
    assert lint(model) == []


def test_credits_without_fee_are_left_to_slg0503(tmp_path: Path, monkeypatch) -> None:
    model = estate(tmp_path, monkeypatch, agreement(body="""\
        credit availability {
          below 99.9% => 10%
        }
        """))
    assert [d.code for d in model.diagnostics] == ["SLG0503"]
    assert lint(model) == []
    assert [d.code for d in check_model(model)] == ["SLG0503"]


# ---------------------------------------------------------------------------- feasibility

CHAIN = """\
catalogue "Kestrel Retail" {
  service checkout  { title "Checkout"  owner "a" depends_on payments, inventory }
  service payments  { title "Payments"  owner "b" depends_on inventory, fraud }
  service inventory { title "Inventory" owner "c" }
  service fraud     { title "Fraud"     owner "d" }
}
"""


def _target(name: str, indicator: str, target: str) -> str:
    return f"  objective {name} {{\n    indicator {indicator}\n    target    {target}\n  }}\n"


def test_feasibility_multiplies_each_dependency_once(tmp_path: Path, monkeypatch) -> None:
    model = estate(
        tmp_path, monkeypatch,
        agreement("checkout_retail", objectives=_target(
            "availability", "ratio(requests where status < 500)", ">= 99.9%")),
        agreement("payments_ola", service="payments", objectives=_target(
            "availability", "ratio(requests where status < 500)", ">= 99.95%")),
        agreement("inventory_ola", service="inventory", objectives=_target(
            "availability", "ratio(requests where status < 500)", ">= 99.9%")),
        agreement("fraud_ola", service="fraud", objectives=_target(
            "uptime", "uptime(incidents)", ">= 99.9%")),
        catalogue=CHAIN,
    )
    # inventory is reached twice (checkout -> inventory, checkout -> payments -> inventory)
    # and counted once: 0.9995 × 0.999 × 0.999 = 0.9975020005.
    by_service = {a.service.id: [s.name for s in dependencies(model.services, a.service)]
                  for a in model.agreements.values()}
    assert by_service["checkout"] == ["payments", "inventory", "fraud"]
    diags = [d for d in lint(model) if d.code == "SLG0520"]
    assert found(diags) == [
        ("SLG0520", line(">= 99.9%"), "`checkout` cannot reach >= 99.9% if it needs all its "
         "dependencies: payments 99.95% × inventory 99.9% × fraud 99.9% ≈ 99.75% < 99.9%"),
        ("SLG0520", line(">= 99.95%"), "`payments` cannot reach >= 99.95% if it needs all its "
         "dependencies: inventory 99.9% × fraud 99.9% ≈ 99.8% < 99.95%"),
    ]
    assert diags[0].span.col == 5  # the target
    assert "redundancy" in (diags[0].hint or "") and "not modelled" in (diags[0].hint or "")


def test_feasibility_shows_an_exact_product_with_equals(tmp_path: Path, monkeypatch) -> None:
    catalogue = CHAIN.replace("depends_on payments, inventory", "depends_on inventory")
    model = estate(
        tmp_path, monkeypatch,
        agreement("checkout_retail", objectives=_target(
            "uptime", "uptime(incidents)", ">= 99.95%")),
        agreement("inventory_ola", service="inventory", objectives=_target(
            "availability", "ratio(requests where status < 500)", ">= 99.9%")),
        catalogue=catalogue,
    )
    assert messages(lint(model), "SLG0520") == [
        "`checkout` cannot reach >= 99.95% if it needs all its dependencies: inventory 99.9% = "
        "99.9% < 99.95%",
    ]


def test_feasible_targets_pass(tmp_path: Path, monkeypatch) -> None:
    """0.9995 × 0.9999 × 0.9999 = 0.99930005 supports 99.9 %, 0.9999 × 0.9999 supports
    99.95 %; a `<=` objective and a proposed dependency agreement take no part."""
    model = estate(
        tmp_path, monkeypatch,
        agreement("checkout_retail", objectives=_target(
            "availability", "ratio(requests where status < 500)", ">= 99.9%") + LATENCY),
        agreement("payments_ola", service="payments", objectives=_target(
            "availability", "ratio(requests where status < 500)", ">= 99.95%")),
        agreement("inventory_ola", service="inventory", objectives=_target(
            "availability", "ratio(requests where status < 500)", ">= 99.99%")),
        agreement("fraud_ola", service="fraud", objectives=_target(
            "availability", "slice_mean(5m, ratio(requests where status < 500))", ">= 99.99%")),
        agreement("fraud_next", service="fraud", status="proposed", objectives=_target(
            "availability", "ratio(requests where status < 500)", ">= 90%")),
        catalogue=CHAIN,
    )
    assert messages(lint(model), "SLG0520") == []


def test_strictest_agreed_target_of_a_dependency_counts(tmp_path: Path, monkeypatch) -> None:
    model = estate(
        tmp_path, monkeypatch,
        agreement("inventory_a", service="inventory", customer="A", objectives=_target(
            "availability", "ratio(requests where status < 500)", ">= 99.5%") + _target(
            "uptime", "uptime(incidents)", ">= 99.95%")),
        agreement("inventory_b", service="inventory", customer="B", objectives=_target(
            "availability", "ratio(requests where status < 500)", ">= 99.9%")),
        agreement("inventory_c", service="inventory", customer="C", status="proposed",
                  objectives=_target("availability", "ratio(requests where status < 500)",
                                     ">= 99.999%")),
        catalogue=CHAIN,
    )
    ctx = Context.of(model, None)
    value, where, objective = promised_availability(ctx)["inventory"]
    assert (value, where.name, objective) == (Decimal("0.9995"), "inventory_a", "uptime")


def test_feasibility_without_agreed_dependencies_says_nothing(tmp_path, monkeypatch) -> None:
    model = estate(tmp_path, monkeypatch, agreement(objectives=_target(
        "availability", "ratio(requests where status < 500)", ">= 99.999%")), catalogue=CHAIN)
    assert messages(lint(model), "SLG0520") == []


def test_percent_rounds_down_when_asked() -> None:
    assert percent(Decimal("0.9975020005")) == "99.75020005%"
    assert percent(Decimal("0.9975020005"), 2) == "99.75%"
    assert percent(Decimal("0.99899999"), 2) == "99.89%"  # never shown as 99.9 %
    assert percent(Decimal("0.999")) == "99.9%"


# ------------------------------------------------------------------------------ lifecycle

EFFECTIVE_2026 = 'effective 2026-01-01 .. 2026-12-31\ntimezone  "Europe/London"\n'


def test_expiring_agreement(tmp_path: Path, monkeypatch) -> None:
    model = estate(tmp_path, monkeypatch, agreement(body=EFFECTIVE_2026))
    # It ends at 2027-01-01T00:00 London (= UTC in winter).
    at = dt.datetime(2026, 12, 10, 9, tzinfo=UTC)
    diags = lint(model, as_of=at)
    assert found(diags) == [(
        "SLG0530", line("effective"),
        "agreement `checkout_retail` ends in 21 days (its last day is 2026-12-31), and no "
        "agreement for `checkout` and the same customer takes over on 2027-01-01",
    )]
    assert (diags[0].span.col, diags[0].span.end_col) == (3, 37)  # the `effective` line
    assert lint(model) == []  # no clock, no lifecycle warning
    # 30 days and 1 second before the end: not yet.
    assert lint(model, as_of=dt.datetime(2026, 12, 1, 23, 59, 59, tzinfo=UTC)) == []
    assert messages(lint(model, as_of=dt.datetime(2026, 12, 2, tzinfo=UTC)), "SLG0530") == [
        "agreement `checkout_retail` ends in 30 days (its last day is 2026-12-31), and no "
        "agreement for `checkout` and the same customer takes over on 2027-01-01",
    ]
    assert "in less than a day" in messages(
        lint(model, as_of=dt.datetime(2026, 12, 31, 23, tzinfo=UTC)), "SLG0530")[0]
    assert lint(model, as_of=dt.datetime(2027, 1, 1, tzinfo=UTC)) == []  # over: not expiring


def test_expiring_agreement_with_a_renewal_is_fine(tmp_path: Path, monkeypatch) -> None:
    model = estate(tmp_path, monkeypatch, agreement(body=EFFECTIVE_2026),
                   agreement("checkout_retail_2027", status="proposed",
                             body="effective 2027-01-01 .. 2027-12-31\n"))
    assert lint(model, as_of=dt.datetime(2026, 12, 10, tzinfo=UTC)) == []


def test_a_renewal_for_another_customer_does_not_count(tmp_path: Path, monkeypatch) -> None:
    model = estate(tmp_path, monkeypatch, agreement(body=EFFECTIVE_2026),
                   agreement("partners_2027", status="proposed", customer="Partners",
                             body="effective 2027-01-01 .. 2027-12-31\n"))
    assert [d.code for d in lint(model, as_of=dt.datetime(2026, 12, 10, tzinfo=UTC))] == [
        "SLG0530"]


def test_overlapping_agreed_agreements(tmp_path: Path, monkeypatch) -> None:
    model = estate(tmp_path, monkeypatch,
                   agreement("retail_2026", body="effective 2026-01-01 .. 2026-12-31\n"),
                   agreement("retail_2027", body="effective 2026-10-01 ..\n"),
                   agreement("retail_old"))  # no `effective`: in force at all times
    diags = [d for d in lint(model) if d.code == "SLG0531"]
    assert [d.message for d in diags] == [
        'agreed agreements `retail_2026` and `retail_2027` both cover `checkout` for "Retail BU" '
        "from 2026-10-01 to 2026-12-31",
        'agreed agreements `retail_2026` and `retail_old` both cover `checkout` for "Retail BU" '
        "from 2026-01-01 to 2026-12-31",
        'agreed agreements `retail_2027` and `retail_old` both cover `checkout` for "Retail BU" '
        "from 2026-10-01 on",
    ]


def test_consecutive_or_other_customers_agreements_do_not_overlap(tmp_path, monkeypatch) -> None:
    model = estate(tmp_path, monkeypatch,
                   agreement("retail_2026", body="effective 2026-01-01 .. 2026-12-31\n"),
                   agreement("retail_2027", body="effective 2027-01-01 ..\n"),
                   agreement("partners", customer="Partners",
                             body="effective 2026-01-01 .. 2026-12-31\n"),
                   agreement("retail_next", status="proposed",
                             body="effective 2026-06-01 .. 2027-05-31\n"))
    assert lint(model) == []


def test_retired_agreement_still_in_force(tmp_path: Path, monkeypatch) -> None:
    model = estate(tmp_path, monkeypatch, agreement(body="effective 2026-07-01 ..\n"),
                   agreement("retail_old", status="retired",
                             body="effective 2025-07-01 .. 2026-12-31\n"),
                   agreement("retail_older", status="retired"))
    diags = lint(model, as_of=dt.datetime(2026, 11, 1, tzinfo=UTC))
    assert found(diags) == [
        ("SLG0532", line("effective", 2), "retired agreement `retail_old` is still in force on "
         "2026-11-01: its `effective` range runs to 2026-12-31"),
        # No `effective`: the diagnostic points at `status retired`.
        ("SLG0532", line("retired", 2), "retired agreement `retail_older` is still in force on "
         "2026-11-01: it has no `effective` range, so it is in force at all times"),
    ]
    assert lint(model) == []


def test_retired_agreement_after_its_range_is_fine(tmp_path: Path, monkeypatch) -> None:
    model = estate(tmp_path, monkeypatch, agreement(body="effective 2026-01-01 ..\n"),
                   agreement("retail_2025", status="retired",
                             body="effective 2025-01-01 .. 2025-12-31\n"))
    assert lint(model, as_of=dt.datetime(2026, 11, 1, tzinfo=UTC)) == []


def test_as_of_is_read_in_the_agreements_time_zone(tmp_path: Path, monkeypatch) -> None:
    """23:30 UTC on 31 December is already 1 January in Auckland: the retired agreement is
    over there, but still in force in London."""
    model = estate(tmp_path, monkeypatch, agreement(body="effective 2027-01-01 ..\n"),
                   agreement("nz", status="retired", body='effective 2026-01-01 .. 2026-12-31\n'
                             'timezone  "Pacific/Auckland"\n'),
                   agreement("uk", status="retired", body='effective 2026-01-01 .. 2026-12-31\n'
                             'timezone  "Europe/London"\n'))
    at = dt.datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert messages(lint(model, as_of=at), "SLG0532") == [
        "retired agreement `uk` is still in force on 2026-12-31: its `effective` range runs to "
        "2026-12-31",
    ]


# -------------------------------------------------------------------------------- hygiene

FEE = "fee       12000.00 GBP\n"
CREDITS = """\
credit availability {
  below 99.9% => 10%
  below 99.0% => 25%
  below 95.0% => 100%
}
credit latency {
  above 300ms => 5%
  above 1s => 25%
}
"""


def test_credits_that_can_exceed_the_fee(tmp_path: Path, monkeypatch) -> None:
    model = estate(tmp_path, monkeypatch,
                   agreement(body=FEE + CREDITS, objectives=AVAILABILITY + LATENCY))
    diags = lint(model)
    assert found(diags) == [(
        "SLG0540", line("agreement checkout_retail"),
        "the credits of `checkout_retail` can add up to 125% of the fee (availability 100% + "
        "latency 25%) and there is no `credit_cap`",
    )]
    assert "credit_cap 100%" in (diags[0].hint or "")


@pytest.mark.parametrize("extra", ["credit_cap 50%\n", "credit_cap 100%\n"])
def test_capped_credits_are_fine(extra: str, tmp_path: Path, monkeypatch) -> None:
    model = estate(tmp_path, monkeypatch,
                   agreement(body=FEE + extra + CREDITS, objectives=AVAILABILITY + LATENCY))
    assert lint(model) == []


def test_credits_adding_up_to_exactly_the_fee_are_fine(tmp_path: Path, monkeypatch) -> None:
    credits = CREDITS.replace("below 95.0% => 100%", "below 95.0% => 75%")
    model = estate(tmp_path, monkeypatch,
                   agreement(body=FEE + credits, objectives=AVAILABILITY + LATENCY))
    assert lint(model) == []


def test_tiers_out_of_order(tmp_path: Path, monkeypatch) -> None:
    credits = """\
credit availability {
  below 99.0% => 25%
  below 99.9% => 10%
  below 95.0% => 50%
}
credit latency {
  above 1s => 25%
  above 300ms => 5%
}
"""
    model = estate(tmp_path, monkeypatch, agreement(body=FEE + "credit_cap 50%\n" + credits,
                                                    objectives=AVAILABILITY + LATENCY))
    diags = lint(model)
    assert found(diags) == [
        ("SLG0541", line("below 99.9% => 10%"), "credit tier `below 99.9% => 10%` comes after "
         "`below 99.0% => 25%`, but is closer to the target"),
        ("SLG0541", line("above 300ms => 5%"), "credit tier `above 300ms => 5%` comes after "
         "`above 1s => 25%`, but is closer to the target"),
    ]
    assert (diags[0].span.col, diags[0].span.end_col) == (5, 23)


def test_a_schedule_out_of_order_is_reported_once(tmp_path: Path, monkeypatch) -> None:
    schedule = "credits loose {\n  below 99% => 25%\n  below 99.5% => 10%\n}\n"
    model = estate(tmp_path, monkeypatch, schedule,
                   agreement("a", body=FEE + "credit availability loose\n"),
                   agreement("b", customer="Partners", body=FEE + "credit availability loose\n"))
    assert found(lint(model)) == [("SLG0541", line("below 99.5%"), "credit tier "
                                   "`below 99.5% => 10%` comes after `below 99% => 25%`, but is "
                                   "closer to the target")]


def test_tiers_in_order_are_fine(tmp_path: Path, monkeypatch) -> None:
    model = estate(tmp_path, monkeypatch, agreement(
        body=FEE + "credit_cap 50%\n" + CREDITS, objectives=AVAILABILITY + LATENCY))
    assert lint(model) == []


def test_objective_without_credit(tmp_path: Path, monkeypatch) -> None:
    credits = "credit availability {\n  below 99.9% => 10%\n}\n"
    uptime = _target("uptime", "uptime(incidents)", ">= 99.9%")
    model = estate(tmp_path, monkeypatch,
                   agreement(body=FEE + credits, objectives=AVAILABILITY + LATENCY + uptime))
    diags = lint(model)
    assert found(diags) == [
        ("SLG0542", line("objective latency"), "objective `latency` has no credit, but "
         "`checkout_retail` has a fee and credits on `availability`"),
        ("SLG0542", line("objective uptime"), "objective `uptime` has no credit, but "
         "`checkout_retail` has a fee and credits on `availability`"),
    ]
    assert (diags[0].span.col, diags[0].span.end_col) == (13, 20)  # the objective's name


def test_objectives_without_credit_are_fine_without_fee_or_credits(tmp_path, monkeypatch) -> None:
    model = estate(tmp_path, monkeypatch,
                   agreement("no_credits", body=FEE, objectives=AVAILABILITY + LATENCY),
                   agreement("all_credited", customer="Partners", body=FEE + CREDITS.replace(
                       "100%", "50%"), objectives=AVAILABILITY + LATENCY),
                   agreement("no_fee", customer="Internal", objectives=AVAILABILITY + LATENCY))
    assert lint(model) == []


def test_overlapping_exclusions(tmp_path: Path, monkeypatch) -> None:
    body = """\
timezone  "Europe/London"
exclude 2026-06-13 .. 2026-06-14 "migration weekend"
exclude 2026-06-14T22:30:00Z .. 2026-06-15T02:00:00Z "overrun"
exclude weekly sun 02:00-04:00 "patch window"
exclude weekly sat,sun 03:59-05:00 "database"
exclude weekly mon 02:00-04:00 "other day"
exclude 2026-07-01T00:00:00Z .. 2026-07-01T01:00:00Z "back to back"
exclude 2026-07-01T01:00:00Z .. 2026-07-01T02:00:00Z "back to back"
"""
    model = estate(tmp_path, monkeypatch, agreement(body=body))
    # 22:30 UTC on the 14th is 23:30 in London (BST): still inside the excluded days.
    dates, weekly = line("migration weekend"), line("patch window")
    assert found(lint(model)) == [
        ("SLG0543", dates + 1, f"this exclusion overlaps `2026-06-13 .. 2026-06-14` on line "
                               f"{dates}"),
        ("SLG0543", weekly + 1, f"this exclusion overlaps `weekly sun 02:00-04:00` on line "
                                f"{weekly}"),
    ]


def test_adjacent_exclusions_do_not_overlap(tmp_path: Path, monkeypatch) -> None:
    body = """\
exclude 2026-06-13 .. 2026-06-14 "migration weekend"
exclude 2026-06-15T00:00:00Z .. 2026-06-15T02:00:00Z "monday morning"
exclude weekly sun 02:00-04:00 "patch window"
exclude weekly sun 04:00-05:00 "after the patch"
exclude weekly sat 02:00-04:00 "saturday"
"""
    model = estate(tmp_path, monkeypatch, agreement(body=body))
    assert lint(model) == []


def test_retired_agreements_are_records_not_tidied(tmp_path: Path, monkeypatch) -> None:
    body = FEE + CREDITS.replace("below 99.9% => 10%\n  below 99.0%", "below 99.0% => 10%\n"
                                 "  below 99.9%").replace("25%\n  below 95", "5%\n  below 95")
    model = estate(tmp_path, monkeypatch, agreement(body="effective 2026-01-01 ..\n"),
                   agreement("old", status="retired",
                             body="effective 2025-01-01 .. 2025-12-31\n" + body,
                             objectives=AVAILABILITY + LATENCY + _target(
                                 "uptime", "uptime(incidents)", ">= 99%")))
    assert lint(model, as_of=dt.datetime(2026, 11, 1, tzinfo=UTC)) == []


# ---------------------------------------------------------------------------- suppressions

NO_CREDIT = FEE + "credit availability {\n  below 99.9% => 10%\n}\n"


def test_suppression_on_the_line_above(tmp_path: Path, monkeypatch) -> None:
    latency = "  # slang: ignore[SLG0542] reported, not credited\n" + LATENCY
    model = estate(tmp_path, monkeypatch,
                   agreement(body=NO_CREDIT, objectives=AVAILABILITY + latency))
    assert [d.code for d in lint(model)] == ["SLG0542"]
    assert apply_suppressions(model, lint(model)) == []
    assert check_model(model) == []


def test_suppression_on_the_same_line(tmp_path: Path, monkeypatch) -> None:
    latency = LATENCY.replace("latency {", "latency { # slang: ignore[SLG0542] reported only")
    model = estate(tmp_path, monkeypatch,
                   agreement(body=NO_CREDIT, objectives=AVAILABILITY + latency))
    assert check_model(model) == []


def test_suppression_two_lines_above_is_unused(tmp_path: Path, monkeypatch) -> None:
    latency = "  # slang: ignore[SLG0542] reported, not credited\n\n" + LATENCY
    model = estate(tmp_path, monkeypatch,
                   agreement(body=NO_CREDIT, objectives=AVAILABILITY + latency))
    assert found(check_model(model)) == [
        ("SLG0550", line("# slang"), "suppression of SLG0542 is unused: nothing reports SLG0542 "
                                     "here"),
        ("SLG0542", line("# slang") + 2, "objective `latency` has no credit, but "
         "`checkout_retail` has a fee and credits on `availability`"),
    ]


def test_suppression_without_reason_still_suppresses(tmp_path: Path, monkeypatch) -> None:
    latency = "  # slang: ignore[SLG0542]\n" + LATENCY
    model = estate(tmp_path, monkeypatch,
                   agreement(body=NO_CREDIT, objectives=AVAILABILITY + latency))
    diags = check_model(model)
    assert found(diags) == [
        ("SLG0550", line("# slang"), "suppression of SLG0542 gives no reason")]
    assert diags[0].severity is Severity.WARNING


def test_suppression_of_several_codes(tmp_path: Path, monkeypatch) -> None:
    text = agreement(omit=("customer", "notify")).replace(
        "agreement checkout_retail {",
        "agreement checkout_retail { # slang: ignore[SLG0511, SLG0513] an internal pilot")
    model = estate(tmp_path, monkeypatch, text)
    assert [d.code for d in lint(model)] == ["SLG0511", "SLG0513"]
    assert check_model(model) == []


def test_what_cannot_be_suppressed(tmp_path: Path, monkeypatch) -> None:
    text = agreement().replace(
        "  objective availability {",
        "  # slang: ignore[SLG0406, SLG0599, checkout] not what suppressions are for\n"
        "  # slang: ignore this one\n"
        "  # slang: ignore[SLG0550] no\n"
        "  objective availability {")
    model = estate(tmp_path, monkeypatch, text)
    first = line("# slang")
    assert found(check_model(model)) == [
        ("SLG0550", first, "SLG0406 cannot be suppressed: only the SLG05xx warnings can"),
        ("SLG0550", first, "SLG0599 is not a slang code"),
        ("SLG0550", first, "`checkout` in this suppression is not a code"),
        ("SLG0550", first + 1, "this suppression names no code"),
        ("SLG0550", first + 2, "SLG0550 cannot be suppressed"),
    ]


def test_clock_warnings_are_not_unused_without_a_clock(tmp_path: Path, monkeypatch) -> None:
    body = "# slang: ignore[SLG0530] the pilot ends with the year\n" + EFFECTIVE_2026
    model = estate(tmp_path, monkeypatch, agreement(body=body))
    assert check_model(model) == []  # SLG0530 was not looked for
    assert check_model(model, as_of=dt.datetime(2026, 12, 10, tzinfo=UTC)) == []  # suppressed
    assert found(check_model(model, as_of=dt.datetime(2026, 6, 1, tzinfo=UTC))) == [
        ("SLG0550", line("# slang"),
         "suppression of SLG0530 is unused: nothing reports SLG0530 here"),
    ]


def test_load_warnings_can_be_suppressed(tmp_path: Path, monkeypatch) -> None:
    text = agreement(body="credit availability {\n  below 99.9% => 10%\n}\n").replace(
        "agreement checkout_retail {",
        "# slang: ignore[SLG0503] credits are paid in vouchers, not money\n"
        "agreement checkout_retail {")
    model = estate(tmp_path, monkeypatch, text)
    assert [d.code for d in model.diagnostics] == ["SLG0503"]
    assert check_model(model) == []


def test_a_model_with_errors_is_not_linted(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = CATALOGUE + SOURCES + agreement(omit=("customer",)).replace(
        "  objective availability {",
        "  # slang: ignore[SLG0542] nothing to say\n  objective availability {").replace(
        "status   agreed", "status   agred")
    (tmp_path / "estate.sla").write_text(text, encoding="utf-8")
    model = load(["estate.sla"])
    assert [d.code for d in model.diagnostics] == ["SLG0411"]
    # Neither SLG0510 (the agreement did not resolve) nor an unused-suppression warning.
    assert [d.code for d in check_model(model)] == ["SLG0411"]


# ---------------------------------------------------------------------------- configuration


def _two_findings(tmp_path: Path, monkeypatch) -> Model:
    return estate(tmp_path, monkeypatch, agreement(
        body=NO_CREDIT, objectives=AVAILABILITY + LATENCY, omit=("review",)))


def test_config_disable_enable_and_severity(tmp_path: Path, monkeypatch) -> None:
    model = _two_findings(tmp_path, monkeypatch)
    assert [d.code for d in lint(model)] == ["SLG0514", "SLG0542"]
    assert [d.code for d in lint(model, config=LintConfig(disable=frozenset({"SLG0542"})))] == [
        "SLG0514"]
    assert [d.code for d in lint(model, config=LintConfig(enable=frozenset({"SLG0542"})))] == [
        "SLG0542"]
    both = LintConfig(enable=frozenset({"SLG0542"}), disable=frozenset({"SLG0542"}))
    assert lint(model, config=both) == []
    raised = lint(model, config=LintConfig(severity={"SLG0514": Severity.ERROR}))
    assert [(d.code, d.severity) for d in raised] == [
        ("SLG0514", Severity.ERROR), ("SLG0542", Severity.WARNING)]


def test_config_applies_to_load_warnings_but_never_to_errors(tmp_path, monkeypatch) -> None:
    model = estate(tmp_path, monkeypatch, agreement(
        body="credit availability {\n  below 99.9% => 10%\n}\n"))
    assert [d.code for d in check_model(model)] == ["SLG0503"]
    config = LintConfig(disable=frozenset({"SLG0503"}))
    assert check_model(model, config=config) == []
    with pytest.raises(ValueError, match="not lint codes: SLG0401"):
        LintConfig(disable=frozenset({"SLG0401"}))


def test_disabled_code_keeps_its_suppressions_used(tmp_path: Path, monkeypatch) -> None:
    latency = "  # slang: ignore[SLG0542] reported, not credited\n" + LATENCY
    model = estate(tmp_path, monkeypatch,
                   agreement(body=NO_CREDIT, objectives=AVAILABILITY + latency))
    assert check_model(model, config=LintConfig(disable=frozenset({"SLG0542"}))) == []


def test_load_config_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""\
        [project]
        name = "estate"

        [tool.slang.lint]
        enable = ["SLG0510", "SLG0520"]
        disable = ["SLG0520"]
        severity = { SLG0510 = "error" }
        """), encoding="utf-8")
    (tmp_path / "policies" / "agreements").mkdir(parents=True)
    config = load_config(tmp_path / "policies" / "agreements")
    assert config.enable == {"SLG0510", "SLG0520"}
    assert config.disable == {"SLG0520"}
    assert dict(config.severity) == {"SLG0510": Severity.ERROR}
    assert config.path is not None and config.path.endswith("pyproject.toml")
    assert config.reports("SLG0510") and not config.reports("SLG0520")
    assert not config.reports("SLG0542") and config.reports("SLG0401")


def test_load_config_from_slang_toml_and_its_severity_table(tmp_path: Path) -> None:
    (tmp_path / "slang.toml").write_text(
        '[lint]\ndisable = ["SLG0542"]\n\n[lint.severity]\nSLG0531 = "Error"\n', encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.slang.lint]\ndisable = ["SLG0510"]\n', encoding="utf-8")
    policy = tmp_path / "a.sla"
    policy.write_text("", encoding="utf-8")
    config = load_config(policy)  # a file starts from its directory
    assert config.disable == {"SLG0542"}  # slang.toml first
    assert dict(config.severity) == {"SLG0531": Severity.ERROR}
    assert config.enable is None


def test_nearest_config_wins_and_pyproject_without_slang_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "slang.toml").write_text('[lint]\ndisable = ["SLG0510"]\n', encoding="utf-8")
    inner = tmp_path / "team"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert find_config(inner) == tmp_path / "slang.toml"
    (inner / "pyproject.toml").write_text('[tool.slang]\n', encoding="utf-8")
    assert find_config(inner) == inner / "pyproject.toml"
    assert load_config(inner) == LintConfig(path=load_config(inner).path)


def test_the_search_stops_at_the_repository_top(tmp_path: Path) -> None:
    (tmp_path / "slang.toml").write_text('[lint]\ndisable = ["SLG0510"]\n', encoding="utf-8")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    assert find_config(repo) is None
    assert load_config(repo) == LintConfig()


def _config_error(tmp_path: Path, text: str, monkeypatch) -> list[tuple[str, int, int, str]]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "slang.toml").write_text(text, encoding="utf-8")
    with pytest.raises(SlangError) as info:
        load_config(tmp_path)
    return [(d.span.file, d.span.line, d.span.col, d.message) for d in info.value.diagnostics
            if d.code == "SLG0020"]


def test_unknown_codes_in_the_config_are_errors_naming_the_file(tmp_path, monkeypatch) -> None:
    text = '[lint]\ndisable = ["SLG0542", "SLG0599"]\nenable = ["SLG0401", "oops"]\n'
    assert _config_error(tmp_path, text, monkeypatch) == [
        ("slang.toml", 2, 24, "SLG0599 in `disable` is not a lint code"),
        ("slang.toml", 3, 12, "SLG0401 in `enable` is not a lint code"),
        ("slang.toml", 3, 23, "`oops` in `enable` is not a code: codes are written like "
                              "SLG0510"),
    ]


def test_bad_settings_and_severities(tmp_path: Path, monkeypatch) -> None:
    text = '[lint]\ndisabel = ["SLG0542"]\nseverity = { SLG0510 = "fatal" }\n'
    assert _config_error(tmp_path, text, monkeypatch) == [
        ("slang.toml", 2, 1, "unknown setting `disabel` in [lint]"),
        ("slang.toml", 3, 14, "severity of SLG0510 must be one of: error, warning, info"),
    ]
    text = '[lint]\ndisable = "SLG0542"\n'
    assert _config_error(tmp_path, text, monkeypatch) == [
        ("slang.toml", 2, 1, '`disable` in [lint] must be a list of codes, e.g. ["SLG0542"]'),
    ]


def test_config_that_is_not_toml(tmp_path: Path, monkeypatch) -> None:
    assert _config_error(tmp_path, '[lint]\ndisable = ["SLG0542"\n', monkeypatch) == [
        ("slang.toml", 2, 21, "slang.toml is not valid TOML: Unclosed array"),
    ]


def test_check_model_reads_the_config_and_shows_its_line(tmp_path, monkeypatch) -> None:
    model = _two_findings(tmp_path, monkeypatch)
    (tmp_path / "slang.toml").write_text('[lint]\ndisable = ["SLG0514"]\n', encoding="utf-8")
    assert [d.code for d in check_model(model, start=tmp_path / "estate.sla")] == ["SLG0542"]
    (tmp_path / "slang.toml").write_text('[lint]\ndisable = ["SLG0514", "SLG0404"]\n',
                                         encoding="utf-8")
    with pytest.raises(SlangError) as info:
        check_model(model, start=tmp_path)
    (d,) = info.value.diagnostics
    assert (d.code, d.span.file, d.span.line) == ("SLG0020", "slang.toml", 2)
    assert model.texts.line("slang.toml", 2) == 'disable = ["SLG0514", "SLG0404"]'


# --------------------------------------------------------------------------- the estate


@pytest.mark.parametrize("as_of", [
    None,
    dt.datetime(2026, 11, 15, tzinfo=UTC),  # the end of the demo data, the README's audit
    dt.datetime(2026, 11, 28, tzinfo=UTC),  # tests/test_examples.py's check
])
def test_the_example_estate_lints_clean(as_of: dt.datetime | None, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    model = load(["policies"], as_of=as_of)
    diags = check_model(model, as_of=as_of, start=POLICIES)
    assert diags == [], [(d.span.file, d.span.line, d.code, d.message) for d in diags]


def test_the_example_estate_needs_its_suppressions(monkeypatch) -> None:
    """The estate is clean because of what it says, not because the rules are silent."""
    monkeypatch.chdir(REPO)
    model = load(["policies"])
    raw = sorted((d.span.file, d.code) for d in lint(model))
    assert raw == [
        ("policies/agreements/checkout.sla", "SLG0542"),
        ("policies/agreements/marketplace_us.sla", "SLG0542"),
        ("policies/agreements/marketplace_us.sla", "SLG0542"),
        ("policies/agreements/marketplace_us.sla", "SLG0542"),
        ("policies/agreements/support.sla", "SLG0542"),
        ("policies/agreements/support.sla", "SLG0542"),
    ]
    assert find_config(POLICIES) is None  # the repository's pyproject.toml has no [tool.slang]
    at = dt.datetime(2026, 12, 10, tzinfo=UTC)  # later in the year, real findings appear
    later = check_model(load(["policies"], as_of=at), as_of=at)
    assert sorted(messages(later, "SLG0530")) == [
        "agreement `checkout_retail` ends in 22 days (its last day is 2026-12-31), and no "
        "agreement for `checkout` and the same customer takes over on 2027-01-01",
        "agreement `fulfilment_us` ends in 18 days (its last day is 2026-12-27), and no "
        "agreement for `fulfilment` and the same customer takes over on 2026-12-28",
        "agreement `partner_api_us` ends in 22 days (its last day is 2026-12-31), and no "
        "agreement for `partner_api` and the same customer takes over on 2027-01-01",
        "agreement `support_desk_retail` ends in 22 days (its last day is 2026-12-31), and no "
        "agreement for `support_desk` and the same customer takes over on 2027-01-01",
    ]


def test_the_example_estate_stays_formatted() -> None:
    for path in sorted(POLICIES.rglob("*.sla")):
        assert not needs_formatting(path.read_text(encoding="utf-8"), str(path)), path
