"""Text -> AST. The parser is built once per process; errors become coded diagnostics."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedInput

from slang.diagnostics import Diagnostic, error
from slang.resources import grammar_path
from slang.semantics.values import bad_duration_hint
from slang.syntax import ast
from slang.syntax.span import Span
from slang.syntax.syntax_errors import describe_unexpected

_local = threading.local()


def _collect_comment(token: Token) -> None:
    sink = getattr(_local, "comments", None)
    if sink is not None:
        sink.append(token)


class _AlwaysName:
    """Post-lexer that makes NAME a candidate in every parser state.

    With NAME always in the state's lexer, a keyword string is only recognised when the whole
    word equals it (lark retypes the NAME), so `services` is never split into `service` + `s`.
    """

    always_accept = ("NAME",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        return stream


@cache
def lark_parser() -> Lark:
    """Built once per process; lark's analysis of the grammar (0.4 s) is itself cached on disk
    next to the parse cache, keyed by lark on the grammar and the options."""
    from slang.syntax.parse_cache import cache_dir

    directory = cache_dir()
    cache_file: str | bool = False
    if directory is not None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            cache_file = str(directory / "lark-grammar.cache")
        except OSError:
            cache_file = False
    return Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        postlex=_AlwaysName(),
        lexer_callbacks={"COMMENT": _collect_comment},
        cache=cache_file,
    )


@dataclass(frozen=True)
class ParseResult:
    module: ast.Module
    diagnostics: tuple[Diagnostic, ...]


def parse(text: str, path: str = "<string>") -> ParseResult:
    """Parse one file. Syntax errors are recovered at the next top-level declaration so that one
    run reports every broken declaration, not only the first."""
    decls: list[ast.Decl] = []
    comments: list[ast.Comment] = []
    diags: list[Diagnostic] = []
    start = 0
    while True:
        masked = _blank(text, start)
        _local.comments = []
        try:
            tree = lark_parser().parse(masked)
        except UnexpectedInput as exc:
            diags.append(describe_unexpected(exc, masked, path))
            resume = _next_declaration(text, _error_offset(exc, masked))
            recovered = _parse_prefix(masked, resume, path)
            decls.extend(recovered[0])
            comments.extend(recovered[1])
            if resume is None:
                break
            start = resume
            continue
        finally:
            found = _local.comments
            _local.comments = None
        builder = _Builder(path)
        decls.extend(builder.transform(tree).children)
        comments.extend(_comment(t, path) for t in found)
        diags.extend(builder.diagnostics)
        break
    module = ast.Module(path, tuple(decls), tuple(comments), span=Span(path, 1, 1, 1, 1))
    return ParseResult(module, tuple(diags))


def _parse_prefix(
    masked: str, end: int | None, path: str
) -> tuple[list[ast.Decl], list[ast.Comment]]:
    """The declarations before a syntax error are still worth checking: parse up to the error's
    declaration (text masked from `end` on); give up quietly if that prefix is broken too."""
    head = masked if end is None else masked[:end]
    # Cut at the start of the declaration that holds the error.
    cut = _last_declaration_start(head)
    if cut is None:
        return [], []
    _local.comments = []
    try:
        tree = lark_parser().parse(_blank(masked[:cut], 0))
    except UnexpectedInput:
        return [], []
    finally:
        found = _local.comments
        _local.comments = None
    builder = _Builder(path)
    return list(builder.transform(tree).children), [_comment(t, path) for t in found]


_DECL_START = re.compile(
    r"^(import|catalogue|calendar|events|intervals|credits|agreement|test)\b", re.MULTILINE
)


def _error_offset(exc: UnexpectedInput, text: str) -> int:
    pos = getattr(exc, "pos_in_stream", None)
    if pos is None:
        token = getattr(exc, "token", None)
        pos = getattr(token, "start_pos", None)
    return len(text) if pos is None else pos


def _next_declaration(text: str, offset: int) -> int | None:
    m = _DECL_START.search(text, offset + 1)
    return m.start() if m else None


def _last_declaration_start(text: str) -> int | None:
    starts = [m.start() for m in _DECL_START.finditer(text)]
    # The declaration holding the error starts at the last keyword before it.
    return starts[-1] if starts else None


def _blank(text: str, start: int) -> str:
    """Text with everything before `start` turned into spaces, keeping line and column numbers."""
    if start == 0:
        return text
    return re.sub(r"[^\n]", " ", text[:start]) + text[start:]


def _span(path: str, meta_or_token: object) -> Span:
    m = meta_or_token
    line = getattr(m, "line", None)
    if line is None:
        return Span(path, 0, 0, 0, 0)
    return Span(path, line, m.column, m.end_line, m.end_column)  # type: ignore[attr-defined]


def _comment(token: Token, path: str) -> ast.Comment:
    return ast.Comment(str(token).rstrip(), span=_span(path, token))


def _unquote(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), body)


_NUM_UNIT = re.compile(r"(\d+(?:\.\d+)?)[ \t]*(.*)")


@v_args(meta=True)
class _Builder(Transformer):
    """Parse tree -> AST. Lexical values that are well-formed but impossible (`2026-02-30`,
    `25:00`) are reported here, so the checker only ever sees values that exist."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.diagnostics: list[Diagnostic] = []

    def sp(self, meta: object) -> Span:
        return _span(self.path, meta)

    def tok(self, token: Token) -> Span:
        return _span(self.path, token)

    # ---------------------------------------------------------------- names and literals

    def ident(self, meta, children):
        (tok,) = children
        name = tok[1:-1] if tok.type == "QUOTED_NAME" else str(tok)
        return ast.Ident(name, span=self.tok(tok))

    def qualname(self, meta, children):
        return ast.Name(tuple(i.name for i in children), span=self.sp(meta))

    def string(self, meta, children):
        return ast.StringLit(_unquote(children[0]), span=self.sp(meta))

    def number(self, meta, children):
        return ast.NumberLit(str(children[0]), span=self.sp(meta))

    def percent(self, meta, children):
        return self._percent(children[0])

    def _percent(self, tok: Token) -> ast.PercentLit:
        return ast.PercentLit(str(tok)[:-1], span=self.tok(tok))

    def duration(self, meta, children):
        return self._duration(children[0])

    def _duration(self, tok: Token) -> ast.DurationLit:
        amount, unit = _NUM_UNIT.match(str(tok)).groups()  # type: ignore[union-attr]
        return ast.DurationLit(amount, unit, span=self.tok(tok))

    def bad_duration(self, meta, children):
        return self._bad_duration(children[0])

    def _bad_duration(self, tok: Token) -> ast.BadDurationLit:
        """`1mo`, `5min`: kept in the tree so the rest of the file is still checked, and
        reported here, where the lexer saw it."""
        amount, unit = _NUM_UNIT.match(str(tok)).groups()  # type: ignore[union-attr]
        node = ast.BadDurationLit(amount, unit, span=self.tok(tok))
        self.diagnostics.append(error(
            "SLG0303", f"`{node.amount}{node.unit}` is not a duration", node.span,
            bad_duration_hint(node.unit),
        ))
        return node

    def date(self, meta, children):
        node = ast.DateLit(str(children[0]), span=self.sp(meta))
        if node.value is None:
            self.diagnostics.append(
                error("SLG0102", f"`{node.text}` is not a date in the calendar", node.span,
                      "dates are YYYY-MM-DD with a real month and day")
            )
        return node

    def timestamp(self, meta, children):
        node = ast.TimestampLit(str(children[0]), span=self.sp(meta))
        value = node.value
        if value is None:
            self.diagnostics.append(
                error("SLG0102", f"`{node.text}` is not a valid timestamp", node.span,
                      "timestamps are RFC 3339, e.g. `2026-03-29T01:00:00Z`")
            )
        elif value.tzinfo is None:
            self.diagnostics.append(
                error("SLG0103", f"timestamp `{node.text}` has no time zone", node.span,
                      f"write `{node.text}Z` for UTC or add an offset such as `+01:00`")
            )
        return node

    def _time(self, tok: Token) -> ast.TimeOfDay:
        node = ast.TimeOfDay(str(tok), span=self.tok(tok))
        h, m = (int(x) for x in node.text.split(":"))
        if m > 59 or h > 24 or (h == 24 and m != 0):
            self.diagnostics.append(
                error("SLG0102", f"`{node.text}` is not a time of day", node.span,
                      "times are HH:MM from 00:00 to 24:00")
            )
        return node

    def null(self, meta, children):
        return ast.NullLit(span=self.sp(meta))

    def true(self, meta, children):
        return ast.BoolLit(True, span=self.sp(meta))

    def false(self, meta, children):
        return ast.BoolLit(False, span=self.sp(meta))

    # ------------------------------------------------------------------------ expressions

    def where(self, meta, children):
        return ast.Where(children[0], children[1], span=self.sp(meta))

    def _bin(self, op: str, meta, children):
        return ast.BinOp(op, children[0], children[-1], span=self.sp(meta))

    def or_(self, meta, children):
        return self._bin("or", meta, children)

    def and_(self, meta, children):
        return self._bin("and", meta, children)

    def compare(self, meta, children):
        return self._bin(str(children[1]), meta, children)

    def add(self, meta, children):
        return self._bin("+", meta, children)

    def sub(self, meta, children):
        return self._bin("-", meta, children)

    def mul(self, meta, children):
        return self._bin("*", meta, children)

    def div(self, meta, children):
        return self._bin("/", meta, children)

    def not_(self, meta, children):
        return ast.Not(children[0], span=self.sp(meta))

    def neg(self, meta, children):
        return ast.Neg(children[0], span=self.sp(meta))

    def _in(self, meta, children, negated: bool):
        operand, rhs = children
        if rhs[0] == "list":
            return ast.InList(operand, rhs[1], negated, span=self.sp(meta))
        return ast.InRange(operand, rhs[1], rhs[2], negated, span=self.sp(meta))

    def in_(self, meta, children):
        return self._in(meta, children, False)

    def not_in(self, meta, children):
        return self._in(meta, children, True)

    def list_rhs(self, meta, children):
        return ("list", tuple(c for c in children if c is not None))

    def range_rhs(self, meta, children):
        return ("range", children[0], children[1])

    def is_null(self, meta, children):
        return ast.IsNull(children[0], False, span=self.sp(meta))

    def is_not_null(self, meta, children):
        return ast.IsNull(children[0], True, span=self.sp(meta))

    def call(self, meta, children):
        func, *args = children
        return ast.Call(func, tuple(a for a in args if a is not None), span=self.sp(meta))

    def named_arg(self, meta, children):
        return ast.NamedArg(children[0], children[1], span=self.sp(meta))

    # ------------------------------------------------------------------- declarations

    def start(self, meta, children):
        return _Decls(children)

    def import_decl(self, meta, children):
        return ast.Import(children[0], children[1], span=self.sp(meta))

    def catalogue(self, meta, children):
        title = children[0] if children and isinstance(children[0], ast.StringLit) else None
        services = tuple(c for c in children if isinstance(c, ast.Service))
        return ast.Catalogue(title, services, span=self.sp(meta))

    def service(self, meta, children):
        return ast.Service(children[0], tuple(children[1:]), span=self.sp(meta))

    def calendar(self, meta, children):
        return ast.Calendar(children[0], tuple(children[1:]), span=self.sp(meta))

    def _source(self, kind: str, meta, children):
        name, table, *body = children
        attrs = body[0] if body else ()
        return ast.Source(kind, name, table, attrs, span=self.sp(meta))

    def events(self, meta, children):
        return self._source("events", meta, children)

    def intervals(self, meta, children):
        return self._source("intervals", meta, children)

    def source_body(self, meta, children):
        return tuple(children)

    def credits_decl(self, meta, children):
        return ast.CreditSchedule(children[0], tuple(children[1:]), span=self.sp(meta))

    def tier(self, meta, children):
        direction, threshold, pct = children
        return ast.Tier(str(direction), threshold, self._percent(pct), span=self.sp(meta))

    def agreement(self, meta, children):
        return ast.Agreement(children[0], tuple(children[1:]), span=self.sp(meta))

    def objective(self, meta, children):
        return ast.Objective(children[0], tuple(children[1:]), span=self.sp(meta))

    def credit(self, meta, children):
        objective, body = children
        if isinstance(body, ast.Name):
            return ast.Credit(objective, None, body, span=self.sp(meta))
        return ast.Credit(objective, body, None, span=self.sp(meta))

    def credit_tiers(self, meta, children):
        return tuple(children)

    def burn_rate(self, meta, children):
        return ast.BurnRate(tuple(children), span=self.sp(meta))

    def burn_window(self, meta, children):
        severity, pct, long, short = children
        return ast.BurnRateWindow(severity, self._percent(pct), long, short, span=self.sp(meta))

    def burn_length(self, meta, children):
        tok = children[0]
        return self._bad_duration(tok) if tok.type == "BAD_DURATION" else self._duration(tok)

    def exclude(self, meta, children):
        window, *rest = children
        reason = next((c for c in rest if isinstance(c, ast.StringLit)), None)
        mode = next((c for c in rest if isinstance(c, ast.Ident)), None)
        return ast.Exclusion(window, reason, mode, span=self.sp(meta))

    def as_available(self, meta, children):
        return children[0]

    def timestamp_window(self, meta, children):
        return ast.TimestampWindow(children[0], children[1], span=self.sp(meta))

    def date_window(self, meta, children):
        return ast.DateWindow(children[0], children[1], span=self.sp(meta))

    def weekly_window(self, meta, children):
        days, (start, end) = children
        return ast.WeeklyWindow(days, start, end, span=self.sp(meta))

    def source_window(self, meta, children):
        cond = children[1] if len(children) > 1 else None
        return ast.SourceWindow(children[0], cond, span=self.sp(meta))

    def day_set(self, meta, children):
        return tuple(children)

    def day_span(self, meta, children):
        last = str(children[1]) if len(children) > 1 else None
        return ast.DaySpan(str(children[0]), last, span=self.sp(meta))

    def time_range(self, meta, children):
        return (self._time(children[0]), self._time(children[1]))

    def rolling(self, meta, children):
        tok = children[0]
        if tok.type == "BAD_DURATION":
            return ast.RollingPeriod(self._bad_duration(tok), span=self.sp(meta))
        return ast.RollingPeriod(self._duration(tok), span=self.sp(meta))

    def unit_entry(self, meta, children):
        return ast.UnitEntry(children[0], children[1], span=self.sp(meta))

    # -------------------------------------------------------------------------- tests

    def test_decl(self, meta, children):
        return ast.Test(children[0], tuple(children[1:]), span=self.sp(meta))

    def test_data(self, meta, children):
        source, body = children
        if isinstance(body, ast.StringLit):
            return ast.TestData(source, None, body, span=self.sp(meta))
        return ast.TestData(source, body, None, span=self.sp(meta))

    def data_file(self, meta, children):
        return children[0]

    def data_table(self, meta, children):
        columns = next((c for c in children if isinstance(c, tuple)), ())
        rows = tuple(c for c in children if isinstance(c, ast.Row))
        return ast.InlineTable(columns, rows, span=self.sp(meta))

    def table_columns(self, meta, children):
        return tuple(children)

    def table_row(self, meta, children):
        return ast.Row(tuple(children), span=self.sp(meta))

    def negative(self, meta, children):
        tok = children[0]
        return ast.Neg(ast.NumberLit(str(tok), span=self.tok(tok)), span=self.sp(meta))

    def expect(self, meta, children):
        target, label, *attrs = children
        period = ast.PeriodLabel(str(label), span=self.tok(label))
        return ast.Expectation(target, period, tuple(attrs), span=self.sp(meta))

    def e_measured(self, meta, children):
        tolerance = children[1] if len(children) > 1 else None
        value = ast.Measured(children[0], tolerance, span=self.sp(meta))
        return self._attr("measured", meta, value)

    def e_credit(self, meta, children):
        tok = children[0]
        if tok.type == "PERCENT":
            return self._attr("credit", meta, self._percent(tok))
        amount, currency = _NUM_UNIT.match(str(tok)).groups()  # type: ignore[union-attr]
        return self._attr("credit", meta, ast.MoneyLit(amount, currency, span=self.tok(tok)))

    # --------------------------------------------------------------------- attributes

    def _attr(self, key: str, meta, value: ast.AttrValue) -> ast.Attribute:
        return ast.Attribute(key, value, span=self.sp(meta))

    def a_depends_on(self, meta, children):
        return self._attr("depends_on", meta, ast.IdentList(tuple(children), span=self.sp(meta)))

    def a_internal(self, meta, children):
        return self._attr("internal", meta, ast.Flag(span=self.sp(meta)))

    def a_hours_rule(self, meta, children):
        days, (start, end) = children
        return self._attr("hours", meta, ast.HoursRule(days, start, end, span=self.sp(meta)))

    def a_holidays(self, meta, children):
        return self._attr("holidays", meta, ast.DateList(tuple(children), span=self.sp(meta)))

    def a_effective(self, meta, children):
        end = children[1] if len(children) > 1 else None
        rng = ast.DateRange(children[0], end, span=self.sp(meta))
        return self._attr("effective", meta, rng)

    def a_fee(self, meta, children):
        tok = children[0]
        amount, currency = _NUM_UNIT.match(str(tok)).groups()  # type: ignore[union-attr]
        return self._attr("fee", meta, ast.MoneyLit(amount, currency, span=self.tok(tok)))

    def a_credit_cap(self, meta, children):
        return self._attr("credit_cap", meta, self._percent(children[0]))

    def a_review(self, meta, children):
        count = ast.NumberLit(str(children[0]), span=self.tok(children[0]))
        return self._attr("review", meta, ast.ReviewEvery(count, children[1], span=self.sp(meta)))

    def a_notify(self, meta, children):
        recipients = tuple(c for c in children if isinstance(c, ast.StringLit))
        on = tuple(c for c in children if isinstance(c, ast.Ident))
        return self._attr("notify", meta, ast.Notify(recipients, on, span=self.sp(meta)))

    def a_target(self, meta, children):
        op, value = children
        return self._attr("target", meta, ast.Target(str(op), value, span=self.sp(meta)))

    def s_time(self, meta, children):
        form = children[1] if len(children) > 1 else None
        return self._attr("time", meta, ast.TimeColumn(children[0], form, span=self.sp(meta)))

    def s_prometheus(self, meta, children):
        return self._attr("prometheus", meta, ast.PrometheusMap(tuple(children),
                                                                span=self.sp(meta)))

    def prom_query(self, meta, children):
        role, *rest = children
        objective = rest[0] if len(rest) == 2 else None
        return ast.PromQuery(str(role), objective, rest[-1], span=self.sp(meta))

    def prom_labels(self, meta, children):
        entries = tuple(c for c in children if c is not None)
        return ast.PromLabels(entries, span=self.sp(meta))

    def label_entry(self, meta, children):
        return ast.LabelEntry(children[0], children[1], span=self.sp(meta))

    def s_units(self, meta, children):
        entries = tuple(c for c in children if c is not None)
        return self._attr("units", meta, ast.UnitMap(entries, span=self.sp(meta)))

    def __default__(self, data, children, meta):
        # The single-value attributes: a_title, a_status, s_key, a_indicator, ...
        name = str(data)
        if name.startswith(("a_", "s_")) and len(children) == 1:
            return self._attr(name[2:], meta, children[0])
        raise AssertionError(f"grammar rule without a builder: {name}")  # pragma: no cover


class _Decls:
    """The transformed `start` rule (a plain holder; lark wants an object with children)."""

    def __init__(self, children: list[ast.Decl]):
        self.children = children
