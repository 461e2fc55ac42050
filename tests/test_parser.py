"""The parser: the normative spec example field by field, every lexical form and indicator form
of the spec, the contextual keywords, coded syntax errors with recovery, and robustness against
any text at all."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slang.diagnostics import Diagnostic
from slang.syntax import ast
from slang.syntax.parser import ParseResult, parse
from tests.strategies import layouts, programs, tokenised_programs

SPEC = Path(__file__).parent / "fixtures" / "spec_example.sla"
SYNTAX_ERRORS = {"SLG0101", "SLG0104"}

ROBUST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------------------- helpers


def ok(text: str) -> ast.Module:
    result = parse(text, "t.sla")
    assert result.diagnostics == (), result.diagnostics
    return result.module


def no_syntax_error(text: str) -> ParseResult:
    result = parse(text, "t.sla")
    assert not [d for d in result.diagnostics if d.code in SYNTAX_ERRORS], result.diagnostics
    return result


def indicator(expr: str) -> ast.Node:
    """The AST of an expression, written as an objective's indicator."""
    (agreement,) = no_syntax_error(f"agreement a {{ objective o {{ indicator {expr} }} }}")\
        .module.decls
    assert isinstance(agreement, ast.Agreement)
    (objective,) = agreement.items
    assert isinstance(objective, ast.Objective)
    (attr,) = objective.attrs
    assert attr.key == "indicator"
    return attr.value


def agreement_item(text: str) -> ast.Node:
    (agreement,) = ok(f"agreement a {{ {text} }}").decls
    assert isinstance(agreement, ast.Agreement)
    (item,) = agreement.items
    return item


def attr_value(text: str) -> ast.Node:
    item = agreement_item(text)
    assert isinstance(item, ast.Attribute)
    return item.value


# Short builders, named after the nodes they build, keep the expected trees readable.


def N(*parts: str) -> ast.Name:
    return ast.Name(parts)


def I(name: str) -> ast.Ident:  # noqa: E743
    return ast.Ident(name)


def S(value: str) -> ast.StringLit:
    return ast.StringLit(value)


def Num(text: str) -> ast.NumberLit:
    return ast.NumberLit(text)


def Pct(text: str) -> ast.PercentLit:
    return ast.PercentLit(text)


def Dur(amount: str, unit: str) -> ast.DurationLit:
    return ast.DurationLit(amount, unit)


def D(text: str) -> ast.DateLit:
    return ast.DateLit(text)


def A(key: str, value: ast.Node) -> ast.Attribute:
    return ast.Attribute(key, value)


def Bin(op: str, left: ast.Node, right: ast.Node) -> ast.BinOp:
    return ast.BinOp(op, left, right)


def Where(source: ast.Node, condition: ast.Node) -> ast.Where:
    return ast.Where(source, condition)


def Call(func: str, *args: ast.Node) -> ast.Call:
    return ast.Call(N(*func.split(".")), args)


def Named(name: str, value: ast.Node) -> ast.NamedArg:
    return ast.NamedArg(I(name), value)


# --------------------------------------------------------------------- (a) the spec example


@pytest.fixture(scope="module")
def spec() -> ast.Module:
    result = parse(SPEC.read_text(encoding="utf-8"), str(SPEC))
    assert result.diagnostics == ()
    return result.module


def test_spec_example_declarations_in_order(spec: ast.Module) -> None:
    kinds = [type(d).__name__ for d in spec.decls]
    assert kinds == ["Import", "Import", "Catalogue", "Calendar", "Source", "Source", "Source",
                     "Agreement"]
    assert spec.decls[0] == ast.Import(S("std/calendars"), I("cal"))
    assert spec.decls[1] == ast.Import(S("./shared/sources.sla"), I("src"))


