"""Forecast, multi-window burn-rate checks and `slang status`, against hand-computed values.

Small tables in `tmp_path` (the engine tests' estate: service `svc`, `requests` events at `ts`,
`incidents` intervals), one `slang.status.status` call at a fixed `--as-of`, exact numbers.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Mapping
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pyarrow.parquet as pq
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

import slang
from slang.cli import main
from slang.engine import intervals as iv
from slang.engine.calendar_time import US
from slang.engine.forecast import counted_instant, running_period
from slang.status import ObjectiveStatus, StatusReport, render_text, status, to_dict
from tests.engine.conftest import HEADER, agreement, table, ts

H = 3600 * US
NOV = np.datetime64("2026-11-01T00:00:00", "us")


def hours_from_nov(*offsets: float) -> np.ndarray:
    """Instants `offsets` hours after 2026-11-01T00:00Z, as numpy datetimes."""
    return NOV + (np.array(offsets, dtype=np.float64) * 3600 * 1e6).astype("timedelta64[us]")


def write_estate(root: Path, policy: str, tables: Mapping[str, Mapping[str, Any]]
                 ) -> tuple[Path, dict[str, str]]:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "estate.sla"
    path.write_text(HEADER + "\n" + policy, encoding="utf-8")
    data = {}
    for name, cols in tables.items():
        out = root / f"{name}.parquet"
        pq.write_table(table(cols), out)
        data[name] = str(out)
    return path, data


SCHEMAS = Path(__file__).resolve().parent.parent / "slang" / "schemas"


@cache
def validator(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def run(tmp_path: Path, policy: str, tables: Mapping[str, Mapping[str, Any]], as_of: str
        ) -> StatusReport:
    """Status of a small estate; every document is checked against status.schema.json."""
    path, data = write_estate(tmp_path / "estate", policy, tables)
    model = slang.load([path])
    assert not model.errors, [str(d) for d in model.errors]
    report = status(model, data, as_of=ts(as_of))
    validator("status.schema.json").validate(to_dict(report))
    return report


def row(report: StatusReport, objective: str) -> ObjectiveStatus:
    (found,) = [r for r in report.rows if r.result.objective.name == objective]
    return found


AVAILABILITY = """
  objective availability {
    indicator ratio(requests where status < 500)
    target    >= 99.9%
  }"""


def ten_days_of_requests(bad: int = 2) -> dict[str, Any]:
    """1000 requests spread evenly over 2026-11-01..10 (every 864 s), the first `bad` of the
    ones at noon on the 5th failing."""
    times = hours_from_nov(*(np.arange(1000) * 0.24))
    status_codes = np.full(1000, 200)
    noon_5th = int(4.5 * 24 / 0.24)  # 2026-11-05T12:00Z
    status_codes[noon_5th:noon_5th + bad] = 500
    return {"ts": times, "status": status_codes}


# ------------------------------------------------------------------------------ running period


def test_running_period_is_the_one_as_of_lies_in(tmp_path: Path) -> None:
    report = run(tmp_path, agreement(AVAILABILITY, timezone="Europe/London"),
                 {"requests": ten_days_of_requests()}, "2026-11-11T00:00:00Z")
    p = row(report, "availability").result.period
    assert (p.label, p.start, p.end, p.complete) == (
        "2026-11", ts("2026-11-01T00:00:00Z"), ts("2026-12-01T00:00:00Z"), False)


def test_no_running_period_outside_effective(tmp_path: Path) -> None:
    model_text = agreement(AVAILABILITY, extra="  effective 2026-01-01 .. 2026-10-31")
    path, _ = write_estate(tmp_path, model_text, {})
    a = slang.load([path]).agreements["a"]
    assert running_period(a, ts("2026-11-11T00:00:00Z")) is None
    assert running_period(a, ts("2026-10-31T23:59:59Z")).label == "2026-10"  # type: ignore[union-attr]


# ------------------------------------------------------------------------------------ forecast


def test_ratio_forecast_by_hand(tmp_path: Path) -> None:
    """10 of November's 30 days gone, 2 bad of 1000 against 99.9 %: burn rate
    (2/1000) / (1/1000) = 2; budget left 1 - 2 x 10/30 = 1/3; the budget runs out after
    30 / 2 = 15 days of the period: 2026-11-16T00:00Z."""
    report = run(tmp_path, agreement(AVAILABILITY), {"requests": ten_days_of_requests()},
                 "2026-11-11T00:00:00Z")
    r = row(report, "availability")
    assert r.result.status == "at_risk"
    assert r.forecast.projected == Fraction(998, 1000)
    assert r.forecast.burn_rate == 2
    assert r.forecast.budget_remaining == Fraction(1, 3)
    assert r.forecast.exhaustion == ts("2026-11-16T00:00:00Z")


def test_exhaustion_skips_excluded_time(tmp_path: Path) -> None:
    """With 12-14 November excluded the period counts 28 days: budget left 1 - 2 x 10/28 =
    2/7, and 28 / 2 = 14 counted days are the 11 up to the 12th and 3 after the 14th."""
    policy = agreement(AVAILABILITY, extra='  exclude 2026-11-12 .. 2026-11-13 "freeze"')
    report = run(tmp_path, policy, {"requests": ten_days_of_requests()}, "2026-11-11T00:00:00Z")
    f = row(report, "availability").forecast
    assert (f.burn_rate, f.budget_remaining) == (2, Fraction(2, 7))
    assert f.exhaustion == ts("2026-11-17T00:00:00Z")


def test_a_burn_rate_at_or_below_one_never_runs_out(tmp_path: Path) -> None:
    """1 bad of 1000 is a burn rate of exactly 1: the budget lasts the period, left 1 - 10/30."""
    report = run(tmp_path, agreement(AVAILABILITY), {"requests": ten_days_of_requests(bad=1)},
                 "2026-11-11T00:00:00Z")
    r = row(report, "availability")
    assert r.result.status == "met"
    assert (r.forecast.burn_rate, r.forecast.budget_remaining, r.forecast.exhaustion) == (
        1, Fraction(2, 3), None)


def test_uptime_forecast_by_hand(tmp_path: Path) -> None:
    """3 hours down in the first 240 against 99 %: burn rate (3/240) / (1/100) = 5/4, projected
    1 - 3 x 3/720 = 98.75 % (at risk), budget left 1 - 5/4 x 1/3 = 7/12, runs out after
    30 / (5/4) = 24 days: 2026-11-25T00:00Z."""
    policy = agreement("""
  objective up {
    indicator uptime(incidents)
    target    >= 99%
  }""")
    incidents = {"started_at": ["2026-11-03T10:00:00Z"], "resolved_at": ["2026-11-03T13:00:00Z"]}
    report = run(tmp_path, policy, {"incidents": incidents}, "2026-11-11T00:00:00Z")
    r = row(report, "up")
    assert r.result.status == "at_risk"
    assert r.forecast.projected == Fraction(711, 720)
    assert (r.forecast.burn_rate, r.forecast.budget_remaining) == (Fraction(5, 4),
                                                                   Fraction(7, 12))
    assert r.forecast.exhaustion == ts("2026-11-25T00:00:00Z")


def test_value_objectives_have_a_projection_but_no_budget(tmp_path: Path) -> None:
    policy = agreement("""
  objective n {
    indicator count(requests)
    target    <= 2000
  }""")
    report = run(tmp_path, policy, {"requests": ten_days_of_requests()}, "2026-11-11T00:00:00Z")
    f = row(report, "n").forecast
    assert (f.projected, f.burn_rate, f.budget_remaining, f.exhaustion) == (3000, None, None,
                                                                            None)


def test_counted_instant_rounds_up_to_the_second() -> None:
    counted = iv.normalize(np.array([0, 20 * US]), np.array([10 * US, 30 * US]))
    assert counted_instant(counted, Fraction(15 * US)) == 25 * US
    assert counted_instant(counted, Fraction(10 * US)) == 10 * US
    assert counted_instant(counted, Fraction(21 * US, 2)) == 21 * US  # 20.5 s -> 21 s
    assert counted_instant(counted, Fraction(20 * US)) == 30 * US
    assert counted_instant(counted, Fraction(20 * US + 1)) is None


# ------------------------------------------------------------------------ burn-rate windows


def burning_requests(last_bad_minute: int = 55) -> dict[str, Any]:
    """One good request every hour from 2026-11-01T00:00Z to 2026-11-10T22:00Z (239 rows),
    then every 5 minutes of 2026-11-10T23:00-24:00 (12 rows), 3 of them bad: 23:10, 23:20 and
    23:`last_bad_minute`."""
    background = hours_from_nov(*range(239))
    last_hour = hours_from_nov(*(239 + np.arange(12) / 12))
    codes = np.full(251, 200)
    for minute in (10, 20, last_bad_minute):
        codes[239 + minute // 5] = 500
    return {"ts": np.concatenate([background, last_hour]), "status": codes}


def test_burn_rate_windows_by_hand(tmp_path: Path) -> None:
    """At 2026-11-11T00:00Z, against 99.9 % (room 1/1000), with the default alerts:
    page 1h/5m:    3 bad of 12 -> 250;  1 of 1 -> 1000;  factor 2% x 720 / 1 = 14.4
    page 6h/30m:   3 of 5 + 12 = 17 -> 3000/17;  1 of 6 -> 1000/6;  factor 6
    ticket 3d/6h:  3 of 71 + 12 = 83 -> 3000/83;  3000/17;  factor 1."""
    report = run(tmp_path, agreement(AVAILABILITY), {"requests": burning_requests()},
                 "2026-11-11T00:00:00Z")
    r = row(report, "availability")
    got = [(c.alert.severity, c.factor, c.long.rate, c.short.rate, c.firing) for c in r.alerts]
    assert got == [
        ("page", Fraction(72, 5), 250, 1000, True),
        ("page", 6, Fraction(3000, 17), Fraction(1000, 6), True),
        ("ticket", 1, Fraction(3000, 83), Fraction(3000, 17), True),
    ]
    long, short = r.alerts[0].long, r.alerts[0].short
    assert (long.bad, long.total, short.bad, short.total) == (3, 12, 1, 1)
    assert (long.start_us, short.start_us) == (
        slang_us("2026-11-10T23:00:00Z"), slang_us("2026-11-10T23:55:00Z"))


def slang_us(text: str) -> int:
    return int(ts(text).timestamp()) * US


def test_a_clean_short_window_stops_the_alert(tmp_path: Path) -> None:
    """The burn is over: the last 5 minutes hold one good request, so the fast page is quiet
    though the hour's rate is still 250."""
    report = run(tmp_path, agreement(AVAILABILITY), {"requests": burning_requests(50)},
                 "2026-11-11T00:00:00Z")
    fast = row(report, "availability").alerts[0]
    assert (fast.long.rate, fast.short.rate, fast.firing) == (250, 0, False)


