"""Example data for the `policies/` estate: every table its agreements read, with a story.

`slang audit policies/` needs data to mean anything, and the engine, the reports and the docs all
need the same realistic data set to be tested and shown against. This module makes one, from
nothing but a seed: the same seed gives byte-identical files, so tests and documentation can
quote its numbers.

The story (see `policies/README.md`): Kestrel Retail's services run well from August to
mid-November 2026, except that

* on Thursday 15 October 2026, 14:05-15:35 London time, a bad release of checkout answers most
  requests with 5xx (a sev1 incident, with a sev2 on the storefront's basket): `checkout_retail`
  misses its 99.9 % availability target for October 2026, though not by enough to fall below
  99.0 %, so the 10 % credit tier applies;
* on Thursday 12 November 2026 the partner API's order feed sheds load for two hours: at
  `--as-of 2026-11-15T00:00:00Z` the running November period of `partner_api_us` is below its
  99.9 % availability target (at risk), and can still recover if the rest of the month is clean;
* everything else meets its targets.

Formats are chosen to exercise every reader: Parquet (sorted, several row groups), CSV with
ISO 8601 `Z` timestamps, JSON Lines, Arrow IPC, naive UTC timestamps (`pipeline_runs`, declared
`time finished_at utc`) and integer epoch milliseconds (`capacity_samples`, `epoch_ms`).

Generation is vectorised: loops run per service, day, window or incident, never per row.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

__all__ = ["FILES", "generate", "main"]

US = 1_000_000  # microseconds per second
MINUTE = 60 * US
HOUR = 3600 * US
DAY = 24 * HOUR
UTC = "UTC"
TS_US = pa.timestamp("us", tz=UTC)

# Table name -> file name, relative to the output directory. The partner team exports its logs in
# the standard library's conventional layout (`std/sources`), kept apart under `partner/`; the
# `incidents` table is shared: the estate's source and the conventional one both read it.
FILES: dict[str, str] = {
    "edge_requests": "edge_requests.parquet",
    "synthetic_checks": "synthetic_checks.parquet",
    "incidents": "incidents.csv",
    "change_calendar": "change_calendar.parquet",
    "helpdesk_tickets": "helpdesk_tickets.jsonl",
    "pipeline_runs": "pipeline_runs.parquet",
    "capacity_samples": "capacity_samples.arrow",
    "requests": "partner/requests.parquet",
    "probes": "partner/probes.parquet",
    "maintenance": "partner/maintenance.parquet",
}

# Each table draws from its own stream (seed, index), so that changing how one table is made
# never shifts the random numbers, hence the bytes, of the others.
_STREAM = {name: i for i, name in enumerate(FILES)}

ROW_GROUP = 65_536  # edge_requests spans several row groups at scale 1.0


def _us(text: str) -> int:
    """An RFC 3339 instant as integer microseconds since the epoch (the story's fixed times)."""
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * US


def _local_us(day: dt.date, minute: int, tz: str) -> int:
    """Local wall-clock `minute` (< 24:00) of `day` in `tz` as UTC microseconds (DST-aware)."""
    hh, mm = divmod(minute, 60)
    local = dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=ZoneInfo(tz))
    return int(local.timestamp()) * US


