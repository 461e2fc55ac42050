"""The resolved model: what `slang.semantics.load` makes of policies, field by field.

The planner and the engine trust the model blindly, so a wrong value here (a target in seconds
where the column is in milliseconds, a date exclusion an hour off around a DST change, a tier
silently dropped) changes money without any error. These tests therefore pin exact values,
computed by hand in the comments, and the coded diagnostics for every rule the checker enforces.

Each estate is written to a temporary directory holding a `slang.toml` (its own policy root),
and loaded from inside it, so diagnostics name files by short relative paths.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from slang.diagnostics import Diagnostic, Severity
from slang.semantics import checks, load
from slang.semantics.burn_rates import DEFAULT_BURN_RATES
from slang.semantics.model import (
    Agreement,
    Calendar,
    CreditTier,
    Exclusion,
    Model,
    Money,
    Objective,
    Period,
    RatioIndicator,
    Review,
    Selection,
    Service,
    SliceMeanIndicator,
    Source,
    Target,
    TimeslicesIndicator,
    UptimeIndicator,
    ValueIndicator,
    WeeklyWindow,
)
from slang.syntax import ast
from slang.syntax.span import NO_SPAN

FIXTURES = Path(__file__).resolve().parent / "fixtures"
UTC = dt.UTC

# A small estate most tests build on: one service, a calendar, sources with and without units.
PRELUDE = """\
catalogue "Acme" {
  service checkout { title "Checkout API" }
  service payments { key "payments-v2" }
}

calendar uk_business {
  timezone "Europe/London"
  hours    mon-fri 09:00-17:30
}

events requests from "requests" {
  key   service
  units { latency_ms: ms, queue_wait: m }
}

events plain from "plain" { key service }

events tickets from "tickets" { time opened_at }

intervals incidents from "incidents" {
  start started_at
  end   resolved_at
  key   service
}

intervals outages from "outages" { start opened_at end resolved_at }
"""

RATIO = "ratio(requests where status < 500)"


# --------------------------------------------------------------------------------- helpers


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def estate(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, str],
    *,
    as_of: dt.datetime | None = None,
) -> Model:
    """Write `files` under a fresh policy root and load the whole directory."""
    write(tmp_path, {"slang.toml": "", **files})
    monkeypatch.chdir(tmp_path)
    return load(["."], as_of=as_of)


def agreement(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    body: str,
    *,
    header: str = "service checkout\nstatus agreed\nperiod monthly\n",
    as_of: dt.datetime | None = None,
) -> Model:
    """One agreement `a` over the prelude; `body` follows the required attributes."""
    text = "agreement a {\n" + header + textwrap.dedent(body) + "\n}\n"
    return estate(tmp_path, monkeypatch, {"main.sla": PRELUDE + "\n" + text}, as_of=as_of)


def objective(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, indicator: str, target: str, extra: str = ""
) -> Model:
    """Agreement `a` with the single objective `o`."""
    body = f"objective o {{\n  indicator {indicator}\n  target {target}\n  {extra}\n}}\n"
    return agreement(tmp_path, monkeypatch, body)


def the_objective(model: Model) -> Objective:
    assert model.diagnostics == [], [(d.code, d.message) for d in model.diagnostics]
    (o,) = model.agreements["a"].objectives
    return o


def codes(model: Model) -> list[str]:
    return [d.code for d in model.diagnostics]


def the(model: Model, code: str) -> Diagnostic:
    """The one diagnostic with `code` (exactly one must exist)."""
    found = [d for d in model.diagnostics if d.code == code]
    assert len(found) == 1, [(d.code, d.message) for d in model.diagnostics]
    return found[0]


def line_of(path: Path, fragment: str) -> int:
    """The 1-based line of `path` holding `fragment`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if fragment in line)


def bare(obj):
    """The dataclass without its span, to compare with a hand-written expected value."""
    return dataclasses.replace(obj, span=NO_SPAN)


def name(*parts: str) -> ast.Name:
    return ast.Name(parts)


def lt(col: str, n: str) -> ast.BinOp:
    return ast.BinOp("<", name(col), ast.NumberLit(n))


def eq(col: str, s: str) -> ast.BinOp:
    return ast.BinOp("==", name(col), ast.StringLit(s))


# ------------------------------------------------------------------- 1. the spec example


@pytest.fixture(scope="module")
def spec_model(tmp_path_factory: pytest.TempPathFactory) -> Model:
    """The spec's example made self-contained: it imports `./shared/sources.sla`, which the
    spec does not show, so a small module with one source is provided next to it."""
    root = tmp_path_factory.mktemp("spec")
    shutil.copy(FIXTURES / "spec_example.sla", root / "checkout.sla")
    write(root, {
        "slang.toml": "",
        "shared/sources.sla": 'events pings from "pings" { key service }\n',
    })
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        return load(["checkout.sla"])


def test_spec_example_loads_cleanly_with_its_imports(spec_model: Model) -> None:
    assert spec_model.diagnostics == []
    assert [(f.path, f.origin) for f in spec_model.files] == [
        ("checkout.sla", "estate"),
        ("std/calendars.sla", "import"),
        ("shared/sources.sla", "import"),
    ]
    assert list(spec_model.agreements) == ["checkout_retail"]
    # An imported-only module keeps its own namespace: its names are prefixed by its path.
    assert spec_model.sources["shared/sources.pings"].table == "pings"
    assert {"incidents", "maintenance", "requests"} <= set(spec_model.sources)


def test_spec_example_catalogue(spec_model: Model) -> None:
    a = spec_model.agreements["checkout_retail"]
    assert a.service is spec_model.services["checkout"]
    assert bare(a.service) == Service(
        id="checkout", name="checkout", title="Checkout API", owner="payments-team",
        tier="gold", depends_on=("payments", "inventory"), key="checkout", description=None,
        internal=False,
    )
    assert spec_model.services["payments"].key == "payments-v2"
    assert spec_model.services["inventory"].key == "inventory"
    assert spec_model.services["inventory"].owner == "stock-team"


def test_spec_example_agreement_header(spec_model: Model) -> None:
    a = spec_model.agreements["checkout_retail"]
    assert a.name == "checkout_retail"
    assert a.file == "checkout.sla"
    assert a.customer == "Retail BU"
    assert a.provider == "Platform Operations"
    assert a.status == "agreed"
    assert a.effective_start == dt.date(2026, 1, 1)
    assert a.effective_end == dt.date(2026, 12, 31)
    assert a.timezone == "Europe/London"
    assert a.period == Period("monthly")
    assert a.period.label == "monthly"
    assert a.fee == Money(Decimal("12000.00"), "GBP")
    assert a.credit_cap == Decimal("0.5")
    assert a.review == Review(3, "months", None)
    assert a.notify == ("ops@acme.example", "retail@acme.example")
    assert a.notify_on == ("breach", "at_risk")
    assert a.hours is None
    assert a.description is None


