"""Semantic diff: pairs of versions of one agreement, and what `slang.diff` says changed.

Each pair is written to `old/` and `new/` under a temporary directory holding a `slang.toml`,
and loaded from there, so locations read `new/policy.sla:LINE`. The git tests make a real
repository with `git init` and read one side as `REV:PATH`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from slang.diagnostics import SlangError, render_text_all
from slang.diff import (
    Change,
    Location,
    diff,
    load_side,
    parse_spec,
    render,
    render_json,
    render_markdown,
    render_text,
    summary_line,
)
from slang.syntax.formatter import format_text

REPO = Path(__file__).resolve().parent.parent

BASE = """\
import "std/calendars" as cal

catalogue "Acme" {
  service checkout { title "Checkout API" }
}

events requests from "requests" {
  key   service
  units { latency_ms: ms }
}

intervals maintenance from "maintenance" { key service }

agreement checkout_retail {
  service    checkout
  customer   "Retail BU"
  provider   "Platform Operations"
  status     proposed
  effective  2026-01-01 .. 2026-12-31
  timezone   "Europe/London"
  period     monthly
  fee        12000.00 GBP
  credit_cap 50%

  exclude 2026-03-29T01:00:00Z .. 2026-03-29T03:00:00Z "datacentre migration"
  exclude maintenance where approved == true
  exclude weekly sun 02:00-04:00 "patch window"

  objective availability {
    indicator ratio(requests where status < 500)
    target    >= 99.9%
  }

  objective latency {
    indicator p95(requests.latency_ms where method == "GET")
    target    <= 300ms
    hours     cal.uk_business
  }

  credit availability {
    below 99.9% => 10%
    below 99.0% => 25%
  }
  credit latency {
    above 300ms => 5%
  }
}
"""

# The same agreement, written differently: another layout and comments, attributes, exclusions,
# objectives and tiers in another order, another import alias, columns written on their source,
# literals spelled otherwise (99.90%, 0.3s, 12000.0 GBP), the good rows' conditions swapped.
REWRITTEN = """\
# Checkout, rewritten by hand.
import "std/calendars" as calendars

catalogue "Acme" { service checkout { title "Checkout API" } }

intervals maintenance from "maintenance" { key service }

events requests from "requests" { units { latency_ms: ms }  key service }

