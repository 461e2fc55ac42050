"""Batched SQL queries: evaluations of one objective template share a grouped query.

Three agreements on three services run the same two objectives (a ratio and a p50) in
different time zones, one with business hours, one with a plain exclusion and an `as available`
maintenance window. Each objective is ONE query for the three of them (the counted-time table
carries the evaluation, its key and its pieces); the values are computed by hand here.
A property test then draws several daily agreements sharing objectives, each in its own zone
with its own hours and exclusions, and compares every report field with the Arrow engine.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import slang
from slang.engine.audit import PeriodChoice, audit
from slang.engine.sql import executor as sql_executor

from . import reference as ref
from .conftest import HEADER, Estate, agreement, table, ts
from .test_reference import (
    AUTUMN,
    EVENT_SCHEMA,
    MAINTENANCE_SCHEMA,
    OTHER,
    SERVICE,
    SPRING,
    ZONES,
    Window,
    calendar_text,
    calendars,
    event_rows,
    exclusion_text,
    exclusions,
    indicator_text,
    interval_rows,
    objectives,
    quantity,
    ratios,
    sliced,
    value_unit,
    values,
    write_table,
)

pytest.importorskip("duckdb", reason="the duckdb extra (pip install 'slang[duckdb]') is absent")

OBJECTIVES = """
  objective avail {
    indicator ratio(requests where status < 500)
    target    >= 50%
  }
  objective p50 {
    indicator percentile(requests.latency_ms, 50)
    target    <= 1s
  }
"""

POLICY = HEADER + f"""
calendar office {{
  timezone "America/New_York"
  hours    mon-fri 09:00-17:00
}}

agreement in_utc {{
  service svc
  status agreed
  timezone "UTC"
  period daily
{OBJECTIVES}}}

agreement in_new_york {{
  service other
  status agreed
  timezone "America/New_York"
  period daily
  hours office
{OBJECTIVES}}}

