"""The abstract syntax tree: what was written, before any meaning is given to it.

Nodes are frozen dataclasses. Every node has a `span`, excluded from equality so that two trees
parsed from differently formatted texts of the same program compare equal (the formatter's
round-trip property rests on this). Literal nodes keep the text the user wrote (`99.90%` stays
`99.90`), so the formatter never rewrites a number, and expose the exact value as a property.
Attribute-style lines (`title "Checkout"`, `period monthly`) are one generic `Attribute` node:
the checker, not the parser, knows which attributes a block allows, so misplaced or repeated
attributes get a semantic diagnostic instead of a syntax error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from slang.syntax.span import NO_SPAN, Span

DURATION_SECONDS: dict[str, Decimal] = {
    "ms": Decimal("0.001"),
    "s": Decimal(1),
    "m": Decimal(60),
    "h": Decimal(3600),
    "d": Decimal(86400),
    "w": Decimal(604800),
}


@dataclass(frozen=True)
class Node:
    span: Span = field(default=NO_SPAN, compare=False, repr=False, kw_only=True)


# ------------------------------------------------------------------------------------ literals


@dataclass(frozen=True)
class NumberLit(Node):
    text: str

    @property
    def value(self) -> Decimal:
        return Decimal(self.text)


@dataclass(frozen=True)
class PercentLit(Node):
    text: str  # digits without the `%`

    @property
    def value(self) -> Decimal:
        """The fraction: `99.9%` is 0.999."""
        return Decimal(self.text) / 100


@dataclass(frozen=True)
class DurationLit(Node):
    amount: str
    unit: str

    @property
    def seconds(self) -> Decimal:
        return Decimal(self.amount) * DURATION_SECONDS[self.unit]


@dataclass(frozen=True)
class BadDurationLit(Node):
    """A number glued to a word that is not a duration unit (`1mo`, `5min`): reported later."""

    amount: str
    unit: str


@dataclass(frozen=True)
class DateLit(Node):
    text: str

    @property
    def value(self) -> dt.date | None:
        try:
            return dt.date.fromisoformat(self.text)
        except ValueError:
            return None


@dataclass(frozen=True)
class TimestampLit(Node):
    text: str

    @property
    def value(self) -> dt.datetime | None:
        try:
            return dt.datetime.fromisoformat(self.text.replace("Z", "+00:00"))
        except ValueError:
            return None


@dataclass(frozen=True)
class TimeOfDay(Node):
    text: str  # HH:MM

    @property
    def minutes(self) -> int:
        h, m = self.text.split(":")
        return int(h) * 60 + int(m)


@dataclass(frozen=True)
class StringLit(Node):
    value: str


@dataclass(frozen=True)
class MoneyLit(Node):
    amount: str
    currency: str

    @property
    def value(self) -> Decimal:
        return Decimal(self.amount)


@dataclass(frozen=True)
class NullLit(Node):
    pass


@dataclass(frozen=True)
class BoolLit(Node):
    value: bool


Literal = (
    NumberLit
    | PercentLit
    | DurationLit
    | BadDurationLit
    | DateLit
    | TimestampLit
    | StringLit
    | NullLit
    | BoolLit
)

# --------------------------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Ident(Node):
    """A declared or referenced simple name."""

    name: str


@dataclass(frozen=True)
class Name(Node):
    """A possibly qualified name: `cal.uk_business`, `requests.latency_ms`, `status`."""

    parts: tuple[str, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class NamedArg(Node):
    name: Ident
    value: Expr


@dataclass(frozen=True)
class Call(Node):
    func: Name
    args: tuple[Expr | NamedArg, ...]


@dataclass(frozen=True)
class Where(Node):
    """`S where C`: a source (or a column of one) restricted by a condition."""

    source: Expr
    condition: Expr


@dataclass(frozen=True)
class BinOp(Node):
    op: str  # and or == != < <= > >= + - * /
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not(Node):
    operand: Expr


@dataclass(frozen=True)
class Neg(Node):
    operand: Expr


@dataclass(frozen=True)
class InList(Node):
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool = False


@dataclass(frozen=True)
class InRange(Node):
    """`x in a .. b`: whole days for dates (both included), half-open for timestamps."""

    operand: Expr
    low: Literal
    high: Literal
    negated: bool = False


@dataclass(frozen=True)
class IsNull(Node):
    operand: Expr
    negated: bool = False


Expr = Literal | Name | Call | Where | BinOp | Not | Neg | InList | InRange | IsNull

# ------------------------------------------------------------------------- attribute values


@dataclass(frozen=True)
class IdentList(Node):
    items: tuple[Ident, ...]


@dataclass(frozen=True)
class DateList(Node):
    """A `holidays` value: dates, and (for `holidays` only) region codes such as `"GB-ENG"`
    whose dates the `holidays` package supplies at compile time."""

    items: tuple[DateLit | StringLit, ...]


@dataclass(frozen=True)
class DateRange(Node):
    """`effective a .. b`: inclusive dates; `end` is None when open-ended."""

    start: DateLit
    end: DateLit | None


@dataclass(frozen=True)
class RollingPeriod(Node):
    length: DurationLit | BadDurationLit


@dataclass(frozen=True)
class ReviewEvery(Node):
    count: NumberLit
    unit: Ident  # days | weeks | months | years


@dataclass(frozen=True)
class Notify(Node):
    recipients: tuple[StringLit, ...]
    on: tuple[Ident, ...]


@dataclass(frozen=True)
class DaySpan(Node):
    first: str
    last: str | None = None


@dataclass(frozen=True)
class HoursRule(Node):
    days: tuple[DaySpan, ...]
    start: TimeOfDay
    end: TimeOfDay


@dataclass(frozen=True)
class TimeColumn(Node):
    column: Ident
    form: Ident | None = None  # utc | epoch_ms | epoch_s | None (time-zone aware)


@dataclass(frozen=True)
class UnitEntry(Node):
    column: Ident
    unit: Ident


@dataclass(frozen=True)
class UnitMap(Node):
    entries: tuple[UnitEntry, ...]


@dataclass(frozen=True)
class PromQuery(Node):
    """`total "..."`, `good "..."`, `bad NAME "..."`: PromQL text for one side of a ratio;
    `objective` restricts a good/bad query to the objectives of that name."""

    role: str  # total | good | bad
    objective: Ident | None
    query: StringLit


@dataclass(frozen=True)
class LabelEntry(Node):
    name: Ident
    value: StringLit


@dataclass(frozen=True)
class PromLabels(Node):
    entries: tuple[LabelEntry, ...]


@dataclass(frozen=True)
class PrometheusMap(Node):
    """A source's `prometheus { ... }` block, items in the order written."""

    items: tuple[PromQuery | PromLabels, ...]