agreement checkout_retail {
  period monthly
  timezone "Europe/London"
  status proposed   # still being negotiated
  customer "Retail BU"
  service checkout
  provider "Platform Operations"
  credit_cap 50.0%
  fee 12000.0 GBP
  effective 2026-01-01 .. 2026-12-31

  credit latency { above 0.3s => 5% }
  credit availability {
    below 99% => 25%
    below 99.90% => 10%
  }

  objective latency {
    hours calendars.uk_business
    target <= 0.3s
    indicator p95(requests.latency_ms where requests.method == "GET")
  }
  objective availability {
    target >= 99.90%
    indicator ratio(requests where requests.status < 500)
  }

  exclude weekly sun 02:00-04:00 "Sunday patching"
  exclude maintenance where true == approved and approved == true
  exclude 2026-03-29T02:00:00+01:00 .. 2026-03-29T04:00:00+01:00
}
"""


def write(root: Path, name: str, text: str) -> Path:
    side = root / name
    side.mkdir(parents=True, exist_ok=True)
    (side / "policy.sla").write_text(text, encoding="utf-8")
    return side


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"the base policy has no single {old!r}"
    return text.replace(old, new)


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "slang.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def changes_between(root: Path, old: str, new: str) -> list[Change]:
    write(root, "old", old)
    write(root, "new", new)
    before, after = load_side("old"), load_side("new")
    assert before.errors == [] and after.errors == [], render_text_all(
        [*before.errors, *after.errors], after.texts
    )
    return diff(before, after)


def line_of(text: str, needle: str) -> int:
    (line,) = [i for i, t in enumerate(text.splitlines(), 1) if needle in t]
    return line


# ---------------------------------------------------------------------------- no change


def test_the_same_estate_has_no_changes(estate: Path) -> None:
    assert changes_between(estate, BASE, BASE) == []


def test_a_rewrite_with_the_same_meaning_has_no_changes(estate: Path) -> None:
    assert REWRITTEN != BASE
    assert changes_between(estate, BASE, REWRITTEN) == []
    assert render_json(changes_between(estate, BASE, REWRITTEN)) == '{\n  "changes": []\n}\n'
    assert render_text([]) == "no changes in meaning\n"


HOLIDAYS_2026 = ("2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31",
                 "2026-12-25", "2026-12-28")  # std/calendars' uk_business


def test_renamed_declarations_with_the_same_meaning_are_no_change(estate: Path) -> None:
    """A source and a calendar under other names, the calendar copied into the estate."""
    new = BASE.replace("requests", "web_requests").replace('from "web_requests"', 'from "requests"')
    new = edit(new, "hours     cal.uk_business", "hours     office")
    new += (
        "\ncalendar office {\n"
        '  timezone "Europe/London"\n'
        "  hours    mon-fri 09:00-17:30\n"
        + "".join(f"  holidays {d}\n" for d in HOLIDAYS_2026)
        + "}\n"
    )
    assert changes_between(estate, BASE, new) == []
    # One holiday less is more counted time: tightened.
    (c,) = changes_between(estate, BASE, edit(new, "  holidays 2026-12-28\n", ""))
    assert (c.objective, c.kind, c.classification) == ("latency", "hours", "tightened")
    assert c.new == "office (Europe/London mon-fri 09:00-17:30, 7 holidays)"


def test_the_formatted_example_estate_has_no_changes(tmp_path: Path, monkeypatch) -> None:
    """`slang fmt` over every file of the example estate changes no meaning."""
    copy = tmp_path / "repo" / "policies"
    shutil.copytree(REPO / "policies", copy)
    (tmp_path / "repo" / "slang.toml").write_text("", encoding="utf-8")
    for f in copy.rglob("*.sla"):
        text = f.read_text(encoding="utf-8")
        # Squash the layout first, so the formatter has something to undo.
        squashed = "\n".join(line.strip() for line in text.splitlines()) + "\n"
        f.write_text(format_text(squashed, f.name), encoding="utf-8")
    monkeypatch.chdir(tmp_path / "repo")
    original = load_side(str(REPO / "policies"))
    formatted = load_side("policies")
    assert original.errors == [] and formatted.errors == []
    assert len(formatted.agreements) == 9
    assert diff(original, formatted) == []


# ---------------------------------------------------------------------------- targets


def test_a_higher_availability_target_is_tightened(estate: Path) -> None:
    new = edit(BASE, "target    >= 99.9%", "target    >= 99.95%")
    assert changes_between(estate, BASE, new) == [
        Change(
            agreement="checkout_retail",
            objective="availability",
            kind="target",
            old=">= 99.9%",
            new=">= 99.95%",
            classification="tightened",
            detail="target 99.9% -> 99.95% (+0.05 points)",
            location=Location("new/policy.sla", 31),
        )
    ]
    assert line_of(new, "99.95%") == 31


def test_a_lower_availability_target_is_loosened(estate: Path) -> None:
    new = edit(BASE, "target    >= 99.9%", "target    >= 99.5%")
    (c,) = changes_between(estate, BASE, new)
    assert (c.kind, c.classification, c.detail) == (
        "target", "loosened", "target 99.9% -> 99.5% (-0.4 points)"
    )


def test_a_lower_latency_target_is_tightened_in_the_columns_unit(estate: Path) -> None:
    new = edit(BASE, "target    <= 300ms", "target    <= 0.25s")
    (c,) = changes_between(estate, BASE, new)
    assert (c.objective, c.kind, c.old, c.new, c.classification, c.detail) == (
        "latency", "target", "<= 300ms", "<= 250ms", "tightened", "target 300ms -> 250ms (-50ms)"
    )


def test_a_strict_operator_at_the_same_value_is_tightened(estate: Path) -> None:
    new = edit(BASE, "target    >= 99.9%", "target    > 99.9%")
    (c,) = changes_between(estate, BASE, new)
    assert (c.old, c.new, c.classification, c.detail) == (
        ">= 99.9%", "> 99.9%", "tightened", "target >= 99.9% -> > 99.9%"
    )


# ---------------------------------------------------------------------------- credits


def test_a_smaller_credit_is_loosened(estate: Path) -> None:
    new = edit(BASE, "below 99.9% => 10%", "below 99.9% => 5%")
    assert changes_between(estate, BASE, new) == [
        Change(
            agreement="checkout_retail",
            objective="availability",
            kind="credit_tiers",
            old="below 99.9% => 10%, below 99% => 25%",
            new="below 99.9% => 5%, below 99% => 25%",
            classification="loosened",
            detail="credit tiers below 99.9% => 10%, below 99% => 25% -> "
            "below 99.9% => 5%, below 99% => 25% (less credit)",
            location=Location("new/policy.sla", 41),
        )
    ]
    assert line_of(new, "below 99.9% => 5%") == 41


def test_a_tier_that_triggers_earlier_is_tightened(estate: Path) -> None:
    new = edit(BASE, "below 99.0% => 25%", "below 99.5% => 25%")
    (c,) = changes_between(estate, BASE, new)
    assert (c.kind, c.classification) == ("credit_tiers", "tightened")
    assert c.detail.endswith("(more credit)")


def test_a_named_schedule_with_the_same_tiers_is_no_change(estate: Path) -> None:
    inline = "  credit availability {\n    below 99.9% => 10%\n    below 99.0% => 25%\n  }\n"
    new = edit(BASE, inline, "  credit availability gold\n")
    new += "\ncredits gold {\n  below 99% => 25%\n  below 99.9% => 10%\n}\n"
    assert changes_between(estate, BASE, new) == []


def test_removing_the_credit_of_an_objective_is_loosened(estate: Path) -> None:
    new = edit(BASE, "  credit latency {\n    above 300ms => 5%\n  }\n", "")
    (c,) = changes_between(estate, BASE, new)
    assert (c.objective, c.kind, c.old, c.new, c.classification) == (
        "latency", "credit_tiers", "above 300ms => 5%", None, "loosened"
    )


def test_a_lower_credit_cap_is_loosened(estate: Path) -> None:
    new = edit(BASE, "credit_cap 50%", "credit_cap 25%")
    (c,) = changes_between(estate, BASE, new)
    assert (c.objective, c.kind, c.old, c.new, c.classification, c.detail) == (
        None, "credit_cap", "50%", "25%", "loosened", "credit_cap 50% -> 25% (-25 points)"
    )
    assert c.location == Location("new/policy.sla", 23)


# ---------------------------------------------------------------------------- objectives


def test_an_added_objective_is_tightened(estate: Path) -> None:
    new = edit(BASE, "  credit availability {", (
        "  objective uptime {\n"
        "    indicator uptime(maintenance, granularity: 1m)\n"
        "    target    >= 99.5%\n"
        "  }\n\n"
        "  credit availability {"
    ))
    assert changes_between(estate, BASE, new) == [
        Change(
            agreement="checkout_retail",
            objective="uptime",
            kind="objective_added",
            old=None,
            new="uptime(maintenance, granularity: 1m) >= 99.5%",
            classification="tightened",
            detail="objective added: uptime(maintenance, granularity: 1m) >= 99.5%",
            location=Location("new/policy.sla", 40),
        )
    ]


def test_a_removed_objective_is_loosened_and_located_on_the_old_side(estate: Path) -> None:
    new = edit(BASE, (
        "  objective latency {\n"
        "    indicator p95(requests.latency_ms where method == \"GET\")\n"
        "    target    <= 300ms\n"
        "    hours     cal.uk_business\n"
        "  }\n\n"
    ), "")
    new = edit(new, "  credit latency {\n    above 300ms => 5%\n  }\n", "")
    assert changes_between(estate, BASE, new) == [
        Change(
            agreement="checkout_retail",
            objective="latency",
            kind="objective_removed",
            old='p95(requests.latency_ms where method == "GET") <= 300ms, hours uk_business '
            "(Europe/London mon-fri 09:00-17:30, 8 holidays), credit above 300ms => 5%",
            new=None,
            classification="loosened",
            detail='objective removed: p95(requests.latency_ms where method == "GET") <= 300ms, '
            "hours uk_business (Europe/London mon-fri 09:00-17:30, 8 holidays), "
            "credit above 300ms => 5%",
            location=Location("old/policy.sla", 34),
        )
    ]


def test_a_higher_percentile_under_a_ceiling_is_tightened(estate: Path) -> None:
    new = edit(BASE, "p95(requests.latency_ms", "p99(requests.latency_ms")
    (c,) = changes_between(estate, BASE, new)
    assert (c.kind, c.classification, c.detail) == (
        "indicator",
        "tightened",
        'indicator p95(requests.latency_ms where method == "GET") -> '
        'p99(requests.latency_ms where method == "GET")',
    )


def test_another_condition_is_a_neutral_indicator_change(estate: Path) -> None:
    new = edit(BASE, "ratio(requests where status < 500)",
               "ratio(requests where status < 500 and status != 429)")
    (c,) = changes_between(estate, BASE, new)
    assert (c.kind, c.old, c.new, c.classification) == (
        "indicator",
        "ratio(requests where status < 500)",
        "ratio(requests where status < 500 and status != 429)",
        "neutral",
    )


def test_a_changed_source_declaration_shows_what_changed(estate: Path) -> None:
    new = edit(BASE, "units { latency_ms: ms }", "units { latency_ms: s }")
    (c,) = changes_between(estate, BASE, new)
    assert (c.objective, c.kind, c.classification) == ("latency", "indicator", "neutral")
    assert c.detail == (
        'indicator p95(requests.latency_ms where method == "GET"): '
        "source requests: units latency_ms: ms -> units latency_ms: s"
    )
    # The target is 300 ms either way (300 in milliseconds, 0.3 in seconds): not a change.


def test_all_hours_instead_of_office_hours_is_tightened(estate: Path) -> None:
    new = edit(BASE, "    hours     cal.uk_business\n", "")
    (c,) = changes_between(estate, BASE, new)
    assert (c.objective, c.kind, c.old, c.new, c.classification) == (
        "latency",
        "hours",
        "uk_business (Europe/London mon-fri 09:00-17:30, 8 holidays)",
        "all hours",
        "tightened",
    )


# ---------------------------------------------------------------------------- exclusions


def test_a_removed_exclusion_is_tightened(estate: Path) -> None:
    new = edit(BASE, '  exclude weekly sun 02:00-04:00 "patch window"\n', "")
    assert changes_between(estate, BASE, new) == [
        Change(
            agreement="checkout_retail",
            objective=None,
            kind="exclusion_removed",
            old='weekly sun 02:00-04:00 "patch window"',
            new=None,
            classification="tightened",
            detail='exclusion removed: weekly sun 02:00-04:00 "patch window"',
            location=Location("old/policy.sla", 27),
        )
    ]


def test_a_new_exclusion_is_loosened(estate: Path) -> None:
    new = edit(BASE, '  exclude weekly sun 02:00-04:00 "patch window"\n', (
        '  exclude weekly sun 02:00-04:00 "patch window"\n'
        '  exclude 2026-11-27 .. 2026-11-28 "Black Friday freeze"\n'
    ))
    (c,) = changes_between(estate, BASE, new)
    # Whole days in the agreement's time zone (London is on UTC in November).
    assert (c.kind, c.old, c.new, c.classification, c.location) == (
        "exclusion_added",
        None,
        '2026-11-27T00:00:00Z .. 2026-11-29T00:00:00Z "Black Friday freeze"',
        "loosened",
        Location("new/policy.sla", 28),
    )


def test_a_wider_exclusion_window_is_one_loosened_change(estate: Path) -> None:
    new = edit(BASE, "weekly sun 02:00-04:00", "weekly sat,sun 01:00-04:00")
    (c,) = changes_between(estate, BASE, new)
    assert (c.kind, c.classification, c.detail) == (
        "exclusion_changed",
        "loosened",
        'exclusion weekly sun 02:00-04:00 "patch window" -> '
        'weekly sat,sun 01:00-04:00 "patch window" (more time excluded)',
    )


def test_excluded_time_counted_as_available_is_loosened(estate: Path) -> None:
    new = edit(BASE, '"datacentre migration"', '"datacentre migration" as available')
    (c,) = changes_between(estate, BASE, new)
    assert (c.kind, c.classification) == ("exclusion_changed", "loosened")
    assert c.new == ('2026-03-29T01:00:00Z .. 2026-03-29T03:00:00Z "datacentre migration" '
                     "as available")


# ---------------------------------------------------------------------------- agreement terms


def test_proposed_to_agreed_is_a_neutral_status_change(estate: Path) -> None:
    new = edit(BASE, "status     proposed", "status     agreed")
    assert changes_between(estate, BASE, new) == [
        Change(
            agreement="checkout_retail",
            objective=None,
            kind="status",
            old="proposed",
            new="agreed",
            classification="neutral",
            detail="status proposed -> agreed",
            location=Location("new/policy.sla", 18),
        )
    ]


@pytest.mark.parametrize(
    ("effective", "classification", "note"),
    [
        ("2026-01-01 .. 2027-06-30", "tightened", "ends 181 days later"),
        ("2026-01-01 ..", "tightened", "now open-ended"),
        ("2026-02-01 .. 2026-12-31", "loosened", "starts 31 days later"),
        ("2026-02-01 .. 2027-01-31", "neutral", "starts 31 days later, ends 31 days later"),
    ],
)
def test_effective_range_changes(estate: Path, effective: str, classification: str,
                                 note: str) -> None:
    new = edit(BASE, "2026-01-01 .. 2026-12-31", effective)
    (c,) = changes_between(estate, BASE, new)
    assert (c.kind, c.old, c.new, c.classification) == (
        "effective", "2026-01-01 .. 2026-12-31", effective, classification
    )
    assert c.detail == f"effective 2026-01-01 .. 2026-12-31 -> {effective} ({note})"
    assert c.location == Location("new/policy.sla", 19)


def test_a_fee_change_is_neutral_and_shows_the_amount(estate: Path) -> None:
    new = edit(BASE, "fee        12000.00 GBP", "fee        13500.00 GBP")
    (c,) = changes_between(estate, BASE, new)
    assert (c.kind, c.old, c.new, c.classification, c.detail) == (
        "fee", "12000.00 GBP", "13500.00 GBP", "neutral",
        "fee 12000.00 GBP -> 13500.00 GBP (+1500.00 GBP, +12.5%)",
    )


def test_shorter_periods_are_tightened(estate: Path) -> None:
    new = edit(BASE, "period     monthly", "period     weekly")
    (c,) = changes_between(estate, BASE, new)
    assert (c.kind, c.old, c.new, c.classification) == ("period", "monthly", "weekly", "tightened")


def test_several_changes_in_their_order(estate: Path) -> None:
    new = edit(BASE, "status     proposed", "status     agreed")
    new = edit(new, "customer   \"Retail BU\"", "customer   \"Retail\"")
    new = edit(new, "timezone   \"Europe/London\"", "timezone   \"Europe/Dublin\"")
    new = edit(new, "target    >= 99.9%", "target    >= 99.95%")
    new = edit(new, "above 300ms => 5%", "above 300ms => 10%")
    found = [(c.objective, c.kind, c.classification) for c in changes_between(estate, BASE, new)]
    assert found == [
        (None, "status", "neutral"),
        (None, "customer", "neutral"),
        (None, "timezone", "neutral"),
        ("availability", "target", "tightened"),
        ("latency", "credit_tiers", "tightened"),
    ]


def test_agreements_added_and_removed(estate: Path) -> None:
    other = BASE.replace("agreement checkout_retail", "agreement checkout_partner")
    changes = changes_between(estate, BASE, other)
    assert [(c.agreement, c.kind, c.classification, c.location) for c in changes] == [
        ("checkout_partner", "agreement_added", "neutral", Location("new/policy.sla", 14)),
        ("checkout_retail", "agreement_removed", "neutral", Location("old/policy.sla", 14)),
    ]
    assert changes[0].detail == (
        "agreement added: service checkout, status proposed, 2 objectives "
        "(availability, latency)"
    )
    # An agreement that binds: adding it adds protection, removing it takes protection away.
    agreed = BASE.replace("status     proposed", "status     agreed")
    changes = changes_between(estate, agreed, agreed.replace("checkout_retail", "checkout_b2b"))
    assert [(c.agreement, c.classification) for c in changes] == [
        ("checkout_b2b", "tightened"), ("checkout_retail", "loosened")
    ]


# ---------------------------------------------------------------------------- rendering


@pytest.fixture
def three(estate: Path) -> list[Change]:
    new = edit(BASE, "status     proposed", "status     agreed")
    new = edit(new, "target    >= 99.9%", "target    >= 99.95%")
    new = edit(new, "above 300ms => 5%", "above 300ms => 2%")
    return changes_between(estate, BASE, new)


def test_summary_line(three: list[Change]) -> None:
    assert summary_line(three) == "3 changes: 1 tightened, 1 loosened, 1 neutral"
    assert summary_line(three[:1]) == "1 change: 0 tightened, 0 loosened, 1 neutral"
    assert summary_line([]) == "no changes in meaning"


def test_text_output(three: list[Change]) -> None:
    assert render(three, "text") == (
        "checkout_retail\n"
        "  neutral    status proposed -> agreed  [new/policy.sla:18]\n"
        "  tightened  availability: target 99.9% -> 99.95% (+0.05 points)  [new/policy.sla:31]\n"
        "  loosened   latency: credit tiers above 300ms => 5% -> above 300ms => 2% "
        "(less credit)  [new/policy.sla:45]\n"
        "\n"
        "3 changes: 1 tightened, 1 loosened, 1 neutral\n"
    )


def test_markdown_output(three: list[Change]) -> None:
    assert render_markdown(three) == (
        "**slang diff**: 3 changes: 1 tightened, 1 loosened, 1 neutral\n"
        "\n"
        "#### `checkout_retail`\n"
        "\n"
        "| | objective | change | where |\n"
        "|---|---|---|---|\n"
        "| neutral |  | status proposed -> agreed | `new/policy.sla:18` |\n"
        "| tightened | `availability` | target 99.9% -> 99.95% (+0.05 points) "
        "| `new/policy.sla:31` |\n"
        "| loosened | `latency` | credit tiers above 300ms => 5% -> above 300ms => 2% "
        "(less credit) | `new/policy.sla:45` |\n"
        "\n"
        "_tightened_: more risk for the provider, more protection for the customer; "
        "_loosened_: less protection for the customer; _neutral_: neither (reported for review)."
        "\n"
    )
    assert render_markdown([]) == "**slang diff**: no changes in meaning\n"


def test_markdown_cells_cannot_break_the_table(estate: Path) -> None:
    new = edit(BASE, 'method == "GET"', 'method == "a|b" and path != "_x_ <b>"')
    (c,) = changes_between(estate, BASE, new)
    row = render_markdown([c]).splitlines()[6]
    assert row.count(" | ") == 3  # four cells, no pipe from the condition splits one
    assert '"a\\|b"' in row and '"\\_x\\_ \\<b>"' in row


def test_json_output(three: list[Change]) -> None:
    doc = json.loads(render(three, "json"))
    assert list(doc) == ["changes"]
    assert doc["changes"][1] == {
        "agreement": "checkout_retail",
        "objective": "availability",
        "kind": "target",
        "classification": "tightened",
        "old": ">= 99.9%",
        "new": ">= 99.95%",
        "detail": "target 99.9% -> 99.95% (+0.05 points)",
        "location": {"file": "new/policy.sla", "line": 31, "revision": None},
    }
    assert [c["kind"] for c in doc["changes"]] == ["status", "target", "credit_tiers"]
    with pytest.raises(ValueError, match="unknown diff format"):
        render(three, "html")


# ---------------------------------------------------------------------------- git revisions


def git(cwd: Path, *args: str) -> str:
    run = subprocess.run(
        ["git", "-c", "user.name=Slang Tests", "-c", "user.email=tests@slang.example",
         "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=cwd, capture_output=True, text=True, check=True,
    )
    return run.stdout


SHARED_SOURCES = """\
events requests from "requests" {
  key   service
  units { latency_ms: ms }
}