def test_a_window_with_nothing_counted_has_no_rate(tmp_path: Path) -> None:
    report = run(tmp_path, agreement(AVAILABILITY), {"requests": burning_requests()},
                 "2026-11-11T02:00:00Z")
    fast = row(report, "availability").alerts[0]
    assert (fast.long.rate, fast.short.rate, fast.firing) == (None, None, False)


def test_agreement_alerts_replace_the_defaults(tmp_path: Path) -> None:
    """`page 50% in 2h / 10m` on a monthly period: factor 0.5 x 720 / 2 = 180. The last two
    hours hold 1 + 12 requests, 3 bad: 3000/13 > 180; the last 10 minutes 2, 1 bad: 500."""
    policy = agreement(AVAILABILITY, extra="  burn_rate { page 50% in 2h / 10m }")
    report = run(tmp_path, policy, {"requests": burning_requests()}, "2026-11-11T00:00:00Z")
    (c,) = row(report, "availability").alerts
    assert (c.factor, c.long.rate, c.short.rate, c.firing) == (180, Fraction(3000, 13), 500,
                                                               True)


def test_uptime_window_rate(tmp_path: Path) -> None:
    """Down for the last 30 minutes before as-of, against 99.9 %: the 1 h window is half
    down (500), the 5 min window wholly (1000)."""
    policy = agreement("""
  objective up {
    indicator uptime(incidents)
    target    >= 99.9%
  }""")
    incidents = {"started_at": ["2026-11-10T23:30:00Z"], "resolved_at": [None]}
    report = run(tmp_path, policy, {"incidents": incidents}, "2026-11-11T00:00:00Z")
    fast = row(report, "up").alerts[0]
    assert (fast.long.rate, fast.short.rate, fast.firing) == (500, 1000, True)