def test_spec_example_sources(spec_model: Model) -> None:
    requests = spec_model.sources["requests"]
    assert bare(requests) == Source(
        id="requests", name="requests", kind="events", table="requests", time_column="ts",
        time_form="aware", start_column="start", end_column="end", key_column="service",
        units={"latency_ms": "ms"},
    )
    incidents = spec_model.sources["incidents"]
    assert (incidents.kind, incidents.start_column, incidents.end_column, incidents.key_column) \
        == ("intervals", "started_at", "resolved_at", "service")
    maintenance = spec_model.sources["maintenance"]
    assert (maintenance.kind, maintenance.start_column, maintenance.end_column) \
        == ("intervals", "start", "end")


def test_spec_example_exclusions(spec_model: Model) -> None:
    a = spec_model.agreements["checkout_retail"]
    window, source, weekly = (bare(x) for x in a.exclusions)
    assert window == Exclusion(
        "window", "datacentre migration", False,
        start=dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        end=dt.datetime(2026, 3, 29, 3, 0, tzinfo=UTC),
    )
    assert window.start is not None and window.start.utcoffset() == dt.timedelta(0)
    assert source == Exclusion(
        "source", None, False, selection=Selection(spec_model.sources["maintenance"], None)
    )
    assert weekly == Exclusion(
        "weekly", "patch window", False, weekly=WeeklyWindow(frozenset({6}), 120, 240)
    )


def test_spec_example_availability(spec_model: Model) -> None:
    availability = spec_model.agreements["checkout_retail"].objectives[0]
    assert availability.name == "availability"
    assert availability.indicator == RatioIndicator(
        total=Selection(spec_model.sources["requests"], None), good=lt("status", "500")
    )
    assert bare(availability.target) == Target(">=", Decimal("0.999"))
    assert availability.hours is None
    assert [bare(t) for t in availability.credit] == [
        CreditTier("below", Decimal("0.999"), Decimal("10")),
        CreditTier("below", Decimal("0.99"), Decimal("25")),
        CreditTier("below", Decimal("0.95"), Decimal("100")),
    ]


def test_spec_example_latency(spec_model: Model) -> None:
    latency = spec_model.agreements["checkout_retail"].objectives[1]
    assert latency.name == "latency"
    assert latency.indicator == ValueIndicator(
        function="percentile",
        selection=Selection(spec_model.sources["requests"], eq("method", "GET")),
        column="latency_ms", unit="ms", q=Decimal(95), method="nearest",
    )
    # 300ms on a column in ms: 300.
    assert bare(latency.target) == Target("<=", Decimal(300))
    assert [bare(t) for t in latency.credit] == [
        CreditTier("above", Decimal("300"), Decimal("5"))
    ]


def test_spec_example_latency_hours_are_the_calendar(spec_model: Model) -> None:
    """`hours uk_business` in the objective replaces the agreement's (absent) hours."""
    latency = spec_model.agreements["checkout_retail"].objectives[1]
    assert latency.hours is spec_model.calendars["uk_business"]
    assert bare(latency.hours) == Calendar(
        id="uk_business", name="uk_business", timezone="Europe/London",
        hours=(WeeklyWindow(frozenset({0, 1, 2, 3, 4}), 540, 1050),),
        holidays=(dt.date(2026, 1, 1), dt.date(2026, 4, 3), dt.date(2026, 4, 6),
                  dt.date(2026, 12, 25)),
    )


def test_spec_example_uptime(spec_model: Model) -> None:
    uptime = spec_model.agreements["checkout_retail"].objectives[2]
    assert uptime.name == "uptime"
    assert uptime.indicator == UptimeIndicator(
        Selection(spec_model.sources["incidents"], eq("severity", "sev1")), 60
    )
    assert bare(uptime.target) == Target(">=", Decimal("0.9995"))
    assert uptime.hours is None
    assert uptime.credit == ()


def test_spec_example_calendar_declaration(spec_model: Model) -> None:
    """The estate's `uk_business` and the stdlib's (imported as `cal`) are different objects."""
    own = spec_model.calendars["uk_business"]
    assert own.hours == (WeeklyWindow(frozenset({0, 1, 2, 3, 4}), 540, 1050),)
    assert own.holidays == (dt.date(2026, 1, 1), dt.date(2026, 4, 3), dt.date(2026, 4, 6),
                            dt.date(2026, 12, 25))
    assert "std/calendars.uk_business" in spec_model.calendars


# ------------------------------------------------------------- 2. units and conversions


@pytest.mark.parametrize(
    ("indicator", "target", "expected"),
    [
        # 0.3 s = 300 ms
        ("p95(requests.latency_ms)", "<= 0.3s", Decimal(300)),
        ("p95(requests.latency_ms)", "<= 300ms", Decimal(300)),
        # 2 h = 120 min
        ("max(requests.queue_wait)", "<= 2h", Decimal(120)),
        # 90 s = 1.5 min
        ("mean(requests.queue_wait)", "<= 90s", Decimal("1.5")),
        # 1 w = 10 080 min
        ("max(requests.queue_wait)", "<= 1w", Decimal(10080)),
        # a plain number for a column without a unit
        ("p95(plain.size)", "<= 512", Decimal(512)),
        # percentages are fractions
        (RATIO, ">= 99.95%", Decimal("0.9995")),
        (RATIO, ">= 100%", Decimal(1)),
        ("uptime(incidents)", "> 99.9%", Decimal("0.999")),
    ],
)
def test_target_in_the_indicators_units(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, indicator: str, target: str,
    expected: Decimal,
) -> None:
    o = the_objective(objective(tmp_path, monkeypatch, indicator, target))
    assert o.target.value == expected
    assert o.target.op == target.split()[0]


@pytest.mark.parametrize(
    ("indicator", "target", "fragment"),
    [
        (RATIO, ">= 300ms", "must be a percentage"),
        ("uptime(incidents)", ">= 0.999", "must be a percentage"),
        ("p95(plain.size)", "<= 300ms", "`size` has no declared unit"),
        ("p95(requests.latency_ms)", "<= 300", "`latency_ms` is in ms"),
        ("count(requests)", "<= 300ms", "no declared unit"),
    ],
)
def test_target_unit_mismatch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, indicator: str, target: str, fragment: str
) -> None:
    model = objective(tmp_path, monkeypatch, indicator, target)
    d = the(model, "SLG0301")
    assert fragment in d.message
    assert d.span.file == "main.sla"
    assert codes(model) == ["SLG0301"]
    assert model.agreements["a"].objectives == ()


def test_number_without_unit_hints_the_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = the(objective(tmp_path, monkeypatch, "p95(requests.latency_ms)", "<= 300"), "SLG0301")
    assert d.hint == "write e.g. `300ms`"


@pytest.mark.parametrize(
    "condition",
    [
        "latency_ms > 300ms",
        "requests.latency_ms >= 0.5s and queue_wait < 2h",
        "latency_ms + 5ms > 300ms",
        "latency_ms in [100ms, 200ms]",
        "status < 500 or status == 503",
        "latency_ms / 1s > 2",
    ],
)
def test_conditions_with_consistent_units(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, condition: str
) -> None:
    o = the_objective(objective(tmp_path, monkeypatch, f"count(requests where {condition})",
                                "<= 10"))
    assert o.indicator.selection.condition is not None  # type: ignore[union-attr]
    assert o.target.value == Decimal(10)