def test_spec_example_catalogue_and_services(spec: ast.Module) -> None:
    catalogue = spec.decls[2]
    assert isinstance(catalogue, ast.Catalogue)
    assert catalogue.title == S("Acme Digital")
    checkout, payments, inventory = catalogue.services
    assert checkout.name == I("checkout")
    assert checkout.attrs == (
        A("title", S("Checkout API")),
        A("owner", S("payments-team")),
        A("tier", I("gold")),
        A("depends_on", ast.IdentList((I("payments"), I("inventory")))),
    )
    assert payments.name == I("payments")
    assert payments.attrs == (
        A("title", S("Payments")), A("owner", S("payments-team")), A("key", S("payments-v2")),
    )
    assert inventory.name == I("inventory")
    assert inventory.attrs == (A("title", S("Inventory")), A("owner", S("stock-team")))
    assert (payments.span.line, payments.span.end_line) == (11, 11)


def test_spec_example_calendar(spec: ast.Module) -> None:
    calendar = spec.decls[3]
    assert isinstance(calendar, ast.Calendar)
    assert calendar.name == I("uk_business")
    timezone, hours, holidays = calendar.attrs
    assert timezone == A("timezone", S("Europe/London"))
    assert hours == A("hours", ast.HoursRule(
        (ast.DaySpan("mon", "fri"),), ast.TimeOfDay("09:00"), ast.TimeOfDay("17:30")
    ))
    assert isinstance(hours.value, ast.HoursRule)
    assert (hours.value.start.minutes, hours.value.end.minutes) == (540, 1050)
    assert holidays == A("holidays", ast.DateList(
        (D("2026-01-01"), D("2026-04-03"), D("2026-04-06"), D("2026-12-25"))
    ))


def test_spec_example_sources(spec: ast.Module) -> None:
    requests, incidents, maintenance = spec.decls[4:7]
    assert requests == ast.Source("events", I("requests"), S("requests"), (
        A("time", ast.TimeColumn(I("ts"), None)),
        A("key", I("service")),
        A("units", ast.UnitMap((ast.UnitEntry(I("latency_ms"), I("ms")),))),
    ))
    assert incidents == ast.Source("intervals", I("incidents"), S("incidents"), (
        A("start", I("started_at")), A("end", I("resolved_at")), A("key", I("service")),
    ))
    assert maintenance == ast.Source(
        "intervals", I("maintenance"), S("maintenance"), (A("key", I("service")),)
    )


def _spec_agreement(spec: ast.Module) -> ast.Agreement:
    agreement = spec.decls[7]
    assert isinstance(agreement, ast.Agreement)
    return agreement


def test_spec_example_agreement_attributes(spec: ast.Module) -> None:
    agreement = _spec_agreement(spec)
    assert agreement.name == I("checkout_retail")
    attrs = [i for i in agreement.items if isinstance(i, ast.Attribute)]
    assert attrs == [
        A("service", I("checkout")),
        A("customer", S("Retail BU")),
        A("provider", S("Platform Operations")),
        A("status", I("agreed")),
        A("effective", ast.DateRange(D("2026-01-01"), D("2026-12-31"))),
        A("timezone", S("Europe/London")),
        A("period", I("monthly")),
        A("fee", ast.MoneyLit("12000.00", "GBP")),
        A("credit_cap", Pct("50")),
        A("review", ast.ReviewEvery(Num("3"), I("months"))),
        A("notify", ast.Notify(
            (S("ops@acme.example"), S("retail@acme.example")), (I("breach"), I("at_risk"))
        )),
    ]
    fee = attrs[7].value
    assert isinstance(fee, ast.MoneyLit) and fee.value == Decimal("12000.00")
    cap = attrs[8].value
    assert isinstance(cap, ast.PercentLit) and cap.value == Decimal("0.5")


