"""Hypothesis strategies that write slang source text.

They produce text, not ASTs, so that the lexer and the parser are exercised with everything a
person can type: every declaration with random attribute subsets and orders, nested expressions,
every lexical form of a literal, random whitespace and newlines between tokens, and comments on
their own lines or trailing code. Every generated program is valid: the tests that use them
assert that it parses without a syntax error, which keeps these strategies honest.

Programs are built as token lists and joined with random separators at the end, so a comment or
a line break can land between any two tokens. The strategy builders are cached: hypothesis
validates a strategy tree the first time it is drawn from, and building a fresh tree per example
costs more than the test itself.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from hypothesis import strategies as st

Tokens = list[str]

# Ordinary names, none of them a keyword anywhere in the grammar; some start with a duration
# unit or a weekday to tempt the lexer.
PLAIN_NAMES = (
    "checkout", "payments", "requests", "incidents", "ts", "latency_ms", "x", "y1", "_a",
    "m", "ms", "s", "h", "d", "w", "mon_x", "sunday", "gold", "agreed", "monthly", "method",
    "severity", "route", "Status2", "uk_business", "cal", "days", "months", "breach", "at_risk",
)
# Keywords of declarations are ordinary column names inside expressions.
COLUMN_KEYWORDS = (
    "status", "service", "time", "start", "end", "key", "title", "owner", "tier", "period",
    "fee", "target", "indicator", "hours", "exclude", "weekly", "rolling", "below", "above",
    "credit", "objective", "agreement", "from", "every", "on", "as", "units", "description",
    "prometheus", "total", "good", "bad", "labels", "burn_rate",
    "test", "as_of", "data", "columns", "row", "expect", "measured", "within",
)
QUOTED_NAME_CHARS = st.characters(
    codec="utf-8", exclude_characters="`\n\r", exclude_categories=("Cs", "Cc")
)
STRING_CHARS = st.characters(
    codec="utf-8", exclude_characters="\r", exclude_categories=("Cs",)
).filter(lambda c: c == "\n" or c.isprintable())
COMMENT_CHARS = st.characters(
    codec="utf-8", exclude_characters="\n\r", exclude_categories=("Cs", "Cc", "Zl", "Zp")
)
UNITS = ("ms", "s", "m", "h", "d", "w")
BAD_UNITS = ("mo", "min", "y", "yr", "sec", "hrs", "months", "q")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# ------------------------------------------------------------------------------ names


@cache
def quoted_names() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["`http.status_code`", "`a b`", "`and`", "`where`", "`null`", "`1x`",
                         "`#not a comment`"]),
        st.sampled_from(COLUMN_KEYWORDS).map(lambda k: f"`{k}`"),
        st.text(QUOTED_NAME_CHARS, min_size=1, max_size=8).map(lambda s: f"`{s}`"),
    )


@cache
def idents() -> st.SearchStrategy[str]:
    """A name that is safe in every position: plain and no keyword, or in backticks."""
    return st.one_of(st.sampled_from(PLAIN_NAMES), quoted_names())


@cache
def column_names() -> st.SearchStrategy[str]:
    return st.one_of(idents(), st.sampled_from(COLUMN_KEYWORDS))


@cache
def qualnames(parts: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Tokens]:
    """`a`, `a.b`, `a.b.c`; any part after a dot may be a keyword."""
    first = idents() if parts is None else parts
    return st.tuples(first, st.lists(column_names(), max_size=2)).map(
        lambda t: [t[0], *(tok for p in t[1] for tok in (".", p))]
    )


# ---------------------------------------------------------------------------- literals


@cache
def numbers() -> st.SearchStrategy[str]:
    ints = st.integers(0, 10**6).map(str)
    decimals = st.tuples(st.integers(0, 99999), st.text("0123456789", min_size=1, max_size=3))
    return st.one_of(ints, decimals.map(lambda t: f"{t[0]}.{t[1]}"), st.just("007"))


@cache
def percents() -> st.SearchStrategy[str]:
    return numbers().map(lambda n: f"{n}%")


@cache
def durations() -> st.SearchStrategy[str]:
    return st.tuples(numbers(), st.sampled_from(["", "", " ", "\t"]), st.sampled_from(UNITS)).map(
        "".join
    )


@cache
def bad_durations() -> st.SearchStrategy[str]:
    return st.tuples(st.integers(0, 99).map(str), st.sampled_from(BAD_UNITS)).map("".join)


@cache
def dates() -> st.SearchStrategy[str]:
    import datetime as dt

    return st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31)).map(lambda d: d.isoformat())


@cache
def region_codes() -> st.SearchStrategy[str]:
    """`holidays "GB-ENG"`: any string parses; a few real codes keep the examples readable."""
    return st.sampled_from(['"GB-ENG"', '"US"', '"DE-BY"']) | strings()


@cache
def times_of_day(end: bool = False) -> st.SearchStrategy[str]:
    hm = st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda t: f"{t[0]:02}:{t[1]:02}")
    return st.one_of(hm, st.just("24:00")) if end else hm


@cache
def timestamps() -> st.SearchStrategy[str]:
    seconds = st.one_of(
        st.just(""),
        st.integers(0, 59).map(lambda s: f":{s:02}"),
        st.tuples(st.integers(0, 59), st.integers(0, 999999)).map(lambda t: f":{t[0]:02}.{t[1]}"),
    )
    offset = st.one_of(
        st.just("Z"),
        st.tuples(st.sampled_from("+-"), st.integers(0, 14), st.sampled_from([0, 30, 45])).map(
            lambda t: f"{t[0]}{t[1]:02}:{t[2]:02}"
        ),
    )
    return st.tuples(dates(), times_of_day(), seconds, offset).map(
        lambda t: f"{t[0]}T{t[1]}{t[2]}{t[3]}"
    )


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@cache
def strings() -> st.SearchStrategy[str]:
    samples = st.sampled_from(["", "Retail BU", 'say "hi"', "back\\slash", "two\nlines",
                               "# not a comment", "`tick`", "ünïcødé ✓"])
    return st.one_of(samples, st.text(STRING_CHARS, max_size=12)).map(
        lambda s: f'"{escape(s)}"'
    )


@cache
def money() -> st.SearchStrategy[str]:
    return st.tuples(
        numbers(),
        st.sampled_from([" ", " ", "", "  ", "\t"]),
        st.sampled_from(["GBP", "EUR", "USD"]),
    ).map("".join)


@cache
def literals() -> st.SearchStrategy[str]:
    """The literals an expression can hold."""
    return st.one_of(
        numbers(), percents(), durations(), bad_durations(), dates(), timestamps(), strings(),
        st.sampled_from(["null", "true", "false"]),
    )


# --------------------------------------------------------------------------- expressions

# Binding strength, lowest first (see the grammar): where, or, and, not, comparison, + -, * /,
# unary minus, atom.
WHERE, OR, AND, NOT, CMP, ADD, MUL, NEG, ATOM = range(9)
Expr = tuple[Tokens, int]


def _need(e: Expr, level: int) -> Tokens:
    tokens, prec = e
    return ["(", *tokens, ")"] if prec < level else tokens


def _binary(op: str, prec: int, left_level: int, right_level: int) -> Callable[..., Expr]:
    def build(pair: tuple[Expr, Expr]) -> Expr:
        return [*_need(pair[0], left_level), op, *_need(pair[1], right_level)], prec

    return build


def _comma_joined(items: list[Tokens], trailing: bool = False) -> Tokens:
    out: Tokens = []
    for i, item in enumerate(items):
        if i:
            out.append(",")
        out.extend(item)
    if trailing and items:
        out.append(",")
    return out


@cache
def _atoms() -> st.SearchStrategy[Expr]:
    return st.one_of(
        literals().map(lambda lit: ([lit], ATOM)),
        qualnames(column_names()).map(lambda q: (q, ATOM)),
    )


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    pair = st.tuples(children, children)
    arg = st.one_of(
        children.map(lambda e: e[0]),
        st.tuples(column_names(), children).map(lambda t: [t[0], ":", *t[1][0]]),
    )
    calls = st.tuples(qualnames(), st.lists(arg, max_size=3)).map(
        lambda t: ([*t[0], "(", *_comma_joined(t[1]), ")"], ATOM)
    )
    in_list = st.tuples(children, st.booleans(), st.lists(children, max_size=3), st.booleans()).map(
        lambda t: (
            [*_need(t[0], ADD), *(["not"] if t[1] else []), "in", "[",
             *_comma_joined([e[0] for e in t[2]], trailing=t[3]), "]"],
            CMP,
        )
    )
    in_range = st.tuples(children, st.booleans(), literals(), literals()).map(
        lambda t: ([*_need(t[0], ADD), *(["not"] if t[1] else []), "in", t[2], "..", t[3]], CMP)
    )
    is_null = st.tuples(children, st.booleans()).map(
        lambda t: ([*_need(t[0], ADD), "is", *(["not"] if t[1] else []), "null"], CMP)
    )
    return st.one_of(
        pair.map(_binary("where", WHERE, OR, OR)),
        pair.map(_binary("or", OR, OR, AND)),
        pair.map(_binary("and", AND, AND, NOT)),
        children.map(lambda e: (["not", *_need(e, NOT)], NOT)),
        st.tuples(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), children, children).map(
            lambda t: _binary(t[0], CMP, ADD, ADD)((t[1], t[2]))
        ),
        in_list,
        in_range,
        is_null,
        st.tuples(st.sampled_from("+-"), pair).map(lambda t: _binary(t[0], ADD, ADD, MUL)(t[1])),
        st.tuples(st.sampled_from("*/"), pair).map(lambda t: _binary(t[0], MUL, MUL, NEG)(t[1])),
        children.map(lambda e: (["-", *_need(e, NEG)], NEG)),
        children.map(lambda e: (["(", *e[0], ")"], ATOM)),  # parentheses nobody needed
        calls,
    )


@cache
def expressions(max_leaves: int = 10) -> st.SearchStrategy[Tokens]:
    return st.recursive(_atoms(), _extend, max_leaves=max_leaves).map(lambda e: e[0])


@cache
def conditions() -> st.SearchStrategy[Tokens]:
    """An expression that can follow `where` (an `or` expression or tighter)."""
    return st.recursive(_atoms(), _extend, max_leaves=6).map(lambda e: _need(e, OR))


@cache
def indicators() -> st.SearchStrategy[Tokens]:
    """The normative indicator forms, and random expressions."""
    src = st.sampled_from([["requests"], ["req"], ["cal", ".", "x"]])
    col = src.map(lambda s: [*s, ".", "latency_ms"])
    where = st.tuples(src, conditions()).map(lambda t: [*t[0], "where", *t[1]])
    col_where = st.tuples(col, conditions()).map(lambda t: [*t[0], "where", *t[1]])
    forms = st.one_of(
        where.map(lambda w: ["ratio", "(", *w, ")"]),
        st.tuples(where, where).map(lambda t: ["ratio", "(", *t[0], ",", *t[1], ")"]),
        st.tuples(col, numbers()).map(
            lambda t: ["percentile", "(", *t[0], ",", t[1], ",", "method", ":", "linear", ")"]
        ),
        st.tuples(st.sampled_from(["p50", "p90", "p95", "p99"]), col_where).map(
            lambda t: [t[0], "(", *t[1], ")"]
        ),
        st.tuples(st.sampled_from(["mean", "max", "min", "sum"]), col).map(
            lambda t: [t[0], "(", *t[1], ")"]
        ),
        src.map(lambda s: ["count", "(", *s, ")"]),
        st.tuples(where, durations()).map(
            lambda t: ["uptime", "(", *t[0], ",", "granularity", ":", t[1], ")"]
        ),
        st.tuples(durations(), col, st.sampled_from(["bad", "skip", "good"])).map(
            lambda t: ["timeslices", "(", t[0], ",", "p95", "(", *t[1], ")", "<=", "300ms", ",",
                       "empty", ":", t[2], ")"]
        ),
        st.tuples(durations(), where).map(
            lambda t: ["slice_mean", "(", t[0], ",", "ratio", "(", *t[1], ")", ",", "empty", ":",
                       "skip", ")"]
        ),
        st.just(["business_duration", "(", "opened_at", ",", "resolved_at", ",", "cal", ".",
                 "uk_business", ")", "<=", "8h"]),
        st.just(["resolved_at", "-", "opened_at", "<=", "4 h"]),
    )
    return st.one_of(forms, expressions())


# -------------------------------------------------------------------------- declarations


def _attr(key: str, *values: st.SearchStrategy[Tokens]) -> st.SearchStrategy[Tokens]:
    return st.tuples(*values).map(lambda vs: [key, *(t for v in vs for t in v)])


def _one(s: st.SearchStrategy[str]) -> st.SearchStrategy[Tokens]:
    return s.map(lambda x: [x])


def _comma_list(s: st.SearchStrategy[str], min_size: int = 1) -> st.SearchStrategy[Tokens]:
    return st.lists(s, min_size=min_size, max_size=4).map(
        lambda xs: _comma_joined([[x] for x in xs])
    )


@cache
def day_sets() -> st.SearchStrategy[Tokens]:
    span = st.tuples(st.sampled_from(WEEKDAYS), st.none() | st.sampled_from(WEEKDAYS)).map(
        lambda t: [t[0]] if t[1] is None else [t[0], "-", t[1]]
    )
    return st.lists(span, min_size=1, max_size=3).map(_comma_joined)


@cache
def time_ranges() -> st.SearchStrategy[Tokens]:
    return st.tuples(times_of_day(), times_of_day(end=True)).map(lambda t: [t[0], "-", t[1]])


def _block(head: Tokens, body: Tokens) -> Tokens:
    return [*head, "{", *body, "}"]


def _body(attrs: st.SearchStrategy[Tokens], max_size: int = 5) -> st.SearchStrategy[Tokens]:
    return st.lists(attrs, max_size=max_size).map(lambda xs: [t for x in xs for t in x])


@cache
def imports() -> st.SearchStrategy[Tokens]:
    return st.tuples(strings(), idents()).map(lambda t: ["import", t[0], "as", t[1]])


@cache
def services() -> st.SearchStrategy[Tokens]:
    attr = st.one_of(
        _attr("title", _one(strings())),
        _attr("owner", _one(strings())),
        _attr("tier", _one(idents())),
        _attr("depends_on", _comma_list(idents())),
        _attr("key", _one(strings())),
        _attr("description", _one(strings())),
        st.just(["internal"]),
    )
    return st.tuples(idents(), _body(attr)).map(lambda t: _block(["service", t[0]], t[1]))


@cache
def catalogues() -> st.SearchStrategy[Tokens]:
    return st.tuples(st.none() | strings(), st.lists(services(), max_size=3)).map(
        lambda t: _block(["catalogue", *([t[0]] if t[0] else [])], [x for s in t[1] for x in s])
    )


@cache
def calendars() -> st.SearchStrategy[Tokens]:
    attr = st.one_of(
        _attr("timezone", _one(strings())),
        _attr("hours", day_sets(), time_ranges()),
        _attr("holidays", _comma_list(dates() | region_codes())),
        _attr("description", _one(strings())),
    )
    return st.tuples(idents(), _body(attr)).map(lambda t: _block(["calendar", t[0]], t[1]))


@cache
def sources() -> st.SearchStrategy[Tokens]:
    entry = st.tuples(idents(), idents()).map(lambda t: [t[0], ":", t[1]])
    units = st.tuples(st.lists(entry, max_size=3), st.booleans()).map(
        lambda t: ["units", "{", *_comma_joined(t[0], trailing=t[1]), "}"]
    )
    form = st.none() | st.sampled_from(["utc", "epoch_ms", "epoch_s"]) | idents()
    attr = st.one_of(
        st.tuples(idents(), form).map(lambda t: ["time", t[0], *([t[1]] if t[1] else [])]),
        _attr("key", _one(idents())),
        _attr("start", _one(idents())),
        _attr("end", _one(idents())),
        units,
        _attr("description", _one(strings())),
        prometheus_blocks(),
    )
    body = st.none() | _body(attr)
    return st.tuples(st.sampled_from(["events", "intervals"]), idents(), strings(), body).map(
        lambda t: [t[0], t[1], "from", t[2], *([] if t[3] is None else ["{", *t[3], "}"])]
    )


@cache
def prometheus_blocks() -> st.SearchStrategy[Tokens]:
    """`prometheus { total "..." good NAME "..." labels { k: "v" } }` in any order."""
    query = st.tuples(st.sampled_from(["total", "good", "bad"]), st.none() | idents(),
                      strings()).map(lambda t: [t[0], *([t[1]] if t[1] else []), t[2]])
    label = st.tuples(idents(), strings()).map(lambda t: [t[0], ":", t[1]])
    labels = st.tuples(st.lists(label, max_size=3), st.booleans()).map(
        lambda t: ["labels", "{", *_comma_joined(t[0], trailing=t[1]), "}"]
    )
    item = st.one_of(query, labels)
    return _body(item).map(lambda b: ["prometheus", "{", *b, "}"])


@cache
def tiers() -> st.SearchStrategy[Tokens]:
    threshold = st.one_of(percents(), durations(), numbers())
    return st.tuples(st.sampled_from(["below", "above"]), threshold, percents()).map(
        lambda t: [t[0], t[1], "=>", t[2]]
    )


@cache
def credit_schedules() -> st.SearchStrategy[Tokens]:
    return st.tuples(idents(), st.lists(tiers(), max_size=3)).map(
        lambda t: _block(["credits", t[0]], [x for tier in t[1] for x in tier])
    )


@cache
def exclusions() -> st.SearchStrategy[Tokens]:
    window = st.one_of(
        st.tuples(timestamps(), timestamps()).map(lambda t: [t[0], "..", t[1]]),
        st.tuples(dates(), dates()).map(lambda t: [t[0], "..", t[1]]),
        st.tuples(day_sets(), time_ranges()).map(lambda t: ["weekly", *t[0], *t[1]]),
        st.tuples(qualnames(), st.none() | conditions()).map(
            lambda t: [*t[0], *(["where", *t[1]] if t[1] else [])]
        ),
    )
    return st.tuples(window, st.none() | strings(), st.booleans()).map(
        lambda t: ["exclude", *t[0], *([t[1]] if t[1] else []),
                   *(["as", "available"] if t[2] else [])]
    )


@cache
def objectives() -> st.SearchStrategy[Tokens]:
    target = st.tuples(
        st.sampled_from([">=", "<=", ">", "<", "==", "!="]),
        st.one_of(percents(), durations(), numbers()),
    ).map(list)
    attr = st.one_of(
        _attr("indicator", indicators()),
        _attr("target", target),
        _attr("hours", qualnames()),
        _attr("description", _one(strings())),
    )
    return st.tuples(idents(), _body(attr, max_size=4)).map(
        lambda t: _block(["objective", t[0]], t[1])
    )


@cache
def credits() -> st.SearchStrategy[Tokens]:
    return st.one_of(
        st.tuples(idents(), st.lists(tiers(), max_size=3)).map(
            lambda t: ["credit", t[0], "{", *(x for tier in t[1] for x in tier), "}"]
        ),
        st.tuples(idents(), qualnames()).map(lambda t: ["credit", t[0], *t[1]]),
    )


@cache
def burn_rates() -> st.SearchStrategy[Tokens]:
    """`burn_rate { page 2% in 1h / 5m ... }`, any severity name and any length, good or bad."""
    length = st.one_of(durations(), durations(), bad_durations())
    window = st.tuples(
        st.one_of(st.sampled_from(["page", "ticket"]), idents()), percents(), length, length,
    ).map(lambda t: [t[0], t[1], "in", t[2], "/", t[3]])
    return st.lists(window, max_size=3).map(
        lambda ws: ["burn_rate", "{", *(tok for w in ws for tok in w), "}"]
    )


@cache
def agreements() -> st.SearchStrategy[Tokens]:
    period = st.one_of(
        _one(st.sampled_from(["monthly", "daily", "`rolling`", "quarterly"])),
        st.one_of(durations(), bad_durations()).map(lambda d: ["rolling", d]),
    )
    notify = st.tuples(_comma_list(strings()), st.none() | _comma_list(idents())).map(
        lambda t: [*t[0], *(["on", *t[1]] if t[1] else [])]
    )
    effective = st.tuples(dates(), st.none() | dates()).map(
        lambda t: [t[0], "..", *([t[1]] if t[1] else [])]
    )
    item = st.one_of(
        _attr("service", _one(idents())),
        _attr("customer", _one(strings())),
        _attr("provider", _one(strings())),
        _attr("status", _one(idents())),
        _attr("effective", effective),
        _attr("timezone", _one(strings())),
        _attr("period", period),
        _attr("fee", _one(money())),
        _attr("credit_cap", _one(percents())),
        _attr("review", _one(st.just("every")), _one(numbers()), _one(idents())),
        _attr("reviewed", _one(dates())),
        _attr("notify", notify),
        _attr("hours", qualnames()),
        _attr("description", _one(strings())),
        exclusions(),
        objectives(),
        credits(),
        burn_rates(),
    )
    return st.tuples(idents(), _body(item, max_size=7)).map(
        lambda t: _block(["agreement", t[0]], t[1])
    )


@cache
def period_labels() -> st.SearchStrategy[str]:
    """Every form a report labels a period with, as an `expect` names it."""
    year = st.integers(1000, 9999)
    two = st.integers(1, 12).map(lambda n: f"{n:02}")
    offset = st.one_of(st.just("Z"), st.tuples(st.sampled_from("+-"), st.integers(0, 14)).map(
        lambda t: f"{t[0]}{t[1]:02}:00"))
    return st.one_of(
        year.map(str),
        st.tuples(year, st.integers(1, 4)).map(lambda t: f"{t[0]}-Q{t[1]}"),
        st.tuples(year, st.integers(1, 53)).map(lambda t: f"{t[0]}-W{t[1]:02}"),
        st.tuples(year, two).map(lambda t: f"{t[0]}-{t[1]}"),
        dates(),
        st.tuples(dates(), st.integers(0, 23), offset).map(lambda t: f"{t[0]}T{t[1]:02}{t[2]}"),
        st.tuples(st.integers(1, 400), st.sampled_from("smhd")).map(
            lambda t: f"rolling-{t[0]}{t[1]}"),
    )


@cache
def policy_test_data() -> st.SearchStrategy[Tokens]:
    cell = st.one_of(literals().map(lambda x: [x]), numbers().map(lambda n: ["-", n]))
    row = st.lists(cell, min_size=1, max_size=4).map(lambda cs: ["row", *_comma_joined(cs)])
    header = st.none() | st.lists(column_names(), min_size=1, max_size=4).map(
        lambda cs: ["columns", *_comma_joined([[c] for c in cs])])
    table = st.tuples(header, st.lists(row, max_size=3)).map(
        lambda t: ["{", *(t[0] or []), *(x for r in t[1] for x in r), "}"])
    body = st.one_of(table, strings().map(lambda p: ["from", p]))
    return st.tuples(qualnames(), body).map(lambda t: ["data", *t[0], *t[1]])


@cache
def expectations() -> st.SearchStrategy[Tokens]:
    measured = st.tuples(literals(), st.none() | literals()).map(
        lambda t: ["measured", t[0], *(["within", t[1]] if t[1] else [])])
    attr = st.one_of(
        _attr("status", _one(idents())),
        measured,
        _attr("credit", _one(st.one_of(percents(), money()))),
    )
    return st.tuples(qualnames(), period_labels(), _body(attr, max_size=3)).map(
        lambda t: _block(["expect", *t[0], t[1]], t[2]))


@cache
def policy_tests() -> st.SearchStrategy[Tokens]:
    item = st.one_of(
        _attr("as_of", _one(timestamps())),
        _attr("description", _one(strings())),
        policy_test_data(),
        expectations(),
    )
    return st.tuples(idents(), _body(item, max_size=5)).map(
        lambda t: _block(["test", t[0]], t[1]))


@cache
def declarations() -> st.SearchStrategy[Tokens]:
    return st.one_of(
        imports(), catalogues(), calendars(), sources(), credit_schedules(), agreements(),
        policy_tests(),
    )


# ---------------------------------------------------------------------------- layout


@cache
def comments() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["#", "# a note", "#no space", "## double", "# `quoted` \"x\" { }"]),
        st.text(COMMENT_CHARS, max_size=20).map(lambda s: "#" + s),
    )


@cache
def separators() -> st.SearchStrategy[str]:
    """What goes between two tokens: never nothing, sometimes a comment."""
    space = st.sampled_from([" ", " ", " ", "  ", "\n", "\n  ", "\t", "\n\n", " \n\n\n  "])
    commented = st.tuples(
        st.sampled_from(["", " ", "\n", "\n\n  "]),
        comments(),
        st.sampled_from(["\n", "\n\n", "\n "]),
    ).map("".join)
    return st.one_of(space, space, space, commented)


@st.composite
def layouts(draw: st.DrawFn, tokens: Tokens) -> str:
    seps = draw(st.lists(separators(), min_size=len(tokens), max_size=len(tokens)))
    lead = draw(st.sampled_from(["", "", "\n", "  "]) | separators())
    out = [lead]
    for tok, sep in zip(tokens, seps, strict=True):
        out.extend((tok, sep))
    return "".join(out)


@st.composite
def programs(draw: st.DrawFn, max_decls: int = 4) -> str:
    """A valid slang source text."""
    decls = draw(st.lists(declarations(), max_size=max_decls))
    return draw(layouts([t for d in decls for t in d]))


@st.composite
def tokenised_programs(draw: st.DrawFn, max_decls: int = 3) -> Tokens:
    """The tokens of a valid program, for tests that mutate them before joining."""
    decls = draw(st.lists(declarations(), min_size=1, max_size=max_decls))
    return [t for d in decls for t in d]