def _days(start_us: int, end_us: int, pad: int = 1) -> list[dt.date]:
    """Calendar dates overlapping the range, with `pad` days either side for local time zones."""
    first = dt.datetime.fromtimestamp(start_us / US, dt.UTC).date() - dt.timedelta(days=pad)
    last = dt.datetime.fromtimestamp(end_us / US, dt.UTC).date() + dt.timedelta(days=pad)
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _local_hour_weekday(us: np.ndarray, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """Local hour (0-23) and ISO weekday (0 = Monday) of UTC instants, by Arrow's tz database."""
    arr = pa.array(us, pa.timestamp("us", tz=tz))
    return (
        pc.hour(arr).to_numpy(zero_copy_only=False).astype(np.int64),
        pc.day_of_week(arr).to_numpy(zero_copy_only=False).astype(np.int64),
    )


def _labels(labels: Sequence[str], codes: np.ndarray) -> pa.Array:
    """Strings from small integer codes: Arrow's `take` is much faster than numpy unicode."""
    return pc.take(pa.array(labels, pa.string()), pa.array(codes, pa.int32()))


def _shape(values: Sequence[float]) -> np.ndarray:
    """A relative rate profile normalised to mean 1, so `per_day` stays the daily average."""
    arr = np.asarray(values, dtype=np.float64)
    return arr / arr.mean()


# Traffic by local hour: quiet nights, a lunchtime and an evening peak for shoppers; office hours
# for business-to-business traffic. By weekday: busier Monday to Friday.
RETAIL_DAY = _shape(
    [0.25, 0.15, 0.1, 0.08, 0.08, 0.12, 0.3, 0.6, 0.9, 1.1, 1.2, 1.35,
     1.5, 1.45, 1.35, 1.3, 1.3, 1.4, 1.55, 1.7, 1.75, 1.5, 1.0, 0.5]
)  # fmt: skip
BUSINESS_DAY = _shape(
    [0.15, 0.12, 0.1, 0.1, 0.12, 0.2, 0.5, 1.0, 1.6, 1.9, 2.0, 2.0,
     1.8, 1.9, 2.0, 1.9, 1.7, 1.3, 0.9, 0.6, 0.45, 0.35, 0.25, 0.2]
)  # fmt: skip
WEEK = _shape([1.1, 1.1, 1.1, 1.1, 1.05, 0.8, 0.75])


# ------------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class _Route:
    method: str
    route: str
    share: float
    latency: float = 1.0  # factor on the service's median latency


@dataclass(frozen=True)
class _Service:
    key: str
    per_day: float  # requests a day on average at scale 1.0
    timezone: str  # whose wall clock shapes the traffic
    daily: np.ndarray
    routes: tuple[_Route, ...]
    median_ms: float
    sigma: float  # of log latency
    p5xx: float  # baseline share of server errors
    p429: float = 0.0  # throttling
    p4xx: float = 0.02  # the callers' mistakes


EDGE_SERVICES = (
    _Service(
        "storefront", 1800, "Europe/London", RETAIL_DAY,
        (
            _Route("GET", "/", 0.2, 0.8),
            _Route("GET", "/products/{slug}", 0.33),
            _Route("GET", "/search", 0.15, 1.3),
            _Route("GET", "/basket", 0.1),
            _Route("POST", "/basket/items", 0.08, 1.2),
            _Route("GET", "/account", 0.05),
            _Route("OPTIONS", "/api/basket", 0.09, 0.1),
        ),
        median_ms=140, sigma=0.5, p5xx=0.0003,
    ),
    _Service(
        "checkout", 1200, "Europe/London", RETAIL_DAY,
        (
            _Route("GET", "/basket", 0.28),
            _Route("GET", "/checkout/{id}", 0.2),
            _Route("GET", "/checkout/delivery-slots", 0.15, 1.2),
            _Route("POST", "/checkout/submit", 0.15, 2.0),
            _Route("POST", "/checkout/{id}/payment", 0.12, 2.5),
            _Route("OPTIONS", "/checkout/submit", 0.1, 0.1),
        ),
        median_ms=110, sigma=0.45, p5xx=0.0003,
    ),
    _Service(
        "payments-v2", 800, "Europe/London", RETAIL_DAY,
        (
            _Route("POST", "/v2/authorise", 0.55),
            _Route("POST", "/v2/capture", 0.25, 0.7),
            _Route("POST", "/v2/refund", 0.05, 0.9),
            _Route("GET", "/v2/payments/{id}", 0.15, 0.3),
        ),
        median_ms=180, sigma=0.45, p5xx=0.0002,
    ),
    _Service(
        "fulfilment", 450, "America/Chicago", BUSINESS_DAY,
        (
            _Route("POST", "/v1/shipments", 0.3),
            _Route("GET", "/v1/shipments/{id}", 0.4, 0.5),
            _Route("POST", "/v1/labels", 0.2, 2.0),
            _Route("GET", "/v1/manifests", 0.1, 1.5),
        ),
        median_ms=90, sigma=0.5, p5xx=0.0003, p429=0.0003,
    ),
    # Not covered by any agreement: rows whose key matches nothing, as in real logs.
    _Service(
        "search", 250, "Europe/London", RETAIL_DAY,
        (_Route("GET", "/v1/search", 0.9), _Route("OPTIONS", "/v1/search", 0.1, 0.1)),
        median_ms=60, sigma=0.6, p5xx=0.001,
    ),
)  # fmt: skip

PARTNER_SERVICE = _Service(
    "partner_api", 1200, "America/New_York", BUSINESS_DAY,
    (
        _Route("GET", "/v1/orders/feed", 0.25, 2.5),
        _Route("GET", "/v1/products", 0.25),
        _Route("PUT", "/v1/products/{sku}", 0.2, 1.2),
        _Route("POST", "/v1/listings", 0.1, 1.5),
        _Route("GET", "/v1/inventory", 0.15, 0.8),
        _Route("OPTIONS", "/v1/listings", 0.05, 0.1),
    ),
    median_ms=45, sigma=0.6, p5xx=0.0002, p429=0.001,
)  # fmt: skip


@dataclass(frozen=True)
class _Effect:
    """Requests of `key` in `[start, end)` on `routes` (None: all) fail with probability `p`."""

    key: str
    start: int
    end: int
    p: float
    statuses: tuple[int, ...] = (503,)
    routes: tuple[str, ...] | None = None
    slow_ms: float | None = None  # failures take this long (timeouts), else they fail fast


def _requests(
    rng: np.random.Generator,
    services: Sequence[_Service],
    start_us: int,
    end_us: int,
    scale: float,
    effects: Sequence[_Effect],
) -> pa.Table:
    """One row per request: Poisson counts per hour from the traffic shape, then per-row draws."""
    hours = np.arange(start_us - start_us % HOUR, end_us, HOUR, dtype=np.int64)
    parts: list[dict[str, np.ndarray]] = []
    service_labels: list[str] = []
    method_labels: list[str] = []
    route_labels: list[str] = []
    for svc in services:
        hour, dow = _local_hour_weekday(hours, svc.timezone)
        rate = svc.per_day * scale / 24 * svc.daily[hour] * WEEK[dow]
        counts = rng.poisson(rate)
        n = int(counts.sum())
        ts = np.repeat(hours, counts) + rng.integers(0, HOUR, n)
        shares = np.array([r.share for r in svc.routes])
        idx = rng.choice(len(svc.routes), n, p=shares / shares.sum())
        method = np.array([r.method for r in svc.routes])
        is_post, is_options, is_get = (method[idx] == m for m in ("POST", "OPTIONS", "GET"))
        latency = rng.lognormal(np.log(svc.median_ms), svc.sigma, n)
        latency *= np.array([r.latency for r in svc.routes])[idx]

        ok_status = np.select([is_post, is_options], [201, 204], default=200).astype(np.int64)
        not_modified = is_get & (rng.random(n) < 0.08)
        ok_status[not_modified] = 304
        u = rng.random(n)
        client = rng.choice([400, 401, 404, 409, 422], n, p=[0.3, 0.15, 0.35, 0.1, 0.1])
        server = rng.choice([500, 502, 503], n, p=[0.5, 0.2, 0.3])
        status = np.where(
            u < svc.p5xx,
            server,
            np.where(u < svc.p5xx + svc.p429, 429,
                     np.where(u < svc.p5xx + svc.p429 + svc.p4xx, client, ok_status)),
        )  # fmt: skip
        latency = np.where(status >= 500, rng.lognormal(np.log(25), 0.4, n), latency)
        latency = np.where((status >= 400) & (status < 500), latency * 0.4, latency)

        for eff in effects:
            if eff.key != svc.key:
                continue
            hit = (ts >= eff.start) & (ts < eff.end)
            if eff.routes is not None:
                hit &= np.isin(idx, [i for i, r in enumerate(svc.routes) if r.route in eff.routes])
            rows = np.flatnonzero(hit)
            rows = rows[rng.random(rows.size) < eff.p]
            status[rows] = rng.choice(eff.statuses, rows.size)
            if eff.slow_ms is None:
                latency[rows] = rng.lognormal(np.log(25), 0.4, rows.size)
            else:
                latency[rows] = eff.slow_ms + rng.random(rows.size) * 50
        parts.append(
            {
                "ts": ts,
                "service": np.full(n, len(service_labels)),
                "status": status.astype(np.int64),
                "method": idx + len(method_labels),
                "route": idx + len(route_labels),
                "latency_ms": np.round(latency, 1),
            }
        )
        service_labels.append(svc.key)
        method_labels += [r.method for r in svc.routes]
        route_labels += [r.route for r in svc.routes]
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    keep = (cols["ts"] >= start_us) & (cols["ts"] < end_us)
    order = np.argsort(cols["ts"][keep], kind="stable")
    cols = {k: v[keep][order] for k, v in cols.items()}
    return pa.table(
        {
            "ts": pa.array(cols["ts"], TS_US),
            "service": _labels(service_labels, cols["service"]),
            "status": pa.array(cols["status"], pa.int64()),
            "method": _labels(method_labels, cols["method"]),
            "route": _labels(route_labels, cols["route"]),
            "latency_ms": pa.array(cols["latency_ms"], pa.float64()),
        }
    )


# ---------------------------------------------------------------------------------- probes


@dataclass(frozen=True)
class _Check:
    key: str
    check: str
    regions: tuple[str, ...]
    every_s: int
    p_fail: float
    kind: str  # the duration model: "lognormal" or "bounded"
    median_ms: float


SITE_CHECKS = (
    _Check("storefront", "login", ("eu-west-2", "us-east-1", "us-west-2"), 300, 0.0005,
           "lognormal", 650),
    _Check("storefront", "browse", ("eu-west-2", "us-east-1", "us-west-2"), 300, 0.0005,
           "lognormal", 400),
    # The label-printing check gives up at 1.8 s: its durations never reach the 2 s objective.
    _Check("fulfilment", "label-printing", ("us-east-1", "us-west-2"), 300, 0.0005,
           "bounded", 700),
)  # fmt: skip

# Every minute from two locations: the partner agreement counts minutes without a check as bad.
PARTNER_CHECKS = (
    _Check("partner_api", "product-listing", ("us-east-1", "us-west-2"), 60, 0.0003,
           "lognormal", 120),
)  # fmt: skip


@dataclass(frozen=True)
class _ProbeEffect:
    key: str
    start: int
    end: int
    p_fail: float
    check: str | None = None


def _probes(
    rng: np.random.Generator,
    checks: Sequence[_Check],
    start_us: int,
    end_us: int,
    effects: Sequence[_ProbeEffect],
) -> dict[str, pa.Array]:
    """Checks on a fixed cadence, each region a few seconds apart, a little jitter, rare fails."""
    parts: list[dict[str, np.ndarray]] = []
    labels: list[str] = []
    for check in checks:
        for r, region in enumerate(check.regions):
            step = check.every_s * US
            first = start_us - start_us % step
            ts = np.arange(first, end_us, step, dtype=np.int64)
            ts += (7 + 13 * r) * US + rng.integers(0, 5 * US, ts.size)
            n = ts.size
            if check.kind == "bounded":
                duration = 350 + 1450 * rng.beta(2.0, 6.0, n)
            else:
                duration = rng.lognormal(np.log(check.median_ms), 0.3, n)
            ok = rng.random(n) >= check.p_fail
            for eff in effects:
                if eff.key != check.key or eff.check not in (None, check.check):
                    continue
                hit = np.flatnonzero((ts >= eff.start) & (ts < eff.end))
                ok[hit[rng.random(hit.size) < eff.p_fail]] = False
            parts.append(
                {
                    "ts": ts,
                    "key": np.full(n, len(labels)),
                    "check": np.full(n, len(labels) + 1),
                    "ok": ok,
                    "duration_ms": np.round(duration, 1),
                    "region": np.full(n, len(labels) + 2),
                }
            )
            labels += [check.key, check.check, region]
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    keep = (cols["ts"] >= start_us) & (cols["ts"] < end_us)
    order = np.argsort(cols["ts"][keep], kind="stable")
    cols = {k: v[keep][order] for k, v in cols.items()}
    return {
        "ts": pa.array(cols["ts"], TS_US),
        "key": _labels(labels, cols["key"]),
        "check": _labels(labels, cols["check"]),
        "ok": pa.array(cols["ok"], pa.bool_()),
        "duration_ms": pa.array(cols["duration_ms"], pa.float64()),
        "region": _labels(labels, cols["region"]),
    }


# ----------------------------------------------------------------- incidents, maintenance


@dataclass(frozen=True)
class _Incident:
    tag: str  # rows of one incident (one per service affected) share a tag, hence an id
    service: str
    start: int
    end: int | None  # None: still open at the end of the data
    severity: str
    cause: str
    title: str


def _story(start_us: int, end_us: int) -> tuple[list[_Incident], list[_Effect], list[_ProbeEffect]]:
    """The scripted incidents and what they did to requests and checks (fixed UTC instants)."""
    incidents = [
        # A short checkout outage in August: 11 min 45 s, counted as 11 whole minutes.
        _Incident("aug-checkout", "checkout", _us("2026-08-27T10:15:20Z"),
                  _us("2026-08-27T10:27:05Z"), "sev1", "internal",
                  "Checkout pods crash-looping after a config push"),
        _Incident("aug-labels", "fulfilment", _us("2026-08-20T17:10:00Z"),
                  _us("2026-08-20T17:38:00Z"), "sev2", "upstream",
                  "Label printer queue stalled at the carrier gateway"),
        # Caused by the partner's own systems: `partner_api_us` excludes it `as available`.
        _Incident("sep-partner-sso", "partner_api", _us("2026-09-09T15:00:00Z"),
                  _us("2026-09-09T16:30:00Z"), "sev1", "partner",
                  "Partner single sign-on outage blocking API tokens"),
        _Incident("sep-storefront", "storefront", _us("2026-09-16T19:40:00Z"),
                  _us("2026-09-16T20:05:00Z"), "sev2", "internal",
                  "Product pages timing out after cache flush"),
        _Incident("sep-card-scheme", "payments-v2", _us("2026-09-24T11:00:00Z"),
                  _us("2026-09-24T14:00:00Z"), "sev2", "upstream",
                  "Card scheme slow to authorise"),
        _Incident("sep-identity", "identity", _us("2026-09-22T07:12:00Z"),
                  _us("2026-09-22T07:46:00Z"), "sev1", "internal",
                  "Sign-in failing after certificate rotation"),
        _Incident("oct-manifests", "fulfilment", _us("2026-10-06T14:02:00Z"),
                  _us("2026-10-06T14:24:00Z"), "sev3", "internal",
                  "Manifest export slow"),
        # The October story: a bad checkout release, the storefront's basket failing with it.
        _Incident("oct-checkout", "checkout", _us("2026-10-15T13:02:00Z"),
                  _us("2026-10-15T14:41:00Z"), "sev1", "internal",
                  "Checkout release 26.41 exhausting the database connection pool"),
        _Incident("oct-checkout", "storefront", _us("2026-10-15T13:05:00Z"),
                  _us("2026-10-15T13:50:00Z"), "sev2", "upstream",
                  "Basket errors while checkout is down"),
        # The November story: the order feed sheds load under a partner's bulk import.
        _Incident("nov-order-feed", "partner_api", _us("2026-11-12T17:55:00Z"),
                  _us("2026-11-12T20:10:00Z"), "sev2", "internal",
                  "Order feed returning 503 under bulk import load"),
    ]  # fmt: skip
    effects = [
        _Effect("checkout", _us("2026-08-27T10:15:20Z"), _us("2026-08-27T10:27:05Z"), 0.3,
                (502, 503)),
        _Effect("fulfilment", _us("2026-08-20T17:10:00Z"), _us("2026-08-20T17:38:00Z"), 0.5,
                (502,), ("/v1/labels",)),
        _Effect("storefront", _us("2026-09-16T19:40:00Z"), _us("2026-09-16T20:05:00Z"), 0.3,
                (504,), ("/products/{slug}",), slow_ms=10_000),
        _Effect("checkout", _us("2026-10-15T13:05:00Z"), _us("2026-10-15T14:35:00Z"), 0.85,
                (502, 503, 503, 503, 504)),
        _Effect("storefront", _us("2026-10-15T13:05:00Z"), _us("2026-10-15T13:50:00Z"), 0.5,
                (502,), ("/basket", "/basket/items")),
        _Effect("partner_api", _us("2026-11-12T18:00:00Z"), _us("2026-11-12T20:00:00Z"), 1.0,
                (503,), ("/v1/orders/feed",)),
    ]  # fmt: skip
    probe_effects = [
        _ProbeEffect("fulfilment", _us("2026-08-20T17:10:00Z"), _us("2026-08-20T17:38:00Z"),
                     0.7, "label-printing"),
        _ProbeEffect("storefront", _us("2026-09-16T19:40:00Z"), _us("2026-09-16T20:05:00Z"),
                     0.4, "browse"),
        _ProbeEffect("storefront", _us("2026-10-15T13:05:00Z"), _us("2026-10-15T13:50:00Z"),
                     0.3, "browse"),
    ]  # fmt: skip
    # Still open when the data was exported: a sev3 on checkout, 7 h 40 min before the end.
    incidents.append(
        _Incident("open", "checkout", end_us - (7 * 60 + 40) * MINUTE, None, "sev3",
                  "internal", "Intermittent slow basket page")
    )  # fmt: skip
    incidents = [i for i in incidents if start_us <= i.start < end_us]
    return incidents, effects, probe_effects


BACKGROUND = (
    "search", "inventory", "pricing", "product_catalogue", "notifications", "identity",
    "fraud_screening", "data_platform", "storefront", "checkout", "payments-v2", "partner_api",
)  # fmt: skip
# Services whose agreements count sev1/sev2 downtime, or all downtime: background noise there is
# sev3 only. Fulfilment counts every incident, so it gets none beyond the scripted ones.
SEV3_ONLY = {"storefront", "checkout", "payments-v2", "partner_api"}
CAUSES = ("internal", "upstream", "customer")
TITLES = {
    "internal": ("Elevated error rate after deploy", "Slow queries on a replica",
                 "Queue consumer lagging", "Cache hit rate dropped"),
    "upstream": ("Cloud provider network blips", "DNS resolution slow",
                 "Third-party API degraded"),
    "customer": ("Misconfigured client retrying aggressively", "Bulk export overloading API"),
}  # fmt: skip


def _incidents(rng: np.random.Generator, start_us: int, end_us: int) -> list[_Incident]:
    """The story's incidents plus a handful of minor ones a month, some overlapping."""
    story, _, _ = _story(start_us, end_us)
    span = end_us - start_us
    n = int(rng.poisson(5.0 * span / (30 * DAY)))
    minutes = np.clip(rng.lognormal(np.log(40), 0.9, n), 5, 8 * 60)
    duration = (minutes * 60).astype(np.int64) * US
    latest = np.maximum(span - duration - HOUR, 0)
    starts = start_us + (rng.random(n) * latest).astype(np.int64) // US * US
    services = rng.choice(len(BACKGROUND), n)
    sev2 = rng.random(n) < 0.25
    causes = rng.choice(len(CAUSES), n, p=[0.55, 0.3, 0.15])
    pick = rng.integers(0, 100, n)
    out = list(story)
    for i in range(n):  # one per incident: a handful a month
        svc = BACKGROUND[services[i]]
        cause = CAUSES[causes[i]]
        titles = TITLES[cause]
        out.append(
            _Incident(f"bg{i}", svc, int(starts[i]), int(starts[i] + duration[i]),
                      "sev2" if sev2[i] and svc not in SEV3_ONLY else "sev3", cause,
                      titles[pick[i] % len(titles)])
        )  # fmt: skip
    out.sort(key=lambda inc: (inc.start, inc.service))
    return out


def _incident_ids(incidents: Sequence[_Incident]) -> list[str]:
    """Numbers in order of first impact, as the incident tool hands them out."""
    ids: dict[str, str] = {}
    for inc in incidents:
        ids.setdefault(inc.tag, f"INC-{2041 + len(ids)}")
    return [ids[inc.tag] for inc in incidents]


@dataclass(frozen=True)
class _Window:
    service: str
    start: int
    end: int
    approved: bool
    change: str = ""


# Recurring change windows: (service key, time zone, ISO weekday, every n weeks, local start
# minute, length in minutes, probability of approval by the customer's change board).
CHANGE_RULES = (
    ("checkout", "Europe/London", 1, 2, 22 * 60, 90, 0.75),
    ("storefront", "Europe/Dublin", 2, 1, 5 * 60 + 30, 45, 0.85),
    ("payments-v2", "Europe/London", 3, 4, 60, 120, 1.0),
    ("fulfilment", "America/Chicago", 6, 2, 4 * 60, 60, 1.0),
)
# The partner API: every other Tuesday 09:00-10:00 UTC, announced a week ahead.
PARTNER_RULES = (("partner_api", "UTC", 1, 2, 9 * 60, 60, 1.0),)


def _windows(
    rng: np.random.Generator, rules: Sequence[tuple], start_us: int, end_us: int, prefix: str
) -> list[_Window]:
    """Maintenance windows from recurring rules (one iteration per day), numbered in time order."""
    out: list[_Window] = []
    for service, tz, weekday, every, minute, length, p_approved in rules:
        for day in _days(start_us, end_us):
            if day.weekday() != weekday or day.isocalendar().week % every:
                continue
            begin = _local_us(day, minute, tz)
            if start_us <= begin and begin + length * MINUTE <= end_us:
                approved = bool(rng.random() < p_approved)
                out.append(_Window(service, begin, begin + length * MINUTE, approved))
    out.sort(key=lambda w: (w.start, w.service))
    return [
        _Window(w.service, w.start, w.end, w.approved, f"{prefix}-{1001 + i}")
        for i, w in enumerate(out)
    ]


def _window_effects(windows: Sequence[_Window], p: float) -> list[_Effect]:
    """Changes cause blips: some requests fail during every window, approved or not."""
    return [_Effect(w.service, w.start, w.end, p, (503,)) for w in windows]


# -------------------------------------------------------------------------------- tickets


def _support_hours(start_us: int, end_us: int) -> tuple[np.ndarray, np.ndarray]:
    """The desk's opening intervals in UTC: Mon-Fri 08:00-20:00, Sat-Sun 09:00-17:00 London,
    closed on Christmas Day and New Year's Day (`support_hours` in policies/calendars.sla)."""
    opens, closes = [], []
    for day in _days(start_us, end_us + 120 * DAY):
        if (day.month, day.day) in ((12, 25), (1, 1)):
            continue
        first, last = (8 * 60, 20 * 60) if day.weekday() < 5 else (9 * 60, 17 * 60)
        opens.append(_local_us(day, first, "Europe/London"))
        closes.append(_local_us(day, last, "Europe/London"))
    return np.array(opens, dtype=np.int64), np.array(closes, dtype=np.int64)


def _after_open_time(opened: np.ndarray, work: np.ndarray, start_us: int, end_us: int):
    """The instant at which `work` microseconds of desk opening time have passed since `opened`.

    Open time is made cumulative over the desk's intervals, so the mapping and its inverse are
    two `searchsorted` calls: a ticket raised at night waits for the desk to open.
    """
    opens, closes = _support_hours(start_us, end_us)
    before = np.concatenate([[0], np.cumsum(closes - opens)])  # open time before interval k
    k = np.searchsorted(opens, opened, side="right") - 1
    k = np.maximum(k, 0)
    elapsed = before[k] + np.clip(opened - opens[k], 0, closes[k] - opens[k])
    target = elapsed + work
    j = np.searchsorted(before, target, side="left") - 1
    j = np.clip(j, 0, opens.size - 1)
    return opens[j] + (target - before[j])


PRIORITIES = ("P1", "P2", "P3", "P4")
CATEGORIES = ("incident", "request", "complaint", "billing", "delivery", "security")
CHANNELS = ("email", "phone", "web", "chat")


def _tickets(rng: np.random.Generator, start_us: int, end_us: int, scale: float) -> pa.Table:
    """Support tickets: raised mostly in desk hours, resolved in desk hours (P1 round the clock).

    Resolution effort is drawn per priority in desk-open time; a ticket whose resolution falls
    after the end of the data is still open (null `resolved_at`), and a few P4 tickets wait on
    the customer for ever.
    """
    hours = np.arange(start_us - start_us % HOUR, end_us, HOUR, dtype=np.int64)
    hour, dow = _local_hour_weekday(hours, "Europe/London")
    desk = _shape([0.1] * 8 + [2.0] * 9 + [1.2] * 3 + [0.4] * 4)
    counts = rng.poisson(40 * scale / 24 * desk[hour] * WEEK[dow])
    n = int(counts.sum())
    opened = np.repeat(hours, counts) + rng.integers(0, 3600, n) * US
    opened = np.sort(opened[(opened >= start_us) & (opened < end_us)])
    n = opened.size
    prio = rng.choice(4, n, p=[0.02, 0.12, 0.38, 0.48])
    # Complaints are rarely urgent: escalated (P1/P2) complaints stay a handful a month.
    cat_urgent = rng.choice(6, n, p=[0.5, 0.2, 0.02, 0.08, 0.1, 0.1])
    cat_normal = rng.choice(6, n, p=[0.2, 0.35, 0.12, 0.15, 0.15, 0.03])
    category = np.where(prio <= 1, cat_urgent, cat_normal)
    channel = rng.choice(4, n, p=[0.4, 0.25, 0.2, 0.15])
    # Effort in hours: P1 wall-clock (on call), the others in desk-open time.
    median = np.array([1.3, 3.0, 8.0, 30.0])[prio]
    sigma = np.array([0.4, 0.6, 0.7, 0.9])[prio]
    work = (rng.lognormal(np.log(median), sigma) * 3600).astype(np.int64) * US
    resolved = np.where(prio == 0, opened + work, _after_open_time(opened, work, start_us, end_us))
    resolved = resolved // US * US
    open_ = (resolved >= end_us) | ((prio == 3) & (rng.random(n) < 0.03))
    ids = pc.binary_join_element_wise(
        "SD-", pa.array(np.arange(40_001, 40_001 + n)).cast(pa.string()), ""
    )
    return pa.table(
        {
            "id": ids,
            "opened_at": pa.array(opened, TS_US),
            "resolved_at": pa.array(np.where(open_, 0, resolved), TS_US, mask=open_),
            "service": _labels(["support_desk"], np.zeros(n, np.int32)),
            "priority": _labels(PRIORITIES, prio),
            "category": _labels(CATEGORIES, category),
            "channel": _labels(CHANNELS, channel),
        }
    )


# -------------------------------------------------------------------- data platform tables

# (pipeline, every n minutes, median lag s, sigma, chance a batch rejects rows)
PIPELINES = (
    ("fraud_features", 5, 75.0, 0.45, 0.004),
    ("clickstream", 10, 240.0, 0.6, 0.006),
    ("orders", 15, 120.0, 0.5, 0.004),
    ("inventory_snapshots", 60, 300.0, 0.4, 0.01),
)


def _pipeline_runs(rng: np.random.Generator, start_us: int, end_us: int) -> pa.Table:
    """Batches on a schedule; lag log-normal, fraud features capped under its 15 min budget."""
    parts = []
    for code, (_, every, median, sigma, p_reject) in enumerate(PIPELINES):
        step = every * MINUTE
        slots = np.arange(start_us - start_us % step + step, end_us, step, dtype=np.int64)
        n = slots.size
        lag = rng.lognormal(np.log(median), sigma, n)
        if code == 0:  # fraud_features
            lag = np.minimum(lag, 840.0)  # the job is killed and rerun past 14 minutes
        rejected = np.where(rng.random(n) < p_reject, rng.integers(1, 20, n), 0)
        finished = slots + rng.integers(20 * US, 90 * US, n)
        parts.append((finished, np.full(n, code), np.round(lag, 3), rejected))
    finished = np.concatenate([p[0] for p in parts])
    pipeline = np.concatenate([p[1] for p in parts])
    lag = np.concatenate([p[2] for p in parts])
    rejected = np.concatenate([p[3] for p in parts]).astype(np.int64)
    # A malformed orders file in September: one batch rejects 450 rows.
    bad = np.flatnonzero((pipeline == 2) & (finished >= _us("2026-09-18T06:00:00Z")))
    if bad.size:
        rejected[bad[0]] = 450
    keep = finished < end_us
    order = np.argsort(finished[keep], kind="stable")
    finished, pipeline, lag, rejected = (
        a[keep][order] for a in (finished, pipeline, lag, rejected)
    )
    return pa.table(
        {
            # Naive timestamps, UTC by convention: the source declares `time finished_at utc`.
            "finished_at": pa.array(finished, pa.timestamp("us")),
            "service": _labels(["data_platform"], np.zeros(finished.size, np.int32)),
            "pipeline": _labels([p[0] for p in PIPELINES], pipeline),
            "lag_s": pa.array(lag, pa.float64()),
            "rows_rejected": pa.array(rejected, pa.int64()),
        }
    )


def _capacity(rng: np.random.Generator, start_us: int, end_us: int) -> pa.Table:
    """Healthy nodes every 30 s: the autoscaler follows load (4-9 nodes); short node failures
    take one out now and then. The floor of 3 is the cluster's minimum after a failure."""
    step = 30 * US
    ts = np.arange(start_us - start_us % step, end_us, step, dtype=np.int64)
    hour, _ = _local_hour_weekday(ts, UTC)
    desired = 4 + np.round(5 * (BUSINESS_DAY[hour] / BUSINESS_DAY.max())).astype(np.int64)
    healthy = desired.copy()
    n_fail = int(rng.poisson(6 * (end_us - start_us) / (30 * DAY)))
    fail_at = start_us + (rng.random(n_fail) * (end_us - start_us)).astype(np.int64)
    fail_len = rng.integers(2, 25, n_fail) * MINUTE
    for at, length in zip(fail_at, fail_len, strict=True):  # one per failure
        lo, hi = np.searchsorted(ts, [at, at + length])
        healthy[lo:hi] -= 1
    healthy = np.maximum(healthy, 3)
    return pa.table(
        {
            "sampled_at": pa.array(ts // 1000, pa.int64()),  # epoch milliseconds
            "service": _labels(["data_platform"], np.zeros(ts.size, np.int32)),
            "cluster": _labels(["dp-eu-west-2"], np.zeros(ts.size, np.int32)),
            "healthy_nodes": pa.array(healthy, pa.int64()),
        }
    )


# -------------------------------------------------------------------------------- writing


def _iso(arr: pa.Array) -> pa.Array:
    """ISO 8601 with `Z`, whole seconds (nulls stay null)."""
    return pc.strftime(arr.cast(pa.timestamp("s", tz=UTC)), format="%Y-%m-%dT%H:%M:%SZ")


def _write_parquet(table: pa.Table, path: Path, row_group_size: int = ROW_GROUP) -> None:
    pq.write_table(table, path, row_group_size=row_group_size, compression="zstd")


def _write_csv(table: pa.Table, path: Path) -> None:
    opts = pa_csv.WriteOptions(quoting_style="needed")
    pa_csv.write_csv(table, path, write_options=opts)


def _write_jsonl(table: pa.Table, path: Path) -> None:
    """JSON Lines built with Arrow string kernels (no per-row Python): values here need no
    escaping, timestamps are ISO 8601 strings with `Z`, a null is `null`."""
    pieces: list[pa.Array | str] = []
    for i, name in enumerate(table.column_names):
        col = table.column(name).combine_chunks()
        if pa.types.is_timestamp(col.type):
            col = _iso(col)
        text = col.cast(pa.string())
        if not pa.types.is_integer(col.type):
            text = pc.binary_join_element_wise('"', text, '"', "")
        text = pc.if_else(pc.is_valid(text), text, "null")
        pieces += [("{" if i == 0 else ",") + f'"{name}":', text]
    pieces.append("}\n")
    lines = pc.binary_join_element_wise(*pieces, "")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[: len(lines) + 1]
    data = lines.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]]
    path.write_bytes(data)


