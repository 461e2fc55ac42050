"""The resolved model: what an estate of policies means, ready for the planner.

Names are resolved to the objects they denote, literals to exact values (`Decimal`, `date`,
`datetime`), units checked. Expressions inside `where` conditions stay AST nodes: their columns
are only known when data is bound, and the planner compiles them. Everything keeps its `Span`
so that later layers can still point at the policy text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from slang.diagnostics import Diagnostic, Severity, SourceCache
from slang.syntax import ast
from slang.syntax.span import NO_SPAN, Span

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class PolicyFile:
    """One loaded `.sla` file: `path` as shown to people, `origin` `estate`, `import` or `test`."""

    path: str
    abspath: str
    sha256: str
    origin: str
    module: ast.Module = field(repr=False)


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    title: str | None
    owner: str | None
    tier: str | None
    depends_on: tuple[str, ...]
    key: str  # the value rows carry in the source's key column
    description: str | None
    internal: bool
    span: Span = NO_SPAN


@dataclass(frozen=True)
class WeeklyWindow:
    """Local wall-clock minutes `[start, end)` on the given ISO weekdays (0 = Monday)."""

    days: frozenset[int]
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class Calendar:
    """`holidays` holds the dates written in the policy; `regions` the region codes
    (`"GB-ENG"`) whose dates the `holidays` package supplies for the years evaluated (see
    slang/semantics/holiday_regions.py)."""

    id: str
    name: str
    timezone: str
    hours: tuple[WeeklyWindow, ...]  # empty: every hour of every day
    holidays: tuple[dt.date, ...]
    span: Span = NO_SPAN
    regions: tuple[str, ...] = ()  # sorted, each known to the package


TimeForm = Literal["aware", "utc", "epoch_ms", "epoch_s"]


@dataclass(frozen=True)
class PromQuery:
    """One side of a ratio in PromQL. `text` is as written; `expr` is the query to run, with the
    `{{service}}` and `{{window}}` placeholders still in it (a bare selector is wrapped as
    `sum(rate(SELECTOR[{{window}}]))`)."""

    text: str
    expr: str
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True)
class PrometheusMapping:
    """How a source's rows map to Prometheus series (a source's `prometheus { ... }` block).

    `total`, `good` and `bad` are keyed by objective name, `None` for the default: an objective
    reads its own entry if there is one, else the default. `labels` are added to every exported
    rule.
    """

    total: tuple[tuple[str | None, PromQuery], ...]
    good: tuple[tuple[str | None, PromQuery], ...]
    bad: tuple[tuple[str | None, PromQuery], ...]
    labels: tuple[tuple[str, str], ...]
    span: Span = field(default=NO_SPAN, compare=False)

    def denominator(self, objective: str) -> PromQuery | None:
        """The `total` query for an objective of this name."""
        for key in (objective, None):
            for name, query in self.total:
                if name == key:
                    return query
        return None

    def numerator(self, objective: str) -> tuple[str, PromQuery] | None:
        """(`good` or `bad`, query) for an objective of this name; None if neither applies."""
        for key in (objective, None):
            for role, entries in (("good", self.good), ("bad", self.bad)):
                for name, query in entries:
                    if name == key:
                        return role, query
        return None


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    kind: Literal["events", "intervals"]
    table: str
    time_column: str  # events
    time_form: TimeForm
    start_column: str  # intervals
    end_column: str
    key_column: str | None
    units: dict[str, str] = field(hash=False, compare=True)  # column -> ms | s | m | h | d | w
    span: Span = NO_SPAN
    prometheus: PrometheusMapping | None = None
    description: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class CreditTier:
    direction: Literal["below", "above"]
    threshold: Decimal  # in the target's units: a fraction, or the column's own unit
    percent: Decimal  # 10 means 10 %
    span: Span = NO_SPAN


@dataclass(frozen=True)
class CreditSchedule:
    """A named schedule; its thresholds get their units from the objective that uses it."""

    id: str
    name: str
    tiers: tuple[ast.Tier, ...]
    span: Span = NO_SPAN


# ----------------------------------------------------------------------------- indicators


@dataclass(frozen=True)
class Selection:
    """Rows of a source restricted by a condition (None: every row). `calendars` holds the
    calendars the condition names (`business_duration(a, b, cal.uk_business)`), by the dotted
    name as written, so the engine needs no scope to evaluate it."""

    source: Source
    condition: ast.Expr | None
    calendars: tuple[tuple[str, Calendar], ...] = ()

    def calendar(self, dotted: str) -> Calendar | None:
        return next((c for name, c in self.calendars if name == dotted), None)


@dataclass(frozen=True)
class RatioIndicator:
    """good / total; `good` already includes the total's condition, so good ⊆ total."""

    total: Selection
    good: ast.Expr
    kind: str = "ratio"


@dataclass(frozen=True)
class ValueIndicator:
    """An aggregate of a column: percentile (q in 0..100), mean, max, min, sum; or count."""

    function: Literal["percentile", "mean", "max", "min", "sum", "count"]
    selection: Selection
    column: str | None
    unit: str | None  # the column's declared unit, if any
    q: Decimal | None = None
    method: Literal["nearest", "linear"] = "nearest"
    kind: str = "value"


@dataclass(frozen=True)
class UptimeIndicator:
    selection: Selection
    granularity_seconds: int | None
    kind: str = "uptime"


@dataclass(frozen=True)
class TimeslicesIndicator:
    """Fraction of slices whose inner value satisfies `op threshold`."""

    slice_seconds: int
    inner: RatioIndicator | ValueIndicator
    op: str
    threshold: Decimal
    empty: Literal["good", "bad", "skip"]
    kind: str = "timeslices"