@dataclass(frozen=True)
class Target(Node):
    op: str
    value: Literal


@dataclass(frozen=True)
class Measured(Node):
    """`measured 99.5%`, optionally `within 0.01%`: the value is compared exactly unless a
    tolerance is written."""

    value: Literal
    tolerance: Literal | None = None


@dataclass(frozen=True)
class Flag(Node):
    """An attribute without a value, such as `internal`."""


AttrValue = (
    StringLit
    | Ident
    | IdentList
    | Name
    | DateLit
    | DateList
    | DateRange
    | PercentLit
    | MoneyLit
    | RollingPeriod
    | ReviewEvery
    | Notify
    | HoursRule
    | TimeColumn
    | UnitMap
    | PrometheusMap
    | Target
    | Flag
    | Measured
    | Expr
)


@dataclass(frozen=True)
class Attribute(Node):
    key: str
    value: AttrValue


# ------------------------------------------------------------------------------ declarations


@dataclass(frozen=True)
class Comment(Node):
    text: str  # including the leading `#`


@dataclass(frozen=True)
class Import(Node):
    path: StringLit
    alias: Ident


@dataclass(frozen=True)
class Service(Node):
    name: Ident
    attrs: tuple[Attribute, ...]


@dataclass(frozen=True)
class Catalogue(Node):
    title: StringLit | None
    services: tuple[Service, ...]


