"""Types and units of `where` conditions.

Columns are only known when data is bound, so a plain column has type `any`; what the policy
text does know is checked here: declared units (`units { latency_ms: ms }`), the time columns
of a source, literal kinds. The rules catch the mistakes that change money silently, above all
comparing a duration with a number whose unit nobody declared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slang.diagnostics import Diagnostic, error
from slang.semantics.model import Source
from slang.syntax import ast

ANY, NUMBER, DURATION, TIMESTAMP, DATE, STRING, BOOL, NULL = (
    "any", "number", "duration", "timestamp", "date", "string", "bool", "null"
)

CONDITION_FUNCTIONS = {"business_duration": 3}


@dataclass(frozen=True)
class ColumnContext:
    """The source a condition reads, and how the condition may name it (`requests.status`)."""

    source: Source
    written_name: str
    resolve_calendar: Callable[[ast.Expr], object | None]


def column_of(name: ast.Name, ctx: ColumnContext, diags: list[Diagnostic]) -> str | None:
    parts = name.parts
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2 and parts[0] in (ctx.written_name, ctx.source.name):
        return parts[1]
    diags.append(
        error("SLG0209", f"`{name.dotted}` is not a column of `{ctx.written_name}`", name.span,
              f"write the column alone, or as `{ctx.written_name}.COLUMN`")
    )
    return None


def _column_type(column: str, source: Source) -> str:
    if column in source.units:
        return DURATION
    if column in (source.time_column, source.start_column, source.end_column):
        return TIMESTAMP
    return ANY


def check_condition(expr: ast.Expr, ctx: ColumnContext, diags: list[Diagnostic]) -> None:
    """A condition must be boolean-valued with consistent units."""
    t = _type(expr, ctx, diags)
    if t in (NUMBER, DURATION, TIMESTAMP, DATE, STRING, NULL):
        diags.append(
            error("SLG0306", f"a condition must be true or false, but this is a {t}",
                  expr.span, "compare it, e.g. `status < 500`")
        )


def _type(e: ast.Expr, ctx: ColumnContext, diags: list[Diagnostic]) -> str:
    match e:
        case ast.NumberLit() | ast.PercentLit():
            return NUMBER
        case ast.DurationLit():
            return DURATION
        case ast.BadDurationLit():
            return ANY  # reported by the parser
        case ast.DateLit():
            return DATE
        case ast.TimestampLit():
            return TIMESTAMP
        case ast.StringLit():
            return STRING
        case ast.BoolLit():
            return BOOL
        case ast.NullLit():
            return NULL
        case ast.Name():
            col = column_of(e, ctx, diags)
            return ANY if col is None else _column_type(col, ctx.source)
        case ast.Not(operand=op):
            _boolean(op, ctx, diags)
            return BOOL
        case ast.Neg(operand=op):
            t = _type(op, ctx, diags)
            if t not in (NUMBER, DURATION, ANY):
                _mismatch(e, f"cannot negate a {t}", diags)
            return t
        case ast.IsNull(operand=op):
            _type(op, ctx, diags)
            return BOOL
        case ast.InList(operand=op, items=items):
            t = _type(op, ctx, diags)
            for item in items:
                _comparable(t, _type(item, ctx, diags), op, item, e, diags)
            return BOOL
        case ast.InRange(operand=op, low=low, high=high):
            t = _type(op, ctx, diags)
            for bound in (low, high):
                _comparable(t, _type(bound, ctx, diags), op, bound, e, diags)
            return BOOL
        case ast.BinOp(op=("and" | "or"), left=left, right=right):
            _boolean(left, ctx, diags)
            _boolean(right, ctx, diags)
            return BOOL
        case ast.BinOp(op=("==" | "!=" | "<" | "<=" | ">" | ">="), left=left, right=right):
            _comparable(_type(left, ctx, diags), _type(right, ctx, diags), left, right, e, diags)
            return BOOL
        case ast.BinOp(op=op, left=left, right=right):
            return _arithmetic(op, _type(left, ctx, diags), _type(right, ctx, diags), e, diags)
        case ast.Call():
            return _call(e, ctx, diags)
        case ast.Where():
            diags.append(
                error("SLG0307", "`where` cannot appear inside a condition", e.span,
                      "combine conditions with `and`")
            )
            return BOOL
    return ANY  # pragma: no cover - every expression node is matched above


def _boolean(e: ast.Expr, ctx: ColumnContext, diags: list[Diagnostic]) -> None:
    t = _type(e, ctx, diags)
    if t not in (BOOL, ANY):
        diags.append(
            error("SLG0306", f"expected a condition (true or false), found a {t}", e.span,
                  "compare it, e.g. `status < 500`")
        )


def _mismatch(e: ast.Node, message: str, diags: list[Diagnostic], hint: str | None = None) -> None:
    diags.append(error("SLG0301", message, e.span, hint))


def _comparable(
    a: str, b: str, left: ast.Expr, right: ast.Expr, e: ast.Expr, diags: list[Diagnostic]
) -> None:
    if NULL in (a, b):
        diags.append(
            error("SLG0308", "comparing with null is never true", e.span,
                  "write `x is null` or `x is not null`")
        )
        return
    if ANY in (a, b):
        other = b if a == ANY else a
        plain = left if a == ANY else right
        if other == DURATION and isinstance(plain, ast.Name):
            _mismatch(
                e, f"`{plain.dotted}` is compared with a duration but has no declared unit",
                diags, f"declare it in the source, e.g. `units {{ {plain.parts[-1]}: ms }}`",
            )
        return
    compatible = {a, b} <= {NUMBER} or a == b or {a, b} <= {DATE, TIMESTAMP}
    if not compatible:
        _mismatch(e, f"cannot compare a {a} with a {b}", diags, _unit_hint(a, b))


def _unit_hint(a: str, b: str) -> str | None:
    if {a, b} == {DURATION, NUMBER}:
        return "write the number with a unit, such as `300ms`, or declare the column's unit"
    return None


def _arithmetic(op: str, a: str, b: str, e: ast.Expr, diags: list[Diagnostic]) -> str:
    if ANY in (a, b):
        if op == "-" and TIMESTAMP in (a, b):
            return ANY
        known = b if a == ANY else a
        return DURATION if known == DURATION and op in "+-" else ANY
    table = {
        ("-", TIMESTAMP, TIMESTAMP): DURATION,
        ("+", TIMESTAMP, DURATION): TIMESTAMP,
        ("-", TIMESTAMP, DURATION): TIMESTAMP,
        ("+", DURATION, DURATION): DURATION,
        ("-", DURATION, DURATION): DURATION,
        ("*", DURATION, NUMBER): DURATION,
        ("*", NUMBER, DURATION): DURATION,
        ("/", DURATION, NUMBER): DURATION,
        ("/", DURATION, DURATION): NUMBER,
    }
    if (op, a, b) in table:
        return table[(op, a, b)]
    if a == NUMBER and b == NUMBER:
        return NUMBER
    _mismatch(e, f"cannot compute a {a} {op} a {b}", diags)
    return ANY


def _call(e: ast.Call, ctx: ColumnContext, diags: list[Diagnostic]) -> str:
    name = e.func.dotted
    if name not in CONDITION_FUNCTIONS:
        diags.append(
            error("SLG0413", f"unknown function `{name}` in a condition", e.func.span,
                  "conditions can use `business_duration(start, end, CALENDAR)`")
        )
        return ANY
    positional = [a for a in e.args if not isinstance(a, ast.NamedArg)]
    if len(positional) != CONDITION_FUNCTIONS[name] or len(positional) != len(e.args):
        diags.append(
            error("SLG0414", f"`{name}` takes {CONDITION_FUNCTIONS[name]} arguments", e.span,
                  "write `business_duration(opened_at, resolved_at, cal.uk_business)`")
        )
        return DURATION
    for arg in positional[:2]:
        t = _type(arg, ctx, diags)
        if t not in (TIMESTAMP, ANY):
            _mismatch(arg, f"`business_duration` needs timestamps, found a {t}", diags)
    ctx.resolve_calendar(positional[2])
    return DURATION
