"""Spec §4.1-4.2 and §2 end to end: which rows count (key matching, sources without a key,
agreement hours replaced by an objective's), conditions (duration units, timestamp
differences, `business_duration` aging open tickets to `--as-of`, date and timestamp ranges),
rolling and hourly periods, `effective` end, lifecycle, `notify`, and skipped rows in the
evidence.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from slang.diagnostics import SlangError
from tests.engine.conftest import Estate, agreement

H = 3600
DAY = 24 * H


def test_key_matching_and_sources_without_a_key(estate: Estate) -> None:
    """Rows match the service's `key` value (else its name); a source without a `key` gives
    every row to every agreement."""
    policy = agreement("""
  objective n {
    indicator count(requests)
    target    <= 10
  }
  objective beats {
    indicator count(beats)
    target    <= 10
  }""", service="keyed", period="daily")
    run = estate.run(policy, {
        "requests": {"ts": ["2026-10-05T01:00:00Z"] * 4,
                     "service": ["keyed-v2", "keyed-v2", "keyed", "svc"]},
        "beats": {"ts": ["2026-10-05T01:00:00Z"] * 3, "service": ["svc", "other", None]},
    }, as_of="2026-10-10T00:00:00Z", period="2026-10-05")
    assert run.r("n")["measured"] == 2  # `keyed` itself is not the key
    assert run.r("beats")["measured"] == 3


WEEK_CALENDARS = """
calendar weekdays {
  timezone "UTC"
  hours    mon-fri 00:00-24:00
}
calendar mornings {
  timezone "UTC"
  hours    mon-sun 06:00-12:00
}
"""


def test_objective_hours_replace_the_agreements(estate: Estate) -> None:
    policy = WEEK_CALENDARS + agreement("""
  objective wd {
    indicator count(requests)
    target    <= 10
  }
  objective am {
    indicator count(requests)
    target    <= 10
    hours     mornings
  }
  objective wd_up {
    indicator uptime(incidents)
    target    >= 90%
  }
  objective am_up {
    indicator uptime(incidents)
    target    >= 90%
    hours     mornings
  }""", period="weekly", extra="  hours weekdays")
    run = estate.run(policy, {
        "requests": {"ts": ["2026-10-05T03:00:00Z",   # Mon 03:00: weekday, not morning
                            "2026-10-05T07:00:00Z",   # Mon 07:00: both
                            "2026-10-10T07:00:00Z",   # Sat 07:00: morning only
                            "2026-10-11T13:00:00Z"]},  # Sun 13:00: neither
        "incidents": {"started_at": ["2026-10-10T05:00:00Z"],   # Sat 05:00-08:00
                      "resolved_at": ["2026-10-10T08:00:00Z"]},
    }, as_of="2026-10-20T00:00:00Z", period="2026-W41")
    wd = run.r("wd")
    assert (wd["period"], wd["period_start"], wd["period_end"]) == (
        "2026-W41", "2026-10-05T00:00:00Z", "2026-10-12T00:00:00Z")
    assert (run.r("wd")["measured"], run.r("am")["measured"]) == (2, 2)
    # weekdays: T = 5 days, the Saturday incident is outside: 432 000 / 432 000
    assert (run.r("wd_up")["good"], run.r("wd_up")["total"]) == (5 * DAY, 5 * DAY)
    # mornings: T = 7 x 6 h = 151 200; D = Sat 06:00-08:00 = 7 200
    assert (run.r("am_up")["good"], run.r("am_up")["total"]) == (151_200 - 7_200, 151_200)


def test_conditions_with_units_and_ranges(estate: Estate) -> None:
    """`latency_ms <= 300ms` compares with 300 (and `0.3s` is the same); a date range in a
    condition is whole local days of the agreement's zone; a timestamp range is half-open."""
    policy = agreement("""
  objective fast {
    indicator ratio(requests where latency_ms <= 300ms)
    target    >= 50%
  }
  objective faster {
    indicator ratio(requests where latency_ms < 0.3s)
    target    >= 50%
  }
  objective weekend {
    indicator count(requests where ts in 2026-10-10 .. 2026-10-11)
    target    <= 10
  }
  objective instants {
    indicator count(requests where ts in 2026-10-09T23:00:00Z .. 2026-10-11T22:59:59Z)
    target    <= 10
  }""", timezone="Europe/London")
    run = estate.run(policy, {"requests": {
        "ts": ["2026-10-09T22:59:59Z",   # Fri 23:59:59 BST
               "2026-10-09T23:00:00Z",   # Sat 00:00 BST
               "2026-10-11T22:59:59Z",   # Sun 23:59:59 BST
               "2026-10-11T23:00:00Z"],  # Mon 00:00 BST
        "latency_ms": [299.0, 300.0, 300.5, 100.0],
    }}, as_of="2026-11-15T00:00:00Z", period="2026-10")
    # <= 300: 299, 300, 100 -> 3 of 4; < 300: 299, 100 -> 2 of 4
    assert (run.r("fast")["good"], run.r("fast")["total"]) == (3, 4)
    assert (run.r("faster")["good"], run.r("faster")["total"]) == (2, 4)
    # Sat 00:00 BST .. Mon 00:00 BST: the middle two rows
    assert run.r("weekend")["measured"] == 2
    # [Sat 00:00 BST, Sun 23:59:59 BST): only the first of them
    assert run.r("instants")["measured"] == 1


