"""`slang diagnose`: worst local hours and days and `--by` groups, against hand-computed values.

The agreement is in New York (UTC-5 in November 2026, after DST ended on the 1st), so local
buckets differ from UTC ones: 2026-11-04T02:30Z is still the 3rd, 21:30 local.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import slang
from slang.cli import main
from slang.diagnose import Diagnosis, diagnose
from slang.diagnose import buckets as bk
from slang.diagnose.render import render_text, to_dict
from slang.engine import intervals as iv
from tests.engine.conftest import agreement, ts
from tests.test_status import REPO, validator, write_estate

AS_OF = "2026-11-06T00:00:00Z"

RATIO = agreement("""
  objective availability {
    indicator ratio(requests where status < 500)
    target    >= 99%
  }
  objective quiet {
    indicator count(requests)
    target    <= 1000
  }""", timezone="America/New_York")


def requests() -> dict[str, list[object]]:
    """100 requests, 6 bad:
    10 at 2026-11-03T15:10Z (10:10 local): 5 eu (3 bad), 5 us (1 bad);
    10 at 2026-11-04T02:30Z (the 3rd, 21:30 local): all us, 2 bad;
    80 good at 2026-11-05T12:00Z: 40 eu, 40 us."""
    times = (["2026-11-03T15:10:00Z"] * 10 + ["2026-11-04T02:30:00Z"] * 10
             + ["2026-11-05T12:00:00Z"] * 80)
    regions = ["eu"] * 5 + ["us"] * 5 + ["us"] * 10 + ["eu"] * 40 + ["us"] * 40
    codes = [500, 500, 500, 200, 200, 503, 200, 200, 200, 200] + [500, 500] + [200] * 88
    return {"ts": times, "region": regions, "status": codes}


def run(tmp_path: Path, policy: str, tables: dict, **kw: object) -> Diagnosis:
    path, data = write_estate(tmp_path / "estate", policy, tables)
    model = slang.load([path])
    assert not model.errors, [str(d) for d in model.errors]
    found = diagnose(model, data, agreement="a", as_of=ts(AS_OF), **kw)  # type: ignore[arg-type]
    validator("diagnose.schema.json").validate(to_dict(found))
    return found


def test_ratio_worst_days_hours_and_regions(tmp_path: Path) -> None:
    """6 bad of 100 against 99 %: budget so far (1 - 0.99) x 100 = 1 event, 600 % spent.
    Local 3 November holds all 6 (of 20); its 10:00 hour 4 (of 10), its 21:00 hour 2 (of 10).
    eu and us have 3 bad each (of 45 and 55): a tie, in the order of the values."""
    d = run(tmp_path, RATIO, {"requests": requests()}, by=("region",))
    assert (d.period.label, d.period.complete) == ("2026-11", False)
    (o,) = d.objectives  # `quiet` is met: not diagnosed unless asked
    assert (o.result.objective.name, o.result.status) == ("availability", "at_risk")
    assert (o.unit, o.bad, o.total, o.allowed) == ("events", 6, 100, 1)
    assert [(b.label, b.bad, b.total) for b in o.worst_days] == [("2026-11-03", 6, 20)]
    assert (o.worst_days[0].start_us, o.worst_days[0].end_us) == (
        us("2026-11-03T05:00:00Z"), us("2026-11-04T05:00:00Z"))
    assert [(b.label, b.bad, b.total) for b in o.worst_hours] == [
        ("2026-11-03T10:00-05:00", 4, 10), ("2026-11-03T21:00-05:00", 2, 10)]
    assert [(b.values, b.bad, b.total) for b in o.groups] == [(("eu",), 3, 45),
                                                             (("us",), 3, 55)]
    doc = to_dict(d)["objectives"][0]
    assert (doc["share_of_budget"], doc["worst_days"][0]["share_of_budget"]) == (6.0, 6.0)
    assert doc["worst_hours"][0]["share_of_bad"] == 4 / 6
    assert doc["groups"][0] == {"label": "eu", "values": {"region": "eu"}, "bad": 3,
                                "total": 45, "share_of_bad": 0.5, "share_of_budget": 3.0}


def us(text: str) -> int:
    return int(ts(text).timestamp()) * 1_000_000


def test_top_limits_every_list(tmp_path: Path) -> None:
    d = run(tmp_path, RATIO, {"requests": requests()}, by=("region",), top=1)
    (o,) = d.objectives
    assert (len(o.worst_hours), [b.values for b in o.groups]) == (1, [("eu",)])


def test_an_objective_named_is_diagnosed_whatever_its_status(tmp_path: Path) -> None:
    """For `count` every counted row counts against the target."""
    d = run(tmp_path, RATIO, {"requests": requests()}, objective="quiet")
    (o,) = d.objectives
    assert (o.result.status, o.bad, o.allowed) == ("met", 100, None)
    assert [(b.label, b.bad) for b in o.worst_days] == [("2026-11-05", 80), ("2026-11-03", 20)]


def test_latency_rows_above_the_target_are_the_bad_ones(tmp_path: Path) -> None:
    policy = agreement("""
  objective p90 {
    indicator p90(requests.latency_ms)
    target    <= 300ms
  }""", timezone="America/New_York")
    tables = {"requests": {"ts": ["2026-11-03T15:10:00Z"] * 4 + ["2026-11-05T12:00:00Z"] * 2,
                           "latency_ms": [100.0, 301.0, 900.0, 300.0, 500.0, 50.0]}}
    d = run(tmp_path, policy, tables, objective="p90")
    (o,) = d.objectives
    assert (o.bad, o.total) == (3, 6)  # 301, 900 and 500: above 300 ms; 300 meets it
    assert [(b.label, b.bad, b.total) for b in o.worst_days] == [("2026-11-03", 2, 4),
                                                                ("2026-11-05", 1, 2)]


UPTIME = agreement("""
  objective up {
    indicator uptime(incidents)
    target    >= 99%
  }""", timezone="America/New_York")


def test_uptime_downtime_per_local_hour_day_and_severity(tmp_path: Path) -> None:
    """Down 14:30-16:15Z on the 3rd (09:30-11:15 local, sev1; a sev2 15:00-15:30Z inside it)
    and 04:50-05:10Z on the 4th (23:50-00:10 local, sev2): D = 105 + 20 min = 7500 s. The
    counted time so far is 2026-11-01T04:00Z to 2026-11-06T00:00Z, 116 h: budget 4176 s."""
    incidents = {
        "started_at": ["2026-11-03T14:30:00Z", "2026-11-03T15:00:00Z", "2026-11-04T04:50:00Z"],
        "resolved_at": ["2026-11-03T16:15:00Z", "2026-11-03T15:30:00Z", "2026-11-04T05:10:00Z"],
        "severity": ["sev1", "sev2", "sev2"],
    }
    d = run(tmp_path, UPTIME, {"incidents": incidents}, by=("severity",))
    (o,) = d.objectives
    assert (o.result.status, o.unit, o.bad, o.total, o.allowed) == (
        "at_risk", "seconds", 7500, 116 * 3600, Fraction(4176))
    assert [(b.label, b.bad, b.total) for b in o.worst_days] == [
        ("2026-11-03", 6900, 86400), ("2026-11-04", 600, 86400)]
    assert [(b.label, b.bad) for b in o.worst_hours] == [
        ("2026-11-03T10:00-05:00", 3600), ("2026-11-03T09:00-05:00", 1800),
        ("2026-11-03T11:00-05:00", 900), ("2026-11-03T23:00-05:00", 600),
        ("2026-11-04T00:00-05:00", 600)]
    # each interval's own downtime: sev1 105 min; sev2 30 + 20 min (overlap counted for both)
    assert [(b.values, b.bad, b.total) for b in o.groups] == [(("sev1",), 6300, 1),
                                                             (("sev2",), 3000, 2)]


def test_nothing_to_diagnose_says_so(tmp_path: Path) -> None:
    tables = {"requests": {"ts": ["2026-11-03T15:10:00Z"], "status": [200]}}
    d = run(tmp_path, RATIO, tables)
    assert d.objectives == []
    assert "nothing is breached or at risk in a 2026-11" in render_text(d)


def test_a_past_period_by_label(tmp_path: Path) -> None:
    tables = {"requests": {"ts": ["2026-10-03T15:10:00Z", "2026-10-03T15:20:00Z"],
                           "status": [500, 200]}}
    d = run(tmp_path, RATIO, tables, period="2026-10")
    (o,) = d.objectives
    assert (d.period.label, d.period.complete, o.result.status) == ("2026-10", True, "breached")
    assert [(b.label, b.bad) for b in o.worst_hours] == [("2026-10-03T11:00-04:00", 1)]


# ------------------------------------------------------------------------------------ the CLI


def test_cli_text_json_and_markdown(tmp_path: Path) -> None:
    path, data = write_estate(tmp_path, RATIO, {"requests": requests()})
    args = ["diagnose", str(path), "--data", f"requests={data['requests']}", "--agreement", "a",
            "--by", "region", "--as-of", AS_OF]
    runner = CliRunner()
    text = runner.invoke(main, args)
    assert text.exit_code == 0, text.output
    assert text.output.splitlines()[:4] == [
        "slang diagnose a 2026-11 (running), America/New_York, as of 2026-11-06T00:00:00Z",
        "",
        "availability: at_risk, measured 94%, target >= 99%",
        "6 bad events of 100 events; error budget so far 1, 600.0% spent",
    ]
    assert "  2026-11-03  6    20     100.0%        600.0%" in text.output
    doc = json.loads(runner.invoke(main, [*args, "--format", "json"]).output)
    assert doc["objectives"][0]["by"] == ["region"]
    md = runner.invoke(main, [*args, "--format", "markdown"]).output
    assert md.startswith("# slang diagnose a 2026-11 (running)")
    assert "| eu | 3 | 45 | 50.0% | 300.0% |" in md



def test_demo_partner_api_bad_events_come_from_the_order_feed_on_the_12th(
        demo_bindings: Path) -> None:
    """The example estate at 2026-11-15: the partner API's at-risk availability lost most of
    its good slices to the order feed's load shedding on Thursday 12 November."""
    result = CliRunner().invoke(main, [
        "diagnose", str(REPO / "policies"), "--bind", str(demo_bindings),
        "--agreement", "partner_api_us", "--by", "route", "--as-of", "2026-11-15T00:00:00Z",
        "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    validator("diagnose.schema.json").validate(doc)
    (o,) = doc["objectives"]
    assert (o["objective"], o["status"]) == ("availability", "at_risk")
    assert o["worst_days"][0]["label"] == "2026-11-12"
    assert o["worst_days"][0]["share_of_bad"] > 0.9
    assert o["groups"][0]["values"] == {"route": "/v1/orders/feed"}


def test_help_examples_run_on_the_example_estate(demo_bindings: Path) -> None:
    """`slang diagnose --help`'s examples name the example estate's agreements; copied with
    its bindings, each runs (a `--by` column its data lacks would be SLG0722, exit 2)."""
    epilog = CliRunner().invoke(main, ["diagnose", "--help"]).output.split("Examples:")[1]
    commands = [c.split() for c in epilog.replace("\\\n", " ").splitlines() if "slang" in c]
    assert len(commands) == 2
    for words in commands:
        args = [str(REPO / "policies") if w == "policies/" else
                str(demo_bindings) if w == "bindings.yaml" else w for w in words[2:]]
        if "--as-of" not in args:
            args += ["--as-of", "2026-11-15T00:00:00Z"]
        result = CliRunner().invoke(main, ["diagnose", *args])
        assert result.exit_code == 0, (words, result.output)


# ------------------------------------------------------------------------------ properties

ZONES = ("UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Adelaide")
# around the 2026 DST changes of both hemispheres
WINDOWS = (("2026-03-27T00:00:00Z", "2026-04-07T00:00:00Z"),
           ("2026-10-23T00:00:00Z", "2026-11-03T00:00:00Z"))


@st.composite
def instants(draw: st.DrawFn) -> tuple[str, np.ndarray]:
    lo, hi = (us(t) for t in draw(st.sampled_from(WINDOWS)))
    minutes = draw(st.lists(st.integers(0, (hi - lo) // 60_000_000 - 1), min_size=1,
                            max_size=40))
    return draw(st.sampled_from(ZONES)), np.sort(lo + np.array(minutes, np.int64) * 60_000_000)


@settings(max_examples=60, deadline=None)
@given(instants())
def test_local_day_and_hour_counts_match_a_row_by_row_oracle(
        case: tuple[str, np.ndarray]) -> None:
    tz, t = case
    zone = ZoneInfo(tz)
    local = [dt.datetime.fromtimestamp(x / 1e6, dt.UTC).astimezone(zone) for x in t.tolist()]
    lo, hi = int(t[0]), int(t[-1]) + 1
    days, hours = bk.day_edges(tz, lo, hi), bk.hour_edges(tz, lo, hi)
    by_day = {bk.day_label(tz, int(days[i])): int(n)
              for i, n in enumerate(bk.count_in(days, t)) if n}
    by_hour = {bk.hour_label(tz, int(hours[i])): int(n)
               for i, n in enumerate(bk.count_in(hours, t)) if n}
    assert by_day == Counter(x.date().isoformat() for x in local)
    assert by_hour == Counter(x.strftime("%Y-%m-%dT%H:00") + bk._offset(x.utcoffset())
                              for x in local)


@settings(max_examples=60, deadline=None)
@given(instants(), st.lists(st.tuples(st.integers(0, 600), st.integers(1, 300)), max_size=6))
def test_time_in_buckets_matches_interval_overlaps(case: tuple[str, np.ndarray],
                                                   pieces: list[tuple[int, int]]) -> None:
    tz, t = case
    lo = int(t[0])
    starts = [lo + a * 60_000_000 for a, _ in pieces]
    ends = [s + b * 60_000_000 for s, (_, b) in zip(starts, pieces, strict=True)]
    down = iv.normalize(np.array(starts, np.int64), np.array(ends, np.int64))
    edges = bk.hour_edges(tz, lo, lo + 901 * 60_000_000)
    got = bk.time_in(edges, down)
    want = [sum(max(0, min(int(e), int(edges[i + 1])) - max(int(s), int(edges[i])))
                for s, e in zip(down.starts, down.ends, strict=True))
            for i in range(len(edges) - 1)]
    assert got.tolist() == want


def test_by_the_key_column_and_a_time_column(tmp_path: Path) -> None:
    """The key column is dictionary-encoded when read; groups still sort by their values, and
    instants are labelled in RFC 3339."""
    d = run(tmp_path, RATIO, {"requests": requests()}, by=("service", "ts"), top=2)
    (o,) = d.objectives
    assert [(b.label, b.bad) for b in o.groups] == [
        ("svc, 2026-11-03T15:10:00Z", 4), ("svc, 2026-11-04T02:30:00Z", 2)]


def test_a_column_named_twice_groups_once(tmp_path: Path) -> None:
    d = run(tmp_path, RATIO, {"requests": requests()}, by=("region", "region"))
    (o,) = d.objectives
    assert (o.by, [b.values for b in o.groups]) == (("region",), [("eu",), ("us",)])


def test_a_misspelt_by_column_is_an_error_even_when_nothing_needs_diagnosing(
        demo_bindings: Path) -> None:
    """October's partner API met its targets, so there is nothing to break down; `--by
    rout` is still refused (SLG0722, exit 2) instead of passing silently."""
    args = ["diagnose", str(REPO / "policies"), "--bind", str(demo_bindings),
            "--agreement", "partner_api_us", "--period", "2026-10",
            "--as-of", "2026-11-15T00:00:00Z"]
    assert CliRunner().invoke(main, args).exit_code == 0
    result = CliRunner().invoke(main, [*args, "--by", "rout"])
    assert result.exit_code == 2, result.output
    assert "error[SLG0722]: --by column `rout` is not a column of source" in result.output
    assert "did you mean `route`?" in result.output