def _write_ipc(table: pa.Table, path: Path) -> None:
    opts = pa.ipc.IpcWriteOptions(compression="zstd")
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema, options=opts) as w:
        w.write_table(table, max_chunksize=ROW_GROUP)


def _incident_table(incidents: Sequence[_Incident]) -> pa.Table:
    open_ = np.array([i.end is None for i in incidents], dtype=bool)
    end = np.array([0 if i.end is None else i.end for i in incidents], dtype=np.int64)
    table = pa.table(
        {
            "id": pa.array(_incident_ids(incidents), pa.string()),
            "started_at": pa.array([i.start for i in incidents], TS_US),
            "resolved_at": pa.array(end, TS_US, mask=open_),
            "service": pa.array([i.service for i in incidents], pa.string()),
            "severity": pa.array([i.severity for i in incidents], pa.string()),
            "cause": pa.array([i.cause for i in incidents], pa.string()),
            "title": pa.array([i.title for i in incidents], pa.string()),
        }
    )
    return table.set_column(1, "started_at", _iso(table.column("started_at"))).set_column(
        2, "resolved_at", _iso(table.column("resolved_at"))
    )


def _window_table(windows: Sequence[_Window], start: str, end: str) -> pa.Table:
    return pa.table(
        {
            start: pa.array([w.start for w in windows], TS_US),
            end: pa.array([w.end for w in windows], TS_US),
            "service": pa.array([w.service for w in windows], pa.string()),
            "approved": pa.array([w.approved for w in windows], pa.bool_()),
            "change": pa.array([w.change for w in windows], pa.string()),
        }
    )


