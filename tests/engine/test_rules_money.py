"""Spec §4.5-4.8 end to end: credit tiers at their exact boundary, the largest matching tier,
half-up rounding to the currency's minor unit, the credit cap and its adjustment, the error
budget's exactness, running periods (at risk, breached early, met, no credit), and byte-identical
reports.

November 2026 in UTC is 30 days: T = 2 592 000 s; October 2026 in UTC is 31 days: 2 678 400 s.
"""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np

from slang.engine.outcome import burn_rate_factor, round_money
from slang.semantics import model as m
from tests.engine.conftest import Estate, agreement

NOV = 2_592_000
OCT = 2_678_400

UPTIME_TIERS = """
  objective up {
    indicator uptime(incidents, granularity: 1m)
    target    >= 99.95%
  }
  credit up {
    below 99.95% => 5%
    below 99.9% => 10%
    below 99.0% => 25%
  }"""


def test_credit_tiers_at_the_boundary_and_half_up_rounding(estate: Estate) -> None:
    """432 minutes down in a 30-day month is exactly 99.0 %, which is not `below 99.0%`; the
    largest matching tier applies; amounts round half-up to the minor unit (GBP 2, JPY 0)."""
    policy = (
        agreement(UPTIME_TIERS, name="a", extra="  fee 1000.05 GBP")
        + agreement(UPTIME_TIERS, name="b", service="other", extra="  fee 1000.05 GBP")
        + agreement(UPTIME_TIERS + """
  objective up_99 {
    indicator uptime(incidents, granularity: 1m)
    target    >= 99%
  }
  credit up_99 { below 99% => 50% }""", name="c", extra="  fee 12345 JPY")
    )
    run = estate.run(policy, {"incidents": {
        "started_at": ["2026-11-10T00:00:00Z", "2026-11-10T00:00:00Z"],
        "resolved_at": ["2026-11-10T07:12:00Z",    # svc: 432 min
                        "2026-11-10T07:13:00Z"],   # other: 433 min
        "service": ["svc", "other"],
    }}, as_of="2026-12-15T00:00:00Z", period="2026-11")

    a = run.r("up", agreement="a")
    # 1 - 25 920 / 2 592 000 = 0.99 exactly: below 99.95 % (5 %) and below 99.9 % (10 %) match,
    # below 99.0 % does not; the largest match is 10 %
    assert (a["good"], a["total"], a["measured"]) == (NOV - 25_920, NOV, 0.99)
    assert (a["status"], a["credit_percent"]) == ("breached", 10)
    # 1000.05 x 10 % = 100.005 -> 100.01 half-up (half-even would give 100.00)
    assert (a["credit_amount"], a["currency"]) == ("100.01", "GBP")
    # budget in seconds: allowed 0.05 % x 2 592 000 = 1296; burn (25 920 / T) / 0.0005 = 20
    assert a["budget"] == {"allowed": 1296.0, "consumed": 25_920, "remaining": -24_624.0,
                           "burn_rate": 20.0}

    b = run.r("up", agreement="b")
    # 433 min: 1 - 25 980 / 2 592 000 = 0.98997...: every tier matches, 25 % applies;
    # 1000.05 x 25 % = 250.0125 -> 250.01
    assert b["measured"] == 1 - 25_980 / NOV
    assert (b["credit_percent"], b["credit_amount"]) == (25, "250.01")

    c = run.r("up", agreement="c")
    # JPY has no minor unit: 12345 x 10 % = 1234.5 -> 1235
    assert (c["credit_percent"], c["credit_amount"], c["currency"]) == (10, "1235", "JPY")
    # 0.99 meets `>= 99%` exactly: no credit, written with no decimals
    c99 = run.r("up_99", agreement="c")
    assert (c99["status"], c99["credit_percent"], c99["credit_amount"]) == ("met", 0, "0")

    assert run.doc["summary"]["credits"] == [
        {"currency": "GBP", "amount": "350.02"}, {"currency": "JPY", "amount": "1235"}]
    assert run.doc["adjustments"] == []


