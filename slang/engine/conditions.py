"""`where` conditions -> vectorised pyarrow computations over a whole table.

The checker has already verified names and units; here an expression becomes Arrow kernels.
Units are resolved at compile time: `latency_ms > 300ms` on a column declared in ms compares
with the number 300, `resolved_at - opened_at <= 4h` compares Arrow durations. A condition that
is null is false (spec §2), which `mask` applies once at the end, so `and`/`or` use Kleene logic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slang.diagnostics import SlangError, error
from slang.semantics import model as m
from slang.syntax import ast

UTC_US = pa.timestamp("us", tz="UTC")
CMP = {"==": pc.equal, "!=": pc.not_equal, "<": pc.less, "<=": pc.less_equal,
       ">": pc.greater, ">=": pc.greater_equal}
ARITH = {"+": pc.add, "-": pc.subtract, "*": pc.multiply, "/": pc.divide}


@dataclass(frozen=True)
class Value:
    """An Arrow value with what the compiler knows of its unit: `dur` for Arrow durations,
    a unit name (`ms`) for a number in that unit, `ts` for timestamps, None otherwise."""

    data: pa.Array | pa.ChunkedArray | pa.Scalar
    unit: str | None = None


HoursLookup = Callable[[ast.Expr], m.Calendar | None]


@dataclass
class ConditionCompiler:
    source: m.Source
    as_of_us: int
    timezone: str  # the agreement's: date ranges in conditions are local whole days
    calendar_of: HoursLookup

    def mask(self, expr: ast.Expr | None, table: pa.Table) -> pa.Array:
        """A non-null boolean array: rows where the condition is true."""
        if expr is None:
            return pa.array(np.ones(table.num_rows, dtype=bool))
        try:
            v = self.value(expr, table).data
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise self._type_error(expr, table, exc) from None
        if isinstance(v, pa.Scalar):
            return pa.array(np.full(table.num_rows, bool(v.as_py()), dtype=bool))
        v = v.combine_chunks() if isinstance(v, pa.ChunkedArray) else v
        return pc.fill_null(v, False)

    # ------------------------------------------------------------------------------ values

    def value(self, e: ast.Expr, t: pa.Table) -> Value:
        match e:
            case ast.Name():
                return self._column(e.parts[-1], t)
            case ast.NumberLit():
                return Value(pa.scalar(_number(e.value)))
            case ast.PercentLit():
                return Value(pa.scalar(float(e.value)))
            case ast.DurationLit():
                return Value(pa.scalar(dt.timedelta(microseconds=int(e.seconds * 1_000_000)),
                                       pa.duration("us")), "dur")
            case ast.StringLit():
                return Value(pa.scalar(e.value, pa.string()))
            case ast.BoolLit():
                return Value(pa.scalar(e.value))
            case ast.NullLit():
                return Value(pa.scalar(None, pa.null()))
            case ast.TimestampLit():
                return Value(pa.scalar(e.value, UTC_US), "ts")
            case ast.DateLit():
                return Value(pa.scalar(e.value, pa.date32()))
            case ast.Not():
                return Value(pc.invert(self.value(e.operand, t).data))
            case ast.Neg():
                v = self.value(e.operand, t)
                return Value(pc.negate(v.data), v.unit)
            case ast.IsNull():
                data = self.value(e.operand, t).data
                return Value(pc.is_valid(data) if e.negated else pc.is_null(data))
            case ast.BinOp(op="and"):
                return Value(pc.and_kleene(self.value(e.left, t).data,
                                           self.value(e.right, t).data))
            case ast.BinOp(op="or"):
                return Value(pc.or_kleene(self.value(e.left, t).data,
                                          self.value(e.right, t).data))
            case ast.BinOp(op=op) if op in CMP:
                a, b = self._align(self.value(e.left, t), self.value(e.right, t))
                return Value(CMP[op](a.data, b.data))
            case ast.BinOp(op=op):
                a, b = self._align(self.value(e.left, t), self.value(e.right, t))
                unit = "dur" if "ts" in (a.unit, b.unit) and op == "-" and a.unit == b.unit \
                    else (a.unit or b.unit)
                if op == "-" and a.unit == "ts" and b.unit == "dur":
                    unit = "ts"
                if op == "/":
                    return Value(_true_divide(a.data, b.data), unit)
                return Value(ARITH[op](a.data, b.data), unit)
            case ast.InList():
                operand = self.value(e.operand, t)
                if pa.types.is_null(_type_of(operand.data)):  # a column with no values at all
                    return Value(pa.nulls(len(operand.data), pa.bool_()))
                items = [self._align(operand, self.value(i, t))[1].data for i in e.items]
                values = pa.array([i.as_py() for i in items], type=_type_of(operand.data))
                result = pc.is_in(operand.data, value_set=values)
                result = pc.if_else(pc.is_null(operand.data), pa.scalar(None, pa.bool_()), result)
                return Value(pc.invert(result) if e.negated else result)
            case ast.InRange():
                return Value(self._in_range(e, t))
            case ast.Call():
                return self._call(e, t)
        raise SlangError([error("SLG0701", "this expression cannot be evaluated", e.span)])

    def _type_error(self, expr: ast.Expr, t: pa.Table, exc: Exception) -> SlangError:
        """A condition whose columns hold another type than its literals (`status < 500` over
        a text `status`): the data cannot answer it, so the input is invalid (SLG0606)."""
        types = ", ".join(f"`{c}` is {t.schema.field(c).type}" for c in sorted(_columns_in(expr))
                          if c in t.column_names)
        return SlangError([error(
            "SLG0606",
            f"condition of source `{self.source.name}` cannot be evaluated over the data: "
            f"{types or 'its columns'} ({str(exc).splitlines()[0]})",
            expr.span,
            "write the columns with the types the condition compares them with (numbers with "
            "numbers, text with strings), or change the condition",
        )])

    def _column(self, name: str, t: pa.Table) -> Value:
        if name not in t.column_names:
            raise SlangError([error(
                "SLG0605", f"column `{name}` is missing from source `{self.source.name}`",
                self.source.span,
                "columns present: "
                + ", ".join(sorted(c for c in t.column_names if not c.startswith("__"))),
            )])
        col = t.column(name)
        if name in self.source.units:
            return Value(col, self.source.units[name])
        if pa.types.is_timestamp(col.type):
            if col.type.tz is None:  # naive: only allowed when the source says `utc`
                col = pc.assume_timezone(col, "UTC")
            return Value(pc.cast(col, UTC_US), "ts")
        return Value(col)

    def _align(self, a: Value, b: Value) -> tuple[Value, Value]:
        """Bring two operands to comparable Arrow types, converting units exactly."""
        if a.unit == "dur" and b.unit not in (None, "dur", "ts"):
            return self._align(b, a)[::-1]  # type: ignore[return-value]
        if b.unit == "dur" and a.unit not in (None, "dur", "ts") and isinstance(b.data, pa.Scalar):
            # a number in a declared unit vs a duration literal: the literal in that unit
            us = b.data.value  # microseconds
            seconds = Decimal(int(us)) / Decimal(1_000_000)
            from slang.semantics.values import to_unit

            return a, Value(pa.scalar(_number(to_unit(seconds, a.unit))), a.unit)
        if a.unit == "ts" or b.unit == "ts":
            return self._as_ts(a), self._as_ts(b)
        return a, b

    @staticmethod
    def _as_ts(v: Value) -> Value:
        if v.unit in ("ts", "dur"):
            return v
        data = v.data
        if _is_string(data) or (isinstance(data, pa.Scalar) and pa.types.is_string(data.type)):
            return Value(pc.cast(data, UTC_US), "ts")
        if isinstance(data, pa.Scalar) and pa.types.is_date(data.type):
            d = data.as_py()
            return Value(pa.scalar(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC), UTC_US),
                         "ts")
        return v

    def _in_range(self, e: ast.InRange, t: pa.Table) -> pa.Array:
        operand = self.value(e.operand, t)
        low, high = e.low, e.high
        if isinstance(low, ast.DateLit) and isinstance(high, ast.DateLit):
            # whole local days, both included: [low 00:00, high + 1 day 00:00)
            zone = ZoneInfo(self.timezone)
            lo = dt.datetime.combine(low.value, dt.time(), zone)  # type: ignore[arg-type]
            hi = dt.datetime.combine(high.value + dt.timedelta(days=1),  # type: ignore[operator]
                                     dt.time(), zone)
            v = self._as_ts(operand)
            r = pc.and_kleene(pc.greater_equal(v.data, pa.scalar(lo, UTC_US)),
                              pc.less(v.data, pa.scalar(hi, UTC_US)))
        else:
            a, lo_v = self._align(operand, self.value(low, t))
            _, hi_v = self._align(operand, self.value(high, t))
            upper = pc.less if isinstance(high, ast.TimestampLit) else pc.less_equal
            r = pc.and_kleene(pc.greater_equal(a.data, lo_v.data), upper(a.data, hi_v.data))
        return pc.invert(r) if e.negated else r

    def _call(self, e: ast.Call, t: pa.Table) -> Value:
        if e.func.dotted != "business_duration" or len(e.args) != 3:
            raise SlangError([error("SLG0701", f"`{e.func.dotted}` cannot be evaluated here",
                                    e.span)])
        start = self._as_ts(self.value(e.args[0], t)).data  # type: ignore[arg-type]
        end = self._as_ts(self.value(e.args[1], t)).data  # type: ignore[arg-type]
        cal = self.calendar_of(e.args[2])  # type: ignore[arg-type]
        if cal is None:
            raise SlangError([error("SLG0701", "unknown calendar", e.args[2].span)])
        return Value(business_duration(start, end, cal, self.as_of_us), "dur")


def business_duration(start: pa.Array, end: pa.Array, cal: m.Calendar, as_of_us: int) -> pa.Array:
    """Time inside the calendar's hours between two instants; an open end ages up to as_of.

    Vectorised through a cumulative function F(t) = counted time in [origin, t): the answer is
    F(end) - F(start), each F a searchsorted into the calendar's intervals.
    """
    from slang.engine.calendar_time import hours_intervals

    s = _to_us(start)
    e_raw = _to_us(end)
    valid_s = ~np.isnan(s)
    e = np.where(np.isnan(e_raw), float(as_of_us), e_raw)
    if not valid_s.any():
        return pa.array(np.zeros(len(s), dtype="int64"), pa.duration("us"), mask=~valid_s)
    lo = int(np.nanmin(s))
    hi = int(max(np.nanmax(e), lo + 1))
    iv = hours_intervals(cal, lo, hi + 1)
    starts = np.asarray(iv.starts, dtype=np.int64)
    ends = np.asarray(iv.ends, dtype=np.int64)
    lengths = ends - starts
    before = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(lengths) else np.zeros(0)

    def cumulative(x: np.ndarray) -> np.ndarray:
        if len(starts) == 0:
            return np.zeros(len(x), dtype=np.int64)
        xi = np.nan_to_num(x, nan=lo).astype(np.int64)
        idx = np.searchsorted(starts, xi, side="right") - 1
        inside = np.clip(xi - starts[np.maximum(idx, 0)], 0, lengths[np.maximum(idx, 0)])
        return np.where(idx >= 0, before[np.maximum(idx, 0)] + inside, 0).astype(np.int64)

    result = np.maximum(cumulative(e) - cumulative(s), 0)
    return pa.array(result, pa.duration("us"), mask=~valid_s)


def _to_us(a: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Timestamps as float microseconds with NaN for null (float keeps nulls vectorised)."""
    ints = pc.cast(pc.cast(a, UTC_US), pa.int64())
    if isinstance(ints, pa.ChunkedArray):
        ints = ints.combine_chunks()
    return ints.to_numpy(zero_copy_only=False).astype("float64")


