"""Spec §4, rule by rule, end to end: periods and DST, half-open boundaries, `--as-of`, hours
and holidays, `effective` clipping and fee proration, and uptime (union, granularity, ongoing
incidents).

Every expected number is computed by hand in the comment above its assertion; nothing here asks
the engine how to compute it. Time zone facts used throughout (Europe/London, 2026): BST
(UTC+1) from 2026-03-29T01:00Z to 2026-10-25T01:00Z, GMT (UTC+0) otherwise; 2026-10-01 is a
Thursday, 2026-10-05 a Monday.
"""

from __future__ import annotations

from tests.engine.conftest import Estate, agreement

H = 3600  # seconds per hour
DAY = 24 * H


# ------------------------------------------------------------------------------ §4.1 periods


def test_london_months_follow_dst(estate: Estate) -> None:
    """A London month is local midnight to local midnight: March 2026 loses an hour (743 h),
    October gains one (745 h). The uptime `total` is the period's length in seconds."""
    policy = agreement("""
  objective up {
    indicator uptime(incidents)
    target    >= 99%
  }""", timezone="Europe/London")
    run = estate.run(policy, {"incidents": {
        # svc: 1 h in October; `other`'s incidents never count for svc
        "started_at": ["2026-10-05T10:00:00Z", "2026-10-06T00:00:00Z",
                       # ends exactly at October's start (2026-09-30T23:00Z): September only
                       "2026-09-30T22:00:00Z"],
        "resolved_at": ["2026-10-05T11:00:00Z", "2026-10-07T00:00:00Z",
                        "2026-09-30T23:00:00Z"],
        "service": ["svc", "other", "svc"],
    }}, as_of="2026-11-15T00:00:00Z", date_from="2026-03-01", date_to="2026-10-31")

    assert run.periods("up") == [f"2026-{m:02d}" for m in range(3, 11)]
    hours = {"03": 743, "04": 720, "05": 744, "06": 720, "07": 744, "08": 744, "09": 720,
             "10": 745}
    for month, h in hours.items():
        assert run.r("up", f"2026-{month}")["total"] == h * H

    march = run.r("up", "2026-03")
    # 1 March 00:00 GMT = 00:00Z; 1 April 00:00 BST = 31 March 23:00Z: 743 h, no downtime
    assert (march["period_start"], march["period_end"]) == (
        "2026-03-01T00:00:00Z", "2026-03-31T23:00:00Z")
    assert march["good"] == march["total"] == 2_674_800
    assert march["measured"] == 1.0

    october = run.r("up", "2026-10")
    # 1 October 00:00 BST = 30 September 23:00Z; 1 November 00:00 GMT = 00:00Z: 745 h
    assert (october["period_start"], october["period_end"]) == (
        "2026-09-30T23:00:00Z", "2026-11-01T00:00:00Z")
    assert october["complete"] is True
    # T = 745 h = 2 682 000 s; D = 3600 s (svc's incident only)
    assert october["total"] == 2_682_000
    assert october["good"] == 2_678_400
    assert october["measured"] == 2_678_400 / 2_682_000
    assert october["status"] == "met"

    # September: 720 h, minus the hour that ends exactly where October begins
    assert run.r("up", "2026-09")["good"] == 720 * H - H


