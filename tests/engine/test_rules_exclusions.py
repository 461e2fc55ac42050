"""Spec §4.2-4.4 exclusions, end to end: `(T - M - D) / (T - M)` for uptime, rows inside an
excluded window counting neither as good nor total, weekly windows in the agreement's zone
(across DST), exclusions from an intervals source with a condition, whole-day date windows,
and `as available` (`(T - D) / T`).

Hand-computed figures are in the comments. Unless said otherwise the agreement is in UTC and the
period is the day 2026-10-05 (a Monday): T = 86 400 s.
"""

from __future__ import annotations

from tests.engine.conftest import Estate, agreement

H = 3600
DAY = 24 * H

UPTIME_AND_RATIO = """
  objective up {
    indicator uptime(incidents)
    target    >= 99%
  }
  objective avail {
    indicator ratio(requests where status < 500)
    target    >= 99%
  }"""

WINDOW_ROWS = {
    "ts": ["2026-10-05T01:59:59Z",   # before the window: counts (bad)
           "2026-10-05T02:00:00Z",   # the window's first instant: excluded (bad)
           "2026-10-05T03:59:59Z",   # inside: excluded (bad)
           "2026-10-05T04:00:00Z",   # the window's end: counts (good)
           "2026-10-05T05:00:00Z"],  # counts (good)
    "status": [500, 500, 500, 200, 200],
}
WINDOW_INCIDENT = {  # 03:00-05:00: one hour inside the window, one after it
    "started_at": ["2026-10-05T03:00:00Z"], "resolved_at": ["2026-10-05T05:00:00Z"],
}


def test_excluded_window_leaves_measured_time_and_downtime(estate: Estate) -> None:
    policy = agreement(UPTIME_AND_RATIO, period="daily", extra=(
        '  exclude 2026-10-05T02:00:00Z .. 2026-10-05T04:00:00Z "migration"'))
    run = estate.run(policy, {"incidents": WINDOW_INCIDENT, "requests": WINDOW_ROWS},
                     as_of="2026-10-10T00:00:00Z", period="2026-10-05")
    up = run.r("up")
    # T = 86 400, M = 7 200, D = 3 600 (04:00-05:00, outside the window)
    # (T - M - D) / (T - M) = 75 600 / 79 200
    assert (up["good"], up["total"]) == (75_600, 79_200)
    assert up["measured"] == 75_600 / 79_200
    # rows in [02:00, 04:00) count neither as good nor as total: 2 good of 3
    avail = run.r("avail")
    assert (avail["good"], avail["total"]) == (2, 3)
    assert avail["measured"] == 2 / 3


def test_as_available_exclusion(estate: Estate) -> None:
    """`as available`: the window's time stays in T and counts as up, `(T - D) / T` with D the
    downtime outside it; event rows inside it count as good (and in the total)."""
    policy = agreement(UPTIME_AND_RATIO, period="daily", extra=(
        '  exclude 2026-10-05T02:00:00Z .. 2026-10-05T04:00:00Z "migration" as available'))
    run = estate.run(policy, {"incidents": WINDOW_INCIDENT, "requests": WINDOW_ROWS},
                     as_of="2026-10-10T00:00:00Z", period="2026-10-05")
    up = run.r("up")
    # T = 86 400, D = 3 600 (04:00-05:00): 82 800 / 86 400
    assert (up["good"], up["total"]) == (82_800, 86_400)
    assert up["measured"] == 82_800 / 86_400
    # the two 500s inside the window count as good: 4 good of 5
    avail = run.r("avail")
    assert (avail["good"], avail["total"]) == (4, 5)
    assert avail["measured"] == 0.8


