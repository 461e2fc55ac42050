"""`slang import openslo` of OpenSLO v2alpha (`apiVersion: openslo.com/v2alpha`).

The real example is go-sdk's `pkg/openslo/v2alpha/examples/slos.yaml` (tests/fixtures/openslo,
see NOTICE.md there); `tests/fixtures/openslo_v2alpha/estate.yaml` is written for these tests
and has every v2alpha kind. Values below are worked out by hand from the documents.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import slang
from slang.cli import main as cli_main
from slang.interop.common import schema_errors
from slang.interop.openslo import import_openslo
from tests.test_interop_roundtrip import documents

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLE = FIXTURES / "openslo" / "go-sdk__pkg__openslo__v2alpha__examples__slos.yaml"
ESTATE = FIXTURES / "openslo_v2alpha" / "estate.yaml"


def _load(text: str, tmp_path: Path) -> slang.Model:
    (tmp_path / "imported.sla").write_text(text, encoding="utf-8")
    model = slang.load([str(tmp_path)])
    assert model.errors == []
    return model


def _codes(result) -> list[tuple[str, int, str]]:
    return [(d.code, d.span.line, d.message.split(":")[0]) for d in result.diagnostics]


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "doc.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


# ------------------------------------------------------------------- the go-sdk example


def test_the_go_sdk_example_imports_with_hand_checked_values(tmp_path: Path) -> None:
    result = import_openslo([str(EXAMPLE)])
    text = re.sub(r" +", " ", result.combined())
    # timeWindow 1w, isRolling false, calendar from 2022-01-01 12:00 in New York
    assert "period weekly" in text
    assert 'timezone "America/New_York"' in text
    assert "effective 2022-01-01 .." in text
    # Timeslices: a 1m slice is good when more than 95 % of it is good (`op: gt`,
    # timeSliceTarget 0.95); 99.5 % of the slices must be good (target 0.995).
    assert ("indicator timeslices(1m, ratio(web_successful_requests_ratio where good == true)"
            " > 95%)") in text
    assert "target >= 99.5%" in text
    # `serviceRef: web` is a service of the catalogue; the inline `sli` is a source.
    assert "service web {}" in text
    assert 'events web_successful_requests_ratio from "web-successful-requests-ratio"' in text

    model = _load(result.combined(), tmp_path)
    agreement = model.agreements["web_availability"]
    assert agreement.period.kind == "weekly"
    assert agreement.timezone == "America/New_York"
    (objective,) = agreement.objectives
    assert objective.name == "good"
    assert objective.target.op == ">=" and objective.target.value == Decimal("0.995")


def test_the_go_sdk_example_explains_what_it_cannot_carry() -> None:
    result = import_openslo([str(EXAMPLE)])
    assert [d.severity.value for d in result.diagnostics] == ["warning"] * 4
    assert _codes(result) == [
        ("SLG1004", 5, "`[0].metadata.labels`"),  # env, team
        # `my-prometheus` is not among the inputs, so the query's kind is unknown
        ("SLG1006", 18, "`[0].spec.sli.spec.ratioMetric.good.dataSourceRef`"),
        # 12:00 is not midnight, and 2022-01-01 was a Saturday, not a Monday
        ("SLG1005", 29, "`[0].spec.timeWindow[0].calendar.startTime`"),
        ("SLG1005", 29, "`[0].spec.timeWindow[0].calendar.startTime`"),
    ]
    assert all(d.span.file == str(EXAMPLE) and d.span.col > 0 for d in result.diagnostics)


def test_the_example_with_its_data_source(tmp_path: Path) -> None:
    """Given `my-prometheus` as a Prometheus DataSource, the queries are PromQL; but they are
    instant sums (no range), which burn-rate rules cannot window: SLG1009, at the query."""
    source = tmp_path / "datasource.yaml"
    source.write_text("""\
apiVersion: openslo.com/v2alpha
kind: DataSource
metadata:
  name: my-prometheus