UK_BUSINESS = """
calendar uk_business {
  timezone "Europe/London"
  hours    mon-fri 09:00-17:30
}
"""


def test_ticket_durations_and_business_duration(estate: Estate) -> None:
    """`resolved_at - opened_at` is wall-clock time (null for an open ticket, so the condition
    is false); `business_duration` counts only the calendar's hours and ages an open ticket up
    to `--as-of` (not to the period's end)."""
    policy = UK_BUSINESS + agreement("""
  objective fast_wall {
    indicator ratio(tickets where resolved_at - opened_at <= 4h)
    target    >= 50%
  }
  objective fast_business {
    indicator ratio(tickets where business_duration(opened_at, resolved_at, uk_business) <= 3h)
    target    >= 50%
  }
  objective open {
    indicator count(tickets where resolved_at is null)
    target    <= 10
  }""", timezone="Europe/London")
    run = estate.run(policy, {"tickets": {
        "opened_at": ["2026-10-09T15:00:00Z",    # Fri 16:00 BST
                      "2026-10-12T08:00:00Z",    # Mon 09:00 BST
                      "2026-10-30T17:00:00Z",    # Fri 17:00 GMT, still open
                      "2026-10-20T10:00:00Z"],
        "resolved_at": ["2026-10-12T09:00:00Z",  # Mon 10:00 BST: 66 h wall, 2.5 h business
                        "2026-10-12T11:00:00Z",  # 3 h, all in hours
                        None,                    # to as-of (Mon 2 Nov 12:00 GMT): 0.5 + 3 h
                        "2026-10-20T15:00:00Z"],  # 5 h, all in hours
    }}, as_of="2026-11-02T12:00:00Z", period="2026-10")
    # wall clock <= 4 h: only the 3 h ticket
    assert (run.r("fast_wall")["good"], run.r("fast_wall")["total"]) == (1, 4)
    # business <= 3 h: 2.5 h and 3 h (the open ticket has 3.5 h by as-of; aged only to the
    # period's end it would have 0.5 h and pass)
    assert (run.r("fast_business")["good"], run.r("fast_business")["total"]) == (2, 4)
    assert run.r("open")["measured"] == 1


def test_rolling_period(estate: Estate) -> None:
    """`rolling 28d`: one result over [as-of - 28 x 24 h, as-of), labelled `rolling-28d`."""
    policy = agreement("""
  objective up {
    indicator uptime(incidents)
    target    >= 99%
  }""", period="rolling 28d", timezone="Europe/London")
    run = estate.run(policy, {"incidents": {
        "started_at": ["2026-10-17T23:00:00Z",   # 2 h, the first hour before the window
                       "2026-11-01T10:00:00Z",   # end before start: skipped, counted
                       "2026-11-14T23:30:00Z"],  # 1 h, the last 30 min after as-of
        "resolved_at": ["2026-10-18T01:00:00Z", "2026-11-01T09:00:00Z",
                        "2026-11-15T00:30:00Z"],
    }}, as_of="2026-11-15T00:00:00Z")
    up = run.r("up")
    # 28 x 24 h back from 2026-11-15T00:00Z is 2026-10-18T00:00Z, whatever the DST change
    assert (up["period"], up["period_start"], up["period_end"], up["complete"]) == (
        "rolling-28d", "2026-10-18T00:00:00Z", "2026-11-15T00:00:00Z", True)
    # T = 2 419 200; D = 3 600 + 1 800
    assert (up["good"], up["total"]) == (2_419_200 - 5_400, 2_419_200)
    [incidents] = run.doc["evidence"]["data"]
    assert incidents["rows_skipped"]["end_before_start"] == 1