agreement in_kolkata {{
  service keyed
  status agreed
  timezone "Asia/Kolkata"
  period daily
  exclude 2026-10-05T00:00:00Z .. 2026-10-05T01:00:00Z "migration"
  exclude maintenance "upgrade" as available
{OBJECTIVES}}}
"""

# (UTC instant, service, status, latency_ms); the day audited is Monday 2026-10-05 in each
# agreement's zone: UTC [05 00:00Z, 06 00:00Z); New York (EDT) [05 04:00Z, 06 04:00Z) with
# office hours [13:00Z, 21:00Z); Kolkata (+05:30) [04 18:30Z, 05 18:30Z)
ROWS = [
    ("2026-10-04T23:00:00Z", "svc", 200, 10.0),  # the day before in UTC
    ("2026-10-05T00:30:00Z", "svc", 500, 50.0),
    ("2026-10-05T06:30:00Z", "svc", 200, 20.0),
    ("2026-10-05T14:00:00Z", "svc", 200, 30.0),
    ("2026-10-05T23:59:00Z", "svc", 503, 40.0),
    ("2026-10-05T02:00:00Z", "other", 200, 45.0),  # 22:00 on Sunday in New York
    ("2026-10-05T12:59:00Z", "other", 200, 5.0),  # 08:59: before office hours
    ("2026-10-05T13:00:00Z", "other", 200, 15.0),
    ("2026-10-05T16:00:00Z", "other", 200, 55.0),
    ("2026-10-05T20:59:59Z", "other", 500, 25.0),
    ("2026-10-05T21:00:00Z", "other", 200, 35.0),  # 17:00: office hours have ended
    ("2026-10-04T18:00:00Z", "keyed-v2", 200, 1.0),  # 23:30 on Sunday in Kolkata
    ("2026-10-04T18:30:00Z", "keyed-v2", 500, 2.0),  # Monday 00:00 in Kolkata
    ("2026-10-05T00:30:00Z", "keyed-v2", 200, 3.0),  # excluded (migration)
    ("2026-10-05T06:30:00Z", "keyed-v2", 500, 4.0),  # as available: good; no value
    ("2026-10-05T12:00:00Z", "keyed-v2", 200, 6.0),
    ("2026-10-05T18:30:00Z", "keyed-v2", 200, 7.0),  # Tuesday 00:00 in Kolkata
]


def _audit(estate: Estate, engine: str) -> dict[tuple[str, str], dict[str, Any]]:
    estate.root.mkdir(parents=True, exist_ok=True)
    (estate.root / "estate.sla").write_text(POLICY)
    import pyarrow.parquet as pq

    requests = estate.root / "requests.parquet"
    pq.write_table(table({"ts": [r[0] for r in ROWS], "service": [r[1] for r in ROWS],
                          "status": [r[2] for r in ROWS], "latency_ms": [r[3] for r in ROWS]}),
                   requests)
    maintenance = estate.root / "maintenance.parquet"
    pq.write_table(table({"start": ["2026-10-05T06:00:00Z", "2026-10-05T14:00:00Z"],
                          "end": ["2026-10-05T07:00:00Z", "2026-10-05T15:00:00Z"],
                          "service": ["keyed-v2", "svc"], "approved": [True, True]}),
                   maintenance)
    model = slang.load([estate.root / "estate.sla"])
    assert not model.errors, [str(e) for e in model.errors]
    report = audit(model, {"requests": str(requests), "maintenance": str(maintenance)},
                   choice=PeriodChoice(period="2026-10-05"), as_of=ts("2026-10-10T00:00:00Z"),
                   engine=engine)
    return {(r["agreement"], r["objective"]): r for r in report.to_dict()["results"]}


def test_agreements_in_one_batch_keep_their_zone_hours_and_exclusions(
        estate: Estate, monkeypatch: pytest.MonkeyPatch) -> None:
    batches: list[list[str]] = []
    measure_batch = sql_executor.SqlExecutor._measure_batch

    def spy(self: sql_executor.SqlExecutor, batch: list[Any]) -> None:
        batches.append([ev.id for ev in batch])
        measure_batch(self, batch)

    monkeypatch.setattr(sql_executor.SqlExecutor, "_measure_batch", spy)
    got = _audit(estate, "duckdb")
    names = ["in_utc", "in_new_york", "in_kolkata"]
    assert sorted(map(sorted, batches)) == [sorted(f"{a}.avail" for a in names),
                                            sorted(f"{a}.p50" for a in names)]
    # UTC: 00:30 (500), 06:30, 14:00, 23:59 (503); the maintenance row of svc is not its own
    assert (got["in_utc", "avail"]["good"], got["in_utc", "avail"]["total"]) == (2, 4)
    assert got["in_utc", "p50"]["measured"] == 30.0  # rank 2 of 20, 30, 40, 50
    # New York office hours: 13:00, 16:00, 20:59:59 (500)
    assert (got["in_new_york", "avail"]["good"], got["in_new_york", "avail"]["total"]) == (2, 3)
    assert got["in_new_york", "p50"]["measured"] == 25.0  # rank 2 of 15, 25, 55
    # Kolkata: 18:30 (500), 06:30 (500, as available: good, no value), 12:00; 00:30 excluded
    assert (got["in_kolkata", "avail"]["good"], got["in_kolkata", "avail"]["total"]) == (2, 3)
    assert got["in_kolkata", "p50"]["measured"] == 2.0  # rank 1 of 2, 6
    assert got == _audit(estate, "arrow")


@pytest.mark.slow
@pytest.mark.usefixtures("spark_session")
def test_spark_runs_the_same_batches(estate: Estate) -> None:
    """The same lowering on Spark: the batched queries give the hand-computed values."""
    got = _audit(estate, "spark")
    assert (got["in_new_york", "avail"]["good"], got["in_new_york", "avail"]["total"]) == (2, 3)
    assert got["in_kolkata", "p50"]["measured"] == 2.0
    assert got == _audit(estate, "arrow")


# ------------------------------------------------------------- differential, many agreements


@dataclass(frozen=True)
class Estate3:
    """Several daily agreements running the same objectives (so the SQL engine batches them)
    on two services, each in its own zone, with its own hours and exclusions."""

    agreements: tuple[ref.Agreement, ...]
    events: list[dict[str, Any]]
    maintenance: list[dict[str, Any]]
    w: Window
    as_of: dt.datetime

    def text(self) -> str:
        calendars: dict[ref.Calendar, str] = {}
        for a in self.agreements:
            if a.hours is not None and a.hours not in calendars:
                calendars[a.hours] = f"cal_{len(calendars) + 1}"
        out = [
            f'catalogue "Batches" {{ service {SERVICE} {{ title "Checkout" }} '
            f'service {OTHER} {{ title "Payments" }} }}',
            *(calendar_text(name, c) for c, name in calendars.items()),
            'events requests from "requests" { time ts key service units { latency_ms: ms } }',
            'intervals maintenance from "maintenance" { key service }',
        ]
        for n, a in enumerate(self.agreements):
            out += [f"agreement a{n} {{", f"  service {a.service_key}", "  status agreed",
                    f'  timezone "{a.timezone}"', "  period daily"]
            if a.hours is not None:
                out.append(f"  hours {calendars[a.hours]}")
            out += [f"  {exclusion_text(x, 0)}" for x in a.exclusions]
            for o in a.objectives:
                out += [f"  objective {o.name} {{",
                        f"    indicator {indicator_text(o.indicator)}",
                        f"    target {o.op} {quantity(o.target, value_unit(o.indicator))}",
                        "  }"]
            out.append("}")
        return "\n".join(out) + "\n"


@st.composite
def estates(draw: st.DrawFn) -> Estate3:
    w = draw(st.sampled_from([AUTUMN, SPRING]))
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    events = event_rows(rnd, w, draw(st.integers(0, 200)), SERVICE)
    maintenance = interval_rows(rnd, w, draw(st.integers(0, 6)), SERVICE, "approved",
                                (True, False, None))
    maintenance += interval_rows(rnd, w, draw(st.integers(0, 6)), OTHER, "approved",
                                 (True, False, None))
    ev, mnt = ref.EventSource(events), ref.IntervalSource(maintenance)
    family = draw(st.sampled_from(["plain", "plain", "sliced"]))
    indicator = (ratios(ev) | values(ev)) if family == "plain" else sliced(ev)
    objs = tuple(ref.Objective(o.name, o.indicator, o.op, o.target)
                 for o in [draw(objectives(f"o{i + 1}", indicator, w))
                           for i in range(draw(st.integers(1, 2)))])
    agreements = tuple(
        ref.Agreement(
            service_key=draw(st.sampled_from([SERVICE, OTHER])), objectives=objs,
            timezone=draw(st.sampled_from(ZONES)), period="daily",
            hours=draw(st.sampled_from([None, "cal"])) and draw(calendars(w)),
            exclusions=tuple(draw(st.lists(exclusions(w, mnt), max_size=2))))
        for _ in range(draw(st.integers(2, 4))))
    after = ref.from_us(w.hi) + dt.timedelta(days=2)
    as_of = draw(st.just(after) | st.integers(w.lo, w.hi).map(ref.from_us))
    return Estate3(agreements, events, maintenance, w, as_of)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(estates())
def test_batched_agreements_equal_the_arrow_engine(e: Estate3) -> None:
    """Every report field of agreements measured in shared queries equals the Arrow
    engine's, whatever their zones, hours, exclusions and `as available` time."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "policy.sla").write_text(e.text())
        write_table(e.events, EVENT_SCHEMA, d / "requests.parquet")
        write_table(e.maintenance, MAINTENANCE_SCHEMA, d / "maintenance.parquet")
        model = slang.load([str(d / "policy.sla")])
        assert not model.errors, [str(x) for x in model.errors]
        data = {t: d / f"{t}.parquet" for t in ("requests", "maintenance")}
        choice = PeriodChoice(date_from=e.w.first, date_to=e.w.last)
        arrow = audit(model, data, choice=choice, as_of=e.as_of).to_dict()
        duck = audit(model, data, choice=choice, as_of=e.as_of, engine="duckdb").to_dict()
    for a, b in zip(arrow["results"], duck["results"], strict=True):
        assert a == b, (e.text(), {k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)})
    assert arrow == duck