def test_as_available_with_two_argument_ratio_and_values(estate: Estate) -> None:
    """Inside an `as available` window a row still needs the total's condition (and the key)
    to count; value indicators leave such rows out (they cannot be "available")."""
    policy = agreement("""
  objective gets {
    indicator ratio(requests where status < 500, requests where method == "GET")
    target    >= 99%
  }
  objective slowest {
    indicator max(requests.latency_ms)
    target    <= 1s
  }""", period="daily", extra=(
        '  exclude 2026-10-05T02:00:00Z .. 2026-10-05T04:00:00Z as available'))
    run = estate.run(policy, {"requests": {
        "ts": ["2026-10-05T01:00:00Z", "2026-10-05T02:30:00Z", "2026-10-05T03:00:00Z",
               "2026-10-05T03:30:00Z", "2026-10-05T05:00:00Z"],
        "status": [200, 500, 500, 500, 500],
        "method": ["GET", "GET", "OPTIONS", "GET", "GET"],
        "latency_ms": [100.0, 9000.0, 9000.0, 9000.0, 250.0],
        "service": ["svc", "svc", "svc", "other", "svc"],
    }}, as_of="2026-10-10T00:00:00Z", period="2026-10-05")
    gets = run.r("gets")
    # total: svc GETs at 01:00, 02:30, 05:00 (03:00 is OPTIONS, 03:30 another service);
    # good: 01:00 (200) and 02:30 (inside the window) -> 2 of 3
    assert (gets["good"], gets["total"]) == (2, 3)
    # max over 01:00 and 05:00 only: 250 ms
    assert run.r("slowest")["measured"] == 250


def test_weekly_exclusion_in_the_agreements_time_zone(estate: Estate) -> None:
    """`exclude weekly sun 02:00-04:00` in a London agreement is 01:00-03:00Z on a BST Sunday;
    a window of local time covers two real hours on the fall-back night and none on the
    spring-forward night."""
    policy = agreement(UPTIME_AND_RATIO, period="daily", timezone="Europe/London", extra=(
        '  exclude weekly sun 02:00-04:00 "patch window"'))
    run = estate.run(policy, {
        "incidents": {"started_at": ["2026-10-18T00:00:00Z"],   # 01:00-03:00 BST
                      "resolved_at": ["2026-10-18T02:00:00Z"]},
        "requests": {
            "ts": ["2026-10-18T00:30:00Z",   # 01:30 BST: counts (bad)
                   "2026-10-18T01:00:00Z",   # 02:00 BST: excluded (bad)
                   "2026-10-18T02:59:59Z",   # 03:59:59 BST: excluded (bad)
                   "2026-10-18T03:00:00Z",   # 04:00 BST: counts (good)
                   "2026-10-18T10:00:00Z"],  # counts (good)
            "status": [500, 500, 500, 200, 200],
        },
    }, as_of="2026-10-30T00:00:00Z", period="2026-10-18")
    up = run.r("up")
    # Sunday 18 October (BST, 24 h): M = 7 200 (01:00-03:00Z);
    # D = 00:00-01:00Z = 3 600 (the other hour is excluded): 75 600 / 79 200
    assert (up["good"], up["total"]) == (75_600, 79_200)
    # read in UTC the window would exclude 02:00-04:00Z instead and give 1/3
    assert (run.r("avail")["good"], run.r("avail")["total"]) == (2, 3)

    night = agreement("""
  objective up {
    indicator uptime(incidents)
    target    >= 99%
  }""", period="daily", timezone="Europe/London", extra="  exclude weekly sun 01:00-02:00")
    none = {"started_at": ["2026-01-01T00:00:00Z"], "resolved_at": ["2026-01-01T00:01:00Z"],
            "service": ["other"]}
    autumn = estate.run(night, {"incidents": none}, as_of="2026-11-15T00:00:00Z",
                        period="2026-10-25")
    # 25 October: 90 000 s; local 01:00-02:00 happens twice (00:00-01:00Z BST and
    # 01:00-02:00Z GMT): M = 7 200, T - M = 82 800
    assert autumn.r("up")["total"] == 82_800
    spring = estate.run(night, {"incidents": none}, as_of="2026-11-15T00:00:00Z",
                        period="2026-03-29")
    # 29 March: 82 800 s; local 01:00-02:00 never happens: M = 0
    assert spring.r("up")["total"] == 82_800


