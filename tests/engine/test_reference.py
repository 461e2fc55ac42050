"""Property tests: the engine's audit equals the naive reference evaluator (reference.py).

Hypothesis draws small tables (events around a daylight-saving change, incidents with
overlapping, open and backwards intervals, maintenance windows) and a small agreement (period,
time zone, effective range, hours calendars with holidays, exclusions of every form, objectives,
credit tiers, fee and cap). The agreement is rendered as slang source text and audited by the
engine over Parquet files; the same agreement, as reference objects with Python predicates, is
evaluated row by row. For every objective and period, `measured` (the engine's JSON double
against the nearest double of the exact reference value), `good`, `total`, `status` (complete
periods), `credit_percent`, `credit_amount` and the credit cap's adjustments must be equal.

A discrepancy found here is kept as an explicit `@example` with its minimal input (see the
`KNOWN_*` cases at the end of the strategies) once the reference is checked against the spec.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import slang
from slang.engine.audit import PeriodChoice, audit

from . import reference as ref

UTC = dt.UTC
LONDON = "Europe/London"
ZONES = (LONDON, "UTC", "America/New_York", "Asia/Kolkata")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SERVICE = "checkout"
US = 1_000_000
OTHER = "payments"


# ------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class Cond:
    """A `where` condition: its slang text and its meaning in three-valued logic (None is
    null). Called on a row it answers whether the row satisfies it: a null condition is false."""

    text: str
    fn: Callable[[ref.Row], bool | None]

    def __call__(self, row: ref.Row) -> bool:
        return self.fn(row) is True


def _cmp(column: str, op: str, literal: str, value: Any) -> Cond:
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
    }

    def fn(r: ref.Row) -> bool | None:
        v = r.get(column)
        return None if v is None else ops[op](v, value)  # NaN compares false, != true

    return Cond(f"{column} {op} {literal}", fn)


def _in(column: str, items: tuple[Any, ...], negated: bool = False) -> Cond:
    texts = ", ".join(f'"{i}"' if isinstance(i, str) else str(i) for i in items)

    def fn(r: ref.Row) -> bool | None:
        v = r.get(column)
        return None if v is None else (v in items) != negated

    return Cond(f"{column} {'not in' if negated else 'in'} [{texts}]", fn)


def _is_null(column: str, negated: bool = False) -> Cond:
    return Cond(f"{column} is {'not ' if negated else ''}null",
                lambda r: (r.get(column) is None) != negated)


def _and(a: Cond, b: Cond) -> Cond:
    def fn(r: ref.Row) -> bool | None:
        x, y = a.fn(r), b.fn(r)
        if x is False or y is False:
            return False
        return None if x is None or y is None else True

    return Cond(f"({a.text} and {b.text})", fn)


def _or(a: Cond, b: Cond) -> Cond:
    def fn(r: ref.Row) -> bool | None:
        x, y = a.fn(r), b.fn(r)
        if x is True or y is True:
            return True
        return None if x is None or y is None else False

    return Cond(f"({a.text} or {b.text})", fn)


def _not(a: Cond) -> Cond:
    def fn(r: ref.Row) -> bool | None:
        x = a.fn(r)
        return None if x is None else not x

    return Cond(f"not ({a.text})", fn)


EVENT_ATOMS = (
    _cmp("status", "<", "500", 500),
    _cmp("status", ">=", "500", 500),
    _cmp("status", "==", "200", 200),
    _in("status", (200, 201, 204)),
    _in("status", (500, 503), negated=True),
    _cmp("method", "==", '"GET"', "GET"),
    _cmp("method", "!=", '"OPTIONS"', "OPTIONS"),
    _is_null("method"),
    _is_null("latency_ms", negated=True),
    _cmp("latency_ms", "<=", "250ms", 250),
    _cmp("latency_ms", ">", "0.2s", 200),
)
INCIDENT_ATOMS = (
    _cmp("severity", "==", '"sev1"', "sev1"),
    _cmp("severity", "!=", '"sev3"', "sev3"),
    _in("severity", ("sev1", "sev2")),
)
APPROVED = Cond("approved == true", lambda r: None if r.get("approved") is None
                else r["approved"] is True)


def conditions(atoms: tuple[Cond, ...]) -> st.SearchStrategy[Cond]:
    leaf = st.sampled_from(atoms)
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(inner, inner).map(lambda t: _and(*t)),
            st.tuples(inner, inner).map(lambda t: _or(*t)),
            inner.map(_not),
        ),
        max_leaves=3,
    )


# ------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Window:
    """The few local days the data covers, around a daylight-saving change in London."""

    first: dt.date
    last: dt.date
    change: dt.datetime  # the London transition inside the window

    @property
    def lo(self) -> int:
        return ref.to_us(dt.datetime.combine(self.first, dt.time(), ZoneInfo(LONDON)))

    @property
    def hi(self) -> int:
        last = self.last + dt.timedelta(days=1)
        return ref.to_us(dt.datetime.combine(last, dt.time(), ZoneInfo(LONDON)))

    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range((self.last - self.first).days
                                                                 + 1)]

    def interesting(self) -> list[int]:
        """Instants where rows like to break things: local midnights (both folds), the
        transition, hours edges."""
        out = {ref.to_us(self.change)}
        for d in [self.first - dt.timedelta(days=1), *self.days()]:
            for minute in (0, 60, 90, 120, 540, 1050):
                out |= ref.instants_of_local(LONDON, d, minute)
        return sorted(out)


AUTUMN = Window(dt.date(2026, 10, 23), dt.date(2026, 10, 27),
                dt.datetime(2026, 10, 25, 1, tzinfo=UTC))
SPRING = Window(dt.date(2026, 3, 27), dt.date(2026, 3, 31),
                dt.datetime(2026, 3, 29, 1, tzinfo=UTC))
NUDGES = (0, 0, 0, 1, -1, US, -US, 30 * US)


def _instant(rnd: random.Random, w: Window) -> int:
    """An instant in the window (a day of margin either side), often near an edge."""
    if rnd.random() < 0.3:
        return rnd.choice(w.interesting()) + rnd.choice(NUDGES)
    us = rnd.randrange(w.lo - 86400 * US, w.hi + 86400 * US)
    return us - us % rnd.choice((1, US, 60 * US))


def _latency(rnd: random.Random) -> float | None:
    roll = rnd.random()
    if roll < 0.05:
        return None
    if roll < 0.10:
        return float("nan")
    if roll < 0.55:
        return float(rnd.randrange(0, 600))
    if roll < 0.75:
        return rnd.randrange(0, 6000) / 10  # decimals: not exact in binary
    return rnd.uniform(0, 1000)


def event_rows(rnd: random.Random, w: Window, n: int, key: str) -> list[dict[str, Any]]:
    rows = []
    for _ in range(n):
        ts = None if rnd.random() < 0.02 else ref.from_us(_instant(rnd, w))
        rows.append({
            "ts": ts,
            "service": rnd.choices([key, OTHER, None], weights=(85, 12, 3))[0],
            "status": rnd.choices([200, 201, 204, 404, 500, 503, None],
                                  weights=(50, 5, 5, 10, 15, 10, 5))[0],
            "latency_ms": _latency(rnd),
            "method": rnd.choices(["GET", "POST", "OPTIONS", None], weights=(60, 25, 10, 5))[0],
        })
    return rows


def interval_rows(rnd: random.Random, w: Window, n: int, key: str, extra: str,
                  values: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Intervals: overlapping, touching, sub-minute blips, open (null end), backwards (end
    before start), empty, and a few with a null start."""
    rows = []
    for _ in range(n):
        start = _instant(rnd, w)
        roll = rnd.random()
        if roll < 0.1:
            end: int | None = None
        elif roll < 0.15:
            end = start - rnd.randrange(1, 3600) * US
        elif roll < 0.2:
            end = start
        elif roll < 0.45:
            end = start + rnd.randrange(1, 240) * US  # blips of seconds
        else:
            end = start + rnd.randrange(1, 6 * 3600) * US - rnd.choice((0, 0, 1))
        rows.append({
            "start": None if rnd.random() < 0.03 else ref.from_us(start),
            "end": None if end is None else ref.from_us(end),
            "service": rnd.choices([key, OTHER], weights=(85, 15))[0],
            extra: rnd.choice(values),
        })
    return rows


