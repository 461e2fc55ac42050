"""The formatter: golden files, and the properties that make `slang fmt` safe to run anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from slang.diagnostics import SlangError
from slang.syntax import ast
from slang.syntax.formatter import format_expr, format_module, format_text, needs_formatting
from slang.syntax.parser import parse
from tests.strategies import programs

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = FIXTURES / "format"
CASES = sorted(p.name.removesuffix(".in.sla") for p in GOLDEN.glob("*.in.sla"))
SYNTAX_ERRORS = {"SLG0101", "SLG0104"}

ROUND_TRIP = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _comment_texts(text: str) -> list[str]:
    return [c.text for c in parse(text).module.comments]


# ----------------------------------------------------------------------------------- golden


def test_every_required_golden_case_exists() -> None:
    required = {"spec_example", "messy_spacing", "comments", "one_line_blocks", "long_lines",
                "exclusions", "quoted_names"}
    assert required <= set(CASES)
    for name in CASES:
        assert (GOLDEN / f"{name}.out.sla").exists(), name


def test_spec_example_golden_input_is_the_spec_fixture() -> None:
    spec = (FIXTURES / "spec_example.sla").read_text(encoding="utf-8")
    assert (GOLDEN / "spec_example.in.sla").read_text(encoding="utf-8") == spec


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str) -> None:
    source = (GOLDEN / f"{name}.in.sla").read_text(encoding="utf-8")
    expected = (GOLDEN / f"{name}.out.sla").read_text(encoding="utf-8")
    assert format_text(source, f"{name}.in.sla") == expected


@pytest.mark.parametrize("name", CASES)
def test_golden_output_is_a_fixed_point(name: str) -> None:
    expected = (GOLDEN / f"{name}.out.sla").read_text(encoding="utf-8")
    assert format_text(expected) == expected
    assert not needs_formatting(expected)


@pytest.mark.parametrize("name", CASES)
def test_golden_output_means_the_same_program(name: str) -> None:
    source = (GOLDEN / f"{name}.in.sla").read_text(encoding="utf-8")
    expected = (GOLDEN / f"{name}.out.sla").read_text(encoding="utf-8")
    assert parse(expected).module.decls == parse(source).module.decls
    assert _comment_texts(expected) == _comment_texts(source)


@pytest.mark.parametrize("name", CASES)
def test_golden_output_layout_rules(name: str) -> None:
    text = (GOLDEN / f"{name}.out.sla").read_text(encoding="utf-8")
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert "\n\n\n" not in text
    assert not text.startswith("\n")
    for line in text.splitlines():
        assert line == line.rstrip(), repr(line)
        assert "\t" not in line
        if line.lstrip().startswith("}"):
            assert (len(line) - len(line.lstrip(" "))) % 2 == 0, repr(line)


# ------------------------------------------------------------------------- layout details


def test_attribute_values_align_on_the_longest_key_of_the_run() -> None:
    src = 'agreement a { service checkout credit_cap 50% fee 1 GBP }'
    assert format_text(src) == (
        "agreement a {\n"
        "  service    checkout\n"
        "  credit_cap 50%\n"
        "  fee        1 GBP\n"
        "}\n"
    )


def test_a_blank_line_starts_a_new_alignment_run() -> None:
    src = "agreement a {\n  service x\n\n\n  customer \"c\"\n  credit_cap 5%\n}\n"
    assert format_text(src) == (
        'agreement a {\n  service x\n\n  customer   "c"\n  credit_cap 5%\n}\n'
    )


def test_declarations_are_one_blank_line_apart_and_imports_may_stay_grouped() -> None:
    src = 'import "a" as a\nimport "b" as b\n\n\n\ncalendar c {}\ncalendar d {}'
    assert format_text(src) == (
        'import "a" as a\nimport "b" as b\n\ncalendar c {}\n\ncalendar d {}\n'
    )


def test_one_line_blocks_stay_on_one_line_and_align_their_braces() -> None:
    src = (
        "catalogue {\n"
        '  service payments { title "Payments" owner "payments-team" key "payments-v2" }\n'
        '  service inventory { title "Inventory" owner "stock-team" }\n'
        "}\n"
    )
    assert format_text(src) == (
        "catalogue {\n"
        '  service payments  { title "Payments"  owner "payments-team"  key "payments-v2" }\n'
        '  service inventory { title "Inventory"  owner "stock-team" }\n'
        "}\n"
    )


def test_a_block_written_on_several_lines_is_expanded_even_if_short() -> None:
    src = 'catalogue {\n  service s { title "S"\n  }\n}\n'
    assert format_text(src) == 'catalogue {\n  service s {\n    title "S"\n  }\n}\n'


def test_a_one_line_block_that_does_not_fit_is_expanded() -> None:
    title = "t" * 90
    src = f'catalogue {{ service s {{ title "{title}" }} }}'
    assert format_text(src) == f'catalogue {{\n  service s {{\n    title "{title}"\n  }}\n}}\n'


def test_a_comment_inside_a_one_line_block_expands_it() -> None:
    src = "intervals m from \"m\" { key service # why\n}\n"
    assert format_text(src) == 'intervals m from "m" {\n  key service  # why\n}\n'


def test_agreements_are_always_expanded_but_empty_blocks_are_not() -> None:
    assert format_text("agreement a { service x }") == "agreement a {\n  service x\n}\n"
    assert format_text("agreement a {\n\n}\ncatalogue {}") == "agreement a {}\n\ncatalogue {}\n"
    assert format_text('events e from "e" {\n}') == 'events e from "e"\n'


def test_units_map_expands_one_entry_per_line_with_commas() -> None:
    src = 'events e from "e" {\n  units {\n    a: ms, b: s }\n}\n'
    assert format_text(src) == 'events e from "e" {\n  units {\n    a: ms,\n    b: s,\n  }\n}\n'


def test_trailing_comments_on_consecutive_lines_share_a_column() -> None:
    src = "agreement a {\n  service x # one\n  customer \"a long name\" # two\n}\n"
    assert format_text(src) == (
        "agreement a {\n"
        "  service  x              # one\n"
        '  customer "a long name"  # two\n'
        "}\n"
    )


def test_own_line_comments_keep_their_place_and_take_the_items_indentation() -> None:
    src = "agreement a {\n# first\n        service x\n    # last\n}\n# end\n"
    assert format_text(src) == "agreement a {\n  # first\n  service x\n  # last\n}\n# end\n"


def test_comment_text_is_kept_but_trailing_whitespace_goes() -> None:
    src = "#   odd   spacing   \t\nagreement a {}   #x  \n"
    assert format_text(src) == "#   odd   spacing\nagreement a {}  #x\n"


def test_a_comment_inside_an_expression_moves_before_its_line() -> None:
    src = "agreement a { objective o { indicator count(r # inner\n) } }"
    assert format_text(src) == (
        "agreement a {\n  objective o {\n    # inner\n    indicator count(r)\n  }\n}\n"
    )


def test_commented_list_values_print_one_element_per_line() -> None:
    src = "calendar c {\n  holidays 2026-01-01, # a\n  2026-12-25 # b\n}\n"
    assert format_text(src) == (
        "calendar c {\n  holidays 2026-01-01,  # a\n           2026-12-25   # b\n}\n"
    )


def test_uncommented_lists_are_joined() -> None:
    src = "calendar c {\n  holidays 2026-01-01,\n           2026-12-25\n}\n"
    assert format_text(src) == "calendar c {\n  holidays 2026-01-01, 2026-12-25\n}\n"


def test_literals_print_as_written_except_spaced_durations_and_money() -> None:
    src = (
        "agreement a { fee 12000.00GBP credit_cap 050.0% period rolling 4 h\n"
        " objective o { indicator x == 99.90% and y < 4\th target >= 0099.900% } }"
    )
    out = format_text(src)
    assert "fee        12000.00 GBP" in out
    assert "credit_cap 050.0%" in out
    assert "period     rolling 4h" in out
    assert "{ indicator x == 99.90% and y < 4h  target >= 0099.900% }" in out


def test_strings_are_re_escaped() -> None:
    src = 'catalogue "a \\"b\\" \\\\ c\\nd" {}'
    assert format_text(src) == 'catalogue "a \\"b\\" \\\\ c\\nd" {}\n'
    (decl,) = parse(src).module.decls
    assert isinstance(decl, ast.Catalogue) and decl.title is not None
    assert decl.title.value == 'a "b" \\ c\nd'


def test_names_are_quoted_only_when_needed() -> None:
    src = "agreement `plain` { service `a b` status `where` period `rolling` }"
    assert format_text(src) == (
        "agreement plain {\n  service `a b`\n  status  `where`\n  period  `rolling`\n}\n"
    )
    src = 'events e from "e" { time ts `key` }'
    assert format_text(src) == 'events e from "e" { time ts `key` }\n'
    assert format_text("agreement a { exclude `weekly` }") == (
        "agreement a {\n  exclude `weekly`\n}\n"
    )


@pytest.mark.parametrize("word", ["service", "description", "target", "key", "on"])
def test_a_keyword_right_after_a_name_stays_quoted(word: str) -> None:
    # After a name the lexer turns any keyword-spelled word into the keyword (see the report on
    # the grammar), so the schedule of a credit and the form of a time column keep backticks.
    src = f'agreement a {{ credit c `{word}`.x }}\nevents e from "e" {{ time ts `{word}` }}'
    out = format_text(src)
    assert f"credit c `{word}`.x" in out
    assert f"time ts `{word}`" in out
    assert parse(out).module.decls == parse(src).module.decls


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("not a and b or c", "not a and b or c"),
        ("(not a) and ((b) or c)", "not a and (b or c)"),
        ("not (a and b)", "not (a and b)"),
        ("a or (b or c)", "a or (b or c)"),
        ("(a or b) or c", "a or b or c"),
        ("(a - b) - (c - d)", "a - b - (c - d)"),
        ("(a * b) + c * (d + e)", "a * b + c * (d + e)"),
        ("-(a * b) * - c", "-(a * b) * -c"),
        ("(a == b) != c", "(a == b) != c"),
        ("(a + b) in [1,2,]", "a + b in [1, 2]"),
        ("(a in [1]) is null", "(a in [1]) is null"),
        ("not (x is not null)", "not x is not null"),
        ("(s where a) where (b or c)", "(s where a) where b or c"),
        ("f(a,b:(c where d))", "f(a, b: c where d)"),
        ("x in 2026-01-01..2026-01-31", "x in 2026-01-01 .. 2026-01-31"),
    ],
)
def test_expressions_keep_only_the_parentheses_precedence_needs(
    source: str, expected: str
) -> None:
    out = format_text(f"agreement a {{ objective o {{ indicator {source} }} }}")
    assert out == f"agreement a {{\n  objective o {{ indicator {expected} }}\n}}\n"
    indicator = _indicator(out)
    assert format_expr(indicator) == expected
    assert indicator == _indicator(f"agreement a {{ objective o {{ indicator {source} }} }}")


def _indicator(text: str) -> ast.Node:
    (agreement,) = parse(text).module.decls
    assert isinstance(agreement, ast.Agreement)
    objective = agreement.items[0]
    assert isinstance(objective, ast.Objective)
    return objective.attrs[0].value


def test_empty_input_formats_to_empty_text() -> None:
    assert format_text("") == ""
    assert format_text("\n\n  \n") == ""
    assert format_text("# only a comment\n\n") == "# only a comment\n"


# ----------------------------------------------------------------------------------- errors


def test_format_text_raises_on_a_syntax_error() -> None:
    with pytest.raises(SlangError) as info:
        format_text("agreement a { objective o { target 99.9% } }\n")
    (diag,) = info.value.diagnostics
    assert diag.code == "SLG0101"
    assert "expected a target such as `>= 99.9%`" in diag.message


def test_format_text_raises_on_a_bad_character() -> None:
    with pytest.raises(SlangError) as info:
        format_text('agreement a { customer "open\n}')
    assert [d.code for d in info.value.diagnostics] == ["SLG0104"]


def test_format_text_keeps_an_impossible_date_as_written() -> None:
    src = "agreement a { reviewed 2026-02-30 }"
    assert [d.code for d in parse(src).diagnostics] == ["SLG0102"]
    assert format_text(src) == "agreement a {\n  reviewed 2026-02-30\n}\n"


def test_format_module_works_on_a_parsed_module() -> None:
    text = (GOLDEN / "comments.in.sla").read_text(encoding="utf-8")
    module = parse(text, "comments.in.sla").module
    assert format_module(module) == (GOLDEN / "comments.out.sla").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ properties


@ROUND_TRIP
@given(programs())
def test_formatting_keeps_the_program_and_its_comments(source: str) -> None:
    before = parse(source)
    assert not [d for d in before.diagnostics if d.code in SYNTAX_ERRORS], source
    formatted = format_text(source)
    after = parse(formatted)
    assert not [d for d in after.diagnostics if d.code in SYNTAX_ERRORS], formatted
    assert after.module.decls == before.module.decls
    assert [c.text for c in after.module.comments] == [c.text for c in before.module.comments]


@ROUND_TRIP
@given(programs())
def test_formatting_is_idempotent(source: str) -> None:
    formatted = format_text(source)
    assert format_text(formatted) == formatted


@ROUND_TRIP
@given(programs())
def test_formatted_text_has_no_trailing_whitespace_or_double_blank_lines(source: str) -> None:
    formatted = format_text(source)
    assert "\n\n\n" not in formatted
    assert not formatted or (formatted.endswith("\n") and not formatted.endswith("\n\n"))
    assert all(line == line.rstrip() for line in formatted.split("\n"))


def test_burn_rate_lines_align_their_columns() -> None:
    src = ("agreement a { burn_rate { page 2% in 1h/5m\n ticket 10% in 3 d / 6h  # slow\n"
           "page 5% in 6h / 30m } }")
    assert format_text(src) == (
        "agreement a {\n"
        "  burn_rate {\n"
        "    page   2%  in 1h / 5m\n"
        "    ticket 10% in 3d / 6h  # slow\n"
        "    page   5%  in 6h / 30m\n"
        "  }\n"
        "}\n"
    )