def test_duration_against_a_column_without_units(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = objective(tmp_path, monkeypatch, "count(plain where latency_ms > 300ms)", "<= 10")
    d = the(model, "SLG0301")
    assert d.message == "`latency_ms` is compared with a duration but has no declared unit"
    assert d.hint == "declare it in the source, e.g. `units { latency_ms: ms }`"


def test_column_with_unit_against_a_plain_number_in_a_condition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = objective(tmp_path, monkeypatch, "count(requests where latency_ms > 300)", "<= 10")
    assert the(model, "SLG0301").message == "cannot compare a duration with a number"


def test_difference_of_timestamps_is_a_duration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Intervals: both columns are declared timestamps, so the difference is typed a duration.
    o = the_objective(objective(
        tmp_path, monkeypatch, "uptime(outages where resolved_at - opened_at <= 4h)", ">= 99%"))
    assert o.indicator.selection.condition == ast.BinOp(  # type: ignore[union-attr]
        "<=", ast.BinOp("-", name("resolved_at"), name("opened_at")), ast.DurationLit("4", "h")
    )


def test_difference_of_timestamps_on_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    o = the_objective(objective(
        tmp_path, monkeypatch, "count(tickets where resolved_at - opened_at > 4h)", "<= 3"))
    assert o.indicator.kind == "value"


def test_difference_of_timestamps_against_a_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = objective(tmp_path, monkeypatch,
                      "uptime(outages where resolved_at - opened_at <= 4)", ">= 99%")
    assert the(model, "SLG0301").message == "cannot compare a duration with a number"


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ('status == "x" + 1', "cannot compute a string + a number"),
        ('status == "x" - 2026-01-01', "cannot compute a string - a date"),
        ('latency_ms > "slow"', "cannot compare a duration with a string"),
        ("latency_ms * latency_ms > 1ms", "cannot compute a duration * a duration"),
        ("2026-01-01 < 300ms", "cannot compare a date with a duration"),
    ],
)
def test_nonsense_arithmetic_and_comparisons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, condition: str, message: str
) -> None:
    model = objective(tmp_path, monkeypatch, f"count(requests where {condition})", "<= 10")
    assert the(model, "SLG0301").message == message


@pytest.mark.parametrize("q", ["0", "101", "100.5"])
def test_percentile_out_of_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, q: str
) -> None:
    model = objective(tmp_path, monkeypatch, f"percentile(requests.latency_ms, {q})", "<= 300ms")
    d = the(model, "SLG0302")
    assert d.message == "the percentile must be a number above 0 and at most 100"
    assert codes(model) == ["SLG0302"]


def test_percentile_100_is_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    o = the_objective(objective(tmp_path, monkeypatch, "percentile(requests.latency_ms, 100)",
                                "<= 1s"))
    assert o.indicator.q == Decimal(100)  # type: ignore[union-attr]
    assert o.target.value == Decimal(1000)


def test_target_above_100_percent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = objective(tmp_path, monkeypatch, RATIO, ">= 100.5%")
    assert the(model, "SLG0302").message == "100.5% is not between 0% and 100%"


@pytest.mark.parametrize("cap", ["0%", "150%"])
def test_credit_cap_out_of_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cap: str
) -> None:
    model = agreement(tmp_path, monkeypatch, f"credit_cap {cap}\n"
                      f"objective o {{ indicator {RATIO} target >= 99% }}")
    d = the(model, "SLG0302")
    assert d.message == f"`credit_cap` {cap} is out of range"
    assert model.agreements["a"].credit_cap is None


def test_credit_cap_100_percent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch,
                      f"credit_cap 100%\nobjective o {{ indicator {RATIO} target >= 99% }}")
    assert model.diagnostics == []
    assert model.agreements["a"].credit_cap == Decimal(1)


MONTHS_HINT = (
    "months and years are periods, not durations: use `period monthly`, "
    "or a length in days such as `30d`"
)
MINUTES_HINT = "write minutes as `m`, e.g. `5m`"
BAD_UNITS = [("1mo", MONTHS_HINT), ("5min", MINUTES_HINT)]

# Every place a duration is written inside an objective; `{d}` is replaced by the typo.
BAD_DURATIONS = [
    pytest.param("p95(requests.latency_ms)", "<= {d}", id="target"),
    pytest.param("count(requests where latency_ms > {d})", "<= 10", id="condition"),
    pytest.param("uptime(incidents, granularity: {d})", ">= 99%", id="granularity"),
    pytest.param(f"timeslices({{d}}, {RATIO} >= 99%)", ">= 99%", id="slice"),
    pytest.param("timeslices(5m, p95(requests.latency_ms) <= {d})", ">= 99%",
                 id="slice threshold"),
]


@pytest.mark.parametrize(("bad", "hint"), BAD_UNITS, ids=["1mo", "5min"])
@pytest.mark.parametrize(("indicator", "target"), BAD_DURATIONS)
def test_months_and_minutes_are_not_durations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: str, hint: str, indicator: str,
    target: str,
) -> None:
    model = objective(tmp_path, monkeypatch, indicator.format(d=bad), target.format(d=bad))
    d = the(model, "SLG0303")
    assert d.message == f"`{bad}` is not a duration"
    assert d.hint == hint


@pytest.mark.parametrize(("bad", "hint"), BAD_UNITS, ids=["1mo", "5min"])
@pytest.mark.parametrize(("indicator", "target"), BAD_DURATIONS)
def test_a_bad_duration_is_reported_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: str, hint: str, indicator: str,
    target: str,
) -> None:
    """One mistake, one diagnostic: no second error about the same literal's type."""
    model = objective(tmp_path, monkeypatch, indicator.format(d=bad), target.format(d=bad))
    assert codes(model) == ["SLG0303"]


@pytest.mark.parametrize(("bad", "hint"), BAD_UNITS, ids=["1mo", "5min"])
def test_bad_duration_in_a_rolling_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: str, hint: str
) -> None:
    model = agreement(tmp_path, monkeypatch, f"objective o {{ indicator {RATIO} target >= 99% }}",
                      header=f"service checkout\nstatus agreed\nperiod rolling {bad}\n")
    d = the(model, "SLG0303")
    assert d.hint == hint


@pytest.mark.parametrize(("bad", "hint"), BAD_UNITS, ids=["1mo", "5min"])
def test_bad_duration_in_a_credit_tier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: str, hint: str
) -> None:
    model = agreement(tmp_path, monkeypatch, "fee 100.00 GBP\n"
                      "objective o { indicator p95(requests.latency_ms) target <= 300ms }\n"
                      f"credit o {{ above {bad} => 5% }}")
    d = the(model, "SLG0303")
    assert d.hint == hint


def test_rolling_period_in_hours(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, f"objective o {{ indicator {RATIO} target >= 99% }}",
                      header="service checkout\nstatus agreed\nperiod rolling 28d\n")
    assert model.diagnostics == []
    # 28 × 86 400 s
    assert model.agreements["a"].period == Period("rolling", 2419200)
    assert model.agreements["a"].period.label == "rolling 28d"


