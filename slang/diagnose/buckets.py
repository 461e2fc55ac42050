"""Local hours and days of a period, and what fell in each, vectorised.

Buckets are given by their boundaries, instants in UTC microseconds: every instant where a local
hour (or a local day) of the agreement's time zone begins. So a DST day has 23 or 25 hours, a
repeated 01:00 is two hours with two labels, and a zone half an hour off UTC is bucketed on its
own o'clocks. What fell in a bucket is counted by binary search on the boundaries, never per row:
events (sorted instants) by `np.searchsorted`, time (sorted disjoint intervals) by the
cumulative measure F(x) of the intervals before x.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from slang.engine import intervals as iv
from slang.engine.calendar_time import DAY_US, day_number, local_date, local_datetime, local_to_us
from slang.engine.periods import hour_bounds

I64 = np.int64


def hour_edges(tz: str, lo: int, hi: int) -> np.ndarray:
    """The starts of the local hours overlapping `[lo, hi)`, and the end of the last one."""
    b = hour_bounds(tz, lo, hi)
    first = max(int(np.searchsorted(b, lo, side="right")) - 1, 0)
    last = int(np.searchsorted(b, hi, side="left"))
    return np.asarray(b[first:last + 1], dtype=I64)


def day_edges(tz: str, lo: int, hi: int) -> np.ndarray:
    """Local midnights from the day holding `lo` to the one after the day holding `hi - 1`."""
    first, last = local_date(tz, lo), local_date(tz, hi - 1)
    days = np.arange(day_number(first), day_number(last) + 2, dtype=I64)
    return np.asarray(local_to_us(tz, days * DAY_US), dtype=I64)


def count_in(edges: np.ndarray, sorted_times: np.ndarray) -> np.ndarray:
    """How many of the (sorted) instants fall in each bucket `[edges[i], edges[i+1])`."""
    return np.diff(np.searchsorted(sorted_times, edges, side="left"))


def time_in(edges: np.ndarray, pieces: iv.Intervals) -> np.ndarray:
    """How much of the intervals (µs) lies in each bucket."""
    return np.diff(measure_before(pieces, edges))


def measure_before(pieces: iv.Intervals, xs: np.ndarray) -> np.ndarray:
    """F(x): the total length of the intervals before each instant x."""
    starts, ends = pieces.starts, pieces.ends
    if not len(starts):
        return np.zeros(len(xs), dtype=I64)
    cum = np.concatenate([[0], np.cumsum(ends - starts)]).astype(I64)
    j = np.searchsorted(starts, xs, side="right") - 1  # the last piece starting at or before x
    inside = np.clip(xs - starts[np.maximum(j, 0)], 0, (ends - starts)[np.maximum(j, 0)])
    return np.where(j >= 0, cum[np.maximum(j, 0)] + inside, 0)


def hour_label(tz: str, start_us: int) -> str:
    """`2026-11-12T14:00-05:00`: the local hour with its UTC offset (a repeated hour in the
    autumn shows twice, with two offsets)."""
    t = local_datetime(tz, start_us)
    return t.strftime("%Y-%m-%dT%H:%M") + _offset(t.utcoffset())


def day_label(tz: str, start_us: int) -> str:
    return local_date(tz, start_us).isoformat()


def _offset(off: dt.timedelta | None) -> str:
    minutes = int((off or dt.timedelta(0)).total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
