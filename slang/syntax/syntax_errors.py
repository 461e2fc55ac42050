"""Syntax errors in words.

Lark reports the terminals it expected; a person wants to hear "expected a target such as
`>= 99.9%`". Known situations are recognised by example (`UnexpectedInput.match_examples`, as
lark recommends): each message below lists small broken programs that end in the same parser
state. Anything else falls back to a sentence built from the expected terminals.
"""

from __future__ import annotations

from functools import cache

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from slang.diagnostics import Diagnostic, error
from slang.syntax.span import Span

_DECLS = "`import`, `catalogue`, `calendar`, `events`, `intervals`, `credits` or `agreement`"

EXAMPLES: dict[str, list[str]] = {
    f"expected a declaration: {_DECLS}": [
        "foo",
        "service x {}",
        "objective o {}",
        "agreement a {} }",
    ],
    "expected a target such as `>= 99.9%`": [
        "agreement a { objective o { target 99.9% } }",
        "agreement a { objective o { target } }",
        "agreement a { objective o { target x } }",
    ],
    "expected a value after the comparison, such as `99.9%` or `300ms`": [
        "agreement a { objective o { target >= } }",
        "agreement a { objective o { target >= x } }",
    ],
    "expected an indicator such as `ratio(requests where status < 500)`": [
        "agreement a { objective o { indicator } }",
        "agreement a { objective o { indicator target } }",
    ],
    "expected an objective attribute (`indicator`, `target`, `hours`, `description`) or `}`": [
        "agreement a { objective o { foo } }",
        "agreement a { objective o { service } }",
    ],
    "expected an agreement attribute (`service`, `customer`, `period`, `objective`, `credit`, "
    "...) or `}`": [
        "agreement a { foo }",
        "agreement a { target }",
    ],
    "expected a date such as `2026-01-01`": [
        "agreement a { effective 2026 }",
        "agreement a { effective }",
        "agreement a { reviewed }",
        "agreement a { effective x }",
    ],
    "expected a holiday: a date such as `2026-01-01` or a region code such as `\"GB-ENG\"`": [
        "calendar c { holidays }",
        "calendar c { holidays x }",
        "calendar c { holidays 2026-01-01, }",
    ],
    "expected `..` between the first and last date": [
        "agreement a { effective 2026-01-01 2026-12-31 }",
    ],
    "expected an amount with its currency, such as `12000.00 GBP`": [
        "agreement a { fee 12000 }",
        "agreement a { fee }",
        'agreement a { fee "12" }',
    ],
    "expected a percentage such as `50%`": [
        "agreement a { credit_cap 0.5 }",
        "agreement a { credit_cap }",
    ],
    "expected a credit tier such as `below 99.9% => 10%`, or `}`": [
        "agreement a { credit o { 99% => 1% } }",
        "agreement a { credit o { x } }",
        "credits c { 99% => 1% }",
    ],
    "expected `=>` and the credit, as in `below 99.9% => 10%`": [
        "credits c { below 99% 10% }",
        "agreement a { credit o { below 99% } }",
        "agreement a { credit o { below 99% 10% } }",
    ],
    "expected the credit as a percentage, as in `below 99.9% => 10%`": [
        "credits c { below 99% => 10 }",
        "credits c { below 99% => }",
    ],
    "expected a burn-rate alert such as `page 2% in 1h / 5m`, or `}`": [
        "agreement a { burn_rate { 2% in 1h / 5m } }",
        "agreement a { burn_rate { 1h } }",
    ],
    "expected the share of the error budget, as in `page 2% in 1h / 5m`": [
        "agreement a { burn_rate { page in 1h / 5m } }",
        "agreement a { burn_rate { page } }",
        "agreement a { burn_rate { page 2 in 1h / 5m } }",
    ],
    "expected `in`, the long window, `/` and the short window, as in `page 2% in 1h / 5m`": [
        "agreement a { burn_rate { page 2% 1h / 5m } }",
        "agreement a { burn_rate { page 2% in } }",
        "agreement a { burn_rate { page 2% in 1h } }",
        "agreement a { burn_rate { page 2% in 1h 5m } }",
        "agreement a { burn_rate { page 2% in 1h / } }",
        "agreement a { burn_rate { page 2% in 1 / 5m } }",
    ],
    "expected a name": [
        "agreement { }",
        "agreement 1 { }",
        "calendar { }",
        "catalogue { service { } }",
        "agreement a { objective { } }",
    ],
    "expected `{` to open the block": [
        "agreement a service x }",
        "calendar c timezone",
        "catalogue { service s title }",
    ],
    "expected `}` to close the block": [
        "agreement a {",
        "agreement a { objective o {",
        "calendar c {",
    ],
    "expected a weekday or weekday range such as `mon-fri` or `sat,sun`": [
        "calendar c { hours 09:00-17:00 }",
        "calendar c { hours }",
        "agreement a { exclude weekly 02:00-04:00 }",
    ],
    "expected a time range such as `09:00-17:30`": [
        "calendar c { hours mon-fri }",
        "calendar c { hours mon-fri 09:00 }",
        "agreement a { exclude weekly sun }",
        "agreement a { exclude weekly sun 02:00 }",
    ],
    "expected a period: `hourly`, `daily`, `weekly`, `monthly`, `quarterly`, `yearly` or "
    "`rolling 28d`": [
        "agreement a { period }",
        "agreement a { period 1 }",
    ],
    "expected the length of the rolling window, such as `rolling 28d`": [
        "agreement a { period rolling }",
        "agreement a { period rolling 28 }",
    ],
    "expected `as NAME` after the import path": [
        'import "std/calendars"',
        'import "std/calendars" cal',
    ],
    "expected the module path as a string, such as `\"std/calendars\"`": [
        "import std",
        "import",
    ],
    "expected an expression": [
        "agreement a { objective o { indicator ratio(requests where) } }",
        "agreement a { objective o { indicator ratio(requests where a <) } }",
        "agreement a { objective o { indicator ratio(requests where a and) } }",
    ],
    "expected `)` or `,`": [
        "agreement a { objective o { indicator ratio(requests where a < 1 } }",
    ],
    "expected the table name as a string, as in `events requests from \"requests\"`": [
        "events e",
        "events e from",
        "intervals i from x",
        "events e {",
    ],
    "expected a source attribute (`time`, `key`, `start`, `end`, `units`, `description`) or `}`": [
        'events e from "e" { foo }',
        'events e from "e" { status }',
    ],
    "expected a service attribute (`title`, `owner`, `tier`, `depends_on`, `key`, "
    "`description`, `internal`) or `}`": [
        "catalogue { service s { foo } }",
    ],
    "expected a calendar attribute (`timezone`, `hours`, `holidays`, `description`) or `}`": [
        "calendar c { foo }",
    ],
    "expected an exclusion: a window `A .. B`, `weekly DAYS HH:MM-HH:MM` or an intervals source": [
        "agreement a { exclude }",
        "agreement a { exclude 5 }",
    ],
}

