"""The lint rules' catalogue and what every rule needs: the model, the clock, and the AST of each
agreement (the model keeps spans of whole blocks; a diagnostic should point at the attribute that
is wrong or missing, which only the syntax tree knows).

Each rule is a small function `(Context) -> Iterator[Diagnostic]` in the module of its family
(`completeness`, `feasibility`, `lifecycle`, `hygiene`); `RULES` describes every code a rule can
report, and `slang.lint.CHECKS` lists the functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from slang.diagnostics import Diagnostic
from slang.semantics import model as m
from slang.syntax import ast
from slang.syntax.span import Span


@dataclass(frozen=True)
class Rule:
    code: str
    title: str  # the `### CODE: title` heading of docs/errors.md
    family: str  # completeness | feasibility | lifecycle | hygiene | suppression
    clock: bool = False  # runs only with `as_of`


RULES: dict[str, Rule] = {
    r.code: r
    for r in (
        Rule("SLG0510", "Service without an agreed agreement", "completeness"),
        Rule("SLG0511", "Agreed agreement without a customer", "completeness"),
        Rule("SLG0512", "Agreed agreement without a provider", "completeness"),
        Rule("SLG0513", "Agreed agreement without notifications", "completeness"),
        Rule("SLG0514", "Agreed agreement without a review cycle", "completeness"),
        Rule("SLG0520", "Availability target above what the dependencies support",
             "feasibility"),
        Rule("SLG0530", "Agreement expiring soon", "lifecycle", clock=True),
        Rule("SLG0531", "Overlapping agreed agreements", "lifecycle"),
        Rule("SLG0532", "Retired agreement still in force", "lifecycle", clock=True),
        Rule("SLG0540", "Credits can exceed the fee", "hygiene"),
        Rule("SLG0541", "Credit tiers out of order", "hygiene"),
        Rule("SLG0542", "Objective without a credit", "hygiene"),
        Rule("SLG0543", "Overlapping exclusions", "hygiene"),
        Rule("SLG0550", "Unused or unexplained suppression", "suppression"),
    )
}

# The warnings `slang.load` itself reports in the same group: configuration and suppressions
# apply to them too, and SLG0502 needs the clock.
LOAD_WARNINGS: dict[str, bool] = {"SLG0501": False, "SLG0502": True, "SLG0503": False}

# Every code that `enable`, `disable`, `severity` and `# slang: ignore[...]` may name.
CONFIGURABLE: frozenset[str] = frozenset(RULES) | frozenset(LOAD_WARNINGS)
CLOCK_CODES: frozenset[str] = frozenset(
    [c for c, r in RULES.items() if r.clock] + [c for c, clock in LOAD_WARNINGS.items() if clock]
)

# How many days ahead SLG0530 looks.
EXPIRY_DAYS = 30


@dataclass
class Context:
    """What a rule sees. `as_of` is None unless the caller gave a clock."""

    model: m.Model
    as_of: dt.datetime | None
    nodes: dict[tuple[str, str], ast.Agreement] = field(default_factory=dict)
    ordered: list[m.Agreement] = field(default_factory=list)
    cache: dict[tuple[str, ...], Any] = field(default_factory=dict)

    @classmethod
    def of(cls, model: m.Model, as_of: dt.datetime | None) -> Context:
        nodes: dict[tuple[str, str], ast.Agreement] = {}
        for f in model.files:
            for decl in f.module.decls:
                if isinstance(decl, ast.Agreement):
                    nodes.setdefault((decl.span.file, decl.name.name), decl)
        ordered = sorted(model.agreements.values(), key=cls.order)
        return cls(model, as_of, nodes, ordered)

    @staticmethod
    def order(a: m.Agreement) -> tuple[str, int, int, str]:
        return (a.span.file, a.span.line, a.span.col, a.name)

    def agreements(self, *statuses: str) -> list[m.Agreement]:
        """The estate's agreements with one of `statuses` (all when none is given), in file and
        line order."""
        return [a for a in self.ordered if not statuses or a.status in statuses]

    def by_party(self, *statuses: str) -> dict[tuple[str, str], list[m.Agreement]]:
        """Agreements with one of `statuses` by service and customer (those without a customer
        left out), each list in file and line order."""
        key = ("by_party", *statuses)
        if key not in self.cache:
            groups: dict[tuple[str, str], list[m.Agreement]] = {}
            for a in self.agreements(*statuses):
                if a.customer is not None:
                    groups.setdefault((a.service.id, a.customer), []).append(a)
            self.cache[key] = groups
        return self.cache[key]

    def node(self, a: m.Agreement) -> ast.Agreement | None:
        return self.nodes.get((a.span.file, a.name))

    def name_span(self, a: m.Agreement) -> Span:
        """`NAME` in `agreement NAME {`."""
        node = self.node(a)
        return node.name.span if node is not None else _first_line(a.span)

    def attr(self, a: m.Agreement, key: str) -> ast.Attribute | None:
        node = self.node(a)
        if node is None:
            return None
        return next((i for i in node.items if isinstance(i, ast.Attribute) and i.key == key),
                    None)

    def attr_span(self, a: m.Agreement, key: str) -> Span:
        """The attribute's line, else the agreement's name."""
        found = self.attr(a, key)
        return found.span if found is not None else self.name_span(a)

    def objective_node(self, a: m.Agreement, name: str) -> ast.Objective | None:
        node = self.node(a)
        if node is None:
            return None
        return next((i for i in node.items
                     if isinstance(i, ast.Objective) and i.name.name == name), None)

    def credit_blocks(self, a: m.Agreement) -> set[str]:
        """Objectives that have a `credit` block as written (even one whose tiers had errors)."""
        node = self.node(a)
        if node is None:
            return {o.name for o in a.objectives if o.credit}
        return {i.objective.name for i in node.items if isinstance(i, ast.Credit)}

    def text(self, span: Span) -> str | None:
        """The source text of a span on one line."""
        if span.line != span.end_line:
            return None
        line = self.model.texts.line(span.file, span.line)
        return None if line is None else line[span.col - 1:span.end_col - 1]

    def today(self, a: m.Agreement) -> dt.date:
        """The `as_of` date in the agreement's time zone (its `effective` dates are local); a
        naive `as_of` is read as UTC."""
        assert self.as_of is not None
        now = self.as_of if self.as_of.tzinfo is not None else self.as_of.replace(tzinfo=dt.UTC)
        return now.astimezone(self.zone(a)).date()

    @staticmethod
    def zone(a: m.Agreement) -> dt.tzinfo:
        try:
            return ZoneInfo(a.timezone)
        except (KeyError, ValueError):  # an unknown zone is SLG0403 already
            return dt.UTC


Check = Callable[[Context], Iterator[Diagnostic]]


def _first_line(span: Span) -> Span:
    return Span(span.file, span.line, span.col, span.line, span.col + 1)


def service_head(svc: m.Service) -> Span:
    """`service NAME`: the first line of the block, not the whole block."""
    s = svc.span
    return Span(s.file, s.line, s.col, s.line, s.col + len("service ") + len(svc.name))


def percent(fraction: Decimal, places: int | None = None) -> str:
    """0.999 -> `99.9%`; with `places`, rounded down to that many decimals of the percentage
    (so that a product shown below a target is really below it)."""
    value = fraction * 100
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)
    return number(value) + "%"


def number(d: Decimal) -> str:
    """`25.00` -> `25`, `12.50` -> `12.5`, without exponents."""
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def decimals(d: Decimal) -> int:
    """Decimal places of a normalised number: 99.95 -> 2, 100 -> 0."""
    exponent = d.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def is_availability(o: m.Objective) -> bool:
    """A success ratio (also as a mean of slices) or an uptime, with a `>=` or `>` target."""
    ind = o.indicator
    kind_ok = isinstance(ind, m.RatioIndicator | m.UptimeIndicator) or (
        isinstance(ind, m.SliceMeanIndicator) and isinstance(ind.inner, m.RatioIndicator)
    )
    return kind_ok and o.target.op in (">=", ">")