EVENT_SCHEMA = pa.schema([
    ("ts", pa.timestamp("us", tz="UTC")), ("service", pa.string()), ("status", pa.int64()),
    ("latency_ms", pa.float64()), ("method", pa.string()),
])
INCIDENT_SCHEMA = pa.schema([
    ("start", pa.timestamp("us", tz="UTC")), ("end", pa.timestamp("us", tz="UTC")),
    ("service", pa.string()), ("severity", pa.string()),
])
MAINTENANCE_SCHEMA = pa.schema([
    ("start", pa.timestamp("us", tz="UTC")), ("end", pa.timestamp("us", tz="UTC")),
    ("service", pa.string()), ("approved", pa.bool_()),
])


def write_table(rows: list[dict[str, Any]], schema: pa.Schema, path: Path) -> None:
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


# -------------------------------------------------------------------------- rendering


def dec(v: Fraction | Decimal | int) -> str:
    """A terminating fraction as plain decimal text: Fraction(999, 1000) -> '0.999'."""
    fr = Fraction(v)
    d = Decimal(fr.numerator) / Decimal(fr.denominator)
    assert Fraction(d) == fr, f"{fr} does not terminate"
    text = format(d.normalize(), "f")
    return text


def days_text(days: frozenset[int]) -> str:
    parts: list[str] = []
    run: list[int] = []
    for d in sorted(days):
        if run and d == run[-1] + 1:
            run.append(d)
            continue
        if run:
            parts.append(_run_text(run))
        run = [d]
    parts.append(_run_text(run))
    return ",".join(parts)


def _run_text(run: list[int]) -> str:
    return DAYS[run[0]] if len(run) == 1 else f"{DAYS[run[0]]}-{DAYS[run[-1]]}"


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def window_text(w: ref.Window) -> str:
    return f"{days_text(w.days)} {hhmm(w.start_minute)}-{hhmm(w.end_minute)}"


def duration_text(seconds: int) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def value_unit(ind: ref.Indicator) -> str:
    """How a target or threshold of this indicator is written: `%`, `ms` or nothing."""
    if isinstance(ind, ref.Ratio | ref.Uptime | ref.Timeslices):
        return "%"
    if isinstance(ind, ref.SliceMean):
        return value_unit(ind.inner)
    return "" if ind.function == "count" else "ms"


def quantity(v: Fraction, unit: str) -> str:
    return f"{dec(v * 100)}%" if unit == "%" else f"{dec(v)}{unit}"


SHORTHANDS = {Fraction(50): "p50", Fraction(75): "p75", Fraction(90): "p90",
              Fraction(95): "p95", Fraction(99): "p99", Fraction(999, 10): "p999"}


def _where(c: ref.Predicate | None) -> str:
    return "" if c is None else f" where {c.text}"  # type: ignore[attr-defined]