# -------------------------------------------------------------------------------- the report


def test_rows_are_sorted_by_urgency_and_carry_the_recipients(tmp_path: Path) -> None:
    """`burning` meets 98 % (3 bad of 251) but its 6 h page fires: (3/17) / (2/100) = 8.8
    and (1/6) / (2/100) = 8.3, both above 6; its recipients hear of it as of `at_risk`."""
    policy = agreement("""
  objective breached_count {
    indicator count(requests)
    target    <= 100
  }
  objective quiet {
    indicator ratio(requests where status < 600)
    target    >= 90%
  }
  objective burning {
    indicator ratio(requests where status < 500)
    target    >= 98%
  }
  objective at_risk_soon {
    indicator ratio(requests where status < 500)
    target    >= 99.9%
  }""", extra='  notify "ops@x.example" on breach, at_risk')
    report = run(tmp_path, policy, {"requests": burning_requests()}, "2026-11-11T00:00:00Z")
    order = [(r.result.objective.name, r.result.status, bool(r.firing)) for r in report.rows]
    assert order == [
        ("breached_count", "breached", False),
        ("at_risk_soon", "at_risk", True),
        ("burning", "met", True),
        ("quiet", "met", False),
    ]
    assert [r.notify for r in report.rows] == [("ops@x.example",)] * 3 + [()]
    doc = to_dict(report)
    assert doc["summary"] == {"agreements": 1, "objectives": 4, "breached": 1, "at_risk": 1,
                              "no_data": 0, "met": 2, "firing_page": 2, "firing_ticket": 2}
    assert [report.failing(level) for level in ("breach", "at_risk", "page", "ticket",
                                                "never")] == [True, True, True, True, False]