@dataclass(frozen=True)
class Calendar(Node):
    name: Ident
    attrs: tuple[Attribute, ...]


@dataclass(frozen=True)
class Source(Node):
    kind: str  # events | intervals
    name: Ident
    table: StringLit
    attrs: tuple[Attribute, ...]


@dataclass(frozen=True)
class Tier(Node):
    direction: str  # below | above
    threshold: Literal
    credit: PercentLit


@dataclass(frozen=True)
class CreditSchedule(Node):
    name: Ident
    tiers: tuple[Tier, ...]


@dataclass(frozen=True)
class TimestampWindow(Node):
    start: TimestampLit
    end: TimestampLit


@dataclass(frozen=True)
class DateWindow(Node):
    start: DateLit
    end: DateLit


@dataclass(frozen=True)
class WeeklyWindow(Node):
    days: tuple[DaySpan, ...]
    start: TimeOfDay
    end: TimeOfDay


@dataclass(frozen=True)
class SourceWindow(Node):
    source: Name
    condition: Expr | None = None


Window = TimestampWindow | DateWindow | WeeklyWindow | SourceWindow


@dataclass(frozen=True)
class Exclusion(Node):
    window: Window
    reason: StringLit | None = None
    mode: Ident | None = None  # `as available`


@dataclass(frozen=True)
class Objective(Node):
    name: Ident
    attrs: tuple[Attribute, ...]


@dataclass(frozen=True)
class Credit(Node):
    """Tiers written inline, or a reference to a named `credits` schedule."""

    objective: Ident
    tiers: tuple[Tier, ...] | None = None
    schedule: Name | None = None


@dataclass(frozen=True)
class BurnRateWindow(Node):
    """`page 2% in 1h / 5m`: alert at `severity` when the burn rate over the long window (1 h)
    and over the short one (5 min) both exceed the rate that spends `budget` (2 %) of the
    period's error budget within the long window."""

    severity: Ident
    budget: PercentLit
    long: DurationLit | BadDurationLit
    short: DurationLit | BadDurationLit


@dataclass(frozen=True)
class BurnRate(Node):
    """An agreement's `burn_rate { ... }` block; the resolver supplies defaults without one."""

    windows: tuple[BurnRateWindow, ...]


AgreementItem = Attribute | Exclusion | Objective | Credit | BurnRate


@dataclass(frozen=True)
class Agreement(Node):
    name: Ident
    items: tuple[AgreementItem, ...]


# ----------------------------------------------------------------------------------- tests


@dataclass(frozen=True)
class InlineTable(Node):
    """`{ columns a, b  row 1, "x" ... }`: a small table written in the test itself. Cells are
    literals (or a negated number); their types make the Arrow column types. `columns` is
    empty when the header was left out (`{}`)."""

    columns: tuple[Ident, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Row(Node):
    cells: tuple[Literal | Neg, ...]


@dataclass(frozen=True)
class TestData(Node):
    """`data SOURCE { table }` or `data SOURCE from "fixture.csv"` (relative to the test file)."""

    source: Name
    table: InlineTable | None = None
    path: StringLit | None = None


@dataclass(frozen=True)
class PeriodLabel(Node):
    text: str  # as reports label periods: `2026-10`, `2026-W41`, `rolling-28d`


@dataclass(frozen=True)
class Expectation(Node):
    """`expect AGREEMENT[.OBJECTIVE] PERIOD { status ...  measured ...  credit ... }`."""

    target: Name
    period: PeriodLabel
    attrs: tuple[Attribute, ...]


TestItem = Attribute | TestData | Expectation


@dataclass(frozen=True)
class Test(Node):
    __test__ = False  # not a pytest test class

    name: Ident
    items: tuple[TestItem, ...]


Decl = Import | Catalogue | Calendar | Source | CreditSchedule | Agreement | Test


@dataclass(frozen=True)
class Module(Node):
    path: str = field(compare=False)
    decls: tuple[Decl, ...]
    comments: tuple[Comment, ...] = ()