def indicator_text(ind: ref.Indicator) -> str:
    if isinstance(ind, ref.Ratio):
        good = f"requests{_where(ind.good)}"
        return f"ratio({good})" if ind.total is None else \
            f"ratio({good}, requests{_where(ind.total)})"
    if isinstance(ind, ref.Value):
        if ind.function == "count":
            return f"count(requests{_where(ind.where)})"
        col = f"requests.{ind.column}{_where(ind.where)}"
        if ind.function != "percentile":
            return f"{ind.function}({col})"
        assert ind.q is not None
        if ind.method == "nearest" and ind.q in SHORTHANDS:
            return f"{SHORTHANDS[ind.q]}({col})"
        method = ", method: linear" if ind.method == "linear" else ""
        return f"percentile({col}, {dec(ind.q)}{method})"
    if isinstance(ind, ref.Uptime):
        g = "" if not ind.granularity_s else f", granularity: {duration_text(ind.granularity_s)}"
        return f"uptime(incidents{_where(ind.where)}{g})"
    if isinstance(ind, ref.Timeslices):
        inner = indicator_text(ind.inner)
        threshold = quantity(ind.threshold, value_unit(ind.inner))
        return (f"timeslices({duration_text(ind.slice_s)}, {inner} {ind.op} {threshold}, "
                f"empty: {ind.empty})")
    return f"slice_mean({duration_text(ind.slice_s)}, {indicator_text(ind.inner)}, " \
           f"empty: {ind.empty})"


def calendar_text(name: str, c: ref.Calendar) -> str:
    lines = [f"calendar {name} {{", f'  timezone "{c.timezone}"']
    lines += [f"  hours {window_text(w)}" for w in c.hours]
    if c.holidays:
        lines.append("  holidays " + ", ".join(d.isoformat() for d in sorted(c.holidays)))
    return "\n".join([*lines, "}"])


def exclusion_text(x: ref.Exclusion, offset_hours: int) -> str:
    if x.kind == "window":
        assert x.start is not None and x.end is not None
        tz = dt.timezone(dt.timedelta(hours=offset_hours))
        a = x.start.astimezone(tz).isoformat().replace("+00:00", "Z")
        b = x.end.astimezone(tz).isoformat().replace("+00:00", "Z")
        body = f"{a} .. {b}"
    elif x.kind == "dates":
        assert x.first is not None and x.last is not None
        body = f"{x.first.isoformat()} .. {x.last.isoformat()}"
    elif x.kind == "weekly":
        assert x.weekly is not None
        body = f"weekly {window_text(x.weekly)}"
    else:
        body = f"maintenance{_where(x.where)}"
    return f'exclude {body} "reason"' + (" as available" if x.as_available else "")


@dataclass(frozen=True)
class Case:
    """One drawn agreement with its data, selection and as_of."""

    agreement: ref.Agreement
    events: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    maintenance: list[dict[str, Any]]
    date_from: dt.date
    date_to: dt.date
    as_of: dt.datetime
    currency: str = "GBP"
    offset_hours: int = 0  # how timestamp exclusions are written

    def text(self) -> str:
        a = self.agreement
        calendars: dict[ref.Calendar, str] = {}
        for c in [a.hours, *(o.hours for o in a.objectives)]:
            if c is not None and c not in calendars:
                calendars[c] = f"cal_{len(calendars) + 1}"
        key = "" if a.service_key == SERVICE else f' key "{a.service_key}"'
        out = [
            f'catalogue "Reference" {{ service {SERVICE} {{ title "Checkout"{key} }} }}',
            *(calendar_text(name, c) for c, name in calendars.items()),
            'events requests from "requests" { time ts key service units { latency_ms: ms } }',
            'intervals incidents from "incidents" { key service }',
            'intervals maintenance from "maintenance" { key service }',
            "agreement reference {",
            f"  service {SERVICE}",
            "  status agreed",
            f'  timezone "{a.timezone}"',
            "  period " + (a.period if a.period != "rolling"
                           else f"rolling {duration_text(a.rolling_s or 0)}"),
        ]
        if a.effective_start is not None:
            end = "" if a.effective_end is None else f" {a.effective_end.isoformat()}"
            out.append(f"  effective {a.effective_start.isoformat()} ..{end}")
        if a.fee is not None:
            out.append(f"  fee {a.fee} {self.currency}")
        if a.credit_cap is not None:
            out.append(f"  credit_cap {dec(a.credit_cap * 100)}%")
        if a.hours is not None:
            out.append(f"  hours {calendars[a.hours]}")
        out += [f"  {exclusion_text(x, self.offset_hours)}" for x in a.exclusions]
        for o in a.objectives:
            unit = value_unit(o.indicator)
            out += [f"  objective {o.name} {{",
                    f"    indicator {indicator_text(o.indicator)}",
                    f"    target {o.op} {quantity(o.target, unit)}"]
            if o.hours is not None:
                out.append(f"    hours {calendars[o.hours]}")
            out.append("  }")
            if o.tiers:
                out.append(f"  credit {o.name} {{")
                out += [f"    {t.direction} {quantity(t.threshold, unit)} => {dec(t.percent)}%"
                        for t in o.tiers]
                out.append("  }")
        out.append("}")
        return "\n".join(out) + "\n"

    def describe(self) -> str:
        def rows(rs: list[dict[str, Any]]) -> str:
            return "\n".join("  " + repr(r) for r in rs) or "  (none)"

        return (f"as_of={self.as_of.isoformat()} from={self.date_from} to={self.date_to}\n"
                f"--- policy\n{self.text()}--- requests\n{rows(self.events)}\n"
                f"--- incidents\n{rows(self.incidents)}\n"
                f"--- maintenance\n{rows(self.maintenance)}")