# ------------------------------------------------------------------------ 3. indicators


def test_ratio_of_one_selection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = objective(tmp_path, monkeypatch, RATIO, ">= 99%")
    o = the_objective(model)
    assert o.indicator == RatioIndicator(Selection(model.sources["requests"], None),
                                         lt("status", "500"))


def test_ratio_of_two_selections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """good = C1 and C2, total = C2: the good rows are always a subset of the total."""
    model = objective(
        tmp_path, monkeypatch,
        'ratio(requests where status < 500, requests where method != "OPTIONS")', ">= 99%",
    )
    o = the_objective(model)
    c2 = ast.BinOp("!=", name("method"), ast.StringLit("OPTIONS"))
    assert o.indicator == RatioIndicator(
        total=Selection(model.sources["requests"], c2),
        good=ast.BinOp("and", lt("status", "500"), c2),
    )


def test_ratio_of_two_different_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = objective(tmp_path, monkeypatch,
                      'ratio(requests where status < 500, plain where method != "OPTIONS")',
                      ">= 99%")
    d = the(model, "SLG0422")
    assert d.message == "both arguments of `ratio` must read the same source"
    assert model.agreements["a"].objectives == ()


def test_ratio_without_a_condition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = objective(tmp_path, monkeypatch, "ratio(requests)", ">= 99%")
    assert the(model, "SLG0414").message == "`ratio` needs a condition for the good rows"


