"""Holiday calendars from the `holidays` package: `holidays "GB-ENG"` in a calendar.

The dates below are checked by hand against the governments' own lists:
GOV.UK "UK bank holidays" (England and Wales) and OPM "Federal Holidays" (dates as observed).
"""

from __future__ import annotations

import datetime as dt
import json
from importlib.metadata import version
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import slang
from slang.cli import main as cli_main
from slang.diff.semantic import _calendar_text, _hours_change
from slang.plan.plan import build_plan, explain, holiday_years
from slang.semantics.holiday_regions import (
    UnknownRegion,
    calendar_holidays,
    parse_region,
    recording,
    region_dates,
)
from slang.syntax import ast
from slang.syntax.formatter import format_text
from slang.syntax.parser import parse

REPO = Path(__file__).resolve().parent.parent
PLAN_SCHEMA = REPO / "slang" / "schemas" / "plan.schema.json"
D = dt.date

# GOV.UK, England and Wales, 2026. Boxing Day (26 December) is a Saturday: the bank holiday is
# the substitute day, Monday 28 December; the Saturday itself is not one.
GB_ENG_2026 = [D(2026, 1, 1), D(2026, 4, 3), D(2026, 4, 6), D(2026, 5, 4), D(2026, 5, 25),
               D(2026, 8, 31), D(2026, 12, 25), D(2026, 12, 28)]
# OPM, 2026. Independence Day (4 July) is a Saturday: observed Friday 3 July.
US_2026 = [D(2026, 1, 1), D(2026, 1, 19), D(2026, 2, 16), D(2026, 5, 25), D(2026, 6, 19),
           D(2026, 7, 3), D(2026, 9, 7), D(2026, 10, 12), D(2026, 11, 11), D(2026, 11, 26),
           D(2026, 12, 25)]


def dates(code: str, *years: int) -> list[dt.date]:
    return sorted(region_dates(code, years))


# ----------------------------------------------------------------------------- the dates


def test_england_2026_bank_holidays() -> None:
    assert dates("GB-ENG", 2026) == GB_ENG_2026
    assert region_dates("GB-ENG", [2026])[D(2026, 12, 28)] == "Boxing Day (observed)"


def test_us_2026_federal_holidays_as_observed() -> None:
    assert dates("US", 2026) == US_2026


def test_england_2027_both_christmas_holidays_move() -> None:
    """GOV.UK 2027: 25 December is a Saturday, the 26th a Sunday: substitute days Monday 27th
    and Tuesday 28th. Easter Sunday is 28 March."""
    assert dates("GB-ENG", 2027) == [
        D(2027, 1, 1), D(2027, 3, 26), D(2027, 3, 29), D(2027, 5, 3), D(2027, 5, 31),
        D(2027, 8, 30), D(2027, 12, 27), D(2027, 12, 28)]


@settings(max_examples=12, deadline=None)
@given(code=st.sampled_from(["GB-ENG", "GB-SCT", "US", "US-NY", "DE-BY", "NZ", "RS", "SA"]),
       year=st.integers(2000, 2040))
def test_only_weekend_dates_give_way_to_substitutes(code: str, year: int) -> None:
    """Against the package's own view (observed days included): slang drops only weekend
    dates, never more of them than the package added substitute days around them."""
    import holidays

    country, _, subdivision = code.partition("-")
    full = holidays.country_holidays(country, subdiv=subdivision or None,
                                     years=range(year - 1, year + 2))
    plain = holidays.country_holidays(country, subdiv=subdivision or None,
                                      years=range(year - 1, year + 2), observed=False)
    kept = set(region_dates(code, [year]))
    in_year = {d for d in full if d.year == year}
    dropped = in_year - kept
    assert kept <= in_year
    assert all(full.is_weekend(d) for d in dropped)
    substitutes = {d for d in full if d not in plain or full.get_list(d) != plain.get_list(d)}
    assert len(dropped) <= len(substitutes)