spec:
  type: Prometheus
  connectionDetails: [{url: "http://prometheus.example.com"}]
""", encoding="utf-8")
    result = import_openslo([str(EXAMPLE), str(source)])
    assert sorted((Path(d.span.file).name, d.code, d.span.line)
                  for d in result.diagnostics) == [
        ("datasource.yaml", "SLG1004", 7),  # connectionDetails
        (EXAMPLE.name, "SLG1004", 5),
        (EXAMPLE.name, "SLG1005", 29), (EXAMPLE.name, "SLG1005", 29),
        (EXAMPLE.name, "SLG1009", 20),  # the good query, where the importer stops
    ]
    assert "prometheus" not in result.combined()


def test_slang_check_accepts_the_imported_example(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(cli_main, ["import", "openslo", str(EXAMPLE), "-o", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert [p.name for p in tmp_path.iterdir()] == [EXAMPLE.stem + ".sla"]
    check = runner.invoke(cli_main, ["check", str(tmp_path)])
    assert check.exit_code == 0, check.output


# ------------------------------------------------------------- every kind of v2alpha


def test_an_estate_of_every_kind(tmp_path: Path) -> None:
    result = import_openslo([str(ESTATE)])
    assert not [d for d in result.diagnostics if d.severity.value == "error"]
    model = _load(result.combined(), tmp_path)

    availability = model.agreements["checkout_availability"]
    assert availability.service.id == "checkout"
    assert availability.period.rolling_seconds == 28 * 86400
    (objective,) = availability.objectives
    assert objective.target.value == Decimal("0.999")
    assert objective.indicator.kind == "ratio"
    # The SLI document's Prometheus queries (dataSourceRef -> DataSource type Prometheus),
    # with Sloth's `{{.window}}` as slang's `{{window}}`.
    prom = objective.indicator.total.source.prometheus
    assert prom.total[0][1].text == 'sum(rate(http_requests_total{job="checkout"}[{{window}}]))'
    assert prom.bad[0][1].text == (
        'sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{window}}]))')
    # Burn rate 13.44 over 1 h of a rolling 28 d (672 h): 13.44 x 1 / 672 = 2 % of the budget.
    (line,) = availability.burn_rates
    assert (line.severity, line.budget_fraction) == ("page", Fraction(1, 50))
    assert availability.notify == ("payments-oncall",)
    assert tuple(availability.notify_on) == ("at_risk", "no_data")
    # BudgetAdjustment: 2024-03-02 22:00 UTC for 4 h.
    (excluded,) = availability.exclusions
    assert excluded.kind == "window" and excluded.reason == "Datacentre migration"
    assert excluded.start == dt.datetime(2024, 3, 2, 22, tzinfo=dt.UTC)
    assert excluded.end == dt.datetime(2024, 3, 3, 2, tzinfo=dt.UTC)
    assert not excluded.as_available

    latency = model.agreements["checkout_latency"]
    assert latency.period.kind == "daily"
    assert latency.timezone == "Europe/London"
    (objective,) = latency.objectives
    assert objective.indicator.kind == "slice_mean"
    assert objective.target.value == Decimal("0.95")
    text = re.sub(r" +", " ", result.combined())
    assert "indicator slice_mean(5m, ratio(checkout_latency_ms where value <= 300))" in text


def test_the_estate_reports_each_dropped_field_at_its_line() -> None:
    result = import_openslo([str(ESTATE)])
    assert _codes(result) == [
        ("SLG1004", 16, "`spec.connectionDetails`"),
        ("SLG1004", 40, "`metadata.annotations`"),
        ("SLG1005", 76, "`spec.condition.alertAfter`"),
        ("SLG1004", 83, "`spec.target`"),  # the channel `pagerduty`
        ("SLG1004", 95, "`spec.sli.spec.thresholdMetric`"),  # a threshold query
        ("SLG1004", 98, "`spec.sli.spec.thresholdMetric.dataSourceSpec.connectionDetails`"),
        ("SLG1004", 111, "`spec.objectives[0].labels`"),
        ("SLG1005", 122, "`spec`"),  # the adjustment is an exclusion
    ]


def test_service_may_be_named_as_the_specification_text_does(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("serviceRef: web", "service: web")
    result = import_openslo([_write(tmp_path, text)])
    assert "service web {}" in result.combined()


def test_a_v2alpha_slo_may_reference_documents_of_v1(tmp_path: Path) -> None:
    """References resolve by kind and name across versions; each object is read in its own."""
    text = """\