# ------------------------------------------------------------------------- strategies


@st.composite
def windows(draw: st.DrawFn, wide: bool = False) -> ref.Window:
    """A weekly window; `wide` ones (hours) usually span most of a day, others (exclusions)
    a few hours, often across the 01:00-02:00 hour that repeats or vanishes."""
    days = draw(st.sampled_from([frozenset(range(7)), frozenset(range(5)), frozenset({5, 6})])
                | st.frozensets(st.integers(0, 6), min_size=1))
    if wide:
        start = draw(st.sampled_from([0, 0, 60, 90, 420, 480]) | st.integers(0, 1439))
        end = draw(st.sampled_from([1440, 1320, 1050]).filter(lambda e: e > start)
                   | st.integers(start + 1, 1440))
    else:
        start = draw(st.sampled_from([0, 30, 60, 90, 120, 540, 1020]) | st.integers(0, 1439))
        end = draw(st.sampled_from([start + 60, start + 90, 1440]).filter(lambda e: e <= 1440)
                   | st.integers(start + 1, 1440))
    return ref.Window(days, start, end)


def _overlap(a: ref.Window, b: ref.Window) -> bool:
    return bool(a.days & b.days) and a.start_minute < b.end_minute and \
        b.start_minute < a.end_minute


@st.composite
def calendars(draw: st.DrawFn, w: Window) -> ref.Calendar:
    tz = draw(st.sampled_from(ZONES))
    hours = tuple(draw(st.lists(windows(wide=True), max_size=2).filter(
        lambda ws: len(ws) < 2 or not _overlap(ws[0], ws[1]))))
    holidays = frozenset(draw(st.lists(st.sampled_from(w.days()), max_size=2)))
    return ref.Calendar(tz, hours, holidays)


def _second(rnd_us: int) -> dt.datetime:
    """Mostly whole seconds; some windows written with a fraction of a second."""
    return ref.from_us(rnd_us - rnd_us % (US if rnd_us % 5 else 1000))


@st.composite
def exclusions(draw: st.DrawFn, w: Window, maintenance: ref.IntervalSource,
               available: bool = True) -> ref.Exclusion:
    kind = draw(st.sampled_from(["window", "dates", "weekly", "source"]))
    available = available and draw(st.integers(0, 3)) == 0
    if kind == "window":
        start = draw(st.integers(w.lo - 86400 * US, w.hi).map(_second))
        length = draw(st.sampled_from([1, 45, 3600, 2 * 3600, 86400]) | st.integers(1, 40000))
        return ref.Exclusion("window", start=start, end=start + dt.timedelta(seconds=length),
                             as_available=available)
    if kind == "dates":
        first = draw(st.sampled_from(w.days()))
        last = first + dt.timedelta(days=draw(st.integers(0, 1)))
        return ref.Exclusion("dates", first=first, last=last, as_available=available)
    if kind == "weekly":
        return ref.Exclusion("weekly", weekly=draw(windows()), as_available=available)
    where = draw(st.none() | st.just(APPROVED))
    return ref.Exclusion("source", source=maintenance, where=where, as_available=available)


PERCENTS = tuple(Fraction(Decimal(t)) / 100 for t in
                 ("0", "25", "50", "75", "80", "90", "95", "99", "99.5", "99.9", "100", "33.3"))
LATENCIES = tuple(Fraction(v) for v in (0, 50, 100, 150, 200, 250, 300, 450, "0.5", "299.9"))
COUNTS = tuple(Fraction(v) for v in (0, 1, 2, 3, 5, 10, 20, 50))
QUANTILES = tuple(Fraction(Decimal(t)) for t in ("50", "75", "90", "95", "99", "99.9", "12.5",
                                                 "100", "0.1", "33.3"))
FUNCTIONS = ("percentile", "mean", "max", "min", "sum", "count")
SLICES = (60, 300, 900, 1800, 3600)


def thresholds(ind: ref.Indicator) -> tuple[Fraction, ...]:
    unit = value_unit(ind)
    if unit == "%":
        return PERCENTS
    if unit == "":
        return COUNTS
    if isinstance(ind, ref.Value) and ind.function == "sum":
        return (*LATENCIES, Fraction(1000), Fraction(5000), Fraction(20000))
    return LATENCIES


@st.composite
def ratios(draw: st.DrawFn, events: ref.EventSource) -> ref.Ratio:
    good = draw(conditions(EVENT_ATOMS))
    total = draw(st.none() | conditions(EVENT_ATOMS))
    return ref.Ratio(events, good, total)


@st.composite
def values(draw: st.DrawFn, events: ref.EventSource,
           functions: tuple[str, ...] = FUNCTIONS) -> ref.Value:
    function = draw(st.sampled_from(functions))
    where = draw(st.none() | conditions(EVENT_ATOMS))
    if function == "count":
        return ref.Value("count", events, None, where)
    q = draw(st.sampled_from(QUANTILES)) if function == "percentile" else None
    method = draw(st.sampled_from(["nearest", "linear"])) if q is not None else "nearest"
    return ref.Value(function, events, "latency_ms", where, q, method)  # type: ignore[arg-type]


@st.composite
def uptimes(draw: st.DrawFn, incidents: ref.IntervalSource) -> ref.Uptime:
    where = draw(st.none() | conditions(INCIDENT_ATOMS))
    granularity = draw(st.sampled_from([None, 30, 60, 300]))
    return ref.Uptime(incidents, where, granularity)


