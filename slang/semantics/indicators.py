"""Indicator calls -> typed indicators (spec section 3).

Each indicator function has one resolver here. They turn `ratio(requests where status < 500)`
into a `RatioIndicator` with its source resolved, conditions combined and type-checked, named
arguments validated, so the planner never sees a malformed indicator.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from slang.diagnostics import Diagnostic, error
from slang.semantics import model as m
from slang.semantics.expressions import ColumnContext, check_condition
from slang.semantics.values import did_you_mean
from slang.syntax import ast

PERCENTILE_SHORTHANDS = {
    "p50": 50, "p75": 75, "p90": 90, "p95": 95, "p99": 99, "p999": Decimal("99.9"),
}
AGGREGATES = ("mean", "max", "min", "sum")
INDICATOR_FUNCTIONS = (
    "ratio", "percentile", *PERCENTILE_SHORTHANDS, *AGGREGATES, "count", "uptime",
    "timeslices", "slice_mean",
)
SliceInner = m.RatioIndicator | m.ValueIndicator

SourceLookup = Callable[[ast.Name], m.Source | None]
CalendarLookup = Callable[[ast.Expr], object | None]


def conjoin(a: ast.Expr | None, b: ast.Expr | None) -> ast.Expr | None:
    if a is None:
        return b
    if b is None:
        return a
    return ast.BinOp("and", a, b, span=a.span.to(b.span))


class IndicatorResolver:
    def __init__(
        self,
        lookup_source: SourceLookup,
        lookup_calendar: CalendarLookup,
        import_aliases: set[str],
        diags: list[Diagnostic],
    ):
        self.lookup_source = lookup_source
        self.lookup_calendar = lookup_calendar
        self.aliases = import_aliases
        self.diags = diags

    def err(self, code: str, message: str, node: ast.Node, hint: str | None = None) -> None:
        self.diags.append(error(code, message, node.span, hint))

    # ------------------------------------------------------------------------- entry point

    def resolve(self, expr: ast.Expr) -> m.Indicator | None:
        if not isinstance(expr, ast.Call) or len(expr.func.parts) != 1:
            self.err("SLG0413",
                     "an indicator is a call such as `ratio(requests where status < 500)`", expr,
                     "indicators: " + ", ".join(INDICATOR_FUNCTIONS))
            return None
        name = expr.func.parts[0]
        if name not in INDICATOR_FUNCTIONS:
            self.err("SLG0413", f"unknown indicator `{name}`", expr.func,
                     did_you_mean(name, INDICATOR_FUNCTIONS)
                     or "indicators: " + ", ".join(INDICATOR_FUNCTIONS))
            return None
        positional = [a for a in expr.args if not isinstance(a, ast.NamedArg)]
        named = {a.name.name: a for a in expr.args if isinstance(a, ast.NamedArg)}
        if any(isinstance(a, ast.NamedArg) for a in expr.args[: len(positional)]) and positional:
            first_named = next(a for a in expr.args if isinstance(a, ast.NamedArg))
            if expr.args.index(first_named) < max(expr.args.index(p) for p in positional):
                self.err("SLG0414", "named arguments come after the positional ones", first_named)
                return None
        if name == "ratio":
            return self._ratio(expr, positional, named)
        if name in ("percentile", *PERCENTILE_SHORTHANDS, *AGGREGATES, "count"):
            return self._value(name, expr, positional, named)
        if name == "uptime":
            return self._uptime(expr, positional, named)
        if name == "timeslices":
            return self._timeslices(expr, positional, named)
        return self._slice_mean(expr, positional, named)

    # ----------------------------------------------------------------------------- shapes

    def _arity(self, expr: ast.Call, positional: list, counts: tuple[int, ...], usage: str) -> bool:
        if len(positional) not in counts:
            self.err("SLG0414", f"`{expr.func.dotted}` takes {_counts(counts)} positional "
                     f"argument{'s' if max(counts) > 1 else ''}, found {len(positional)}",
                     expr, f"write `{usage}`")
            return False
        return True

    def _named(
        self, named: dict[str, ast.NamedArg], allowed: dict[str, tuple[str, ...]]
    ) -> dict[str, str] | None:
        """Named arguments whose values are words (`method: linear`, `empty: bad`)."""
        out: dict[str, str] = {}
        ok = True
        for key, arg in named.items():
            if key not in allowed:
                hint = did_you_mean(key, allowed) or (
                    "this indicator takes "
                    + (", ".join(f"`{k}:`" for k in allowed) or "no named arguments")
                )
                self.err("SLG0415", f"unknown argument `{key}:`", arg.name, hint)
                ok = False
                continue
            if not allowed[key]:
                continue  # a non-word value, checked by the caller
            value = arg.value
            word = value.parts[0] if isinstance(value, ast.Name) and len(value.parts) == 1 else None
            if word not in allowed[key]:
                self.err("SLG0415", f"`{key}:` must be one of {', '.join(allowed[key])}", arg.value)
                ok = False
                continue
            out[key] = word
        return out if ok else None

    def selection(
        self, expr: ast.Expr, want: str, column: bool
    ) -> tuple[m.Selection, str | None] | None:
        """`S`, `S where C`, `S.col`, `S.col where C` (want: events | intervals)."""
        conditions: list[ast.Expr] = []
        base = expr
        while isinstance(base, ast.Where):
            conditions.insert(0, base.condition)
            base = base.source
        if not isinstance(base, ast.Name):
            what = ("a column such as `requests.latency_ms`" if column
                    else "a source such as `requests`")
            self.err("SLG0310", f"expected {what}", base)
            return None
        parts = base.parts
        head = 2 if parts[0] in self.aliases and len(parts) > 1 else 1
        source_name = ast.Name(parts[:head], span=base.span)
        rest = parts[head:]
        if len(rest) > 1 or (rest and not column):
            hint = None if column else "this indicator counts rows: name the source, not a column"
            self.err("SLG0310", f"`{base.dotted}` is not a source" + (" column" if column else ""),
                     base, hint)
            return None
        if column and not rest:
            self.err("SLG0310",
                     f"name the column to aggregate, e.g. `{base.dotted}.latency_ms`", base)
            return None
        source = self.lookup_source(source_name)
        if source is None:
            return None
        if source.kind != want:
            article = {"events": "an events", "intervals": "an intervals"}
            self.err("SLG0421", f"`{source_name.dotted}` is {article[source.kind]} source; "
                     f"this needs {article[want]} source", source_name)
            return None
        named: dict[str, m.Calendar] = {}

        def calendar(ref: ast.Expr) -> object | None:
            cal = self.lookup_calendar(ref)
            if isinstance(cal, m.Calendar) and isinstance(ref, ast.Name):
                named[ref.dotted] = cal
            return cal

        ctx = ColumnContext(source, parts[head - 1], calendar)
        for cond in conditions:
            check_condition(cond, ctx, self.diags)
        condition = None
        for cond in conditions:
            condition = conjoin(condition, cond)
        selection = m.Selection(source, condition, tuple(sorted(named.items())))
        return selection, (rest[0] if rest else None)

    # --------------------------------------------------------------------------- indicators

    def _ratio(self, expr, positional, named) -> m.RatioIndicator | None:
        usage = "ratio(requests where status < 500)"
        if not self._arity(expr, positional, (1, 2), usage) or self._named(named, {}) is None:
            return None
        good = self.selection(positional[0], "events", column=False)
        if good is None:
            return None
        good_sel = good[0]
        if len(positional) == 1:
            if good_sel.condition is None:
                self.err("SLG0414", "`ratio` needs a condition for the good rows", positional[0],
                         f"write `{usage}`")
                return None
            return m.RatioIndicator(
                m.Selection(good_sel.source, None, good_sel.calendars), good_sel.condition
            )
        total = self.selection(positional[1], "events", column=False)
        if total is None:
            return None
        total_sel = total[0]
        if total_sel.source is not good_sel.source:
            self.err("SLG0422", "both arguments of `ratio` must read the same source",
                     positional[1], "good rows are a subset of the total rows of one source")
            return None
        if good_sel.condition is None:
            self.err("SLG0414", "`ratio` needs a condition for the good rows", positional[0])
            return None
        calendars = tuple(sorted(dict([*good_sel.calendars, *total_sel.calendars]).items()))
        return m.RatioIndicator(
            m.Selection(total_sel.source, total_sel.condition, calendars),
            conjoin(good_sel.condition, total_sel.condition),
        )

    def _value(self, name, expr, positional, named) -> m.ValueIndicator | None:
        if name == "count":
            if not self._arity(expr, positional, (1,), "count(requests where status >= 500)"):
                return None
            if self._named(named, {}) is None:
                return None
            sel = self.selection(positional[0], "events", column=False)
            return None if sel is None else m.ValueIndicator("count", sel[0], None, None)
        if name == "percentile":
            usage = "percentile(requests.latency_ms, 95)"
            if not self._arity(expr, positional, (2,), usage):
                return None
            q = self._quantile(positional[1])
        else:
            usage = f"{name}(requests.latency_ms)"
            if not self._arity(expr, positional, (1,), usage):
                return None
            q = Decimal(PERCENTILE_SHORTHANDS[name]) if name in PERCENTILE_SHORTHANDS else None
        is_percentile = name == "percentile" or name in PERCENTILE_SHORTHANDS
        words = self._named(named, {"method": ("nearest", "linear")} if is_percentile else {})
        if words is None:
            return None
        sel = self.selection(positional[0], "events", column=True)
        if sel is None or (is_percentile and q is None):
            return None
        selection, column = sel
        function = "percentile" if is_percentile else name
        return m.ValueIndicator(
            function, selection, column, selection.source.units.get(column or ""), q,
            words.get("method", "nearest"),  # type: ignore[arg-type]
        )

    def _quantile(self, e: ast.Expr) -> Decimal | None:
        if isinstance(e, ast.NumberLit) and Decimal(0) < e.value <= Decimal(100):
            return e.value
        self.err("SLG0302", "the percentile must be a number above 0 and at most 100", e,
                 "write `percentile(requests.latency_ms, 95)` for the 95th percentile")
        return None

    def _uptime(self, expr, positional, named) -> m.UptimeIndicator | None:
        usage = 'uptime(incidents where severity == "sev1", granularity: 1m)'
        if not self._arity(expr, positional, (1,), usage):
            return None
        if self._named(named, {"granularity": ()}) is None:
            return None
        granularity = None
        if "granularity" in named:
            granularity = self._whole_seconds(named["granularity"].value, "granularity")
            if granularity is None:
                return None
        sel = self.selection(positional[0], "intervals", column=False)
        return None if sel is None else m.UptimeIndicator(sel[0], granularity)

    def _whole_seconds(self, e: ast.Expr, what: str) -> int | None:
        if isinstance(e, ast.BadDurationLit):
            return None  # reported by the parser (SLG0303)
        if not isinstance(e, ast.DurationLit):
            self.err("SLG0301", f"the {what} must be a duration such as `1m`", e)
            return None
        seconds = e.seconds
        if seconds <= 0 or seconds != seconds.to_integral_value():
            self.err("SLG0302", f"the {what} must be a whole number of seconds above zero", e)
            return None
        return int(seconds)

    def _inner(self, e: ast.Expr) -> SliceInner | None:
        inner = self.resolve(e)
        if inner is None:
            return None
        if not isinstance(inner, m.RatioIndicator | m.ValueIndicator):
            self.err("SLG0414", f"`{inner.kind}` cannot be measured per slice", e,
                     "slices aggregate `ratio`, a percentile, `mean`, `max`, `min`, `sum` "
                     "or `count`")
            return None
        return inner

    def _timeslices(self, expr, positional, named) -> m.TimeslicesIndicator | None:
        usage = "timeslices(5m, p95(requests.latency_ms) <= 300ms)"
        if not self._arity(expr, positional, (2,), usage):
            return None
        words = self._named(named, {"empty": ("good", "bad", "skip")})
        size = self._whole_seconds(positional[0], "slice length")
        cond = positional[1]
        if not (isinstance(cond, ast.BinOp) and cond.op in ("<", "<=", ">", ">=", "==")):
            self.err("SLG0414", "the second argument of `timeslices` compares a per-slice value "
                     "with a threshold", cond, f"write `{usage}`")
            return None
        inner = self._inner(cond.left)
        if words is None or size is None or inner is None:
            return None
        threshold = threshold_value(cond.right, inner, self.diags)
        if threshold is None:
            return None
        return m.TimeslicesIndicator(size, inner, cond.op, threshold, words.get("empty", "good"))  # type: ignore[arg-type]

    def _slice_mean(self, expr, positional, named) -> m.SliceMeanIndicator | None:
        usage = "slice_mean(5m, ratio(requests where status < 500))"
        if not self._arity(expr, positional, (2,), usage):
            return None
        words = self._named(named, {"empty": ("good", "skip")})
        size = self._whole_seconds(positional[0], "slice length")
        inner = self._inner(positional[1])
        if words is None or size is None or inner is None:
            return None
        default = "good" if isinstance(inner, m.RatioIndicator) else "skip"
        empty = words.get("empty", default)
        if empty == "good" and not isinstance(inner, m.RatioIndicator):
            self.err("SLG0415", "only a ratio has a value for an empty slice (1.0); other "
                     "aggregates skip empty slices", named["empty"].value, "write `empty: skip`")
            return None
        return m.SliceMeanIndicator(size, inner, empty)  # type: ignore[arg-type]


def _counts(counts: tuple[int, ...]) -> str:
    return " or ".join(str(c) for c in counts)


def threshold_value(
    lit: ast.Expr, indicator: m.Indicator, diags: list[Diagnostic], what: str = "threshold"
) -> Decimal | None:
    """A target or tier value in the indicator's own units (exactly).

    Fractions for ratio-like indicators (`99.9%` -> 0.999); for a column with a declared unit,
    a duration in that unit (`300ms` on a column in ms -> 300, `0.3s` -> 300); plain numbers for
    columns without a unit and for `count`.
    """
    if isinstance(lit, ast.BadDurationLit):
        return None  # reported by the parser (SLG0303)
    unit_of = indicator.unit if isinstance(indicator, m.ValueIndicator) else None
    if m.is_fraction(indicator):
        if isinstance(lit, ast.PercentLit):
            value = lit.value
            if not Decimal(0) <= value <= Decimal(1):
                diags.append(error("SLG0302", f"{lit.text}% is not between 0% and 100%", lit.span))
                return None
            return value
        diags.append(error(
            "SLG0301", f"a {indicator.kind} is a fraction: its {what} must be a percentage",
            lit.span, "write a percentage such as `99.9%`",
        ))
        return None
    assert isinstance(indicator, m.ValueIndicator | m.SliceMeanIndicator)
    if isinstance(indicator, m.SliceMeanIndicator):
        return threshold_value(lit, indicator.inner, diags, what)
    if isinstance(lit, ast.DurationLit):
        if unit_of is None:
            column = indicator.column or "the value"
            diags.append(error(
                "SLG0301", f"`{column}` has no declared unit, so it cannot be compared with "
                f"a duration", lit.span,
                f"declare it in the source, e.g. `units {{ {column}: ms }}`, "
                "or write a plain number",
            ))
            return None
        from slang.semantics.values import to_unit

        return to_unit(lit.seconds, unit_of)
    if isinstance(lit, ast.NumberLit):
        if unit_of is not None:
            diags.append(error(
                "SLG0301", f"`{indicator.column}` is in {unit_of}: write the {what} with a unit",
                lit.span, f"write e.g. `{lit.text}{unit_of}`",
            ))
            return None
        return lit.value
    if isinstance(lit, ast.PercentLit) and indicator.function != "count" and unit_of is None:
        return lit.value
    kind = {"PercentLit": "percentage", "DurationLit": "duration", "NumberLit": "number",
            "StringLit": "string", "DateLit": "date", "TimestampLit": "timestamp"}.get(
        type(lit).__name__, "value")
    diags.append(error("SLG0301", f"a {kind} is not a valid {what} for `{indicator.function}`",
                       lit.span))
    return None