intervals maintenance from "maintenance" { key service }
"""


def split_estate(text: str) -> str:
    """BASE with its sources moved to `shared/sources.sla`, imported from `policies/`."""
    text = edit(text, SHARED_SOURCES, "")
    text = edit(text, 'import "std/calendars" as cal\n',
                'import "std/calendars" as cal\nimport "../shared/sources.sla" as src\n')
    for name in ("requests", "maintenance"):
        text = text.replace(f"({name}", f"(src.{name}")
        text = text.replace(f"exclude {name}", f"exclude src.{name}")
    return text


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with two commits: the base agreement, then a tighter target."""
    if shutil.which("git") is None:  # pragma: no cover
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    (root / "policies").mkdir(parents=True)
    (root / "shared").mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    git(root, "init", "-q")
    (root / "shared" / "sources.sla").write_text(SHARED_SOURCES, encoding="utf-8")
    (root / "policies" / "checkout.sla").write_text(split_estate(BASE), encoding="utf-8")
    (root / "README.md").write_text("not a policy\n", encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "checkout agreement")
    tighter = edit(split_estate(BASE), "target    >= 99.9%", "target    >= 99.95%")
    (root / "policies" / "checkout.sla").write_text(tighter, encoding="utf-8")
    git(root, "commit", "-q", "-am", "tighter availability")
    monkeypatch.chdir(root)
    return root