CAPPED = """
  objective up {
    indicator uptime(incidents)
    target    >= 99.9%
  }
  objective avail {
    indicator ratio(requests where status < 500)
    target    >= 99.9%
  }
  credit up    { below 99.9% => 25% }
  credit avail { below 99.9% => 25% }"""


def test_credit_cap_cuts_the_sum_with_an_adjustment(estate: Estate) -> None:
    """Two objectives owe 25 % each; `credit_cap 33%` caps their sum at 33 % of the fee,
    rounded half-up like the amounts, and the cut is an agreement-level adjustment. The cap of
    a clipped period is a share of the prorated fee."""
    policy = agreement(CAPPED, extra="  fee 1000.05 GBP\n  credit_cap 33%") + agreement(
        CAPPED, name="b", extra="  effective 2026-11-16 ..\n  fee 1000.00 GBP\n  credit_cap 30%")
    run = estate.run(policy, {
        # a day down and half the requests failed, both before and after the 16th
        "incidents": {"started_at": ["2026-11-10T00:00:00Z", "2026-11-20T00:00:00Z"],
                      "resolved_at": ["2026-11-11T00:00:00Z", "2026-11-21T00:00:00Z"]},
        "requests": {"ts": ["2026-11-10T00:00:00Z", "2026-11-10T00:01:00Z",
                            "2026-11-20T00:00:00Z", "2026-11-20T00:01:00Z"],
                     "status": [200, 500, 200, 500]},
    }, as_of="2026-12-15T00:00:00Z", period="2026-11")
    # each: 1000.05 x 25 % = 250.0125 -> 250.01; sum 500.02
    assert run.r("up")["credit_amount"] == run.r("avail")["credit_amount"] == "250.01"
    # cap: 1000.05 x 33 % = 330.0165 -> 330.02; cut 330.02 - 500.02 = -170.00
    # b, from 16 November: 15 of 30 days, fee 500.00; 25 % = 125.00 each, sum 250.00;
    # cap 30 % x 500.00 = 150.00; cut -100.00
    assert run.r("up", agreement="b")["credit_amount"] == "125.00"
    assert run.doc["adjustments"] == [
        {"agreement": "a", "period": "2026-11", "kind": "credit_cap", "amount": "-170.00",
         "currency": "GBP"},
        {"agreement": "b", "period": "2026-11", "kind": "credit_cap", "amount": "-100.00",
         "currency": "GBP"},
    ]
    assert run.doc["summary"]["credits"] == [{"currency": "GBP", "amount": "480.02"}]


def test_credits_without_a_fee_have_a_percent_but_no_amount(estate: Estate) -> None:
    policy = agreement("""
  objective up {
    indicator uptime(incidents)
    target    >= 99.9%
  }
  credit up { below 99.9% => 25% }""")
    run = estate.run(policy, {"incidents": {"started_at": ["2026-11-10T00:00:00Z"],
                                            "resolved_at": ["2026-11-11T00:00:00Z"]}},
                     as_of="2026-12-15T00:00:00Z", period="2026-11")
    up = run.r("up")
    assert (up["status"], up["credit_percent"], up["credit_amount"], up["currency"]) == (
        "breached", 25, None, None)
    assert run.doc["summary"]["credits"] == []


def test_rounding_is_exact_not_through_28_digit_decimals() -> None:
    """A value a hair below a half cent rounds down, however close: 100.005 - 1/(3 x 10^30)
    would become 100.0050000... (a false tie) if divided out to Decimal's 28 digits first."""
    hair = Fraction(1, 3 * 10**30)
    assert str(round_money(Fraction(100005, 1000) - hair, "GBP")) == "100.00"
    assert str(round_money(Fraction(100005, 1000), "GBP")) == "100.01"
    assert str(round_money(Fraction(100005, 1000) + hair, "GBP")) == "100.01"
    assert str(round_money(Fraction(-100005, 1000), "GBP")) == "-100.01"
    assert str(round_money(Fraction(12345, 10), "JPY")) == "1235"
    assert str(round_money(Fraction(1, 2000), "KWD")) == "0.001"