def test_hourly_periods_on_the_fall_back_day(estate: Estate) -> None:
    policy = agreement("""
  objective n {
    indicator count(requests)
    target    <= 10
  }""", period="hourly", timezone="Europe/London")
    run = estate.run(policy, {"requests": {
        "ts": ["2026-10-25T00:30:00Z",    # 01:30 BST
               "2026-10-25T01:30:00Z",    # 01:30 GMT
               "2026-10-25T01:45:00Z"],
    }}, as_of="2026-11-15T00:00:00Z", period="2026-10-25")
    labels = run.periods("n")
    assert len(labels) == 25
    assert labels[:4] == ["2026-10-25T00+01:00", "2026-10-25T01+01:00",
                          "2026-10-25T01+00:00", "2026-10-25T02+00:00"]
    assert run.r("n", "2026-10-25T01+01:00")["measured"] == 1
    first_gmt = run.r("n", "2026-10-25T01+00:00")
    assert (first_gmt["period_start"], first_gmt["measured"]) == ("2026-10-25T01:00:00Z", 2)


def test_effective_end_clips_and_prorates(estate: Estate) -> None:
    """Effective until 15 October (included): October ends at 16 Oct 00:00 BST; the fee is
    prorated over 360 of the month's 745 hours."""
    policy = agreement("""
  objective up {
    indicator uptime(incidents)
    target    >= 99.9%
  }
  credit up { below 99.9% => 10% }""", timezone="Europe/London",
        extra="  effective 2026-01-01 .. 2026-10-15\n  fee 1490.00 GBP")
    run = estate.run(policy, {"incidents": {
        "started_at": ["2026-10-10T00:00:00Z", "2026-10-15T22:00:00Z"],  # 2 h; 1 h + 1 h after
        "resolved_at": ["2026-10-10T02:00:00Z", "2026-10-16T00:00:00Z"],
    }}, as_of="2026-11-15T00:00:00Z", date_from="2026-10-01", date_to="2026-11-30")
    assert run.periods("up") == ["2026-10"]  # November is after `effective`
    up = run.r("up")
    assert (up["period_start"], up["period_end"]) == (
        "2026-09-30T23:00:00Z", "2026-10-15T23:00:00Z")
    # T = 15 days = 360 h = 1 296 000; D = 7 200 + 3 600 (the hour before 23:00Z)
    assert (up["good"], up["total"]) == (1_296_000 - 10_800, 1_296_000)
    # fee 1490.00 x 360 / 745 = 720.00; 10 % = 72.00
    assert (up["credit_percent"], up["credit_amount"]) == (10, "72.00")


def test_lifecycle_and_notify(estate: Estate) -> None:
    """Only agreed (and retired) agreements are audited unless drafts are asked for; `notify`
    lists its recipients on the results whose status concerns them."""
    body = """
  objective avail {
    indicator ratio(requests where status < 500)
    target    >= 99%
  }
  objective n {
    indicator count(requests)
    target    <= 10
  }"""
    policy = agreement(body, name="a", period="daily",
                       extra='  notify "ops@x.example", "bu@x.example" on breach') + (
        agreement(body, name="d", period="daily").replace("status   agreed", "status   draft"))
    tables = {"requests": {"ts": ["2026-10-05T01:00:00Z"], "status": [500]}}
    run = estate.run(policy, tables, as_of="2026-10-10T00:00:00Z", period="2026-10-05")
    assert {r["agreement"] for r in run.doc["results"]} == {"a"}
    assert run.r("avail")["status"] == "breached"
    assert run.r("avail")["notify"] == ["ops@x.example", "bu@x.example"]
    assert (run.r("n")["status"], run.r("n")["notify"]) == ("met", [])
    drafts = estate.run(policy, tables, as_of="2026-10-10T00:00:00Z", period="2026-10-05",
                        include_drafts=True)
    assert {r["agreement"] for r in drafts.doc["results"]} == {"a", "d"}