@pytest.mark.parametrize(("fn", "q"), [("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)])
def test_percentile_shorthands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fn: str, q: int
) -> None:
    model = objective(tmp_path, monkeypatch, f'{fn}(requests.latency_ms where method == "GET")',
                      "<= 1s")
    o = the_objective(model)
    assert o.indicator == ValueIndicator(
        "percentile", Selection(model.sources["requests"], eq("method", "GET")),
        "latency_ms", "ms", Decimal(q), "nearest",
    )
    assert o.target.value == Decimal(1000)


def test_percentile_linear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = objective(tmp_path, monkeypatch,
                      "percentile(requests.latency_ms, 99.9, method: linear)", "<= 2s")
    o = the_objective(model)
    assert o.indicator == ValueIndicator(
        "percentile", Selection(model.sources["requests"], None), "latency_ms", "ms",
        Decimal("99.9"), "linear",
    )
    assert o.target.value == Decimal(2000)


def test_percentile_method_must_be_a_known_word(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = objective(tmp_path, monkeypatch, "p95(requests.latency_ms, method: cubic)", "<= 1s")
    assert the(model, "SLG0415").message == "`method:` must be one of nearest, linear"


@pytest.mark.parametrize("fn", ["mean", "max", "min", "sum"])
def test_aggregates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fn: str) -> None:
    model = objective(tmp_path, monkeypatch, f"{fn}(requests.queue_wait where status >= 500)",
                      "<= 30s")
    o = the_objective(model)
    assert o.indicator == ValueIndicator(
        fn, Selection(model.sources["requests"], ast.BinOp(">=", name("status"),
                                                           ast.NumberLit("500"))),
        "queue_wait", "m", None, "nearest",
    )
    assert o.target.value == Decimal("0.5")  # 30 s in minutes


def test_aggregate_of_a_column_without_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = objective(tmp_path, monkeypatch, "sum(plain.bytes)", "<= 1000000")
    o = the_objective(model)
    assert o.indicator == ValueIndicator("sum", Selection(model.sources["plain"], None),
                                         "bytes", None)
    assert o.target.value == Decimal(1000000)


def test_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = objective(tmp_path, monkeypatch, "count(requests where status >= 500)", "<= 10")
    o = the_objective(model)
    assert o.indicator == ValueIndicator(
        "count", Selection(model.sources["requests"],
                           ast.BinOp(">=", name("status"), ast.NumberLit("500"))),
        None, None,
    )


def test_aggregate_needs_a_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = objective(tmp_path, monkeypatch, "mean(requests)", "<= 1s")
    assert the(model, "SLG0310").message == "name the column to aggregate, e.g. " \
        "`requests.latency_ms`"


def test_uptime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = objective(tmp_path, monkeypatch, "uptime(incidents)", ">= 99.5%")
    o = the_objective(model)
    assert o.indicator == UptimeIndicator(Selection(model.sources["incidents"], None), None)
    assert o.target.value == Decimal("0.995")


def test_uptime_granularity_in_seconds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    o = the_objective(objective(tmp_path, monkeypatch, "uptime(incidents, granularity: 1h)",
                                ">= 99%"))
    assert o.indicator.granularity_seconds == 3600  # type: ignore[union-attr]


def test_uptime_of_an_events_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = objective(tmp_path, monkeypatch, "uptime(requests)", ">= 99%")
    d = the(model, "SLG0421")
    assert "`requests` is an events source" in d.message
    assert "intervals" in d.message


def test_ratio_of_an_intervals_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = objective(tmp_path, monkeypatch, 'ratio(incidents where severity == "sev1")',
                      ">= 99%")
    assert "`incidents` is an intervals source" in the(model, "SLG0421").message


def test_timeslices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = objective(tmp_path, monkeypatch,
                      "timeslices(5m, p95(requests.latency_ms) <= 300ms, empty: bad)", ">= 99%")
    o = the_objective(model)
    assert o.indicator == TimeslicesIndicator(
        slice_seconds=300,
        inner=ValueIndicator("percentile", Selection(model.sources["requests"], None),
                             "latency_ms", "ms", Decimal(95)),
        op="<=", threshold=Decimal(300), empty="bad",
    )
    assert o.target.value == Decimal("0.99")


def test_timeslices_default_empty_is_good(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    o = the_objective(objective(tmp_path, monkeypatch,
                                "timeslices(1m, p95(requests.latency_ms) < 0.25s)", ">= 95%"))
    ind = o.indicator
    assert isinstance(ind, TimeslicesIndicator)
    assert (ind.slice_seconds, ind.op, ind.threshold, ind.empty) == (60, "<", Decimal(250), "good")


def test_timeslices_of_a_ratio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = objective(tmp_path, monkeypatch, f"timeslices(1h, {RATIO} >= 99.5%, empty: skip)",
                      ">= 90%")
    ind = the_objective(model).indicator
    assert ind == TimeslicesIndicator(
        3600, RatioIndicator(Selection(model.sources["requests"], None), lt("status", "500")),
        ">=", Decimal("0.995"), "skip",
    )


def test_slice_mean_of_a_ratio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = objective(tmp_path, monkeypatch, f"slice_mean(5m, {RATIO})", ">= 99%")
    o = the_objective(model)
    assert o.indicator == SliceMeanIndicator(
        300, RatioIndicator(Selection(model.sources["requests"], None), lt("status", "500")),
        "good",
    )
    assert o.target.value == Decimal("0.99")


def test_slice_mean_of_a_mean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Empty slices have no mean: they are skipped by default, and the target takes the
    inner column's unit."""
    model = objective(tmp_path, monkeypatch, "slice_mean(1m, mean(requests.latency_ms))",
                      "<= 0.2s")
    o = the_objective(model)
    assert o.indicator == SliceMeanIndicator(
        60, ValueIndicator("mean", Selection(model.sources["requests"], None), "latency_ms",
                           "ms"),
        "skip",
    )
    assert o.target.value == Decimal(200)


def test_slice_mean_of_a_mean_cannot_count_empty_slices_good(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = objective(tmp_path, monkeypatch,
                      "slice_mean(1m, mean(requests.latency_ms), empty: good)", "<= 200ms")
    d = the(model, "SLG0415")
    assert d.hint == "write `empty: skip`"


def test_slice_mean_rejects_bad(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = objective(tmp_path, monkeypatch, f"slice_mean(5m, {RATIO}, empty: bad)", ">= 99%")
    assert the(model, "SLG0415").message == "`empty:` must be one of good, skip"


def test_uptime_cannot_be_sliced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = objective(tmp_path, monkeypatch, "slice_mean(5m, uptime(incidents))", ">= 99%")
    assert the(model, "SLG0414").message == "`uptime` cannot be measured per slice"


def test_unknown_indicator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = objective(tmp_path, monkeypatch, "ratoi(requests where status < 500)", ">= 99%")
    d = the(model, "SLG0413")
    assert d.message == "unknown indicator `ratoi`"
    assert d.hint == "did you mean `ratio`?"


@pytest.mark.parametrize(
    ("indicator", "message"),
    [
        ("p95(requests.latency_ms, 95)", "`p95` takes 1 positional argument, found 2"),
        ("percentile(requests.latency_ms)", "`percentile` takes 2 positional arguments, found 1"),
        ("ratio(requests where status < 500, requests, requests)",
         "`ratio` takes 1 or 2 positional arguments, found 3"),
        ("count(requests, requests)", "`count` takes 1 positional argument, found 2"),
        ("timeslices(5m)", "`timeslices` takes 2 positional arguments, found 1"),
    ],
)
def test_wrong_arity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, indicator: str, message: str
) -> None:
    target = "<= 1s" if "latency" in indicator else ">= 99%"
    if indicator.startswith("count"):
        target = "<= 10"
    model = objective(tmp_path, monkeypatch, indicator, target)
    assert the(model, "SLG0414").message == message


@pytest.mark.parametrize(
    ("indicator", "target", "hint"),
    [
        ("p95(requests.latency_ms, metod: linear)", "<= 1s", "did you mean `method`?"),
        ("ratio(requests where status < 500, empty: bad)", ">= 99%",
         "this indicator takes no named arguments"),
        ("uptime(incidents, granularty: 1m)", ">= 99%", "did you mean `granularity`?"),
    ],
)
def test_unknown_named_argument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, indicator: str, target: str, hint: str
) -> None:
    model = objective(tmp_path, monkeypatch, indicator, target)
    d = the(model, "SLG0415")
    assert d.message.startswith("unknown argument `")
    assert d.hint == hint


# ------------------------------------------------------------------------------ 4. names


def test_duplicate_across_two_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = estate(tmp_path, monkeypatch, {
        "a.sla": 'events requests from "requests" { key service }\n',
        "b.sla": '# the same name again\n\nevents requests from "requests_v2" { }\n',
    })
    d = the(model, "SLG0201")
    assert d.message == "`requests` is declared twice"
    assert d.hint is not None and d.hint.startswith("first declared at a.sla:1:1")
    assert (d.span.file, d.span.line) == ("b.sla", 3)
    # The first declaration wins.
    assert model.sources["requests"].table == "requests"


def test_duplicate_across_kinds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Calendars, sources, schedules and agreements share one namespace."""
    model = estate(tmp_path, monkeypatch, {
        "a.sla": 'calendar office { timezone "UTC" }\n',
        "b.sla": 'events office from "office" { }\n',
    })
    assert the(model, "SLG0201").message == "`office` is declared twice"


def test_unknown_calendar_in_objective_hours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = objective(tmp_path, monkeypatch, RATIO, ">= 99%", "hours uk_busines")
    d = the(model, "SLG0202")
    assert d.message == "unknown calendar `uk_busines`"
    assert d.hint == "did you mean `uk_business`?"


def test_unknown_calendar_in_agreement_hours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = agreement(tmp_path, monkeypatch,
                      f"hours uk_busines\nobjective o {{ indicator {RATIO} target >= 99% }}")
    d = the(model, "SLG0202")
    assert d.hint == "did you mean `uk_business`?"


def test_unknown_calendar_in_business_duration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = objective(
        tmp_path, monkeypatch,
        "count(tickets where business_duration(opened_at, resolved_at, uk_busines) > 4h)",
        "<= 3",
    )
    d = the(model, "SLG0202")
    assert d.message == "unknown calendar `uk_busines`"
    assert d.hint == "did you mean `uk_business`?"


def test_agreement_and_objective_hours(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An objective's `hours` replaces the agreement's; without one it inherits them."""
    model = estate(tmp_path, monkeypatch, {
        "cal.sla": 'calendar round_the_clock { timezone "UTC" }\n',
        "main.sla": PRELUDE + f"""
agreement a {{
  service checkout
  status agreed
  period monthly
  hours uk_business
  objective inherits {{ indicator {RATIO} target >= 99% }}
  objective own {{ indicator {RATIO} target >= 99% hours round_the_clock }}
}}
""",
    })
    assert model.diagnostics == []
    a = model.agreements["a"]
    assert a.hours is model.calendars["uk_business"]
    inherits, own = a.objectives
    assert inherits.hours is model.calendars["uk_business"]
    assert own.hours is model.calendars["round_the_clock"]
    assert model.calendars["round_the_clock"].hours == ()


def test_unknown_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, f"objective o {{ indicator {RATIO} target >= 99% }}",
                      header="service chekout\nstatus agreed\nperiod monthly\n")
    d = the(model, "SLG0203")
    assert d.message == "unknown service `chekout` in the catalogue"
    assert d.hint == "did you mean `checkout`?"
    assert model.agreements == {}


def test_credit_for_unknown_objective(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, f"""
        fee 100.00 GBP
        objective availability {{ indicator {RATIO} target >= 99.9% }}
        credit availabilty {{ below 99.9% => 10% }}
        """)
    d = the(model, "SLG0202")
    assert d.message == "credit for unknown objective `availabilty`"
    assert d.hint == "did you mean `availability`?"


def test_source_used_as_a_calendar_in_hours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = objective(tmp_path, monkeypatch, RATIO, ">= 99%", "hours requests")
    d = the(model, "SLG0208")
    assert d.message == "`requests` is a source, not a calendar"
    assert d.hint is not None and d.hint.startswith("declared at main.sla:")


def test_source_used_as_a_calendar_in_business_duration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = objective(
        tmp_path, monkeypatch,
        "count(tickets where business_duration(opened_at, resolved_at, requests) > 4h)", "<= 3",
    )
    assert the(model, "SLG0208").message == "`requests` is a source, not a calendar"


def test_calendar_used_as_a_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = objective(tmp_path, monkeypatch, "ratio(uk_business where status < 500)", ">= 99%")
    assert the(model, "SLG0208").message == "`uk_business` is a calendar, not a source"


def test_dependency_cycle_reported_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = estate(tmp_path, monkeypatch, {"catalogue.sla": """\
        catalogue "Acme" {
          service c { depends_on a }
          service b { depends_on c }
          service a { depends_on b }
          service d { depends_on a }
        }
        """})
    d = the(model, "SLG0401")
    assert "a -> b -> c -> a" in d.message
    assert codes(model) == ["SLG0401"]
    assert model.services["a"].depends_on == ("b",)


def test_self_dependency(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = estate(tmp_path, monkeypatch,
                   {"c.sla": 'catalogue "Acme" { service a { depends_on a } }\n'})
    assert "a -> a" in the(model, "SLG0401").message


def test_dependency_across_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = estate(tmp_path, monkeypatch, {
        "a.sla": 'catalogue "A" { service web { depends_on db } }\n',
        "b.sla": 'catalogue "B" { service db { } }\n',
    })
    assert model.diagnostics == []
    assert model.services["web"].depends_on == ("db",)


def test_unknown_dependency(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = estate(tmp_path, monkeypatch, {"c.sla": """\
        catalogue "Acme" {
          service checkout { depends_on paymnts }
          service payments { }
        }
        """})
    d = the(model, "SLG0203")
    assert d.message == "unknown service `paymnts` in the catalogue"
    assert d.hint == "did you mean `payments`?"
    assert model.services["checkout"].depends_on == ()


# ------------------------------------------------------------ 5. agreements and calendars


def test_effective_end_before_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, "effective 2026-12-31 .. 2026-01-01\n"
                      f"objective o {{ indicator {RATIO} target >= 99% }}")
    assert the(model, "SLG0402").message == \
        "`effective` ends (2026-01-01) before it starts (2026-12-31)"


def test_effective_open_ended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch,
                      f"effective 2026-01-16 ..\nobjective o {{ indicator {RATIO} target >= 99% }}")
    assert model.diagnostics == []
    a = model.agreements["a"]
    assert (a.effective_start, a.effective_end) == (dt.date(2026, 1, 16), None)
    assert a.timezone == "UTC"  # the default


def test_unknown_time_zone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, 'timezone "Europe/Londn"\n'
                      f"objective o {{ indicator {RATIO} target >= 99% }}")
    d = the(model, "SLG0403")
    assert d.message == "unknown time zone `Europe/Londn`"
    assert d.hint == "did you mean `Europe/London`?"


def test_unknown_time_zone_in_a_calendar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = estate(tmp_path, monkeypatch,
                   {"c.sla": 'calendar c { timezone "America/New_Yrok" }\n'})
    assert the(model, "SLG0403").hint == "did you mean `America/New_York`?"


def test_overlapping_hours(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = estate(tmp_path, monkeypatch, {"c.sla": """\
        calendar c {
          timezone "UTC"
          hours mon-fri 09:00-17:00
          hours fri 16:00-18:00
        }
        """})
    d = the(model, "SLG0404")
    assert d.message == "these hours overlap hours given before on fri"
    assert d.span.line == 4


def test_adjacent_hours_do_not_overlap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = estate(tmp_path, monkeypatch, {"c.sla": """\
        calendar c {
          timezone "Europe/Paris"
          hours mon-fri 09:00-12:00
          hours mon-fri 12:00-17:00
          hours sat,sun 22:00-24:00
          holidays 2026-12-25, 2026-01-01
          holidays 2026-12-25
        }
        """})
    assert model.diagnostics == []
    assert bare(model.calendars["c"]) == Calendar(
        "c", "c", "Europe/Paris",
        (WeeklyWindow(frozenset(range(5)), 540, 720),
         WeeklyWindow(frozenset(range(5)), 720, 1020),
         WeeklyWindow(frozenset({5, 6}), 1320, 1440)),
        (dt.date(2026, 1, 1), dt.date(2026, 12, 25)),  # sorted, each day once
    )


def test_overnight_hours_run_backwards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = estate(tmp_path, monkeypatch,
                   {"c.sla": 'calendar c {\n  timezone "UTC"\n  hours mon-fri 17:00-09:00\n}\n'})
    d = the(model, "SLG0405")
    assert d.message == "the window 17:00-09:00 is empty or runs backwards"
    assert model.calendars["c"].hours == ()


def test_weekday_range_backwards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = estate(tmp_path, monkeypatch,
                   {"c.sla": 'calendar c {\n  timezone "UTC"\n  hours fri-mon 09:00-17:00\n}\n'})
    assert the(model, "SLG0405").message == "weekday range `fri-mon` runs backwards"


def test_weekly_exclusion_backwards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, "exclude weekly sun 04:00-02:00\n"
                      f"objective o {{ indicator {RATIO} target >= 99% }}")
    assert the(model, "SLG0405").message == "the window 04:00-02:00 is empty or runs backwards"
    assert model.agreements["a"].exclusions == ()


def test_above_tier_on_a_ge_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, f"""
        fee 100.00 GBP
        objective o {{ indicator {RATIO} target >= 99.9% }}
        credit o {{
          above 99.9% => 10%
        }}
        """)
    d = the(model, "SLG0406")
    assert "can never apply" in d.message