def test_exclusion_from_an_intervals_source_with_a_condition(estate: Estate) -> None:
    """`exclude maintenance where approved == true`: only svc's approved windows are excluded."""
    policy = agreement(UPTIME_AND_RATIO, period="daily", extra=(
        '  exclude maintenance where approved == true "approved changes"'))
    run = estate.run(policy, {
        "maintenance": {
            "start": ["2026-10-05T02:00:00Z", "2026-10-05T05:00:00Z", "2026-10-05T07:00:00Z"],
            "end": ["2026-10-05T03:00:00Z", "2026-10-05T06:00:00Z", "2026-10-05T08:00:00Z"],
            "approved": [True, False, True],
            "service": ["svc", "svc", "other"],
        },
        "incidents": {"started_at": ["2026-10-05T02:30:00Z"],
                      "resolved_at": ["2026-10-05T05:30:00Z"]},
        "requests": {
            "ts": ["2026-10-05T02:30:00Z",   # approved window: excluded
                   "2026-10-05T05:30:00Z",   # not approved: counts (bad)
                   "2026-10-05T07:30:00Z",   # another service's window: counts
                   "2026-10-05T12:00:00Z"],
            "status": [500, 500, 200, 200],
        },
    }, as_of="2026-10-10T00:00:00Z", period="2026-10-05")
    up = run.r("up")
    # M = 3 600 (02:00-03:00); D = 03:00-05:30 = 9 000; (86 400 - 3 600 - 9 000) / 82 800
    assert (up["good"], up["total"]) == (73_800, 82_800)
    assert (run.r("avail")["good"], run.r("avail")["total"]) == (2, 3)


def test_date_window_exclusion_is_whole_local_days(estate: Estate) -> None:
    """`exclude 2026-10-10 .. 2026-10-11` in London: from 10 Oct 00:00 BST (09 Oct 23:00Z) to
    12 Oct 00:00 BST (11 Oct 23:00Z), 48 hours."""
    policy = agreement(UPTIME_AND_RATIO, timezone="Europe/London", extra=(
        '  exclude 2026-10-10 .. 2026-10-11 "migration weekend"'))
    run = estate.run(policy, {
        "incidents": {"started_at": ["2026-10-09T22:00:00Z"],   # 3 h, 1 h before the window
                      "resolved_at": ["2026-10-10T01:00:00Z"]},
        "requests": {
            "ts": ["2026-10-09T22:59:59Z",   # 9 Oct 23:59:59 BST: counts (bad)
                   "2026-10-09T23:00:00Z",   # excluded
                   "2026-10-11T22:59:59Z",   # excluded
                   "2026-10-11T23:00:00Z"],  # 12 Oct 00:00 BST: counts (good)
            "status": [500, 500, 500, 200],
        },
    }, as_of="2026-11-15T00:00:00Z", period="2026-10")
    up = run.r("up")
    # T = 745 h = 2 682 000; M = 172 800; D = 3 600: 2 505 600 / 2 509 200
    assert (up["good"], up["total"]) == (2_505_600, 2_509_200)
    assert up["measured"] == 2_505_600 / 2_509_200
    assert (run.r("avail")["good"], run.r("avail")["total"]) == (1, 2)


