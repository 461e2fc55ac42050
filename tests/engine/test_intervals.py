"""Interval algebra: hand-computed cases, then every operation against a naive reference.

The reference models a set of instants on a small integer range as one boolean per unit of
time (`[t, t+1)`), where union, intersection and difference are elementwise logic and the
normal form is the list of maximal runs. Integer endpoints make the two models agree exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from slang.engine import intervals as iv
from slang.engine.intervals import Intervals

N = 40  # the reference universe is [0, N)

raw_pairs = st.lists(st.tuples(st.integers(0, N), st.integers(0, N)), max_size=8)


def mask_of(pairs: list[tuple[int, int]]) -> np.ndarray:
    mask = np.zeros(N, dtype=bool)
    for s, e in pairs:
        mask[s:e] = True  # an empty or backwards pair marks nothing
    return mask


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """The maximal runs of True: the normal form the algebra must produce."""
    out: list[tuple[int, int]] = []
    t = 0
    while t < len(mask):
        if mask[t]:
            s = t
            while t < len(mask) and mask[t]:
                t += 1
            out.append((s, t))
        else:
            t += 1
    return out


def make(pairs: list[tuple[int, int]]) -> Intervals:
    return iv.normalize([p[0] for p in pairs], [p[1] for p in pairs])


def assert_normal(a: Intervals) -> None:
    assert a.starts.dtype == np.int64 and a.ends.dtype == np.int64
    assert np.all(a.ends > a.starts)
    assert np.all(a.starts[1:] > a.ends[:-1])  # sorted, disjoint and not touching


# ------------------------------------------------------------------------ hand-computed


def test_normalize_merges_overlapping_and_touching_and_drops_empty():
    # [5,9) and [0,3) sort; [2,4) overlaps [0,3) -> [0,4); [4,5) touches it -> [0,5); [5,9)
    # touches -> [0,9); [12,12) and [20,15) are empty/backwards and vanish; [10,11) stays.
    a = iv.normalize([5, 0, 2, 4, 12, 20, 10], [9, 3, 4, 5, 12, 15, 11])
    assert a.pairs() == [(0, 9), (10, 11)]
    assert_normal(a)


def test_touching_downtime_is_one_piece_for_granularity():
    # 0-30 s and 30-60 s of downtime are one 60 s piece: floored to 1 min it counts 60 s, not 0.
    s = 1_000_000
    a = iv.normalize([0, 30 * s], [30 * s, 60 * s])
    assert iv.floor_pieces(a, 60 * s).pairs() == [(0, 60 * s)]


def test_floor_pieces_examples_from_the_spec():
    # §4.4: a 45 s blip counts 0; 2 min 30 s counts 2 min (kept from its start at 100 s).
    s = 1_000_000
    a = iv.normalize([0, 100 * s], [45 * s, 250 * s])
    floored = iv.floor_pieces(a, 60 * s)
    assert floored.pairs() == [(100 * s, 220 * s)]
    assert iv.total(floored) == 120 * s


def test_set_operations_by_hand():
    a = make([(0, 10), (20, 30)])
    b = make([(5, 25)])
    assert iv.intersect(a, b).pairs() == [(5, 10), (20, 25)]
    assert iv.subtract(a, b).pairs() == [(0, 5), (25, 30)]
    assert iv.union(a, b).pairs() == [(0, 30)]
    assert iv.subtract(b, a).pairs() == [(10, 20)]
    # Only touching: [0,10) ∩ [10,20) is empty, and the union is one piece.
    assert iv.intersect(make([(0, 10)]), make([(10, 20)])).is_empty
    assert iv.union(make([(0, 10)]), make([(10, 20)])).pairs() == [(0, 20)]
    assert (a & b) == iv.intersect(a, b)
    assert (a | b) == iv.union(a, b)
    assert (a - b) == iv.subtract(a, b)


def test_clip_and_total():
    a = make([(0, 10), (20, 30), (40, 50)])
    assert iv.clip(a, 5, 45).pairs() == [(5, 10), (20, 30), (40, 45)]
    assert iv.total(iv.clip(a, 5, 45)) == 5 + 10 + 5
    assert iv.clip(a, 10, 20).is_empty


def test_contains_is_half_open():
    a = make([(10, 20), (30, 40)])
    got = iv.contains(a, np.array([9, 10, 19, 20, 29, 30, 39, 40, 100]))
    assert got.tolist() == [False, True, True, False, False, True, True, False, False]
    assert iv.contains(Intervals.empty(), np.array([1, 2])).tolist() == [False, False]


def test_slice_indices_by_hand():
    # Slices of 10 from origin 5: k=0 is [5,15), k=1 [15,25), k=-1 [-5,5).
    # [0,6) touches k=-1 and k=0; [14,15) is k=0; [24,36) spans k=1,2,3 ([35,45) holds 35).
    a = make([(0, 6), (14, 15), (24, 36)])
    assert iv.slice_indices(a, 5, 10).tolist() == [-1, 0, 1, 2, 3]
    # An interval ending exactly at a slice boundary does not reach the next slice.
    assert iv.slice_indices(make([(5, 15)]), 5, 10).tolist() == [0]


def test_real_timestamps_stay_exact():
    # Microsecond instants around 2026-10-25 (1.79e15) lose precision as floats; the algebra
    # must stay in int64. 2026-10-25T00:00:00Z = 1792886400 s.
    t = 1_792_886_400_000_000
    a = iv.normalize([t, t + 3], [t + 2, t + 7])
    b = iv.normalize([t + 1], [t + 4])
    assert iv.subtract(a, b).pairs() == [(t, t + 1), (t + 4, t + 7)]
    assert iv.intersect(a, b).pairs() == [(t + 1, t + 2), (t + 3, t + 4)]
    assert iv.total(a) == 2 + 4


def test_empty_inputs():
    e = Intervals.empty()
    a = make([(1, 2)])
    assert iv.intersect(e, a).is_empty and iv.intersect(a, e).is_empty
    assert iv.subtract(a, e) == a and iv.subtract(e, a).is_empty
    assert iv.union(e, e).is_empty and iv.total(e) == 0
    assert iv.slice_indices(e, 0, 5).size == 0 and iv.floor_pieces(e, 5).is_empty
    assert Intervals.span(5, 5).is_empty and Intervals.span(5, 6).pairs() == [(5, 6)]


def test_bad_units_are_refused():
    with pytest.raises(ValueError):
        iv.floor_pieces(make([(0, 5)]), 0)
    with pytest.raises(ValueError):
        iv.slice_indices(make([(0, 5)]), 0, 0)
    with pytest.raises(ValueError):
        iv.normalize([1, 2], [3])


# -------------------------------------------------------------- properties vs the reference


@given(raw_pairs)
def test_normalize_matches_reference(pairs):
    a = make(pairs)
    assert_normal(a)
    assert a.pairs() == runs(mask_of(pairs))


@given(raw_pairs, raw_pairs)
def test_intersect_matches_reference(p, q):
    got = iv.intersect(make(p), make(q))
    assert_normal(got)
    assert got.pairs() == runs(mask_of(p) & mask_of(q))


@given(raw_pairs, raw_pairs)
def test_subtract_matches_reference(p, q):
    got = iv.subtract(make(p), make(q))
    assert_normal(got)
    assert got.pairs() == runs(mask_of(p) & ~mask_of(q))


@given(raw_pairs, raw_pairs)
def test_union_matches_reference(p, q):
    got = iv.union(make(p), make(q))
    assert_normal(got)
    assert got.pairs() == runs(mask_of(p) | mask_of(q))


@given(raw_pairs, st.integers(0, N), st.integers(0, N))
def test_clip_and_total_match_reference(p, lo, hi):
    window = np.zeros(N, dtype=bool)
    window[lo:hi] = True
    got = iv.clip(make(p), lo, hi)
    assert_normal(got)
    assert got.pairs() == runs(mask_of(p) & window)
    assert iv.total(make(p)) == int(mask_of(p).sum())
    assert isinstance(iv.total(make(p)), int)


@given(raw_pairs)
def test_contains_matches_reference(p):
    points = np.arange(-3, N + 3)
    inside = np.concatenate([np.zeros(3, bool), mask_of(p), np.zeros(3, bool)])
    assert iv.contains(make(p), points).tolist() == inside.tolist()


@given(raw_pairs, st.integers(1, 9))
def test_floor_pieces_matches_reference(p, unit):
    got = iv.floor_pieces(make(p), unit)
    assert_normal(got)
    expected = [(s, s + (e - s) // unit * unit) for s, e in runs(mask_of(p)) if e - s >= unit]
    assert got.pairs() == expected


@given(raw_pairs, st.integers(-12, 12), st.integers(1, 9))
def test_slice_indices_match_reference(p, origin, length):
    ts = np.flatnonzero(mask_of(p))
    expected = sorted({(int(t) - origin) // length for t in ts})
    got = iv.slice_indices(make(p), origin, length)
    assert got.dtype == np.int64
    assert got.tolist() == expected