def test_spec_example_exclusions(spec: ast.Module) -> None:
    exclusions = [i for i in _spec_agreement(spec).items if isinstance(i, ast.Exclusion)]
    assert exclusions == [
        ast.Exclusion(
            ast.TimestampWindow(ast.TimestampLit("2026-03-29T01:00:00Z"),
                                ast.TimestampLit("2026-03-29T03:00:00Z")),
            S("datacentre migration"),
        ),
        ast.Exclusion(ast.SourceWindow(N("maintenance"), None)),
        ast.Exclusion(
            ast.WeeklyWindow((ast.DaySpan("sun"),), ast.TimeOfDay("02:00"),
                             ast.TimeOfDay("04:00")),
            S("patch window"),
        ),
    ]
    assert all(x.mode is None for x in exclusions)


def test_spec_example_objectives(spec: ast.Module) -> None:
    objectives = [i for i in _spec_agreement(spec).items if isinstance(i, ast.Objective)]
    availability, latency, uptime = objectives
    assert availability == ast.Objective(I("availability"), (
        A("indicator", Call("ratio", Where(N("requests"), Bin("<", N("status"), Num("500"))))),
        A("target", ast.Target(">=", Pct("99.9"))),
    ))
    assert latency == ast.Objective(I("latency"), (
        A("indicator", Call("p95", Where(N("requests", "latency_ms"),
                                         Bin("==", N("method"), S("GET"))))),
        A("target", ast.Target("<=", Dur("300", "ms"))),
        A("hours", N("uk_business")),
    ))
    assert uptime == ast.Objective(I("uptime"), (
        A("indicator", Call("uptime", Where(N("incidents"), Bin("==", N("severity"), S("sev1"))),
                            Named("granularity", Dur("1", "m")))),
        A("target", ast.Target(">=", Pct("99.95"))),
    ))
    target = availability.attrs[1].value
    assert isinstance(target, ast.Target) and isinstance(target.value, ast.PercentLit)
    assert target.value.value == Decimal("0.999")


def test_spec_example_credits(spec: ast.Module) -> None:
    credits = [i for i in _spec_agreement(spec).items if isinstance(i, ast.Credit)]
    assert credits == [
        ast.Credit(I("availability"), (
            ast.Tier("below", Pct("99.9"), Pct("10")),
            ast.Tier("below", Pct("99.0"), Pct("25")),
            ast.Tier("below", Pct("95.0"), Pct("100")),
        )),
        ast.Credit(I("latency"), (ast.Tier("above", Dur("300", "ms"), Pct("5")),)),
    ]
    assert all(c.schedule is None for c in credits)


def test_spec_example_item_order_and_comments(spec: ast.Module) -> None:
    kinds = [type(i).__name__ for i in _spec_agreement(spec).items]
    assert kinds == ["Attribute"] * 11 + ["Exclusion"] * 3 + ["Objective"] * 3 + ["Credit"] * 2
    texts = [c.text for c in spec.comments]
    assert texts[0] == "# the standard library shipped with slang"
    assert "# every interval of an intervals source" in texts
    assert len(texts) == 19
    first = spec.comments[0]
    assert (first.span.line, first.span.col) == (1, 40)


def test_spec_example_spans_point_at_the_text(spec: ast.Module) -> None:
    agreement = _spec_agreement(spec)
    assert (agreement.span.line, agreement.span.col) == (35, 1)
    assert agreement.span.end_line == 74
    service = agreement.items[0]
    assert (service.span.line, service.span.col, service.span.end_col) == (36, 3, 21)


# ------------------------------------------------------------------- (b) lexical forms


def test_comments_are_collected_with_their_spans() -> None:
    module = ok("# owned by payments\nagreement a { # inside\n}  #end  \n")
    assert [(c.text, c.span.line, c.span.col) for c in module.comments] == [
        ("# owned by payments", 1, 1), ("# inside", 2, 15), ("#end", 3, 4),
    ]
    assert module.decls == (ast.Agreement(I("a"), ()),)


def test_a_hash_inside_a_string_or_backticks_is_not_a_comment() -> None:
    module = ok('catalogue "a # b" { service `c # d` {} }')
    assert module.comments == ()
    assert module.decls == (ast.Catalogue(S("a # b"), (ast.Service(I("c # d"), ()),)),)