def test_exclusions_overlapping_count_once_and_cut_pieces_floor_separately(
    estate: Estate,
) -> None:
    """Two overlapping exclusions remove their union once; a downtime piece cut in two by an
    exclusion is floored piece by piece."""
    policy = agreement("""
  objective up {
    indicator uptime(incidents, granularity: 1m)
    target    >= 99%
  }""", period="daily", extra="""
  exclude 2026-10-05T10:01:30Z .. 2026-10-05T10:02:00Z
  exclude 2026-10-05T20:00:00Z .. 2026-10-05T22:00:00Z
  exclude 2026-10-05T21:00:00Z .. 2026-10-05T23:00:00Z""")
    run = estate.run(policy, {"incidents": {
        "started_at": ["2026-10-05T10:00:00Z"], "resolved_at": ["2026-10-05T10:04:30Z"],
    }}, as_of="2026-10-10T00:00:00Z", period="2026-10-05")
    up = run.r("up")
    # M = 30 s + 3 h (20:00-23:00, the union of the two) = 10 830; T - M = 75 570
    # pieces 10:00:00-10:01:30 (90 s -> 60) and 10:02:00-10:04:30 (150 s -> 120): D = 180
    # (flooring the 240 s left as one piece would give 240)
    assert up["total"] == 75_570
    assert up["good"] == 75_570 - 180


SLICED = """
  objective minutes_ok {
    indicator timeslices(1h, ratio(requests where status < 500) >= 99%, empty: bad)
    target    >= 99%
  }
  objective hourly_mean {
    indicator slice_mean(1h, ratio(requests where status < 500), empty: skip)
    target    >= 99%
  }"""
SLICED_ROWS = {
    "ts": ["2026-10-05T00:10:00Z",   # hour 0: good
           "2026-10-05T02:10:00Z",   # hour 2, inside the window: a 500
           "2026-10-05T05:10:00Z"],  # hour 5: a 500
    "status": [200, 500, 500],
}


def test_slices_with_excluded_and_as_available_windows(estate: Estate) -> None:
    """An excluded window removes its slices; an `as available` window keeps them, its rows
    count as good and a slice wholly inside it is good even without rows."""
    excluded = estate.run(agreement(SLICED, period="daily", extra=(
        "  exclude 2026-10-05T02:00:00Z .. 2026-10-05T04:00:00Z")), {"requests": SLICED_ROWS},
        as_of="2026-10-10T00:00:00Z", period="2026-10-05")
    # 22 slices exist (hours 2 and 3 are excluded); good: hour 0 only; hour 5 and 20 empty
    # slices are bad
    assert (excluded.r("minutes_ok")["good"], excluded.r("minutes_ok")["total"]) == (1, 22)
    # slices with rows: hour 0 (1.0), hour 5 (0.0): 0.5
    assert excluded.r("hourly_mean")["measured"] == 0.5

    available = estate.run(agreement(SLICED, period="daily", extra=(
        "  exclude 2026-10-05T02:00:00Z .. 2026-10-05T04:00:00Z as available")),
        {"requests": SLICED_ROWS}, as_of="2026-10-10T00:00:00Z", period="2026-10-05")
    # 24 slices; good: hour 0, hour 2 (its 500 counts as good), hour 3 (wholly available,
    # no rows): 3 of 24
    r = available.r("minutes_ok")
    assert (r["good"], r["total"], r["measured"]) == (3, 24, 0.125)
    # hours 0, 2, 3 are 1.0, hour 5 is 0.0; empty hours skipped: 3 / 4
    r = available.r("hourly_mean")
    assert (r["measured"], r["total"]) == (0.75, 4)


def test_wholly_excluded_period_is_no_data(estate: Estate) -> None:
    """T - M = 0: nothing was measured, so uptime is `no_data` (not 100 %), with no credit."""
    policy = agreement("""
  objective up {
    indicator uptime(incidents)
    target    >= 99%
  }
  credit up { below 99% => 10% }""", period="daily", extra=(
        "  fee 100.00 GBP\n  exclude 2026-10-04T12:00:00Z .. 2026-10-06T00:00:00Z"))
    run = estate.run(policy, {"incidents": WINDOW_INCIDENT}, as_of="2026-10-10T00:00:00Z",
                     period="2026-10-05")
    up = run.r("up")
    assert (up["status"], up["measured"], up["good"], up["total"]) == ("no_data", None, 0, 0)
    assert (up["budget"], up["credit_amount"]) == (None, "0.00")
