"""The service review report's content: figures of the example estate over the demo data
(checkout breached in October 2026, the partner API at risk in November), the error-budget
burn-down, exact display of values, escaping in Markdown, and the golden Markdown pack.

Regenerate the golden file after a deliberate change with `SLANG_REGEN=1 pytest
tests/test_review.py` and read its diff before committing it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from slang.cli import main
from slang.engine.burndown import checkpoints
from slang.engine.calendar_time import to_us
from slang.report.quantities import duration_text, percent_text, value_text
from slang.report.review import AgreementView, ObjectiveView, ReviewReport
from slang.report.review_markdown import code, md, md_paragraph
from tests.review_support import (
    GOLDEN,
    HOSTILE_CUSTOMER,
    HOSTILE_REASON,
    HOSTILE_TITLE,
    demo_review,
)

REGEN = os.environ.get("SLANG_REGEN") == "1"


@pytest.fixture(scope="module")
def bindings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(main, ["demo", str(out)])
    assert result.exit_code == 0, result.output
    return out / "bindings.yaml"


@pytest.fixture(scope="module")
def october_retail(bindings: Path) -> ReviewReport:
    return demo_review(bindings, period="2026-10", customer="Retail BU")


@pytest.fixture(scope="module")
def autumn(bindings: Path) -> ReviewReport:
    """Every customer, August to November 2026 (November running at --as-of)."""
    return demo_review(bindings, date_from="2026-08-01", date_to="2026-11-30")


def agreement(review: ReviewReport, name: str) -> AgreementView:
    return next(a for a in review.agreements if a.name == name)


def objective(review: ReviewReport, name: str, objective_name: str) -> ObjectiveView:
    return next(o for o in agreement(review, name).objectives if o.name == objective_name)


# ------------------------------------------------------------------------- the known story


def test_october_checkout_is_breached_with_the_credits_owed(october_retail: ReviewReport
                                                            ) -> None:
    assert october_retail.customer == "Retail BU"
    assert [a.name for a in october_retail.agreements] == ["checkout_retail",
                                                           "support_desk_retail"]
    checkout = agreement(october_retail, "checkout_retail")
    assert [(b.objective, b.period, b.measured_text, b.target_text, b.credit_text)
            for b in checkout.breaches] == [
        ("availability", "2026-10", "99.716%", "≥ 99.9%", "10% = 1200.00 GBP"),
        ("uptime", "2026-10", "99.776%", "≥ 99.95%", "15% = 1800.00 GBP"),
    ]
    (credit,) = checkout.credits
    # 10 % + 15 % of the 12 000.00 GBP fee; the 50 % cap (6000.00) does not bite
    assert (credit.objectives, credit.adjustment, credit.total) == (
        Decimal("3000.00"), Decimal("0.00"), Decimal("3000.00"))
    assert checkout.credits_total == Decimal("3000.00")
    assert isinstance(checkout.credits_total, Decimal)
    assert october_retail.credits_total == (("GBP", Decimal("3000.00")),)
    assert [(c.customer, c.currency, c.amount) for c in october_retail.customer_credits] == [
        ("Retail BU", "GBP", Decimal("3000.00"))]
    assert october_retail.counts == {"met": 5, "breached": 2, "at_risk": 0, "no_data": 0}


def test_october_error_budgets_by_hand(october_retail: ReviewReport) -> None:
    """Availability: 37 350 requests, 106 server errors; the budget is 0.1 % of 37 350 =
    37.35 requests, so 106 / 37.35 = 283.8 % of it was used. Uptime: 745 h of London October
    less 8 h of Sunday patch windows = 2 653 200 s measured; 0.05 % of it is 1326.6 s; the
    99 minutes (5940 s) of sev1 used 447.8 %."""
    availability = objective(october_retail, "checkout_retail", "availability").rows[0]
    assert availability.measured == Fraction(37350 - 106, 37350)
    assert availability.budget_share == Fraction(106) / (Fraction(37350) / 1000)
    assert availability.budget_text == "283.8%"
    assert availability.excluded_text == "8 h"
    uptime = objective(october_retail, "checkout_retail", "uptime").rows[0]
    assert uptime.measured == Fraction(2653200 - 5940, 2653200)
    assert uptime.budget_text == "447.8%"
    latency = objective(october_retail, "checkout_retail", "latency").rows[0]
    assert (latency.measured_text, latency.budget_text, latency.status) == ("240 ms", "-", "met")


def test_october_burn_down_ends_at_the_audited_figure(october_retail: ReviewReport) -> None:
    burn = agreement(october_retail, "checkout_retail").burn
    assert burn is not None and burn.period == "2026-10" and not burn.running
    by_name = {s.objective: s for s in burn.series}
    assert list(by_name) == ["availability", "uptime"]  # latency has no error budget
    availability = by_name["availability"]
    # one point at the start, one per local midnight from 2 October to 1 November
    assert len(availability.times_us) == 32
    assert availability.times_us[0] == burn.start_us
    assert availability.times_us[-1] == burn.end_us
    assert availability.remaining[0] == 1
    assert availability.remaining[-1] == 1 - Fraction(106) / (Fraction(37350) / 1000)
    assert availability.remaining_text == "-183.8%"
    # the outage of Thursday 15 October spent the budget that day, not before
    assert availability.spent_on == by_name["uptime"].spent_on == "2026-10-15"
    oct_15 = to_us(dt.datetime(2026, 10, 14, 23, tzinfo=dt.UTC))  # London midnight
    before = availability.remaining[availability.times_us.index(oct_15)]
    assert before > 0
    assert all(b >= a for a, b in zip(availability.remaining[1:], availability.remaining,
                                      strict=False))  # remaining never grows


def test_november_partner_api_is_at_risk(bindings: Path) -> None:
    review = demo_review(bindings, period="2026-11", customer="US marketplace partners")
    (partner,) = review.agreements
    assert [(b.objective, b.period, b.running, b.measured_text) for b in partner.at_risk] == [
        ("availability", "2026-11", True, "99.833%")]
    assert partner.breaches == ()
    assert partner.credits == ()  # nothing is owed for a running period
    assert partner.burn is not None and partner.burn.running
    assert partner.burn.as_of_us == to_us(dt.datetime(2026, 11, 15, tzinfo=dt.UTC))
    # the slice-mean availability has no error budget; the synthetic checks and uptime do
    assert [s.objective for s in partner.burn.series] == ["synthetic_checks", "uptime"]
    for s in partner.burn.series:
        assert s.times_us[-1] == partner.burn.as_of_us


def test_trend_over_four_months(autumn: ReviewReport) -> None:
    availability = objective(autumn, "checkout_retail", "availability")
    assert [r.label for r in availability.rows] == ["2026-08", "2026-09", "2026-10", "2026-11"]
    assert [r.change for r in availability.rows] == ["", "better", "worse", "better"]
    # the trend reads the complete periods only: October was worse than September
    assert availability.trend_text == "worse than the period before"
    assert not availability.worsening
    latency = objective(autumn, "checkout_retail", "latency")
    assert [r.measured_text for r in latency.rows] == ["245.1 ms", "243.2 ms", "240 ms",
                                                        "241.1 ms"]
    assert latency.trend_text == "better than the period before"


def test_credits_per_customer_over_four_months(autumn: ReviewReport) -> None:
    credits = {(c.customer, c.currency): c.amount for c in autumn.customer_credits}
    assert credits[("Retail BU", "GBP")] == Decimal("3000.00")
    assert credits[("US marketplace partners", "USD")] == Decimal("0.00")
    # the internal rolling agreement has no fee, so it owes nothing and is not listed
    assert all(c.customer != "Digital leadership team" for c in autumn.customer_credits)
    assert agreement(autumn, "storefront_experience").credits_total is None


def test_exclusions_keep_their_reasons(october_retail: ReviewReport) -> None:
    checkout = agreement(october_retail, "checkout_retail")
    assert [(x.scope, x.reason, x.as_available) for x in checkout.exclusions] == [
        ("2026-03-29T01:00:00Z .. 2026-03-29T03:00:00Z", "datacentre migration (CHG-0311)",
         False),
        ("maintenance where approved == true", "changes approved by the Retail change board",
         False),
        ("weekly sun 02:00-04:00", "weekly patch window", False),
    ]


# ------------------------------------------------------------------------------ burn-down


def test_checkpoints_are_local_midnights_across_the_clock_change() -> None:
    """London October 2026: 30 local midnights inside, then the end; clocks go back on
    Sunday 25 October, so the midnight of the 25th is 23:00Z and that of the 26th 00:00Z."""
    start = to_us(dt.datetime(2026, 9, 30, 23, tzinfo=dt.UTC))
    end = to_us(dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    points = checkpoints("Europe/London", start, end)
    assert len(points) == 31 and points[-1] == end
    assert to_us(dt.datetime(2026, 10, 24, 23, tzinfo=dt.UTC)) in points
    assert to_us(dt.datetime(2026, 10, 26, 0, tzinfo=dt.UTC)) in points
    assert checkpoints("UTC", start, start) == []


def test_long_periods_get_weekly_checkpoints() -> None:
    start = to_us(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    end = to_us(dt.datetime(2026, 4, 1, tzinfo=dt.UTC))  # 90 days
    points = checkpoints("UTC", start, end)
    assert len(points) == 13  # days 8, 15, ... 85, then the end
    assert points[0] == to_us(dt.datetime(2026, 1, 8, tzinfo=dt.UTC))


# ------------------------------------------------------------------------------ quantities


def test_percentages_never_look_like_their_target() -> None:
    target = Fraction(999, 1000)
    assert percent_text(Fraction(997162, 1000000), target) == "99.716%"
    assert percent_text(target, target) == "99.9%"
    # 99.89996 % rounds to 99.900 at three decimals: more digits show it missed
    assert percent_text(Fraction(9989996, 10000000), target) == "99.89996%"
    assert percent_text(Fraction(99999, 100000)) == "99.999%"
    assert percent_text(Fraction(9999999, 10000000)) == "99.99999%"  # not 100%
    assert percent_text(Fraction(1)) == "100%"


FRACTIONS = st.fractions(min_value=0, max_value=1, max_denominator=10**6)


@given(FRACTIONS, FRACTIONS)
def test_a_value_never_reads_as_its_target_or_as_100_percent(v: Fraction, t: Fraction) -> None:
    shown = percent_text(v, t)
    if v != t:
        assert shown != percent_text(t, t)
    if v != 1:
        assert shown != "100%"


def test_values_and_durations() -> None:
    assert value_text(Fraction(2451, 10), "ms") == "245.1 ms"
    assert value_text(Fraction(300), "ms", Fraction(300)) == "300 ms"
    assert value_text(Fraction(30001, 100), "ms", Fraction(300)) == "300.01 ms"
    assert value_text(Fraction(3), None) == "3"
    assert duration_text(0) == "0"
    assert duration_text(59) == "< 1 min"
    assert duration_text(5400) == "1 h 30 min"
    assert duration_text(2 * 86400 + 3 * 3600) == "2 d 3 h"


# --------------------------------------------------------------------------- markdown text


def test_markdown_escaping() -> None:
    assert md(HOSTILE_TITLE) == '&lt;script&gt;alert("title")&lt;/script&gt;'
    assert md(HOSTILE_CUSTOMER) == 'R&amp;D "Labs" &lt;b&gt;bold&lt;/b&gt;'
    assert md(HOSTILE_REASON) == (
        r"&lt;img src=x onerror=alert(1)&gt; &amp; \*not emphasis\* \| pipe")
    assert md("two\nlines") == "two lines"
    assert md_paragraph("# not a heading") == r"\# not a heading"
    assert md_paragraph("1. not a list") == r"1\. not a list"
    assert code("a`b") == "``a`b``"
    assert code("x | y") == r"`x \| y`"


def test_hostile_strings_stay_text_in_markdown(tmp_path: Path) -> None:
    from tests.review_support import write_hostile

    policy, data = write_hostile(tmp_path)
    result = CliRunner().invoke(main, [
        "report", str(policy), "--data", f"requests={data}", "--period", "2026-10",
        "--as-of", "2026-11-15T00:00:00Z"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "<script" not in out and "<img" not in out and "<b>" not in out
    assert "&lt;script&gt;alert(\"title\")&lt;/script&gt;" in out
    assert r"&lt;img src=x onerror=alert(1)&gt; &amp; \*not emphasis\* \| pipe" in out
    assert r"\# not a heading &lt;/svg&gt;&lt;/table&gt; \`tick\`" in out
    # the figures are right too: 4 server errors in 200 requests
    assert "| 2026-10 | 98% | **breached** | 200% | 1 h | 10% = 100.00 GBP | - |" in out


# ------------------------------------------------------------------------------ the golden


def test_golden_markdown(bindings: Path) -> None:
    """The Retail BU pack for October 2026, as `slang report` prints it; the demo directory
    (a temporary path) is written as DEMO, and SHA-256 hashes as `<sha256>` (they change with
    every edit of the example estate or of the plan's form, which changes no figure here)."""
    result = CliRunner().invoke(main, [
        "report", "policies/", "--bind", str(bindings), "--period", "2026-10",
        "--customer", "Retail BU", "--as-of", "2026-11-15T00:00:00Z"])
    assert result.exit_code == 0, result.output
    text = result.stdout.replace(str(bindings.parent), "DEMO")
    assert len(re.findall(r"`[0-9a-f]{64}`", text)) > 10  # the evidence is there
    text = re.sub(r"`[0-9a-f]{64}`", "`<sha256>`", text)
    golden = GOLDEN / "review-retail-2026-10.md"
    if REGEN:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")



def test_a_margin_shrinking_three_periods_in_a_row_is_flagged(tmp_path: Path) -> None:
    """400 requests a month, July to October 2026, with 0, 1, 2 and 3 server errors: 100 %,
    99.75 %, 99.5 %, 99.25 % against 99 %, all met, but the margin (1, 0.75, 0.5, 0.25 points)
    shrank three times in a row."""
    from tests.review_support import write_hostile

    policy, data = write_hostile(tmp_path)
    rows = ["ts,service,status"]
    for month, errors in ((7, 0), (8, 1), (9, 2), (10, 3)):
        for i in range(400):
            ts = dt.datetime(2026, month, 5, tzinfo=dt.UTC) + dt.timedelta(minutes=30 * i)
            rows.append(f"{ts:%Y-%m-%dT%H:%M:%SZ},svc,{503 if i < errors else 200}")
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, [
        "report", str(policy), "--data", f"requests={data}", "--from", "2026-07-01", "--to",
        "2026-10-31", "--as-of", "2026-11-15T00:00:00Z"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Target ≥ 99%. Trend: worsening: the margin shrank 3 periods in a row." in out
    assert "- hostile availability: worsening trend" in out  # in the summary too
    for label, measured, change in (("2026-07", "100%", "-"), ("2026-08", "99.75%", "worse"),
                                    ("2026-09", "99.5%", "worse"),
                                    ("2026-10", "99.25%", "worse")):
        assert f"| {label} | {measured} | met |" in out
        assert out.split(f"| {label} | {measured} | met |", 1)[1].split("\n", 1)[0].endswith(
            f"| {change} |")