def test_json_row_and_text(tmp_path: Path) -> None:
    report = run(tmp_path, agreement(AVAILABILITY), {"requests": ten_days_of_requests()},
                 "2026-11-11T00:00:00Z")
    (r,) = to_dict(report)["objectives"]
    assert {k: r[k] for k in ("status", "measured", "projected", "burn_rate",
                              "budget_remaining", "exhaustion", "time_to_exhaustion_s")} == {
        "status": "at_risk", "measured": 0.998, "projected": 0.998, "burn_rate": 2.0,
        "budget_remaining": 1 / 3, "exhaustion": "2026-11-16T00:00:00Z",
        "time_to_exhaustion_s": 5 * 86400}
    assert r["alerts"][0] == {"severity": "page", "budget": 0.02, "long_window": "1h",
                              "short_window": "5m", "factor": 14.4, "long_rate": 0.0,
                              "short_rate": None, "firing": False}
    text = render_text(report)
    assert "a          availability  2026-11  at_risk  99.8%     99.8%      >= 99.9%  33.3%  " \
        "      2026-11-16T00:00:00Z (in 5d 0h)" in text
    assert text.endswith("1 objectives of 1 agreements: 0 breached, 1 at risk, 0 no data, "
                         "0 met; alerts firing: 0 page, 0 ticket\n")


# ----------------------------------------------------------------------------------- the CLI


def test_cli_exit_codes_and_formats(tmp_path: Path) -> None:
    path, data = write_estate(tmp_path, agreement(AVAILABILITY),
                              {"requests": burning_requests(50)})
    args = ["status", str(path), "--data", f"requests={data['requests']}",
            "--as-of", "2026-11-11T00:00:00Z"]
    runner = CliRunner()
    at_risk = runner.invoke(main, args)
    assert at_risk.exit_code == 1, at_risk.output
    assert at_risk.output.startswith("slang status as of 2026-11-11T00:00:00Z\n")
    assert runner.invoke(main, [*args, "--no-fail"]).exit_code == 0
    assert runner.invoke(main, [*args, "--fail-on", "breach"]).exit_code == 0
    as_json = runner.invoke(main, [*args, "--format", "json", "--no-fail"])
    doc = json.loads(as_json.output)
    assert doc["objectives"][0]["status"] == "at_risk"
    md = runner.invoke(main, [*args, "--format", "markdown", "--no-fail"]).output
    assert md.startswith("# Service level status as of 2026-11-11T00:00:00Z\n")
    assert "| a | availability | 2026-11 | **at_risk** |" in md
    again = runner.invoke(main, [*args, "--format", "json", "--no-fail"])
    assert again.output == as_json.output  # deterministic