def test_london_days_of_23_and_25_hours(estate: Estate) -> None:
    """Daily periods on the DST change days: 29 March 2026 has 23 hours, 25 October 25 hours,
    and an incident spanning the fall-back instant counts its real duration."""
    policy = agreement("""
  objective up {
    indicator uptime(incidents)
    target    >= 90%
  }""", period="daily", timezone="Europe/London")
    incidents = {
        # 01:30 BST .. 01:30 GMT on 25 October: one real hour across the fall-back
        "started_at": ["2026-10-25T00:30:00Z"],
        "resolved_at": ["2026-10-25T01:30:00Z"],
    }
    spring = estate.run(policy, {"incidents": incidents}, as_of="2026-11-15T00:00:00Z",
                        date_from="2026-03-28", date_to="2026-03-30")
    assert spring.periods("up") == ["2026-03-28", "2026-03-29", "2026-03-30"]
    assert [spring.r("up", d)["total"] for d in spring.periods("up")] == [
        24 * H, 23 * H, 24 * H]
    day = spring.r("up", "2026-03-29")
    # 00:00 GMT = 00:00Z to 00:00 BST on the 30th = 23:00Z
    assert (day["period_start"], day["period_end"]) == (
        "2026-03-29T00:00:00Z", "2026-03-29T23:00:00Z")
    assert day["good"] == 82_800
    assert day["measured"] == 1.0

    autumn = estate.run(policy, {"incidents": incidents}, as_of="2026-11-15T00:00:00Z",
                        date_from="2026-10-24", date_to="2026-10-26")
    assert [autumn.r("up", d)["total"] for d in autumn.periods("up")] == [
        24 * H, 25 * H, 24 * H]
    day = autumn.r("up", "2026-10-25")
    # 00:00 BST = 24 October 23:00Z to 00:00 GMT on the 26th = 00:00Z: 25 h = 90 000 s
    assert (day["period_start"], day["period_end"]) == (
        "2026-10-24T23:00:00Z", "2026-10-26T00:00:00Z")
    assert day["total"] == 90_000
    # D = 3600 s: 86 400 / 90 000 = 0.96
    assert day["good"] == 86_400
    assert day["measured"] == 0.96


def test_rows_at_a_period_boundary_belong_to_the_next_period(estate: Estate) -> None:
    """Half-open periods: a row stamped exactly at a period's end counts in the next period;
    rows at or after `--as-of` do not count at all."""
    policy = agreement("""
  objective avail {
    indicator ratio(requests where status < 500)
    target    >= 99%
  }""", timezone="Europe/London")
    run = estate.run(policy, {"requests": {
        "ts": [
            "2026-08-31T23:00:00Z",         # 1 Sep 00:00 BST: September
            "2026-09-30T22:59:59.999999Z",  # 30 Sep 23:59:59.999999 BST: September
            "2026-09-30T23:00:00Z",         # 1 Oct 00:00 BST: October
            "2026-10-31T23:59:59.999999Z",  # last instant of October (GMT)
            "2026-11-01T00:00:00Z",         # November's first instant
            "2026-11-01T00:00:29Z",         # November, before as-of
            "2026-11-01T00:00:30Z",         # exactly as-of: not counted
            "2026-11-01T01:00:00Z",         # after as-of: not counted
        ],
        "status": [200, 200, 500, 200, 200, 500, 500, 500],
    }}, as_of="2026-11-01T00:00:30Z", date_from="2026-09-01", date_to="2026-11-30")

    assert run.periods("avail") == ["2026-09", "2026-10", "2026-11"]
    sep, oct_, nov = (run.r("avail", p) for p in ("2026-09", "2026-10", "2026-11"))
    assert (sep["good"], sep["total"], sep["status"]) == (2, 2, "met")
    assert (oct_["good"], oct_["total"], oct_["measured"]) == (1, 2, 0.5)
    assert oct_["status"] == "breached"
    # November is running: 1 good of 2 rows before as-of; 0.5 fails 99 % but can recover
    assert (nov["good"], nov["total"], nov["measured"]) == (1, 2, 0.5)
    assert nov["complete"] is False
    assert nov["status"] == "at_risk"
    assert (nov["period_start"], nov["period_end"]) == (
        "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")


# ------------------------------------------------------------------------------ §4.2 hours

UK_BUSINESS = """
calendar uk_business {
  timezone "Europe/London"
  hours    mon-fri 09:00-17:30
  holidays 2026-10-07
}
"""