OPERATOR_HINTS = {
    "&": "write `and` to combine conditions",
    "|": "write `or` to combine conditions",
    "!": "write `not` to negate a condition, or `!=` for not equal",
    "=": "write `==` to compare",
    "'": 'strings are written in double quotes: `"text"`',
}

TERMINAL_WORDS: dict[str, str] = {
    "NAME": "a name",
    "QUOTED_NAME": "a name",
    "STRING": 'a string in double quotes',
    "NUMBER": "a number",
    "PERCENT": "a percentage such as `99.9%`",
    "DURATION": "a duration such as `300ms`",
    "BAD_DURATION": "a duration",
    "DATE": "a date such as `2026-01-01`",
    "TIMESTAMP": "a timestamp such as `2026-03-29T01:00:00Z`",
    "TIME": "a time of day such as `09:00`",
    "MONEY": "an amount such as `12000.00 GBP`",
    "WEEKDAY": "a weekday such as `mon`",
    "TIER_DIRECTION": "`below` or `above`",
    "PROM_ROLE": "`total`, `good` or `bad`",
    "CMP": "a comparison such as `>=`",
    "$END": "the end of the file",
}


@cache
def _keyword_patterns() -> dict[str, str]:
    from slang.syntax.parser import lark_parser

    words: dict[str, str] = {}
    for term in lark_parser().terminals:
        if term.pattern.type == "str":
            words[term.name] = f"`{term.pattern.value}`"
    return words