@pytest.mark.parametrize("name", ["checkout", "_x", "a1_B2", "ms", "mon_day", "sunday"])
def test_identifiers(name: str) -> None:
    assert attr_value(f"service {name}") == I(name)


@pytest.mark.parametrize("name", ["http.status_code", "a b", "and", "1st", "key", "ünï"])
def test_backtick_identifiers(name: str) -> None:
    assert attr_value(f"service `{name}`") == I(name)
    assert indicator(f"`{name}` == 1") == Bin("==", N(name), Num("1"))


def test_a_backticked_plain_name_is_the_plain_name() -> None:
    assert attr_value("service `checkout`") == attr_value("service checkout")


def test_qualified_names() -> None:
    assert attr_value("hours cal.uk_business") == N("cal", "uk_business")
    assert indicator("requests.latency_ms") == N("requests", "latency_ms")
    assert indicator("a . `b c`.d") == N("a", "b c", "d")


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ('"Retail BU"', "Retail BU"),
        ('""', ""),
        ('"say \\"hi\\""', 'say "hi"'),
        ('"back\\\\slash"', "back\\slash"),
        ('"two\\nlines"', "two\nlines"),
        ('"\\\\n"', "\\n"),
        ('"ünïcødé ✓"', "ünïcødé ✓"),
    ],
)
def test_strings_and_their_escapes(written: str, value: str) -> None:
    assert attr_value(f"customer {written}") == S(value)


@pytest.mark.parametrize(("written", "value"), [("12", 12), ("0.5", "0.5"), ("12000.00", 12000)])
def test_numbers(written: str, value: object) -> None:
    node = indicator(written)
    assert node == Num(written)
    assert isinstance(node, ast.NumberLit) and node.value == Decimal(str(value))


@pytest.mark.parametrize(
    ("written", "value"), [("99.9%", "0.999"), ("50%", "0.5"), ("99.90%", "0.999"), ("0%", "0")]
)
def test_percentages_are_fractions(written: str, value: str) -> None:
    node = indicator(written)
    assert node == Pct(written[:-1])
    assert isinstance(node, ast.PercentLit) and node.value == Decimal(value)


@pytest.mark.parametrize(
    ("written", "amount", "unit", "seconds"),
    [
        ("300ms", "300", "ms", "0.3"),
        ("5m", "5", "m", "300"),
        ("4 h", "4", "h", "14400"),
        ("4\th", "4", "h", "14400"),
        ("28d", "28", "d", "2419200"),
        ("1.5s", "1.5", "s", "1.5"),
        ("2w", "2", "w", "1209600"),
    ],
)
def test_durations(written: str, amount: str, unit: str, seconds: str) -> None:
    node = indicator(f"x <= {written}")
    assert node == Bin("<=", N("x"), Dur(amount, unit))
    assert isinstance(node, ast.BinOp) and isinstance(node.right, ast.DurationLit)
    assert node.right.seconds == Decimal(seconds)


def test_a_duration_unit_must_not_run_into_a_name() -> None:
    # `5 min` is a number and a name, not a duration: an error, since they cannot be juxtaposed.
    assert parse("agreement a { objective o { target <= 5 min } }").diagnostics[0].code == "SLG0101"
    assert attr_value("period rolling 28d") == ast.RollingPeriod(Dur("28", "d"))


def test_dates() -> None:
    node = attr_value("reviewed 2026-01-01")
    assert node == D("2026-01-01")
    assert isinstance(node, ast.DateLit) and node.value is not None
    assert node.value.isoformat() == "2026-01-01"
    assert indicator("day == 2026-02-28") == Bin("==", N("day"), D("2026-02-28"))


