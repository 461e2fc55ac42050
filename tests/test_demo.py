"""The example data set (`slang.demo`): deterministic, shaped like the estate's sources, and
telling the story the docs and the engine's tests rely on.

The engine that evaluates agreements is written concurrently, so the story is checked here by
hand: rows are counted with numpy/pyarrow following each agreement's conditions, hours and
exclusions as written in `policies/`. With the default arguments (seed 7, 2026-08-01 to
2026-11-15, scale 1.0) and `--as-of 2026-11-15T00:00:00Z` the data gives:

* checkout_retail, 2026-10 (London, 745 h): availability 37 244 / 37 350 = 99.716 %
  (106 server errors, 86 of them in the outage of 15 October) -> breached, 10 % credit tier
  (not below 99.0 %); uptime 99.776 % (the 99-minute sev1) -> breached too, 15 % tier.
  2026-08: 36 756 / 36 768 = 99.967 %, 2026-09: 99.978 %, 2026-11 so far: 99.976 %.
* partner_api_us, 2026-11 (New York, running): 5-minute slice mean 99.833 % over the 3 972
  slices so far (the order feed's two hours of 503s; one maintenance hour excluded) -> at
  risk; if the rest of the month is clean it ends at 99.923 % of 8 640 slices -> it can still
  recover. August to October: 99.985 % to 99.991 %.
* support_desk_retail, months: P1 100 %, P2 >= 95.5 %, P3 >= 93.8 %, at most 5 escalated
  complaints; storefront_ie: 99.956 % (Q3, August and September), 99.961 % (Q4 so far), mean
  GET 158 ms; storefront_experience, 28 days to the as-of: 45 635 / 45 652 = 99.963 %.
* everything else meets its targets (the ratios, uptimes and values checked below).

The exact figures are asserted loosely (ranges) so that harmless changes to the generator do
not need this docstring rewritten; rerun `python -m slang.demo` and update it when they move.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq
import pytest

import slang
from slang import demo
from slang.semantics.model import Calendar, Model, Source, WeeklyWindow
from slang.syntax import ast

REPO = Path(__file__).resolve().parent.parent
US = 1_000_000
MINUTE = 60 * US
HOUR = 3600 * US
DAY = 24 * HOUR
AS_OF = dt.datetime(2026, 11, 15, tzinfo=dt.UTC)
AS_OF_US = int(AS_OF.timestamp()) * US


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return demo.generate(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def model() -> Model:
    model = slang.load([REPO / "policies"])
    assert model.ok, [str(d) for d in model.errors]
    return model


_TABLES: dict[Path, pa.Table] = {}


def read(path: Path, time_columns: tuple[str, ...] = ()) -> pa.Table:
    """Read a generated file as the engine would, by its extension."""
    if path not in _TABLES:
        if path.suffix == ".parquet":
            table = pq.read_table(path)
        elif path.suffix == ".csv":
            table = pa_csv.read_csv(path)
        elif path.suffix == ".jsonl":
            # pyarrow's JSON reader would infer *naive* timestamps from "...Z" strings: declare
            # the time columns aware, as a reader that knows the source's time form does.
            schema = pa.schema([(c, pa.timestamp("s", tz="UTC")) for c in time_columns])
            opts = pa_json.ParseOptions(explicit_schema=schema)
            table = pa_json.read_json(path, parse_options=opts)
        elif path.suffix == ".arrow":
            with pa.ipc.open_file(path) as f:
                table = f.read_all()
        else:
            raise AssertionError(f"unexpected file type: {path}")
        _TABLES[path] = table
    return _TABLES[path]


def table(data: dict[str, Path], name: str) -> pa.Table:
    times = {"helpdesk_tickets": ("opened_at", "resolved_at")}.get(name, ())
    return read(data[name], times)


def us(col: pa.ChunkedArray | pa.Array, null: int = -1) -> np.ndarray:
    """A timestamp column as int64 microseconds since the epoch (naive = UTC); nulls -> `null`."""
    col = col.cast(pa.timestamp("us", tz=getattr(col.type, "tz", None)))
    ints = pc.fill_null(col.cast(pa.int64()), null)
    return ints.to_numpy()


def utc_us(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * US


def local_midnight(day: dt.date, tz: str) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz)).timestamp()) * US


def month(year: int, mon: int, tz: str) -> tuple[int, int]:
    nxt = dt.date(year + mon // 12, mon % 12 + 1, 1)
    return local_midnight(dt.date(year, mon, 1), tz), local_midnight(nxt, tz)


def local_parts(t: np.ndarray, tz: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ISO weekday (0 = Monday), minute of the day and local date (days since 1970) of instants."""
    arr = pa.array(t, pa.timestamp("us", tz=tz))
    weekday = pc.day_of_week(arr).to_numpy(zero_copy_only=False)
    minute = (pc.hour(arr).to_numpy(zero_copy_only=False) * 60
              + pc.minute(arr).to_numpy(zero_copy_only=False))  # fmt: skip
    days = pc.local_timestamp(arr).cast(pa.timestamp("us")).cast(pa.int64()).to_numpy() // DAY
    return weekday, minute, days