def test_error_budget_is_exact(estate: Estate) -> None:
    """1 200 000 requests, 1 056 server errors, target 99.9 %: allowed is exactly 1200.0
    ((1 - 0.999) x 1 200 000 in floating point is 1200.0000000000011)."""
    n, bad = 1_200_000, 1_056
    start = np.datetime64("2026-10-01T00:00:00", "us")
    step = np.timedelta64(OCT * 1_000_000 // n, "us")  # 2.232 s apart, all in October
    status = np.full(n, 200, dtype=np.int64)
    status[::n // bad][:bad] = 500
    policy = agreement("""
  objective avail {
    indicator ratio(requests where status < 500)
    target    >= 99.9%
  }""")
    run = estate.run(policy, {"requests": {"ts": start + step * np.arange(n), "status": status}},
                     as_of="2026-11-15T00:00:00Z", period="2026-10")
    r = run.r("avail")
    assert (r["good"], r["total"]) == (1_198_944, 1_200_000)
    assert r["measured"] == 0.99912
    assert r["status"] == "met"
    assert (1 - 0.999) * n != 1200.0
    # allowed 0.001 x 1 200 000 = 1200; consumed 1056; remaining 144;
    # burn (1056 / 1 200 000) / 0.001 = 0.88
    assert r["budget"] == {"allowed": 1200.0, "consumed": 1056, "remaining": 144.0,
                           "burn_rate": 0.88}
    assert '"allowed": 1200.0,' in run.text


def test_budget_of_a_100_percent_target_has_no_burn_rate(estate: Estate) -> None:
    policy = agreement("""
  objective avail {
    indicator ratio(requests where status < 500)
    target    >= 100%
  }""", period="daily")
    run = estate.run(policy, {"requests": {"ts": ["2026-10-05T01:00:00Z"] * 4,
                                           "status": [200, 200, 200, 500]}},
                     as_of="2026-10-10T00:00:00Z", period="2026-10-05")
    # allowed 0 x 4 = 0; consumed 1; remaining -1; burn rate undefined (nothing allowed)
    assert run.r("avail")["budget"] == {"allowed": 0.0, "consumed": 1, "remaining": -1.0,
                                        "burn_rate": None}


def test_burn_rate_alert_factors_use_nominal_period_lengths() -> None:
    """§4.6: factor = budget fraction x nominal period hours / long-window hours."""
    month, day = m.Period("monthly"), m.Period("daily")
    assert burn_rate_factor(Fraction(2, 100), month, 1) == Fraction(72, 5)  # 14.4
    assert float(burn_rate_factor(Fraction(2, 100), month, 1)) == 14.4
    assert burn_rate_factor(Fraction(5, 100), month, 6) == 6
    assert burn_rate_factor(Fraction(10, 100), m.Period("quarterly"), 72) == 3  # 0.1 x 2160 / 72
    assert burn_rate_factor(Fraction(1, 2), day, 12) == 1
    assert burn_rate_factor(Fraction(1, 10), m.Period("yearly"), 876) == 1
    assert burn_rate_factor(Fraction(1, 4), m.Period("weekly"), 42) == 1
    assert burn_rate_factor(Fraction(2, 100), m.Period("rolling", 28 * 86_400), 1) == Fraction(
        672, 50)


# ---------------------------------------------------------------------------- running periods

RUNNING = """
  objective avail {
    indicator ratio(requests where status < 500)
    target    >= 99%
  }
  objective up_sev1 {
    indicator uptime(incidents where severity == "sev1")
    target    >= 99.9%
  }
  objective up_sev2 {
    indicator uptime(incidents where severity == "sev2")
    target    >= 99.9%
  }
  objective up_sev3 {
    indicator uptime(incidents where severity == "sev3")
    target    >= 99.9%
  }
  objective up_open {
    indicator uptime(incidents where severity == "open")
    target    >= 99.9%
  }
  objective posts_10 {
    indicator count(requests where method == "POST")
    target    <= 10
  }
  objective posts_5 {
    indicator count(requests where method == "POST")
    target    <= 5
  }
  objective posts_20 {
    indicator count(requests where method == "POST")
    target    <= 20
  }
  objective slowest {
    indicator max(requests.latency_ms)
    target    <= 300ms
  }
  objective mean_latency {
    indicator mean(requests.latency_ms)
    target    <= 300ms
  }
  credit avail   { below 99% => 10% }
  credit up_sev1 { below 99.9% => 10% }
  credit slowest { above 300ms => 10% }"""


def test_running_period_status_and_projection(estate: Estate) -> None:
    """As-of 11 November 00:00Z: 10 of November's 30 days have elapsed (a third)."""
    n = 100
    start = np.datetime64("2026-11-01T00:00:00", "us")
    run = estate.run(agreement(RUNNING, extra="  fee 100.00 GBP"), {
        "requests": {
            "ts": start + np.timedelta64(3600, "s") * np.arange(n),  # hourly from 1 Nov
            "status": [500, 500] + [200] * (n - 2),
            "method": ["POST"] * 6 + ["GET"] * (n - 6),
            "latency_ms": [400.0] + [350.0] * (n - 1),
        },
        "incidents": {
            "started_at": ["2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z",
                           "2026-11-04T00:00:00Z", "2026-11-10T23:00:00Z"],
            "resolved_at": ["2026-11-02T08:00:00Z",   # sev1: 8 h
                            "2026-11-03T00:10:00Z",   # sev2: 10 min
                            "2026-11-04T00:20:00Z",   # sev3: 20 min
                            None],                    # still open at as-of: 1 h so far
            "severity": ["sev1", "sev2", "sev3", "open"],
        },
    }, as_of="2026-11-11T00:00:00Z", period="2026-11")
    elapsed = 10 * 86_400
    for r in run.doc["results"]:
        assert r["complete"] is False
        assert (r["credit_percent"], r["credit_amount"]) == (0, "0.00")  # running: no credit
    assert run.doc["summary"]["credits"] == [{"currency": "GBP", "amount": "0.00"}]

    # ratio 98 / 100 fails 99 % but can recover: at risk
    assert (run.r("avail")["measured"], run.r("avail")["status"]) == (0.98, "at_risk")
    # sev1: 28 800 s down; even if the rest of the month is up, (2 592 000 - 28 800) / 2 592 000
    # = 0.98889 < 99.9 %: breached already
    sev1 = run.r("up_sev1")
    assert (sev1["good"], sev1["total"]) == (elapsed - 28_800, elapsed)
    assert sev1["status"] == "breached"
    # sev2: 600 s; so far 1 - 600 / 864 000 = 0.999305... >= 99.9 %: met
    sev2 = run.r("up_sev2")
    assert (sev2["measured"], sev2["status"]) == (1 - 600 / elapsed, "met")
    # sev3: 1 200 s; whole month at best 1 - 1200 / 2 592 000 = 0.99954 (can recover), but
    # extrapolated 1 - 1200 / 864 000 = 0.998611 < 99.9 %: at risk
    sev3 = run.r("up_sev3")
    assert (sev3["measured"], sev3["status"]) == (1 - 1_200 / elapsed, "at_risk")
    assert sev3["projected"] == 1 - 1_200 / elapsed
    # the open incident is down until as-of only (3 600 s), not to the month's end; even so
    # 1 - 3 600 / 2 592 000 = 0.998611 < 99.9 %: breached already
    open_ = run.r("up_open")
    assert (open_["good"], open_["total"], open_["status"]) == (
        elapsed - 3_600, elapsed, "breached")
    # 6 POSTs after a third of the month extrapolate to 18
    for name, status in (("posts_10", "at_risk"), ("posts_5", "breached"),
                         ("posts_20", "met")):
        r = run.r(name)
        assert (r["measured"], r["status"]) == (6, status), name
    assert run.r("posts_10")["projected"] == 18
    # max already 400 > 300: breached early; mean 350.5 extrapolates to itself: at risk
    assert (run.r("slowest")["measured"], run.r("slowest")["status"]) == (400, "breached")
    assert run.r("mean_latency")["measured"] == 350.5
    assert run.r("mean_latency")["status"] == "at_risk"


def test_running_timeslices_breach_early_only_when_unrecoverable(estate: Estate) -> None:
    """As-of 12:00 on a daily period: hours 0-2 bad, 9 good hours so far (0.75). The whole day
    can at best reach 21 / 24 = 0.875."""
    body = "".join(f"""
  objective t{t} {{
    indicator timeslices(1h, ratio(requests where status < 500) >= 99%)
    target    >= {t}%
  }}""" for t in (90, 85, 70))
    run = estate.run(agreement(body, period="daily"), {"requests": {
        "ts": ["2026-10-05T00:30:00Z", "2026-10-05T01:30:00Z", "2026-10-05T02:30:00Z",
               "2026-10-05T03:30:00Z"],
        "status": [500, 500, 500, 200],
    }}, as_of="2026-10-05T12:00:00Z", period="2026-10-05")
    for t in ("t90", "t85", "t70"):
        r = run.r(t)
        assert (r["good"], r["total"], r["measured"], r["complete"]) == (9, 12, 0.75, False)
    assert run.r("t90")["status"] == "breached"  # 0.875 < 0.90
    assert run.r("t85")["status"] == "at_risk"  # 0.875 >= 0.85, but 0.75 < 0.85 now
    assert run.r("t70")["status"] == "met"


# -------------------------------------------------------------------------------- determinism


def test_same_inputs_give_byte_identical_reports(estate: Estate) -> None:
    policy = agreement(UPTIME_TIERS, extra="  fee 1000.05 GBP")
    tables = {"incidents": {"started_at": ["2026-11-10T00:00:00Z"],
                            "resolved_at": ["2026-11-10T07:12:00Z"]}}
    first = estate.run(policy, tables, as_of="2026-12-15T00:00:00Z", period="2026-11")
    second = estate.run(policy, tables, as_of="2026-12-15T00:00:00Z", period="2026-11")
    assert first.text == second.text
    assert json.loads(first.text) == first.doc
    assert first.doc["as_of"] == "2026-12-15T00:00:00Z"
    # a different as-of is a different report (and is written)
    third = estate.run(policy, tables, as_of="2026-12-16T00:00:00Z", period="2026-11")
    assert third.text != first.text
    assert third.doc["as_of"] == "2026-12-16T00:00:00Z"


def test_results_are_sorted_by_agreement_objective_period(estate: Estate) -> None:
    body = """
  objective zeta {
    indicator uptime(incidents)
    target    >= 99%
  }
  objective alpha {
    indicator uptime(incidents)
    target    >= 99%
  }"""
    policy = agreement(body, name="b") + agreement(body, name="a")
    run = estate.run(policy, {"incidents": {"started_at": ["2026-10-10T00:00:00Z"],
                                            "resolved_at": ["2026-10-10T01:00:00Z"]}},
                     as_of="2026-12-15T00:00:00Z", date_from="2026-10-01",
                     date_to="2026-11-30")
    keys = [(r["agreement"], r["objective"], r["period"]) for r in run.doc["results"]]
    assert keys == [(a, o, p) for a in "ab" for o in ("alpha", "zeta")
                    for p in ("2026-10", "2026-11")]
    assert run.doc["summary"]["results"] == 8
    assert run.doc["summary"]["agreements"] == 2