@pytest.mark.parametrize(
    ("written", "utc_offset_hours"),
    [
        ("2026-03-29T01:00:00Z", 0),
        ("2026-03-29T01:00Z", 0),
        ("2026-03-29T01:00:00.250+01:00", 1),
        ("2026-10-25T01:30:00-05:30", -5.5),
    ],
)
def test_timestamps_with_a_zone(written: str, utc_offset_hours: float) -> None:
    node = indicator(f"ts < {written}")
    assert node == Bin("<", N("ts"), ast.TimestampLit(written))
    assert isinstance(node, ast.BinOp) and isinstance(node.right, ast.TimestampLit)
    value = node.right.value
    assert value is not None and value.utcoffset() is not None
    assert value.utcoffset().total_seconds() == utc_offset_hours * 3600  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("written", "minutes"), [("00:00", 0), ("09:00", 540), ("17:30", 1050), ("24:00", 1440)]
)
def test_times_of_day(written: str, minutes: int) -> None:
    (calendar,) = ok(f"calendar c {{ hours mon 00:00-{written} }}").decls
    assert isinstance(calendar, ast.Calendar)
    rule = calendar.attrs[0].value
    assert isinstance(rule, ast.HoursRule)
    assert rule.end == ast.TimeOfDay(written)
    assert rule.end.minutes == minutes


@pytest.mark.parametrize(
    ("written", "amount", "currency"),
    [("12000.00 GBP", "12000.00", "GBP"), ("5EUR", "5", "EUR"), ("7.5\tUSD", "7.5", "USD")],
)
def test_money(written: str, amount: str, currency: str) -> None:
    node = attr_value(f"fee {written}")
    assert node == ast.MoneyLit(amount, currency)
    assert isinstance(node, ast.MoneyLit) and node.value == Decimal(amount)


@pytest.mark.parametrize(
    ("written", "days"),
    [
        ("mon-fri", (ast.DaySpan("mon", "fri"),)),
        ("sun", (ast.DaySpan("sun"),)),
        ("sat,sun", (ast.DaySpan("sat"), ast.DaySpan("sun"))),
        ("mon - wed, fri,sun", (ast.DaySpan("mon", "wed"), ast.DaySpan("fri"), ast.DaySpan("sun"))),
    ],
)
def test_weekday_ranges_and_lists(written: str, days: tuple[ast.DaySpan, ...]) -> None:
    (calendar,) = ok(f"calendar c {{ hours {written} 09:00-17:30 }}").decls
    assert isinstance(calendar, ast.Calendar)
    assert calendar.attrs[0] == A("hours", ast.HoursRule(
        days, ast.TimeOfDay("09:00"), ast.TimeOfDay("17:30")
    ))
    window = agreement_item(f"exclude weekly {written} 02:00-04:00")
    assert window == ast.Exclusion(
        ast.WeeklyWindow(days, ast.TimeOfDay("02:00"), ast.TimeOfDay("04:00"))
    )


def test_weekday_names_are_ordinary_names_outside_hours_and_weekly() -> None:
    assert indicator("mon == sun") == Bin("==", N("mon"), N("sun"))
    assert attr_value("service mon") == I("mon")


def test_literal_keywords() -> None:
    assert indicator("a == null or b == true or c != false") == Bin(
        "or",
        Bin("or", Bin("==", N("a"), ast.NullLit()), Bin("==", N("b"), ast.BoolLit(True))),
        Bin("!=", N("c"), ast.BoolLit(False)),
    )


# ------------------------------------------------------------------- (c) indicator forms

REQ_OK = Where(N("requests"), Bin("<", N("status"), Num("500")))