apiVersion: openslo/v1
kind: SLI
metadata:
  name: requests
spec:
  ratioMetric:
    good: {metricSource: {type: Prometheus, spec: {query: 'ok_total'}}}
    total: {metricSource: {type: Prometheus, spec: {query: 'all_total'}}}
---
apiVersion: openslo.com/v2alpha
kind: SLO
metadata:
  name: api
spec:
  serviceRef: api
  sliRef: requests
  budgetingMethod: Occurrences
  timeWindow: [{duration: 4w, isRolling: true}]
  objectives: [{target: 0.99}]
"""
    result = import_openslo([_write(tmp_path, text)])
    out = re.sub(r" +", " ", result.combined())
    assert 'total "all_total"\n good "ok_total"' in out
    assert "period rolling 28d" in out
    assert result.diagnostics == []


def test_a_calendar_window_with_no_slang_period_hints_at_v2alpha_units(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("duration: 1w", "duration: 4w")
    result = import_openslo([_write(tmp_path, text)])
    # 4 weeks (672 h) is nearest a month (720 h)
    assert "period monthly" in re.sub(r" +", " ", result.combined())
    (d,) = [d for d in result.diagnostics if "duration" in d.message]
    assert d.code == "SLG1005"
    assert "no months" in (d.hint or "") and "`1M`" in (d.hint or "")


# ------------------------------------------------------------------ budget adjustments


ADJUSTED = """\
apiVersion: openslo.com/v2alpha
kind: SLO
metadata:
  name: api
spec:
  serviceRef: api
  budgetingMethod: Occurrences
  timeWindow: [{duration: 7d, isRolling: true}]
  objectives:
    - {displayName: reads, target: 0.99, sliRef: reads}
    - {displayName: writes, target: 0.95, sliRef: writes}
---
apiVersion: openslo.com/v2alpha
kind: BudgetAdjustment
metadata:
  name: failover
spec:
  description: Planned failover
  service: api
  indicatorRef: reads
  startTime: 2024-05-01T01:30:00+02:00
  endTime: 2024-05-01T02:00:00+02:00