def test_rev_path_sides_read_the_revision(repo: Path) -> None:
    old, new = load_side("HEAD~1:policies"), load_side("HEAD:policies")
    assert old.errors == [] and new.errors == []
    assert (old.revision, old.path, new.revision) == ("HEAD~1", "policies", "HEAD")
    assert old.commit == git(repo, "rev-parse", "HEAD~1").strip()
    # Files are named as in the working tree; the import of ../shared resolved in the copy.
    assert [f.path for f in old.files] == [
        "policies/checkout.sla", "std/calendars.sla", "shared/sources.sla"
    ]
    assert not Path(old.files[0].abspath).exists()  # the temporary copy is gone
    assert diff(old, new) == [
        Change(
            agreement="checkout_retail",
            objective="availability",
            kind="target",
            old=">= 99.9%",
            new=">= 99.95%",
            classification="tightened",
            detail="target 99.9% -> 99.95% (+0.05 points)",
            location=Location("policies/checkout.sla", 26, "HEAD"),
        )
    ]


def test_a_revision_against_the_working_tree(repo: Path) -> None:
    (repo / "policies" / "checkout.sla").write_text(
        edit(split_estate(BASE), "status     proposed", "status     agreed"), encoding="utf-8"
    )
    changes = diff(load_side("HEAD:policies"), load_side("policies"))
    assert [(c.kind, c.classification, c.detail, c.location) for c in changes] == [
        ("status", "neutral", "status proposed -> agreed",
         Location("policies/checkout.sla", 13)),
        ("target", "loosened", "target 99.95% -> 99.9% (-0.05 points)",
         Location("policies/checkout.sla", 26)),
    ]