@st.composite
def sliced(draw: st.DrawFn, events: ref.EventSource) -> ref.Timeslices | ref.SliceMean:
    size = draw(st.sampled_from(SLICES))
    inner = draw(ratios(events) | values(events))
    if draw(st.booleans()):
        op = draw(st.sampled_from([">=", ">", "<=", "<"]))
        threshold = draw(st.sampled_from(thresholds(inner)))
        empty = draw(st.sampled_from(["good", "bad", "skip"]))
        return ref.Timeslices(size, inner, op, threshold, empty)  # type: ignore[arg-type]
    empty = draw(st.sampled_from(["good", "skip"])) if isinstance(inner, ref.Ratio) else "skip"
    return ref.SliceMean(size, inner, empty)  # type: ignore[arg-type]


@st.composite
def objectives(draw: st.DrawFn, name: str, indicator: st.SearchStrategy[ref.Indicator],
               w: Window) -> ref.Objective:
    ind = draw(indicator)
    options = thresholds(ind)
    op = draw(st.sampled_from([">=", ">", "<=", "<"]))
    target = draw(st.sampled_from(options))
    # A valid schedule: tiers further from the target give strictly larger credits.
    direction = "below" if op in (">=", ">") else "above"
    points = draw(st.lists(st.sampled_from(options), unique=True, max_size=3))
    percents = draw(st.lists(st.sampled_from(["5", "10", "12.5", "25", "100"]), unique=True,
                             min_size=len(points), max_size=len(points)))
    points.sort(reverse=direction == "below")
    percents.sort(key=Decimal)
    tiers = [ref.Tier(direction, x, Decimal(pc))  # type: ignore[arg-type]
             for x, pc in zip(points, percents, strict=True)]
    hours = draw(st.sampled_from([None, None, "cal"])) and draw(calendars(w))
    return ref.Objective(name, ind, op, target, hours, tuple(tiers))


FEES = {"GBP": ("1234.56", "12000.00", "0.10", "999.99"), "JPY": ("100000", "7"),
        "KWD": ("12.345", "0.005")}
MINOR = {"GBP": 2, "JPY": 0, "KWD": 3}


@st.composite
def cases(draw: st.DrawFn, family: str, available: bool = True) -> Case:
    """An agreement of one indicator family (`events`: ratios and aggregates, `uptime`,
    `slices`) with its data; `available=False` draws no `as available` exclusion."""
    w = draw(st.sampled_from([AUTUMN, AUTUMN, SPRING]))
    key = draw(st.sampled_from([SERVICE, "checkout-v2"]))
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    events = event_rows(rnd, w, draw(st.integers(0, 300) | st.integers(100, 300)), key)
    incidents = interval_rows(rnd, w, draw(st.integers(0, 40)), key, "severity",
                              ("sev1", "sev2", "sev3", None))
    maintenance = interval_rows(rnd, w, draw(st.integers(0, 8)), key, "approved",
                                (True, False, None))
    ev_source = ref.EventSource(events)
    inc_source = ref.IntervalSource(incidents)
    mnt_source = ref.IntervalSource(maintenance)

    tz = draw(st.sampled_from([LONDON, LONDON, "UTC", "America/New_York", "Asia/Kolkata"]))
    kinds = ["daily", "daily", "weekly", "monthly", "hourly", "rolling"]
    if family != "slices":  # a quarter of one-minute slices is slow to enumerate in Python
        kinds.append("quarterly")
    period = draw(st.sampled_from(kinds))
    rolling_s = draw(st.sampled_from([2 * 86400, 36 * 3600])) if period == "rolling" else None
    if period in ("monthly", "quarterly"):
        date_from = ref._date_period_start(period, w.first)
        date_to = ref._next_date_period(period, date_from) - dt.timedelta(days=1)
    elif period == "weekly":
        date_from, date_to = w.first - dt.timedelta(days=w.first.weekday()), w.last
    elif period == "hourly":
        date_from = date_to = ref.from_us(ref.to_us(w.change)).date()
    else:
        date_from, date_to = w.first, w.last
    effective_start = effective_end = None
    if draw(st.booleans()):
        effective_start = draw(st.sampled_from(w.days()))
        if draw(st.booleans()):
            effective_end = effective_start + dt.timedelta(days=draw(st.integers(0, 3)))

    if family == "events":
        indicator = ratios(ev_source) | values(ev_source)
    elif family == "uptime":
        indicator = uptimes(inc_source)
    else:
        indicator = sliced(ev_source)
    names = [f"o{i + 1}" for i in range(draw(st.integers(1, 3)))]
    objs = tuple(draw(objectives(n, indicator, w)) for n in names)

    currency = draw(st.sampled_from(list(FEES)))
    fee = cap = None
    if period == "rolling":  # credits are not allowed on rolling periods
        objs = tuple(ref.Objective(o.name, o.indicator, o.op, o.target, o.hours) for o in objs)
    elif draw(st.integers(0, 3)):
        fee = Decimal(draw(st.sampled_from(FEES[currency])))
        cap = draw(st.sampled_from([None, Fraction(1, 2), Fraction(1, 10), Fraction(3, 200)]))
    agreement = ref.Agreement(
        service_key=key, objectives=objs, timezone=tz, period=period, rolling_s=rolling_s,
        effective_start=effective_start, effective_end=effective_end,
        hours=draw(st.sampled_from([None, None, "cal"])) and draw(calendars(w)),
        exclusions=tuple(draw(st.lists(exclusions(w, mnt_source, available), max_size=3))),
        fee=fee, minor_units=MINOR[currency], credit_cap=cap,
    )
    after = ref.from_us(w.hi) + dt.timedelta(days=draw(st.sampled_from([1, 10, 40])))
    if period in ("monthly", "quarterly"):
        after = max(after, ref.from_us(ref.first_instant_of_date(tz, date_to)) +
                    dt.timedelta(days=2))
    inside = st.integers(w.lo, w.hi).map(ref.from_us)
    midnight = st.sampled_from(w.days()).map(
        lambda d: ref.from_us(ref.first_instant_of_date(tz, d)))
    as_of = draw(st.one_of(st.just(after), inside, midnight))
    return Case(agreement, events, incidents, maintenance, date_from, date_to, as_of, currency,
                draw(st.sampled_from([0, 0, 1, -5])))


