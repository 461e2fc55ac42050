"""OpenSLO in and out: import ∘ export is the identity on what both can say.

Hypothesis writes OpenSLO v1 documents inside the supported subset (a Service and an SLO with
inline SLIs: Prometheus good/bad/total queries or `slang` metric sources, rolling or calendar
windows, the three budgeting methods, burn-rate alert policies with notification targets). Each
is imported; the slang is exported to OpenSLO and imported again, and the two slang texts must
be equal, declaration for declaration. The exported documents must match the schema.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import slang
from slang.interop.common import schema_errors
from slang.interop.openslo import import_openslo
from slang.interop.openslo_export import export_openslo

WORDS = ("web", "api", "checkout", "search", "pay", "edge", "core", "x1", "latency", "avail")
kebab = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3, unique=True).map("-".join)
texts = st.sampled_from(["Checkout", "The main API.", "Search latency", "ünïcødé ✓", 'say "hi"'])


def _query(metric: str) -> st.SearchStrategy[str]:
    return st.sampled_from([
        f'{metric}{{job="shop"}}',
        f'{metric}{{job="shop",code!~"5.."}}',
        f'sum(rate({metric}{{job="shop"}}[{{{{.window}}}}]))',
    ])


@st.composite
def slis(draw, name: str) -> dict:
    spec: dict = {}
    if draw(st.booleans()):
        spec["description"] = draw(texts)
    if draw(st.booleans()):
        role = draw(st.sampled_from(["good", "bad"]))
        spec["ratioMetric"] = {
            "counter": True,
            role: {"metricSource": {"type": "Prometheus",
                                    "spec": {"query": draw(_query("req_ok_total"))}}},
            "total": {"metricSource": {"type": "Prometheus",
                                       "spec": {"query": draw(_query("req_total"))}}},
        }
    else:
        where = draw(st.sampled_from(["status < 500", "latency_ms <= 300 and ok == true",
                                      'method in ["GET", "HEAD"]']))
        table = draw(kebab)
        spec["ratioMetric"] = {
            "counter": True,
            "good": {"metricSource": {"type": "slang", "spec": {"table": table, "where": where}}},
            "total": {"metricSource": {"type": "slang", "spec": {"table": table}}},
        }
    return {"metadata": {"name": name}, "spec": spec}


WINDOWS = {"rolling": ["7d", "14d", "28d", "30d", "72h"], "calendar": ["1w", "1M", "1Q", "1Y"]}
PERIOD_HOURS = {"7d": 168, "14d": 336, "28d": 672, "30d": 720, "72h": 72, "1w": 168,
                "1M": 720, "1Q": 2160, "1Y": 8760}
LONG = {"1h": 1, "6h": 6, "1d": 24, "3d": 72}
SHORT = {"5m": 5, "30m": 30, "2h": 120, "6h": 360}


@st.composite
def policies(draw, period: str, targets: list[str]) -> list[dict]:
    out = []
    for i in range(draw(st.integers(1, 3))):
        long = draw(st.sampled_from([w for w, h in LONG.items() if h <= PERIOD_HOURS[period]]))
        short = draw(st.sampled_from([s for s, mins in SHORT.items() if mins < LONG[long] * 60]))
        percent = draw(st.sampled_from([1, 2, 5, 10, 25]))
        threshold = percent / 100 * PERIOD_HOURS[period] / LONG[long]
        spec: dict = {
            "alertWhenBreaching": True,
            "alertWhenNoData": bool(targets) and draw(st.booleans()),
            "alertWhenResolved": bool(targets) and draw(st.booleans()),
            "conditions": [{"kind": "AlertCondition", "metadata": {"name": f"cond-{i}"},
                            "spec": {"severity": draw(st.sampled_from(["page", "ticket"])),
                                     "condition": {"kind": "burnrate", "op": "gte",
                                                   "threshold": round(threshold, 6),
                                                   "lookbackWindow": long,
                                                   "alertAfter": short}}}],
            "notificationTargets": [
                {"kind": "AlertNotificationTarget", "metadata": {"name": t},
                 "spec": {"target": "email"}} for t in targets],
        }
        out.append({"kind": "AlertPolicy", "metadata": {"name": f"policy-{i}"}, "spec": spec})
    return out


@st.composite
def documents(draw) -> list[dict]:
    service = draw(kebab)
    svc_meta: dict = {"name": service}
    if draw(st.booleans()):
        svc_meta["displayName"] = draw(texts)
    svc = {"apiVersion": "openslo/v1", "kind": "Service", "metadata": svc_meta,
           "spec": {"description": draw(texts)} if draw(st.booleans()) else {}}
    kind = draw(st.sampled_from(["rolling", "calendar"]))
    duration = draw(st.sampled_from(WINDOWS[kind]))
    window: dict = {"duration": duration, "isRolling": kind == "rolling"}
    if kind == "calendar":
        window["calendar"] = {"startTime": draw(st.sampled_from(
            ["2026-01-01 00:00:00", "2025-06-02 00:00:00"])),
            "timeZone": draw(st.sampled_from(["UTC", "Europe/London", "America/New_York"]))}
    method = draw(st.sampled_from(["Occurrences", "Timeslices", "RatioTimeslices"]))
    names = draw(st.lists(st.sampled_from(["availability", "Fast responses", "Good",
                                           "errors-low"]), min_size=1, max_size=3, unique=True))
    objectives = []
    for i, display in enumerate(names):
        o: dict = {"displayName": display,
                   "target": draw(st.sampled_from([0.9, 0.95, 0.99, 0.995, 0.999, 0.9995]))}
        if method != "Occurrences":
            o["timeSliceWindow"] = draw(st.sampled_from(["1m", "5m", "1h"]))
        if method == "Timeslices":
            o["op"] = draw(st.sampled_from(["gt", "gte"]))
            o["timeSliceTarget"] = draw(st.sampled_from([0.9, 0.95, 0.99]))
        o["indicator"] = draw(slis(f"sli-{i}-{draw(kebab)}"))
        objectives.append(o)
    spec: dict = {"service": service, "timeWindow": [window], "budgetingMethod": method,
                  "objectives": objectives}
    if draw(st.booleans()):
        spec["description"] = draw(texts)
    if draw(st.booleans()):
        targets = draw(st.lists(kebab, max_size=2, unique=True))
        spec["alertPolicies"] = draw(policies(duration, targets))
    slo = {"apiVersion": "openslo/v1", "kind": "SLO",
           "metadata": {"name": "slo-" + draw(kebab)}, "spec": spec}
    return [svc, slo]


def _slang(docs_text: str, tmp: Path, name: str) -> str:
    path = tmp / f"{name}.yaml"
    path.write_text(docs_text, encoding="utf-8")
    result = import_openslo([str(path)])
    assert not [d for d in result.diagnostics if d.severity.value == "error"], result.diagnostics
    return result.combined()


def _body(text: str) -> str:
    return re.sub(r"^#.*\n", "", text, flags=re.MULTILINE)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(docs=documents())
def test_import_then_export_then_import_is_the_same_slang(docs: list[dict], tmp_path: Path
                                                           ) -> None:
    for d in docs:
        assert schema_errors(d) == [], d
    first = _slang(yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True), tmp_path, "a")
    (tmp_path / "a.sla").write_text(first, encoding="utf-8")
    model = slang.load([str(tmp_path / "a.sla")])
    assert model.errors == []
    agreement = next(iter(model.agreements.values()))
    from slang.semantics.burn_rates import default_burn_rates
    assume(agreement.burn_rates != default_burn_rates(agreement.period) or agreement.notify)
    exported = export_openslo(model)
    assert [d for d in exported.diagnostics if d.severity.value == "error"] == []
    for d in exported.documents:
        assert schema_errors(d) == []
    second = _slang(exported.text, tmp_path, "b")
    assert _body(second) == _body(first)
