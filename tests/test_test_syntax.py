"""Test blocks (`*_test.sla`): the parser's AST field by field, the formatter's layout of inline
tables and expectations, and the round-trip property over generated test blocks."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slang.syntax import ast
from slang.syntax.formatter import format_text
from slang.syntax.parser import parse
from tests.strategies import layouts, policy_tests

SYNTAX_ERRORS = {"SLG0101", "SLG0104"}


def one_test(text: str) -> ast.Test:
    result = parse(text, "t_test.sla")
    assert result.diagnostics == (), result.diagnostics
    (decl,) = result.module.decls
    assert isinstance(decl, ast.Test)
    return decl


def test_a_test_block_field_by_field() -> None:
    t = one_test(
        "test october {\n"
        "  as_of 2026-11-01T00:00:00Z\n"
        "  data requests {\n"
        "    columns ts, service, status\n"
        '    row 2026-10-01T10:00:00Z, "checkout", -5\n'
        "    row 2026-10-01T10:00:01Z, null, 503.5\n"
        "  }\n"
        '  data src.incidents from "fixtures/incidents.csv"\n'
        "  expect checkout_retail.availability 2026-10 {\n"
        "    status breached  measured 99.5% within 0.01%  credit 10%\n"
        "  }\n"
        "  expect checkout_retail 2026-10 { credit 1200.00 GBP }\n"
        "}\n"
    )
    assert t.name == ast.Ident("october")
    as_of, inline, fixture, objective, agreement = t.items
    assert as_of == ast.Attribute("as_of", ast.TimestampLit("2026-11-01T00:00:00Z"))
    assert inline == ast.TestData(ast.Name(("requests",)), ast.InlineTable(
        (ast.Ident("ts"), ast.Ident("service"), ast.Ident("status")),
        (ast.Row((ast.TimestampLit("2026-10-01T10:00:00Z"), ast.StringLit("checkout"),
                  ast.Neg(ast.NumberLit("5")))),
         ast.Row((ast.TimestampLit("2026-10-01T10:00:01Z"), ast.NullLit(),
                  ast.NumberLit("503.5")))),
    ))
    assert fixture == ast.TestData(ast.Name(("src", "incidents")), None,
                                   ast.StringLit("fixtures/incidents.csv"))
    assert objective == ast.Expectation(
        ast.Name(("checkout_retail", "availability")), ast.PeriodLabel("2026-10"),
        (ast.Attribute("status", ast.Ident("breached")),
         ast.Attribute("measured", ast.Measured(ast.PercentLit("99.5"), ast.PercentLit("0.01"))),
         ast.Attribute("credit", ast.PercentLit("10"))),
    )
    assert agreement == ast.Expectation(
        ast.Name(("checkout_retail",)), ast.PeriodLabel("2026-10"),
        (ast.Attribute("credit", ast.MoneyLit("1200.00", "GBP")),),
    )
    # spans point at what was written: the expectation's line and the label's columns
    assert (objective.span.line, objective.span.col) == (9, 3)
    assert (objective.period.span.line, objective.period.span.col) == (9, 39)


@pytest.mark.parametrize("label", [
    "2026", "2026-Q4", "2026-W41", "2026-10", "2026-10-05", "2026-10-05T14+01:00",
    "2026-10-25T01Z", "rolling-28d", "rolling-90m",
])
def test_every_period_label_form_lexes_as_one_label(label: str) -> None:
    t = one_test(f"test t {{ expect a.b {label} {{ status met }} }}")
    (e,) = t.items
    assert isinstance(e, ast.Expectation) and e.period.text == label


def test_a_period_label_never_takes_the_digits_of_a_number_after_a_name() -> None:
    """LALR merges the states after a name, so the label terminal is tried where a percentage
    follows a name too (`page 1000%`); it must end at a space, `{` or a comment."""
    result = parse("agreement a { burn_rate { page 1000% in 1h / 5m } }")
    assert result.diagnostics == ()
    t = one_test("test t { expect a 2026{} expect b 2026-10# note\n{} }")
    assert [e.period.text for e in t.items if isinstance(e, ast.Expectation)] == ["2026",
                                                                                  "2026-10"]


def test_keywords_of_tests_are_ordinary_names_elsewhere() -> None:
    t = one_test("test t { data requests { columns row, columns, data, expect, status "
                 "row 1, 2, 3, 4, 5 } }")
    (d,) = t.items
    assert isinstance(d, ast.TestData) and d.table is not None
    assert [c.name for c in d.table.columns] == ["row", "columns", "data", "expect", "status"]
    result = parse("agreement a { objective o { indicator ratio(r where row == 1 and "
                   "within > 2 and measured < 3) } }")
    assert result.diagnostics == ()


def test_an_empty_table_and_a_header_only_table() -> None:
    t = one_test("test t { data a {} data b { columns x, y } }")
    a, b = t.items
    assert isinstance(a, ast.TestData) and a.table == ast.InlineTable((), ())
    assert isinstance(b, ast.TestData) and b.table is not None and b.table.rows == ()


def test_a_broken_test_is_a_syntax_error_and_later_declarations_still_parse() -> None:
    result = parse("test t { expect a.b october { status met } }\n"
                   "calendar c { timezone \"UTC\" }\n", "t_test.sla")
    assert [d.code for d in result.diagnostics] == ["SLG0101"]
    assert [type(d).__name__ for d in result.module.decls] == ["Calendar"]


# -------------------------------------------------------------------------------- formatter


def test_inline_tables_align_their_cells_and_keep_comments() -> None:
    src = (
        "test t {\n"
        "as_of 2026-11-01T00:00:00Z\n"
        "data requests { columns ts, service, status\n"
        '  row 2026-10-01T10:00:00Z, "checkout", 200 # ok\n'
        '  row 2026-10-01T10:00:01Z, "x", 503 }\n'
        "}\n"
    )
    assert format_text(src) == (
        "test t {\n"
        "  as_of 2026-11-01T00:00:00Z\n"
        "  data requests {\n"
        "    columns ts,                   service,    status\n"
        '    row     2026-10-01T10:00:00Z, "checkout", 200  # ok\n'
        '    row     2026-10-01T10:00:01Z, "x",        503\n'
        "  }\n"
        "}\n"
    )


def test_one_line_expectations_stay_on_one_line_and_align_their_braces() -> None:
    src = (
        "test t {\n"
        "  expect a.availability 2026-10 { status breached measured 99.5% credit 10% }\n"
        "  expect a 2026-10 { credit 1200.00GBP }\n"
        "  expect a.latency 2026-10 {\n    status met }\n"
        "}\n"
    )
    assert format_text(src) == (
        "test t {\n"
        "  expect a.availability 2026-10 { status breached  measured 99.5%  credit 10% }\n"
        "  expect a 2026-10              { credit 1200.00 GBP }\n"
        "  expect a.latency 2026-10 {\n"
        "    status met\n"
        "  }\n"
        "}\n"
    )


@st.composite
def generated_tests(draw: st.DrawFn) -> str:
    blocks = draw(st.lists(policy_tests(), min_size=1, max_size=2))
    return draw(layouts([t for b in blocks for t in b]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_tests())
def test_formatting_test_blocks_keeps_them_and_is_idempotent(source: str) -> None:
    before = parse(source)
    assert not [d for d in before.diagnostics if d.code in SYNTAX_ERRORS], source
    formatted = format_text(source)
    after = parse(formatted)
    assert after.module.decls == before.module.decls
    assert [c.text for c in after.module.comments] == [c.text for c in before.module.comments]
    assert format_text(formatted) == formatted
