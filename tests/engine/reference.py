"""A naive reference evaluator of the language spec §3-4, for tests only.

It evaluates one agreement over plain Python rows (dicts), written straight from the spec's
text with clarity before speed, and shares no code with the engine: time zones come from
`zoneinfo` and `datetime` directly, every value is an exact `Fraction`, money is `Decimal`
rounded half-up in integers.

How it decides things:

- **Instants** are integers, microseconds since the Unix epoch (UTC).
- **Which rows count** is decided row by row from the definitions: the row's local time in the
  calendar's zone lies in one of the calendar's windows and not on a holiday; its local time in
  the agreement's zone does not lie in a weekly exclusion; its local date is not in a date
  exclusion; it is not inside any excluded interval; its key matches; its `where` holds.
- **Amounts of time** (uptime's T, M and D, and which slices exist) come from a sweep: every
  instant where any of those memberships could change (period bounds, as_of, interval ends,
  local window edges and midnights in both folds, UTC offset transitions) cuts the time line
  into elementary pieces; membership is constant on each piece, so it is tested once, at the
  piece's first instant, with the same per-instant functions the rows use. The sweep checks
  that claim at each piece's last microsecond too, so a missing cut fails loudly.

Reporting conventions the spec leaves open follow the engine's report: value indicators report
`total` = the number of values (`count`: `good` = the number of rows), slice indicators report
slices, uptime reports seconds. Interpretations of the spec are marked READING below.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Any, Literal
from zoneinfo import ZoneInfo

US = 1_000_000
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
Row = Mapping[str, Any]
Predicate = Callable[[Row], bool]


# ----------------------------------------------------------------------------- instants


def to_us(t: dt.datetime) -> int:
    assert t.tzinfo is not None, "aware datetimes only"
    return (t - EPOCH) // dt.timedelta(microseconds=1)


def from_us(us: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=us)


_LOCAL_CACHE: dict[tuple[int, str], dt.datetime] = {}


def local_time(us: int, tz: str) -> dt.datetime:
    """The instant's wall-clock time in `tz` (cached: rows are asked about many times)."""
    key = (us, tz)
    if key not in _LOCAL_CACHE:
        if len(_LOCAL_CACHE) > 500_000:
            _LOCAL_CACHE.clear()
        _LOCAL_CACHE[key] = from_us(us).astimezone(ZoneInfo(tz))
    return _LOCAL_CACHE[key]


def micro_of_day(local: dt.datetime) -> int:
    return ((local.hour * 60 + local.minute) * 60 + local.second) * US + local.microsecond