"""


def test_an_adjustment_with_an_end_time_and_an_offset(tmp_path: Path) -> None:
    result = import_openslo([_write(tmp_path, ADJUSTED)])
    assert ('exclude 2024-05-01T01:30:00+02:00 .. 2024-05-01T02:00:00+02:00 "Planned failover"'
            in result.combined())
    model = _load(result.combined(), tmp_path)
    (excluded,) = model.agreements["api"].exclusions
    assert excluded.start == dt.datetime(2024, 4, 30, 23, 30, tzinfo=dt.UTC)
    assert excluded.end == dt.datetime(2024, 5, 1, 0, 0, tzinfo=dt.UTC)
    # The exclusion also removes the window from `writes`, which the adjustment did not name.
    notes = [d.message for d in result.diagnostics if d.code == "SLG1005"]
    assert any("also has objectives measuring other SLIs (writes)" in m for m in notes)


def test_an_adjustment_with_a_duration_keeps_the_start_offset(tmp_path: Path) -> None:
    text = ADJUSTED.replace("endTime: 2024-05-01T02:00:00+02:00", "duration: 1d")
    result = import_openslo([_write(tmp_path, text)])
    assert "exclude 2024-05-01T01:30:00+02:00 .. 2024-05-02T01:30:00+02:00" in result.combined()


@pytest.mark.parametrize(("change", "code", "says"), [
    (("indicatorRef: reads", "indicatorRef: payments"), "SLG1008", "no imported SLO"),
    (("service: api\n  indicatorRef", "service: web\n  indicatorRef"), "SLG1008",
     "of service `web`"),
    (("endTime: 2024-05-01T02:00:00+02:00", "endTime: 2024-05-01T01:00:00+02:00"), "SLG1004",
     "ends (2024-05-01T01:00:00+02:00) before it starts"),
    (("startTime: 2024-05-01T01:30", "startTime: 2024-02-30T01:30"), "SLG1004",
     "not a date and time"),
])
def test_an_adjustment_that_cannot_be_attached_is_reported(
        tmp_path: Path, change: tuple[str, str], code: str, says: str) -> None:
    result = import_openslo([_write(tmp_path, ADJUSTED.replace(*change))])
    assert "exclude" not in result.combined()
    (d,) = [d for d in result.diagnostics if d.code == code]
    assert says in d.message
    assert d.span.line > 12  # in the adjustment's document
    _load(result.combined(), tmp_path)


# ------------------------------------------------------------------------- validation


MALFORMED = """\
apiVersion: openslo.com/v2alpha
kind: SLO
metadata:
  name: checkout
  displayName: Checkout
spec:
  serviceRef: checkout
  sliRef: requests
  budgetingMethod: Occurrences
  timeWindow:
    - duration: 1M
      isRolling: true
  objectives:
    - target: 0.999
"""


def test_a_malformed_document_is_rejected_with_coded_errors_at_the_field(
        tmp_path: Path) -> None:
    path = _write(tmp_path, MALFORMED)
    result = import_openslo([path])
    assert result.files == []
    errors = [(d.code, d.span.line, d.span.col, d.message) for d in result.diagnostics
              if d.severity.value == "error"]
    assert errors[:2] == [
        ("SLG1002", 5, 3, "`metadata.displayName`: `displayName` is not a field here: v2alpha "
         "metadata has no `displayName` (Kubernetes metadata has none); an annotation can carry "
         "it (OpenSLO openslo.com/v2alpha SLO); document skipped"),
        ("SLG1002", 11, 7, "`spec.timeWindow[0].duration`: '1M' is not a v2alpha duration: a "
         "number and `m`, `h`, `d` or `w` (v2alpha durations have no months, quarters or years) "
         "(OpenSLO openslo.com/v2alpha SLO); document skipped"),
    ]
    res = CliRunner().invoke(cli_main, ["import", "openslo", path])
    assert res.exit_code == 2
    assert f"{path}:5:3: error[SLG1002]" in res.stderr
    assert "   5 |   displayName: Checkout" in res.stderr


@pytest.mark.parametrize(("change", "field", "says"), [
    (("name: checkout\n", "name: Checkout\n"), "metadata.name", "not an OpenSLO v2alpha name"),
    (("  sliRef: requests\n", "  indicatorRef: requests\n"), "spec.indicatorRef",
     "v2alpha calls it `sliRef`"),
    (("serviceRef: checkout", "serviceRef: checkout\n  service: checkout"), "spec",
     "only one of `serviceRef`, `service` may be given"),
    (("  sliRef: requests\n", ""), "spec.objectives",
     "neither the SLO (`sli`, `sliRef`) nor any of its objectives"),
    (("      isRolling: true\n", ""), "spec.timeWindow[0]", "'calendar' is a required"),
    (("budgetingMethod: Occurrences", "budgetingMethod: Timeslices"), "spec.objectives[0]",
     "'timeSliceTarget' is a required property"),
])
def test_schema_rules_of_v2alpha(tmp_path: Path, change: tuple[str, str], field: str,
                                 says: str) -> None:
    text = MALFORMED.replace("  displayName: Checkout\n", "").replace("1M", "4w")
    assert schema_errors(yaml.safe_load(text)) == []
    result = import_openslo([_write(tmp_path, text.replace(*change))])
    messages = [d.message for d in result.diagnostics if d.code == "SLG1002"]
    assert any(m.startswith(f"`{field}`: ") and says in m for m in messages), messages


def test_a_v1alpha_document_of_a_kind_v1alpha_lacks_is_skipped(tmp_path: Path) -> None:
    text = """\