def test_a_substitute_day_can_fall_in_the_previous_year() -> None:
    """1 January 2022 is a Saturday; OPM lists Friday 31 December 2021 as its New Year's Day."""
    assert D(2021, 12, 31) in dates("US", 2021)
    assert not any(d.month == 1 and d.day == 1 for d in dates("US", 2022))


def test_one_substitute_replaces_one_weekend_date() -> None:
    """Serbia's Statehood Day is 15 and 16 February; in 2026 the 15th is a Sunday and Tuesday
    17th is given for it. Monday 16th is a holiday in its own right and stays one."""
    feb = [d for d in dates("RS", 2026) if d.month == 2]
    assert feb == [D(2026, 2, 16), D(2026, 2, 17)]


def test_subdivisions_add_their_own_holidays() -> None:
    # Bavaria 2026: Epiphany (6 Jan), Ascension (Easter 5 April + 39 = 14 May), Whit Monday
    # (+ 50 = 25 May), Corpus Christi (+ 60 = 4 June), All Saints (1 Nov), which Germany as a
    # whole does not have.
    by, de = set(dates("DE-BY", 2026)), set(dates("DE", 2026))
    assert by - de == {D(2026, 1, 6), D(2026, 6, 4), D(2026, 11, 1)}
    assert {D(2026, 5, 14), D(2026, 5, 25)} <= de
    assert D(2026, 2, 12) in dates("US-NY", 2026)  # Lincoln's Birthday, a New York holiday
    assert D(2026, 2, 12) not in dates("US", 2026)


def test_standard_calendars_hold_exactly_the_package_dates_for_2026() -> None:
    """The hand-typed std/calendars and the package agree for 2026 (each checked against the
    official lists above), so either is a faithful source."""
    model = slang.load([REPO / "policies"])
    std = {c.name: c for c in model.calendars.values()}
    for name, code in [("uk_business", "GB-ENG"), ("uk_extended", "GB-ENG"),
                       ("us_business", "US"), ("us_business_pacific", "US")]:
        if name in std:
            assert list(std[name].holidays) == dates(code, 2026), name
    assert {"uk_business", "us_business"} <= set(std)


# ------------------------------------------------------------------------------ region codes


@pytest.mark.parametrize(("code", "message", "hint"), [
    ("UK-ENG", "unknown holiday country `UK` in `UK-ENG`", "did you mean `GB-ENG`?"),
    ("gb-eng", "unknown holiday country `gb` in `gb-eng`", "did you mean `GB-ENG`?"),
    ("DE-BAY", "unknown subdivision `BAY` of DE in `DE-BAY`", "did you mean `DE-BY`?"),
    ("GB-XYZQ", "unknown subdivision `XYZQ` of GB in `GB-XYZQ`",
     "GB has subdivisions GB-ENG, GB-NIR, GB-SCT, GB-WLS"),
])
def test_unknown_regions_say_what_to_write(code: str, message: str, hint: str) -> None:
    with pytest.raises(UnknownRegion) as exc:
        parse_region(code)
    assert (exc.value.message, exc.value.hint) == (message, hint)


def test_known_regions() -> None:
    assert parse_region("GB-ENG") == ("GB", "ENG")
    assert parse_region("US") == ("US", None)
    assert parse_region("US-NY") == ("US", "NY")


# ------------------------------------------------------------------------- syntax and model


def test_dates_and_regions_parse_and_format() -> None:
    src = 'calendar c {\n  holidays "GB-ENG",2026-12-24\n  holidays 2026-12-31\n}\n'
    (cal,) = parse(src).module.decls
    assert isinstance(cal, ast.Calendar)
    first = cal.attrs[0].value
    assert isinstance(first, ast.DateList)
    assert [type(i).__name__ for i in first.items] == ["StringLit", "DateLit"]
    assert format_text(src) == (
        'calendar c {\n  holidays "GB-ENG", 2026-12-24\n  holidays 2026-12-31\n}\n')


