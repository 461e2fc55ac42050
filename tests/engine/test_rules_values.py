"""Spec §3 indicators and §4.5 status, end to end: nearest-rank and linear percentiles, null and
NaN values, targets with units, `count`/`sum` over no rows, `no_data`, conditions that are null,
`ratio` against `slice_mean`, and `timeslices` with each `empty:` rule, empty slices and
partial slices.

Unless said otherwise the agreement is in UTC, daily, and audits 2026-10-05 (a Monday) well
after its end.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from tests.engine.conftest import Estate, agreement

AS_OF = "2026-10-10T00:00:00Z"
DAY = "2026-10-05"


def at(minute: int) -> str:
    """An instant on 2026-10-05, `minute` minutes after midnight UTC."""
    return f"2026-10-05T{minute // 60:02d}:{minute % 60:02d}:00Z"


# -------------------------------------------------------------------------------- percentiles

PERCENTILES = """
  objective p95 {
    indicator p95(requests.latency_ms)
    target    <= 100ms
  }
  objective p95_linear {
    indicator percentile(requests.latency_ms, 95, method: linear)
    target    <= 100ms
  }
  objective p50 {
    indicator p50(requests.latency_ms)
    target    <= 100ms
  }
  objective p50_linear {
    indicator percentile(requests.latency_ms, 50, method: linear)
    target    <= 100ms
  }
  objective p10 {
    indicator percentile(requests.latency_ms, 10)
    target    <= 100ms
  }
  objective p0_1 {
    indicator percentile(requests.latency_ms, 0.1)
    target    <= 100ms
  }"""


def test_nearest_rank_and_linear_percentiles_and_skipped_values(estate: Estate) -> None:
    # ten values 10..100 (shuffled), plus one null and two NaN, which are skipped and counted
    values = [70.0, 10.0, 100.0, 40.0, None, 90.0, 20.0, float("nan"), 60.0, 30.0, 80.0,
              float("nan"), 50.0]
    run = estate.run(agreement(PERCENTILES, period="daily"), {"requests": {
        "ts": [at(i) for i in range(len(values))], "latency_ms": values,
    }}, as_of=AS_OF, period=DAY)
    # nearest rank r = max(1, ceil(q n / 100)), n = 10, sorted 10, 20, ..., 100
    assert run.r("p95")["measured"] == 100  # r = ceil(9.5) = 10
    assert run.r("p50")["measured"] == 50  # r = 5
    assert run.r("p10")["measured"] == 10  # r = 1
    assert run.r("p0_1")["measured"] == 10  # r = max(1, ceil(0.01)) = 1
    # linear: h = (n - 1) q / 100; p95: h = 8.55, 90 + 0.55 x 10 = 95.5; p50: h = 4.5 -> 55
    assert run.r("p95_linear")["measured"] == 95.5
    assert run.r("p50_linear")["measured"] == 55
    # numpy's default method, computed exactly: numpy's own float arithmetic gives
    # 95.49999999999999 here, one ulp from the exact 95.5
    finite = [v for v in values if v is not None and v == v]
    assert np.percentile(finite, [95, 50]).tolist() == pytest.approx([95.5, 55.0])
    for name in ("p95", "p95_linear", "p50", "p10"):
        assert run.r(name)["values_skipped"] == 3
        assert run.r(name)["total"] == 10
    assert run.r("p95")["status"] == "met"  # 100 <= 100ms


def test_nearest_rank_is_exact_where_floating_point_is_not(estate: Estate) -> None:
    """q n / 100 in rational arithmetic: percentile 7 of 100 values is rank 7, although
    0.07 * 100 = 7.000000000000001 in floating point (which would give rank 8)."""
    assert 0.07 * 100 > 7
    policy = agreement("""
  objective p7 {
    indicator percentile(requests.latency_ms, 7)
    target    <= 100ms
  }""", period="daily")
    run = estate.run(policy, {"requests": {
        "ts": [at(i) for i in range(100)], "latency_ms": [float(i + 1) for i in range(100)],
    }}, as_of=AS_OF, period=DAY)
    assert run.r("p7")["measured"] == 7


def test_duration_targets_in_the_columns_unit(estate: Estate) -> None:
    """`300ms` on a column in ms is 300, and `0.3s` is the same target; `<=` is met at
    exactly 300, `<` is not; a breached objective with no matching tier owes nothing."""
    policy = agreement("""
  objective at_most {
    indicator p95(requests.latency_ms)
    target    <= 300ms
  }
  objective at_most_s {
    indicator p95(requests.latency_ms)
    target    <= 0.3s
  }
  objective below {
    indicator p95(requests.latency_ms)
    target    < 300ms
  }
  objective below_ms {
    indicator p95(requests.latency_ms)
    target    < 301ms
  }
  credit below { above 300ms => 5% }""", period="daily", extra="  fee 100.00 GBP")
    # p95 of 10 values is the largest: 300
    values = [100.0, 120.0, 150.0, 180.0, 200.0, 220.0, 250.0, 270.0, 290.0, 300.0]
    run = estate.run(policy, {"requests": {
        "ts": [at(i) for i in range(10)], "latency_ms": values,
    }}, as_of=AS_OF, period=DAY)
    for name in ("at_most", "at_most_s"):
        r = run.r(name)
        assert (r["measured"], r["op"], r["target"], r["status"]) == (300, "<=", 300, "met")
    below = run.r("below")
    assert (below["target"], below["status"]) == (300, "breached")
    # 300 is not `above 300ms`: breached, but no tier matches
    assert (below["credit_percent"], below["credit_amount"]) == (0, "0.00")
    assert run.r("below_ms")["status"] == "met"


# ------------------------------------------------------------------------ aggregates, no_data


def test_no_rows_count_and_sum_are_zero_others_no_data(estate: Estate) -> None:
    """With no rows that count (the only rows belong to another service): `count` and `sum`
    are 0 (and meet `<=` targets), everything else is `no_data` with a null `measured`, no
    budget and no credit."""
    policy = agreement("""
  objective avail {
    indicator ratio(requests where status < 500)
    target    >= 99.9%
  }
  objective n {
    indicator count(requests)
    target    <= 5
  }
  objective total_latency {
    indicator sum(requests.latency_ms)
    target    <= 1s
  }
  objective mean_latency {
    indicator mean(requests.latency_ms)
    target    <= 1s
  }
  objective p95 {
    indicator p95(requests.latency_ms)
    target    <= 1s
  }
  objective slowest {
    indicator max(requests.latency_ms)
    target    <= 1s
  }
  credit avail { below 99.9% => 10% }""", period="daily", extra="  fee 100.00 GBP")
    run = estate.run(policy, {"requests": {
        "ts": [at(60)], "status": [500], "latency_ms": [5000.0], "service": ["other"],
    }}, as_of=AS_OF, period=DAY)
    for name in ("n", "total_latency"):
        r = run.r(name)
        assert (r["measured"], r["status"]) == (0, "met")
    for name in ("avail", "mean_latency", "p95", "slowest"):
        r = run.r(name)
        assert (r["measured"], r["status"]) == (None, "no_data")
    avail = run.r("avail")
    assert (avail["good"], avail["total"], avail["budget"]) == (0, 0, None)
    assert (avail["credit_percent"], avail["credit_amount"]) == (0, "0.00")
    assert run.doc["summary"]["no_data"] == 4


def test_mean_sum_min_max_over_counted_rows(estate: Estate) -> None:
    """Aggregates over the rows that count, NaN and infinite values skipped and counted; `mean`
    is the exact mean of the doubles, written as the nearest double."""
    policy = agreement("""
  objective mean_latency {
    indicator mean(requests.latency_ms)
    target    <= 1s
  }
  objective total_latency {
    indicator sum(requests.latency_ms where method == "GET")
    target    <= 1s
  }
  objective fastest {
    indicator min(requests.latency_ms)
    target    >= 0.25ms
  }
  objective slowest {
    indicator max(requests.latency_ms)
    target    <= 1ms
  }""", period="daily")
    run = estate.run(policy, {"requests": {
        "ts": [at(1), at(2), at(3), at(4), at(5), at(6)],
        "latency_ms": [0.3, 0.6666666666666666, float("nan"), 0.2, float("inf"), 0.5],
        "method": ["GET", "GET", "GET", "POST", "GET", "POST"],
        "service": ["svc"] * 5 + ["other"],
    }}, as_of=AS_OF, period=DAY)
    # mean of 0.3, 0.6666666666666666, 0.2 (NaN and inf skipped; 0.5 is another service's):
    # the exact sum of the three doubles / 3 is nearest 0.3888888888888889 (summing with
    # math.fsum first and then dividing gives 0.38888888888888884)
    exact = (Fraction(0.3) + Fraction(0.6666666666666666) + Fraction(0.2)) / 3
    mean = run.r("mean_latency")
    assert mean["measured"] == float(exact) == 0.3888888888888889
    assert (mean["values_skipped"], mean["total"]) == (2, 3)
    # GET: 0.3 + 0.6666666666666666 (NaN, inf skipped)
    assert run.r("total_latency")["measured"] == float(
        Fraction(0.3) + Fraction(0.6666666666666666))
    fastest = run.r("fastest")
    assert (fastest["measured"], fastest["status"]) == (0.2, "breached")
    slowest = run.r("slowest")
    assert (slowest["measured"], slowest["status"]) == (0.6666666666666666, "met")


def test_null_condition_is_false_and_two_argument_ratio(estate: Estate) -> None:
    """A row whose condition is null is not good (but is in the total); with two arguments the
    good rows are those satisfying both conditions."""
    policy = agreement("""
  objective avail {
    indicator ratio(requests where status < 500)
    target    >= 50%
  }
  objective gets {
    indicator ratio(requests where status < 500, requests where method == "GET")
    target    >= 50%
  }""", period="daily")
    run = estate.run(policy, {"requests": {
        "ts": [at(1), at(2), at(3), at(4), at(5)],
        "status": [200, None, 500, 200, 200],
        "method": ["GET", "GET", "GET", "POST", None],
    }}, as_of=AS_OF, period=DAY)
    assert (run.r("avail")["good"], run.r("avail")["total"]) == (3, 5)
    # total: the three GETs (a null method is not GET); good: the GET with status 200
    assert (run.r("gets")["good"], run.r("gets")["total"]) == (1, 3)


# ------------------------------------------------------------------------------------ slices

SLICES = """
  objective ratio_all {
    indicator ratio(requests where status < 500)
    target    >= 95%
  }
  objective mean_good {
    indicator slice_mean(1h, ratio(requests where status < 500))
    target    >= 95%
  }
  objective mean_skip {
    indicator slice_mean(1h, ratio(requests where status < 500), empty: skip)
    target    >= 95%
  }
  objective slices_good {
    indicator timeslices(1h, ratio(requests where status < 500) >= 99%)
    target    >= 95%
  }
  objective slices_bad {
    indicator timeslices(1h, ratio(requests where status < 500) >= 99%, empty: bad)
    target    >= 95%
  }
  objective slices_skip {
    indicator timeslices(1h, ratio(requests where status < 500) >= 99%, empty: skip)
    target    >= 95%
  }
  objective mean_count {
    indicator slice_mean(1h, count(requests))
    target    >= 1
  }
  objective seven_hours {
    indicator timeslices(7h, count(requests) >= 1, empty: bad)
    target    >= 95%
  }
  objective seven_hours_default {
    indicator timeslices(7h, count(requests) >= 1)
    target    >= 95%
  }"""


def test_ratio_slice_mean_and_timeslices_on_the_same_rows(estate: Estate) -> None:
    """One bad row in hour 0, nine good rows in hour 1, 22 hours without rows."""
    run = estate.run(agreement(SLICES, period="daily"), {"requests": {
        "ts": [at(30)] + [at(60 + i) for i in range(9)],
        "status": [500] + [200] * 9,
    }}, as_of=AS_OF, period=DAY)
    # ratio: 9 / 10
    assert run.r("ratio_all")["measured"] == 0.9
    # slice_mean, empty slices 1.0: (0 + 1 + 22) / 24 = 23/24
    assert run.r("mean_good")["measured"] == 23 / 24
    assert run.r("mean_good")["total"] == 24
    # slice_mean, empty: skip: (0 + 1) / 2
    assert (run.r("mean_skip")["measured"], run.r("mean_skip")["total"]) == (0.5, 2)
    # timeslices: hour 0 is bad (0 % < 99 %), hour 1 good, 22 empty
    r = run.r("slices_good")
    assert (r["good"], r["total"], r["measured"]) == (23, 24, 23 / 24)
    r = run.r("slices_bad")
    assert (r["good"], r["total"], r["measured"]) == (1, 24, 1 / 24)
    # budget in slices: allowed 5 % x 24 = 1.2, consumed 23, burn (23/24) / 0.05 = 19.1666...
    assert r["budget"] == {"allowed": 1.2, "consumed": 23, "remaining": -21.8,
                           "burn_rate": 23 / 24 / 0.05}
    # slice_mean has no good slices to count: no budget
    assert run.r("mean_good")["budget"] is None
    r = run.r("slices_skip")
    assert (r["good"], r["total"], r["measured"]) == (1, 2, 0.5)
    # slice_mean of a count skips the hours without rows: (1 + 9) / 2
    assert (run.r("mean_count")["measured"], run.r("mean_count")["total"]) == (5, 2)
    # 7 h slices from midnight: [0,7) [7,14) [14,21) [21,24) (cut by the period's end: one
    # slice); only the first has rows. A slice with no rows is decided by `empty:`, whatever
    # the aggregate (its count is not compared): bad with `empty: bad`, good by default
    r = run.r("seven_hours")
    assert (r["good"], r["total"]) == (1, 4)
    r = run.r("seven_hours_default")
    assert (r["good"], r["total"]) == (4, 4)


def test_slice_mean_differs_from_ratio_when_traffic_is_uneven(estate: Estate) -> None:
    """A busy good hour and a quiet bad hour: the ratio weighs rows, slice_mean weighs hours."""
    policy = agreement("""
  objective ratio_all {
    indicator ratio(requests where status < 500)
    target    >= 95%
  }
  objective hourly_mean {
    indicator slice_mean(1h, ratio(requests where status < 500), empty: skip)
    target    >= 95%
  }""", period="daily")
    run = estate.run(policy, {"requests": {
        # hour 0: 99 good, 1 bad; hour 1: 1 good, 1 bad
        "ts": [at(i % 60) for i in range(100)] + [at(61), at(62)],
        "status": [200] * 99 + [500] + [200, 500],
    }}, as_of=AS_OF, period=DAY)
    # ratio: 100 / 102; slice_mean: (0.99 + 0.5) / 2 = 0.745
    assert run.r("ratio_all")["measured"] == 100 / 102
    assert run.r("hourly_mean")["measured"] == 0.745


def test_per_slice_values_compare_exactly_with_the_threshold(estate: Estate) -> None:
    """Per-slice means and interpolated percentiles are the exact values of the doubles
    (docs/semantics.md §8.1), compared exactly: floating point would put these slices on the
    wrong side of their thresholds."""
    policy = agreement("""
  objective median {
    indicator timeslices(1m, percentile(requests.latency_ms, 50, method: linear) >= 0.4ms)
    target    >= 50%
  }
  objective mean {
    indicator timeslices(1m, mean(requests.latency_ms) >= 0.388888888888888875ms)
    target    >= 50%
  }
  objective mean_of_means {
    indicator slice_mean(1m, mean(requests.latency_ms))
    target    >= 0.1ms
  }
  objective mean_of_medians {
    indicator slice_mean(1m, percentile(requests.latency_ms, 50, method: linear))
    target    >= 0.1ms
  }""", period="daily")
    run = estate.run(policy, {"requests": {
        # minute 0: 0.1 and 0.7; minute 1: 0.3, 0.6666666666666666 and 0.2
        "ts": [at(0), at(0), at(1), at(1), at(1)],
        "latency_ms": [0.1, 0.7, 0.3, 0.6666666666666666, 0.2],
    }}, as_of=AS_OF, period=DAY)
    # minute 0, linear median: 0.1 + 0.5 x (0.7 - 0.1) = (0.1 + 0.7) / 2 exactly
    # 0.399999999999999980..., below 0.4 (in floating point, 0.1 + 0.5 * 0.6 = 0.4): bad.
    # minute 1 has 3 values; median 0.3 < 0.4: bad. 1 438 empty minutes are good.
    assert 0.1 + 0.5 * (0.7 - 0.1) == 0.4
    r = run.r("median")
    assert (r["good"], r["total"]) == (1438, 1440)
    # minute 1, mean: exactly 0.38888888888888887655..., at least 0.388888888888888875
    # (the floating-point mean, 0.38888888888888884, is below it): good. Minute 0: 0.4: good
    r = run.r("mean")
    assert (r["good"], r["total"]) == (1440, 1440)
    # slice_mean of per-slice means and medians: exact per slice, then averaged exactly
    m0 = (Fraction(0.1) + Fraction(0.7)) / 2
    m1 = (Fraction(0.3) + Fraction(0.6666666666666666) + Fraction(0.2)) / 3
    assert run.r("mean_of_means")["measured"] == float((m0 + m1) / 2)
    assert run.r("mean_of_medians")["measured"] == float((m0 + Fraction(0.3)) / 2)


UK_BUSINESS = """
calendar uk_business {
  timezone "Europe/London"
  hours    mon-fri 09:00-17:30
}
"""


def test_partial_slices_cut_by_hours_and_as_of_count_as_one(estate: Estate) -> None:
    """Slices align to the period's local start and exist only where they overlap counted
    time: with 09:00-17:30 hours, 1 h slices are 09-10 .. 16-17 and the half slice 17-17:30
    (9 slices); a running period's slice cut by `--as-of` is one slice too."""
    policy = UK_BUSINESS + agreement("""
  objective busy {
    indicator timeslices(1h, ratio(requests where status < 500) >= 99%, empty: bad)
    target    >= 50%
    hours     uk_business
  }""", period="daily", timezone="Europe/London")
    rows = {
        "ts": ["2026-10-05T08:30:00Z",   # 09:30 BST: slice 09-10
               "2026-10-05T16:15:00Z",   # 17:15 BST: the half slice 17:00-17:30
               "2026-10-05T16:45:00Z"],  # 17:45 BST: outside the hours, not counted
        "status": [200, 200, 500],
    }
    run = estate.run(policy, {"requests": rows}, as_of=AS_OF, period=DAY)
    r = run.r("busy")
    assert (r["good"], r["total"]) == (2, 9)
    assert r["measured"] == 2 / 9

    # running: as-of 11:30 BST; slices so far 09-10, 10-11 and 11-11:30 (partial): 3
    running = estate.run(policy, {"requests": rows}, as_of="2026-10-05T10:30:00Z",
                         period=DAY)
    r = running.r("busy")
    assert (r["good"], r["total"], r["complete"]) == (1, 3, False)