@pytest.mark.parametrize(
    ("written", "tree"),
    [
        ("ratio(requests where status < 500)", Call("ratio", REQ_OK)),
        (
            'ratio(req where status < 500, req where method != "OPTIONS")',
            Call("ratio", Where(N("req"), Bin("<", N("status"), Num("500"))),
                 Where(N("req"), Bin("!=", N("method"), S("OPTIONS")))),
        ),
        (
            "percentile(requests.latency_ms, 95, method: linear)",
            Call("percentile", N("requests", "latency_ms"), Num("95"),
                 Named("method", N("linear"))),
        ),
        *[
            (
                f'{p}(requests.latency_ms where method == "GET")',
                Call(p, Where(N("requests", "latency_ms"), Bin("==", N("method"), S("GET")))),
            )
            for p in ("p50", "p90", "p95", "p99")
        ],
        *[(f"{f}(requests.size)", Call(f, N("requests", "size")))
          for f in ("mean", "max", "min", "sum")],
        ("count(requests)", Call("count", N("requests"))),
        ("uptime(incidents, granularity: 1m)",
         Call("uptime", N("incidents"), Named("granularity", Dur("1", "m")))),
        (
            "timeslices(5m, p95(requests.latency_ms) <= 300ms, empty: bad)",
            Call("timeslices", Dur("5", "m"),
                 Bin("<=", Call("p95", N("requests", "latency_ms")), Dur("300", "ms")),
                 Named("empty", N("bad"))),
        ),
        (
            "slice_mean(5m, ratio(requests where status < 500), empty: skip)",
            Call("slice_mean", Dur("5", "m"), Call("ratio", REQ_OK), Named("empty", N("skip"))),
        ),
        (
            "business_duration(opened_at, resolved_at, cal.uk_business)",
            Call("business_duration", N("opened_at"), N("resolved_at"), N("cal", "uk_business")),
        ),
        (
            "resolved_at - opened_at <= 4h",
            Bin("<=", Bin("-", N("resolved_at"), N("opened_at")), Dur("4", "h")),
        ),
        ("x in [1, 2]", ast.InList(N("x"), (Num("1"), Num("2")))),
        ("x in [1, 2,]", ast.InList(N("x"), (Num("1"), Num("2")))),
        ("x in []", ast.InList(N("x"), ())),
        ('x not in ["a", "b"]', ast.InList(N("x"), (S("a"), S("b")), negated=True)),
        ("x is null", ast.IsNull(N("x"))),
        ("x is not null", ast.IsNull(N("x"), negated=True)),
        (
            "d in 2026-01-01 .. 2026-01-31",
            ast.InRange(N("d"), D("2026-01-01"), D("2026-01-31")),
        ),
        ("not a and b or c", Bin("or", Bin("and", ast.Not(N("a")), N("b")), N("c"))),
        ("a or b and c", Bin("or", N("a"), Bin("and", N("b"), N("c")))),
        ("not a == b", ast.Not(Bin("==", N("a"), N("b")))),
        ("a + b * c", Bin("+", N("a"), Bin("*", N("b"), N("c")))),
        ("a - b - c", Bin("-", Bin("-", N("a"), N("b")), N("c"))),
        ("(a + b) * -c", Bin("*", Bin("+", N("a"), N("b")), ast.Neg(N("c")))),
        ("a / b < c + 1", Bin("<", Bin("/", N("a"), N("b")), Bin("+", N("c"), Num("1")))),
        ("s where a or b", Where(N("s"), Bin("or", N("a"), N("b")))),
        ("x + 1 in [2]", ast.InList(Bin("+", N("x"), Num("1")), (Num("2"),))),
    ],
)
def test_indicator_forms(written: str, tree: ast.Node) -> None:
    assert indicator(written) == tree


def test_where_does_not_chain_without_parentheses() -> None:
    assert parse("agreement a { objective o { indicator s where a where b } }").diagnostics[0]\
        .code == "SLG0101"
    assert indicator("(s where a) where b") == Where(Where(N("s"), N("a")), N("b"))


# ------------------------------------------------- (d) contextual keywords and diagnostics


@pytest.mark.parametrize(
    "column", ["status", "service", "time", "start", "end", "key", "target", "hours", "weekly"]
)
def test_keywords_are_column_names_inside_expressions(column: str) -> None:
    assert indicator(f"ratio(requests where {column} < 500)") == Call(
        "ratio", Where(N("requests"), Bin("<", N(column), Num("500")))
    )
    assert indicator(f"requests.{column}") == N("requests", column)
    assert indicator(f"f({column}: {column})") == Call("f", Named(column, N(column)))