def in_weekly(t: np.ndarray, tz: str, windows: tuple[WeeklyWindow, ...]) -> np.ndarray:
    weekday, minute, _ = local_parts(t, tz)
    mask = np.zeros(t.size, dtype=bool)
    for w in windows:
        mask |= (np.isin(weekday, list(w.days)) & (minute >= w.start_minute)
                 & (minute < w.end_minute))  # fmt: skip
    return mask


def in_calendar(t: np.ndarray, cal: Calendar) -> np.ndarray:
    """Inside the calendar's hours (local time in its zone) and not on one of its holidays."""
    weekday, minute, days = local_parts(t, cal.timezone)
    mask = np.zeros(t.size, dtype=bool)
    for w in cal.hours:
        mask |= (np.isin(weekday, list(w.days)) & (minute >= w.start_minute)
                 & (minute < w.end_minute))  # fmt: skip
    holidays = [(h - dt.date(1970, 1, 1)).days for h in cal.holidays]
    return mask & ~np.isin(days, holidays)


def in_intervals(t: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    mask = np.zeros(t.size, dtype=bool)
    for s, e in zip(starts, ends, strict=True):  # a few dozen windows
        mask |= (t >= s) & (t < e)
    return mask


def seconds_grid(p0: int, p1: int) -> np.ndarray:
    """One entry per second of `[p0, p1)`, as microsecond instants."""
    return np.arange(p0, p1, US, dtype=np.int64)


def floored_minutes(down: np.ndarray) -> int:
    """Seconds of downtime, each maximal run floored to whole minutes (`granularity: 1m`)."""
    edges = np.diff(np.concatenate([[0], down.astype(np.int8), [0]]))
    lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    return int((lengths // 60 * 60).sum())


def nearest_rank(values: np.ndarray, q: float) -> float:
    """Nearest-rank percentile: the value at rank max(1, ceil(q*n/100)), computed exactly."""
    ordered = np.sort(values)
    rank = max(1, math.ceil(Fraction(str(q)) * ordered.size / 100))
    return float(ordered[rank - 1])


# ---------------------------------------------------------------- determinism and layout


def _digests(paths: dict[str, Path]) -> dict[str, str]:
    return {name: hashlib.sha256(p.read_bytes()).hexdigest() for name, p in paths.items()}


def test_same_seed_same_bytes(tmp_path: Path, data: dict[str, Path]) -> None:
    again = demo.generate(tmp_path / "again")
    assert _digests(again) == _digests(data)
    other = demo.generate(tmp_path / "other", seed=8, scale=0.1)
    assert _digests(other)["edge_requests"] != _digests(data)["edge_requests"]


def test_small_and_quick(data: dict[str, Path]) -> None:
    total = sum(p.stat().st_size for p in data.values())
    assert total < 50 * 1024 * 1024
    meta = pq.ParquetFile(data["edge_requests"]).metadata
    assert 200_000 <= meta.num_rows <= 1_000_000
    assert meta.num_row_groups > 1


def test_main_prints_data_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main([str(tmp_path / "out"), "--seed", "3", "--scale", "0.05"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"--data {name}={tmp_path / 'out' / file}" for name, file in demo.FILES.items()
    ]
    assert demo.main([str(tmp_path / "bad"), "--start", "2026-11-15", "--end", "2026-11-01"]) == 2


def _used_sources(model: Model) -> dict[str, Source]:
    """Sources read by the agreements: indicators and source exclusions, every status."""
    used: dict[str, Source] = {}
    for agreement in model.agreements.values():
        for objective in agreement.objectives:
            ind = objective.indicator
            inner = getattr(ind, "inner", ind)
            sel = getattr(inner, "total", None) or getattr(inner, "selection", None)
            used[sel.source.id] = sel.source
        for exclusion in agreement.exclusions:
            if exclusion.selection is not None:
                used[exclusion.selection.source.id] = exclusion.selection.source
    return used


def _columns(node: object) -> Iterator[str]:
    """Column names an expression reads: one-part names, not function names."""
    if isinstance(node, ast.Name):
        if len(node.parts) == 1:
            yield node.parts[0]
    elif isinstance(node, ast.Call):
        for arg in node.args:
            yield from _columns(arg)
    elif isinstance(node, ast.Node):
        for value in vars(node).values():
            for item in value if isinstance(value, tuple) else (value,):
                yield from _columns(item)


def _read_columns(model: Model) -> dict[str, set[str]]:
    """Per table, every column that an agreement's condition or value indicator reads."""
    out: dict[str, set[str]] = {}

    def add(sel: object, *exprs: object, column: str | None = None) -> None:
        cols = out.setdefault(sel.source.table, set())
        for expr in (sel.condition, *exprs):
            cols.update(_columns(expr))
        if column:
            cols.add(column)

    for agreement in model.agreements.values():
        for objective in agreement.objectives:
            ind = getattr(objective.indicator, "inner", objective.indicator)
            if hasattr(ind, "total"):
                add(ind.total, ind.good)
            else:
                add(ind.selection, column=getattr(ind, "column", None))
        for exclusion in agreement.exclusions:
            if exclusion.selection is not None:
                add(exclusion.selection)
    return out


def test_every_bound_table_is_written(model: Model, data: dict[str, Path]) -> None:
    tables = {s.table for s in _used_sources(model).values()}
    assert tables == set(data)
    assert all(p.is_file() for p in data.values())


def test_columns_and_time_forms_match_the_sources(model: Model, data: dict[str, Path]) -> None:
    read_columns = _read_columns(model)
    for source in _used_sources(model).values():
        t = table(data, source.table)
        if source.kind == "events":
            times = [source.time_column]
        else:
            times = [source.start_column, source.end_column]
        expected = {*times, *source.units, *read_columns[source.table]}
        if source.key_column:
            expected.add(source.key_column)
        assert expected <= set(t.column_names), (source.id, expected - set(t.column_names))
        for column in times:
            typ = t.schema.field(column).type
            if source.time_form == "aware":
                assert pa.types.is_timestamp(typ) and typ.tz == "UTC", (source.id, typ)
            elif source.time_form == "utc":
                assert pa.types.is_timestamp(typ) and typ.tz is None, (source.id, typ)
            elif source.time_form == "epoch_ms":
                assert typ == pa.int64(), (source.id, typ)
        for column in source.units:
            assert pa.types.is_floating(t.schema.field(column).type)


def test_text_formats_use_iso_timestamps_with_z(data: dict[str, Path]) -> None:
    iso = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    lines = data["helpdesk_tickets"].read_text().splitlines()
    assert all(iso.search(line) for line in lines)
    rows = pa_csv.read_csv(data["incidents"])
    assert rows.schema.field("started_at").type == pa.timestamp("s", tz="UTC")


def test_sorted_by_time(data: dict[str, Path]) -> None:
    for name, column in [("edge_requests", "ts"), ("requests", "ts"), ("probes", "ts"),
                         ("synthetic_checks", "checked_at")]:  # fmt: skip
        t = us(table(data, name).column(column))
        assert (np.diff(t) >= 0).all(), name


# ------------------------------------------------------------------------------ the story


def incidents(data: dict[str, Path]) -> dict[str, np.ndarray]:
    t = table(data, "incidents")
    return {
        "start": us(t.column("started_at")),
        "end": us(t.column("resolved_at"), null=AS_OF_US),  # open: ongoing until --as-of
        "service": t.column("service").to_numpy(),
        "severity": t.column("severity").to_numpy(),
        "cause": t.column("cause").to_numpy(),
        "open": t.column("resolved_at").is_null().to_numpy(zero_copy_only=False),
    }


def windows(data: dict[str, Path], name: str, key: str, approved_only: bool):
    t = table(data, name)
    start, end = ("window_start", "window_end") if name == "change_calendar" else ("start", "end")
    mask = t.column("service").to_numpy() == key
    if approved_only:
        mask &= t.column("approved").to_numpy(zero_copy_only=False)
    return us(t.column(start))[mask], us(t.column(end))[mask]


def requests(data: dict[str, Path], name: str, key: str) -> dict[str, np.ndarray]:
    t = table(data, name)
    keep = pc.equal(t.column("service"), key)
    t = t.filter(keep)
    return {
        "ts": us(t.column("ts")),
        "status": t.column("status").to_numpy(),
        "method": t.column("method").to_numpy(),
        "route": t.column("route").to_numpy(),
        "latency_ms": t.column("latency_ms").to_numpy(),
    }


def checkout_rows(data, model, p0: int, p1: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """checkout_retail's counted request rows: key `checkout`, in the period, before --as-of,
    outside the March migration window, approved checkout changes and Sunday 02:00-04:00."""
    agreement = model.agreements["checkout_retail"]
    r = requests(data, "edge_requests", "checkout")
    t = r["ts"]
    keep = (t >= p0) & (t < min(p1, AS_OF_US))
    weekly = tuple(e.weekly for e in agreement.exclusions if e.kind == "weekly")
    keep &= ~in_weekly(t, agreement.timezone, weekly)
    keep &= ~in_intervals(t, *windows(data, "change_calendar", "checkout", approved_only=True))
    keep &= ~((t >= utc_us("2026-03-29T01:00:00Z")) & (t < utc_us("2026-03-29T03:00:00Z")))
    return r, keep


def checkout_availability(data, model, mon: int) -> tuple[int, int]:
    r, keep = checkout_rows(data, model, *month(2026, mon, "Europe/London"))
    return int((keep & (r["status"] < 500)).sum()), int(keep.sum())


def test_checkout_breaches_october_in_the_ten_percent_tier(data, model) -> None:
    good, total = checkout_availability(data, model, 10)
    assert 0.990 <= good / total < 0.999, (good, total)  # 37 244 / 37 350 = 99.716 %
    # The burst of 5xx on Thursday 15 October, 14:05-15:35 London time, made the difference.
    r, keep = checkout_rows(data, model, *month(2026, 10, "Europe/London"))
    outage = (r["ts"] >= utc_us("2026-10-15T13:05:00Z")) & (
        r["ts"] < utc_us("2026-10-15T14:35:00Z")
    )
    bad = keep & (r["status"] >= 500)
    assert (bad & outage).sum() > (bad & ~outage).sum()
    assert (total - good - (bad & outage).sum()) / total < 0.001


@pytest.mark.parametrize("mon", [8, 9, 11])
def test_checkout_meets_availability_in_other_months(data, model, mon: int) -> None:
    good, total = checkout_availability(data, model, mon)
    assert good / total >= 0.999, (mon, good, total)


@pytest.mark.parametrize("mon", [8, 9, 10, 11])
def test_checkout_latency_in_uk_office_hours(data, model, mon: int) -> None:
    r, keep = checkout_rows(data, model, *month(2026, mon, "Europe/London"))
    keep &= (r["method"] == "GET") & in_calendar(
        r["ts"], model.calendars["std/calendars.uk_business"]
    )
    assert nearest_rank(r["latency_ms"][keep], 95) <= 300


def checkout_uptime(data, model, mon: int) -> float:
    """uptime(incidents where severity == "sev1", granularity: 1m) = (T - M - D) / (T - M)."""
    agreement = model.agreements["checkout_retail"]
    p0, p1 = month(2026, mon, "Europe/London")
    p1 = min(p1, AS_OF_US)
    grid = seconds_grid(p0, p1)
    weekly = tuple(e.weekly for e in agreement.exclusions if e.kind == "weekly")
    excluded = in_weekly(grid, agreement.timezone, weekly)
    excluded |= in_intervals(grid, *windows(data, "change_calendar", "checkout", True))
    inc = incidents(data)
    sev1 = (inc["service"] == "checkout") & (inc["severity"] == "sev1")
    down = in_intervals(grid, inc["start"][sev1], inc["end"][sev1]) & ~excluded
    measured = grid.size - int(excluded.sum())
    return (measured - floored_minutes(down)) / measured


def test_checkout_uptime(data, model) -> None:
    assert checkout_uptime(data, model, 8) >= 0.9995  # 11 whole minutes of sev1 in August
    assert checkout_uptime(data, model, 9) == 1.0
    assert 0.99 <= checkout_uptime(data, model, 10) < 0.999  # 99 minutes: 15 % credit tier
    assert checkout_uptime(data, model, 11) == 1.0  # the open incident is a sev3


def partner_exclusions(data) -> tuple[np.ndarray, np.ndarray]:
    """partner_api_us: every partner maintenance window, and partner-caused incidents."""
    ms, me = windows(data, "maintenance", "partner_api", approved_only=False)
    inc = incidents(data)
    caused = (inc["service"] == "partner_api") & (inc["cause"] == "partner")
    return np.concatenate([ms, inc["start"][caused]]), np.concatenate([me, inc["end"][caused]])


def slice_values(t: np.ndarray, good: np.ndarray, p0: int, p1: int, size: int, excl) -> tuple:
    """Per slice of `size` µs from `p0`: (good, total) rows, and whether the slice exists
    (it overlaps counted time: not wholly inside an excluded window)."""
    n = -(-(p1 - p0) // size)
    k = (t - p0) // size
    total = np.bincount(k, minlength=n)
    goods = np.bincount(k, weights=good, minlength=n)
    starts = p0 + np.arange(n) * size
    ends = np.minimum(starts + size, p1)
    exists = np.ones(n, dtype=bool)
    for s, e in zip(*excl, strict=True):
        exists &= ~((starts >= s) & (ends <= e))
    return goods, total, exists


def partner_slice_mean(data, mon: int) -> tuple[float, int, float]:
    """slice_mean(5m, ratio(src.requests where status < 500)): (value, slices, sum of ratios)."""
    p0, p1 = month(2026, mon, "America/New_York")
    end = min(p1, AS_OF_US)
    r = requests(data, "requests", "partner_api")
    excl = partner_exclusions(data)
    keep = (r["ts"] >= p0) & (r["ts"] < end) & ~in_intervals(r["ts"], *excl)
    goods, total, exists = slice_values(
        r["ts"][keep], (r["status"][keep] < 500).astype(float), p0, end, 5 * MINUTE, excl
    )
    ratios = np.where(total > 0, goods / np.maximum(total, 1), 1.0)[exists]
    return float(ratios.mean()), int(exists.sum()), float(ratios.sum())


@pytest.mark.parametrize("mon", [8, 9, 10])
def test_partner_availability_met(data, mon: int) -> None:
    assert partner_slice_mean(data, mon)[0] >= 0.999


def test_partner_november_at_risk_and_recoverable(data) -> None:
    value, slices, ratio_sum = partner_slice_mean(data, 11)
    assert value < 0.999, value  # 99.833 % over 3 972 slices: at risk
    # The month has 721 h (DST ends on 1 November): 8 652 slices less 12 of maintenance = 8 640.
    # If every slice after the as-of is clean:
    _, p1 = month(2026, 11, "America/New_York")
    remaining = (p1 - AS_OF_US) // (5 * MINUTE)
    best = (ratio_sum + remaining) / (slices + remaining)
    assert best >= 0.999, best  # 99.923 %: it can still recover
    assert value > 0.997  # a degradation, not an outage


@pytest.mark.parametrize("mon", [8, 9, 10, 11])
def test_partner_synthetic_checks_and_latency(data, mon: int) -> None:
    p0, p1 = month(2026, mon, "America/New_York")
    end = min(p1, AS_OF_US)
    excl = partner_exclusions(data)
    t = table(data, "probes")
    ts, ok = us(t.column("ts")), t.column("ok").to_numpy(zero_copy_only=False)
    keep = (ts >= p0) & (ts < end) & ~in_intervals(ts, *excl)
    goods, total, exists = slice_values(ts[keep], ok[keep].astype(float), p0, end, MINUTE, excl)
    good_minutes = (total > 0) & (goods >= 0.99 * total)  # empty: bad
    assert good_minutes[exists].mean() >= 0.995
    r = requests(data, "requests", "partner_api")
    keep = (r["ts"] >= p0) & (r["ts"] < end) & ~in_intervals(r["ts"], *excl)
    assert nearest_rank(r["latency_ms"][keep], 50) <= 80
    assert nearest_rank(r["latency_ms"][keep], 90) <= 200
    feed = keep & (r["route"] == "/v1/orders/feed")
    assert nearest_rank(r["latency_ms"][feed], 99.5) <= 1000


def test_partner_uptime_excludes_partner_caused_time_as_available(data) -> None:
    inc = incidents(data)
    sev1 = (inc["service"] == "partner_api") & (inc["severity"] == "sev1")
    assert set(inc["cause"][sev1]) == {"partner"}  # 90 minutes in September, not held against us


def storefront_ie_rows(data, model, p0: int, p1: int):
    agreement = model.agreements["storefront_ie"]
    r = requests(data, "edge_requests", "storefront")
    t = r["ts"]
    keep = (t >= p0) & (t < min(p1, AS_OF_US))
    weekly = tuple(e.weekly for e in agreement.exclusions if e.kind == "weekly")
    keep &= ~in_weekly(t, agreement.timezone, weekly)
    keep &= ~in_intervals(t, *windows(data, "change_calendar", "storefront", True))
    return r, keep


@pytest.mark.parametrize("quarter", [(7, 10), (10, 13)])
def test_storefront_ie_quarters(data, model, quarter: tuple[int, int]) -> None:
    p0 = local_midnight(dt.date(2026, quarter[0], 1), "Europe/Dublin")
    p1 = local_midnight(dt.date(2026 + quarter[1] // 13, (quarter[1] - 1) % 12 + 1, 1),
                        "Europe/Dublin")  # fmt: skip
    r, keep = storefront_ie_rows(data, model, p0, p1)
    assert (keep & (r["status"] < 500)).sum() / keep.sum() >= 0.995
    assert r["latency_ms"][keep & (r["method"] == "GET")].mean() <= 250
    inc = incidents(data)
    counted = (inc["service"] == "storefront") & np.isin(inc["severity"], ["sev1", "sev2"])
    down = np.minimum(inc["end"][counted], p1) - np.maximum(inc["start"][counted], p0)
    assert down.clip(0).sum() <= 0.001 * (p1 - p0)  # against the whole quarter: cannot breach


def test_storefront_experience_rolling_28_days(data, model) -> None:
    p0, p1 = AS_OF_US - 28 * DAY, AS_OF_US
    r = requests(data, "edge_requests", "storefront")
    keep = (r["ts"] >= p0) & (r["ts"] < p1) & (r["method"] != "OPTIONS")
    assert (keep & (r["status"] < 500)).sum() / keep.sum() >= 0.999
    # timeslices(5m, p95(requests.latency_ms) <= 800ms): nearest rank per slice, empty = good.
    inside = (r["ts"] >= p0) & (r["ts"] < p1)
    k = (r["ts"][inside] - p0) // (5 * MINUTE)
    lat = r["latency_ms"][inside]
    order = np.lexsort((lat, k))
    k, lat = k[order], lat[order]
    first = np.searchsorted(k, np.arange(28 * 288))
    count = np.bincount(k, minlength=28 * 288)
    rank = np.maximum(1, np.ceil(count * 95 / 100).astype(int))
    p95 = np.where(count > 0, lat[np.minimum(first + rank - 1, lat.size - 1)], 0)
    assert (p95 <= 800).mean() >= 0.99
    t = table(data, "synthetic_checks")
    ts = us(t.column("checked_at"))
    login = ((t.column("target").to_numpy() == "storefront")
             & (t.column("check").to_numpy() == "login") & (ts >= p0) & (ts < p1))  # fmt: skip
    assert t.column("ok").to_numpy(zero_copy_only=False)[login].mean() >= 0.995


def iso_weeks(tz: str) -> Iterator[tuple[int, int]]:
    """ISO weeks (Monday 00:00 local) overlapping the data, within fulfilment_us's effective."""
    monday = dt.date(2026, 7, 27)
    while monday < dt.date(2026, 11, 16):
        yield local_midnight(monday, tz), local_midnight(monday + dt.timedelta(days=7), tz)
        monday += dt.timedelta(days=7)


def test_fulfilment_weeks(data, model) -> None:
    agreement = model.agreements["fulfilment_us"]
    weekly = tuple(e.weekly for e in agreement.exclusions if e.kind == "weekly")
    r = requests(data, "edge_requests", "fulfilment")
    counted = in_calendar(r["ts"], agreement.hours) & ~in_weekly(
        r["ts"], agreement.timezone, weekly
    )
    t = table(data, "synthetic_checks")
    ts = us(t.column("checked_at"))
    labels = (t.column("check").to_numpy() == "label-printing") & in_calendar(ts, agreement.hours)
    inc = incidents(data)
    mine = inc["service"] == "fulfilment"
    for p0, p1 in iso_weeks(agreement.timezone):
        p1 = min(p1, AS_OF_US)
        keep = counted & (r["ts"] >= p0) & (r["ts"] < p1)
        good = keep & (r["status"] < 500) & (r["status"] != 429)
        assert good.sum() / keep.sum() >= 0.995
        durations = t.column("duration_ms").to_numpy()[labels & (ts >= p0) & (ts < p1)]
        assert durations.max() <= 2000
        down = np.minimum(inc["end"][mine], p1) - np.maximum(inc["start"][mine], p0)
        assert down.clip(0).sum() <= 0.005 * (p1 - p0 - 2 * HOUR)  # uptime, hours cal.always


def open_intervals(cal: Calendar, first: dt.date, last: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """The calendar's hours as UTC intervals, one pair per window and local day."""
    opens, closes = [], []
    day = first
    while day <= last:
        if day not in cal.holidays:
            for w in cal.hours:
                if day.weekday() in w.days:
                    # Aware datetime + timedelta is wall-clock arithmetic in that zone.
                    base = dt.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(cal.timezone))
                    opens.append(int((base + dt.timedelta(minutes=w.start_minute)).timestamp()))
                    closes.append(int((base + dt.timedelta(minutes=w.end_minute)).timestamp()))
        day += dt.timedelta(days=1)
    order = np.argsort(opens)
    return np.array(opens)[order] * US, np.array(closes)[order] * US


def business_duration(start: np.ndarray, end: np.ndarray, cal: Calendar) -> np.ndarray:
    """Microseconds of the calendar's hours in `[start, end)`, by cumulative open time."""
    opens, closes = open_intervals(cal, dt.date(2026, 7, 30), dt.date(2027, 3, 31))
    before = np.concatenate([[0], np.cumsum(closes - opens)])

    def open_time_before(t: np.ndarray) -> np.ndarray:
        k = np.maximum(np.searchsorted(opens, t, side="right") - 1, 0)
        return before[k] + np.clip(t - opens[k], 0, closes[k] - opens[k])

    return open_time_before(end) - open_time_before(start)


@pytest.mark.parametrize("mon", [8, 9, 10, 11])
def test_support_desk_month(data, model, mon: int) -> None:
    p0, p1 = month(2026, mon, "Europe/London")
    t = table(data, "helpdesk_tickets")
    opened = us(t.column("opened_at"))
    resolved = us(t.column("resolved_at"), null=AS_OF_US)  # an open ticket ages until --as-of
    is_open = t.column("resolved_at").is_null().to_numpy(zero_copy_only=False)
    prio = t.column("priority").to_numpy()
    in_month = (opened >= p0) & (opened < min(p1, AS_OF_US))
    p1_rows = in_month & (prio == "P1")
    p1_good = p1_rows & ~is_open & (resolved - opened <= 4 * HOUR)
    assert p1_good.sum() / p1_rows.sum() >= 0.95
    uk = model.calendars["std/calendars.uk_business"]
    p2_rows = in_month & (prio == "P2")
    p2_good = p2_rows & (business_duration(opened, resolved, uk) <= 8 * HOUR)
    assert p2_good.sum() / p2_rows.sum() >= 0.90
    desk = model.calendars["support_hours"]
    p3_rows = in_month & (prio == "P3")
    p3_good = p3_rows & (business_duration(opened, resolved, desk) <= 24 * HOUR)
    assert p3_good.sum() / p3_rows.sum() >= 0.85
    complaints = in_month & (t.column("category").to_numpy() == "complaint")
    assert (complaints & np.isin(prio, ["P1", "P2"])).sum() <= 10


def test_support_tickets_some_unresolved(data) -> None:
    t = table(data, "helpdesk_tickets")
    assert 0 < t.column("resolved_at").null_count < 0.05 * t.num_rows
    assert set(t.column("priority").to_pylist()) == {"P1", "P2", "P3", "P4"}


def test_incidents_realistic(data) -> None:
    inc = incidents(data)
    assert inc["open"].sum() == 1  # one still open at the end, a sev3
    assert (inc["severity"] == "sev1").sum() >= 3
    minutes = (inc["end"] - inc["start"])[~inc["open"]] / MINUTE
    assert minutes.min() >= 5 and minutes.max() <= 8 * 60
    order = np.argsort(inc["start"])
    s, e = inc["start"][order], inc["end"][order]
    assert (s[1:] < np.maximum.accumulate(e)[:-1]).any()  # some overlap
    t = table(data, "change_calendar")
    approved = t.column("approved").to_numpy(zero_copy_only=False)
    assert approved.any() and not approved.all()


def test_data_platform_weeks(data) -> None:
    runs = table(data, "pipeline_runs")
    finished = us(runs.column("finished_at"))
    week = (finished - utc_us("2026-07-27T00:00:00Z")) // (7 * DAY)  # ISO weeks in UTC
    fraud = runs.column("pipeline").to_numpy() == "fraud_features"
    lag = runs.column("lag_s").to_numpy()
    rejected = runs.column("rows_rejected").to_numpy()
    for w in np.unique(week):
        assert lag[fraud & (week == w)].max() <= 15 * 60
        assert lag[fraud & (week == w)].mean() <= 5 * 60
        assert rejected[week == w].sum() <= 1000
    capacity = table(data, "capacity_samples")
    assert pc.min(capacity.column("healthy_nodes")).as_py() >= 3
