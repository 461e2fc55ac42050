"""Holiday region codes (`holidays "GB-ENG"`) through the engine, with hand-counted hours.

The calendar is office hours in London, Monday to Friday 09:00-17:00. December 2026 is GMT
(UTC+0) throughout and starts on a Tuesday, so it has 23 weekdays: 1-4, 7-11, 14-18, 21-25 and
28-31 December. The bank holidays of England on weekdays are Friday 25 December (Christmas Day)
and Monday 28 December (the substitute for Boxing Day, Saturday 26 December). The hand-typed
calendar knows only the 25th.
"""

from __future__ import annotations

from tests.engine.conftest import Audit, Estate, agreement

H = 3600

OFFICE = """
calendar office {{
  timezone "Europe/London"
  hours    mon-fri 09:00-17:00
  holidays {holidays}
}}
"""

UPTIME = """
  objective up {
    indicator uptime(incidents)
    target    >= 99%
  }"""

# One hour of downtime on Monday 28 December (the substitute bank holiday), one on Tuesday 29th.
INCIDENTS = {
    "started_at": ["2026-12-28T10:00:00Z", "2026-12-29T10:00:00Z"],
    "resolved_at": ["2026-12-28T11:00:00Z", "2026-12-29T11:00:00Z"],
}


def _run(estate: Estate, holidays: str) -> Audit:
    policy = OFFICE.format(holidays=holidays) + agreement(
        UPTIME, timezone="Europe/London",
        extra="  hours office\n  effective 2026-12-01 .. 2026-12-31")
    return estate.run(policy, {"incidents": INCIDENTS}, as_of="2027-01-15T00:00:00Z",
                      period="2026-12")


def test_the_substitute_bank_holiday_counts_no_hours(estate: Estate) -> None:
    run = _run(estate, '"GB-ENG"')
    r = run.r("up", "2026-12")
    # 23 weekdays - 25th - 28th = 21 days x 8 h = 168 h; the outage on the 28th is on a holiday.
    assert r["total"] == 168 * H
    assert r["good"] == 167 * H
    assert r["measured"] == 167 / 168


def test_typed_dates_alone_count_the_substitute_day(estate: Estate) -> None:
    run = _run(estate, "2026-12-25")
    r = run.r("up", "2026-12")
    # 22 working days x 8 h = 176 h; both outages count.
    assert (r["total"], r["good"]) == (176 * H, 174 * H)
    assert "holiday_data" not in run.doc["evidence"]


def test_typed_dates_and_a_region_combine(estate: Estate) -> None:
    run = _run(estate, '"GB-ENG", 2026-12-31')
    # New Year's Eve (Thursday) as an office closure on top: 20 days.
    assert run.r("up", "2026-12")["total"] == 160 * H


def test_the_evidence_records_the_package_dates_used(estate: Estate) -> None:
    from importlib.metadata import version

    run = _run(estate, '"GB-ENG"')
    data = run.doc["evidence"]["holiday_data"]
    assert data["package"] == "holidays"
    assert data["version"] == version("holidays")
    (cal,) = data["calendars"].values()
    assert cal["regions"] == ["GB-ENG"]
    # The period is December 2026 in London: only 2026 was consulted.
    assert cal["years"] == [2026]
    assert sorted(cal["dates"]) == [
        "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31",
        "2026-12-25", "2026-12-28",
    ]
    assert cal["dates"]["2026-12-28"] == "Boxing Day (observed)"
    # The plan the evidence hashes holds the same dates.
    plan = run.report.plan.to_dict()["holiday_data"]
    assert plan["calendars"] == data["calendars"]


def test_a_business_duration_over_a_holiday(estate: Estate) -> None:
    """A ticket opened on Thursday 24 December 16:00 and resolved on Tuesday 29 December
    10:00: 1 h on the 24th, nothing on the 25th-28th, 1 h on the 29th."""
    policy = OFFICE.format(holidays='"GB-ENG"') + agreement("""
  objective fixed {
    indicator ratio(tickets where business_duration(opened_at, resolved_at, office) <= 2h)
    target    >= 99%
  }""", timezone="Europe/London")
    tickets = {"opened_at": ["2026-12-24T16:00:00Z", "2026-12-24T16:00:00Z"],
               "resolved_at": ["2026-12-29T10:00:00Z", "2026-12-29T11:00:01Z"]}
    run = estate.run(policy, {"tickets": tickets}, as_of="2027-01-15T00:00:00Z",
                     period="2026-12")
    r = run.r("fixed", "2026-12")
    assert (r["good"], r["total"]) == (1, 2)