apiVersion: openslo/v1alpha
kind: SLI
metadata:
  name: requests
spec: {}
"""
    result = import_openslo([_write(tmp_path, text)])
    assert [d.code for d in result.diagnostics] == ["SLG1003", "SLG1010"]


# ------------------------------------------- the same mapping for v1 and v2alpha (hypothesis)


V2ALPHA_CALENDAR = {"1M": "1w", "1Q": "1w", "1Y": "1w"}  # v2alpha has no months


def _within_v2alpha(docs: list[dict]) -> list[dict]:
    """A v1 estate narrowed to what v2alpha can also say: no `metadata.displayName`, calendar
    windows of weeks, alert policies with a notification target."""
    out = copy.deepcopy(docs)
    for d in out:
        d["metadata"].pop("displayName", None)
        if d["kind"] != "SLO":
            continue
        for w in d["spec"]["timeWindow"]:
            w["duration"] = V2ALPHA_CALENDAR.get(w["duration"], w["duration"])
        for policy in d["spec"].get("alertPolicies", []):
            if not policy["spec"]["notificationTargets"]:
                policy["spec"]["notificationTargets"] = [
                    {"kind": "AlertNotificationTarget", "metadata": {"name": "oncall"},
                     "spec": {"target": "email"}}]
    return out


def _as_v2alpha(docs: list[dict], by_ref: bool) -> list[dict]:
    """The same estate in v2alpha's words: `serviceRef`, `sli`, and each metric's data source
    inline (`dataSourceSpec`) or, with `by_ref`, a DataSource document per type."""
    out = copy.deepcopy(docs)
    sources: dict[str, dict] = {}
    for d in out:
        d["apiVersion"] = "openslo.com/v2alpha"
        if d["kind"] != "SLO":
            continue
        d["spec"]["serviceRef"] = d["spec"].pop("service")
        for objective in d["spec"]["objectives"]:
            sli = objective.pop("indicator")
            for metric in sli["spec"]["ratioMetric"].values():
                if not isinstance(metric, dict):
                    continue  # counter
                ms = metric.pop("metricSource")
                if by_ref:
                    name = f"{ms['type'].lower()}-data"
                    sources[name] = {"apiVersion": "openslo.com/v2alpha", "kind": "DataSource",
                                     "metadata": {"name": name},
                                     "spec": {"type": ms["type"], "connectionDetails": {}}}
                    metric["dataSourceRef"] = name
                else:
                    metric["dataSourceSpec"] = {"type": ms["type"], "connectionDetails": {}}
                metric["spec"] = ms["spec"]
            objective["sli"] = sli
    return out + list(sources.values())


def _imported(docs: list[dict], tmp: Path, name: str) -> str:
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True),
                    encoding="utf-8")
    result = import_openslo([str(path)])
    assert not [d for d in result.diagnostics if d.severity.value == "error"], \
        result.diagnostics
    return re.sub(r"^#.*\n", "", result.combined(), flags=re.MULTILINE)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(docs=documents(), by_ref=st.booleans())
def test_v2alpha_imports_to_the_same_slang_as_the_same_estate_in_v1(
        docs: list[dict], by_ref: bool, tmp_path: Path) -> None:
    v1 = _within_v2alpha(docs)
    v2alpha = _as_v2alpha(v1, by_ref)
    for d in v2alpha:
        assert schema_errors(d) == [], d
    assert _imported(v2alpha, tmp_path, "b") == _imported(v1, tmp_path, "a")