def test_rev_path_from_a_subdirectory(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As in git: PATH is from the top of the repository, or from here with `./`."""
    monkeypatch.chdir(repo / "policies")
    for spec in ("HEAD~1:policies/checkout.sla", "HEAD~1:./checkout.sla", "HEAD~1:."):
        old = load_side(spec)
        assert old.errors == []
        assert old.files[0].path == "checkout.sla", spec
    (c,) = diff(load_side("HEAD~1:./checkout.sla"), load_side("checkout.sla"))
    assert (c.kind, c.location) == ("target", Location("checkout.sla", 26))


def test_rev_path_reformatted_in_a_commit_is_no_change(repo: Path) -> None:
    path = repo / "policies" / "checkout.sla"
    path.write_text(format_text(path.read_text(encoding="utf-8")).replace("\n\n", "\n"),
                    encoding="utf-8")
    git(repo, "commit", "-q", "-am", "squash blank lines")
    assert diff(load_side("HEAD~1:policies"), load_side("HEAD:policies")) == []


def test_an_unknown_revision_is_slg0011(repo: Path) -> None:
    with pytest.raises(SlangError) as info:
        load_side("no-such-branch:policies")
    (d,) = info.value.diagnostics
    assert (d.code, d.message, d.span.file, d.span.line) == (
        "SLG0011", "`no-such-branch` is not a revision of this git repository",
        "no-such-branch:policies", 0,
    )
    assert "git fetch" in (d.hint or "")
    for spec in (":policies", "--output=x:policies"):
        with pytest.raises(SlangError) as info:
            load_side(spec)
        assert info.value.diagnostics[0].code == "SLG0011"


def test_an_unknown_path_is_slg0012(repo: Path) -> None:
    for spec, path in (("HEAD:polices", "polices"), ("HEAD~1:README", "README")):
        with pytest.raises(SlangError) as info:
            load_side(spec)
        (d,) = info.value.diagnostics
        assert (d.code, d.message) == ("SLG0012", f"`{path}` does not exist in revision "
                                       f"`{spec.split(':')[0]}`")
    with pytest.raises(SlangError) as info:
        load_side("HEAD:../outside")
    assert info.value.diagnostics[0].message == "`../outside` is outside the git repository"


def test_rev_path_outside_a_repository_is_slg0011(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SlangError) as info:
        load_side("main:policies")
    (d,) = info.value.diagnostics
    assert d.code == "SLG0011"
    assert d.message == ("`main:policies` names a git revision, but the current directory is "
                         "not inside a git repository")


def test_a_path_with_a_colon_that_exists_is_a_path(estate: Path) -> None:
    write(estate, "v1:old", BASE)
    assert parse_spec("v1:old") == (None, "v1:old")
    assert parse_spec("main:policies") == ("main", "policies")
    side = load_side("v1:old")
    assert side.revision is None and side.errors == []
    assert list(side.agreements) == ["checkout_retail"]


def test_a_missing_working_tree_path_is_a_diagnostic_of_the_model(estate: Path) -> None:
    side = load_side("nowhere")
    assert [d.code for d in side.errors] == ["SLG0002"]


def test_the_process_directory_is_restored(repo: Path) -> None:
    before = os.getcwd()
    load_side("HEAD:policies")
    with pytest.raises(SlangError):
        load_side("HEAD:nothing")
    assert os.getcwd() == before


# ------------------------------------------------------------------------------- burn_rate

DEFAULT_BURN_RATE = """  burn_rate {
    page   2%  in 1h / 5m
    page   5%  in 6h / 30m
    ticket 10% in 3d / 6h
  }

  objective availability {"""


def test_writing_the_default_burn_rate_alerts_out_is_no_change(estate: Path) -> None:
    new = edit(BASE, "  objective availability {", DEFAULT_BURN_RATE)
    assert changes_between(estate, BASE, new) == []


def test_a_changed_burn_rate_alert_is_one_neutral_change_at_the_block(estate: Path) -> None:
    written = edit(BASE, "  objective availability {", DEFAULT_BURN_RATE)
    new = edit(written, "page   5%  in 6h / 30m", "page   5%  in 6h / 15m")
    (c,) = changes_between(estate, written, new)
    old_text = "page 2% in 1h / 5m; page 5% in 6h / 30m; ticket 10% in 3d / 6h"
    new_text = "page 2% in 1h / 5m; page 5% in 6h / 15m; ticket 10% in 3d / 6h"
    assert (c.kind, c.classification, c.old, c.new) == ("burn_rate", "neutral", old_text, new_text)
    assert c.detail == f"burn_rate {old_text} -> {new_text}"
    assert c.location == Location("new/policy.sla", line_of(new, "burn_rate {"))


def test_an_empty_burn_rate_block_removes_every_alert(estate: Path) -> None:
    new = edit(BASE, "  objective availability {", "  burn_rate {}\n  objective availability {")
    (c,) = changes_between(estate, BASE, new)
    assert (c.kind, c.new, c.location) == (
        "burn_rate", "none", Location("new/policy.sla", line_of(new, "burn_rate {}")))