# --------------------------------------------------------------- known discrepancies
#
# Minimal inputs on which the engine and the reference disagreed, kept as explicit examples.
# Each is one daily London period (2026-10-24, complete) of one objective over a few rows.


def known_case(rows: list[tuple[str, int, float]],
               indicator: Callable[[ref.EventSource], ref.Indicator], op: str, target: Fraction,
               exclusions: tuple[ref.Exclusion, ...] = ()) -> Case:
    """Rows given as (UTC time, status, latency_ms), all of the agreement's service."""
    events = [{"ts": dt.datetime.fromisoformat(t).replace(tzinfo=UTC), "service": SERVICE,
               "status": s, "latency_ms": v, "method": "GET"} for t, s, v in rows]
    objective = ref.Objective("o1", indicator(ref.EventSource(events)), op, target)
    agreement = ref.Agreement(SERVICE, (objective,), timezone=LONDON, period="daily",
                              exclusions=exclusions)
    day = dt.date(2026, 10, 24)
    return Case(agreement, events, [], [], day, day, dt.datetime(2026, 11, 1, tzinfo=UTC))


AS_AVAILABLE_DAY = ref.Exclusion("dates", first=dt.date(2026, 10, 24), last=dt.date(2026, 10, 24),
                                 as_available=True)
STATUS_OK = EVENT_ATOMS[0]  # status < 500

# `as available` time stays counted (docs/semantics.md §3): the 3 rows of a day declared
# available count as good, 3/3, although two of them are server errors.
KNOWN_AS_AVAILABLE_RATIO = known_case(
    [("2026-10-24T10:00:00", 200, 1.0), ("2026-10-24T10:01:00", 500, 1.0),
     ("2026-10-24T10:02:00", 500, 1.0)],
    lambda s: ref.Ratio(s, STATUS_OK), ">=", Fraction(1, 2), (AS_AVAILABLE_DAY,))

# The same for slices: every hour of the available day is a good slice, 24/24, although the
# 10:00 slice's only row is a server error.
KNOWN_AS_AVAILABLE_SLICES = known_case(
    [("2026-10-24T10:00:00", 500, 1.0)],
    lambda s: ref.Timeslices(3600, ref.Ratio(s, STATUS_OK), ">=", Fraction(99, 100), "bad"),
    ">=", Fraction(1, 2), (AS_AVAILABLE_DAY,))

# §4.8: measured values are exact. The mean of three 0.1 ms in one slice is exactly
# 0.1000000000000000055511151231257827 ms, whose nearest double is 0.1; the engine's per-slice
# mean in doubles gave 0.10000000000000002.
KNOWN_SLICE_MEAN_OF_MEAN = known_case(
    [("2026-10-24T10:00:00", 200, 0.1), ("2026-10-24T10:00:01", 200, 0.1),
     ("2026-10-24T10:00:02", 200, 0.1)],
    lambda s: ref.SliceMean(60, ref.Value("mean", s, "latency_ms")), "<=", Fraction(300))

# Per-slice sums too: 0.1 + 0.2 + 0.3 is exactly 0.6000000000000000055511151231257827, nearest
# double 0.6; summed in doubles it is 0.6000000000000001.
KNOWN_SLICE_MEAN_OF_SUM = known_case(
    [("2026-10-24T10:00:00", 200, 0.1), ("2026-10-24T10:00:01", 200, 0.2),
     ("2026-10-24T10:00:02", 200, 0.3)],
    lambda s: ref.SliceMean(60, ref.Value("sum", s, "latency_ms")), "<=", Fraction(300))

# Per-slice linear percentiles: p50 of 0.1 and 0.7 is exactly (0.1 + 0.7) / 2 =
# 0.39999999999999999167 < 0.4, so the slice fails `>= 0.4ms` and the day has 1439 good slices
# of 1440; interpolated in doubles it is 0.4, the slice passes and the day is wrongly `met`.
KNOWN_TIMESLICES_LINEAR = known_case(
    [("2026-10-24T10:00:00", 200, 0.1), ("2026-10-24T10:00:01", 200, 0.7)],
    lambda s: ref.Timeslices(60, ref.Value("percentile", s, "latency_ms", q=Fraction(50),
                                           method="linear"), ">=", Fraction(2, 5)),
    ">=", Fraction(1))


# --------------------------------------------------------------------------- checking


def run_engine(case: Case) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "policy.sla").write_text(case.text())
        write_table(case.events, EVENT_SCHEMA, d / "requests.parquet")
        write_table(case.incidents, INCIDENT_SCHEMA, d / "incidents.parquet")
        write_table(case.maintenance, MAINTENANCE_SCHEMA, d / "maintenance.parquet")
        model = slang.load([str(d / "policy.sla")])
        assert not model.errors, [str(e) for e in model.errors] + [case.text()]
        data = {t: d / f"{t}.parquet" for t in ("requests", "incidents", "maintenance")}
        report = audit(model, data, choice=PeriodChoice(date_from=case.date_from,
                                                        date_to=case.date_to),
                       as_of=case.as_of)
        return report.to_dict()


