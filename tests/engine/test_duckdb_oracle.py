"""DuckDB as an independent oracle: the engine's ratios and percentiles equal plain SQL over the
same Parquet file.

The table: a few thousand requests of four services (one with a `key` that differs from its
name) over October and November 2026, with the rows that hurt planted among random ones: the
first and last microseconds of each local month, the instants around both daylight-saving
changes (London on 25 October, New York on 1 November), null and NaN latencies, null statuses
and methods, ties. The same table is audited by the engine, monthly in a time zone, and
queried with DuckDB, bucketing by `strftime(timezone(tz, ts), '%Y-%m')`.

Percentiles: DuckDB's `quantile_disc` is not nearest-rank (it takes the value at
floor(q·(n−1))), so nearest-rank is computed here with `row_number()` and the integer rank
max(1, ⌈q·n/100⌉) = (n·num + den − 1) // den for q/100 = num/den. Linear interpolation is
compared twice: exactly, from the two order statistics DuckDB selects (x[i], x[i+1] and
h − i = ((n−1)·num mod den)/den) combined as fractions, and against `quantile_cont`, which
interpolates in doubles: for p99.9 of ~1000 values it is off by ~10⁻¹² ms (1147.8180000000066
for the exact 1147.818), so it is held to its own error bound, not to equality.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import slang
from slang.engine.audit import PeriodChoice, audit

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
SERVICES = {"checkout": "checkout", "payments": "payments-v2", "search": "search",
            "inventory": "inventory"}
MONTHS = ("2026-10", "2026-11")
# (objective, q, method, extra condition in slang, the same in SQL)
PERCENTILES = [
    ("p50", Fraction(50), "nearest", "", ""),
    ("p95", Fraction(95), "nearest", "", ""),
    ("p99", Fraction(99), "nearest", "", ""),
    ("p999", Fraction(999, 10), "nearest", "", ""),
    ("q37_5", Fraction(75, 2), "nearest", "", ""),
    ("p90_get", Fraction(90), "nearest", ' where method == "GET"', " AND method = 'GET'"),
    ("lin90", Fraction(90), "linear", "", ""),
    ("lin99_9", Fraction(999, 10), "linear", "", ""),
    ("lin33_3_post", Fraction(333, 10), "linear", ' where method == "POST"',
     " AND method = 'POST'"),
]
RATIOS = [
    # (objective, slang indicator, SQL good condition, SQL total condition)
    ("availability", "ratio(requests where status < 500)", "status < 500", "TRUE"),
    ("non_options", 'ratio(requests where status < 500, requests where method != "OPTIONS")',
     "status < 500 AND method != 'OPTIONS'", "method != 'OPTIONS'"),
    ("fast_get", 'ratio(requests where latency_ms <= 250ms, requests where method == "GET")',
     "latency_ms <= 250 AND method = 'GET'", "method = 'GET'"),
]


def _us(text: str) -> int:
    return (dt.datetime.fromisoformat(text) - EPOCH) // dt.timedelta(microseconds=1)


PLANTED = [  # instants at month edges and daylight-saving changes, in both zones tested
    "2026-09-30T22:59:59.999999+00:00", "2026-09-30T23:00:00+00:00",  # London Oct starts
    "2026-10-01T03:59:59.999999+00:00", "2026-10-01T04:00:00+00:00",  # New York Oct starts
    "2026-10-25T00:59:59.999999+00:00", "2026-10-25T01:00:00+00:00",  # London falls back
    "2026-10-31T23:59:59.999999+00:00", "2026-11-01T00:00:00+00:00",  # London Nov starts
    "2026-11-01T03:59:59.999999+00:00", "2026-11-01T04:00:00+00:00",  # New York Nov starts
    "2026-11-01T05:59:59.999999+00:00", "2026-11-01T06:00:00+00:00",  # New York falls back
    "2026-11-30T23:59:59.999999+00:00", "2026-12-01T00:00:00+00:00",  # London Dec starts
    "2026-12-01T04:59:59.999999+00:00", "2026-12-01T05:00:00+00:00",  # New York Dec starts
]


def make_table(seed: int = 20261025, n: int = 4000) -> pa.Table:
    rng = np.random.default_rng(seed)
    lo = _us("2026-09-30T12:00:00+00:00")
    hi = _us("2026-12-01T12:00:00+00:00")
    ts = rng.integers(lo, hi, n)
    planted = np.array([_us(p) for p in PLANTED], dtype=np.int64)
    ts = np.concatenate([ts, np.repeat(planted, 3)])
    m = len(ts)
    keys = np.array([*SERVICES.values(), "unrelated"])
    service = keys[rng.choice(len(keys), m, p=[0.3, 0.25, 0.2, 0.2, 0.05])]
    status = rng.choice(np.array([200, 201, 204, 404, 429, 500, 502, 503]), m,
                        p=[0.6, 0.05, 0.05, 0.1, 0.05, 0.08, 0.04, 0.03])
    status_null = rng.random(m) < 0.02
    latency = np.round(rng.lognormal(5.0, 0.7, m), 1)
    latency[rng.random(m) < 0.1] = 150.0  # ties
    latency[rng.random(m) < 0.03] = np.nan
    latency_null = rng.random(m) < 0.03
    latency_frac = rng.random(m) < 0.2  # some values with full double precision
    latency = np.where(latency_frac, rng.uniform(0, 1000, m), latency)
    methods = np.array(["GET", "POST", "OPTIONS", "PUT"])
    method = methods[rng.choice(4, m, p=[0.6, 0.25, 0.1, 0.05])]
    method_null = rng.random(m) < 0.03
    return pa.table({
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "service": pa.array(service),
        "status": pa.array(status, pa.int64(), mask=status_null),
        "latency_ms": pa.array(latency, pa.float64(), mask=latency_null),
        "method": pa.array(method, mask=method_null),
    })


def policy(tz: str) -> str:
    services = "\n".join(
        f'  service {name} {{ title "{name}"' + (f' key "{key}"' if key != name else "") + " }"
        for name, key in SERVICES.items())
    objectives = [f"  objective {name} {{ indicator {ind} target >= 99% }}"
                  for name, ind, _, _ in RATIOS]
    for name, q, method, where, _ in PERCENTILES:
        q_text = format(q.numerator / q.denominator, "g")
        linear = ", method: linear" if method == "linear" else ""
        objectives.append(f"  objective {name} {{ indicator percentile(requests.latency_ms"
                          f"{where}, {q_text}{linear}) target <= 300ms }}")
    agreements = "\n".join(
        f"agreement {name}_sla {{\n  service {name}\n  status agreed\n  timezone \"{tz}\"\n"
        "  period monthly\n" + "\n".join(objectives) + "\n}"
        for name in SERVICES)
    return (f'catalogue "Oracle" {{\n{services}\n}}\n'
            'events requests from "requests" { time ts key service units { latency_ms: ms } }\n'
            + agreements + "\n")


_AUDITS: dict[tuple[Path, str], dict[tuple[str, str, str], dict[str, Any]]] = {}


def engine_results(tmp: Path, tz: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The engine's results by (service, objective, month label), audited once per zone."""
    if (tmp, tz) not in _AUDITS:
        _AUDITS[(tmp, tz)] = _audit(tmp, tz)
    return _AUDITS[(tmp, tz)]