def _probe_table(cols: dict[str, pa.Array], conventional: bool) -> pa.Table:
    """The estate's `synthetic_checks` layout, or the standard library's `probes` layout."""
    time, key, where = ("ts", "service", "location") if conventional else (
        "checked_at", "target", "region")  # fmt: skip
    return pa.table(
        {
            time: cols["ts"],
            key: cols["key"],
            "check": cols["check"],
            "ok": cols["ok"],
            "duration_ms": cols["duration_ms"],
            where: cols["region"],
        }
    )


def generate(
    out_dir: Path,
    *,
    seed: int = 7,
    start: dt.date = dt.date(2026, 8, 1),
    end: dt.date = dt.date(2026, 11, 15),
    scale: float = 1.0,
) -> dict[str, Path]:
    """Write every table the example estate's agreements read; return {table name: path}.

    The data covers `[start 00:00Z, end 00:00Z)`. `scale` multiplies request and ticket volumes
    (checks, pipeline runs and capacity samples keep their cadence). Same arguments, same bytes.
    """
    if end <= start:
        raise ValueError(f"end ({end}) must be after start ({start})")
    if scale <= 0:
        raise ValueError(f"scale must be positive, not {scale}")
    out_dir = Path(out_dir)
    (out_dir / "partner").mkdir(parents=True, exist_ok=True)
    start_us = int(dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC).timestamp()) * US
    end_us = int(dt.datetime(end.year, end.month, end.day, tzinfo=dt.UTC).timestamp()) * US

    def rng(table: str) -> np.random.Generator:
        return np.random.default_rng([seed, _STREAM[table]])

    paths = {name: out_dir / file for name, file in FILES.items()}
    _, effects, probe_effects = _story(start_us, end_us)

    changes = _windows(rng("change_calendar"), CHANGE_RULES, start_us, end_us, "CHG")
    _write_parquet(_window_table(changes, "window_start", "window_end"), paths["change_calendar"])
    partner_windows = _windows(rng("maintenance"), PARTNER_RULES, start_us, end_us, "PCHG")
    _write_parquet(_window_table(partner_windows, "start", "end"), paths["maintenance"])

    edge = _requests(
        rng("edge_requests"), EDGE_SERVICES, start_us, end_us, scale,
        [*effects, *_window_effects(changes, 0.01)],
    )  # fmt: skip
    _write_parquet(edge, paths["edge_requests"])
    partner = _requests(
        rng("requests"), (PARTNER_SERVICE,), start_us, end_us, scale,
        [*effects, *_window_effects(partner_windows, 0.6)],
    )  # fmt: skip
    _write_parquet(partner, paths["requests"])

    # During partner maintenance the API serves a maintenance page: its checks fail too.
    partner_probe_effects = [_ProbeEffect(w.service, w.start, w.end, 0.9) for w in partner_windows]
    checks = _probes(rng("synthetic_checks"), SITE_CHECKS, start_us, end_us, probe_effects)
    _write_parquet(_probe_table(checks, conventional=False), paths["synthetic_checks"])
    probes = _probes(rng("probes"), PARTNER_CHECKS, start_us, end_us, partner_probe_effects)
    _write_parquet(_probe_table(probes, conventional=True), paths["probes"])

    _write_csv(_incident_table(_incidents(rng("incidents"), start_us, end_us)), paths["incidents"])
    _write_jsonl(_tickets(rng("helpdesk_tickets"), start_us, end_us, scale),
                 paths["helpdesk_tickets"])  # fmt: skip
    _write_parquet(_pipeline_runs(rng("pipeline_runs"), start_us, end_us), paths["pipeline_runs"])
    _write_ipc(_capacity(rng("capacity_samples"), start_us, end_us), paths["capacity_samples"])
    return paths


def write_demo(out_dir: Path, *, seed: int = 7) -> Path:
    """Generate the data and a bindings file next to it (paths relative to that file, so the
    folder can be moved); return the bindings file's path."""
    import yaml

    out_dir = Path(out_dir)
    paths = generate(out_dir, seed=seed)
    tables = {name: path.relative_to(out_dir).as_posix() for name, path in sorted(paths.items())}
    bindings = out_dir / "bindings.yaml"
    bindings.write_text(
        "# Written by `slang demo`: the example data of the policies/ estate.\n"
        + yaml.safe_dump({"version": 1, "tables": tables}, sort_keys=True),
        encoding="utf-8",
    )
    return bindings


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m slang.demo OUT_DIR [--seed N]`: write the data, print the `--data` options."""
    parser = argparse.ArgumentParser(
        prog="python -m slang.demo",
        description="Write deterministic example data for the policies/ estate.",
    )
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2026, 8, 1))
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2026, 11, 15))
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    try:
        paths = generate(
            args.out_dir, seed=args.seed, start=args.start, end=args.end, scale=args.scale
        )
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name, path in paths.items():
        print(f"--data {name}={path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