def instants_of_local(tz: str, d: dt.date, minute: int) -> set[int]:
    """Every UTC instant whose local time in `tz` is `d` at `minute` (0..1440), in both folds;
    times that do not exist (spring-forward gap) give instants near the gap, which is harmless:
    they are only used as extra cut points."""
    day = d + dt.timedelta(days=minute // 1440)
    minute %= 1440
    wall = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
    return {to_us(wall.replace(tzinfo=ZoneInfo(tz), fold=f)) for f in (0, 1)}


def first_instant_of_date(tz: str, d: dt.date) -> int:
    """The first instant whose local date in `tz` is `d` (local midnight)."""
    wall = dt.datetime.combine(d, dt.time())
    found = [
        u for f in (0, 1)
        if local_time(u := to_us(wall.replace(tzinfo=ZoneInfo(tz), fold=f)), tz)
        .replace(tzinfo=None) == wall
    ]
    assert found, f"local midnight of {d} does not exist in {tz}: not supported here"
    return min(found)


def offset_transitions(tz: str, lo: int, hi: int) -> set[int]:
    """Instants in (lo, hi] where the UTC offset of `tz` changes: sample every hour, then bisect
    to the second (offsets change on whole seconds, never twice within an hour)."""
    z = ZoneInfo(tz)

    def offset(s: int) -> dt.timedelta | None:
        return (EPOCH + dt.timedelta(seconds=s)).astimezone(z).utcoffset()

    out: set[int] = set()
    a = lo // US
    while a < hi // US + 1:
        b = a + 3600
        if offset(a) != offset(b):
            x, y = a, b
            while y - x > 1:
                mid = (x + y) // 2
                x, y = (mid, y) if offset(mid) == offset(x) else (x, mid)
            out.add(y * US)
        a = b
    return out


def local_dates(tz: str, lo: int, hi: int) -> list[dt.date]:
    """Every local date touched by [lo, hi], with a day of margin either side."""
    first = local_time(lo, tz).date() - dt.timedelta(days=1)
    last = local_time(hi, tz).date() + dt.timedelta(days=1)
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


# ----------------------------------------------------------------------------- policies


@dataclass(frozen=True)
class Window:
    """Local wall-clock minutes [start_minute, end_minute) on ISO weekdays (0 = Monday)."""

    days: frozenset[int]
    start_minute: int
    end_minute: int  # 1440 is 24:00

    def covers(self, local: dt.datetime) -> bool:
        return local.weekday() in self.days and (
            self.start_minute * 60 * US <= micro_of_day(local) < self.end_minute * 60 * US
        )


@dataclass(frozen=True)
class Calendar:
    timezone: str
    hours: tuple[Window, ...] = ()  # none: every hour
    holidays: frozenset[dt.date] = frozenset()

    def covers(self, us: int) -> bool:
        local = local_time(us, self.timezone)
        if local.date() in self.holidays:
            return False
        return not self.hours or any(w.covers(local) for w in self.hours)

    def cuts(self, lo: int, hi: int) -> set[int]:
        minutes = {0} | {m for w in self.hours for m in (w.start_minute, w.end_minute)}
        out = offset_transitions(self.timezone, lo, hi)
        for d in local_dates(self.timezone, lo, hi):
            for minute in minutes:
                out |= instants_of_local(self.timezone, d, minute)
        return out


@dataclass(frozen=True)
class EventSource:
    rows: Sequence[Row]
    time: str = "ts"
    key: str | None = "service"


@dataclass(frozen=True)
class IntervalSource:
    rows: Sequence[Row]
    start: str = "start"
    end: str = "end"
    key: str | None = "service"

    def intervals(self, service_key: str, where: Predicate | None, as_of: int
                  ) -> list[tuple[int, int]]:
        """The usable intervals of one service as [start, end) in µs: a null start or an end
        before the start is skipped; a null end is ongoing until as_of."""
        out = []
        for r in self.rows:
            if self.key is not None and r.get(self.key) != service_key:
                continue
            if where is not None and not where(r):
                continue
            s = r.get(self.start)
            e = r.get(self.end)
            if s is None:
                continue
            s_us = to_us(s)
            e_us = as_of if e is None else to_us(e)
            if e is not None and e_us < s_us:
                continue
            out.append((s_us, e_us))
        return out


@dataclass(frozen=True)
class Exclusion:
    """One `exclude`: `window` [start, end) instants; `dates` whole local days first..last in
    the agreement's zone; `weekly` a local window in the agreement's zone; `source` every
    interval of an intervals source (its key, its `where`)."""

    kind: Literal["window", "dates", "weekly", "source"]
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    first: dt.date | None = None
    last: dt.date | None = None
    weekly: Window | None = None
    source: IntervalSource | None = None
    where: Predicate | None = None
    as_available: bool = False


@dataclass(frozen=True)
class Ratio:
    """`ratio(S where good)` (total None) or `ratio(S where good, S where total)`."""

    source: EventSource
    good: Predicate
    total: Predicate | None = None


@dataclass(frozen=True)
class Value:
    function: Literal["percentile", "mean", "max", "min", "sum", "count"]
    source: EventSource
    column: str | None  # None for count
    where: Predicate | None = None
    q: Fraction | None = None
    method: Literal["nearest", "linear"] = "nearest"


@dataclass(frozen=True)
class Uptime:
    source: IntervalSource
    where: Predicate | None = None
    granularity_s: int | None = None


@dataclass(frozen=True)
class Timeslices:
    slice_s: int
    inner: Ratio | Value
    op: str
    threshold: Fraction
    empty: Literal["good", "bad", "skip"] = "good"


@dataclass(frozen=True)
class SliceMean:
    slice_s: int
    inner: Ratio | Value
    empty: Literal["good", "skip"] = "skip"


Indicator = Ratio | Value | Uptime | Timeslices | SliceMean


@dataclass(frozen=True)
class Tier:
    direction: Literal["below", "above"]
    threshold: Fraction
    percent: Decimal


@dataclass(frozen=True)
class Objective:
    name: str
    indicator: Indicator
    op: str
    target: Fraction
    hours: Calendar | None = None
    tiers: tuple[Tier, ...] = ()


@dataclass(frozen=True)
class Agreement:
    service_key: str
    objectives: tuple[Objective, ...]
    timezone: str = "UTC"
    period: str = "monthly"  # hourly daily weekly monthly quarterly yearly rolling
    rolling_s: int | None = None
    effective_start: dt.date | None = None
    effective_end: dt.date | None = None  # inclusive
    hours: Calendar | None = None
    exclusions: tuple[Exclusion, ...] = ()
    fee: Decimal | None = None
    minor_units: int = 2
    credit_cap: Fraction | None = None


# ------------------------------------------------------------------------------ periods


@dataclass(frozen=True)
class Period:
    label: str
    start: int  # clipped to effective
    end: int
    nominal_start: int
    nominal_end: int
    complete: bool


def _date_period_start(kind: str, d: dt.date) -> dt.date:
    if kind == "daily":
        return d
    if kind == "weekly":
        return d - dt.timedelta(days=d.weekday())
    if kind == "monthly":
        return d.replace(day=1)
    if kind == "quarterly":
        return d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
    return d.replace(month=1, day=1)


def _next_date_period(kind: str, d: dt.date) -> dt.date:
    if kind == "daily":
        return d + dt.timedelta(days=1)
    if kind == "weekly":
        return d + dt.timedelta(days=7)
    step = {"monthly": 1, "quarterly": 3, "yearly": 12}[kind]
    months = d.year * 12 + d.month - 1 + step
    return dt.date(months // 12, months % 12 + 1, 1)


def _date_label(kind: str, d: dt.date) -> str:
    if kind == "daily":
        return d.isoformat()
    if kind == "weekly":
        year, week, _ = d.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "monthly":
        return f"{d.year}-{d.month:02d}"
    if kind == "quarterly":
        return f"{d.year}-Q{(d.month - 1) // 3 + 1}"
    return str(d.year)


def _hour_label(tz: str, start: int) -> str:
    local = local_time(start, tz)
    off = local.utcoffset()
    assert off is not None
    seconds = int(off.total_seconds())
    sign = "-" if seconds < 0 else "+"
    h, rest = divmod(abs(seconds), 3600)
    return f"{local.date().isoformat()}T{local.hour:02d}{sign}{h:02d}:{rest // 60:02d}"


def _hour_starts(tz: str, lo: int, hi: int) -> list[int]:
    """Instants in [lo − 1 day, hi + 1 day] where local time is on the hour, or where the
    offset changes (an hourly period begins at each)."""
    q = 15 * 60 * US
    first = (lo - 86400 * US) // q * q
    starts = {
        u for u in range(first, hi + 86400 * US, q)
        if (lambda t: (t.minute, t.second, t.microsecond) == (0, 0, 0))(local_time(u, tz))
    }
    starts |= offset_transitions(tz, first, hi + 86400 * US)
    return sorted(starts)


def _rolling_label(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"rolling-{seconds // size}{unit}"
    return f"rolling-{seconds}s"


def periods(a: Agreement, as_of: int, date_from: dt.date, date_to: dt.date) -> list[Period]:
    """The periods to evaluate (§4.1 and the CLI's selection rule): those whose unclipped start
    lies in [date_from 00:00, date_to + 1 day 00:00) local time, clipped to `effective`,
    dropped when the clipped period is empty or starts at or after as_of. A rolling period is
    the one window [as_of − length, as_of)."""
    tz = a.timezone
    eff_lo = None if a.effective_start is None else first_instant_of_date(tz, a.effective_start)
    eff_hi = (None if a.effective_end is None
              else first_instant_of_date(tz, a.effective_end + dt.timedelta(days=1)))
    lo = first_instant_of_date(tz, date_from)
    hi = first_instant_of_date(tz, date_to + dt.timedelta(days=1))
    nominal: list[tuple[str, int, int]] = []
    if a.period == "rolling":
        assert a.rolling_s
        nominal.append((_rolling_label(a.rolling_s), as_of - a.rolling_s * US, as_of))
    elif a.period == "hourly":
        starts = _hour_starts(tz, lo, hi)
        for s, e in pairwise(starts):
            if lo <= s < hi:
                nominal.append((_hour_label(tz, s), s, e))
    else:
        d = _date_period_start(a.period, date_from)
        while first_instant_of_date(tz, d) < hi:
            s = first_instant_of_date(tz, d)
            e = first_instant_of_date(tz, _next_date_period(a.period, d))
            if lo <= s:
                nominal.append((_date_label(a.period, d), s, e))
            d = _next_date_period(a.period, d)
    out = []
    for label, s, e in nominal:
        cs = s if eff_lo is None else max(s, eff_lo)
        ce = e if eff_hi is None else min(e, eff_hi)
        if ce <= cs or cs >= as_of:
            continue
        out.append(Period(label, cs, ce, s, e, complete=ce <= as_of))
    return out


# ------------------------------------------------------------------------------ results


@dataclass
class Result:
    objective: str
    period: str
    start: int  # the period's clipped bounds
    end: int
    measured: Fraction | None
    good: Fraction | None
    total: Fraction | None
    status: str  # met | breached | no_data for complete periods; "running" otherwise
    credit_percent: Decimal
    credit_amount: Decimal | None
    complete: bool
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Evaluation:
    results: list[Result]
    adjustments: list[tuple[str, Decimal]]  # (period label, amount) of the credit cap's cut


def satisfies(value: Fraction, op: str, target: Fraction) -> bool:
    return {
        ">=": value >= target, ">": value > target, "<=": value <= target,
        "<": value < target, "==": value == target,
    }[op]


def round_half_up(amount: Fraction, minor_units: int) -> Decimal:
    """Half-up to `minor_units` decimals, in integers (amounts are never negative here)."""
    assert amount >= 0
    scaled = amount * 10**minor_units
    units = math.floor(scaled + Fraction(1, 2))
    return Decimal(units).scaleb(-minor_units)


class Evaluator:
    """Evaluates one agreement at one as_of; `run` gives every objective × period."""

    def __init__(self, a: Agreement, as_of: dt.datetime):
        self.a = a
        self.as_of = to_us(as_of)
        self._intervals: dict[int, list[tuple[int, int]]] = {}

    # -------------------------------------------------------------- per-instant membership

    def excluded(self, t: int, which: Literal["removed", "available", "any"] = "any") -> bool:
        """Whether the instant lies in an exclusion: `removed` the ordinary ones, `available`
        those declared `as available`, `any` both.

        READING (the project's choice, docs/semantics.md §3): `as available` time stays in the
        counted time. Uptime counts it as up; a ratio counts its rows as good (subject to the
        total's condition); value indicators leave its rows out; a slice whose counted time
        lies wholly in it is good (1.0 for `slice_mean` of a ratio)."""
        for x in self.a.exclusions:
            if which == "removed" and x.as_available:
                continue
            if which == "available" and not x.as_available:
                continue
            if self._in_exclusion(x, t):
                return True
        return False

    def _in_exclusion(self, x: Exclusion, t: int) -> bool:
        if x.kind == "window":
            assert x.start is not None and x.end is not None
            return to_us(x.start) <= t < to_us(x.end)
        if x.kind == "dates":
            assert x.first is not None and x.last is not None
            return x.first <= local_time(t, self.a.timezone).date() <= x.last
        if x.kind == "weekly":
            assert x.weekly is not None
            return x.weekly.covers(local_time(t, self.a.timezone))
        assert x.source is not None
        return any(s <= t < e for s, e in self._exclusion_intervals(x))

    def _exclusion_intervals(self, x: Exclusion) -> list[tuple[int, int]]:
        assert x.source is not None
        if id(x) not in self._intervals:  # the same for every period and objective
            self._intervals[id(x)] = x.source.intervals(self.a.service_key, x.where, self.as_of)
        return self._intervals[id(x)]

    def hours_of(self, o: Objective) -> Calendar | None:
        return o.hours if o.hours is not None else self.a.hours

    def in_hours(self, o: Objective, t: int) -> bool:
        cal = self.hours_of(o)
        return cal is None or cal.covers(t)

    def in_time(self, o: Objective, p: Period, t: int) -> bool:
        """Counted time: in the period, before as_of, in hours, outside every ordinary
        exclusion (`as available` time stays counted)."""
        return (p.start <= t < min(p.end, self.as_of) and self.in_hours(o, t)
                and not self.excluded(t, "removed"))

    def available(self, t: int) -> bool:
        return self.excluded(t, "available")

    # ----------------------------------------------------------------------------- rows

    def rows(self, o: Objective, p: Period, source: EventSource, where: Predicate | None
             ) -> list[Row]:
        """The rows that count (§4.2), in the source's order."""
        out = []
        for r in source.rows:
            ts = r.get(source.time)
            if ts is None:
                continue
            if source.key is not None and r.get(source.key) != self.a.service_key:
                continue
            if not self.in_time(o, p, to_us(ts)):
                continue
            if where is not None and not where(r):
                continue
            out.append(r)
        return out

    # ---------------------------------------------------------------------------- sweep

    def cuts(self, o: Objective, p: Period, extra: Iterable[int] = ()) -> list[int]:
        """Every instant in [p.start, until] where a membership used by this objective could
        change, sorted; the elementary pieces are consecutive pairs."""
        lo, hi = p.start, max(p.start, min(p.end, self.as_of))
        points = {lo, hi, *extra}
        cal = self.hours_of(o)
        if cal is not None:
            points |= cal.cuts(lo, hi)
        tz = self.a.timezone
        weekly = {m for x in self.a.exclusions if x.weekly is not None
                  for m in (x.weekly.start_minute, x.weekly.end_minute)}
        points |= offset_transitions(tz, lo, hi)
        for d in local_dates(tz, lo, hi):
            for minute in {0} | weekly:
                points |= instants_of_local(tz, d, minute)
        for x in self.a.exclusions:
            if x.kind == "window":
                assert x.start is not None and x.end is not None
                points |= {to_us(x.start), to_us(x.end)}
            elif x.kind == "source":
                points |= {u for iv in self._exclusion_intervals(x) for u in iv}
        return sorted(u for u in points if lo <= u <= hi)

    def pieces(self, o: Objective, p: Period, test: Callable[[int], bool],
               extra: Iterable[int] = ()) -> list[tuple[int, int]]:
        """Maximal [start, end) pieces of [p.start, until) where `test` holds."""
        cuts = self.cuts(o, p, extra)
        out: list[tuple[int, int]] = []
        for a, b in pairwise(cuts):
            inside = test(a)
            assert test(b - 1) == inside, f"membership changes inside [{a}, {b}): missing cut"
            if not inside:
                continue
            if out and out[-1][1] == a:
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
        return out

    # ----------------------------------------------------------------------- indicators

    def measure(self, o: Objective, p: Period) -> tuple[Fraction | None, Fraction | None,
                                                        Fraction | None, dict[str, Any]]:
        """(measured, good, total, detail) of one objective in one period."""
        ind = o.indicator
        if isinstance(ind, Ratio):
            good, total = self._ratio_counts(ind, self.rows(o, p, ind.source, None))
            return (None if total == 0 else Fraction(good, total)), Fraction(good), \
                Fraction(total), {}
        if isinstance(ind, Value):
            rows = self._not_available(self.rows(o, p, ind.source, ind.where), ind.source)
            measured, n = self._aggregate(ind, rows)
            if ind.function == "count":
                return measured, Fraction(n), None, {"values_skipped": 0}
            return measured, None, Fraction(n), {"values_skipped": len(rows) - n}
        if isinstance(ind, Uptime):
            return self._uptime(o, p, ind)
        return self._slices(o, p, ind)

    def _ratio_counts(self, ind: Ratio, rows: list[Row]) -> tuple[int, int]:
        """total: rows satisfying the total's condition (all rows when it has none); good:
        those also satisfying the good condition, or lying in `as available` time."""
        total = [r for r in rows if ind.total is None or ind.total(r)]
        good = [r for r in total
                if ind.good(r) or self.available(to_us(r[ind.source.time]))]
        return len(good), len(total)

    def _not_available(self, rows: list[Row], source: EventSource) -> list[Row]:
        return [r for r in rows if not self.available(to_us(r[source.time]))]

    @staticmethod
    def _values(column: str, rows: list[Row]) -> list[Fraction]:
        """The column's values; null and NaN are skipped (§4.2). Floats are taken exactly."""
        out = []
        for r in rows:
            v = r.get(column)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            out.append(Fraction(v))
        return out

    def _aggregate(self, ind: Value, rows: list[Row]) -> tuple[Fraction | None, int]:
        """(value, n): n is the number of rows for `count`, else the number of values."""
        if ind.function == "count":
            return Fraction(len(rows)), len(rows)
        assert ind.column is not None
        xs = sorted(self._values(ind.column, rows))
        n = len(xs)
        if ind.function == "sum":
            return sum(xs, Fraction(0)), n
        if n == 0:
            return None, 0
        if ind.function == "mean":
            return sum(xs, Fraction(0)) / n, n
        if ind.function == "max":
            return xs[-1], n
        if ind.function == "min":
            return xs[0], n
        assert ind.q is not None
        if ind.method == "nearest":
            rank = max(1, math.ceil(ind.q * n / 100))  # exact: q is a Fraction
            return xs[rank - 1], n
        h = (n - 1) * ind.q / 100
        i = math.floor(h)
        if i == n - 1:
            return xs[n - 1], n
        return xs[i] + (h - i) * (xs[i + 1] - xs[i]), n

    def _uptime(self, o: Objective, p: Period, ind: Uptime
                ) -> tuple[Fraction | None, Fraction, Fraction, dict[str, Any]]:
        """§4.3-4.4: uptime = (T − M − D) / (T − M); T the in-hours time of the period before
        as_of, M its excluded part, D the downtime left after clipping, each maximal piece
        floored to the granularity. An `as available` exclusion's time stays in T − M and its
        downtime is not counted."""
        down = ind.source.intervals(self.a.service_key, ind.where, self.as_of)

        def measured(t: int) -> bool:  # in T and not in M
            return self.in_hours(o, t) and not self.excluded(t, "removed")

        def is_down(t: int) -> bool:
            return (measured(t) and not self.excluded(t, "available")
                    and any(s <= t < e for s, e in down))

        extra = {u for iv in down for u in iv}
        t_minus_m = sum(b - a for a, b in self.pieces(o, p, measured, extra))
        d = 0
        for a, b in self.pieces(o, p, is_down, extra):
            length = b - a
            if ind.granularity_s:
                length -= length % (ind.granularity_s * US)
            d += length
        if t_minus_m == 0:
            return None, Fraction(0), Fraction(0), {}
        good = Fraction(t_minus_m - d, US)
        total = Fraction(t_minus_m, US)
        return good / total, good, total, {"downtime_s": Fraction(d, US)}

    def _slices(self, o: Objective, p: Period, ind: Timeslices | SliceMean
                ) -> tuple[Fraction | None, Fraction | None, Fraction, dict[str, Any]]:
        """§3: slices of L aligned to the period's start; a slice exists when it overlaps
        counted time; each slice's inner value over the rows that count inside it."""
        length = ind.slice_s * US
        origin = p.start
        slices: set[int] = set()
        for a, b in self.pieces(o, p, lambda t: self.in_time(o, p, t)):
            slices.update(range((a - origin) // length, (b - 1 - origin) // length + 1))
        # slices with counted time outside `as available` time; the others are wholly in it
        partly: set[int] = set()
        for a, b in self.pieces(o, p, lambda t: self.in_time(o, p, t) and not self.available(t)):
            partly.update(range((a - origin) // length, (b - 1 - origin) // length + 1))
        avail = {k for k in slices if k not in partly}
        inner = ind.inner
        where = inner.where if isinstance(inner, Value) else None
        by_slice: dict[int, list[Row]] = {k: [] for k in slices}
        for r in self.rows(o, p, inner.source, where):
            by_slice[(to_us(r[inner.source.time]) - origin) // length].append(r)

        # READING: a slice is empty when no rows count in it ("a slice with no rows"); for
        # mean, max, min and percentiles also when its rows hold no value (there is nothing to
        # compare). So `count` and `sum` slices without rows are empty, not 0.
        values: dict[int, Fraction | None] = {}
        for k in sorted(slices):
            rows = by_slice[k]
            if isinstance(inner, Ratio):
                good, total = self._ratio_counts(inner, rows)
                values[k] = None if total == 0 else Fraction(good, total)
            else:
                rows = self._not_available(rows, inner.source)
                values[k] = self._aggregate(inner, rows)[0] if rows else None
        empty = sum(1 for k, v in values.items() if v is None and k not in avail)
        detail = {"slices": len(slices), "empty_slices": empty}

        if isinstance(ind, Timeslices):
            good = total = 0
            for k, v in values.items():
                if k in avail:
                    total += 1
                    good += 1
                elif v is None:
                    if ind.empty == "skip":
                        continue
                    total += 1
                    good += ind.empty == "good"
                else:
                    total += 1
                    good += satisfies(v, ind.op, ind.threshold)
            measured = None if total == 0 else Fraction(good, total)
            return measured, Fraction(good), Fraction(total), detail

        used: list[Fraction] = []
        for k, v in values.items():
            if v is not None:
                used.append(v)
            elif isinstance(inner, Ratio) and (ind.empty == "good" or k in avail):
                used.append(Fraction(1))
        measured = None if not used else sum(used, Fraction(0)) / len(used)
        return measured, None, Fraction(len(used)), detail

    # ------------------------------------------------------------------------- outcome

    def result(self, o: Objective, p: Period) -> Result:
        measured, good, total, detail = self.measure(o, p)
        if measured is None:
            status = "no_data"
        elif not p.complete:
            status = "running"  # projections are not modelled here
        else:
            status = "met" if satisfies(measured, o.op, o.target) else "breached"
        percent = Decimal(0)
        if status == "breached":
            for tier in o.tiers:
                hit = (measured < tier.threshold if tier.direction == "below"
                       else measured > tier.threshold)
                if hit:
                    percent = max(percent, tier.percent)
        amount = None
        if self.a.fee is not None:
            amount = round_half_up(self.fee(p) * Fraction(percent) / 100, self.a.minor_units)
        detail["budget"] = self.budget(o, good, total)
        return Result(o.name, p.label, p.start, p.end, measured, good, total, status, percent,
                      amount, p.complete, detail)

    @staticmethod
    def budget(o: Objective, good: Fraction | None, total: Fraction | None
               ) -> dict[str, Fraction | None] | None:
        """§4.6, for good/total indicators with a `>=` target t: allowed (1 − t)·total,
        consumed = bad, remaining = allowed − consumed, burn rate (bad/total)/(1 − t)."""
        if not isinstance(o.indicator, Ratio | Uptime | Timeslices) or o.op != ">=":
            return None
        if good is None or not total:
            return None
        bad = total - good
        allowed = (1 - o.target) * total
        burn = None if o.target == 1 else (bad / total) / (1 - o.target)
        return {"allowed": allowed, "consumed": bad, "remaining": allowed - bad,
                "burn_rate": burn}

    def fee(self, p: Period) -> Fraction:
        """The period's fee prorated by real time when clipped by `effective` (§4.7)."""
        assert self.a.fee is not None
        return Fraction(self.a.fee) * Fraction(p.end - p.start, p.nominal_end - p.nominal_start)

    def run(self, date_from: dt.date, date_to: dt.date) -> Evaluation:
        ps = periods(self.a, self.as_of, date_from, date_to)
        results = [self.result(o, p) for o in self.a.objectives for p in ps]
        adjustments = []
        if self.a.fee is not None and self.a.credit_cap is not None:
            for p in ps:
                owed = sum((r.credit_amount or Decimal(0) for r in results
                            if r.period == p.label), Decimal(0))
                cap = round_half_up(self.fee(p) * self.a.credit_cap, self.a.minor_units)
                if owed > cap:
                    adjustments.append((p.label, cap - owed))
        return Evaluation(results, adjustments)


def evaluate(a: Agreement, as_of: dt.datetime, date_from: dt.date, date_to: dt.date
             ) -> Evaluation:
    return Evaluator(a, as_of).run(date_from, date_to)