def _audit(tmp: Path, tz: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    (tmp / f"oracle_{tz.replace('/', '_')}.sla").write_text(policy(tz))
    model = slang.load([str(tmp / f"oracle_{tz.replace('/', '_')}.sla")])
    assert not model.errors, model.errors
    report = audit(model, {"requests": tmp / "requests.parquet"},
                   choice=PeriodChoice(date_from=dt.date(2026, 10, 1),
                                       date_to=dt.date(2026, 11, 30)),
                   as_of=dt.datetime(2026, 12, 15, tzinfo=UTC))
    out = {}
    for r in report.to_dict()["results"]:
        out[(r["agreement"].removesuffix("_sla"), r["objective"], r["period"])] = r
    return out


@pytest.fixture(scope="module")
def parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("oracle")
    pq.write_table(make_table(), d / "requests.parquet", row_group_size=1000)
    return d


def _sql_month(tz: str) -> str:
    return f"strftime(timezone('{tz}', ts), '%Y-%m')"


def _service(key: str) -> str:
    return {v: k for k, v in SERVICES.items()}[key]


def _fraction_of(q: Fraction) -> tuple[int, int]:
    """q / 100 as num / den in lowest terms."""
    f = q / 100
    return f.numerator, f.denominator


ZONES = ["Europe/London", "America/New_York"]


@pytest.mark.parametrize("tz", ZONES)
def test_ratios_equal_duckdb(parquet: Path, tz: str) -> None:
    got = engine_results(parquet, tz)
    con = duckdb.connect()
    path = str(parquet / "requests.parquet")
    checked = 0
    for name, _, good_sql, total_sql in RATIOS:
        rows = con.execute(f"""
            SELECT service, {_sql_month(tz)} AS month,
                   count(*) FILTER (WHERE {good_sql} AND {total_sql}) AS good,
                   count(*) FILTER (WHERE {total_sql}) AS total
            FROM read_parquet(?) WHERE service IN ?
            GROUP BY ALL HAVING month IN ?
        """, [path, list(SERVICES.values()), list(MONTHS)]).fetchall()
        assert len(rows) == len(SERVICES) * len(MONTHS)
        for key, month, good, total in rows:
            r = got[(_service(key), name, month)]
            assert (r["good"], r["total"]) == (good, total), (key, name, month)
            assert r["measured"] == float(Fraction(good, total)), (key, name, month)
            checked += 1
    assert checked == len(RATIOS) * len(SERVICES) * len(MONTHS)


def _values_cte(tz: str, extra_sql: str) -> str:
    return f"""
        v AS (
            SELECT service, {_sql_month(tz)} AS month, latency_ms AS x
            FROM read_parquet($path)
            WHERE service IN $services AND latency_ms IS NOT NULL AND NOT isnan(latency_ms)
                  {extra_sql}
        ),
        r AS (
            SELECT service, month, x,
                   row_number() OVER (PARTITION BY service, month ORDER BY x) AS rn,
                   count(*) OVER (PARTITION BY service, month) AS n
            FROM v WHERE month IN $months
        )"""


@pytest.mark.parametrize("tz", ZONES)
def test_nearest_rank_percentiles_equal_duckdb(parquet: Path, tz: str) -> None:
    got = engine_results(parquet, tz)
    con = duckdb.connect()
    params = {"path": str(parquet / "requests.parquet"), "services": list(SERVICES.values()),
              "months": list(MONTHS)}
    differs = 0
    for name, q, method, _, extra_sql in PERCENTILES:
        if method != "nearest":
            continue
        num, den = _fraction_of(q)
        rows = con.execute(f"""
            WITH {_values_cte(tz, extra_sql)}
            SELECT service, month, x, n FROM r
            WHERE rn = greatest(1, (n * {num} + {den} - 1) // {den})
        """, params).fetchall()
        assert len(rows) == len(SERVICES) * len(MONTHS)
        for key, month, x, n in rows:
            r = got[(_service(key), name, month)]
            assert r["measured"] == x, (key, name, month, n)
            assert r["total"] == n, (key, name, month)
        # the rank floor(q·(n−1)) + 1 (the convention the notes ascribe to quantile_disc)
        # would pick another value in some groups, else this test proves little
        differs += con.execute(f"""
            WITH {_values_cte(tz, extra_sql)}
            SELECT count(DISTINCT (service, month)) FROM r
            WHERE rn = greatest(1, (n * {num} + {den} - 1) // {den})
              AND x != (SELECT x FROM r AS o WHERE o.service = r.service AND o.month = r.month
                        AND o.rn = ((r.n - 1) * {num}) // {den} + 1)
        """, params).fetchall()[0][0]
    assert differs > 0


@pytest.mark.parametrize("tz", ZONES)
def test_skipped_values_equal_duckdb(parquet: Path, tz: str) -> None:
    """Null and NaN latencies are skipped and counted (values_skipped)."""
    got = engine_results(parquet, tz)
    rows = duckdb.connect().execute(f"""
        SELECT service, {_sql_month(tz)} AS month,
               count(*) FILTER (WHERE latency_ms IS NULL OR isnan(latency_ms))
        FROM read_parquet(?) WHERE service IN ? GROUP BY ALL HAVING month IN ?
    """, [str(parquet / "requests.parquet"), list(SERVICES.values()), list(MONTHS)]).fetchall()
    assert len(rows) == len(SERVICES) * len(MONTHS)
    assert sum(s for _, _, s in rows) > 0
    for key, month, skipped in rows:
        assert got[(_service(key), "p95", month)]["values_skipped"] == skipped, (key, month)


@pytest.mark.parametrize("tz", ZONES)
def test_linear_percentiles_equal_duckdb(parquet: Path, tz: str) -> None:
    got = engine_results(parquet, tz)
    con = duckdb.connect()
    params = {"path": str(parquet / "requests.parquet"), "services": list(SERVICES.values()),
              "months": list(MONTHS)}
    for name, q, method, _, extra_sql in PERCENTILES:
        if method != "linear":
            continue
        num, den = _fraction_of(q)
        # h = (n - 1) * q / 100 = i + f: DuckDB picks x[i] and x[i+1] (rn = i + 1, i + 2)
        exact = con.execute(f"""
            WITH {_values_cte(tz, extra_sql)}
            SELECT service, month, n, ((n - 1) * {num}) % {den} AS f_num,
                   max(x) FILTER (WHERE rn = ((n - 1) * {num}) // {den} + 1) AS lo,
                   max(x) FILTER (WHERE rn = least(n, ((n - 1) * {num}) // {den} + 2)) AS hi
            FROM r GROUP BY ALL
        """, params).fetchall()
        cont = dict(((k, mo), v) for k, mo, v in con.execute(f"""
            WITH {_values_cte(tz, extra_sql)}
            SELECT service, month, quantile_cont(x, {num / den!r}) FROM r GROUP BY ALL
        """, params).fetchall())
        assert len(exact) == len(SERVICES) * len(MONTHS)
        for key, month, n, f_num, lo, hi in exact:
            r = got[(_service(key), name, month)]
            want = Fraction(lo) + Fraction(f_num, den) * (Fraction(hi) - Fraction(lo))
            assert r["measured"] == float(want), (key, name, month, n)
            assert r["total"] == n
            # quantile_cont computes h = (n − 1)·q in doubles (error up to n·2⁻⁵³), then
            # x[i] + (h − i)·(x[i+1] − x[i]): it is off by that error times the gap, plus the
            # rounding of the result; nothing more
            bound = (n * abs(hi - lo) + abs(want)) * 2.0**-50
            assert abs(r["measured"] - cont[(key, month)]) <= bound, \
                (key, name, month, r["measured"], cont[(key, month)])