def _float(v: Fraction | Decimal | None) -> float | None:
    return None if v is None else float(v)


def _rfc(us: int) -> str:
    return ref.from_us(us).strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{us % US:06d}".rstrip("0") if us % US else "") + "Z"


def expected_row(r: ref.Result) -> dict[str, Any]:
    row = {
        "period_start": _rfc(r.start), "period_end": _rfc(r.end),
        "measured": _float(r.measured), "good": _float(r.good), "total": _float(r.total),
        "status": r.status,
        "credit_percent": float(r.credit_percent),
        "credit_amount": None if r.credit_amount is None else str(r.credit_amount),
    }
    if r.detail["budget"] is not None:
        row["budget"] = {k: _float(v) for k, v in r.detail["budget"].items()}
    if "values_skipped" in r.detail:  # null and NaN values of an aggregate, counted (§4.2)
        row["values_skipped"] = r.detail["values_skipped"]
    return row


def actual_row(r: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    status = r["status"]
    if expected["status"] == "running" and status in ("met", "at_risk", "breached"):
        status = "running"  # projections are not modelled by the reference
    return {
        "period_start": r["period_start"], "period_end": r["period_end"],
        "measured": _float(r["measured"]), "good": _float(r["good"]),
        "total": _float(r["total"]), "status": status,
        "credit_percent": float(r["credit_percent"]),
        "credit_amount": r["credit_amount"],
        "values_skipped": r["values_skipped"],
        "budget": None if r["budget"] is None else {k: _float(v) for k, v in r["budget"].items()},
    }


def check(case: Case) -> None:
    got = run_engine(case)
    a = case.agreement
    want = ref.evaluate(a, case.as_of, case.date_from, case.date_to)
    expected = {(r.objective, r.period): expected_row(r) for r in want.results}
    actual = {(r["objective"], r["period"]): r for r in got["results"]}
    problems = []
    if sorted(expected) != sorted(actual):
        problems.append(f"periods differ: engine {sorted(actual)}, reference {sorted(expected)}")
    for k in sorted(set(expected) & set(actual)):
        e = expected[k]
        g = actual_row(actual[k], e)
        if isinstance(a.objectives[[o.name for o in a.objectives].index(k[0])].indicator,
                      ref.SliceMean):
            g["good"] = None  # a mean has no "good slices"; the engine says null, or 0 if none
        diff = {f: (g[f], e[f]) for f in e if g[f] != e[f]}
        if diff:
            problems.append(f"{k}: (engine, reference) {diff}")
    got_adj = [(x["period"], Decimal(x["amount"])) for x in got["adjustments"]]
    if got_adj != want.adjustments:
        problems.append(f"cap adjustments: engine {got_adj}, reference {want.adjustments}")
    assert not problems, "\n".join(problems) + "\n" + case.describe() + "\nengine: " + \
        json.dumps(got["results"], indent=1)[:4000]


SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(cases("events"))
@example(KNOWN_AS_AVAILABLE_RATIO)
def test_ratios_and_aggregates_equal_the_reference(case: Case) -> None:
    check(case)


@SETTINGS
@given(cases("uptime"))
def test_uptime_equals_the_reference(case: Case) -> None:
    check(case)


@SETTINGS
@given(cases("slices"))
@example(KNOWN_AS_AVAILABLE_SLICES)
@example(KNOWN_SLICE_MEAN_OF_MEAN)
@example(KNOWN_SLICE_MEAN_OF_SUM)
@example(KNOWN_TIMESLICES_LINEAR)
def test_slices_equal_the_reference(case: Case) -> None:
    check(case)


# ------------------------------------------------- the reference on the spec's own examples


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_reference_periods_follow_the_spec() -> None:
    london = ref.Agreement(SERVICE, (), timezone=LONDON, period="monthly")
    [october] = ref.periods(london, ref.to_us(_at("2027-01-01T00:00")), dt.date(2026, 10, 1),
                            dt.date(2026, 10, 31))
    assert (october.label, october.end - october.start) == ("2026-10", 745 * 3600 * US)
    assert ref.from_us(october.start) == _at("2026-09-30T23:00")
    clipped = ref.Agreement(SERVICE, (), timezone=LONDON, period="monthly",
                            effective_start=dt.date(2026, 10, 16))
    [half] = ref.periods(clipped, ref.to_us(_at("2027-01-01T00:00")), dt.date(2026, 10, 1),
                         dt.date(2026, 10, 31))
    assert (half.end - half.start, half.nominal_end - half.nominal_start) == (
        385 * 3600 * US, 745 * 3600 * US)
    hourly = ref.Agreement(SERVICE, (), timezone=LONDON, period="hourly")
    labels = [p.label for p in ref.periods(hourly, ref.to_us(_at("2027-01-01T00:00")),
                                           dt.date(2026, 10, 25), dt.date(2026, 10, 25))]
    assert len(labels) == 25
    assert labels[:3] == ["2026-10-25T00+01:00", "2026-10-25T01+01:00", "2026-10-25T01+00:00"]
    weekly = ref.Agreement(SERVICE, (), timezone=LONDON, period="weekly")
    [week] = ref.periods(weekly, ref.to_us(_at("2027-02-01T00:00")), dt.date(2026, 12, 28),
                         dt.date(2027, 1, 3))
    assert week.label == "2026-W53"
    days = ref.Agreement(SERVICE, (), timezone=LONDON, period="daily")
    [sunday] = ref.periods(days, ref.to_us(_at("2027-01-01T00:00")), dt.date(2026, 10, 25),
                           dt.date(2026, 10, 25))
    assert sunday.end - sunday.start == 25 * 3600 * US


def test_reference_uptime_432_minutes_is_exactly_99_percent() -> None:
    """§4.7: 432 minutes down in a 30-day month is exactly 99.0 %, not `below 99.0%`."""
    incidents = [{"start": _at("2026-11-10T00:00"), "end": _at("2026-11-10T07:12"),
                  "service": SERVICE, "severity": "sev1"}]
    up = ref.Objective("up", ref.Uptime(ref.IntervalSource(incidents), granularity_s=60), ">=",
                       Fraction(99, 100), tiers=(ref.Tier("below", Fraction(99, 100),
                                                          Decimal(10)),))
    a = ref.Agreement(SERVICE, (up,), timezone="UTC", period="monthly", fee=Decimal(100))
    [r] = ref.evaluate(a, _at("2026-12-05T00:00"), dt.date(2026, 11, 1),
                       dt.date(2026, 11, 30)).results
    assert (r.measured, r.status, r.credit_percent) == (Fraction(99, 100), "met", 0)


def test_reference_uptime_granularity_and_exclusions() -> None:
    """§4.3-4.4: overlapping incidents count once; a 45 s blip counts 0 and 2 min 30 s counts
    2 min; excluded time leaves both T and D; `as available` time stays in T as up time."""
    rows = [("2026-11-10T00:00:00", "2026-11-10T00:02:30"),  # 2 min 30 s
            ("2026-11-10T00:01:00", "2026-11-10T00:02:00"),  # inside the first
            ("2026-11-11T00:00:00", "2026-11-11T00:00:45"),  # a blip
            ("2026-11-12T10:00:00", "2026-11-12T12:00:00")]  # half under an exclusion
    incidents = [{"start": _at(a), "end": _at(b), "service": SERVICE} for a, b in rows]
    up = ref.Objective("up", ref.Uptime(ref.IntervalSource(incidents), granularity_s=60), ">=",
                       Fraction(0))
    for available, t_minus_m, down in ((False, 86400 - 3600, 2 * 60 + 3600),
                                       (True, 86400, 2 * 60 + 3600)):
        x = ref.Exclusion("window", start=_at("2026-11-12T11:00"), end=_at("2026-11-12T12:00"),
                          as_available=available)
        a = ref.Agreement(SERVICE, (up,), timezone="UTC", period="daily", exclusions=(x,))
        results = ref.evaluate(a, _at("2026-12-01T00:00"), dt.date(2026, 11, 10),
                               dt.date(2026, 11, 12)).results
        assert [r.detail["downtime_s"] for r in results] == [120, 0, 3600]
        assert results[2].total == t_minus_m
        assert results[2].measured == Fraction(t_minus_m - 3600, t_minus_m)
        assert sum(r.detail["downtime_s"] for r in results) == down


def test_reference_percentiles_follow_the_docs_example() -> None:
    """docs 6.2: 120, 80, 300, 95, 150: p50 = 120, p95 = 300, linear p95 = 270."""
    events = [{"ts": _at(f"2026-11-10T10:0{i}"), "service": SERVICE, "latency_ms": v}
              for i, v in enumerate([120.0, 80.0, 300.0, 95.0, 150.0])]
    src = ref.EventSource(events)
    objectives = tuple(
        ref.Objective(name, ref.Value("percentile", src, "latency_ms", q=Fraction(q),
                                      method=method), "<=", Fraction(300))
        for name, q, method in (("p50", 50, "nearest"), ("p95", 95, "nearest"),
                                ("lin", 95, "linear")))
    a = ref.Agreement(SERVICE, objectives, timezone="UTC", period="daily")
    results = ref.evaluate(a, _at("2026-12-01T00:00"), dt.date(2026, 11, 10),
                           dt.date(2026, 11, 10)).results
    assert [r.measured for r in results] == [120, 300, 270]


def test_reference_credits_follow_the_docs_example() -> None:
    """docs 7.7: fee 12000.00 GBP, October from the 16th (385 of 745 hours), 98.7 % against
    below 99.9 % => 10 % and below 99.0 % => 25 %: 25 % of 6201.3422… = 1550.34 GBP; the cap
    of 50 % is 3100.67."""
    events = [{"ts": _at("2026-10-20T10:00") + dt.timedelta(seconds=i), "service": SERVICE,
               "status": 500 if i < 13 else 200} for i in range(1000)]
    tiers = (ref.Tier("below", Fraction(999, 1000), Decimal(10)),
             ref.Tier("below", Fraction(99, 100), Decimal(25)))
    o = ref.Objective("availability", ref.Ratio(ref.EventSource(events), STATUS_OK), ">=",
                      Fraction(999, 1000), tiers=tiers)
    a = ref.Agreement(SERVICE, (o,), timezone=LONDON, period="monthly",
                      effective_start=dt.date(2026, 10, 16), fee=Decimal("12000.00"),
                      credit_cap=Fraction(1, 2))
    ev = ref.Evaluator(a, _at("2026-11-05T00:00"))
    [r] = ev.run(dt.date(2026, 10, 1), dt.date(2026, 10, 31)).results
    assert (r.measured, r.status, r.credit_percent) == (Fraction(987, 1000), "breached", 25)
    assert str(r.credit_amount) == "1550.34"
    [p] = ref.periods(a, ev.as_of, dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert str(ref.round_half_up(ev.fee(p) / 2, 2)) == "3100.67"
    assert ref.round_half_up(Fraction(5, 1000), 2) == Decimal("0.01")  # half up, not to even
    assert ref.round_half_up(Fraction(25, 1000), 2) == Decimal("0.03")