def test_below_tier_on_a_le_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, """
        fee 100.00 GBP
        objective o { indicator p95(requests.latency_ms) target <= 300ms }
        credit o { below 300ms => 10% }
        """)
    assert "can never apply" in the(model, "SLG0406").message


def test_dominated_tier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whenever `below 99.0%` matches, `below 99.9%` matches too and gives more."""
    model = agreement(tmp_path, monkeypatch, f"""
        fee 100.00 GBP
        objective o {{ indicator {RATIO} target >= 99.9% }}
        credit o {{
          below 99.9% => 25%
          below 99.0% => 10%
        }}
        """)
    d = the(model, "SLG0406")
    assert d.span.line == line_of(tmp_path / "main.sla", "below 99.0% => 10%")
    assert "whenever it matches" in d.message


def test_same_threshold_smaller_credit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`below 99.9% => 10%` never decides: whenever it matches, the 20 % tier at the same
    threshold matches too and the largest credit applies."""
    model = agreement(tmp_path, monkeypatch, f"""
        fee 100.00 GBP
        objective o {{ indicator {RATIO} target >= 99.9% }}
        credit o {{
          below 99.9% => 10%
          below 99.9% => 20%
        }}
        """)
    d = the(model, "SLG0406")
    assert d.span.line == line_of(tmp_path / "main.sla", "below 99.9% => 10%")


def test_same_threshold_smaller_credit_above(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = agreement(tmp_path, monkeypatch, """
        fee 100.00 GBP
        objective o { indicator p95(requests.latency_ms) target <= 300ms }
        credit o {
          above 300ms => 10%
          above 0.3s => 20%
        }
        """)
    d = the(model, "SLG0406")
    assert d.span.line == line_of(tmp_path / "main.sla", "above 300ms => 10%")


def test_duplicate_tier_reported_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, f"""
        fee 100.00 GBP
        objective o {{ indicator {RATIO} target >= 99.9% }}
        credit o {{
          below 99.9% => 10%
          below 99.9% => 10%
        }}
        """)
    d = the(model, "SLG0406")
    lines = (tmp_path / "main.sla").read_text().splitlines()
    assert d.span.line == max(i for i, x in enumerate(lines, 1) if "below 99.9% => 10%" in x)