def _number(v: Decimal) -> int | float:
    return int(v) if v == v.to_integral_value() else float(v)


def _is_string(data: object) -> bool:
    typ = getattr(data, "type", None)
    return typ is not None and (pa.types.is_string(typ) or pa.types.is_large_string(typ))


def _columns_in(expr: ast.Node) -> set[str]:
    """The column names an expression reads (last part of each name)."""
    if isinstance(expr, ast.Name):
        return {expr.parts[-1]}
    found: set[str] = set()
    for value in vars(expr).values():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, ast.Node):
                found |= _columns_in(item)
    return found


def _type_of(data: object) -> pa.DataType | None:
    typ = getattr(data, "type", None)
    if typ is None or pa.types.is_dictionary(typ):
        return getattr(typ, "value_type", None)
    return typ


def _true_divide(a: Any, b: Any) -> Any:
    """`/` is true division, as in SQL engines and as a person reads `bytes / 1000 > 2.5`:
    Arrow's integer division would truncate 7 / 2 to 3 and decide SLA rows wrongly. Dividing
    by zero gives null (so a condition over it is false), as in DuckDB and Spark, rather than
    an error or an infinity."""
    def as_float(x: Any) -> Any:
        kind = _type_of(x)
        return pc.cast(x, pa.float64()) if pa.types.is_integer(kind) or \
            pa.types.is_decimal(kind) else x

    num, den = as_float(a), as_float(b)
    quotient = pc.divide(num, den)
    return pc.if_else(pc.equal(den, 0), pa.scalar(None, pa.float64()), quotient)

