"""Sloth specs -> slang (`slang import sloth`).

Reads Sloth's `prometheus/v1` specs and the Kubernetes form (`sloth.slok.dev/v1`
`PrometheusServiceLevel`), validated against slang/schemas/sloth.schema.json. Each SLO becomes an
agreement of the spec's service over Sloth's default period (`rolling 30d`), with one ratio
objective whose source carries the spec's queries in a `prometheus` block (`bad` is the error
query) and its labels; the page and ticket alerts become the `burn_rate` lines of Sloth's
default windows (the SRE workbook's, with both ticket windows). What has no slang equivalent
(alert names, annotations, alert labels, raw and plugin SLIs) is a coded warning.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

import jsonschema

from slang.interop.common import ImportResult, Issues, finish, percent_text, read_inputs
from slang.interop.common import decimal_of as _decimal
from slang.interop.slang_writer import (
    AgreementDecl,
    BurnLine,
    FilePlan,
    Names,
    ObjectiveDecl,
    PromBlock,
    ServiceDecl,
    SourceDecl,
    slang_name,
)
from slang.interop.yaml_lines import Document
from slang.semantics.prometheus import (
    LABEL_NAME,
    PLACEHOLDER,
    RESERVED_LABEL_PREFIXES,
    is_selector,
    unbalanced,
)

SLOTH_PERIOD = "rolling 30d"  # Sloth's --default-slo-period
# Sloth's default alert windows for 30 days (internal/alert/windows/google-30d.yaml).
SLOTH_WINDOWS = {
    "page": (BurnLine("page", "2", "1h", "5m"), BurnLine("page", "5", "6h", "30m")),
    "ticket": (BurnLine("ticket", "10", "1d", "2h"), BurnLine("ticket", "10", "3d", "6h")),
}
# The Kubernetes form spells keys in camelCase.
CAMEL = {"errorQuery": "error_query", "totalQuery": "total_query", "pageAlert": "page_alert",
         "ticketAlert": "ticket_alert", "errorRatioQuery": "error_ratio_query"}


@cache
def sloth_schema() -> dict[str, Any]:
    return json.loads(files("slang").joinpath("schemas", "sloth.schema.json").read_text("utf-8"))


def import_sloth(paths: list[str]) -> ImportResult:
    issues = Issues()
    docs = read_inputs(paths, issues, "SLG1001")
    plans = {p: FilePlan() for p in paths}
    names = Names()
    services: dict[str, str] = {}
    for doc in docs:
        spec, base = _spec(doc, issues)
        if spec is None:
            continue
        plan = plans[doc.file]
        service = services.get(spec["service"])
        if service is None:
            service = names.take("service", slang_name(spec["service"]))
            services[spec["service"]] = service
            plan.services.append(ServiceDecl(service))
        labels = _labels(doc, (*base, "labels"), spec.get("labels") or {}, issues)
        for i, slo in enumerate(spec["slos"]):
            _slo(doc, (*base, "slos", i), spec["service"], service, labels, slo, plan, names,
                 issues)
    return finish(plans, issues, "sloth")


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        out = type(value)()
        if hasattr(value, "key_pos"):
            out.pos = value.pos
            out.key_pos = {CAMEL.get(k, k): p for k, p in value.key_pos.items()}
        for k, v in value.items():
            out[CAMEL.get(k, k)] = _normalise(v)
        return out
    if isinstance(value, list):
        out_list = type(value)()
        if hasattr(value, "item_pos"):
            out_list.pos = value.pos
            out_list.item_pos = list(value.item_pos)
        out_list.extend(_normalise(v) for v in value)
        return out_list
    return value


def _spec(doc: Document, issues: Issues) -> tuple[Any, tuple[Any, ...]]:
    """The prometheus/v1 spec of a document (normalised to snake_case keys) and its path."""
    data = doc.data
    if isinstance(data, dict) and data.get("version") == "prometheus/v1":
        spec, base = data, ()
    elif (isinstance(data, dict) and data.get("apiVersion") == "sloth.slok.dev/v1"
          and data.get("kind") == "PrometheusServiceLevel"):
        spec, base = _normalise(data.get("spec")), ("spec",)
        if data.get("metadata"):
            issues.warn("SLG1004", doc, ("metadata",),
                        "Kubernetes metadata (name, namespace) has no slang equivalent; dropped")
    else:
        what = _what(data)
        issues.warn("SLG1003", doc, (), f"{what}: not a Sloth `prometheus/v1` spec; skipped",
                    _hint(data))
        return None, ()
    errors = sorted(jsonschema.Draft202012Validator(sloth_schema()).iter_errors(spec),
                    key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        for e in errors[:3]:
            issues.fail("SLG1002", doc, (*base, *e.absolute_path),
                        f"{e.message} (Sloth prometheus/v1); document skipped",
                        "see Sloth's spec reference (sloth.dev)")
        return None, ()
    return spec, base


def _what(data: Any) -> str:
    if isinstance(data, dict):
        if "groups" in data:
            return "a Prometheus rule file (such as Sloth generates)"
        if data.get("kind") == "AlertWindows":
            return "Sloth alert windows"
        if str(data.get("apiVersion", "")).startswith("openslo/"):
            return f"an OpenSLO {data.get('kind')} document"
        if "kind" in data or "apiVersion" in data:
            return f"apiVersion `{data.get('apiVersion')}` kind `{data.get('kind')}`"
    return "not a mapping with `version: prometheus/v1`"


def _hint(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    if str(data.get("apiVersion", "")).startswith("openslo/"):
        return "import it with `slang import openslo`"
    if data.get("kind") == "AlertWindows":
        spec = data.get("spec") or {}
        lines = []
        for severity in ("page", "ticket"):
            for speed in ("quick", "slow"):
                w = (spec.get(severity) or {}).get(speed) or {}
                if w:
                    lines.append(f"{severity} {w.get('errorBudgetPercent')}% in "
                                 f"{w.get('longWindow')} / {w.get('shortWindow')}")
        return (f"slang states alert windows per agreement: write `burn_rate {{ "
                f"{'  '.join(lines)} }}` in the agreements with a `rolling "
                f"{spec.get('sloPeriod')}` period")
    return None


def _labels(doc: Document, path: tuple[Any, ...], labels: Any, issues: Issues
            ) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in labels.items():
        if not LABEL_NAME.fullmatch(str(name)) or str(name).startswith(RESERVED_LABEL_PREFIXES):
            issues.warn("SLG1004", doc, (*path, name),
                        f"label `{name}` cannot be a label of slang's rules; dropped")
            continue
        out[str(name)] = str(value)
    return out


def _query(doc: Document, path: tuple[Any, ...], text: str, issues: Issues) -> str | None:
    text = text.strip()
    converted = PLACEHOLDER.sub(
        lambda m: "{{window}}" if m.group(1).lstrip(".") == "window" else m.group(0), text)
    unknown = [p for p in PLACEHOLDER.findall(converted) if p not in ("window", "service")]
    if unknown or unbalanced(converted) is not None or not (
            is_selector(converted) or "{{window}}" in converted):
        issues.warn("SLG1009", doc, path,
                    "this query has no `{{.window}}` range and is not a series selector, so it "
                    "cannot be exported as burn-rate rules; the source has no metric mapping",
                    "write the range as `[{{.window}}]`")
        return None
    return converted


def _slo(doc: Document, path: tuple[Any, ...], service_id: str, service: str,
         labels: dict[str, str], slo: Any, plan: FilePlan, names: Names, issues: Issues
         ) -> None:
    agreement_name = names.take("decl", slang_name(f"{service_id}-{slo['name']}"))
    source = SourceDecl(names.take("decl", agreement_name + "_events"),
                        f"{service_id}-{slo['name']}")
    sli = slo["sli"]
    if "events" in sli:
        events = sli["events"]
        bad = _query(doc, (*path, "sli", "events", "error_query"), events["error_query"], issues)
        total = _query(doc, (*path, "sli", "events", "total_query"), events["total_query"],
                       issues)
        if bad is not None and total is not None:
            own = _labels(doc, (*path, "labels"), slo.get("labels") or {}, issues)
            source.prometheus = PromBlock(total, "bad", bad, {**labels, **own})
    else:
        kind = "raw" if "raw" in sli else "plugin"
        issues.warn("SLG1004", doc, (*path, "sli", kind),
                    f"a `{kind}` SLI (a precomputed error ratio or a plugin) has no slang "
                    "equivalent: slang counts events; the source has no metric mapping")
    objective = ObjectiveDecl(
        name=slang_name(slo["name"].replace("-", "_")),
        indicator=f"ratio({source.name} where good == true)",
        target=f">= {percent_text(_decimal(slo['objective']) / 100)}%",
    )
    agreement = AgreementDecl(name=agreement_name, service=service, period=SLOTH_PERIOD,
                              description=slo.get("description"), objectives=[objective])
    agreement.burn_rates = _alerts(doc, (*path, "alerting"), slo.get("alerting") or {}, issues)
    plan.sources.append(source)
    plan.agreements.append(agreement)


def _alerts(doc: Document, path: tuple[Any, ...], alerting: Any, issues: Issues
            ) -> list[BurnLine]:
    for key in ("name", "labels", "annotations"):
        if alerting.get(key):
            issues.warn("SLG1004", doc, (*path, key),
                        f"alert {key} have no slang equivalent; dropped",
                        "slang names its alerts AgreementObjectiveErrorBudgetBurn and labels "
                        "them with the source's prometheus labels and `severity`")
    lines: list[BurnLine] = []
    for severity in ("page", "ticket"):
        alert = alerting.get(f"{severity}_alert") or {}
        if alert.get("disable"):
            continue
        for key in ("labels", "annotations"):
            if alert.get(key):
                issues.warn("SLG1004", doc, (*path, f"{severity}_alert", key),
                            f"{severity} alert {key} have no slang equivalent; dropped",
                            "slang's alerts carry `severity: page` or `severity: ticket`")
        lines.extend(SLOTH_WINDOWS[severity])
    return lines