def test_cli_missing_table_is_a_coded_error(tmp_path: Path) -> None:
    path, _ = write_estate(tmp_path, agreement(AVAILABILITY), {})
    result = CliRunner().invoke(main, ["status", str(path), "--as-of", "2026-11-11T00:00:00Z"])
    assert result.exit_code == 2
    assert "SLG0609" in result.output



REPO = Path(__file__).resolve().parent.parent


def test_demo_partner_api_is_at_risk_in_november(demo_bindings: Path) -> None:
    """The example estate at 2026-11-15: the partner API's availability is the only objective
    at risk, first in the list, with its budget running out on the 19th."""
    result = CliRunner().invoke(main, ["status", str(REPO / "policies"), "--bind",
                                       str(demo_bindings), "--as-of", "2026-11-15T00:00:00Z",
                                       "--format", "json"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.output)
    validator("status.schema.json").validate(doc)
    first = doc["objectives"][0]
    assert (first["agreement"], first["objective"], first["status"]) == (
        "partner_api_us", "availability", "at_risk")
    assert first["exhaustion"].startswith("2026-11-19T")
    assert first["notify"] == ["partner-success@kestrel.example"]
    assert [o["status"] for o in doc["objectives"][1:]] == ["met"] * 21
    assert doc["not_running"] == ["checkout_retail_2025"]


def test_demo_partner_api_pages_during_the_order_feed_incident(demo_bindings: Path) -> None:
    result = CliRunner().invoke(main, ["status", str(REPO / "policies"), "--bind",
                                       str(demo_bindings), "--as-of", "2026-11-12T19:00:00Z"])
    assert result.exit_code == 1, result.output
    assert "partner_api_us.availability: page 2% in 1h / 5m:" in result.output


# ------------------------------------------------------------------------------ properties

WINDOW_MINUTES = 3 * 24 * 60


@settings(max_examples=25, deadline=None)
@example(rows=[(1003, False)], as_of_minute=1003)  # a row exactly at --as-of is outside
@given(st.lists(st.tuples(st.integers(0, WINDOW_MINUTES), st.booleans()), min_size=1,
                max_size=60),
       st.integers(1, WINDOW_MINUTES))
def test_window_rates_match_a_row_by_row_count(rows: list[tuple[int, bool]],
                                               as_of_minute: int) -> None:
    """Each default alert's long and short rates are (bad / total) / (1 - t) over exactly the
    rows in `[as_of - window, as_of)`, counted here one row at a time."""
    rows = sorted(rows)
    # whole minutes, exactly: m / 60 hours through a float can land a microsecond early
    minutes = np.array([m for m, _ in rows], dtype="timedelta64[m]")
    times = NOV + minutes.astype("timedelta64[us]")
    codes = [500 if bad else 200 for _, bad in rows]
    with tempfile.TemporaryDirectory() as tmp:
        report = run(Path(tmp), agreement(AVAILABILITY), {"requests": {"ts": times,
                                                                       "status": codes}},
                     (dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
                      + dt.timedelta(minutes=as_of_minute)).isoformat())
    for check in row(report, "availability").alerts:
        for length, got in ((check.alert.long_window, check.long),
                            (check.alert.short_window, check.short)):
            start = as_of_minute - length // dt.timedelta(minutes=1)
            inside = [bad for m, bad in rows if max(start, 0) <= m < as_of_minute]
            want = (Fraction(sum(inside), len(inside)) * 1000) if inside else None
            assert got.rate == want, (check.alert, length)
