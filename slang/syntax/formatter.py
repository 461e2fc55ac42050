"""AST -> canonical text: one layout for every program, so reviews show meaning, not spacing.

The formatter works from the AST and the comments the parser collected, never from the original
text: `format_module(parse(x).module)` and `format_text(x)` cannot disagree, and everything the
layout keeps from the source (blank lines, which blocks were written on one line, where comments
sit) is read from node spans. It is idempotent by construction: every decision depends only on
facts that the output reproduces (a kept one-line block is again on one line, an expanded one is
again on several, a blank line is again a gap of one line).

The layout, in short: two-space indentation; one blank line between declarations (imports may
stay grouped); inside a block at most one blank line, only where the source had one; runs of
attribute lines (not broken by a blank line or another kind of item) align their values one
space after the longest key; a short block written on one line stays on one line if it holds no
comment and fits in 100 columns (agreements and catalogues always open up), its items two spaces
apart, and consecutive one-line sibling blocks align their `{`; expressions are never broken.

Comments are attached to the layout, not to nodes:

* a comment on the same line as the end of some code trails the output line holding that code;
* any other comment goes, on its own line, before the next item of its block (or before the
  block's `}`, or at the end of the file);
* a comment inside a construct that prints on one line (an expression broken over several
  source lines, a block header) is moved, on its own line, just before that construct, except in
  a list of dates or names, which then prints one element per line to keep each comment next to
  its element. The order of all comments never changes;
* trailing comments of consecutive lines share one column, two spaces after the longest code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache

from slang.diagnostics import SlangError
from slang.syntax import ast
from slang.syntax.parser import lark_parser, parse

MAX_WIDTH = 100
INDENT = "  "

# Words that are tokens inside expressions: as names they must be quoted wherever they are.
EXPRESSION_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "null", "true", "false", "where"})
# Keywords that the parser accepts right where a name could also stand.
_PERIOD_WORDS = frozenset({"rolling"})
_EXCLUDE_WORDS = frozenset({"weekly"})
SYNTAX_ERROR_CODES = frozenset({"SLG0101", "SLG0104"})

_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@cache
def grammar_keywords() -> frozenset[str]:
    """Every keyword of the grammar. A name right after another name (the form in `time ts utc`,
    the schedule in `credit latency std.latency`) is lexed as a keyword whenever it spells one,
    so in those two places every keyword is quoted."""
    return frozenset(
        t.pattern.value
        for t in lark_parser().terminals
        if t.pattern.type == "str" and _PLAIN_NAME.fullmatch(t.pattern.value)
    )

Pos = tuple[int, int]


# ------------------------------------------------------------------------------- public API


def format_text(text: str, path: str = "<string>") -> str:
    """Parse and format. A syntax error drops declarations, so formatting would lose text:
    raise instead. Other diagnostics (an impossible date) leave the text as written."""
    result = parse(text, path)
    if any(d.code in SYNTAX_ERROR_CODES for d in result.diagnostics):
        raise SlangError(result.diagnostics)
    return format_module(result.module)


def needs_formatting(text: str, path: str = "<string>") -> bool:
    return format_text(text, path) != text


def format_module(module: ast.Module) -> str:
    decls = [_entry(d) for d in module.decls]
    comments = sorted(module.comments, key=_start)
    root = _Body(decls)
    _distribute(root, comments, None)
    for i, decl in enumerate(decls):
        # Declarations are one blank line apart, except that imports may stay grouped.
        imports = isinstance(module.decls[i], ast.Import) and i > 0
        if i > 0 and not (imports and isinstance(module.decls[i - 1], ast.Import)):
            decl.separated = True
            if decl.leading:
                decl.leading[0] = (decl.leading[0][0], True)
            else:
                decl.blank = True
    out: list[_Line] = []
    _render_body(root, 0, out)
    return _emit(out)


# ------------------------------------------------------------------------------ expressions

# Binding strength: where < or < and < not < comparison/in/is < + - < * / < unary minus < atom.
_WHERE, _OR, _AND, _NOT, _CMP, _ADD, _MUL, _NEG, _ATOM = range(9)
_BINARY = {
    "or": _OR,
    "and": _AND,
    "+": _ADD,
    "-": _ADD,
    "*": _MUL,
    "/": _MUL,
}


def format_ident(name: str, reserved: frozenset[str] = frozenset()) -> str:
    if _PLAIN_NAME.fullmatch(name) and name not in EXPRESSION_KEYWORDS and name not in reserved:
        return name
    return f"`{name}`"


def format_name(parts: Sequence[str], reserved_first: frozenset[str] = frozenset()) -> str:
    """A qualified name; only its first part can meet a keyword the parser is looking for."""
    return ".".join(
        format_ident(p, reserved_first if i == 0 else frozenset()) for i, p in enumerate(parts)
    )


def format_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def format_literal(lit: ast.Node) -> str:
    match lit:
        case ast.NumberLit(text=text) | ast.DateLit(text=text) | ast.TimestampLit(text=text):
            return text
        case ast.PercentLit(text=text):
            return f"{text}%"
        case ast.DurationLit(amount=amount, unit=unit) | ast.BadDurationLit(
            amount=amount, unit=unit
        ):
            return f"{amount}{unit}"
        case ast.StringLit(value=value):
            return format_string(value)
        case ast.MoneyLit(amount=amount, currency=currency):
            return f"{amount} {currency}"
        case ast.NullLit():
            return "null"
        case ast.BoolLit(value=value):
            return "true" if value else "false"
        case ast.TimeOfDay(text=text):
            return text
    raise TypeError(f"not a literal: {type(lit).__name__}")


def format_expr(expr: ast.Node, min_prec: int = _WHERE) -> str:
    """An expression with only the parentheses that its tree needs."""
    text, prec = _expr(expr)
    return f"({text})" if prec < min_prec else text


def _expr(e: ast.Node) -> tuple[str, int]:
    match e:
        case ast.Where(source=source, condition=condition):
            return f"{format_expr(source, _OR)} where {format_expr(condition, _OR)}", _WHERE
        case ast.BinOp(op=op, left=left, right=right):
            prec = _BINARY.get(op, _CMP)
            if prec == _CMP:  # comparisons do not chain
                return f"{format_expr(left, _ADD)} {op} {format_expr(right, _ADD)}", _CMP
            return f"{format_expr(left, prec)} {op} {format_expr(right, prec + 1)}", prec
        case ast.Not(operand=operand):
            return f"not {format_expr(operand, _NOT)}", _NOT
        case ast.Neg(operand=operand):
            return f"-{format_expr(operand, _NEG)}", _NEG
        case ast.InList(operand=operand, items=items, negated=negated):
            word = "not in" if negated else "in"
            inner = ", ".join(format_expr(i) for i in items)
            return f"{format_expr(operand, _ADD)} {word} [{inner}]", _CMP
        case ast.InRange(operand=operand, low=low, high=high, negated=negated):
            word = "not in" if negated else "in"
            rng = f"{format_literal(low)} .. {format_literal(high)}"
            return f"{format_expr(operand, _ADD)} {word} {rng}", _CMP
        case ast.IsNull(operand=operand, negated=negated):
            word = "is not null" if negated else "is null"
            return f"{format_expr(operand, _ADD)} {word}", _CMP
        case ast.Call(func=func, args=args):
            return f"{format_name(func.parts)}({', '.join(_arg(a) for a in args)})", _ATOM
        case ast.Name(parts=parts):
            return format_name(parts), _ATOM
        case ast.Ident(name=name):
            return format_ident(name), _ATOM
    return format_literal(e), _ATOM


def _arg(a: ast.Node) -> str:
    if isinstance(a, ast.NamedArg):
        return f"{format_ident(a.name.name)}: {format_expr(a.value)}"
    return format_expr(a)


# ------------------------------------------------------------------------- attribute values


def _days(days: Sequence[ast.DaySpan]) -> str:
    return ",".join(d.first if d.last is None else f"{d.first}-{d.last}" for d in days)


def _value(key: str, v: ast.Node) -> str:
    match v:
        case ast.Flag():
            return ""
        case ast.Ident(name=name):
            return format_ident(name, _PERIOD_WORDS if key == "period" else frozenset())
        case ast.IdentList(items=items):
            return ", ".join(format_ident(i.name) for i in items)
        case ast.DateList(items=items):
            return ", ".join(_list_item_text(i) for i in items)
        case ast.DateRange(start=start, end=end):
            return f"{start.text} .." + (f" {end.text}" if end is not None else "")
        case ast.RollingPeriod(length=length):
            return f"rolling {format_literal(length)}"
        case ast.ReviewEvery(count=count, unit=unit):
            return f"every {count.text} {format_ident(unit.name)}"
        case ast.Notify(recipients=recipients, on=on):
            text = ", ".join(format_string(r.value) for r in recipients)
            if on:
                text += " on " + ", ".join(format_ident(i.name) for i in on)
            return text
        case ast.HoursRule(days=days, start=start, end=end):
            return f"{_days(days)} {start.text}-{end.text}"
        case ast.TimeColumn(column=column, form=form):
            text = format_ident(column.name)
            if form is not None:
                text += " " + format_ident(form.name, grammar_keywords())
            return text
        case ast.Target(op=op, value=value):
            return f"{op} {format_literal(value)}"
        case ast.MoneyLit():
            return format_literal(v)
        case ast.Measured(value=value, tolerance=tolerance):
            text = format_literal(value)
            return text if tolerance is None else f"{text} within {format_literal(tolerance)}"
    return format_expr(v)


def _window(w: ast.Node) -> str:
    match w:
        case ast.TimestampWindow(start=start, end=end) | ast.DateWindow(start=start, end=end):
            return f"{start.text} .. {end.text}"
        case ast.WeeklyWindow(days=days, start=start, end=end):
            return f"weekly {_days(days)} {start.text}-{end.text}"
        case ast.SourceWindow(source=source, condition=condition):
            text = format_name(source.parts, _EXCLUDE_WORDS)
            if condition is not None:
                text += f" where {format_expr(condition, _OR)}"
            return text
    raise TypeError(f"not a window: {type(w).__name__}")


def _exclusion(x: ast.Exclusion) -> str:
    text = f"exclude {_window(x.window)}"
    if x.reason is not None:
        text += " " + format_string(x.reason.value)
    if x.mode is not None:
        text += " as " + format_ident(x.mode.name)
    return text


def _tier(t: ast.Tier) -> str:
    return f"{t.direction} {format_literal(t.threshold)} => {format_literal(t.credit)}"


def _burn_windows(windows: Sequence[ast.BurnRateWindow]) -> list[str]:
    """One line per alert, columns aligned across the block (`page   2%  in 1h / 5m`) so that
    the severities and budgets read as a table."""
    severities = [format_ident(w.severity.name) for w in windows]
    budgets = [format_literal(w.budget) for w in windows]
    sw = max(map(len, severities), default=0)
    bw = max(map(len, budgets), default=0)
    return [
        f"{sev.ljust(sw)} {pct.ljust(bw)} in {format_literal(w.long)} / {format_literal(w.short)}"
        for sev, pct, w in zip(severities, budgets, windows, strict=True)
    ]


# ----------------------------------------------------------------------------------- layout


@dataclass(eq=False)
class _Entry:
    """One item of a block (or a top-level declaration) and the comments attached to it."""

    start: Pos
    end: Pos
    leading: list[tuple[ast.Comment, bool]] = field(default_factory=list)  # (comment, blank?)
    glued: list[ast.Comment] = field(default_factory=list)  # moved out of the item's inside
    trailing: ast.Comment | None = None
    blank: bool = False  # a blank line between the leading comments (or previous item) and it
    separated: bool = False  # a blank line somewhere before it (breaks alignment runs)


@dataclass(eq=False)
class _ListItem:
    """One element of a list value (`holidays`, `depends_on`), which can carry comments."""

    text: str
    start: Pos
    end: Pos
    leading: list[ast.Comment] = field(default_factory=list)
    trailing: ast.Comment | None = None


@dataclass(eq=False)
class _Leaf(_Entry):
    """A construct printed on one line. `key` is set for attributes, whose values align.

    A list value whose elements carry comments is the exception: it prints one element per line,
    under the first, so that each comment stays next to its element."""

    key: str | None = None
    text: str = ""
    items: list[_ListItem] | None = None

    @property
    def one_per_line(self) -> bool:
        return self.items is not None and any(i.leading or i.trailing for i in self.items)


@dataclass(eq=False)
class _Body:
    children: list[_Entry]
    head_comment: ast.Comment | None = None
    closing: list[tuple[ast.Comment, bool]] = field(default_factory=list)


@dataclass(eq=False)
class _Block(_Entry):
    head: str = ""  # the text before ` {`
    key: str | None = None  # `units`: an attribute whose value is a block
    body: _Body = field(default_factory=lambda: _Body([]))
    head_end: Pos = (0, 0)
    sep: str = "  "  # between items when on one line
    suffix: str = ""  # after each item when expanded (`,` in a units map)
    may_be_one_line: bool = True
    omit_empty: bool = False  # a source without attributes prints without `{}`
    inner_comments: bool = False
    one_line: bool = False  # decided while rendering

    @property
    def written_on_one_line(self) -> bool:
        return self.start[0] == self.end[0]


def _start(node: ast.Node) -> Pos:
    return (node.span.line, node.span.col)


def _end(node: ast.Node) -> Pos:
    return (node.span.end_line, node.span.end_col)


def _keyword_end(node: ast.Node, keyword: str) -> Pos:
    return (node.span.line, node.span.col + len(keyword))


def _leaf(node: ast.Node, text: str, key: str | None = None) -> _Leaf:
    return _Leaf(_start(node), _end(node), key=key, text=text)


def _block(
    node: ast.Node,
    head: str,
    head_end: Pos,
    children: list[_Entry],
    *,
    key: str | None = None,
    sep: str = "  ",
    suffix: str = "",
    may_be_one_line: bool = True,
    omit_empty: bool = False,
) -> _Block:
    return _Block(_start(node), _end(node), head=head, head_end=head_end, body=_Body(children),
                  key=key, sep=sep, suffix=suffix, may_be_one_line=may_be_one_line,
                  omit_empty=omit_empty)


def _prometheus(a: ast.Attribute, prom: ast.PrometheusMap) -> _Block:
    children: list[_Entry] = []
    for item in prom.items:
        if isinstance(item, ast.PromLabels):
            entries: list[_Entry] = [
                _leaf(e, f"{format_ident(e.name.name)}: {format_string(e.value.value)}")
                for e in item.entries
            ]
            children.append(_block(item, "labels", _keyword_end(item, "labels"), entries,
                                   key="labels", sep=", ", suffix=","))
            continue
        key = item.role
        if item.objective is not None:
            key += " " + format_ident(item.objective.name)
        children.append(_leaf(item, format_string(item.query.value), key=key))
    return _block(a, "prometheus", _keyword_end(a, "prometheus"), children, key="prometheus")


def _attribute(a: ast.Attribute) -> _Entry:
    if isinstance(a.value, ast.PrometheusMap):
        return _prometheus(a, a.value)
    if isinstance(a.value, ast.UnitMap):
        entries: list[_Entry] = [
            _leaf(e, f"{format_ident(e.column.name)}: {format_ident(e.unit.name)}")
            for e in a.value.entries
        ]
        return _block(a, "units", _keyword_end(a, "units"), entries, key="units", sep=", ",
                      suffix=",")
    leaf = _leaf(a, _value(a.key, a.value), key=a.key)
    if isinstance(a.value, ast.DateList | ast.IdentList):
        texts = [_list_item_text(d) for d in a.value.items]
        leaf.items = [_ListItem(t, _start(d), _end(d)) for t, d in zip(texts, a.value.items,
                                                                       strict=True)]
    return leaf


def _list_item_text(item: ast.DateLit | ast.StringLit | ast.Ident) -> str:
    """A date, a region code (`"GB-ENG"`) or a name in a list value, as written canonically."""
    if isinstance(item, ast.DateLit):
        return item.text
    if isinstance(item, ast.StringLit):
        return format_string(item.value)
    return format_ident(item.name)


def _tiers_block(node: ast.Node, head: str, head_end: Pos, tiers: Sequence[ast.Tier]) -> _Block:
    return _block(node, head, head_end, [_leaf(t, _tier(t)) for t in tiers])


def _entry(node: ast.Node) -> _Entry:
    match node:
        case ast.Import(path=path, alias=alias):
            return _leaf(node, f"import {format_string(path.value)} as {format_ident(alias.name)}")
        case ast.Catalogue(title=title, services=services):
            head = "catalogue" + (f" {format_string(title.value)}" if title else "")
            head_end = _end(title) if title else _keyword_end(node, "catalogue")
            return _block(node, head, head_end, [_entry(s) for s in services],
                          may_be_one_line=False)
        case ast.Service(name=name, attrs=attrs):
            return _block(node, f"service {format_ident(name.name)}", _end(name),
                          [_attribute(a) for a in attrs])
        case ast.Calendar(name=name, attrs=attrs):
            return _block(node, f"calendar {format_ident(name.name)}", _end(name),
                          [_attribute(a) for a in attrs])
        case ast.Source(kind=kind, name=name, table=table, attrs=attrs):
            head = f"{kind} {format_ident(name.name)} from {format_string(table.value)}"
            return _block(node, head, _end(table), [_attribute(a) for a in attrs],
                          omit_empty=True)
        case ast.CreditSchedule(name=name, tiers=tiers):
            return _tiers_block(node, f"credits {format_ident(name.name)}", _end(name), tiers)
        case ast.Agreement(name=name, items=items):
            return _block(node, f"agreement {format_ident(name.name)}", _end(name),
                          [_entry(i) for i in items], may_be_one_line=False)
        case ast.Attribute():
            return _attribute(node)
        case ast.Exclusion():
            return _leaf(node, _exclusion(node))
        case ast.Objective(name=name, attrs=attrs):
            return _block(node, f"objective {format_ident(name.name)}", _end(name),
                          [_attribute(a) for a in attrs])
        case ast.BurnRate(windows=windows):
            lines = [_leaf(w, text) for w, text in zip(windows, _burn_windows(windows),
                                                         strict=True)]
            return _block(node, "burn_rate", _keyword_end(node, "burn_rate"), lines,
                          may_be_one_line=False)
        case ast.Credit(objective=objective, tiers=tiers, schedule=schedule):
            head = f"credit {format_ident(objective.name)}"
            if tiers is None:
                parts = schedule.parts if schedule else ()
                return _leaf(node, f"{head} {format_name(parts, grammar_keywords())}")
            return _tiers_block(node, head, _end(objective), tiers)
        case ast.Test(name=name, items=items):
            return _block(node, f"test {format_ident(name.name)}", _end(name),
                          [_entry(i) for i in items], may_be_one_line=False)
        case ast.TestData(source=source, table=table, path=path):
            head = f"data {format_name(source.parts)}"
            if path is not None:
                return _leaf(node, f"{head} from {format_string(path.value)}")
            assert table is not None
            return _block(node, head, _end(source), _table_lines(table), may_be_one_line=False)
        case ast.Expectation(target=target, period=period, attrs=attrs):
            head = f"expect {format_name(target.parts)} {period.text}"
            return _block(node, head, _end(period), [_attribute(a) for a in attrs])
    raise TypeError(f"cannot format {type(node).__name__}")


TABLE_KEYWORD_WIDTH = len("columns")


def _table_lines(table: ast.InlineTable) -> list[_Entry]:
    """The header and rows of an inline table, each cell padded to its column's widest cell so
    that the table reads as a table. The widths depend only on the cells, so formatting the
    output again gives the same padding."""
    header = [format_ident(c.name) for c in table.columns]
    rows = [[format_expr(c) for c in r.cells] for r in table.rows]
    widths: list[int] = []
    for cells in [header, *rows]:
        for i, text in enumerate(cells):
            if i == len(widths):
                widths.append(0)
            widths[i] = max(widths[i], len(text))

    def line(keyword: str, cells: list[str]) -> str:
        padded = [f"{text},".ljust(widths[i] + 1) for i, text in enumerate(cells[:-1])]
        return f"{keyword.ljust(TABLE_KEYWORD_WIDTH)} {' '.join([*padded, cells[-1]])}"

    out: list[_Entry] = []
    if table.columns:
        first, last = table.columns[0], table.columns[-1]
        out.append(_Leaf(_start(first), _end(last), text=line("columns", header)))
    out.extend(_leaf(r, line("row", cells)) for r, cells in zip(table.rows, rows, strict=True))
    return out


# --------------------------------------------------------------------------------- comments


def _cpos(c: ast.Comment) -> Pos:
    return (c.span.line, c.span.col)


def _distribute(body: _Body, comments: list[ast.Comment], head_end: Pos | None) -> None:
    """Attach the comments of one block body (those after its header, before its `}`)."""
    queue = iter(comments)
    pending = next(queue, None)
    owner: _Entry | _Body | None = body if head_end is not None else None
    owner_line = head_end[0] if head_end is not None else 0
    prev_line: int | None = head_end[0] if head_end is not None else None

    def own_line(c: ast.Comment) -> tuple[ast.Comment, bool]:
        nonlocal prev_line
        blank = prev_line is not None and c.span.line - prev_line > 1
        prev_line = c.span.line
        return (c, blank)

    def trails(c: ast.Comment) -> bool:
        if owner is None or c.span.line != owner_line:
            return False
        if isinstance(owner, _Body):
            if owner.head_comment is not None:
                return False
            owner.head_comment = c
        else:
            if owner.trailing is not None:
                return False
            owner.trailing = c
        return True

    for child in body.children:
        while pending is not None and _cpos(pending) < child.start:
            if not trails(pending):
                child.leading.append(own_line(pending))
            pending = next(queue, None)
        child.blank = prev_line is not None and child.start[0] - prev_line > 1
        child.separated = child.blank or any(b for _, b in child.leading)
        inner: list[ast.Comment] = []
        while pending is not None and _cpos(pending) < child.end:
            inner.append(pending)
            pending = next(queue, None)
        if isinstance(child, _Block):
            # Comments inside the header move out before the block; only the others keep it
            # expanded.
            child.glued = [c for c in inner if _cpos(c) < child.head_end]
            body_comments = inner[len(child.glued):]
            child.inner_comments = bool(body_comments)
            _distribute(child.body, body_comments, child.head_end)
        elif child.items:
            child.glued = _distribute_list(child.items, inner)
        else:
            child.glued = inner
        owner, owner_line, prev_line = child, child.end[0], child.end[0]
    while pending is not None:
        if not trails(pending):
            body.closing.append(own_line(pending))
        pending = next(queue, None)


def _distribute_list(items: list[_ListItem], comments: list[ast.Comment]) -> list[ast.Comment]:
    """Comments between the elements of a list; returns those before its first element."""
    before = [c for c in comments if _cpos(c) < items[0].start]
    rest = comments[len(before):]
    for k, item in enumerate(items):
        nxt = items[k + 1].start if k + 1 < len(items) else None
        while rest and (nxt is None or _cpos(rest[0]) < nxt):
            c = rest.pop(0)
            if c.span.line == item.end[0] and item.trailing is None:
                item.trailing = c
            else:  # the list ends at its last element: only a next one can follow
                items[k + 1 if nxt is not None else k].leading.append(c)
    return before


# -------------------------------------------------------------------------------- rendering


@dataclass
class _Line:
    indent: int
    text: str  # code, or a whole comment; empty for a blank line
    comment: str | None = None  # trailing comment
    is_comment: bool = False


def _compact(e: _Entry) -> str:
    """An item on one line, with no alignment (the caller pads keys and heads)."""
    if isinstance(e, _Leaf):
        if e.key is None:
            return e.text
        return f"{e.key} {e.text}" if e.text else e.key
    assert isinstance(e, _Block)
    head = e.head if e.key is None else e.key + " "
    return head + _compact_body(e, " " if e.key is None else "")


def _compact_body(b: _Block, space: str) -> str:
    if not b.body.children:
        return "" if b.omit_empty else f"{space}{{}}"
    return f"{space}{{ {b.sep.join(_compact(c) for c in b.body.children)} }}"


def _is_attribute(e: _Entry) -> bool:
    return (isinstance(e, _Leaf | _Block)) and e.key is not None


def _runs(children: list[_Entry], member: list[bool]) -> Iterator[list[int]]:
    """Maximal runs of consecutive members not separated by a blank line."""
    run: list[int] = []
    for i, c in enumerate(children):
        if member[i] and run and not c.separated and run[-1] == i - 1:
            run.append(i)
            continue
        if run:
            yield run
        run = [i] if member[i] else []
    if run:
        yield run


def _layout(children: list[_Entry], indent: int) -> list[str | None]:
    """Decide which child blocks stay on one line, and the padded key or head of each child.

    Returns, per child, the prefix to print before its value (a padded key or a padded head), or
    None where the child prints its own text.
    """
    prefix: list[str | None] = [None] * len(children)
    attrs = [_is_attribute(c) for c in children]
    for run in _runs(children, attrs):
        keyed = [children[i] for i in run]
        width = max((len(c.key or "") for c in keyed if not _is_flag(c)), default=0) + 1
        for i in run:
            key = children[i].key or ""
            prefix[i] = key if _is_flag(children[i]) else key.ljust(width)
    for i, c in enumerate(children):
        if isinstance(c, _Block):
            c.one_line = _may_stay_on_one_line(c)
            if c.one_line and c.key is not None:
                line = len(INDENT) * indent + len(prefix[i] or "") + len(_compact_body(c, ""))
                c.one_line = line <= MAX_WIDTH
    # Consecutive one-line blocks align their `{`; a block that no longer fits once padded is
    # expanded, which can change the padding of its neighbours, so decide until nothing changes.
    while True:
        singles = [isinstance(c, _Block) and c.key is None and c.one_line for c in children]
        changed = False
        for run in _runs(children, singles):
            blocks = [children[i] for i in run]
            width = max(len(b.head) for b in blocks)  # type: ignore[attr-defined]
            for i in run:
                b = children[i]
                assert isinstance(b, _Block)
                prefix[i] = b.head.ljust(width)
                if len(INDENT) * indent + width + len(_compact_body(b, " ")) > MAX_WIDTH:
                    b.one_line = False
                    prefix[i] = None
                    changed = True
        if not changed:
            return prefix


def _is_flag(e: _Entry) -> bool:
    return isinstance(e, _Leaf) and e.key is not None and not e.text


def _may_stay_on_one_line(b: _Block) -> bool:
    if b.inner_comments:
        return False
    if not b.body.children:
        return True
    return b.may_be_one_line and b.written_on_one_line


def _render_body(body: _Body, indent: int, out: list[_Line]) -> None:
    first = True

    def blank(flag: bool) -> None:
        nonlocal first
        if flag and not first:
            out.append(_Line(0, ""))
        first = False

    prefix = _layout(body.children, indent)
    for child, pre in zip(body.children, prefix, strict=True):
        for comment, flag in child.leading:
            blank(flag)
            out.append(_Line(indent, comment.text, is_comment=True))
        blank(child.blank)
        for comment in child.glued:
            out.append(_Line(indent, comment.text, is_comment=True))
        _render_entry(child, pre, indent, out)
        if child.trailing is not None:
            out[-1].comment = child.trailing.text
    for comment, flag in body.closing:
        blank(flag)
        out.append(_Line(indent, comment.text, is_comment=True))


def _render_entry(e: _Entry, prefix: str | None, indent: int, out: list[_Line]) -> None:
    if isinstance(e, _Leaf):
        if prefix is not None and e.items and e.one_per_line:
            _render_list(e.items, prefix, indent, out)
            return
        out.append(_Line(indent, prefix + e.text if prefix is not None else _compact(e)))
        return
    assert isinstance(e, _Block)
    if e.key is not None:
        head = prefix if prefix is not None else e.key + " "
        if e.one_line:
            out.append(_Line(indent, head + _compact_body(e, "")))
            return
        open_line = head + "{"
    else:
        if e.one_line:
            head = prefix if prefix is not None else e.head
            out.append(_Line(indent, head + _compact_body(e, " ")))
            return
        open_line = e.head + " {"
    out.append(_Line(indent, open_line, e.body.head_comment.text if e.body.head_comment else None))
    start = len(out)
    _render_body(e.body, indent + 1, out)
    if e.suffix:
        for line in out[start:]:
            if line.indent == indent + 1 and line.text and not line.is_comment:
                line.text += e.suffix
    out.append(_Line(indent, "}"))


def _render_list(items: list[_ListItem], prefix: str, indent: int, out: list[_Line]) -> None:
    margin = " " * len(prefix)
    for k, item in enumerate(items):
        for c in item.leading:
            out.append(_Line(indent, margin + c.text, is_comment=True))
        comma = "," if k + 1 < len(items) else ""
        head = prefix if k == 0 else margin
        out.append(_Line(indent, head + item.text + comma,
                         item.trailing.text if item.trailing else None))


def _emit(lines: list[_Line]) -> str:
    """Lines to text, aligning the trailing comments of consecutive lines to one column."""
    i = 0
    while i < len(lines):
        if lines[i].comment is None:
            i += 1
            continue
        j = i
        while j < len(lines) and lines[j].comment is not None:
            j += 1
        column = max(len(INDENT) * ln.indent + len(ln.text) for ln in lines[i:j]) + 2
        for ln in lines[i:j]:
            pad = column - len(INDENT) * ln.indent - len(ln.text)
            ln.text = f"{ln.text}{' ' * pad}{ln.comment}"
        i = j
    text = "\n".join((INDENT * ln.indent + ln.text).rstrip() if ln.text else "" for ln in lines)
    return text + "\n" if text else ""