@dataclass(frozen=True)
class SliceMeanIndicator:
    slice_seconds: int
    inner: RatioIndicator | ValueIndicator
    empty: Literal["good", "skip"]
    kind: str = "slice_mean"


Indicator = (
    RatioIndicator | ValueIndicator | UptimeIndicator | TimeslicesIndicator | SliceMeanIndicator
)


def is_fraction(indicator: Indicator) -> bool:
    """Ratio-like indicators measure a fraction in [0, 1] and take percentage targets."""
    if isinstance(indicator, SliceMeanIndicator):
        return isinstance(indicator.inner, RatioIndicator)
    return isinstance(indicator, RatioIndicator | UptimeIndicator | TimeslicesIndicator)


# ------------------------------------------------------------------------------ agreements


@dataclass(frozen=True)
class Target:
    op: str  # >= > <= < ==
    value: Decimal  # a fraction for percentages; the column's unit for durations
    span: Span = NO_SPAN


@dataclass(frozen=True)
class Objective:
    name: str
    indicator: Indicator
    target: Target
    hours: Calendar | None  # the objective's own, else the agreement's, else None (all hours)
    credit: tuple[CreditTier, ...]  # empty: no credit
    description: str | None
    span: Span = NO_SPAN


@dataclass(frozen=True)
class Exclusion:
    """Excluded time. `window` is a UTC half-open range, `weekly` local wall-clock windows in the
    agreement's time zone, `source` every interval of an intervals source."""

    kind: Literal["window", "weekly", "source"]
    reason: str | None
    as_available: bool
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    weekly: WeeklyWindow | None = None
    selection: Selection | None = None
    span: Span = NO_SPAN


@dataclass(frozen=True)
class Period:
    kind: Literal["hourly", "daily", "weekly", "monthly", "quarterly", "yearly", "rolling"]
    rolling_seconds: int | None = None

    @property
    def label(self) -> str:
        if self.kind == "rolling":
            return f"rolling {_duration_text(self.rolling_seconds or 0)}"
        return self.kind


def _duration_text(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Review:
    every: int
    unit: Literal["days", "weeks", "months", "years"]
    last: dt.date | None
    span: Span = field(default=NO_SPAN, compare=False)  # `reviewed`, else `review`


@dataclass(frozen=True)
class BurnRateWindow:
    """One multi-window burn-rate alert (`page 2% in 1h / 5m`): it fires when the burn rate
    over `long_window` and over `short_window`, both ending now, exceed
    `burn_rate_factor(budget_fraction, period, long_window hours)`."""

    severity: str  # page | ticket
    budget_fraction: Fraction  # 2 % is 1/50
    long_window: dt.timedelta
    short_window: dt.timedelta
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True)
class Agreement:
    name: str
    file: str
    service: Service
    customer: str | None
    provider: str | None
    status: Literal["draft", "proposed", "agreed", "retired"]
    effective_start: dt.date | None
    effective_end: dt.date | None  # inclusive; None: open-ended
    timezone: str
    period: Period
    fee: Money | None
    credit_cap: Decimal | None  # a fraction
    review: Review | None
    notify: tuple[str, ...]
    notify_on: tuple[str, ...]
    hours: Calendar | None
    exclusions: tuple[Exclusion, ...]
    objectives: tuple[Objective, ...]
    description: str | None
    span: Span = NO_SPAN
    # Always filled: the resolver writes in the defaults when there is no `burn_rate` block.
    burn_rates: tuple[BurnRateWindow, ...] = ()


# ----------------------------------------------------------------------------------- tests


@dataclass(frozen=True)
class TestData:
    """The data a test gives one source's logical table: an inline table (cells as written,
    each column's kind decided by the checker) or a fixture file."""

    __test__ = False  # not a pytest class

    source: Source
    table: ast.InlineTable | None
    column_kinds: tuple[str, ...]  # int | float | string | timestamp | date | bool | null
    path: str | None  # the fixture, absolute
    shown: str  # how messages name the data: `inline table` or the fixture's path as written
    span: Span = NO_SPAN


@dataclass(frozen=True)
class Expected:
    """One checked value of an expectation. `what` is status, measured, credit_percent or
    credit_amount; `value` a status word, a Fraction in the indicator's units, or a Decimal."""

    what: str
    value: object
    text: str  # as written, for messages
    tolerance: object | None = None  # a Fraction, with `within`
    span: Span = NO_SPAN


@dataclass(frozen=True)
class Expectation:
    agreement: Agreement
    objective: Objective | None  # None: the agreement's total credit
    period: str
    checks: tuple[Expected, ...]
    span: Span = NO_SPAN

    @property
    def subject(self) -> str:
        name = self.agreement.name
        return name if self.objective is None else f"{name}.{self.objective.name}"


@dataclass(frozen=True)
class TestCase:
    __test__ = False  # not a pytest class

    name: str
    file: str
    as_of: dt.datetime
    data: tuple[TestData, ...]
    expectations: tuple[Expectation, ...]
    span: Span = NO_SPAN

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


@dataclass
class Model:
    """An estate: every policy file given, with what they import, resolved and checked.

    Only estate files contribute agreements; imported modules contribute the declarations their
    importers name. `diagnostics` holds everything found, errors and warnings, in a stable order.
    """

    files: list[PolicyFile]
    services: dict[str, Service]
    calendars: dict[str, Calendar]
    sources: dict[str, Source]
    schedules: dict[str, CreditSchedule]
    agreements: dict[str, Agreement]
    diagnostics: list[Diagnostic]
    texts: SourceCache
    tests: list[TestCase] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors
