"""The shared SQL lowering: conditions, canonical scans and per-evaluation queries as sqlglot
expressions (never string templates), rendered per dialect.

A `Dialect` maps backend operations to SQL: simple ones through its `FUNCTIONS` table (operation
-> SQL function name), the rest through `visit_<Op>` methods; an operation a dialect has neither
for is refused with SLG1102 rather than approximated. Subclasses (duckdb.py, spark.py) fill the
table and override visits.

Values in SQL follow the Arrow engine's canonical form: instants and durations are BIGINT
microseconds (UTC), so comparisons and differences of timestamps are exact integer arithmetic,
and a measured value is the column cast to DOUBLE, as the Arrow engine casts it. A condition that
is null is false, applied once at the end (`COALESCE(cond, FALSE)`), so `and`/`or`/`not` keep
SQL's three-valued logic, which is Kleene logic like Arrow's `and_kleene`/`or_kleene`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import sqlglot.expressions as exp

from slang.diagnostics import SlangError, error
from slang.semantics import model as m
from slang.syntax import ast

UNSUPPORTED = "SLG1102"
US = 1_000_000

# relation and column names the engine gives its intermediate results
ROWS, COUNTED = "slang_rows", "slang_counted"
# counted time: evaluation of the batch, its service key, bucket of the piece, period index,
# period start, piece [start, end) in us, `as available`
EV, KEY, W, P, PS, S, E, A = "i", "key", "w", "p", "ps", "s", "e", "a"
COUNTED_COLUMNS = (EV, KEY, W, P, PS, S, E, A)

CalendarOf = Callable[[ast.Expr], m.Calendar | None]


def unsupported(what: str, span: Any = None, hint: str | None = None) -> SlangError:
    kwargs = {} if span is None else {"span": span}
    return SlangError([error(UNSUPPORTED, what, hint=hint or (
        "use --engine arrow for this policy; the SQL engines refuse what they cannot compute "
        "exactly as the Arrow engine does"), **kwargs)])


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(exp.to_identifier(name, quoted=True),
                      table=None if table is None else exp.to_identifier(table, quoted=True))


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def integer(v: int) -> exp.Expression:
    lit = exp.Literal.number(abs(v))
    return exp.Neg(this=lit) if v < 0 else lit


def double(v: float) -> exp.Expression:
    """A DOUBLE literal that round-trips exactly (a bare `0.1` is a DECIMAL in some dialects)."""
    return exp.cast(exp.Literal.string(repr(float(v))), exp.DataType.Type.DOUBLE)


def string(v: str) -> exp.Expression:
    return exp.Literal.string(v)


def number(v: Decimal) -> exp.Expression:
    """A policy number as the Arrow engine takes it: an integer, else the nearest double."""
    return integer(int(v)) if v == v.to_integral_value() else double(float(v))


# --------------------------------------------------------------------------------- dialects


class Dialect:
    """How one backend spells the operations the lowering needs."""

    name = "ansi"
    sqlglot = ""  # sqlglot's dialect name for rendering
    tested = False  # run by the test suite against a real engine
    FUNCTIONS: ClassVar[dict[str, str]] = {}  # operation -> SQL function taking the same arguments

    def op(self, name: str, *args: exp.Expression) -> exp.Expression:
        fn = self.FUNCTIONS.get(name)
        if fn is not None:
            return exp.Anonymous(this=fn, expressions=list(args))
        visit = getattr(self, f"visit_{name}", None)
        if visit is None:
            raise unsupported(f"the {self.name} SQL dialect has no exact form of `{name}`")
        return visit(*args)  # type: ignore[no-any-return]

    def supports(self, name: str) -> bool:
        return name in self.FUNCTIONS or hasattr(self, f"visit_{name}")

    def render(self, e: exp.Expression, pretty: bool = False) -> str:
        return e.sql(dialect=self.sqlglot or None, pretty=pretty)

    # ---- operations with a common SQL form; dialects override where theirs differs

    def visit_CountIf(self, cond: exp.Expression) -> exp.Expression:
        return exp.Sum(this=exp.Case(ifs=[exp.If(this=cond, true=integer(1))],
                                     default=integer(0)))

    def visit_ToDouble(self, x: exp.Expression) -> exp.Expression:
        return exp.cast(x, exp.DataType.Type.DOUBLE)

    def visit_ToBigint(self, x: exp.Expression) -> exp.Expression:
        return exp.cast(x, exp.DataType.Type.BIGINT)

    def visit_ExactInt(self, x: exp.Expression) -> exp.Expression:
        """An integer type wide enough to sum 2**53-sized mantissas over billions of rows."""
        return exp.cast(x, exp.DataType.build("DECIMAL(38, 0)"))

    def visit_IntDiv(self, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        """Integer division of non-negative operands (every use here has them)."""
        return exp.IntDiv(this=a, expression=b)

    def visit_Pow2(self, k: exp.Expression) -> exp.Expression:
        return exp.Pow(this=double(2.0), expression=k)

    def visit_Floor(self, x: exp.Expression) -> exp.Expression:
        return exp.Floor(this=x)

    def visit_Abs(self, x: exp.Expression) -> exp.Expression:
        return exp.Abs(this=x)

    def visit_Greatest(self, *xs: exp.Expression) -> exp.Expression:
        return exp.Greatest(this=xs[0], expressions=list(xs[1:]))

    def visit_Least(self, *xs: exp.Expression) -> exp.Expression:
        return exp.Least(this=xs[0], expressions=list(xs[1:]))

    def visit_EpochMicrosFromNanos(self, x: exp.Expression) -> exp.Expression:
        """Nanoseconds to microseconds rounding down (before 1970 too), as the Arrow reader
        does: (ns - ((ns % 1000) + 1000) % 1000) / 1000 divides exactly."""
        ns = self.op("EpochNanos", x)
        mod = exp.Mod(this=exp.Paren(this=exp.Add(this=exp.Paren(this=exp.Mod(
            this=ns, expression=integer(1000))), expression=integer(1000))),
            expression=integer(1000))
        return self.op("IntDiv", exp.Paren(this=exp.Sub(this=ns.copy(), expression=mod)),
                       integer(1000))

    def raw_relation(self, table: str) -> exp.Expression:
        """The relation a scan reads; backends bind it to files at run time."""
        return exp.Table(this=ident(table))


# ------------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class Lowered:
    """A SQL value and what the lowering knows of its unit: `dur`/`ts` (BIGINT microseconds),
    a unit name (`ms`) for a number in that unit, None otherwise."""

    sql: exp.Expression
    unit: str | None = None
    literal: Any = None  # the Python value of a literal operand, when it is one
    floating: bool = False  # may be NaN (reads a floating-point column)


BINARY = {"==": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
ARITH = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}


@dataclass
class ConditionLowering:
    """`where` conditions -> SQL, with the same meaning as `slang.engine.conditions`.

    `ts_columns` are the columns that hold instants (microseconds in the canonical scan)."""

    dialect: Dialect
    source: m.Source
    timezone: str
    ts_columns: frozenset[str]
    float_columns: frozenset[str] = frozenset()
    # business_duration: the calendar a call names, and the calendar's counted time over the
    # instants the call can see (given SQL for its start and end); None: refused
    calendar_of: Callable[[ast.Expr], m.Calendar | None] | None = None
    hours_over: Callable[[m.Calendar, exp.Expression, exp.Expression], Any] | None = None
    as_of_us: int = 0

    def condition(self, e: ast.Expr | None) -> exp.Expression:
        """A non-null boolean: rows where the condition is true."""
        if e is None:
            return exp.true()
        return exp.Coalesce(this=exp.Paren(this=self.value(e).sql), expressions=[exp.false()])

    def value(self, e: ast.Expr) -> Lowered:
        match e:
            case ast.Name():
                name = e.parts[-1]
                fl = name in self.float_columns
                if name in self.source.units:
                    return Lowered(col(name), self.source.units[name], floating=fl)
                return Lowered(col(name), "ts" if name in self.ts_columns else None,
                               floating=fl)
            case ast.NumberLit():
                return Lowered(number(e.value), literal=e.value)
            case ast.PercentLit():
                return Lowered(double(float(e.value)), literal=float(e.value))
            case ast.DurationLit():
                us = int(e.seconds * US)
                return Lowered(integer(us), "dur", literal=e.seconds)
            case ast.StringLit():
                return Lowered(string(e.value), literal=e.value)
            case ast.BoolLit():
                return Lowered(exp.Boolean(this=e.value), literal=e.value)
            case ast.NullLit():
                return Lowered(exp.Null())
            case ast.TimestampLit() if e.value is not None:
                return Lowered(integer(_us(e.value)), "ts")
            case ast.DateLit() if e.value is not None:
                return Lowered(exp.Literal.string(e.text), "date", literal=e.value)
            case ast.Not():
                return Lowered(exp.Not(this=exp.Paren(this=self.value(e.operand).sql)))
            case ast.Neg():
                v = self.value(e.operand)
                return Lowered(exp.Neg(this=exp.Paren(this=v.sql)), v.unit, floating=v.floating)
            case ast.IsNull():
                inner: exp.Expression = exp.Is(this=exp.Paren(this=self.value(e.operand).sql),
                                               expression=exp.Null())
                return Lowered(exp.Not(this=inner) if e.negated else inner)
            case ast.BinOp(op="and"):
                return Lowered(exp.And(this=self._p(e.left), expression=self._p(e.right)))
            case ast.BinOp(op="or"):
                return Lowered(exp.Or(this=self._p(e.left), expression=self._p(e.right)))
            case ast.BinOp(op=op) if op in BINARY:
                a, b = self._align(self.value(e.left), self.value(e.right))
                return Lowered(self._compare(op, a, b))
            case ast.BinOp(op="/"):
                # true division with null for a zero divisor, as the Arrow engine's `/`
                a, b = self._align(self.value(e.left), self.value(e.right))
                den = exp.Nullif(this=exp.cast(b.sql, exp.DataType.Type.DOUBLE),
                                 expression=exp.Literal.number(0))
                quotient = exp.Div(this=exp.cast(a.sql, exp.DataType.Type.DOUBLE),
                                   expression=den)
                return Lowered(exp.Paren(this=quotient), a.unit or b.unit, floating=True)
            case ast.BinOp(op=op) if op in ARITH:
                a, b = self._align(self.value(e.left), self.value(e.right))
                unit = "dur" if "ts" in (a.unit, b.unit) and op == "-" and a.unit == b.unit \
                    else (a.unit or b.unit)
                if op == "-" and a.unit == "ts" and b.unit == "dur":
                    unit = "ts"
                return Lowered(exp.Paren(this=ARITH[op](this=a.sql, expression=b.sql)), unit,
                               floating=a.floating or b.floating)
            case ast.InList():
                return Lowered(self._in_list(e))
            case ast.InRange():
                return Lowered(self._in_range(e))
            case ast.Call() if e.func.dotted == "business_duration" and len(e.args) == 3 \
                    and self.hours_over is not None and self.calendar_of is not None:
                return Lowered(self._business_duration(e), "dur")
        raise unsupported("the SQL engines cannot evaluate this expression "
                          f"(`{type(e).__name__}`)", getattr(e, "span", None),
                          "use --engine arrow for this policy")

    def _compare(self, op: str, a: Lowered, b: Lowered) -> exp.Expression:
        """IEEE comparisons, as Arrow's: NaN is unequal to everything and neither less nor
        greater (SQL engines order NaN above every number and make it equal to itself)."""
        cmp = BINARY[op](this=a.sql, expression=b.sql)
        nans = [self.dialect.op("IsNan", x.sql.copy()) for x in (a, b) if x.floating]
        if not nans:
            return cmp
        return exp.Paren(this=exp.Case(ifs=[exp.If(this=exp.or_(*nans),
                                                   true=exp.Boolean(this=op == "!="))],
                                       default=cmp))

    def _business_duration(self, e: ast.Call) -> exp.Expression:
        """Counted calendar time between two instants, as `conditions.business_duration`:
        F(end) - F(start), at least 0, with F(x) = sum over the calendar's counted intervals
        [s_i, s_i + len_i) of clamp(x - s_i, 0, len_i), in integer microseconds; an open end
        ages up to as_of; a missing start gives null. The intervals cover every instant the
        call sees (a wider range adds the same to F(start) and F(end), so the difference is
        the same), and are literals of the query."""
        assert self.hours_over is not None and self.calendar_of is not None
        start = self._as_ts(self.value(e.args[0])).sql  # type: ignore[arg-type]
        end = exp.Coalesce(this=self._as_ts(self.value(e.args[1])).sql,  # type: ignore[arg-type]
                           expressions=[integer(self.as_of_us)])
        cal = self.calendar_of(e.args[2])  # type: ignore[arg-type]
        if cal is None:
            raise unsupported("unknown calendar", e.args[2].span)
        hours = self.hours_over(cal, start, end)
        d = self.dialect

        def cumulative(x: exp.Expression) -> exp.Expression:
            terms: list[exp.Expression] = [
                d.op("Greatest", integer(0), d.op("Least", exp.Paren(this=exp.Sub(
                    this=x.copy(), expression=integer(int(s0)))), integer(int(e0 - s0))))
                for s0, e0 in zip(hours.starts, hours.ends, strict=True)]
            if not terms:
                return integer(0)
            total = terms[0]
            for t in terms[1:]:
                total = exp.Add(this=total, expression=t)
            return exp.Paren(this=total)

        diff = d.op("Greatest", exp.Sub(this=cumulative(end), expression=cumulative(start)),
                    integer(0))
        return exp.Case(ifs=[exp.If(this=exp.Is(this=start.copy(), expression=exp.Null()),
                                    true=exp.cast(exp.Null(), exp.DataType.Type.BIGINT))],
                        default=diff)

    def _p(self, e: ast.Expr) -> exp.Expression:
        return exp.Paren(this=self.value(e).sql)

    def _align(self, a: Lowered, b: Lowered) -> tuple[Lowered, Lowered]:
        """Operands in comparable form, converting units exactly (as conditions._align)."""
        if a.unit == "dur" and b.unit not in (None, "dur", "ts", "date"):
            b2, a2 = self._align(b, a)
            return a2, b2
        if b.unit == "dur" and a.unit not in (None, "dur", "ts", "date") and b.literal is not None:
            from slang.semantics.values import to_unit

            return a, Lowered(number(to_unit(Decimal(b.literal), a.unit)), a.unit)
        if "ts" in (a.unit, b.unit):
            return self._as_ts(a), self._as_ts(b)
        if a.unit == "date" or b.unit == "date":
            raise unsupported("a date compared with a value that is not a timestamp")
        return a, b

    def _as_ts(self, v: Lowered) -> Lowered:
        if v.unit in ("ts", "dur"):
            return v
        if v.unit == "date":
            d: dt.date = v.literal
            return Lowered(integer(_us(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC))), "ts")
        if isinstance(v.literal, str):
            # parsed at compile time by Arrow's own parser, as the Arrow engine parses it
            import pyarrow as pa
            import pyarrow.compute as pc

            try:
                us = pc.cast(pc.cast(pa.scalar(v.literal), pa.timestamp("us", tz="UTC")),
                             pa.int64()).as_py()
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise unsupported(f"`\"{v.literal}\"` is not a timestamp") from None
            return Lowered(integer(us), "ts")
        return v

    def _in_list(self, e: ast.InList) -> exp.Expression:
        operand = self.value(e.operand)
        items = [self._align(operand, self.value(i))[1] for i in e.items]
        kept = [i.sql for i in items if not isinstance(i.sql, exp.Null)]
        is_in: exp.Expression = exp.In(this=exp.Paren(this=operand.sql), expressions=kept) \
            if kept else exp.false()
        # Arrow's is_in matches no null item against a value: null items are left out, and a
        # null operand gives null
        cond = exp.Case(ifs=[exp.If(this=exp.Is(this=exp.Paren(this=operand.sql),
                                                  expression=exp.Null()),
                                    true=exp.cast(exp.Null(), exp.DataType.Type.BOOLEAN))],
                        default=is_in)
        return exp.Not(this=exp.Paren(this=cond)) if e.negated else exp.Paren(this=cond)

    def _in_range(self, e: ast.InRange) -> exp.Expression:
        operand = self.value(e.operand)
        low, high = e.low, e.high
        if isinstance(low, ast.DateLit) and isinstance(high, ast.DateLit):
            # whole local days, both included: [low 00:00, high + 1 day 00:00) in the zone
            zone = ZoneInfo(self.timezone)
            lo = dt.datetime.combine(low.value, dt.time(), zone)  # type: ignore[arg-type]
            hi = dt.datetime.combine(high.value + dt.timedelta(days=1),  # type: ignore[operator]
                                     dt.time(), zone)
            v = self._as_ts(operand).sql
            r: exp.Expression = exp.And(this=exp.GTE(this=v, expression=integer(_us(lo))),
                                        expression=exp.LT(this=v, expression=integer(_us(hi))))
        else:
            a, lo_v = self._align(operand, self.value(low))
            _, hi_v = self._align(operand, self.value(high))
            upper = "<" if isinstance(high, ast.TimestampLit) else "<="
            r = exp.And(this=self._compare(">=", a, lo_v),
                        expression=self._compare(upper, a, hi_v))
        r = exp.Paren(this=r)
        return exp.Not(this=r) if e.negated else r


def _us(t: dt.datetime) -> int:
    from slang.engine.calendar_time import to_us

    return to_us(t)


# ------------------------------------------------------------------------------- scans


@dataclass(frozen=True)
class ScanShape:
    """What the canonical scan of a source needs to know about its columns: the columns the
    plan reads, and which of them hold timestamps (read from the files' schemas at run time;
    `slang plan --sql` assumes none besides the declared time columns)."""

    columns: tuple[str, ...]
    timestamp_columns: frozenset[str] = frozenset()
    nanosecond_columns: frozenset[str] = frozenset()
    float_columns: frozenset[str] = frozenset()


def time_roles(source: m.Source) -> list[tuple[str, str]]:
    if source.kind == "events":
        return [(source.time_column, "__t")]
    return [(source.start_column, "__start"), (source.end_column, "__end")]


def micros_of(dialect: Dialect, source: m.Source, shape: ScanShape) -> exp.Expression:
    """An events source's instant as microseconds, over the raw columns."""
    c = source.time_column
    if source.time_form == "epoch_ms":
        return exp.Mul(this=dialect.op("ToBigint", col(c)), expression=integer(1000))
    if source.time_form == "epoch_s":
        return exp.Mul(this=dialect.op("ToBigint", col(c)), expression=integer(US))
    if c in shape.nanosecond_columns:
        return dialect.op("EpochMicrosFromNanos", col(c))
    return dialect.op("EpochMicros", col(c))


def scan_select(dialect: Dialect, source: m.Source, shape: ScanShape,
                raw: exp.Expression) -> exp.Select:
    """The canonical scan: `__t` (or `__start`/`__end`) as BIGINT microseconds, `__key` as
    text, every planned column under its own name (timestamps as microseconds)."""
    outs: list[exp.Expression] = []

    def micros(c: str, form: str) -> exp.Expression:
        raw_col = col(c)
        if form == "epoch_ms":
            return exp.Mul(this=dialect.op("ToBigint", raw_col), expression=integer(1000))
        if form == "epoch_s":
            return exp.Mul(this=dialect.op("ToBigint", raw_col), expression=integer(US))
        if c in shape.nanosecond_columns:
            return dialect.op("EpochMicrosFromNanos", raw_col)
        return dialect.op("EpochMicros", raw_col)

    done: set[str] = set()
    for c, canon in time_roles(source):
        outs.append(exp.alias_(micros(c, source.time_form), ident(canon)))
    if source.key_column is not None:
        outs.append(exp.alias_(exp.cast(col(source.key_column), exp.DataType.Type.VARCHAR),
                               ident("__key")))
    time_cols = {c for c, _ in time_roles(source)}
    for c in shape.columns:
        if c in done:
            continue
        done.add(c)
        if c in time_cols:
            outs.append(exp.alias_(micros(c, source.time_form), ident(c)))
        elif c in shape.timestamp_columns:
            outs.append(exp.alias_(micros(c, "aware"), ident(c)))
        else:
            outs.append(exp.alias_(col(c), ident(c)))
    return exp.select(*outs).from_(raw)


def canonical_select(dialect: Dialect, source: m.Source, shape: ScanShape,
                     raw: exp.Expression) -> exp.Select:
    """The canonical scan over a table the Arrow reader already normalised: its `__t` (or
    `__start`/`__end`) are microseconds, its other instants `timestamp[us, UTC]`."""
    outs: list[exp.Expression] = [exp.alias_(col(c), ident(c)) for _, c in time_roles(source)]
    if source.key_column is not None:
        outs.append(exp.alias_(exp.cast(col("__key"), exp.DataType.Type.VARCHAR),
                               ident("__key")))
    for c in shape.columns:
        value = dialect.op("EpochMicros", col(c)) if c in shape.timestamp_columns else col(c)
        outs.append(exp.alias_(value, ident(c)))
    return exp.select(*outs).from_(raw)


def ts_columns(source: m.Source, shape: ScanShape) -> frozenset[str]:
    return frozenset({c for c, _ in time_roles(source)} | set(shape.timestamp_columns))


# ------------------------------------------------------------------------ counted time


def counted_placeholder() -> exp.Expression:
    """`slang plan --sql`: the counted-time table is computed per run from the periods."""
    return exp.Table(this=ident(COUNTED))


def inner_indicator(ind: m.Indicator) -> m.Indicator:
    """What a slice indicator aggregates per slice; any other indicator itself."""
    return ind.inner if isinstance(ind, m.TimeslicesIndicator | m.SliceMeanIndicator) else ind


def aggregate_of(inner: m.Indicator) -> str:
    """The aggregate a batch computes: evaluations share a query only if they need the same
    (a p95 and a p99 of the same rows are two batches)."""
    if isinstance(inner, m.ValueIndicator):
        return f"{inner.function}:{inner.q}:{inner.method}"
    return "ratio"


def batch_signature(dialect: Dialect, q: EventQuery, function: str) -> str:
    """What decides whether evaluations can share one batched query: the scan and the SQL of
    their per-row expressions (`b`, `g`, `v`: conditions lowered in each agreement's zone, so
    a date range in two zones is two batches), the aggregate and the slice length. Keys,
    periods, hours and exclusions differ freely: they live in the counted-time table."""
    parts = [dialect.render(q.scan), dialect.render(q.lowering.condition(q.condition)),
             dialect.render(q.lowering.condition(q.good)) if q.good is not None else "",
             q.column or "", function, str(q.slice_us), str(q.keys is None)]
    return "\0".join(parts)


# ------------------------------------------------------------------------ event queries


@dataclass(frozen=True)
class EventQuery:
    """The lowering of a batch of evaluations over one events scan, for all their periods at
    once: evaluations whose rows have the same shape (`batch_signature`), typically one
    objective template repeated for many services. What differs between them (the service
    key, periods, hours, exclusions, `as available` time) is data: the counted-time table
    `slang_counted(i, key, w, p, ps, s, e, a)` holds, per evaluation `i` of the batch and
    period `p` (starting at `ps`), its counted pieces `[s, e)` in UTC microseconds, cut at
    multiples of `bucket_us` from the batch's first instant (bucket `w`), so that the join of
    rows with pieces is an equi-join on (key, w) with the range as a residual test, a few
    candidate pieces per row, instead of a range join against every piece of every
    evaluation. Results are grouped by (i, p) (and slice `k`)."""

    dialect: Dialect
    scan: exp.Expression  # the canonical scan relation
    keys: tuple[str, ...] | None  # the batch's service keys; None: the source has no key
    lowering: ConditionLowering
    condition: ast.Expr | None
    good: ast.Expr | None  # ratio: the good condition
    column: str | None  # value indicators: the measured column
    time_range: tuple[int, int] | None  # None (plan --sql): bounded by the counted time only
    slice_us: int | None = None  # sliced indicators: slice length
    bucket_us: int = 86_400 * US

    def origin(self) -> int:
        return 0 if self.time_range is None else self.time_range[0]

    def rows(self, counted: exp.Expression, carry: tuple[str, ...] = (),
             within: tuple[float, float] | None = None) -> exp.Select:
        """One row per (event, evaluation) in that evaluation's counted time: `i`, period
        `p`, available `a`, `g` (good), `u` (a usable value: not available, finite), `x` (a
        counted row whose value cannot be used), `v` (the value as DOUBLE), `k` (slice), and
        the counted-time table's `carry` columns (per evaluation and period: a percentile's
        grid and wanted ranges ride along the join instead of needing one of their own).
        `within` keeps only rows whose value lies in [lo, hi] before the join (a superset of
        the wanted ranges: rows outside cannot be picked).
        Only rows meeting the total's condition reach the join: every aggregate counts only
        them."""
        d = self.dialect
        inner = self._scan_rows(within)
        r, c = "r", COUNTED
        a, v = col(A, c), col("v", r)
        ok = exp.and_(exp.Not(this=exp.Is(this=v, expression=exp.Null())),
                      d.op("IsFinite", v)) if self.column else exp.true()
        not_a = exp.Not(this=a)
        out = [
            exp.alias_(col(EV, c), ident("i")), exp.alias_(col(P, c), ident("p")),
            exp.alias_(a, ident("a")), exp.alias_(col("g", r), ident("g")),
            exp.alias_(exp.and_(not_a, ok), ident("u")),
            exp.alias_(exp.and_(not_a.copy(), exp.Not(this=exp.Paren(this=ok)))
                       if self.column else exp.false(), ident("x")),
            exp.alias_(v, ident("v")),
            *[exp.alias_(col(x, c), ident(x)) for x in carry],
        ]
        if self.slice_us is not None:
            out.append(exp.alias_(self._slice_index(col("t", r), col(PS, c)), ident("k")))
        on = [exp.EQ(this=col(W, c), expression=col("w", r)),
              exp.GTE(this=col("t", r), expression=col(S, c)),
              exp.LT(this=col("t", r), expression=col(E, c))]
        if self.keys is not None:
            on.insert(0, exp.EQ(this=col(KEY, c), expression=col("key", r)))
        return exp.select(*out).from_(exp.alias_(exp.Subquery(this=inner), ident(r))).join(
            exp.alias_(counted, ident(c)), on=exp.and_(*on))

    def _scan_rows(self, within: tuple[float, float] | None = None) -> exp.Select:
        """The scan's rows in the batch's keys and time range meeting the total's condition,
        before the join with the counted time: `key`, `t`, bucket `w`, `g`, `v`."""
        d = self.dialect
        t = col("__t")
        where: exp.Expression = exp.Not(this=exp.Is(this=t.copy(), expression=exp.Null()))
        if self.time_range is not None:
            lo, hi = self.time_range
            where = exp.and_(exp.GTE(this=t.copy(), expression=integer(lo)),
                             exp.LT(this=t.copy(), expression=integer(hi)))
        if self.keys is not None:
            where = exp.and_(exp.In(this=col("__key"), expressions=[
                string(k) for k in self.keys]), where)
        where = exp.and_(where, self.lowering.condition(self.condition))
        if within is not None:
            value = d.op("ToDouble", self.value_expr())
            where = exp.and_(where, exp.GTE(this=value, expression=double(within[0])),
                             exp.LTE(this=value.copy(), expression=double(within[1])))
        outs = [exp.alias_(t, ident("t")),
                exp.alias_(self._bucket(col("__t")), ident("w")),
                exp.alias_(self.lowering.condition(self.good) if self.good is not None
                           else exp.false(), ident("g")),
                exp.alias_(d.op("ToDouble", self.value_expr()) if self.column else exp.Null(),
                           ident("v"))]
        if self.keys is not None:
            outs.insert(0, exp.alias_(col("__key"), ident("key")))
        return exp.select(*outs).from_(
            exp.alias_(exp.Subquery(this=self.scan), ident("scan"))
            if isinstance(self.scan, exp.Select) else self.scan).where(where)

    def column_range(self) -> exp.Select:
        """The least and greatest value of the measured column over the whole scan, and the
        rows: no filter, so that a backend may answer from file statistics (Parquet row
        groups' minima and maxima). A superset of `value_range` when both are finite."""
        d = self.dialect
        v = d.op("ToDouble", self.value_expr())
        return exp.select(exp.alias_(exp.Min(this=v), ident("lo")),
                          exp.alias_(exp.Max(this=v.copy()), ident("hi")),
                          exp.alias_(exp.Count(this=exp.Star()), ident("n"))).from_(
            exp.alias_(exp.Subquery(this=self.scan), ident("scan"))
            if isinstance(self.scan, exp.Select) else self.scan)

    def value_range(self) -> exp.Select:
        """The least and greatest finite value, and how many, of the batch's rows before the
        join (a superset of every group's usable values): the percentile grid's range,
        read without the join that `values` needs."""
        d = self.dialect
        v = col("v")
        return exp.select(exp.alias_(exp.Min(this=v), ident("lo")),
                          exp.alias_(exp.Max(this=v.copy()), ident("hi")),
                          exp.alias_(exp.Count(this=v.copy()), ident("n"))).from_(
            exp.alias_(exp.Subquery(this=self._scan_rows()), ident("sr"))
        ).where(exp.and_(exp.Not(this=exp.Is(this=v.copy(), expression=exp.Null())),
                         d.op("IsFinite", v.copy())))

    def value_expr(self) -> exp.Expression:
        assert self.column is not None
        return col(self.column)

    def _bucket(self, t: exp.Expression) -> exp.Expression:
        """(t - origin) // bucket length (non-negative: rows before the origin are filtered
        out; `plan --sql` shows origin 0)."""
        shifted = exp.Paren(this=exp.Sub(this=t, expression=integer(self.origin())))
        return self.dialect.op("IntDiv", shifted, integer(self.bucket_us))

    def _slice_index(self, t: exp.Expression, start: exp.Expression) -> exp.Expression:
        """(t - period start) // slice length (both non-negative)."""
        assert self.slice_us is not None
        return self.dialect.op("IntDiv", exp.Paren(this=exp.Sub(this=t, expression=start)),
                               integer(self.slice_us))

    def group_keys(self) -> list[str]:
        return ["i", "p", "k"] if self.slice_us is not None else ["i", "p"]

    # ---- aggregates over `rows`

    def ratio(self, counted: exp.Expression) -> exp.Select:
        d = self.dialect
        return self._grouped(counted, [
            exp.alias_(exp.Count(this=exp.Star()), ident("total")),
            exp.alias_(d.op("CountIf", exp.or_(col("g"), col("a"))), ident("good")),
        ])

    def values(self, counted: exp.Expression) -> exp.Select:
        """Rows counted, usable values, values skipped, minimum and maximum per group."""
        d = self.dialect
        use = col("u")
        only = exp.Case(ifs=[exp.If(this=use, true=col("v"))])
        return self._grouped(counted, [
            exp.alias_(d.op("CountIf", exp.Not(this=col("a"))), ident("rows")),
            exp.alias_(d.op("CountIf", use), ident("n")),
            exp.alias_(d.op("CountIf", col("x")), ident("skipped")),
            exp.alias_(exp.Min(this=only), ident("lo")),
            exp.alias_(exp.Max(this=only.copy()), ident("hi")),
        ])

    def _exponent(self, av: exp.Expression) -> exp.Expression:
        """floor(log2 x) for a positive double x, exactly: log2 may round across a power of
        two, so the result is corrected by one where 2**e > x or 2**(e + 1) <= x."""
        d = self.dialect
        e0 = d.op("ToBigint", d.op("Floor", d.op("Log2", av)))
        return exp.Add(this=e0, expression=exp.Paren(this=exp.Case(ifs=[
            exp.If(this=exp.GTE(this=av.copy(), expression=d.op("Pow2", exp.Add(
                this=e0.copy(), expression=integer(1)))), true=integer(1)),
            exp.If(this=exp.LT(this=av.copy(), expression=d.op("Pow2", e0.copy())),
                   true=integer(-1)),
        ], default=integer(0))))

    def _scaled(self, x: exp.Expression, shift: exp.Expression) -> exp.Expression:
        """x * 2**shift in two steps, each factor a finite power of two, so that the product
        is exact for every double (subnormals and the largest exponents included)."""
        d = self.dialect
        half = d.op("IntDiv", exp.Paren(this=shift), integer(2))
        rest = exp.Sub(this=exp.Paren(this=shift.copy()), expression=half.copy())
        return exp.Mul(this=exp.Mul(this=x, expression=d.op("Pow2", half)),
                       expression=d.op("Pow2", rest))

    def exact_sums(self, counted: exp.Expression) -> exp.Select:
        """Per group and binary exponent e, the sum of the integer mantissas m of the usable
        non-zero values v = m * 2**(e - 52) (|m| in [2**52, 2**53)): exact, in a wide integer.

        e is floor(log2 |v|) (`_exponent`); m is v scaled by 2**(52 - e) (`_scaled`)."""
        d = self.dialect
        v = col("v")
        keys = self.group_keys()
        with_e = exp.select(*[col(k) for k in keys], exp.alias_(v.copy(), ident("v")),
                            exp.alias_(self._exponent(d.op("Abs", v)), ident("e"))).from_(
            exp.alias_(exp.Subquery(this=self.rows(counted)), ident(ROWS))
        ).where(exp.and_(col("u"), exp.NEQ(this=col("v"), expression=double(0.0))))
        mant = d.op("ToBigint", self._scaled(col("v"), exp.Sub(this=integer(52),
                                                                expression=col("e"))))
        return exp.select(*[col(k) for k in keys], col("e"),
                          exp.alias_(exp.Sum(this=d.op("ExactInt", mant)), ident("m"))).from_(
            exp.alias_(exp.Subquery(this=with_e), ident("sums"))
        ).group_by(*[col(k) for k in keys], col("e"))

    def _grid(self, v: exp.Expression) -> exp.Expression:
        """The order bucket of a value in its group's grid (`lo`, `sc`, carried from the
        counted-time table): floor((v - lo) * sc). Every step is a correctly rounded
        floating-point operation, hence non-decreasing in v: buckets are in value order. The
        grid keeps the result within a few thousand of 0 (`executor._grid`)."""
        d = self.dialect
        return d.op("ToBigint", d.op("Floor", exp.Mul(this=exp.Paren(this=exp.Sub(
            this=v, expression=col("lo"))), expression=col("sc"))))

    def order_buckets(self, counted: exp.Expression) -> exp.Select:
        """First step of an exact percentile without sorting rows, and the `values` query's
        numbers at once (one pass over the data fewer): per group and bucket of the batch's
        grid (`counted` carries `lo` and `sc`, from the column's range; null for a row
        without a usable value), the rows counted, the usable values (`c`) and those
        skipped, and the least and greatest value (usable ones wherever `c` > 0: the null
        bucket's are not); a hash aggregate with a few hundred buckets per group. The caller
        sums a group's buckets for its `values` numbers, accumulates the counts in bucket
        order and finds the bucket that holds each wanted rank: since buckets follow value
        order, its values are exactly the group's values between its least and greatest."""
        d = self.dialect
        keys = self.group_keys()
        use = col("u")
        bucket = exp.Case(ifs=[exp.If(this=use, true=self._grid(col("v")))])
        bucketed = exp.select(*[col(k) for k in keys], col("a"), col("u"), col("x"), col("v"),
                              exp.alias_(bucket, ident("b"))).from_(
            exp.alias_(exp.Subquery(this=self.rows(counted, ("lo", "sc"))), ident(ROWS)))
        return exp.select(*[col(k) for k in keys], col("b"),
                          exp.alias_(d.op("CountIf", exp.Not(this=col("a"))), ident("rows")),
                          exp.alias_(exp.Count(this=col("b")), ident("c")),
                          exp.alias_(d.op("CountIf", col("x")), ident("skipped")),
                          exp.alias_(exp.Min(this=col("v")), ident("vlo")),
                          exp.alias_(exp.Max(this=col("v")), ident("vhi"))).from_(
            exp.alias_(exp.Subquery(this=bucketed), ident("ub"))
        ).group_by(*[col(k) for k in keys], col("b"))

    def bucket_values(self, counted: exp.Expression, wanted: exp.Expression | None = None,
                      within: tuple[float, float] | None = None) -> exp.Select:
        """Second step: the distinct usable values, with their counts, inside the value
        ranges of the buckets that hold wanted ranks; the caller orders them and picks the
        rank within the bucket. The ranges ride along the counted-time table (`vlo1`, `vhi1`,
        `vlo2`, `vhi2` per evaluation and period: two ranks at most), or, for slices, come
        from a table `wanted` (i, p, k, vlo, vhi) joined on the group. `within` (the least
        and greatest of those ranges) filters rows before the join, so that the join's
        residual range tests run on a few rows."""
        keys = self.group_keys()
        v = col("v", ROWS)

        def inside(lo: exp.Expression, hi: exp.Expression) -> exp.Expression:
            return exp.Paren(this=exp.and_(exp.GTE(this=v.copy(), expression=lo),
                                           exp.LTE(this=v.copy(), expression=hi)))

        if wanted is None:
            source = exp.select(*[col(k) for k in keys], exp.alias_(col("v"), ident("v"))).from_(
                exp.alias_(exp.Subquery(this=self.rows(
                    counted, ("vlo1", "vhi1", "vlo2", "vhi2"), within)), ident(ROWS))
            ).where(exp.and_(col("u", ROWS), exp.or_(
                inside(col("vlo1", ROWS), col("vhi1", ROWS)),
                inside(col("vlo2", ROWS), col("vhi2", ROWS)))))
        else:
            w = "w"
            on = exp.and_(*[exp.EQ(this=col(k, ROWS), expression=col(k, w)) for k in keys],
                          inside(col("vlo", w), col("vhi", w)))
            source = exp.select(*[exp.alias_(col(k, ROWS), ident(k)) for k in keys],
                                exp.alias_(v.copy(), ident("v"))).from_(
                exp.alias_(exp.Subquery(this=self.rows(counted, within=within)), ident(ROWS))
            ).join(exp.alias_(wanted, ident(w)), on=on).where(col("u", ROWS))
        return exp.select(*[col(k) for k in keys], col("v"),
                          exp.alias_(exp.Count(this=exp.Star()), ident("c"))).from_(
            exp.alias_(exp.Subquery(this=source), ident("ub"))
        ).group_by(*[col(k) for k in keys], col("v"))

    def _grouped(self, counted: exp.Expression, aggs: list[exp.Expression]) -> exp.Select:
        keys = self.group_keys()
        return exp.select(*[col(k) for k in keys], *aggs).from_(
            exp.alias_(exp.Subquery(this=self.rows(counted)), ident(ROWS))
        ).group_by(*[col(k) for k in keys])


def interval_rows(dialect: Dialect, scan: exp.Expression, keyed: bool,
                  condition: exp.Expression) -> exp.Select:
    """An intervals source's usable rows under a condition, for every service at once
    (`__key`, when the source has a key): `__start` and `__end` (null: ongoing). Rows the
    Arrow reader skips (no start, end before start, no key) are left out here too."""
    s, e = col("__start"), col("__end")
    where: exp.Expression = exp.and_(
        exp.Not(this=exp.Is(this=s, expression=exp.Null())),
        exp.Not(this=exp.Coalesce(this=exp.LT(this=e, expression=s.copy()),
                                  expressions=[exp.false()])),
        condition,
    )
    outs = [s.copy(), e.copy()]
    if keyed:
        where = exp.and_(exp.Not(this=exp.Is(this=col("__key"), expression=exp.Null())), where)
        outs.insert(0, col("__key"))
    src = exp.alias_(exp.Subquery(this=scan), ident("scan")) if isinstance(scan, exp.Select) \
        else scan
    return exp.select(*outs).from_(src).where(where)