def test_keywords_are_names_where_a_name_is_expected() -> None:
    (agreement,) = ok("agreement agreement { service service status status }").decls
    assert agreement == ast.Agreement(
        I("agreement"), (A("service", I("service")), A("status", I("status")))
    )


def test_a_keyword_never_matches_the_prefix_of_a_longer_word() -> None:
    (catalogue,) = ok("catalogue { service services { title titles } }".replace(
        "title titles", 'title "titles"'
    )).decls
    assert catalogue == ast.Catalogue(None, (ast.Service(I("services"), (A("title",
                                                                          S("titles")),)),))
    assert indicator("wherever and notable") == Bin("and", N("wherever"), N("notable"))


@pytest.mark.parametrize(("written", "amount", "unit"), [("1mo", "1", "mo"), ("5min", "5", "min")])
def test_months_and_minutes_parse_into_bad_durations(written: str, amount: str, unit: str) -> None:
    assert indicator(f"x < {written}") == Bin("<", N("x"), ast.BadDurationLit(amount, unit))
    assert attr_value_loose(f"period rolling {written}") == ast.RollingPeriod(
        ast.BadDurationLit(amount, unit)  # type: ignore[arg-type]
    )


def attr_value_loose(text: str) -> ast.Node:
    (agreement,) = no_syntax_error(f"agreement a {{ {text} }}").module.decls
    assert isinstance(agreement, ast.Agreement)
    item = agreement.items[0]
    assert isinstance(item, ast.Attribute)
    return item.value


def test_a_naive_timestamp_is_reported() -> None:
    result = parse("agreement a {\n  exclude 2026-03-29T01:00:00 .. 2026-03-29T03:00:00Z\n}\n")
    (diag,) = result.diagnostics
    assert diag.code == "SLG0103"
    assert (diag.span.line, diag.span.col) == (2, 11)
    assert diag.hint is not None and "2026-03-29T01:00:00Z" in diag.hint
    assert len(result.module.decls) == 1  # kept: a value error, not a syntax error


def test_an_impossible_date_is_reported_and_kept() -> None:
    result = parse("agreement a { reviewed 2026-02-30 }")
    (diag,) = result.diagnostics
    assert diag.code == "SLG0102"
    assert "2026-02-30" in diag.message
    assert (diag.span.line, diag.span.col) == (1, 24)
    (agreement,) = result.module.decls
    assert isinstance(agreement, ast.Agreement)
    date = agreement.items[0]
    assert isinstance(date, ast.Attribute) and date.value == D("2026-02-30")
    assert isinstance(date.value, ast.DateLit) and date.value.value is None


def test_an_impossible_time_of_day_is_reported() -> None:
    (diag,) = parse("calendar c { hours mon 09:00-24:30 }").diagnostics
    assert diag.code == "SLG0102" and "24:30" in diag.message


def test_a_syntax_error_is_described_in_words_at_its_place() -> None:
    result = parse("agreement a { objective o { target 99.9% } }")
    (diag,) = result.diagnostics
    assert diag.code == "SLG0101"
    assert "expected a target such as `>= 99.9%`" in diag.message
    assert (diag.span.line, diag.span.col) == (1, 36)
    assert result.module.decls == ()


def test_a_syntax_error_on_a_later_line() -> None:
    text = "agreement a {\n  service x\n  fee 12\n}\n"
    (diag,) = parse(text).diagnostics
    assert diag.code == "SLG0101"
    assert "currency" in diag.message
    assert (diag.span.line, diag.span.col) == (3, 7)