def _describe_terminal(name: str) -> str:
    return TERMINAL_WORDS.get(name) or _keyword_patterns().get(name) or name


def _expected_sentence(expected: set[str]) -> str:
    words = sorted({_describe_terminal(t) for t in expected if t != "COMMENT"})
    if not words:
        return ""
    if len(words) > 8:
        words = [*words[:8], "..."]
    if len(words) == 1:
        return f"expected {words[0]}"
    return "expected " + ", ".join(words[:-1]) + " or " + words[-1]


def _found(exc: UnexpectedInput, text: str) -> str:
    if isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        return "the end of the file"
    if isinstance(exc, UnexpectedToken):
        return f"`{exc.token}`"
    if isinstance(exc, UnexpectedCharacters):
        ch = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        if ch == '"':
            return "an unterminated string"
        return f"`{ch}`"
    return "this"


def _span_of(exc: UnexpectedInput, text: str, path: str) -> Span:
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        t = exc.token
        return Span(path, t.line, t.column, t.end_line or t.line, t.end_column or t.column + 1)
    line = getattr(exc, "line", None)
    col = getattr(exc, "column", None)
    if not line or line < 1:
        lines = text.splitlines() or [""]
        return Span.point(path, len(lines), len(lines[-1]) + 1)
    return Span.point(path, line, col)


def _state_key(exc: UnexpectedInput) -> tuple[object, frozenset[str]]:
    """The parser state an error happened in, independent of how deeply the declaration is
    nested or how many attributes came before it (lark's own `match_examples` compares the
    whole stack, so an example only matched when its broken attribute came first)."""
    state = getattr(exc, "state", None)
    position = getattr(state, "position", state)
    accepts = getattr(exc, "accepts", None) or getattr(exc, "allowed", None) or ()
    return position, frozenset(accepts)


@cache
def _example_index() -> dict[tuple[object, frozenset[str]], str]:
    from slang.syntax.parser import lark_parser

    index: dict[tuple[object, frozenset[str]], str] = {}
    for label, examples in EXAMPLES.items():
        for text in examples:
            try:
                lark_parser().parse(text)
            except UnexpectedInput as exc:
                index.setdefault(_state_key(exc), label)
    return index


def describe_unexpected(exc: UnexpectedInput, text: str, path: str) -> Diagnostic:
    """A coded diagnostic for a lark error: SLG0101 for tokens, SLG0104 for bad characters."""
    span = _span_of(exc, text, path)
    found = _found(exc, text)
    if isinstance(exc, UnexpectedCharacters):
        if found == "an unterminated string":
            return error("SLG0104", "unterminated string", span,
                         'close the string with `"` on the same line (write `\\n` for a newline)')
        ch = found.strip("`")
        if ch in OPERATOR_HINTS:
            return error("SLG0104", f"unexpected character {found}", span, OPERATOR_HINTS[ch])
        label = _match(exc)
        hint = label if label else _expected_sentence(set(exc.allowed or ()) - {"NAME"})
        return error("SLG0104", f"unexpected character {found}", span, hint or None)
    label = _match(exc)
    expected = getattr(exc, "accepts", None) or getattr(exc, "expected", None) or set()
    hint = None
    token = getattr(exc, "token", None)
    if token is not None and token.type == "BAD_DURATION":
        import re

        from slang.semantics.values import bad_duration_hint

        hint = bad_duration_hint(re.sub(r"^[\d.]+\s*", "", str(token)))
    if label:
        return error("SLG0101", f"{label}, found {found}", span, hint)
    sentence = _expected_sentence(set(expected))
    msg = f"unexpected {found}" + (f"; {sentence}" if sentence else "")
    return error("SLG0101", msg, span, hint)


def _match(exc: UnexpectedInput) -> str | None:
    return _example_index().get(_state_key(exc))