def test_well_ordered_tiers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, """
        fee 100.00 GBP
        objective o { indicator p95(requests.latency_ms) target <= 300ms }
        credit o {
          above 300ms => 5%
          above 0.5s => 10%
          above 1s => 20%
        }
        """)
    assert model.diagnostics == []
    assert [bare(t) for t in model.agreements["a"].objectives[0].credit] == [
        CreditTier("above", Decimal(300), Decimal(5)),
        CreditTier("above", Decimal(500), Decimal(10)),
        CreditTier("above", Decimal(1000), Decimal(20)),
    ]


def test_credit_tier_needs_the_targets_units(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = agreement(tmp_path, monkeypatch, f"""
        fee 100.00 GBP
        objective o {{ indicator {RATIO} target >= 99.9% }}
        credit o {{ below 300ms => 10% }}
        """)
    assert "must be a percentage" in the(model, "SLG0301").message


def test_credit_schedule_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A schedule's thresholds get their units from the objective using it."""
    model = estate(tmp_path, monkeypatch, {
        "credits.sla": "credits slow { above 300ms => 5%\n above 2s => 50% }\n",
        "main.sla": PRELUDE + """
agreement a {
  service checkout
  status agreed
  period monthly
  fee 1000.00 EUR
  objective latency { indicator p99(requests.queue_wait) target <= 300ms }
  credit latency slow
}
""",
    })
    assert model.diagnostics == []
    # 300 ms = 0.005 min; 2 s = 1/30 min, exactly as Decimal division gives it
    assert [bare(t) for t in model.agreements["a"].objectives[0].credit] == [
        CreditTier("above", Decimal("0.005"), Decimal(5)),
        CreditTier("above", Decimal(2) / Decimal(60), Decimal(50)),
    ]
    assert model.schedules["slow"].name == "slow"


def test_no_objectives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, 'customer "Retail"\n')
    assert the(model, "SLG0407").message == "agreement `a` has no objectives"


def test_missing_required_attributes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, f"objective o {{ indicator {RATIO} target >= 99% }}",
                      header='customer "Retail"\n')
    assert sorted(d.message for d in model.diagnostics if d.code == "SLG0408") == [
        "agreement `a` has no `period`",
        "agreement `a` has no `service`",
        "agreement `a` has no `status`",
    ]
    assert codes(model) == ["SLG0408"] * 3
    assert model.agreements == {}


def test_credits_on_a_rolling_period(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, f"""
        fee 100.00 GBP
        objective o {{ indicator {RATIO} target >= 99.9% }}
        credit o {{ below 99.9% => 10% }}
        """, header="service checkout\nstatus agreed\nperiod rolling 28d\n")
    assert the(model, "SLG0416").message == "credits are not allowed on a rolling period"


def test_date_exclusion_across_the_spring_clock_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """London's clocks go forward at 01:00 UTC on Sunday 29 March 2026. The 28th begins at
    00:00 GMT = 00:00Z; the day after the 29th begins at 00:00 BST = 23:00Z on the 29th. So
    the two whole days are 47 hours long."""
    model = agreement(tmp_path, monkeypatch, 'timezone "Europe/London"\n'
                      'exclude 2026-03-28 .. 2026-03-29 "move"\n'
                      f"objective o {{ indicator {RATIO} target >= 99% }}")
    (x,) = model.agreements["a"].exclusions
    assert bare(x) == Exclusion("window", "move", False,
                                start=dt.datetime(2026, 3, 28, 0, 0, tzinfo=UTC),
                                end=dt.datetime(2026, 3, 29, 23, 0, tzinfo=UTC))
    assert x.end is not None and x.start is not None
    assert x.end - x.start == dt.timedelta(hours=47)