def test_business_hours_uptime_and_rows(estate: Estate) -> None:
    """With `hours uk_business`: T is the in-hours time of the month, only the in-hours part of
    an incident is downtime, a holiday removes its whole day, and only rows inside the hours
    count. The calendar is read in London time on both sides of the October DST change."""
    policy = UK_BUSINESS + agreement("""
  objective up {
    indicator uptime(incidents)
    target    >= 99%
    hours     uk_business
  }
  objective in_hours {
    indicator count(requests)
    target    <= 10
    hours     uk_business
  }
  objective all_hours {
    indicator count(requests)
    target    <= 10
  }""", timezone="Europe/London")
    run = estate.run(policy, {
        "incidents": {
            "started_at": [
                "2026-10-12T15:30:00Z",  # Mon 16:30-18:30 BST: straddles 17:30 closing
                "2026-10-07T09:00:00Z",  # Wed 10:00-12:00 BST, the holiday
                "2026-10-10T09:00:00Z",  # Saturday
                "2026-10-26T08:00:00Z",  # Mon 08:00-09:30 GMT: straddles 09:00 opening
            ],
            "resolved_at": ["2026-10-12T17:30:00Z", "2026-10-07T11:00:00Z",
                            "2026-10-10T11:00:00Z", "2026-10-26T09:30:00Z"],
        },
        "requests": {
            "ts": [
                "2026-10-12T07:59:59Z",  # 08:59:59 BST: before opening
                "2026-10-12T08:00:00Z",  # 09:00:00 BST: counts
                "2026-10-12T16:29:59Z",  # 17:29:59 BST: counts
                "2026-10-12T16:30:00Z",  # 17:30:00 BST: closed (half-open)
                "2026-10-07T11:00:00Z",  # holiday
                "2026-10-10T11:00:00Z",  # Saturday
                "2026-10-26T09:00:00Z",  # 09:00 GMT: counts
                "2026-10-26T08:30:00Z",  # 08:30 GMT (09:30 if read as BST): closed
                "2026-10-12T12:00:00Z",  # another service's row
            ],
            "service": ["svc"] * 8 + ["other"],
        },
    }, as_of="2026-11-15T00:00:00Z", period="2026-10")

    up = run.r("up")
    # October 2026 has 22 weekdays (Thu 1, Fri 2, then four full weeks 5-30); the holiday on
    # Wed 7 leaves 21 days of 8.5 h: T = 21 x 30 600 = 642 600 s.
    # Downtime in hours: 16:30-17:30 on the 12th (3600 s) + 09:00-09:30 on the 26th (1800 s)
    assert up["total"] == 642_600
    assert up["good"] == 642_600 - 5_400
    assert up["measured"] == 637_200 / 642_600
    assert up["status"] == "met"
    # the period itself is still the whole month
    assert (up["period_start"], up["period_end"]) == (
        "2026-09-30T23:00:00Z", "2026-11-01T00:00:00Z")

    assert run.r("in_hours")["measured"] == 3
    assert run.r("all_hours")["measured"] == 8


# --------------------------------------------------------------------------- §4.1 effective


def test_period_clipped_by_effective(estate: Estate) -> None:
    """Effective from 16 October: the October period starts at local midnight on the 16th,
    measures only the clipped part, and the fee is prorated by real time."""
    body = """
  objective up {
    indicator uptime(incidents)
    target    >= 99.9%
  }
  objective avail {
    indicator ratio(requests where status < 500)
    target    >= 99%
  }
  credit up    { below 99.9% => 10% }
  credit avail { below 99% => 25% }"""
    policy = (
        agreement(body, name="a", timezone="Europe/London",
                  extra="  effective 2026-10-16 ..\n  fee 1490.00 GBP")
        + agreement(body, name="b", timezone="Europe/London",
                    extra="  effective 2026-10-16 .. 2026-12-31\n  fee 1000.00 GBP")
    )
    run = estate.run(policy, {
        "incidents": {
            "started_at": ["2026-10-10T00:00:00Z",   # before the agreement: ignored
                           "2026-10-15T22:00:00Z",   # 1 h before, 1 h after 16 Oct 00:00 BST
                           "2026-10-20T00:00:00Z"],  # 2 h
            "resolved_at": ["2026-10-10T02:00:00Z", "2026-10-16T00:00:00Z",
                            "2026-10-20T02:00:00Z"],
        },
        "requests": {
            "ts": ["2026-10-15T22:59:59Z",   # 15 Oct 23:59:59 BST: before effective
                   "2026-10-15T23:00:00Z",   # 16 Oct 00:00 BST: the first counted instant
                   "2026-10-20T12:00:00Z"],
            "status": [500, 200, 500],
        },
    }, as_of="2026-11-15T00:00:00Z", date_from="2026-09-01", date_to="2026-10-31")

    # September is wholly before `effective`: not evaluated
    assert run.periods("up") == ["2026-10"]
    up = run.r("up")
    assert (up["period_start"], up["period_end"]) == (
        "2026-10-15T23:00:00Z", "2026-11-01T00:00:00Z")
    # 16 Oct 00:00 BST to 1 Nov 00:00 GMT: 16 days + the fall-back hour = 385 h = 1 386 000 s
    # D = 3600 (the straddling incident's second hour) + 7200 = 10 800 s
    assert up["total"] == 1_386_000
    assert up["good"] == 1_375_200
    assert up["measured"] == 1_375_200 / 1_386_000
    assert up["status"] == "breached"
    # fee prorated by time: 1490.00 x 385 h / 745 h = 770.00; 10 % = 77.00
    assert up["credit_percent"] == 10
    assert up["credit_amount"] == "77.00"

    avail = run.r("avail")
    # one row before effective is ignored: 1 good of 2
    assert (avail["good"], avail["total"], avail["measured"]) == (1, 2, 0.5)
    # 25 % of 770.00 = 192.50
    assert avail["credit_amount"] == "192.50"

    # agreement b: 1000.00 x 385/745 = 516.7785...; 10 % = 51.677852... -> 51.68,
    # 25 % = 129.194630... -> 129.19
    assert run.r("up", agreement="b")["credit_amount"] == "51.68"
    assert run.r("avail", agreement="b")["credit_amount"] == "129.19"
    assert run.doc["summary"]["credits"] == [{"currency": "GBP", "amount": "450.37"}]