def _load(tmp_path: Path, text: str) -> slang.Model:
    path = tmp_path / "estate.sla"
    path.write_text('catalogue { service api { title "API" } }\n'
                    'intervals incidents from "incidents" { key service }\n' + text)
    return slang.load([path])


CALENDAR = """
calendar office {
  timezone "Europe/London"
  hours    mon-fri 09:00-17:30
  holidays "GB-ENG", 2026-12-24
  holidays "GB-SCT"
}
"""


def _agreement(effective: str, timezone: str = "Europe/London") -> str:
    return f"""
agreement a {{
  service   api
  status    agreed
  timezone  "{timezone}"
  period    monthly
  {effective}
  hours     office
  objective up {{
    indicator uptime(incidents)
    target    >= 99%
  }}
}}
"""


def test_the_model_keeps_codes_and_typed_dates_apart(tmp_path: Path) -> None:
    model = _load(tmp_path, CALENDAR)
    assert model.ok, model.diagnostics
    (cal,) = model.calendars.values()
    assert cal.regions == ("GB-ENG", "GB-SCT")
    assert cal.holidays == (D(2026, 12, 24),)
    # Scotland has 2 January and St Andrew's Day (30 November; a Monday in 2026) besides.
    got = calendar_holidays(cal.id, cal.holidays, cal.regions, 2026, 2026)
    assert got == set(GB_ENG_2026) | set(dates("GB-SCT", 2026)) | {D(2026, 12, 24)}
    assert {D(2026, 1, 2), D(2026, 11, 30)} <= got


def test_an_unknown_region_is_a_coded_error_at_its_string(tmp_path: Path) -> None:
    model = _load(tmp_path, 'calendar c {\n  holidays 2026-01-01, "US-NYC"\n}\n')
    (d,) = model.errors
    assert (d.code, d.span.line, d.span.col) == ("SLG0450", 4, 24)
    assert d.hint == "did you mean `US-NC`?"


def test_the_ledger_records_what_was_used() -> None:
    with recording() as ledger:
        calendar_holidays("c", (), ("US",), 2026, 2027)
        calendar_holidays("typed", (D(2026, 1, 1),), (), 2026, 2026)
    data = ledger.to_dict()
    assert data is not None
    assert list(data["calendars"]) == ["c"]
    assert data["calendars"]["c"]["years"] == [2026, 2027]
    # 2027 has twelve: Friday 31 December 2027 stands for Saturday 1 January 2028.
    assert len(data["calendars"]["c"]["dates"]) == 11 + 12
    assert data["calendars"]["c"]["dates"]["2027-12-31"] == "New Year's Day (observed)"
    with recording() as nothing:
        calendar_holidays("typed", (D(2026, 1, 1),), (), 2026, 2026)
    assert nothing.to_dict() is None


# --------------------------------------------------------------------------------- the plan