def test_two_broken_agreements_give_two_diagnostics() -> None:
    text = (
        "agreement fine { service x }\n\n"
        "agreement a {\n  effective 2026\n}\n\n"
        "agreement b {\n  objective o {\n    target 99.9%\n  }\n}\n\n"
        "calendar c { timezone \"UTC\" }\n"
    )
    result = parse(text)
    diags = result.diagnostics
    assert [d.code for d in diags] == ["SLG0101", "SLG0101"]
    assert "date" in diags[0].message and (diags[0].span.line, diags[0].span.col) == (4, 13)
    assert "target" in diags[1].message and diags[1].span.line == 9
    decls = result.module.decls
    names = [d.name.name for d in decls if isinstance(d, ast.Agreement | ast.Calendar)]
    assert names[0] == "fine"
    assert "c" in names


def test_a_bad_character_is_slg0104() -> None:
    (diag,) = parse("agreement a { $ }").diagnostics
    assert diag.code == "SLG0104"
    assert (diag.span.line, diag.span.col) == (1, 15)
    (diag,) = parse('agreement a { customer "open }').diagnostics
    assert diag.code == "SLG0104" and "unterminated string" in diag.message


def test_an_unclosed_block_reports_the_end_of_the_file() -> None:
    (diag,) = parse("agreement a {\n  service x\n").diagnostics
    assert diag.code == "SLG0101"
    assert "end of the file" in diag.message


# ------------------------------------------------------------------------ (e) robustness


def _assert_well_formed(result: object) -> None:
    assert isinstance(result, ParseResult)
    assert isinstance(result.module, ast.Module)
    for d in result.diagnostics:
        assert isinstance(d, Diagnostic)
        assert d.code.startswith("SLG") and len(d.code) == 7 and d.code[3:].isdigit()
        assert d.message
        assert d.span.line >= 1 and d.span.col >= 1


@ROBUST
@given(st.text(max_size=200))
def test_any_text_parses_to_a_result(text: str) -> None:
    _assert_well_formed(parse(text, "fuzz.sla"))


SLANG_ALPHABET = st.sampled_from(list('{}()[],.:=<>!-+*/%#"`\\\n \tamoxyz0123456789TZ_'))


@ROBUST
@given(st.text(SLANG_ALPHABET, max_size=120))
def test_text_made_of_slang_characters_parses_to_a_result(text: str) -> None:
    _assert_well_formed(parse(text, "fuzz.sla"))


@st.composite
def mutated_programs(draw: st.DrawFn) -> str:
    """A valid program with random characters or tokens deleted, inserted or duplicated."""
    tokens = draw(tokenised_programs())
    token_edits = draw(st.integers(0, 3))
    for _ in range(token_edits):
        i = draw(st.integers(0, len(tokens) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "insert"]))
        if op == "delete":
            del tokens[i]
        elif op == "duplicate":
            tokens.insert(i, tokens[i])
        elif op == "swap" and i + 1 < len(tokens):
            tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
        else:
            tokens.insert(i, draw(st.sampled_from(
                ["{", "}", "(", ")", "where", "agreement", "objective", "..", ",", "=>", "#"]
            )))
        if not tokens:
            tokens = ["agreement"]
    text = draw(layouts(tokens))
    for _ in range(draw(st.integers(0 if token_edits else 1, 3))):
        i = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["delete", "insert", "duplicate"]))
        if op == "delete":
            text = text[:i] + text[i + 1:]
        elif op == "duplicate":
            text = text[:i] + text[i:i + 1] + text[i:]
        else:
            text = text[:i] + draw(SLANG_ALPHABET) + text[i:]
    return text


@ROBUST
@given(mutated_programs())
def test_mutated_programs_never_raise(text: str) -> None:
    _assert_well_formed(parse(text, "mutated.sla"))


@ROBUST
@given(programs())
def test_generated_programs_have_no_syntax_errors(text: str) -> None:
    result = parse(text, "generated.sla")
    _assert_well_formed(result)
    assert not [d for d in result.diagnostics if d.code in SYNTAX_ERRORS], result.diagnostics
