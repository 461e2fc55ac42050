"""`slang diagnose`: worst local hours and days and `--by` groups, against hand-computed values.

The agreement is in New York (UTC-5 in November 2026, after DST ended on the 1st), so local
buckets differ from UTC ones: 2026-11-04T02:30Z is still the 3rd, 21:30 local.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

import slang
from slang.cli import main
from slang.diagnose import Diagnosis, diagnose
from slang.diagnose.render import render_text, to_dict
from tests.engine.conftest import agreement, ts
from tests.test_status import REPO, write_estate

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
    return diagnose(model, data, agreement="a", as_of=ts(AS_OF), **kw)  # type: ignore[arg-type]


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


@pytest.fixture(scope="module")
def demo_bindings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert CliRunner().invoke(main, ["demo", str(out)]).exit_code == 0
    return out / "bindings.yaml"


def test_demo_partner_api_bad_events_come_from_the_order_feed_on_the_12th(
        demo_bindings: Path) -> None:
    """The example estate at 2026-11-15: the partner API's at-risk availability lost most of
    its good slices to the order feed's load shedding on Thursday 12 November."""
    result = CliRunner().invoke(main, [
        "diagnose", str(REPO / "policies"), "--bind", str(demo_bindings),
        "--agreement", "partner_api_us", "--by", "route", "--as-of", "2026-11-15T00:00:00Z",
        "--format", "json"])
    assert result.exit_code == 0, result.output
    (o,) = json.loads(result.output)["objectives"]
    assert (o["objective"], o["status"]) == ("availability", "at_risk")
    assert o["worst_days"][0]["label"] == "2026-11-12"
    assert o["worst_days"][0]["share_of_bad"] > 0.9
    assert o["groups"][0]["values"] == {"route": "/v1/orders/feed"}