def test_plan_holds_the_dates_and_the_package_version(tmp_path: Path) -> None:
    model = _load(tmp_path, CALENDAR + _agreement("effective 2026-01-01 .. 2026-12-31"))
    plan = build_plan(model, as_of=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    doc = json.loads(plan.to_json())
    jsonschema.Draft202012Validator(json.loads(PLAN_SCHEMA.read_text())).validate(doc)
    data = doc["holiday_data"]
    assert (data["package"], data["version"]) == ("holidays", version("holidays"))
    cal = data["calendars"]["office"]
    assert (cal["regions"], cal["years"]) == (["GB-ENG", "GB-SCT"], [2026])
    assert cal["dates"]["2026-12-28"] == (
        "GB-ENG: Boxing Day (observed); GB-SCT: Boxing Day (observed)")
    assert cal["dates"]["2026-01-02"].startswith("GB-SCT: New Year")
    text = explain(plan)
    assert f"holidays (package holidays {version('holidays')}):" in text
    assert "  office: GB-ENG, GB-SCT, years 2026" in text
    assert "    2026-08-31  GB-ENG: Late Summer Bank Holiday" in text


def test_the_evidence_manifest_records_the_plans_holiday_data(tmp_path: Path) -> None:
    """`slang audit --evidence` writes the plan's `holiday_data` into its manifest, so that
    `slang verify` notices a different package version or different dates."""
    from slang.evidence.environment import holiday_data

    model = _load(tmp_path, CALENDAR + _agreement("effective 2026-01-01 .. 2026-12-31"))
    plan = build_plan(model, as_of=dt.datetime(2026, 6, 1, tzinfo=dt.UTC)).to_dict()
    (record,) = holiday_data(plan)
    assert record == plan["holiday_data"]
    assert record["version"] == version("holidays")


def test_a_plan_without_regions_has_no_holiday_data(tmp_path: Path) -> None:
    model = _load(tmp_path, CALENDAR.replace('"GB-ENG", ', "").replace('  holidays "GB-SCT"\n', "")
                  + _agreement("effective 2026-01-01 .. 2026-12-31"))
    assert "holiday_data" not in build_plan(model).to_dict()


@pytest.mark.parametrize(("effective", "timezone", "as_of", "years"), [
    ("effective 2026-01-01 .. 2026-12-31", "Europe/London", "2030-01-01", [2026]),
    # An open end runs to the as-of date.
    ("effective 2026-03-01 ..", "Europe/London", "2028-02-01", [2026, 2027, 2028]),
    # A future open-ended agreement: its start year.
    ("effective 2027-03-01 ..", "Europe/London", "2026-02-01", [2027]),
    # No effective range at all: the as-of year.
    ("", "Europe/London", "2026-02-01", [2026]),
    # Read in Tokyo, 1 January 2026 00:00 is still 31 December 2025 in London.
    ("effective 2026-01-01 .. 2026-06-30", "Asia/Tokyo", "2030-01-01", [2025, 2026]),
])
def test_years_expanded(tmp_path: Path, effective: str, timezone: str, as_of: str,
                        years: list[int]) -> None:
    model = _load(tmp_path, CALENDAR + _agreement(effective, timezone))
    assert model.ok, model.diagnostics
    (a,) = model.agreements.values()
    assert a.hours is not None
    assert list(holiday_years(a, a.hours, D.fromisoformat(as_of))) == years
    when = dt.datetime.fromisoformat(as_of + "T00:00:00+00:00")
    plan = build_plan(model, as_of=when).to_dict()
    assert plan["holiday_data"]["calendars"]["office"]["years"] == years


def test_plan_command_takes_as_of(tmp_path: Path) -> None:
    _load(tmp_path, CALENDAR + _agreement("effective 2026-03-01 .."))
    out = CliRunner().invoke(cli_main, ["plan", str(tmp_path / "estate.sla"), "--format", "json",
                                        "--as-of", "2027-05-01T00:00:00Z"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["holiday_data"]["calendars"]["office"]["years"] == [2026, 2027]


# -------------------------------------------------------------------------------- semantic diff


def test_diff_compares_region_codes(tmp_path: Path) -> None:
    england = _load(tmp_path, CALENDAR.replace('  holidays "GB-SCT"\n', "")).calendars["office"]
    both = _load(tmp_path, CALENDAR).calendars["office"]
    typed = _load(tmp_path, CALENDAR.replace('"GB-ENG", ', "").replace('  holidays "GB-SCT"\n',
                                                                        "")).calendars["office"]
    assert _hours_change(england, england) is None
    assert _hours_change(england, both) == "loosened"  # more holidays: less counted time
    assert _hours_change(both, england) == "tightened"
    assert _hours_change(typed, england) == "loosened"
    assert _calendar_text(both) == (
        "office (Europe/London mon-fri 09:00-17:30, 1 holiday, holidays of GB-ENG, GB-SCT)")