# ------------------------------------------------------------------------------ §4.4 uptime


def test_uptime_union_granularity_and_ongoing_incident(estate: Estate) -> None:
    """Overlapping incidents count once; `granularity: 1m` floors each maximal piece (45 s -> 0,
    2 min 30 s -> 2 min); an incident without an end is ongoing until `--as-of` (and clipped to
    the period)."""
    policy = agreement("""
  objective raw {
    indicator uptime(incidents)
    target    >= 99%
  }
  objective minutes {
    indicator uptime(incidents, granularity: 1m)
    target    >= 99%
  }""", period="daily")
    run = estate.run(policy, {"incidents": {
        "started_at": ["2026-10-05T10:00:00Z", "2026-10-05T10:20:00Z",  # union 10:00-10:45
                       "2026-10-05T12:00:00Z",                          # 45 s
                       "2026-10-05T13:00:00Z",                          # 2 min 30 s
                       "2026-10-05T23:59:00Z"],                         # ongoing
        "resolved_at": ["2026-10-05T10:30:00Z", "2026-10-05T10:45:00Z",
                        "2026-10-05T12:00:45Z", "2026-10-05T13:02:30Z", None],
    }}, as_of="2026-10-06T00:00:30Z", period="2026-10-05")

    raw, minutes = run.r("raw"), run.r("minutes")
    assert raw["complete"] is True and raw["total"] == DAY
    # raw: 2700 (union) + 45 + 150 + 60 (23:59 to the period's end) = 2955 s
    assert raw["good"] == DAY - 2955
    assert raw["measured"] == (DAY - 2955) / DAY
    # 1m: 2700 + 0 + 120 + 60 = 2880 s
    assert minutes["good"] == DAY - 2880
    assert minutes["measured"] == (DAY - 2880) / DAY  # = 0.966666...
    assert raw["status"] == minutes["status"] == "breached"


def test_uptime_of_the_spec_example_is_exactly_99_percent(estate: Estate) -> None:
    """Spec §7.4's example: a 30-day month, 432 minutes down, is exactly 0.99."""
    policy = agreement("""
  objective up {
    indicator uptime(incidents, granularity: 1m)
    target    >= 99%
  }""")
    run = estate.run(policy, {"incidents": {
        "started_at": ["2026-11-10T00:00:00Z"], "resolved_at": ["2026-11-10T07:12:00Z"],
    }}, as_of="2026-12-15T00:00:00Z", period="2026-11")
    up = run.r("up")
    # T = 30 d = 2 592 000 s; D = 432 min = 25 920 s; (T - D) / T = 0.99 exactly: met
    assert (up["good"], up["total"]) == (2_566_080, 2_592_000)
    assert up["measured"] == 0.99
    assert up["status"] == "met"