@pytest.mark.parametrize("values", [
    [-1e308, 1e308, 5e-324, -5e-324, 0.0, -0.0, 3.0, 1.7976931348623157e308],  # range overflows
    [2.5] * 7,  # one value: one bucket
    [1.0, 1.0 + 2**-52, 1.0 + 2**-51, 1e-300, 1e300],  # neighbours and a huge spread
    [float(v % 97) for v in range(2000)],  # many ties over many buckets
    # the column's range is not finite: the grid comes from the finite values instead
    [4.0, float("inf"), 1.0, float("nan"), -float("inf"), 3.0, 1e300, -2.0],
    [float("nan"), 7.0],
    [float("nan"), float("inf")],  # no usable value at all
])
def test_percentile_buckets_are_exact_for_extreme_values(estate: Estate,
                                                         values: list[float]) -> None:
    """The percentile passes' grid never changes a result: ranges that overflow a double,
    neighbouring doubles, a single repeated value; nearest rank and linear, against the
    Arrow engine and the sorted values."""
    qs = ["0.1", "12.5", "50", "95", "99.9", "100"]
    objectives = "\n".join(
        f"  objective n{i} {{ indicator percentile(requests.latency_ms, {q}) target <= 1s }}\n"
        f"  objective l{i} {{ indicator percentile(requests.latency_ms, {q}, method: linear) "
        "target <= 1s }"
        for i, q in enumerate(qs))
    policy = HEADER + agreement(objectives)
    estate.root.mkdir(parents=True, exist_ok=True)
    (estate.root / "estate.sla").write_text(policy)
    import pyarrow.parquet as pq

    path = estate.root / "requests.parquet"
    stamps = [f"2026-10-05T{10 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"
              for i in range(len(values))]
    pq.write_table(table({"ts": stamps, "latency_ms": values}), path)
    model = slang.load([estate.root / "estate.sla"])
    kw: dict[str, Any] = {"choice": PeriodChoice(period="2026-10"),
                          "as_of": ts("2026-11-02T00:00:00Z")}
    duck = audit(model, {"requests": str(path)}, engine="duckdb", **kw).to_dict()
    arrow = audit(model, {"requests": str(path)}, **kw).to_dict()
    assert duck == arrow
    ordered = sorted(v for v in values if math.isfinite(v))
    got = {r["objective"]: r["measured"] for r in duck["results"]}
    for i, q in enumerate(qs):
        if not ordered:
            assert got[f"n{i}"] is None and got[f"l{i}"] is None
            continue
        rank = max(1, -(-len(ordered) * int(float(q) * 10) // 1000))  # ceil(q n / 100)
        assert got[f"n{i}"] == ordered[rank - 1] or got[f"n{i}"] == ordered[rank - 1] == 0.0


@pytest.mark.parametrize("order", ["in time order", "out of order"])
def test_coverage_gap_streamed_in_file_order_or_sorted(estate: Estate, order: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The evidence's largest gap: read in file order in one pass when the files are in time
    order (row groups and files included), sorted otherwise; both as the Arrow reader finds
    it. Rows without a key or outside the audited range do not count."""
    import pyarrow.parquet as pq

    estate.root.mkdir(parents=True, exist_ok=True)
    (estate.root / "estate.sla").write_text(HEADER + agreement(
        "objective ok { indicator ratio(requests where status < 500) target >= 50% }"))
    seconds = [0, 5, 6, 400, 401, 4000, 4003, 90000, 90001]  # largest gap: 4003 -> 90000
    stamps = [f"2026-10-{5 + s // 86400:02d}T{s % 86400 // 3600:02d}:{s % 3600 // 60:02d}:"
              f"{s % 60:02d}Z" for s in seconds]
    rows = {"ts": ["2026-09-01T00:00:00Z", *stamps], "status": [200] * (len(stamps) + 1),
            "service": ["svc", *["svc"] * 3, None, *["svc"] * 5]}
    if order == "out of order":
        rows = {k: list(reversed(v)) for k, v in rows.items()}
    data = estate.root / "requests"
    data.mkdir()
    t = table(rows)
    pq.write_table(t.slice(0, 6), data / "a.parquet", row_group_size=2)
    pq.write_table(t.slice(6), data / "b.parquet", row_group_size=2)
    from slang.engine.sql import sources

    streamed: list[int | None] = []
    in_file_order = sources._gap_in_file_order

    def spy(*args: Any) -> int | None:
        streamed.append(in_file_order(*args))
        return streamed[-1]

    monkeypatch.setattr(sources, "_gap_in_file_order", spy)
    model = slang.load([estate.root / "estate.sla"])
    kw: dict[str, Any] = {"choice": PeriodChoice(period="2026-10"),
                          "as_of": ts("2026-11-02T00:00:00Z")}
    duck = audit(model, {"requests": str(data)}, engine="duckdb", **kw).to_dict()
    arrow = audit(model, {"requests": str(data)}, **kw).to_dict()
    assert duck == arrow
    # one pass in file order when the files are in time order; otherwise the sort
    assert streamed == ([85997 * 1_000_000] if order == "in time order" else [None])
    (evidence,) = duck["evidence"]["data"]
    assert evidence["coverage"]["largest_gap_s"] == 85997
