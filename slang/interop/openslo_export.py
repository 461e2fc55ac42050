"""Agreements -> OpenSLO v1 documents (`slang export openslo`).

The reverse of `slang import openslo` for what OpenSLO can express: each service used becomes a
`Service`, each agreement an `SLO` (one per budgeting method if its objectives mix them), each
ratio objective an objective with an inline SLI, the agreement's `burn_rate` lines and `notify`
inline alert policies (OpenSLO allows one condition per policy). A source with a `prometheus`
block gives Prometheus queries; one without gives a metric source of type `slang` holding the
table and the condition, which `slang import openslo` reads back. What OpenSLO cannot say (fees,
credits, exclusions, hours, percentiles, ...) is a warning at the policy text (SLG1004, SLG1005).
Every document is validated against the schema slang imports with.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import yaml

from slang.diagnostics import Diagnostic, error, warning
from slang.interop.common import schema_errors
from slang.interop.prometheus import number
from slang.interop.slang_writer import openslo_name
from slang.semantics import model as m
from slang.semantics.burn_rates import default_burn_rates
from slang.syntax import ast
from slang.syntax.formatter import format_expr
from slang.syntax.span import Span

OPS = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
CALENDAR = {"hourly": "1h", "daily": "1d", "weekly": "1w", "monthly": "1M", "quarterly": "1Q",
            "yearly": "1Y"}
ALIGNED_START = "2024-01-01 00:00:00"  # a Monday, and the first day of a month, quarter, year
NAME_OK = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class OpenSLOExport:
    text: str
    documents: list[dict[str, Any]]
    diagnostics: list[Diagnostic]


def export_openslo(model: m.Model) -> OpenSLOExport:
    ex = _Exporter()
    for agreement in model.agreements.values():
        ex.agreement(agreement)
    docs = [*ex.services.values(), *ex.slos]
    for doc in docs:
        for e in schema_errors(doc)[:3]:
            ex.diags.append(error(
                "SLG1002", f"the exported {doc['kind']} `{doc['metadata']['name']}` does not "
                f"match the OpenSLO schema at `{'.'.join(map(str, e.absolute_path))}`: "
                f"{e.message}", NO_FILE, "this is a bug in slang; please report it"))
    text = "".join("---\n" + yaml.safe_dump(d, sort_keys=False, width=10_000,
                                            allow_unicode=True) for d in docs)
    return OpenSLOExport(text, docs, sorted(set(ex.diags), key=Diagnostic.sort_key))


NO_FILE = Span("<export>", 0, 0, 0, 0)


class _Exporter:
    def __init__(self) -> None:
        self.diags: list[Diagnostic] = []
        self.services: dict[str, dict[str, Any]] = {}
        self.slos: list[dict[str, Any]] = []

    def warn(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diags.append(warning(code, message, span, hint))

    def name(self, slang: str, span: Span, what: str) -> str:
        out = openslo_name(slang)
        if not NAME_OK.match(out):
            fixed = re.sub(r"[^A-Za-z0-9-]+", "-", out).strip("-") or "x"
            self.warn("SLG1005", f"{what} `{slang}` is exported as `{fixed}`", span,
                      "OpenSLO names are letters, digits and `-`")
            return fixed
        return out

    # ------------------------------------------------------------------------ services

    def service(self, s: m.Service) -> str:
        name = self.name(s.name, s.span, "service")
        if name in self.services:
            return name
        spec: dict[str, Any] = {}
        if s.description is not None:
            spec["description"] = s.description
        meta: dict[str, Any] = {"name": name}
        if s.title is not None:
            meta["displayName"] = s.title
        lost = [k for k, v in (("owner", s.owner), ("tier", s.tier),
                               ("depends_on", s.depends_on), ("internal", s.internal),
                               ("key", s.key if s.key != s.name else None)) if v]
        if lost:
            self.warn("SLG1004", f"service `{s.name}`: " + ", ".join(f"`{k}`" for k in lost)
                      + " have no OpenSLO equivalent; not exported", s.span)
        self.services[name] = {"apiVersion": "openslo/v1", "kind": "Service", "metadata": meta,
                               "spec": spec}
        return name

    # ---------------------------------------------------------------------- agreements

    def agreement(self, a: m.Agreement) -> None:
        self._agreement_losses(a)
        groups: dict[str, list[dict[str, Any]]] = {}
        for o in a.objectives:
            got = self.objective(a, o)
            if got is not None:
                method, objective = got
                groups.setdefault(method, []).append(objective)
        if not groups:
            self.warn("SLG1004", f"agreement `{a.name}` has no objective OpenSLO can express; "
                      "no SLO exported", a.span)
            return
        service = self.service(a.service)
        base = self.name(a.name, a.span, "agreement")
        window = self.window(a)
        policies = self.policies(a, base)
        for i, (method, objectives) in enumerate(groups.items()):
            name = base if i == 0 else f"{base}-{method.lower()}"
            if i:
                self.warn("SLG1005", f"agreement `{a.name}` mixes budgeting methods; its "
                          f"{method} objectives are exported as SLO `{name}`", a.span)
            spec: dict[str, Any] = {}
            if a.description is not None:
                spec["description"] = a.description
            spec["service"] = service
            spec["timeWindow"] = [window]
            spec["budgetingMethod"] = method
            spec["objectives"] = objectives
            if policies:
                spec["alertPolicies"] = policies
            self.slos.append({"apiVersion": "openslo/v1", "kind": "SLO",
                              "metadata": {"name": name}, "spec": spec})

    def _agreement_losses(self, a: m.Agreement) -> None:
        lost = [k for k, v in (
            ("customer", a.customer), ("provider", a.provider), ("fee", a.fee),
            ("credit_cap", a.credit_cap), ("review", a.review), ("hours", a.hours),
            ("exclude", a.exclusions), ("effective end", a.effective_end),
            ("status " + a.status, a.status != "agreed"),
            ("credit", any(o.credit for o in a.objectives))) if v]
        if lost:
            self.warn("SLG1004", f"agreement `{a.name}`: " + ", ".join(f"`{k}`" for k in lost)
                      + " have no OpenSLO equivalent; not exported", a.span)

    def window(self, a: m.Agreement) -> dict[str, Any]:
        p = a.period
        if p.kind == "rolling":
            seconds = p.rolling_seconds or 0
            duration = f"{seconds // 86400}d" if seconds % 86400 == 0 else f"{seconds // 3600}h"
            if a.timezone != "UTC" or a.effective_start is not None:
                self.warn("SLG1004", f"agreement `{a.name}`: the time zone and `effective` start "
                          "of a rolling period have no OpenSLO equivalent", a.span)
            return {"duration": duration, "isRolling": True}
        start = ALIGNED_START
        if a.effective_start is not None:
            start = dt.datetime.combine(a.effective_start, dt.time()).strftime("%Y-%m-%d %H:%M:%S")
        else:
            self.warn("SLG1005", f"agreement `{a.name}` has no `effective` start; the calendar "
                      f"window is aligned at {ALIGNED_START}", a.span)
        return {"duration": CALENDAR[p.kind], "isRolling": False,
                "calendar": {"startTime": start, "timeZone": a.timezone}}

    # ---------------------------------------------------------------------- objectives

    def objective(self, a: m.Agreement, o: m.Objective) -> tuple[str, dict[str, Any]] | None:
        where = f"`{a.name}.{o.name}`"
        ind = o.indicator
        if o.target.op not in (">=", ">") or o.target.value >= 1:
            self.warn("SLG1004", f"{where}: target {o.target.op} "
                      f"{number(o.target.value * 100)}% has no OpenSLO equivalent (targets are "
                      "a share below 100% to reach); not exported", o.target.span)
            return None
        if o.target.op == ">":
            self.warn("SLG1005", f"{where}: OpenSLO targets are reached at the value (`>=`), "
                      "not above it", o.target.span)
        out: dict[str, Any] = {}
        display = o.description if o.description is not None else o.name
        out["displayName"] = display
        if isinstance(ind, m.RatioIndicator):
            method, inner = "Occurrences", ind
        elif isinstance(ind, m.TimeslicesIndicator) and isinstance(ind.inner, m.RatioIndicator):
            method, inner = "Timeslices", ind.inner
            if ind.op not in (">=", ">") or ind.empty != "good":
                self.warn("SLG1005", f"{where}: OpenSLO time slices are good when the slice's "
                          "ratio reaches its target, with empty slices good", o.span)
        elif isinstance(ind, m.SliceMeanIndicator) and isinstance(ind.inner, m.RatioIndicator):
            method, inner = "RatioTimeslices", ind.inner
        else:
            self.warn("SLG1004", f"{where}: a {ind.kind} indicator over "
                      f"{'a ratio' if ind.kind in ('timeslices', 'slice_mean') else 'values'} "
                      "has no OpenSLO equivalent; not exported", o.span,
                      "OpenSLO objectives count good events or good time slices")
            return None
        threshold = _threshold(inner)
        sli = self.sli(a, o, inner, threshold is not None)
        if sli is None:
            return None
        if threshold is not None:
            out["op"], out["value"] = threshold
        out["target"] = float(o.target.value)
        if isinstance(ind, m.TimeslicesIndicator | m.SliceMeanIndicator):
            seconds = ind.slice_seconds
            if seconds % 60:
                self.warn("SLG1005", f"{where}: a time slice of {seconds}s is exported as "
                          f"{max(1, seconds // 60)}m (OpenSLO slices are whole minutes)", o.span)
            out["timeSliceWindow"] = _shorthand(max(60, seconds - seconds % 60))
        if isinstance(ind, m.TimeslicesIndicator):
            out["op"] = OPS.get(ind.op, "gte")
            out["timeSliceTarget"] = float(ind.threshold)
        out["indicator"] = sli
        return method, out

    def sli(self, a: m.Agreement, o: m.Objective, ind: m.RatioIndicator, threshold: bool
            ) -> dict[str, Any] | None:
        src = ind.total.source
        lost = [k for k, v in (("key", src.key_column), ("units", src.units),
                               ("time", src.time_column != "ts" or src.time_form != "aware"))
                if v]
        if lost:
            self.warn("SLG1004", f"source `{src.name}`: " + ", ".join(f"`{k}`" for k in lost)
                      + " have no OpenSLO equivalent", src.span)
        if ind.total.condition is not None:
            self.warn("SLG1004", f"`{a.name}.{o.name}`: the condition on the total rows has no "
                      "OpenSLO equivalent; not exported", o.span)
            return None
        spec: dict[str, Any] = {}
        if src.description is not None:
            spec["description"] = src.description
        condition = format_expr(ind.good)
        if threshold:
            spec["thresholdMetric"] = {"metricSource": {"type": "slang",
                                                        "spec": {"table": src.table}}}
        elif src.prometheus is not None and src.prometheus.numerator(o.name) is not None:
            prom = src.prometheus
            role, num = prom.numerator(o.name)  # type: ignore[misc]
            total = prom.denominator(o.name)
            assert total is not None
            if condition != "good == true":
                self.warn("SLG1004", f"`{a.name}.{o.name}`: the audit condition `{condition}` "
                          "has no OpenSLO equivalent; the SLI is the source's Prometheus "
                          "queries", o.span)
            key = a.service.key
            spec["ratioMetric"] = {
                "counter": True,
                role: _prom_source(num, key),
                "total": _prom_source(total, key),
            }
        else:
            spec["ratioMetric"] = {
                "counter": True,
                "good": {"metricSource": {"type": "slang",
                                          "spec": {"table": src.table, "where": condition}}},
                "total": {"metricSource": {"type": "slang", "spec": {"table": src.table}}},
            }
        return {"metadata": {"name": self.name(src.name, src.span, "source")}, "spec": spec}

    # ------------------------------------------------------------------------ alerting

    def policies(self, a: m.Agreement, base: str) -> list[dict[str, Any]]:
        default = a.burn_rates == default_burn_rates(a.period)
        if default and not a.notify:
            return []
        if not a.burn_rates:
            if a.notify:
                self.warn("SLG1004", f"agreement `{a.name}`: `notify` without burn-rate alerts "
                          "has no OpenSLO equivalent (a policy needs a condition)", a.span)
            return []
        if "breach" in a.notify_on:
            self.warn("SLG1004", f"agreement `{a.name}`: `notify ... on breach` has no OpenSLO "
                      "equivalent (policies alert on burn rates)", a.span)
        targets = []
        for r in a.notify:
            name = self.name(r, a.span, "notify recipient")
            targets.append({"kind": "AlertNotificationTarget", "metadata": {"name": name},
                            "spec": {"target": r}})
        out = []
        for i, w in enumerate(a.burn_rates):
            long_h = Fraction(int(w.long_window.total_seconds()), 3600)
            from slang.engine.outcome import burn_rate_factor

            threshold = burn_rate_factor(w.budget_fraction, a.period, long_h)
            condition = {"kind": "AlertCondition",
                         "metadata": {"name": f"{base}-{w.severity}-{i + 1}"},
                         "spec": {"severity": w.severity, "condition": {
                             "kind": "burnrate", "op": "gte",
                             "threshold": _yaml_number(threshold),
                             "lookbackWindow": _shorthand(int(w.long_window.total_seconds())),
                             "alertAfter": _shorthand(int(w.short_window.total_seconds()))}}}
            spec: dict[str, Any] = {
                "alertWhenBreaching": "at_risk" in a.notify_on or not a.notify,
                "alertWhenNoData": "no_data" in a.notify_on,
                "alertWhenResolved": "met" in a.notify_on,
                "conditions": [condition],
                "notificationTargets": targets,
            }
            out.append({"kind": "AlertPolicy", "metadata": {"name": f"{base}-alert-{i + 1}"},
                        "spec": spec})
        return out


def _prom_source(q: m.PromQuery, key: str) -> dict[str, Any]:
    text = re.sub(r"\{\{\s*service\s*\}\}", key.replace("\\", "\\\\").replace('"', '\\"'),
                  q.text)
    text = re.sub(r"\{\{\s*window\s*\}\}", "{{.window}}", text)
    return {"metricSource": {"type": "Prometheus", "spec": {"query": text}}}


def _threshold(ind: m.RatioIndicator) -> tuple[str, int | float] | None:
    """`value OP number`, the shape of an imported threshold metric, as (op, value)."""
    g = ind.good
    if (isinstance(g, ast.BinOp) and g.op in OPS and isinstance(g.left, ast.Name)
            and g.left.parts == ("value",) and isinstance(g.right, ast.NumberLit)):
        v = g.right.value
        return OPS[g.op], int(v) if v == v.to_integral_value() else float(v)
    return None


def _shorthand(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{max(1, seconds // 60)}m"


def _yaml_number(x: Fraction) -> int | float:
    return int(x) if x.denominator == 1 else float(number(x))
