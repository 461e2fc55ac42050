"""Interval algebra on instants: the shape the engine gives to counted time.

Time in the engine is int64 microseconds since the Unix epoch, UTC. A set of instants (the
period, its in-hours part, the exclusions, downtime) is an `Intervals`: two sorted int64 arrays of
half-open `[start, end)` pieces. Every operation here is vectorised numpy, never a Python loop
over intervals: an exclusion source or an incident log can hold many thousands of intervals, and
the same algebra runs once per period and objective.

Normal form (what `normalize` returns and every operation keeps): no empty pieces, sorted, and
no two pieces overlapping *or touching*. Merging touching pieces matters for meaning, not only
tidiness: uptime granularity floors each *maximal* piece of downtime (§4.4), so `[0, 30s)` and
`[30s, 60s)` must be one 60 s piece, not two 30 s pieces that floor to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

I64 = np.int64
Array = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Intervals:
    """A set of instants as sorted, disjoint, non-touching half-open pieces `[starts, ends)`.

    The constructor trusts its arrays (the operations below build them already normal); use
    `Intervals.of` for anything that may overlap, be unsorted or hold empty pieces.
    """

    starts: Array
    ends: Array

    @classmethod
    def of(cls, starts: npt.ArrayLike, ends: npt.ArrayLike) -> Intervals:
        return normalize(starts, ends)

    @classmethod
    def empty(cls) -> Intervals:
        return cls(np.empty(0, I64), np.empty(0, I64))

    @classmethod
    def span(cls, start: int, end: int) -> Intervals:
        """The single piece `[start, end)`, or nothing when it is empty."""
        return normalize(np.array([start], I64), np.array([end], I64))

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Intervals):
            return NotImplemented
        return np.array_equal(self.starts, other.starts) and np.array_equal(self.ends, other.ends)

    __hash__ = None  # type: ignore[assignment]  # arrays are mutable; equality is by value

    @property
    def is_empty(self) -> bool:
        return len(self) == 0

    def pairs(self) -> list[tuple[int, int]]:
        """Plain Python pairs, for tests, evidence and error messages."""
        return [(int(s), int(e)) for s, e in zip(self.starts, self.ends, strict=True)]

    def total(self) -> int:
        return total(self)

    def __and__(self, other: Intervals) -> Intervals:
        return intersect(self, other)

    def __or__(self, other: Intervals) -> Intervals:
        return union(self, other)

    def __sub__(self, other: Intervals) -> Intervals:
        return subtract(self, other)


def normalize(starts: npt.ArrayLike, ends: npt.ArrayLike) -> Intervals:
    """Drop empty and negative pieces, sort, and merge pieces that overlap or touch.

    After sorting by start, a running maximum of the ends tells how far the pieces so far reach;
    a new merged piece begins exactly where a start lies beyond that reach (strictly: a start
    equal to the reach touches it and merges).
    """
    s = np.asarray(starts, dtype=I64).ravel()
    e = np.asarray(ends, dtype=I64).ravel()
    if s.shape != e.shape:
        raise ValueError(f"starts and ends differ in length: {s.shape[0]} vs {e.shape[0]}")
    keep = e > s
    s, e = s[keep], e[keep]
    if s.shape[0] == 0:
        return Intervals.empty()
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    reach = np.maximum.accumulate(e)
    new = np.empty(s.shape[0], dtype=bool)
    new[0] = True
    new[1:] = s[1:] > reach[:-1]
    first = np.flatnonzero(new)
    last = np.empty_like(first)
    last[:-1] = first[1:] - 1
    last[-1] = s.shape[0] - 1
    return Intervals(s[first], reach[last])


def _combine(a: Intervals, b: Intervals, keep_a: bool, keep_b: bool, both: bool) -> Intervals:
    """Sweep the boundaries of two normal sets and keep the stretches whose membership
    (in a, in b) is wanted. Between two consecutive distinct boundaries membership is constant,
    so counting starts minus ends up to each boundary decides each stretch at once; ties
    (an end and a start at the same instant) need no ordering rule this way.
    """
    coords = np.concatenate([a.starts, a.ends, b.starts, b.ends])
    if coords.shape[0] == 0:
        return Intervals.empty()
    na, nb = len(a), len(b)
    da = np.concatenate([np.ones(na, I64), -np.ones(na, I64), np.zeros(2 * nb, I64)])
    db = np.concatenate([np.zeros(2 * na, I64), np.ones(nb, I64), -np.ones(nb, I64)])
    order = np.argsort(coords, kind="stable")
    c = coords[order]
    last = np.empty(c.shape[0], dtype=bool)  # the last event at each distinct instant
    last[:-1] = c[1:] != c[:-1]
    last[-1] = True
    points = c[last]
    in_a = np.cumsum(da[order])[last] > 0
    in_b = np.cumsum(db[order])[last] > 0
    wanted = (in_a & ~in_b & keep_a) | (~in_a & in_b & keep_b) | (in_a & in_b & both)
    idx = np.flatnonzero(wanted[:-1])
    return normalize(points[idx], points[idx + 1])


def intersect(a: Intervals, b: Intervals) -> Intervals:
    return _combine(a, b, keep_a=False, keep_b=False, both=True)


def subtract(a: Intervals, b: Intervals) -> Intervals:
    """The instants of a that are not in b."""
    return _combine(a, b, keep_a=True, keep_b=False, both=False)


def union(a: Intervals, b: Intervals) -> Intervals:
    return normalize(np.concatenate([a.starts, b.starts]), np.concatenate([a.ends, b.ends]))


def clip(a: Intervals, lo: int, hi: int) -> Intervals:
    """The part of a inside `[lo, hi)`; cheaper than intersecting with a one-piece set."""
    s = np.maximum(a.starts, I64(lo))
    e = np.minimum(a.ends, I64(hi))
    keep = e > s
    return Intervals(s[keep], e[keep])


def total(a: Intervals) -> int:
    """Total length as a Python int (µs). Pieces are disjoint, so for any real time range the
    int64 sum cannot overflow (2**63 µs is 292 000 years)."""
    return int(np.sum(a.ends - a.starts, dtype=I64))


def contains(a: Intervals, ts: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """For each instant, whether it lies in a: the last piece starting at or before it must end
    after it (half-open, so an instant equal to a piece's end is outside)."""
    t = np.asarray(ts, dtype=I64)
    if len(a) == 0:
        return np.zeros(t.shape, dtype=bool)
    if len(a) == 1:  # the usual counted time without hours: two comparisons, no search
        return (t >= a.starts[0]) & (t < a.ends[0])
    idx = np.searchsorted(a.starts, t, side="right") - 1
    safe = np.maximum(idx, 0)
    return (idx >= 0) & (t < a.ends[safe])


def floor_pieces(a: Intervals, unit_us: int) -> Intervals:
    """Each piece shortened to a whole number of units from its start; pieces shorter than one
    unit vanish. This is uptime `granularity` (§4.4): applied to a normal set, where each piece
    is maximal, a 45 s blip counts 0 and 2 min 30 s counts 2 min."""
    if unit_us <= 0:
        raise ValueError(f"unit must be positive, got {unit_us}")
    length = a.ends - a.starts
    floored = length - length % I64(unit_us)
    keep = floored > 0
    return Intervals(a.starts[keep], a.starts[keep] + floored[keep])


def slice_indices(a: Intervals, origin_us: int, slice_us: int) -> Array:
    """Sorted unique k of the slices `[origin + k·L, origin + (k+1)·L)` that overlap a.

    Slices exist only where they overlap counted time (§3), so this is the set of slices of a
    period. Each piece covers a run of consecutive slices, from the one holding its start to
    the one holding its last instant; the runs are expanded with repeat and cumsum.
    """
    if slice_us <= 0:
        raise ValueError(f"slice length must be positive, got {slice_us}")
    if len(a) == 0:
        return np.empty(0, I64)
    length = I64(slice_us)
    first = (a.starts - I64(origin_us)) // length
    last = (a.ends - 1 - I64(origin_us)) // length
    counts = last - first + 1
    offsets = np.cumsum(counts) - counts
    n = int(counts.sum())
    step = np.arange(n, dtype=I64) - np.repeat(offsets, counts)
    return np.unique(np.repeat(first, counts) + step)