def test_date_exclusion_across_the_autumn_clock_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New York falls back on Sunday 1 November 2026: that day starts at 00:00 EDT (04:00Z) and
    the next at 00:00 EST (05:00Z): a 25-hour day."""
    model = agreement(tmp_path, monkeypatch, 'timezone "America/New_York"\n'
                      "exclude 2026-11-01 .. 2026-11-01\n"
                      f"objective o {{ indicator {RATIO} target >= 99% }}")
    (x,) = model.agreements["a"].exclusions
    assert (x.start, x.end) == (dt.datetime(2026, 11, 1, 4, 0, tzinfo=UTC),
                                dt.datetime(2026, 11, 2, 5, 0, tzinfo=UTC))
    assert x.reason is None


def test_timestamp_exclusion_with_an_offset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = agreement(tmp_path, monkeypatch,
                      "exclude 2026-07-01T09:00:00+02:00 .. 2026-07-01T10:30:00+02:00\n"
                      f"objective o {{ indicator {RATIO} target >= 99% }}")
    (x,) = model.agreements["a"].exclusions
    assert (x.start, x.end) == (dt.datetime(2026, 7, 1, 7, 0, tzinfo=UTC),
                                dt.datetime(2026, 7, 1, 8, 30, tzinfo=UTC))
    assert x.start is not None and x.start.tzinfo is UTC


def test_source_exclusion_with_a_condition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = agreement(tmp_path, monkeypatch, "exclude outages where approved == true\n"
                      f"objective o {{ indicator {RATIO} target >= 99% }}")
    (x,) = model.agreements["a"].exclusions
    assert bare(x) == Exclusion("source", None, False, selection=Selection(
        model.sources["outages"], ast.BinOp("==", name("approved"), ast.BoolLit(True))))


def test_exclusion_of_an_events_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch,
                      f"exclude requests\nobjective o {{ indicator {RATIO} target >= 99% }}")
    assert "`requests` is an events source" in the(model, "SLG0421").message


def test_exclusion_as_available(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, 'exclude incidents "planned" as available\n'
                      f"objective o {{ indicator {RATIO} target >= 99% }}")
    (x,) = model.agreements["a"].exclusions
    assert bare(x) == Exclusion("source", "planned", True,
                                selection=Selection(model.sources["incidents"], None))


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ("2026-03-29 .. 2026-03-28", "the exclusion's last day is before its first"),
        ("2026-03-29T03:00:00Z .. 2026-03-29T01:00:00Z",
         "the exclusion window ends before it starts"),
        ("2026-03-29T03:00:00Z .. 2026-03-29T03:00:00Z",
         "the exclusion window ends before it starts"),
    ],
)
def test_exclusion_backwards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: str, message: str
) -> None:
    model = agreement(tmp_path, monkeypatch,
                      f"exclude {window}\nobjective o {{ indicator {RATIO} target >= 99% }}")
    assert the(model, "SLG0402").message == message


@pytest.mark.parametrize(
    ("body", "code", "message", "hint"),
    [
        ("fee 10.001 GBP", "SLG0304", "GBP has 2 decimal places, but the fee has 3", None),
        ("fee 10.5 JPY", "SLG0304", "JPY has 0 decimal places, but the fee has 1", None),
        ("fee 10 GPB", "SLG0304", "`GPB` is not an ISO 4217 currency code",
         "did you mean `GBP`?"),
        ("period daily", "SLG0410", "`period` is given twice in this agreement", None),
        ('notify "x@acme.example" on breach, breech', "SLG0417",
         "unknown notification event `breech`", "did you mean `breach`?"),
        ("review every 0 months", "SLG0418", "the review interval is a whole number above 0",
         None),
        ("exclude incidents as availble", "SLG0423", "unknown exclusion mode `availble`",
         "the only mode is `as available`"),
    ],
    ids=["minor units", "yen", "currency typo", "twice", "notify", "review", "mode"],
)
def test_other_agreement_attribute_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, code: str, message: str,
    hint: str | None,
) -> None:
    model = agreement(tmp_path, monkeypatch,
                      f"{body}\nobjective o {{ indicator {RATIO} target >= 99% }}")
    d = the(model, code)
    assert d.message == message
    if hint is not None:
        assert d.hint == hint


@pytest.mark.parametrize(
    ("header", "code", "message"),
    [
        ("service checkout\nstatus agred\nperiod monthly\n", "SLG0411",
         "unknown status `agred`"),
        ("service checkout\nstatus agreed\nperiod montly\n", "SLG0412",
         "unknown period `montly`"),
        ("service checkout\nstatus agreed\nperiod rolling 90m\n", "SLG0412",
         "a rolling window is a whole number of hours"),
    ],
)
def test_status_and_period_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, header: str, code: str, message: str
) -> None:
    model = agreement(tmp_path, monkeypatch, f"objective o {{ indicator {RATIO} target >= 99% }}",
                      header=header)
    assert the(model, code).message == message
    assert model.agreements == {}


def test_objective_without_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, f"objective o {{ indicator {RATIO} }}")
    assert the(model, "SLG0409").message == "objective `o` has no `target`"
    assert model.agreements["a"].objectives == ()


def test_source_declaration_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = estate(tmp_path, monkeypatch, {"s.sla": """\
        events e from "e" { time t epok_ms }
        events f from "f" { units { a: mins } }
        events g from "g" { time created epoch_ms }
        intervals i from "i" { time t }
        """})
    assert the(model, "SLG0419").hint == "did you mean `epoch_ms`?"
    assert the(model, "SLG0305").message == "unknown unit `mins` for column `a`"
    assert the(model, "SLG0420").message == "`time` belongs to events sources, not intervals"
    g = model.sources["g"]
    assert (g.time_column, g.time_form, g.key_column, g.units) == (
        "created", "epoch_ms", None, {})


REVIEWED = (
    "review every 3 months\nreviewed 2026-01-31\n"
    f"objective o {{ indicator {RATIO} target >= 99% }}"
)


def test_review_overdue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """31 January + 3 months is 30 April (April has no 31st); on 1 May it is overdue."""
    model = agreement(tmp_path, monkeypatch, REVIEWED,
                      as_of=dt.datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
    d = the(model, "SLG0502")
    assert d.severity is Severity.WARNING
    assert d.message == "review of `a` is overdue: last reviewed 2026-01-31, due 2026-04-30"
    assert model.ok
    assert model.agreements["a"].review == Review(3, "months", dt.date(2026, 1, 31))


def test_review_due_today_is_not_overdue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, REVIEWED,
                      as_of=dt.datetime(2026, 4, 30, 23, 0, tzinfo=UTC))
    assert model.diagnostics == []


def test_review_not_checked_without_a_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = agreement(tmp_path, monkeypatch, REVIEWED)
    assert model.diagnostics == []


def test_review_one_month_from_the_31st(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, REVIEWED.replace("every 3 months", "every 1 months"),
                      as_of=dt.datetime(2026, 3, 1, tzinfo=UTC))
    assert the(model, "SLG0502").message.endswith("due 2026-02-28")


def test_draft_is_not_reviewed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, REVIEWED,
                      header="service checkout\nstatus draft\nperiod monthly\n",
                      as_of=dt.datetime(2027, 1, 1, tzinfo=UTC))
    assert model.diagnostics == []


@pytest.mark.parametrize(
    ("day", "count", "unit", "due"),
    [
        (dt.date(2026, 1, 31), 1, "months", dt.date(2026, 2, 28)),
        (dt.date(2028, 1, 31), 1, "months", dt.date(2028, 2, 29)),  # leap year
        (dt.date(2026, 1, 31), 3, "months", dt.date(2026, 4, 30)),
        (dt.date(2026, 10, 1), 3, "months", dt.date(2027, 1, 1)),
        (dt.date(2026, 11, 30), 14, "months", dt.date(2028, 1, 30)),
        (dt.date(2028, 2, 29), 1, "years", dt.date(2029, 2, 28)),
        (dt.date(2026, 12, 25), 10, "days", dt.date(2027, 1, 4)),
        (dt.date(2026, 11, 9), 4, "weeks", dt.date(2026, 12, 7)),
    ],
)
def test_add_interval(day: dt.date, count: int, unit: str, due: dt.date) -> None:
    assert checks.add_interval(day, count, unit) == due


def test_draft_with_notify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, 'notify "ops@acme.example" on breach\n'
                      f"objective o {{ indicator {RATIO} target >= 99% }}",
                      header="service checkout\nstatus draft\nperiod monthly\n")
    d = the(model, "SLG0501")
    assert d.severity is Severity.WARNING
    assert codes(model) == ["SLG0501"]
    a = model.agreements["a"]
    assert (a.status, a.notify, a.notify_on) == ("draft", ("ops@acme.example",), ("breach",))


def test_credits_without_a_fee(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = agreement(tmp_path, monkeypatch, f"""
        objective o {{ indicator {RATIO} target >= 99.9% }}
        credit o {{ below 99.9% => 10% }}
        """)
    d = the(model, "SLG0503")
    assert d.severity is Severity.WARNING
    assert model.ok
    assert model.agreements["a"].fee is None


def test_agreement_model_is_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every field of a small agreement, in one comparison."""
    model = agreement(tmp_path, monkeypatch, f"""
        customer "Web"
        description "Checkout for the web shop."
        fee 1000 JPY
        objective o {{ indicator {RATIO} target >= 99% }}
        """, header="service payments\nstatus proposed\nperiod quarterly\n")
    assert model.diagnostics == []
    a = model.agreements["a"]
    o = a.objectives[0]
    assert bare(a) == Agreement(
        name="a", file="main.sla", service=model.services["payments"], customer="Web",
        provider=None, status="proposed", effective_start=None, effective_end=None,
        timezone="UTC", period=Period("quarterly"), fee=Money(Decimal(1000), "JPY"),
        credit_cap=None, review=None, notify=(), notify_on=(), hours=None, exclusions=(),
        objectives=(o,), description="Checkout for the web shop.",
        burn_rates=DEFAULT_BURN_RATES,
    )
    assert a.service.key == "payments-v2"