def test_date_ranges_in_conditions_are_each_agreements_local_days(estate: Estate) -> None:
    """The same condition text in agreements of different zones means different instants
    (the engine shares condition masks between objectives; the zone is part of the key)."""
    body = """
  objective saturday_morning {
    indicator count(requests where ts in 2026-10-10 .. 2026-10-10 and ts < 2026-10-10T12:00:00Z)
    target    <= 10
  }"""
    policy = agreement(body, name="london", timezone="Europe/London") + agreement(
        body, name="new_york", timezone="America/New_York")
    run = estate.run(policy, {"requests": {
        "ts": ["2026-10-10T03:00:00Z",   # London Sat 04:00; New York Fri 23:00
               "2026-10-10T12:00:00Z",   # not before 12:00Z
               "2026-10-11T02:00:00Z"],  # London Sun 03:00; New York Sat 22:00
    }}, as_of="2026-11-15T00:00:00Z", period="2026-10")
    assert run.r("saturday_morning", agreement="london")["measured"] == 1
    assert run.r("saturday_morning", agreement="new_york")["measured"] == 0


def test_a_condition_over_a_column_of_another_type_is_a_coded_error(estate: Estate) -> None:
    """`status < 500` over a text `status` column cannot be answered: SLG0606 at the
    condition (file:line:col), not an Arrow exception."""
    policy = agreement("""
  objective ok {
    indicator ratio(requests where status < 500)
    target    >= 99%
  }""", period="daily")
    with pytest.raises(SlangError) as info:
        estate.run(policy, {"requests": {"ts": ["2026-10-05T01:00:00Z"] * 2,
                                         "status": ["200", "503"]}},
                   as_of="2026-10-10T00:00:00Z", period="2026-10-05")
    [d] = info.value.diagnostics
    assert d.code == "SLG0606"
    assert d.message.startswith("condition of source `requests` cannot be evaluated over the "
                                "data: `status` is string (")
    assert (d.span.file.endswith("estate.sla"), d.span.col) == (True, 36)  # at `status`


def test_in_list_over_a_column_with_no_values_is_false(estate: Estate) -> None:
    """A column holding only nulls (a CSV column left empty: Arrow type null) makes `in`
    null, so no row matches; the objective counts every row as bad, not a crash."""
    policy = agreement("""
  objective ok {
    indicator ratio(requests where method in ["GET", "HEAD"])
    target    >= 99%
  }""", period="daily")
    run = estate.run(policy, {"requests": {"ts": ["2026-10-05T01:00:00Z"] * 3,
                                           "method": pa.nulls(3)}},
                     as_of="2026-10-10T00:00:00Z", period="2026-10-05")
    assert run.r("ok")["measured"] == 0
    assert run.r("ok")["status"] == "breached"


def test_division_is_true_division_and_by_zero_is_null(estate: Estate) -> None:
    """`/` divides as a person reads it: 7 / 2 is 3.5 (Arrow's integer division would give 3
    and count the row as bad), and dividing by zero is null, so the condition is false."""
    policy = agreement("""
  objective fast {
    indicator ratio(requests where bytes / n > 3)
    target    >= 50%
  }""", period="daily")
    run = estate.run(policy, {"requests": {"ts": ["2026-10-05T01:00:00Z"] * 4,
                                           "bytes": [7, 6, 5, 9], "n": [2, 2, 0, 4]}},
                     as_of="2026-10-10T00:00:00Z", period="2026-10-05")
    # 3.5 > 3 good; 3 > 3 not; 5 / 0 null -> not; 2.25 > 3 not
    assert run.r("fast")["measured"] == 0.25
    assert run.r("fast")["status"] == "breached"
